//! MLLP load generator, the library behind `hemobridge loadgen`.
//!
//! Opens `connections` connections, then sends `messages` messages over
//! them in HL7 original mode: each connection has at most one message
//! outstanding and sends the next only after the ACK of the previous one.
//! Connections take the next message number from a shared counter, so a
//! fast connection carries more messages than a slow one, as a real
//! interface engine would. With a `rate`, message `i` is not sent before
//! `start + i / rate`.
//!
//! Every ACK is checked: MSA-2 must echo the control id the message factory
//! gave for that message, and MSA-1 codes are counted. Latency is measured
//! from writing a message to reading its ACK; when the listener cannot keep
//! up with a rate, waiting time before the write is not counted (no
//! coordinated-omission correction).

mod report;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

pub use report::LoadReport;

use crate::client::{Client, ClientError};
use report::Tally;

/// Builds message number `i` (from 0): the raw message and the control id
/// (MSH-10) its ACK must echo in MSA-2.
pub type MessageFactory = Arc<dyn Fn(u64) -> (Vec<u8>, String) + Send + Sync>;

/// What to send, where and how fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadConfig {
    /// The listener, as `HOST:PORT`.
    pub addr: String,
    /// Connections opened at once, each with one message outstanding.
    pub connections: usize,
    /// Messages to send in total, over all connections.
    pub messages: u64,
    /// Messages per second over all connections; `None` sends as fast as
    /// the listener answers.
    pub rate: Option<u64>,
    /// Timeout for connecting and for each message's ACK.
    pub timeout: Duration,
}

/// Why a load run could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The configuration makes no sense (e.g. zero connections).
    #[error("invalid load configuration: {0}")]
    InvalidConfig(&'static str),
    /// One of the initial connections could not be opened.
    #[error("cannot open connection to {addr}: {source}")]
    Connect {
        /// The address from the configuration.
        addr: String,
        /// What the client reported.
        #[source]
        source: ClientError,
    },
}

/// Runs the load described by `config` and reports what it measured.
///
/// Fails only if the configuration is invalid or the initial connections
/// cannot all be opened; errors during the run (a dropped connection, a
/// late ACK) are counted in the report, and the connection concerned is
/// reopened for its next message.
pub async fn run(
    config: LoadConfig,
    make_message: MessageFactory,
) -> Result<LoadReport, LoadError> {
    if config.connections == 0 {
        return Err(LoadError::InvalidConfig("connections must be at least 1"));
    }
    if config.rate == Some(0) {
        return Err(LoadError::InvalidConfig(
            "rate must be at least 1 message per second",
        ));
    }
    let clients = open_connections(&config).await?;
    let schedule = Arc::new(Schedule::new(config.messages, config.rate));
    let config = Arc::new(config);
    let mut workers = JoinSet::new();
    for client in clients {
        workers.spawn(drive_connection(
            client,
            Arc::clone(&config),
            Arc::clone(&schedule),
            Arc::clone(&make_message),
        ));
    }
    let mut total = Tally::new();
    while let Some(finished) = workers.join_next().await {
        match finished {
            Ok(tally) => total.merge(tally),
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(_cancelled) => {}
        }
    }
    Ok(LoadReport::new(total, schedule.start.elapsed()))
}

/// Opens all connections concurrently; the first failure fails the run.
async fn open_connections(config: &LoadConfig) -> Result<Vec<Client>, LoadError> {
    let mut opening = JoinSet::new();
    for _ in 0..config.connections {
        let (addr, timeout) = (config.addr.clone(), config.timeout);
        opening.spawn(async move { Client::connect(addr.as_str(), timeout).await });
    }
    let mut clients = Vec::with_capacity(config.connections);
    while let Some(opened) = opening.join_next().await {
        match opened {
            Ok(Ok(client)) => clients.push(client),
            Ok(Err(source)) => {
                return Err(LoadError::Connect {
                    addr: config.addr.clone(),
                    source,
                })
            }
            Err(err) => std::panic::resume_unwind(err.into_panic()),
        }
    }
    Ok(clients)
}

/// Hands out message numbers and, with a rate, the time each may be sent.
struct Schedule {
    next_message: AtomicU64,
    total_messages: u64,
    interval_nanos: Option<u128>,
    start: Instant,
}

impl Schedule {
    fn new(total_messages: u64, rate: Option<u64>) -> Self {
        Self {
            next_message: AtomicU64::new(0),
            total_messages,
            interval_nanos: rate.map(|per_second| 1_000_000_000 / u128::from(per_second.max(1))),
            start: Instant::now(),
        }
    }

    /// The next message number to send, or `None` when all are taken.
    fn claim(&self) -> Option<u64> {
        let index = self.next_message.fetch_add(1, Ordering::Relaxed);
        (index < self.total_messages).then_some(index)
    }

    /// Waits until message `index` is due.
    async fn wait_for_turn(&self, index: u64) {
        if let Some(interval) = self.interval_nanos {
            let offset = u64::try_from(interval * u128::from(index)).unwrap_or(u64::MAX);
            sleep_until(self.start + Duration::from_nanos(offset)).await;
        }
    }
}

/// Sends messages over one connection until the schedule runs out,
/// reconnecting after an error.
async fn drive_connection(
    client: Client,
    config: Arc<LoadConfig>,
    schedule: Arc<Schedule>,
    make_message: MessageFactory,
) -> Tally {
    let mut tally = Tally::new();
    let mut connection = Some(client);
    while let Some(index) = schedule.claim() {
        schedule.wait_for_turn(index).await;
        let (message, expected_control_id) = make_message(index);
        let client = match connection.as_mut() {
            Some(client) => client,
            None => match Client::connect(config.addr.as_str(), config.timeout).await {
                Ok(client) => connection.insert(client),
                Err(err) => {
                    tally.record_error(err);
                    continue;
                }
            },
        };
        tally.record_sent();
        let sent_at = Instant::now();
        match client.send(&message).await {
            Ok(reply) => tally.record_reply(&reply, &expected_control_id, sent_at.elapsed()),
            Err(err) => {
                tally.record_error(err);
                connection = None;
            }
        }
    }
    tally
}
