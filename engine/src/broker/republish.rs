//! The republisher: publishes again the messages that stayed `pending`
//! longer than [`STALE_AFTER`] while the work queue is empty: those
//! committed while the broker was away, or by a process killed between its
//! commit and its publish. One process runs it at a time (advisory lock).
//!
//! It waits for an empty queue so that a long backlog is not published
//! twice, and remembers what it published for [`AGAIN_AFTER`] so that rows
//! in consumers' hands (delivered, not yet acked) are not sent round and
//! round. A copy too many costs a skipped delivery, never a second set of
//! facts.

use super::wire::WorkItem;
use super::{stopped, AmqpSettings, BrokerStats};
use crate::store::{now_ms, RowExt, Store};
use hemobridge_amqp::{connect_with_retry, Publisher};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub const STALE_AFTER: Duration = Duration::from_secs(3);
const AGAIN_AFTER: Duration = Duration::from_secs(60);
const INTERVAL: Duration = Duration::from_secs(1);
/// Rows read per round (bounded memory).
const ROUND: i64 = 1000;

pub async fn run(
    amqp: AmqpSettings,
    store: Store,
    stats: Arc<BrokerStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut recent: HashMap<i64, Instant> = HashMap::new();
    loop {
        let Some(conn) =
            connect_with_retry(&amqp.url, amqp.backoff, stopped(shutdown.clone())).await
        else {
            return;
        };
        let publisher = match Publisher::open(&conn, &amqp.topology).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the republisher's channel; reconnecting");
                tokio::time::sleep(amqp.backoff.first).await;
                continue;
            }
        };
        loop {
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = shutdown.changed() => {
                    let _ = conn.close(200, "shutdown").await;
                    return;
                }
            }
            match round(&amqp, &store, &publisher, &mut recent).await {
                Ok(0) => {}
                Ok(n) => {
                    BrokerStats::add(&stats.republished, n);
                    tracing::info!(messages = n, "republished pending messages");
                }
                Err(RoundError::Store(e)) => {
                    tracing::warn!(error = %e, "republisher cannot read the store");
                }
                Err(RoundError::Broker(e)) => {
                    tracing::warn!(error = %e, "republisher lost the broker; reconnecting");
                    break;
                }
            }
        }
        let _ = conn.close(200, "reconnecting").await;
    }
}

enum RoundError {
    Store(anyhow::Error),
    Broker(hemobridge_amqp::Error),
}

async fn round(
    amqp: &AmqpSettings,
    store: &Store,
    publisher: &Publisher,
    recent: &mut HashMap<i64, Instant>,
) -> Result<usize, RoundError> {
    let ready = amqp
        .topology
        .ready(publisher.channel())
        .await
        .map_err(RoundError::Broker)?;
    if ready > 0 {
        return Ok(0);
    }
    let now = Instant::now();
    recent.retain(|_, at| now.duration_since(*at) < AGAIN_AFTER);
    let stale = stale_pending(store).await.map_err(RoundError::Store)?;
    let items: Vec<WorkItem> = stale
        .into_iter()
        .filter(|item| !recent.contains_key(&item.id))
        .collect();
    if items.is_empty() {
        return Ok(0);
    }
    let payloads: Vec<Vec<u8>> = items.iter().map(WorkItem::encode).collect();
    publisher
        .publish_batch(&payloads)
        .await
        .map_err(RoundError::Broker)?;
    for item in &items {
        recent.insert(item.id, now);
    }
    Ok(items.len())
}

async fn stale_pending(store: &Store) -> anyhow::Result<Vec<WorkItem>> {
    let before = now_ms() - STALE_AFTER.as_millis() as i64;
    let rows = sqlx::query(
        "SELECT id, facility FROM messages WHERE status = 'pending' AND received_at < $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(before)
    .bind(ROUND)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| WorkItem {
            id: r.int("id").unwrap_or_default(),
            facility: r.text("facility"),
        })
        .collect())
}
