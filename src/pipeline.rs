//! The pipeline stages a scheduled job can run besides pulling connectors: `match` (linkage into
//! persons and households), `flag` (risk rules) and `weekly_report`.

use std::path::PathBuf;

use crate::linkage::households::HouseholdOptions;
use crate::linkage::registry::match_registry;
use crate::linkage::spec::LinkageSpec;
use crate::registry::Registry;
use crate::risk::RuleSet;
use crate::risk::report::{Week, write_weekly_report};
use crate::schedule::config::Step;
use crate::schedule::runner::StepFuture;
use crate::schedule::{PipelineSteps, StepError, StepOutcome};

/// The stages of this build.
#[derive(Debug, Clone)]
pub struct LifelineSteps {
    /// Person linkage configuration.
    pub linkage: LinkageSpec,
    /// Household evidence options.
    pub households: HouseholdOptions,
    /// Risk rules.
    pub rules: RuleSet,
    /// Where weekly reports are written.
    pub reports: PathBuf,
}

impl LifelineSteps {
    /// Stages using `linkage` and `rules`, writing reports into `reports`.
    pub fn new(linkage: LinkageSpec, rules: RuleSet, reports: PathBuf) -> LifelineSteps {
        LifelineSteps {
            linkage,
            households: HouseholdOptions::default(),
            rules,
            reports,
        }
    }
}

/// Today's date in Asia/Shanghai, where the schedules run.
fn shanghai_today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&crate::schedule::SHANGHAI)
        .date_naive()
}

impl PipelineSteps for LifelineSteps {
    fn run_step<'a>(&'a self, step: &'a Step, registry: &'a Registry) -> StepFuture<'a> {
        Box::pin(async move {
            match step {
                Step::Match => {
                    let summary = match_registry(registry, &self.linkage, false, self.households)
                        .await
                        .map_err(|e| StepError::Failed(e.to_string()))?;
                    Ok(StepOutcome {
                        rows_read: summary.mentions as u64,
                        rows_stored: summary.persons,
                        notes: vec![format!(
                            "{}: {} mentions, {} new persons, {} merged; {} persons, {} households; {} pairs queued for review",
                            summary.mode,
                            summary.mentions,
                            summary.new_persons,
                            summary.merges,
                            summary.persons,
                            summary.households,
                            summary.review_added
                        )],
                    })
                }
                Step::Flag => {
                    let today = shanghai_today();
                    let summary = crate::risk::flag_households(registry, today, &self.rules)
                        .await
                        .map_err(|e| StepError::Failed(e.to_string()))?;
                    Ok(StepOutcome {
                        rows_read: summary.households as u64,
                        rows_stored: (summary.opened + summary.updated + summary.reopened) as u64,
                        notes: vec![format!(
                            "{} households at risk ({} covered by no programme); {} flags opened, {} updated, {} reopened (rules {})",
                            summary.at_risk,
                            summary.uncovered,
                            summary.opened,
                            summary.updated,
                            summary.reopened,
                            summary.rule_set_version
                        )],
                    })
                }
                Step::WeeklyReport => {
                    let today = shanghai_today();
                    // The report is for the week that just ended.
                    let week = Week::containing(today - chrono::Duration::days(7));
                    let (_, paths) =
                        write_weekly_report(registry, week, &self.rules, &self.reports)
                            .await
                            .map_err(|e| StepError::Failed(e.to_string()))?;
                    Ok(StepOutcome {
                        rows_read: 0,
                        rows_stored: paths.len() as u64,
                        notes: paths.iter().map(|p| p.display().to_string()).collect(),
                    })
                }
                other => Err(StepError::Unavailable(other.label())),
            }
        })
    }
}
