//! `schedules/*.toml`: one job per file — when it runs, what it does, and what happens to a run
//! missed while the service was down. Every problem of every file is reported at once.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::SHANGHAI;
use crate::config::{ConfigErrors, Problems, load_toml_dir};
use crate::connectors::{ConnectorKind, ConnectorSet};

/// The keys of a schedule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Job name (default: the file name without `.toml`).
    pub name: Option<String>,
    /// When the job runs, in Asia/Shanghai time: a cron expression of 5 fields
    /// (`minute hour day-of-month month day-of-week`: `30 1 * * *` is 01:30 every night) or of
    /// 6–7 fields starting with seconds (`0 30 1 * * *`).
    pub cron: String,
    /// What to do at start about a run missed while the service was down: `run_once` (run it
    /// once, now) or `skip` (wait for the next one; the default).
    pub missed: Option<String>,
    /// The steps, in order: `pull:CONNECTOR` (an http or sql connector, or an inbox taken
    /// now), `inbox` (every inbox connector), `match`, `flag`, `weekly_report`.
    pub steps: Vec<String>,
    /// Set to false to keep the file without running the job.
    pub enabled: Option<bool>,
    /// Free text for people.
    pub description: Option<String>,
}

/// A run missed while the service was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissedPolicy {
    /// Run it once at start.
    RunOnce,
    /// Skip it (recorded as skipped).
    Skip,
}

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Run one connector now.
    Pull(String),
    /// Take every inbox connector now.
    Inbox,
    /// Match person mentions into persons and households.
    Match,
    /// Flag households at risk.
    Flag,
    /// Write the weekly report.
    WeeklyReport,
}

impl Step {
    /// The step as written in schedule files.
    pub fn label(&self) -> String {
        match self {
            Step::Pull(connector) => format!("pull:{connector}"),
            Step::Inbox => "inbox".into(),
            Step::Match => "match".into(),
            Step::Flag => "flag".into(),
            Step::WeeklyReport => "weekly_report".into(),
        }
    }
}

impl FromStr for Step {
    type Err = String;

    fn from_str(text: &str) -> Result<Step, String> {
        let text = text.trim();
        if let Some(connector) = text.strip_prefix("pull:") {
            let connector = connector.trim();
            if connector.is_empty() {
                return Err("`pull:` must name a connector".into());
            }
            return Ok(Step::Pull(connector.to_string()));
        }
        Ok(match text {
            "inbox" => Step::Inbox,
            "match" => Step::Match,
            "flag" => Step::Flag,
            "weekly_report" => Step::WeeklyReport,
            other => {
                return Err(format!(
                    "unknown step \"{other}\" (known: pull:CONNECTOR, inbox, match, flag, weekly_report)"
                ));
            }
        })
    }
}

/// A validated job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Name.
    pub name: String,
    /// File it was read from.
    pub source: String,
    /// The cron expression as written.
    pub cron: String,
    /// Parsed schedule.
    pub schedule: cron::Schedule,
    /// Missed-run policy.
    pub missed: MissedPolicy,
    /// Steps in order.
    pub steps: Vec<Step>,
}

impl Job {
    /// The first time the job is due strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule
            .after(&after.with_timezone(&SHANGHAI))
            .next()
            .map(|at| at.with_timezone(&Utc))
    }

    /// The last time the job was due at or before `at`, looking back at most `horizon`.
    pub fn last_due(&self, at: DateTime<Utc>, horizon: chrono::Duration) -> Option<DateTime<Utc>> {
        let mut last = None;
        let mut cursor = at - horizon;
        while let Some(next) = self.next_after(cursor) {
            if next > at {
                break;
            }
            last = Some(next);
            cursor = next;
        }
        last
    }
}

/// Every job of the service.
#[derive(Debug, Clone, Default)]
pub struct JobSet {
    /// Enabled jobs, sorted by name.
    pub jobs: Vec<Job>,
}

/// Parses a cron expression of 5, 6 or 7 fields.
pub fn parse_cron(expression: &str) -> Result<cron::Schedule, String> {
    let fields = expression.split_whitespace().count();
    let full = match fields {
        5 => format!("0 {expression}"),
        6 | 7 => expression.to_string(),
        _ => {
            return Err(format!(
                "\"{expression}\" has {fields} fields; write 5 (minute hour day month weekday) or 6 with seconds first"
            ));
        }
    };
    cron::Schedule::from_str(&full).map_err(|e| {
        // the parser's message ends with the reason, after a copy of the expression and a caret
        let message = e.to_string();
        let reason = message
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string();
        format!("\"{expression}\" is not a cron expression: {reason}")
    })
}

impl JobSet {
    /// Loads every `*.toml` of `dir` (a missing folder means no jobs), checking connector
    /// names against `connectors`.
    pub fn load_dir(dir: &Path, connectors: &ConnectorSet) -> Result<JobSet, ConfigErrors> {
        load_toml_dir(dir, JobSet::default(), |sources| {
            JobSet::from_sources(sources, connectors)
        })
    }

    /// Validates `(file name, TOML text)` pairs, reporting every problem at once.
    pub fn from_sources(
        sources: &[(String, String)],
        connectors: &ConnectorSet,
    ) -> Result<JobSet, ConfigErrors> {
        let mut errors = Vec::new();
        let mut jobs = Vec::new();
        for (file, text) in sources {
            let mut problems = Problems::new(file, &mut errors);
            if let Some(job) = parse(file, text, connectors, &mut problems) {
                jobs.push(job);
            }
        }
        let mut names: Vec<(&str, &str)> = Vec::new();
        for job in &jobs {
            if let Some((_, first)) = names.iter().find(|(n, _)| *n == job.name) {
                errors.push(format!(
                    "{}: name: \"{}\" is already used by {first}",
                    job.source, job.name
                ));
            }
            names.push((&job.name, &job.source));
        }
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        jobs.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(JobSet { jobs })
    }

    /// The job named `name`.
    pub fn get(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name == name)
    }
}

fn parse(
    file: &str,
    text: &str,
    connectors: &ConnectorSet,
    problems: &mut Problems<'_>,
) -> Option<Job> {
    let spec: JobSpec = match toml::from_str(text) {
        Ok(spec) => spec,
        Err(error) => {
            problems.add_file(error.message().trim_end_matches('.'));
            return None;
        }
    };
    let before = problems.count();
    let name = spec.name.clone().unwrap_or_else(|| {
        Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let schedule = match parse_cron(&spec.cron) {
        Ok(schedule) => Some(schedule),
        Err(message) => {
            problems.add("cron", message);
            None
        }
    };
    let missed = match spec.missed.as_deref() {
        None | Some("skip") => MissedPolicy::Skip,
        Some("run_once") => MissedPolicy::RunOnce,
        Some(other) => {
            problems.add(
                "missed",
                format!("unknown policy \"{other}\" (known: run_once, skip)"),
            );
            MissedPolicy::Skip
        }
    };
    if spec.steps.is_empty() {
        problems.add("steps", "a job needs at least one step");
    }
    let mut steps = Vec::new();
    for (index, text) in spec.steps.iter().enumerate() {
        match text.parse::<Step>() {
            Ok(Step::Pull(connector)) => {
                if connectors.get(&connector).is_none() {
                    problems.add(
                        &format!("steps[{index}]"),
                        format!(
                            "unknown connector \"{connector}\" (known: {})",
                            connectors.names().join(", ")
                        ),
                    );
                }
                steps.push(Step::Pull(connector));
            }
            Ok(Step::Inbox) => {
                if !connectors
                    .connectors
                    .iter()
                    .any(|c| matches!(c.kind, ConnectorKind::Inbox(_)))
                {
                    problems.add(
                        &format!("steps[{index}]"),
                        "no inbox connector is configured",
                    );
                }
                steps.push(Step::Inbox);
            }
            Ok(step) => steps.push(step),
            Err(message) => problems.add(&format!("steps[{index}]"), message),
        }
    }
    if problems.count() > before || spec.enabled == Some(false) {
        return None;
    }
    Some(Job {
        name,
        source: file.to_string(),
        cron: spec.cron,
        schedule: schedule?,
        missed,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn five_field_cron_runs_at_shanghai_time() {
        let connectors = ConnectorSet::default();
        let jobs = JobSet::from_sources(
            &[(
                "schedules/nightly.toml".into(),
                "cron = \"30 1 * * *\"\nsteps = [\"match\"]\n".into(),
            )],
            &connectors,
        )
        .expect("valid");
        let job = &jobs.jobs[0];
        let now = Utc
            .with_ymd_and_hms(2024, 5, 1, 12, 0, 0)
            .single()
            .expect("date");
        // 01:30 in Shanghai is 17:30 UTC the day before
        assert_eq!(
            job.next_after(now),
            Utc.with_ymd_and_hms(2024, 5, 1, 17, 30, 0).single()
        );
        assert_eq!(
            job.last_due(now, chrono::Duration::days(2)),
            Utc.with_ymd_and_hms(2024, 4, 30, 17, 30, 0).single()
        );
    }

    #[test]
    fn every_problem_of_a_schedule_is_reported() {
        let errors = JobSet::from_sources(
            &[(
                "schedules/bad.toml".into(),
                "cron = \"every night\"\nmissed = \"maybe\"\nsteps = [\"pull:nowhere\", \"dance\"]\n"
                    .into(),
            )],
            &ConnectorSet::default(),
        )
        .expect_err("invalid")
        .0
        .join("\n");
        for expected in [
            "schedules/bad.toml: cron:",
            "schedules/bad.toml: missed: unknown policy \"maybe\"",
            "schedules/bad.toml: steps[0]: unknown connector \"nowhere\"",
            "schedules/bad.toml: steps[1]: unknown step \"dance\"",
        ] {
            assert!(errors.contains(expected), "{expected} not in {errors}");
        }
    }
}
