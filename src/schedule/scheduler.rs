//! The scheduler: sleeps on its [`Clock`] until the next cron time of any job, fires the jobs
//! due, and never starts a job while its previous run is still going (that firing is recorded
//! as skipped). At start, a run missed while the service was down is run once or recorded as
//! skipped, as the job's policy says; a job with no recorded run has missed nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::clock::Clock;
use super::config::{Job, JobSet, MissedPolicy};
use super::history::{self, Cause};
use super::runner::{JobRunner, RunSummary};
use crate::registry::RegistryError;
use crate::shutdown::Shutdown;

/// Runs jobs on their schedules.
pub struct Scheduler {
    jobs: JobSet,
    runner: Arc<JobRunner>,
    clock: Arc<dyn Clock>,
    finished: Option<mpsc::UnboundedSender<(String, RunSummary)>>,
}

/// The latest time `job` was due in `(from, to]`.
fn due_between(job: &Job, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut due = None;
    let mut cursor = from;
    while let Some(next) = job.next_after(cursor) {
        if next > to {
            break;
        }
        due = Some(next);
        cursor = next;
    }
    due
}

impl Scheduler {
    /// A scheduler of `jobs` run by `runner` on `clock`.
    pub fn new(jobs: JobSet, runner: Arc<JobRunner>, clock: Arc<dyn Clock>) -> Scheduler {
        Scheduler {
            jobs,
            runner,
            clock,
            finished: None,
        }
    }

    /// Sends `(job, summary)` on `sender` whenever a run ends (for tests and logs).
    pub fn notify(mut self, sender: mpsc::UnboundedSender<(String, RunSummary)>) -> Scheduler {
        self.finished = Some(sender);
        self
    }

    /// Runs until `shutdown`, then waits for the runs in flight to finish or roll back.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), RegistryError> {
        let registry = self.runner.registry.clone();
        let running: HashMap<String, Arc<AtomicBool>> = self
            .jobs
            .jobs
            .iter()
            .map(|job| (job.name.clone(), Arc::new(AtomicBool::new(false))))
            .collect();
        let mut tasks = JoinSet::new();
        let start = self.clock.now();
        for job in &self.jobs.jobs {
            let Some(last) = history::last_scheduled(&registry, &job.name).await? else {
                continue;
            };
            let Some(due) = due_between(job, last, start) else {
                continue;
            };
            match job.missed {
                MissedPolicy::RunOnce => {
                    tracing::info!(job = %job.name, due = %due, "running a run missed while the service was down");
                    self.fire(job, Cause::Missed, due, &running, &mut tasks)
                        .await?;
                }
                MissedPolicy::Skip => {
                    tracing::info!(job = %job.name, due = %due, "skipping a run missed while the service was down");
                    history::record_skipped(
                        &registry,
                        &job.name,
                        Cause::Missed,
                        Some(due),
                        "missed while the service was down; the job's policy skips it",
                    )
                    .await?;
                }
            }
        }
        let mut cursor = start;
        loop {
            let next = self
                .jobs
                .jobs
                .iter()
                .filter_map(|job| job.next_after(cursor))
                .min();
            tokio::select! {
                _ = shutdown.requested() => break,
                Some(_) = tasks.join_next() => continue,
                _ = async {
                    match next {
                        Some(next) => self.clock.sleep_until(next).await,
                        None => std::future::pending::<()>().await,
                    }
                } => {}
            }
            let now = self.clock.now();
            for job in &self.jobs.jobs {
                if let Some(due) = due_between(job, cursor, now) {
                    self.fire(job, Cause::Schedule, due, &running, &mut tasks)
                        .await?;
                }
            }
            cursor = now;
        }
        while tasks.join_next().await.is_some() {}
        Ok(())
    }

    async fn fire(
        &self,
        job: &Job,
        cause: Cause,
        due: DateTime<Utc>,
        running: &HashMap<String, Arc<AtomicBool>>,
        tasks: &mut JoinSet<()>,
    ) -> Result<(), RegistryError> {
        let Some(flag) = running.get(&job.name).cloned() else {
            return Ok(());
        };
        if flag.swap(true, Ordering::SeqCst) {
            tracing::warn!(job = %job.name, due = %due, "the previous run is still going: this one is skipped");
            return history::record_skipped(
                &self.runner.registry,
                &job.name,
                cause,
                Some(due),
                "the previous run of this job was still going",
            )
            .await;
        }
        let runner = Arc::clone(&self.runner);
        let job = job.clone();
        let finished = self.finished.clone();
        tasks.spawn(async move {
            let outcome = runner.run(&job, cause, Some(due)).await;
            flag.store(false, Ordering::SeqCst);
            match outcome {
                Ok(summary) => {
                    if let Some(finished) = finished {
                        let _ = finished.send((job.name.clone(), summary));
                    }
                }
                Err(error) => {
                    tracing::error!(job = %job.name, %error, "the run could not be recorded")
                }
            }
        });
        Ok(())
    }
}
