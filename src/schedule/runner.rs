//! Running a job: its steps in order, each recorded with its rows and errors. Connector steps
//! run here; the stages built elsewhere (match, flag, the weekly report) run through
//! [`PipelineSteps`], so plugging them in is one `impl` handed to [`JobRunner::new`]. A failed
//! step does not stop the steps after it (a department API being down should not keep the
//! others from being pulled); the run is then recorded as failed.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use super::config::{Job, Step};
use super::history::{self, Cause, Status, StepRecord};
use crate::connectors::{ConnectorKind, ConnectorSet, SyncContext, SyncReport};
use crate::mapping::MappingSet;
use crate::registry::{Registry, RegistryError};
use crate::shutdown::Shutdown;

/// What a pipeline step did.
#[derive(Debug, Clone, Default)]
pub struct StepOutcome {
    /// Rows (or records, persons, households) read.
    pub rows_read: u64,
    /// Rows written.
    pub rows_stored: u64,
    /// Notes for people.
    pub notes: Vec<String>,
}

/// Why a pipeline step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// This build has no implementation of the step.
    #[error("step `{0}` is not available in this build")]
    Unavailable(String),
    /// The step failed.
    #[error("{0}")]
    Failed(String),
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// A future returned by [`PipelineSteps::run_step`].
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = Result<StepOutcome, StepError>> + Send + 'a>>;

/// The steps of the pipeline that other stages provide: `match`, `flag`, `weekly_report`.
pub trait PipelineSteps: Send + Sync {
    /// Runs `step` (never a connector step) against the registry.
    fn run_step<'a>(&'a self, step: &'a Step, registry: &'a Registry) -> StepFuture<'a>;
}

/// The pipeline steps of a build that has none yet: each says so.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unavailable;

impl PipelineSteps for Unavailable {
    fn run_step<'a>(&'a self, step: &'a Step, _registry: &'a Registry) -> StepFuture<'a> {
        Box::pin(async move { Err(StepError::Unavailable(step.label())) })
    }
}

/// Everything a job needs to run.
pub struct JobRunner {
    /// The registry.
    pub registry: Registry,
    /// Mappings.
    pub mappings: MappingSet,
    /// Connectors.
    pub connectors: ConnectorSet,
    /// Folder for pull receipts.
    pub receipts: PathBuf,
    /// Match, flag, weekly report.
    pub steps: Arc<dyn PipelineSteps>,
    /// Held while writing to the registry.
    pub write_gate: Arc<Mutex<()>>,
    /// Stop taking work when asked.
    pub shutdown: Shutdown,
}

/// How a run went.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// Run id.
    pub run: i64,
    /// Final status.
    pub status: Status,
}

impl JobRunner {
    /// A runner.
    pub fn new(
        registry: Registry,
        mappings: MappingSet,
        connectors: ConnectorSet,
        receipts: PathBuf,
        steps: Arc<dyn PipelineSteps>,
        shutdown: Shutdown,
    ) -> JobRunner {
        JobRunner {
            registry,
            mappings,
            connectors,
            receipts,
            steps,
            write_gate: Arc::new(Mutex::new(())),
            shutdown,
        }
    }

    /// The context connectors run in.
    pub fn sync_context(&self) -> SyncContext<'_> {
        SyncContext {
            registry: &self.registry,
            mappings: &self.mappings,
            receipts: self.receipts.clone(),
            shutdown: self.shutdown.clone(),
            write_gate: &self.write_gate,
        }
    }

    /// Runs every step of `job`, recording the run.
    pub async fn run(
        &self,
        job: &Job,
        cause: Cause,
        scheduled_for: Option<DateTime<Utc>>,
    ) -> Result<RunSummary, RegistryError> {
        let run = history::start_run(&self.registry, &job.name, cause, scheduled_for).await?;
        tracing::info!(job = %job.name, run, cause = cause.as_str(), "job started");
        let mut status = Status::Ok;
        let mut errors = Vec::new();
        for (index, step) in job.steps.iter().enumerate() {
            if self.shutdown.is_requested() {
                status = Status::Interrupted;
                errors.push(format!("stopped by shutdown before {}", step.label()));
                break;
            }
            let id = history::start_step(&self.registry, run, index, &step.label()).await?;
            let record = self.run_step(step).await;
            if record.status == Status::Failed || record.status == Status::Interrupted {
                if let Some(error) = &record.error {
                    tracing::warn!(job = %job.name, step = %step.label(), "{error}");
                    errors.push(format!("{}: {error}", step.label()));
                }
                if status != Status::Interrupted {
                    status = record.status;
                }
            } else if record.status == Status::Warning && status == Status::Ok {
                status = Status::Warning;
            }
            history::finish_step(&self.registry, id, &record).await?;
        }
        let error = (!errors.is_empty()).then(|| errors.join("; "));
        history::finish_run(&self.registry, run, status, error.as_deref()).await?;
        tracing::info!(job = %job.name, run, status = status.as_str(), "job finished");
        Ok(RunSummary { run, status })
    }

    async fn run_step(&self, step: &Step) -> StepRecord {
        let failed = |error: String| StepRecord {
            status: Status::Failed,
            rows_read: 0,
            rows_stored: 0,
            error: Some(error),
            notes: Vec::new(),
        };
        match step {
            Step::Pull(name) => {
                let Some(connector) = self.connectors.get(name) else {
                    return failed(format!("unknown connector \"{name}\""));
                };
                let context = self.sync_context();
                let result = connector.sync(&context).await;
                sync_record(result.map(|r| vec![r]))
            }
            Step::Inbox => {
                let context = self.sync_context();
                let mut reports = Vec::new();
                let mut error = None;
                for connector in &self.connectors.connectors {
                    if let ConnectorKind::Inbox(_) = connector.kind {
                        match connector.sync(&context).await {
                            Ok(report) => reports.push(report),
                            Err(failure) => {
                                error = Some(failure);
                                break;
                            }
                        }
                    }
                }
                match error {
                    Some(error) => sync_record(Err(error)),
                    None => sync_record(Ok(reports)),
                }
            }
            Step::Match | Step::Flag | Step::WeeklyReport => {
                match self.steps.run_step(step, &self.registry).await {
                    Ok(outcome) => StepRecord {
                        status: Status::Ok,
                        rows_read: outcome.rows_read,
                        rows_stored: outcome.rows_stored,
                        error: None,
                        notes: outcome.notes,
                    },
                    Err(error) => failed(error.to_string()),
                }
            }
        }
    }
}

fn sync_record(result: Result<Vec<SyncReport>, crate::connectors::ConnectorError>) -> StepRecord {
    match result {
        Ok(reports) => {
            let mut record = StepRecord {
                status: Status::Ok,
                rows_read: 0,
                rows_stored: 0,
                error: None,
                notes: Vec::new(),
            };
            for report in reports {
                record.rows_read += report.rows_read;
                record.rows_stored += report.rows_stored;
                let prefix = |text: &String| format!("{}: {text}", report.connector);
                record.notes.extend(report.notes.iter().map(prefix));
                if !report.problems.is_empty() {
                    record.status = Status::Warning;
                    record.notes.extend(report.problems.iter().map(prefix));
                }
            }
            record
        }
        Err(error) => StepRecord {
            status: if matches!(error, crate::connectors::ConnectorError::Interrupted) {
                Status::Interrupted
            } else {
                Status::Failed
            },
            rows_read: 0,
            rows_stored: 0,
            error: Some(error.to_string()),
            notes: Vec::new(),
        },
    }
}
