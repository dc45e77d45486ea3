//! Publish after commit: the writer's hook hands over each newly accepted
//! message's id; they are published in batches and their confirms awaited.
//! If the broker is away the batch is dropped, not retried here: the rows
//! are `pending`, and the republisher publishes them once the link is back.

use super::wire::WorkItem;
use super::{stopped, AmqpSettings, BrokerStats};
use hemobridge_amqp::{connect_with_retry, Publisher};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

const BATCH: usize = 256;

pub async fn run(
    amqp: AmqpSettings,
    mut committed: mpsc::Receiver<(i64, Option<String>)>,
    stats: Arc<BrokerStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let Some(conn) =
            connect_with_retry(&amqp.url, amqp.backoff, stopped(shutdown.clone())).await
        else {
            return;
        };
        let publisher = match Publisher::open(&conn, &amqp.topology).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the AMQP publisher; reconnecting");
                tokio::time::sleep(amqp.backoff.first).await;
                continue;
            }
        };
        let mut batch: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
        loop {
            batch.clear();
            tokio::select! {
                first = committed.recv() => match first {
                    Some(item) => batch.push(encode(item)),
                    None => return,
                },
                _ = shutdown.changed() => {
                    // Publish what the last commits handed over; anything
                    // missed is found by a republisher.
                    while let Ok(item) = committed.try_recv() {
                        batch.push(encode(item));
                    }
                    if !batch.is_empty() {
                        let _ = publisher.publish_batch(&batch).await;
                    }
                    let _ = conn.close(200, "shutdown").await;
                    return;
                }
            }
            while batch.len() < BATCH {
                match committed.try_recv() {
                    Ok(item) => batch.push(encode(item)),
                    Err(_) => break,
                }
            }
            if let Err(e) = publisher.publish_batch(&batch).await {
                tracing::warn!(error = %e, messages = batch.len(), "publishing failed; the republisher will catch up");
                break;
            }
            BrokerStats::add(&stats.published, batch.len());
        }
        let _ = conn.close(200, "reconnecting").await;
    }
}

fn encode((id, facility): (i64, Option<String>)) -> Vec<u8> {
    WorkItem { id, facility }.encode()
}
