//! One route's delivery task: takes due items in small batches (memory is
//! bounded however long the backlog), sends each, records the attempt, and
//! sleeps until the next item falls due, an enqueue wakes it, or shutdown.
//! Each route has its own task, so a route that is down delays only its own
//! items, never ingest or the other routes.

use super::{OutboxStats, RetryPolicy};
use crate::store::outbox::{AfterAttempt, AttemptLog, Item};
use crate::store::{now_ms, Store};
use hemobridge_http_out::{Outcome, Request, Sender};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Items taken per query.
const BATCH: i64 = 16;
/// The longest sleep with nothing due (a safety net: enqueues wake the
/// task, and the next due time is known).
const IDLE_POLL: Duration = Duration::from_secs(5);

/// Where a route's items go.
#[derive(Debug, Clone)]
pub struct Destination {
    pub route: String,
    pub url: String,
    pub sender: Sender,
}

pub struct RouteDelivery {
    pub store: Store,
    pub destination: Destination,
    pub policy: RetryPolicy,
    pub stats: Arc<OutboxStats>,
}

impl RouteDelivery {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let route = self.destination.route.clone();
        let wake = self.store.outbox_hooks().waker(&route);
        tracing::info!(route = %route, url = %self.destination.url, "outbound route ready");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let pause = match self.deliver_due(&mut shutdown).await {
                Ok(0) => self.until_next_due().await,
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!(route = %route, error = %e, "outbox delivery failed; retrying");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        match self.store.next_due_at(&self.destination.route).await {
            Ok(Some(at)) => {
                let wait = u64::try_from(at - now_ms()).unwrap_or(0);
                Duration::from_millis(wait).min(IDLE_POLL)
            }
            _ => IDLE_POLL,
        }
    }

    /// Sends one batch of due items; returns how many it took.
    pub async fn deliver_due(&self, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<usize> {
        let due = self
            .store
            .due_items(&self.destination.route, now_ms(), BATCH)
            .await?;
        let n = due.len();
        for item in due {
            tokio::select! {
                result = self.deliver(&item) => result?,
                // Stop at once: the item stays pending and is sent again
                // after the restart under the same idempotency key.
                _ = shutdown.wait_for(|stop| *stop) => return Ok(n),
            }
        }
        Ok(n)
    }

    async fn deliver(&self, item: &Item) -> anyhow::Result<()> {
        let route = &self.destination.route;
        let attempt_no = item.attempts + 1;
        let at = now_ms();
        let attempt = self
            .destination
            .sender
            .send(Request {
                url: &self.destination.url,
                content_type: &item.content_type,
                idempotency_key: &item.key,
                body: &item.body,
            })
            .await;
        let description = attempt.describe();
        let (after, outcome) = match &attempt.outcome {
            Outcome::Delivered => (AfterAttempt::Delivered, "delivered"),
            Outcome::Rejected => (AfterAttempt::Dead, "rejected"),
            Outcome::Retry { .. } if attempt_no >= i64::from(self.policy.max_attempts) => {
                (AfterAttempt::Dead, "dead")
            }
            Outcome::Retry { retry_after } => {
                let delay = self
                    .policy
                    .delay(u32::try_from(attempt_no).unwrap_or(u32::MAX), *retry_after);
                (
                    AfterAttempt::RetryAt(now_ms() + delay.as_millis() as i64),
                    "retry",
                )
            }
        };
        let log = AttemptLog {
            attempt: attempt_no,
            at,
            url: self.destination.url.clone(),
            http_status: attempt.status.map(i64::from),
            error: attempt.error.clone(),
            excerpt: (!attempt.excerpt.is_empty()).then(|| attempt.excerpt.clone()),
            duration_ms: attempt.duration.as_millis() as i64,
        };
        let last_error = (after != AfterAttempt::Delivered).then_some(description.as_str());
        self.store
            .record_attempt(item.id, &log, after, last_error)
            .await?;
        self.stats.count(route, outcome);
        // Ids, kinds and statuses only: neither our body nor the receiver's
        // answer goes to the log.
        match after {
            AfterAttempt::Delivered => {
                tracing::debug!(route = %route, item = item.id, kind = %item.kind, "delivered")
            }
            AfterAttempt::RetryAt(_) => tracing::info!(
                route = %route, item = item.id, attempt = attempt_no,
                status = ?attempt.status, error = ?attempt.error,
                "delivery failed; will retry"
            ),
            AfterAttempt::Dead => tracing::warn!(
                route = %route, item = item.id, attempt = attempt_no,
                status = ?attempt.status, error = ?attempt.error,
                "delivery failed; item is dead (hemobridge outbox retry)"
            ),
        }
        Ok(())
    }
}
