//! The record of every job run — when it was due, start, end, status, and for each step its
//! rows and errors — stored in the registry and shown by `lifeline runs`.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::registry::{Registry, RegistryError, now};

/// Why a run happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Its cron time came.
    Schedule,
    /// It was missed while the service was down and its policy runs it once at start.
    Missed,
    /// Someone asked for it.
    Manual,
}

impl Cause {
    /// Name stored in the registry.
    pub fn as_str(&self) -> &'static str {
        match self {
            Cause::Schedule => "schedule",
            Cause::Missed => "missed",
            Cause::Manual => "manual",
        }
    }
}

/// How a run or step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Still running (or the service died during it, until the next start says so).
    Running,
    /// Every step succeeded.
    Ok,
    /// Succeeded, but some files could not be processed.
    Warning,
    /// A step failed.
    Failed,
    /// Not run: the previous run was still going, or the run was missed and the policy skips.
    Skipped,
    /// Stopped by a shutdown, or found running at start (the service died).
    Interrupted,
}

impl Status {
    /// Name stored in the registry.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Interrupted => "interrupted",
        }
    }
}

/// Starts recording a run; returns its id.
pub async fn start_run(
    registry: &Registry,
    job: &str,
    cause: Cause,
    scheduled_for: Option<DateTime<Utc>>,
) -> Result<i64, RegistryError> {
    let row = sqlx::query(
        "INSERT INTO job_runs (job, cause, scheduled_for, started_at, status) \
         VALUES ($1, $2, $3, $4, 'running') RETURNING id",
    )
    .bind(job)
    .bind(cause.as_str())
    .bind(scheduled_for.map(|t| t.to_rfc3339()))
    .bind(now())
    .fetch_one(registry.pool())
    .await?;
    Ok(row.try_get(0)?)
}

/// Records a run that did not run (skipped) with why.
pub async fn record_skipped(
    registry: &Registry,
    job: &str,
    cause: Cause,
    scheduled_for: Option<DateTime<Utc>>,
    why: &str,
) -> Result<(), RegistryError> {
    let id = start_run(registry, job, cause, scheduled_for).await?;
    finish_run(registry, id, Status::Skipped, Some(why)).await
}

/// Ends a run.
pub async fn finish_run(
    registry: &Registry,
    run: i64,
    status: Status,
    error: Option<&str>,
) -> Result<(), RegistryError> {
    sqlx::query("UPDATE job_runs SET finished_at = $1, status = $2, error = $3 WHERE id = $4")
        .bind(now())
        .bind(status.as_str())
        .bind(error)
        .bind(run)
        .execute(registry.pool())
        .await?;
    Ok(())
}

/// What a finished step reports.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// Status.
    pub status: Status,
    /// Rows read.
    pub rows_read: u64,
    /// Rows stored.
    pub rows_stored: u64,
    /// Error, when it failed.
    pub error: Option<String>,
    /// Notes for people.
    pub notes: Vec<String>,
}

/// Starts recording a step; returns its id.
pub async fn start_step(
    registry: &Registry,
    run: i64,
    index: usize,
    step: &str,
) -> Result<i64, RegistryError> {
    let row = sqlx::query(
        "INSERT INTO job_run_steps (run_id, step_index, step, started_at, status, rows_read, \
         rows_stored, notes) VALUES ($1, $2, $3, $4, 'running', 0, 0, '[]') RETURNING id",
    )
    .bind(run)
    .bind(index as i64)
    .bind(step)
    .bind(now())
    .fetch_one(registry.pool())
    .await?;
    Ok(row.try_get(0)?)
}

/// Ends a step.
pub async fn finish_step(
    registry: &Registry,
    step: i64,
    record: &StepRecord,
) -> Result<(), RegistryError> {
    sqlx::query(
        "UPDATE job_run_steps SET finished_at = $1, status = $2, rows_read = $3, rows_stored = $4, \
         error = $5, notes = $6 WHERE id = $7",
    )
    .bind(now())
    .bind(record.status.as_str())
    .bind(record.rows_read as i64)
    .bind(record.rows_stored as i64)
    .bind(record.error.as_deref())
    .bind(serde_json::to_string(&record.notes).unwrap_or_else(|_| "[]".into()))
    .bind(step)
    .execute(registry.pool())
    .await?;
    Ok(())
}

/// Marks runs and steps left `running` by a service that died as interrupted; returns how many
/// runs.
pub async fn mark_interrupted(registry: &Registry) -> Result<u64, RegistryError> {
    let message = "the service stopped during this run";
    sqlx::query(
        "UPDATE job_run_steps SET status = 'interrupted', finished_at = $1, error = $2 \
         WHERE status = 'running'",
    )
    .bind(now())
    .bind(message)
    .execute(registry.pool())
    .await?;
    let done = sqlx::query(
        "UPDATE job_runs SET status = 'interrupted', finished_at = $1, error = $2 \
         WHERE status = 'running'",
    )
    .bind(now())
    .bind(message)
    .execute(registry.pool())
    .await?;
    Ok(done.rows_affected())
}

/// The latest cron time a job was run (or skipped) for.
pub async fn last_scheduled(
    registry: &Registry,
    job: &str,
) -> Result<Option<DateTime<Utc>>, RegistryError> {
    let rows = sqlx::query(
        "SELECT scheduled_for FROM job_runs WHERE job = $1 AND scheduled_for IS NOT NULL",
    )
    .bind(job)
    .fetch_all(registry.pool())
    .await?;
    let mut latest: Option<DateTime<Utc>> = None;
    for row in rows {
        let text: String = row.try_get(0)?;
        if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
            let at = at.with_timezone(&Utc);
            if latest.is_none_or(|l| at > l) {
                latest = Some(at);
            }
        }
    }
    Ok(latest)
}

/// One recorded step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRun {
    /// The step as written.
    pub step: String,
    /// Status.
    pub status: String,
    /// Rows read.
    pub rows_read: i64,
    /// Rows stored.
    pub rows_stored: i64,
    /// Error.
    pub error: Option<String>,
    /// Notes.
    pub notes: Vec<String>,
}

/// One recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// Id.
    pub id: i64,
    /// Job name.
    pub job: String,
    /// `schedule`, `missed`, `manual`.
    pub cause: String,
    /// Cron time it was due.
    pub scheduled_for: Option<String>,
    /// Start.
    pub started_at: String,
    /// End.
    pub finished_at: Option<String>,
    /// Status.
    pub status: String,
    /// Error.
    pub error: Option<String>,
    /// Steps in order.
    pub steps: Vec<StepRun>,
}

/// The latest `limit` runs, newest first, of one job or all.
pub async fn list_runs(
    registry: &Registry,
    job: Option<&str>,
    limit: i64,
) -> Result<Vec<Run>, RegistryError> {
    let rows = sqlx::query(
        "SELECT id, job, cause, scheduled_for, started_at, finished_at, status, error \
         FROM job_runs WHERE ($1 = '' OR job = $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(job.unwrap_or(""))
    .bind(job.unwrap_or(""))
    .bind(limit)
    .fetch_all(registry.pool())
    .await?;
    let mut runs = Vec::new();
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let steps = sqlx::query(
            "SELECT step, status, rows_read, rows_stored, error, notes FROM job_run_steps \
             WHERE run_id = $1 ORDER BY step_index",
        )
        .bind(id)
        .fetch_all(registry.pool())
        .await?
        .into_iter()
        .map(|s| -> Result<StepRun, sqlx::Error> {
            let notes: String = s.try_get(5)?;
            Ok(StepRun {
                step: s.try_get(0)?,
                status: s.try_get(1)?,
                rows_read: s.try_get(2)?,
                rows_stored: s.try_get(3)?,
                error: s.try_get(4)?,
                notes: serde_json::from_str(&notes).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
        runs.push(Run {
            id,
            job: row.try_get(1)?,
            cause: row.try_get(2)?,
            scheduled_for: row.try_get(3)?,
            started_at: row.try_get(4)?,
            finished_at: row.try_get(5)?,
            status: row.try_get(6)?,
            error: row.try_get(7)?,
            steps,
        });
    }
    Ok(runs)
}
