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

/// Messages per transaction. The store applies a batch's facts in a few
/// multi-row statements, so a larger batch costs little more than a small
/// one; it is bounded because the writer waits for the turn meanwhile.
const BATCH: i64 = 256;
const IDLE_POLL: Duration = Duration::from_millis(500);
const CATCH_UP_PAUSE: Duration = Duration::from_millis(20);

pub struct Worker {
    pub store: Store,
    pub normalizer: Arc<Normalizer>,
    pub wake: Arc<Notify>,
    /// `hemobridge_message_processing_seconds` (shared with the doors).
    pub metrics: Arc<crate::metrics::Metrics>,
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
                Ok(n) if (n as i64) < BATCH => {
                    // Caught up: let the queue fill for a moment so the next
                    // transaction (and its sync) carries many messages
                    // instead of competing with the door's group commits.
                    tokio::select! {
                        _ = tokio::time::sleep(CATCH_UP_PAUSE) => {}
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
        self.process(&pending).await?;
        Ok(pending.len())
    }

    /// Normalizes and applies the given pending messages (the embedded
    /// queue's batch, or the ids a broker delivered). An error means the
    /// store could not even park a message: nothing is lost, the messages
    /// stay `pending` and are taken again.
    pub async fn process(&self, pending: &[crate::store::messages::Pending]) -> anyhow::Result<()> {
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
        let ids: Vec<i64> = pending.iter().map(|m| m.id).collect();
        self.metrics.observe_committed(&self.store, &ids).await;
        Ok(())
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
