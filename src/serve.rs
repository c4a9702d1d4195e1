//! The service commands of the `lifeline` binary: `check`, `serve`, `sync`, `runs`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use lifeline::config::ServicePaths;
use lifeline::connectors::{ConnectorKind, ConnectorSet};
use lifeline::mapping::MappingSet;
use lifeline::registry::Registry;
use lifeline::schedule::history::Status;
use lifeline::schedule::missing::missing_deliveries;
use lifeline::schedule::{JobRunner, JobSet, PipelineSteps, SystemClock};
use lifeline::service::{Observers, Service, termination};
use lifeline::shutdown::Shutdown;

/// Where the service's parts are: from `--config`, else the defaults.
pub fn paths(config: Option<&Path>) -> Result<ServicePaths> {
    match config {
        Some(path) => Ok(ServicePaths::load(path)?),
        None => Ok(ServicePaths::defaults()),
    }
}

fn load(paths: &ServicePaths, mappings: &MappingSet) -> Result<(ConnectorSet, JobSet)> {
    let connectors =
        ConnectorSet::load_dir(&paths.connectors, mappings).context("invalid connectors")?;
    let jobs = JobSet::load_dir(&paths.schedules, &connectors).context("invalid schedules")?;
    Ok((connectors, jobs))
}

/// Validates mappings, connectors and schedules, printing every problem.
pub fn check(config: Option<&Path>, mappings: &MappingSet) -> Result<bool> {
    for mapping in &mappings.mappings {
        println!(
            "{}: {} ({}), {} fields, roles: {}",
            mapping.source,
            mapping.name,
            mapping.title,
            mapping.fields.len(),
            mapping.roles.join(", ")
        );
    }
    println!("{} mappings ok", mappings.mappings.len());
    let paths = paths(config)?;
    let connectors = match ConnectorSet::load_dir(&paths.connectors, mappings) {
        Ok(connectors) => connectors,
        Err(errors) => {
            for error in &errors.0 {
                eprintln!("{error}");
            }
            // schedules are checked against no connectors: their own problems still show
            if let Err(more) = JobSet::load_dir(&paths.schedules, &ConnectorSet::default()) {
                for error in more.0.iter().filter(|e| !e.contains("unknown connector")) {
                    eprintln!("{error}");
                }
            }
            anyhow::bail!("invalid connectors");
        }
    };
    for connector in &connectors.connectors {
        let detail = match &connector.kind {
            ConnectorKind::Inbox(inbox) => format!("folder {}", inbox.path.display()),
            ConnectorKind::Http(http) => http.url.to_string(),
            ConnectorKind::Sql(sql) => format!("{:?} database from ${}", sql.database, sql.url_env),
        };
        println!(
            "{}: {} ({}, {}) → {}: {detail}",
            connector.source,
            connector.name,
            connector.kind.name(),
            connector.department,
            connector.mapping.as_deref().unwrap_or("mapping by header"),
        );
    }
    println!("{} connectors ok", connectors.connectors.len());
    let jobs = JobSet::load_dir(&paths.schedules, &connectors).context("invalid schedules")?;
    for job in &jobs.jobs {
        println!(
            "{}: {} at \"{}\" (Asia/Shanghai): {}",
            job.source,
            job.name,
            job.cron,
            job.steps
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("{} schedules ok", jobs.jobs.len());
    Ok(true)
}

/// Runs the service until SIGTERM or Ctrl-C: the scheduled jobs, the inbox watchers and, when
/// `listen` is given, the HTTP API.
pub async fn serve(
    db: &str,
    mappings: MappingSet,
    paths: &ServicePaths,
    steps: Arc<dyn PipelineSteps>,
    listen: Option<&str>,
    audit: &str,
) -> Result<bool> {
    let (connectors, jobs) = load(paths, &mappings)?;
    let registry = Registry::open(db).await?;
    let api = match listen {
        Some(address) => {
            let state = lifeline::api::ApiState::open(&registry, audit, Default::default()).await?;
            let listener = lifeline::api::server::bind(address).await?;
            let local = listener.local_addr()?;
            Some((Arc::new(state), listener, local))
        }
        None => None,
    };
    eprintln!(
        "lifeline serve: {} connectors, {} jobs, registry {}{}; stop with Ctrl-C or SIGTERM",
        connectors.connectors.len(),
        jobs.jobs.len(),
        lifeline::registry::redact(db),
        match &api {
            Some((_, _, local)) => format!(
                ", API on http://{local} (audit in {})",
                lifeline::registry::redact(audit)
            ),
            None => String::new(),
        }
    );
    let (trigger, shutdown) = Shutdown::new();
    let api_task = api.map(|(state, listener, _)| {
        let stop = trigger.subscribe();
        tokio::spawn(lifeline::api::server::run(listener, state, stop))
    });
    tokio::spawn(async move {
        termination().await;
        eprintln!("lifeline serve: stopping (finishing or rolling back the work in flight)");
        trigger.trigger();
    });
    let service = Service {
        registry: registry.clone(),
        mappings,
        connectors,
        jobs,
        receipts: paths.receipts.clone(),
        steps,
    };
    service
        .serve(Arc::new(SystemClock), shutdown, Observers::default())
        .await?;
    if let Some(task) = api_task {
        task.await
            .context("the API stopped abnormally")?
            .context("the API failed")?;
    }
    registry.close().await;
    eprintln!("lifeline serve: stopped");
    Ok(true)
}

/// Runs one connector now.
pub async fn sync(
    db: &str,
    mappings: &MappingSet,
    paths: &ServicePaths,
    name: &str,
    steps: Arc<dyn PipelineSteps>,
) -> Result<bool> {
    let (connectors, _) = load(paths, mappings)?;
    let Some(connector) = connectors.get(name).cloned() else {
        anyhow::bail!(
            "no connector named \"{name}\" (known: {})",
            connectors.names().join(", ")
        );
    };
    let registry = Registry::open(db).await?;
    let (trigger, shutdown) = Shutdown::new();
    tokio::spawn(async move {
        termination().await;
        trigger.trigger();
    });
    let runner = JobRunner::new(
        registry.clone(),
        mappings.clone(),
        connectors,
        paths.receipts.clone(),
        steps,
        shutdown,
    );
    let result = connector.sync(&runner.sync_context()).await;
    registry.close().await;
    let report = result.with_context(|| format!("{name} failed"))?;
    for receipt in &report.receipts {
        println!("{}", receipt.summary());
    }
    for note in &report.notes {
        println!("{name}: {note}");
    }
    for problem in &report.problems {
        println!("{name}: FAILED: {problem}");
    }
    println!(
        "{name}: {} rows read, {} stored",
        report.rows_read, report.rows_stored
    );
    Ok(report.problems.is_empty())
}

/// Prints the latest runs and the overdue deliveries.
pub async fn runs(
    db: &str,
    mappings: &MappingSet,
    paths: &ServicePaths,
    job: Option<&str>,
    limit: i64,
) -> Result<bool> {
    let (connectors, _) = load(paths, mappings)?;
    let registry = Registry::open(db).await?;
    let runs = lifeline::schedule::history::list_runs(&registry, job, limit).await?;
    if runs.is_empty() {
        println!("no runs recorded");
    }
    for run in &runs {
        println!(
            "#{} {} ({}{}) {} → {}: {}",
            run.id,
            run.job,
            run.cause,
            run.scheduled_for
                .as_deref()
                .map(|s| format!(", due {s}"))
                .unwrap_or_default(),
            run.started_at,
            run.finished_at.as_deref().unwrap_or("…"),
            run.status
        );
        if let Some(error) = &run.error
            && run.status == Status::Skipped.as_str()
        {
            println!("    {error}");
        }
        for step in &run.steps {
            println!(
                "    {:<24} {:<12} {:>8} read {:>8} stored{}",
                step.step,
                step.status,
                step.rows_read,
                step.rows_stored,
                step.error
                    .as_deref()
                    .map(|e| format!("  error: {e}"))
                    .unwrap_or_default()
            );
            for note in &step.notes {
                println!("        {note}");
            }
        }
    }
    let missing = missing_deliveries(&registry, &connectors, chrono::Utc::now()).await?;
    if !missing.is_empty() {
        println!("\nmissing deliveries:");
        for missing in &missing {
            println!("  {missing}");
        }
    }
    registry.close().await;
    Ok(true)
}
