//! The pipeline stages a scheduled job can run besides pulling connectors: `match` (linkage into
//! persons and households) and, when the risk stage is built in, `flag` and `weekly_report`.

use crate::linkage::households::HouseholdOptions;
use crate::linkage::registry::match_registry;
use crate::linkage::spec::LinkageSpec;
use crate::registry::Registry;
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
}

impl LifelineSteps {
    /// Stages using `linkage`.
    pub fn new(linkage: LinkageSpec) -> LifelineSteps {
        LifelineSteps {
            linkage,
            households: HouseholdOptions::default(),
        }
    }
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
                other => Err(StepError::Unavailable(other.label())),
            }
        })
    }
}
