//! Consuming the work queue: a batch of deliveries becomes one call of the
//! worker's processing (one transaction), and is acked only after it
//! committed. A delivered id that is no longer `pending` (processed by
//! another process, a republished copy) is acked without work. A delivery
//! that is not a work item is dead-lettered at once; a message whose
//! mapping fails is parked in the database by the worker and acked, so it
//! never blocks the queue. If the store fails, the batch is requeued.

use super::wire::WorkItem;
use super::{stopped, AmqpSettings, BrokerStats};
use crate::store::messages::Pending;
use crate::store::{RowExt, Store};
use crate::worker::Worker;
use hemobridge_amqp::{connect_with_retry, Consumer, Delivery};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Unacked deliveries the broker may hand this process (basic.qos): the
/// bound on the work held in memory, whatever the backlog.
const PREFETCH: u16 = 256;
/// Deliveries processed per transaction.
const BATCH: usize = 64;
/// How long to wait for more deliveries once one has arrived.
const LINGER: Duration = Duration::from_millis(5);

pub async fn run(
    amqp: AmqpSettings,
    worker: Arc<Worker>,
    stats: Arc<BrokerStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    let tag = format!("hemobridge-{}", std::process::id());
    loop {
        let Some(conn) =
            connect_with_retry(&amqp.url, amqp.backoff, stopped(shutdown.clone())).await
        else {
            return;
        };
        let mut consumer = match Consumer::open(&conn, &amqp.topology, PREFETCH, &tag).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the AMQP consumer; reconnecting");
                tokio::time::sleep(amqp.backoff.first).await;
                continue;
            }
        };
        tracing::info!(queue = %amqp.topology.queue, "consuming the AMQP work queue");
        loop {
            let batch = tokio::select! {
                batch = consumer.next_batch(BATCH, LINGER) => batch,
                _ = shutdown.changed() => {
                    // Unacked deliveries go back to the queue when the
                    // connection closes.
                    let _ = conn.close(200, "shutdown").await;
                    return;
                }
            };
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "AMQP consumer lost its link; reconnecting");
                    break;
                }
            };
            if let Err(e) = handle(&consumer, &worker, &stats, batch).await {
                tracing::warn!(error = %e, "AMQP consumer lost its link; reconnecting");
                break;
            }
        }
        let _ = conn.close(200, "reconnecting").await;
    }
}

/// Processes one batch and settles every delivery in it.
async fn handle(
    consumer: &Consumer,
    worker: &Worker,
    stats: &BrokerStats,
    batch: Vec<Delivery>,
) -> hemobridge_amqp::Result<()> {
    let mut work = Vec::with_capacity(batch.len());
    for delivery in batch {
        match WorkItem::decode(&delivery.data) {
            Ok(item) => work.push((item.id, delivery)),
            Err(reason) => {
                tracing::warn!(%reason, bytes = delivery.data.len(), "dead-lettering a delivery that is not a work item");
                consumer.dead_letter(&delivery).await?;
                BrokerStats::add(&stats.dead_lettered, 1);
            }
        }
    }
    if work.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = work.iter().map(|(id, _)| *id).collect();
    let result = match still_pending(&worker.store, &ids).await {
        Ok(pending) if pending.is_empty() => Ok(0),
        Ok(pending) => worker.process(&pending).await.map(|()| pending.len()),
        Err(e) => Err(e),
    };
    match result {
        Ok(processed) => {
            for (_, delivery) in &work {
                consumer.ack(delivery).await?;
            }
            BrokerStats::add(&stats.processed, processed);
            BrokerStats::add(&stats.skipped, work.len() - processed);
        }
        Err(e) => {
            tracing::error!(error = %e, messages = work.len(), "processing failed in the store; requeueing");
            for (_, delivery) in &work {
                consumer.requeue(delivery).await?;
            }
            BrokerStats::add(&stats.requeued, work.len());
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    Ok(())
}

/// The delivered messages that still wait for processing, in id order.
pub async fn still_pending(store: &Store, ids: &[i64]) -> anyhow::Result<Vec<Pending>> {
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, channel, format, facility, raw, attempts FROM messages \
         WHERE status = 'pending' AND id IN ({}) ORDER BY id",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(store.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| Pending {
            id: r.int("id").unwrap_or_default(),
            channel: r.text("channel").unwrap_or_default(),
            format: r.text("format").unwrap_or_default(),
            facility: r.text("facility"),
            raw: sqlx::Row::try_get::<Vec<u8>, _>(r, "raw").unwrap_or_default(),
            attempts: r.int("attempts").unwrap_or(0),
        })
        .collect())
}
