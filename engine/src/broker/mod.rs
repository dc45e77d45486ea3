//! The work queue between the door and the worker: embedded (the default)
//! or RabbitMQ (`HEMOBRIDGE_AMQP_URL`), for several engine processes on one
//! PostgreSQL database.
//!
//! The database stays the source of truth: a message is `pending` in the
//! message table before its sender is ACKed, whatever the queue. The
//! embedded queue *is* those rows (`worker.rs` polls them). With RabbitMQ
//! the broker only carries work, as message ids:
//! - [`publish`]: after each group commit the writer hands the new ids to
//!   the publisher, which publishes them with publisher confirms;
//! - [`consume`]: every process consumes (manual acks, bounded prefetch),
//!   loads the delivered ids that are still `pending` and runs the worker's
//!   processing on them, then acks;
//! - [`republish`]: one process at a time (a PostgreSQL advisory lock)
//!   publishes again what stayed `pending` too long: committed while the
//!   broker was away, or in a process killed between commit and publish.
//!
//! Delivery is at least once; processing is idempotent (natural keys, and a
//! delivered id that is no longer `pending` is skipped).

pub mod consume;
pub mod publish;
pub mod republish;
pub mod wire;

use crate::config::Settings;
use crate::store::Store;
use crate::worker::Worker;
use crate::writer::CommitHook;
use hemobridge_amqp::{Backoff, Topology};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Ids waiting to be published; past this the writer skips the hand-off
/// (never waits) and the republisher finds the rows.
const HOOK_CAPACITY: usize = 8192;

/// Where the AMQP work queue is.
#[derive(Clone)]
pub struct AmqpSettings {
    pub url: String,
    pub topology: Topology,
    pub backoff: Backoff,
}

impl AmqpSettings {
    /// `None`: no AMQP URL, the embedded queue.
    pub fn from_settings(settings: &Settings) -> Option<AmqpSettings> {
        let url = settings.amqp_url.clone()?;
        Some(AmqpSettings {
            url,
            topology: Topology::with_prefix(&settings.amqp_queue_prefix),
            backoff: Backoff {
                first: Duration::from_millis(200),
                max: Duration::from_secs(5),
            },
        })
    }
}

/// The writer's commit hook and the publisher's end of it (bounded).
pub fn commit_channel() -> (CommitHook, Committed) {
    mpsc::channel(HOOK_CAPACITY)
}

pub type Committed = mpsc::Receiver<(i64, Option<String>)>;

/// Starts the publisher (fed by `committed`), the consumer and the
/// republisher; the tasks end on shutdown.
pub fn spawn(
    amqp: AmqpSettings,
    committed: Committed,
    store: Store,
    worker: Worker,
    stats: Arc<BrokerStats>,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![
        tokio::spawn(publish::run(
            amqp.clone(),
            committed,
            stats.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(consume::run(
            amqp.clone(),
            Arc::new(worker),
            stats.clone(),
            shutdown.clone(),
        )),
    ];
    let republisher_store = store.clone();
    tasks.push(tokio::spawn(crate::singleton::exclusive(
        store,
        "broker:republish".into(),
        shutdown.clone(),
        move |stop| republish::run(amqp.clone(), republisher_store.clone(), stats.clone(), stop),
    )));
    tasks
}

/// What this process did with the work queue (for tests and operators).
#[derive(Debug, Default)]
pub struct BrokerStats {
    /// Ids published after their commit (confirmed by the broker).
    pub published: AtomicU64,
    /// Ids published again by the republisher.
    pub republished: AtomicU64,
    /// Delivered messages this process processed (applied or parked).
    pub processed: AtomicU64,
    /// Delivered ids that were no longer pending (done elsewhere).
    pub skipped: AtomicU64,
    /// Deliveries handed back after a store failure.
    pub requeued: AtomicU64,
    /// Deliveries that were not work items (to the dead-letter queue).
    pub dead_lettered: AtomicU64,
}

impl BrokerStats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Resolves when shutdown is asked (for `connect_with_retry`).
async fn stopped(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
