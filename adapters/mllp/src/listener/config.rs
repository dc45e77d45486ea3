//! Limits and timeouts of the MLLP listener.
//!
//! Every limit exists to keep one misbehaving peer from hurting the others:
//! a frame size cap bounds memory, the timeouts reclaim connections from
//! peers that went silent or trickle bytes (slow-loris), and the connection
//! cap bounds tasks and file descriptors.

use std::time::Duration;

use crate::codec::{DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_GARBAGE_BYTES};

/// Configuration of [`serve`](super::serve). `Default` gives production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// Largest accepted message payload; a larger frame closes the connection.
    /// Default 4 MiB.
    pub max_frame_bytes: usize,
    /// Largest run of bytes outside any frame before the connection is
    /// closed. Default 64 KiB.
    pub max_garbage_bytes: usize,
    /// A connection with no traffic for this long (no byte received, no ACK
    /// sent) is closed. Default 300 s. `Duration::MAX` means never.
    pub idle_timeout: Duration,
    /// A frame that has started must be complete within this long, or the
    /// connection is closed (slow-loris defence). Default 30 s.
    pub read_timeout: Duration,
    /// Writing one ACK must finish within this long, or the connection is
    /// closed (a peer that does not read). Default 30 s.
    pub write_timeout: Duration,
    /// Connections open at once; one more is accepted and closed at once,
    /// with a warning and a count. Default 1024.
    pub max_connections: usize,
    /// On shutdown, how long to wait for connections to finish the frame in
    /// flight before they are aborted. Default 10 s.
    pub shutdown_grace: Duration,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_garbage_bytes: DEFAULT_MAX_GARBAGE_BYTES,
            idle_timeout: Duration::from_secs(300),
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
