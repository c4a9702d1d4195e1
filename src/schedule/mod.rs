//! Schedules: jobs in `schedules/*.toml` that run on cron expressions in Asia/Shanghai time.
//!
//! A job is a list of steps — pull a connector, take an inbox, match, flag, the weekly report
//! ([`config`]). The [`scheduler`] fires jobs on an injectable [`clock`] (tests drive it by
//! hand), never lets a job overlap itself and applies each job's policy for runs missed while
//! the service was down. Every run and every step is recorded ([`history`]) and shown by
//! `lifeline runs`, with the connectors that have not delivered within their expected cadence
//! ([`missing`]). Steps that belong to other stages (match, flag, weekly report) run through
//! the [`runner::PipelineSteps`] trait, so they can be plugged in without touching the
//! scheduler.

pub mod clock;
pub mod config;
pub mod history;
pub mod missing;
pub mod runner;
pub mod scheduler;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Job, JobSet, MissedPolicy, Step};
pub use runner::{JobRunner, PipelineSteps, StepError, StepOutcome, Unavailable};
pub use scheduler::Scheduler;

/// Asia/Shanghai: UTC+8 all year (China has kept no daylight saving time since 1991), so a
/// fixed offset is exact for every date the service will see.
pub const SHANGHAI: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};
