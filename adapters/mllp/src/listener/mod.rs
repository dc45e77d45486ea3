//! The MLLP listener: accepts TCP connections and serves each in its own
//! task, handing every complete frame to a [`Handler`] and sending back the
//! acknowledgement it returns.
//!
//! The listener knows nothing about HL7: the handler decides what an ACK
//! says. This module holds the accept loop, the connection limit and the
//! graceful shutdown; `connection` serves one connection, and
//! [`ListenerConfig`] and [`ListenerStats`] hold the settings and counters.
//!
//! Shutdown: when the `shutdown` future completes, the listener stops
//! accepting, tells every connection to stop, and waits (up to
//! [`ListenerConfig::shutdown_grace`]) for them to finish. A connection
//! finishes the frame it is handling and sends that ACK before it closes;
//! bytes of later frames are dropped unacknowledged, so their senders
//! resend them to the next instance.

mod config;
mod connection;
mod stats;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinError, JoinSet};
use tracing::{debug, error, info, warn};

pub use config::ListenerConfig;
pub use stats::{ListenerStats, ListenerStatsSnapshot};

use stats::{increment, OpenConnectionGuard};

/// Pause after an `accept` failure such as running out of file descriptors,
/// so the loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Receives the frames of every connection and produces their ACKs.
pub trait Handler: Send + Sync + 'static {
    /// Called once per complete frame, in order, one at a time per
    /// connection. Returns the ACK payloads (unframed) to send back, each as
    /// its own frame, in order: one in original mode; a commit ACK and then
    /// an application ACK in enhanced mode. An empty list sends nothing, so
    /// the frame stays unacknowledged and the sender will resend it.
    fn handle(&self, frame: Bytes, peer: &Peer) -> impl Future<Output = Vec<Vec<u8>>> + Send;
}

/// The remote end of a connection, as told to the [`Handler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The peer's address.
    pub addr: SocketAddr,
    /// Numbers the connections of one [`serve`] call from 1; use it to
    /// correlate log lines.
    pub connection_id: u64,
}

/// Serves MLLP on `listener` until `shutdown` completes, then drains the
/// open connections as described in the module documentation.
///
/// Returns an error only if the listener's local address cannot be read at
/// start; failures of `accept` are logged, counted and retried.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    config: ListenerConfig,
    handler: Arc<H>,
    stats: Arc<ListenerStats>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let local_addr = listener.local_addr()?;
    let config = Arc::new(config);
    let connection_slots = Arc::new(Semaphore::new(
        config.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let (stop_connections, stop_signal) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut last_connection_id = 0u64;
    tokio::pin!(shutdown);
    info!(%local_addr, max_connections = config.max_connections, "MLLP listener accepting connections");

    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(finished) = connections.join_next(), if !connections.is_empty() => {
                log_task_failure(finished);
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, addr)) => {
                let Ok(slot) = Arc::clone(&connection_slots).try_acquire_owned() else {
                    refuse(stream, addr, &config, &stats);
                    continue;
                };
                last_connection_id += 1;
                let peer = Peer {
                    addr,
                    connection_id: last_connection_id,
                };
                increment(&stats.connections_total);
                let open_guard = OpenConnectionGuard::new(Arc::clone(&stats));
                let (config, handler, stats) = (
                    Arc::clone(&config),
                    Arc::clone(&handler),
                    Arc::clone(&stats),
                );
                let stop_signal = stop_signal.clone();
                connections.spawn(async move {
                    let _slot = slot;
                    let _open_guard = open_guard;
                    connection::serve_connection(
                        stream,
                        peer,
                        &config,
                        &*handler,
                        &stats,
                        stop_signal,
                    )
                    .await;
                });
            }
            Err(err) if is_connection_specific(&err) => {
                increment(&stats.accept_errors);
                debug!(%local_addr, error = %err, "accept failed for one connection");
            }
            Err(err) => {
                increment(&stats.accept_errors);
                warn!(%local_addr, error = %err, backoff_ms = ACCEPT_BACKOFF.as_millis() as u64, "accept failed; backing off");
                let stop = tokio::select! {
                    () = &mut shutdown => true,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => false,
                };
                if stop {
                    break;
                }
            }
        }
    }

    drop(listener);
    info!(%local_addr, open = connections.len(), "MLLP listener stopping; finishing frames in flight");
    // Ignoring the error is right: it only means no connection is listening.
    let _ = stop_connections.send(true);
    drain(&mut connections, config.shutdown_grace).await;
    info!(%local_addr, "MLLP listener stopped");
    Ok(())
}

/// Closes a connection accepted beyond `max_connections`, loudly.
fn refuse(stream: TcpStream, addr: SocketAddr, config: &ListenerConfig, stats: &ListenerStats) {
    increment(&stats.connections_refused);
    warn!(
        peer = %addr,
        max_connections = config.max_connections,
        "MLLP connection refused: connection limit reached"
    );
    drop(stream);
}

/// Waits for the connection tasks to end, aborting those still running
/// after `grace`.
async fn drain(connections: &mut JoinSet<()>, grace: Duration) {
    let all_finished = async {
        while let Some(finished) = connections.join_next().await {
            log_task_failure(finished);
        }
    };
    if tokio::time::timeout(grace, all_finished).await.is_err() {
        warn!(
            still_open = connections.len(),
            grace_ms = grace.as_millis() as u64,
            "MLLP connections still busy after the shutdown grace period; aborting them"
        );
        connections.shutdown().await;
    }
}

fn log_task_failure(finished: Result<(), JoinError>) {
    if let Err(err) = finished {
        if err.is_panic() {
            error!("MLLP connection task panicked");
        }
    }
}

/// Errors that concern only the connection being accepted, not the listener.
fn is_connection_specific(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}
