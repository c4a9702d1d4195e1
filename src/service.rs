//! `lifeline serve`: the scheduler and every inbox watcher running together until SIGTERM or
//! Ctrl-C, which stops them taking work; the file or pull in flight is finished or rolled back
//! before the service exits.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::connectors::{ConnectorKind, ConnectorSet, state};
use crate::ingest::Receipt;
use crate::mapping::MappingSet;
use crate::registry::{Registry, RegistryError};
use crate::schedule::history;
use crate::schedule::missing::missing_deliveries;
use crate::schedule::{Clock, JobRunner, JobSet, PipelineSteps, Scheduler};
use crate::shutdown::Shutdown;

/// Everything the service runs.
pub struct Service {
    /// The registry.
    pub registry: Registry,
    /// Mappings.
    pub mappings: MappingSet,
    /// Connectors.
    pub connectors: ConnectorSet,
    /// Scheduled jobs.
    pub jobs: JobSet,
    /// Folder for pull receipts.
    pub receipts: PathBuf,
    /// Match, flag and weekly report steps.
    pub steps: Arc<dyn PipelineSteps>,
}

/// Hooks for watching the service work (tests, logs).
#[derive(Default)]
pub struct Observers {
    /// Every inbox file taken.
    pub inbox: Option<mpsc::UnboundedSender<Receipt>>,
    /// Every job run finished.
    pub runs: Option<mpsc::UnboundedSender<(String, crate::schedule::runner::RunSummary)>>,
}

impl Service {
    /// Runs the scheduler and the inbox watchers until `shutdown`.
    pub async fn serve(
        self,
        clock: Arc<dyn Clock>,
        shutdown: Shutdown,
        observers: Observers,
    ) -> Result<(), RegistryError> {
        let interrupted = history::mark_interrupted(&self.registry).await?;
        if interrupted > 0 {
            tracing::warn!(
                runs = interrupted,
                "runs left unfinished by the last stop are recorded as interrupted"
            );
        }
        for connector in &self.connectors.connectors {
            state::ensure(&self.registry, &connector.name).await?;
        }
        for missing in missing_deliveries(&self.registry, &self.connectors, clock.now()).await? {
            tracing::warn!("missing delivery: {missing}");
        }
        let runner = Arc::new(JobRunner::new(
            self.registry.clone(),
            self.mappings,
            self.connectors.clone(),
            self.receipts,
            self.steps,
            shutdown.clone(),
        ));
        let mut tasks = tokio::task::JoinSet::new();
        for connector in self.connectors.connectors.iter().cloned() {
            let ConnectorKind::Inbox(inbox) = connector.kind.clone() else {
                continue;
            };
            let runner = Arc::clone(&runner);
            let taken = observers.inbox.clone();
            tasks.spawn(async move {
                let context = runner.sync_context();
                tracing::info!(connector = %connector.name, folder = %inbox.path.display(), "watching inbox");
                if let Err(error) = inbox.watch(&connector, &context, taken).await {
                    tracing::error!(connector = %connector.name, %error, "inbox watcher stopped");
                }
            });
        }
        let (finished, mut runs) = mpsc::unbounded_channel();
        let scheduler =
            Scheduler::new(self.jobs, Arc::clone(&runner), Arc::clone(&clock)).notify(finished);
        {
            let registry = self.registry.clone();
            let connectors = self.connectors.clone();
            let clock = Arc::clone(&clock);
            let forward = observers.runs;
            tasks.spawn(async move {
                while let Some((job, summary)) = runs.recv().await {
                    if let Ok(missing) =
                        missing_deliveries(&registry, &connectors, clock.now()).await
                    {
                        for missing in missing {
                            tracing::warn!("missing delivery: {missing}");
                        }
                    }
                    if let Some(forward) = &forward {
                        let _ = forward.send((job, summary));
                    }
                }
            });
        }
        let scheduled = scheduler.run(shutdown).await;
        while tasks.join_next().await.is_some() {}
        scheduled
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn termination() {
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM: Ctrl-C only");
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
