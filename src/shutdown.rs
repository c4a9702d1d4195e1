//! Stopping the service cleanly: SIGTERM or Ctrl-C asks every part to stop taking work; the
//! file or pull in flight is finished or rolled back, never left half-stored.

use tokio::sync::watch;

/// Tells long-running work that the service is stopping. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

/// Asks every [`Shutdown`] made from it to stop.
#[derive(Debug)]
pub struct ShutdownTrigger {
    sender: watch::Sender<bool>,
}

impl Shutdown {
    /// A trigger and its first listener.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (ShutdownTrigger { sender }, Shutdown { receiver })
    }

    /// A listener that is never triggered (one-off commands).
    pub fn never() -> Shutdown {
        let (trigger, shutdown) = Shutdown::new();
        // keep the channel open for the life of the program without a trigger to fire it
        std::mem::forget(trigger);
        shutdown
    }

    /// Whether stopping was asked for.
    pub fn is_requested(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Resolves once stopping is asked for.
    pub async fn requested(&self) {
        let mut receiver = self.receiver.clone();
        // an error means the trigger is gone: nobody can ask any more, so never resolve
        if receiver.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl ShutdownTrigger {
    /// Asks every listener to stop.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// A new listener.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            receiver: self.sender.subscribe(),
        }
    }
}
