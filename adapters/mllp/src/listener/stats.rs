//! Counters of the MLLP listener, shared with whoever exports metrics.
//!
//! Plain relaxed atomics: each counter is independent, and a metrics scrape
//! needs a recent value, not a consistent cut across counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Live counters updated by [`serve`](super::serve). Share it in an `Arc`
/// and read it with [`snapshot`](Self::snapshot).
#[derive(Debug, Default)]
pub struct ListenerStats {
    pub(crate) connections_open: AtomicU64,
    pub(crate) connections_total: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
    pub(crate) frames_received: AtomicU64,
    pub(crate) acks_sent: AtomicU64,
    pub(crate) frames_oversize: AtomicU64,
    pub(crate) garbage_bytes: AtomicU64,
    pub(crate) garbage_disconnects: AtomicU64,
    pub(crate) idle_timeouts: AtomicU64,
    pub(crate) read_timeouts: AtomicU64,
    pub(crate) write_timeouts: AtomicU64,
    pub(crate) connection_errors: AtomicU64,
    pub(crate) accept_errors: AtomicU64,
}

/// The counters' values at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListenerStatsSnapshot {
    /// Connections being served now (a gauge).
    pub connections_open: u64,
    /// Connections accepted and served since start (refused ones excluded).
    pub connections_total: u64,
    /// Connections closed at once because `max_connections` were open.
    pub connections_refused: u64,
    /// Complete frames received and handed to the handler.
    pub frames_received: u64,
    /// ACK frames written back in full (a reply may hold several).
    pub acks_sent: u64,
    /// Frames over `max_frame_bytes` (each closed its connection).
    pub frames_oversize: u64,
    /// Bytes received outside any frame and skipped.
    pub garbage_bytes: u64,
    /// Connections closed for sending more than `max_garbage_bytes` of garbage.
    pub garbage_disconnects: u64,
    /// Connections closed after `idle_timeout` without a byte.
    pub idle_timeouts: u64,
    /// Connections closed because a started frame missed `read_timeout`.
    pub read_timeouts: u64,
    /// Connections closed because an ACK write missed `write_timeout`.
    pub write_timeouts: u64,
    /// Connections ended by an I/O error (reset by peer and the like).
    pub connection_errors: u64,
    /// Failed `accept` calls (e.g. out of file descriptors).
    pub accept_errors: u64,
}

impl ListenerStats {
    /// Fresh counters, all zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> ListenerStatsSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ListenerStatsSnapshot {
            connections_open: read(&self.connections_open),
            connections_total: read(&self.connections_total),
            connections_refused: read(&self.connections_refused),
            frames_received: read(&self.frames_received),
            acks_sent: read(&self.acks_sent),
            frames_oversize: read(&self.frames_oversize),
            garbage_bytes: read(&self.garbage_bytes),
            garbage_disconnects: read(&self.garbage_disconnects),
            idle_timeouts: read(&self.idle_timeouts),
            read_timeouts: read(&self.read_timeouts),
            write_timeouts: read(&self.write_timeouts),
            connection_errors: read(&self.connection_errors),
            accept_errors: read(&self.accept_errors),
        }
    }
}

/// Adds one to a counter.
pub(crate) fn increment(counter: &AtomicU64) {
    add(counter, 1);
}

/// Adds `amount` to a counter.
pub(crate) fn add(counter: &AtomicU64, amount: u64) {
    counter.fetch_add(amount, Ordering::Relaxed);
}

/// Keeps `connections_open` right however a connection task ends (return,
/// panic or abort): increments on creation, decrements on drop.
pub(crate) struct OpenConnectionGuard {
    stats: Arc<ListenerStats>,
}

impl OpenConnectionGuard {
    pub(crate) fn new(stats: Arc<ListenerStats>) -> Self {
        increment(&stats.connections_open);
        Self { stats }
    }
}

impl Drop for OpenConnectionGuard {
    fn drop(&mut self) {
        self.stats.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}
