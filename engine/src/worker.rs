//! The processing worker: takes committed, pending messages in order,
//! normalizes them and applies their facts.
//!
//! The embedded queue is the `pending` rows of the message table, so a
//! message ACKed before a crash is processed after the restart. A message
//! that cannot be processed is parked (status `error`, with its reason) and
//! the queue moves on. Memory is bounded by the batch size however long the
//! backlog.

use crate::normalize::Normalizer;
use crate::store::canonical::Outcome;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

const BATCH: i64 = 64;
const IDLE_POLL: Duration = Duration::from_millis(500);

pub struct Worker {
    pub store: Store,
    pub normalizer: Arc<Normalizer>,
    pub wake: Arc<Notify>,
}

impl Worker {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.drain_once().await {
                Ok(0) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "processing pending messages failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Processes one batch; returns how many messages it took.
    pub async fn drain_once(&self) -> anyhow::Result<usize> {
        let pending = self.store.pending(BATCH).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let outcomes: Vec<(i64, String, Outcome)> = pending
            .iter()
            .map(|m| {
                let outcome = match self.normalizer.normalize_pending(m.id, &m.raw, &m.format) {
                    Ok(facts) => Outcome::Applied(facts),
                    Err(errors) => Outcome::Failed(errors),
                };
                (m.id, m.channel.clone(), outcome)
            })
            .collect();
        if let Err(batch_error) = self.store.apply_batch(&outcomes).await {
            tracing::warn!(error = %batch_error, "batch apply failed; applying one by one");
            for (id, channel, outcome) in &outcomes {
                if let Err(e) = self.store.apply_one(*id, channel, outcome).await {
                    let reason = serde_json::json!([{
                        "code": "store",
                        "message": format!("could not be applied: {e}"),
                    }]);
                    tracing::warn!(message_id = id, "message parked: {e}");
                    self.store.park(*id, &reason.to_string()).await?;
                }
            }
        }
        Ok(pending.len())
    }

    /// Processes until nothing is pending (used by `replay` and tests).
    pub async fn drain_all(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let n = self.drain_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }
}
