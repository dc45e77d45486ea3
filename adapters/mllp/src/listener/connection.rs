//! One accepted MLLP connection: read bytes, decode frames, hand each frame
//! to the handler and write its ACK back, strictly one frame at a time and
//! in arrival order (HL7 original mode).
//!
//! The connection owns its read and write buffers for its whole life, so a
//! steady stream of messages allocates little beyond the frames themselves.
//! It closes itself when the peer closes, on shutdown (after the ACK of the
//! frame in flight), on a protocol violation (oversize frame, too much
//! garbage), or when a timer expires: `idle_timeout` when no byte arrives
//! at all, `read_timeout` when a started frame is not finished in time.
//! Log lines carry sizes, peer address and connection id, never content:
//! messages hold patient data.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep_until, timeout, Instant};
use tracing::{debug, info, trace, warn};

use super::stats::{add, increment};
use super::{Handler, ListenerConfig, ListenerStats, Peer};
use crate::codec::{encode, FrameDecoder, FrameError};

/// Read buffer size a new connection starts with.
const INITIAL_READ_CAPACITY: usize = 8 * 1024;
/// Free space guaranteed in the read buffer before each read.
const MIN_READ_SPACE: usize = 8 * 1024;
/// Upper bound on one read, which bounds how far a frame can overshoot
/// `max_frame_bytes` before the decoder notices.
const MAX_READ_BYTES: u64 = 64 * 1024;
/// An empty read buffer bigger than this (left by a large frame) is
/// replaced by a small one, so idle connections do not pin memory.
const MAX_RETAINED_CAPACITY: usize = 256 * 1024;

/// Serves one connection until it closes, then logs why.
pub(crate) async fn serve_connection<H: Handler>(
    stream: TcpStream,
    peer: Peer,
    config: &ListenerConfig,
    handler: &H,
    stats: &ListenerStats,
    shutdown: watch::Receiver<bool>,
) {
    if let Err(err) = stream.set_nodelay(true) {
        debug!(connection_id = peer.connection_id, error = %err, "could not set TCP_NODELAY");
    }
    debug!(connection_id = peer.connection_id, peer = %peer.addr, "MLLP connection opened");
    let mut connection = Connection {
        stream,
        peer: &peer,
        config,
        handler,
        stats,
        shutdown,
        decoder: FrameDecoder::new(config.max_frame_bytes)
            .with_garbage_limit(config.max_garbage_bytes),
        read_buf: BytesMut::with_capacity(INITIAL_READ_CAPACITY),
        write_buf: BytesMut::new(),
        last_activity_at: Instant::now(),
        frame_started_at: None,
        frames_answered: 0,
    };
    let reason = connection.run().await;
    let frames_answered = connection.frames_answered;
    reason.record(&peer, frames_answered, config, stats);
}

/// Why a connection ended.
#[derive(Debug)]
enum CloseReason {
    PeerClosed,
    Shutdown,
    IdleTimeout,
    ReadTimeout,
    WriteTimeout,
    FrameTooLarge,
    TooMuchGarbage,
    Io(std::io::Error),
}

impl CloseReason {
    /// Counts and logs the end of a connection.
    fn record(
        &self,
        peer: &Peer,
        frames_answered: u64,
        config: &ListenerConfig,
        stats: &ListenerStats,
    ) {
        let connection_id = peer.connection_id;
        let addr = peer.addr;
        match self {
            CloseReason::PeerClosed => {
                debug!(connection_id, peer = %addr, frames_answered, "MLLP connection closed by peer");
            }
            CloseReason::Shutdown => {
                debug!(connection_id, peer = %addr, frames_answered, "MLLP connection closed for shutdown");
            }
            CloseReason::IdleTimeout => {
                increment(&stats.idle_timeouts);
                info!(
                    connection_id, peer = %addr, frames_answered,
                    idle_timeout_ms = config.idle_timeout.as_millis() as u64,
                    "MLLP connection closed: idle timeout"
                );
            }
            CloseReason::ReadTimeout => {
                increment(&stats.read_timeouts);
                warn!(
                    connection_id, peer = %addr, frames_answered,
                    read_timeout_ms = config.read_timeout.as_millis() as u64,
                    "MLLP connection closed: frame not completed within the read timeout"
                );
            }
            CloseReason::WriteTimeout => {
                increment(&stats.write_timeouts);
                warn!(
                    connection_id, peer = %addr, frames_answered,
                    write_timeout_ms = config.write_timeout.as_millis() as u64,
                    "MLLP connection closed: ACK not written within the write timeout"
                );
            }
            // Counted and logged when detected.
            CloseReason::FrameTooLarge | CloseReason::TooMuchGarbage => {
                debug!(connection_id, peer = %addr, frames_answered, "MLLP connection closed after a framing error");
            }
            CloseReason::Io(err) => {
                increment(&stats.connection_errors);
                info!(connection_id, peer = %addr, frames_answered, error = %err, "MLLP connection closed on an I/O error");
            }
        }
    }
}

/// What ended a wait for more bytes.
enum Wakeup {
    Shutdown,
    Expired(CloseReason),
    Read(std::io::Result<usize>),
}

struct Connection<'a, H> {
    stream: TcpStream,
    peer: &'a Peer,
    config: &'a ListenerConfig,
    handler: &'a H,
    stats: &'a ListenerStats,
    shutdown: watch::Receiver<bool>,
    decoder: FrameDecoder,
    read_buf: BytesMut,
    write_buf: BytesMut,
    /// When a byte last arrived or an ACK last went out (or the connection
    /// opened): the idle timer runs from here.
    last_activity_at: Instant,
    /// When the unfinished frame in the buffer was first seen: read timer.
    frame_started_at: Option<Instant>,
    frames_answered: u64,
}

impl<H: Handler> Connection<'_, H> {
    async fn run(&mut self) -> CloseReason {
        loop {
            if let Err(reason) = self.answer_buffered_frames().await {
                return reason;
            }
            match self.wait_for_bytes().await {
                Wakeup::Shutdown => return CloseReason::Shutdown,
                Wakeup::Expired(reason) => return reason,
                Wakeup::Read(Ok(0)) => return self.finish_after_peer_closed().await,
                Wakeup::Read(Ok(_)) => self.last_activity_at = Instant::now(),
                Wakeup::Read(Err(err)) => return CloseReason::Io(err),
            }
        }
    }

    /// Answers every complete frame in the read buffer, then starts or stops
    /// the read timer depending on whether an unfinished frame remains.
    async fn answer_buffered_frames(&mut self) -> Result<(), CloseReason> {
        loop {
            let decoded = self.decoder.decode(&mut self.read_buf);
            self.account_garbage();
            match decoded {
                Ok(Some(frame)) => self.answer(frame).await?,
                Ok(None) => break,
                Err(err) => return Err(self.framing_failure(err)),
            }
        }
        if !self.decoder.is_mid_frame() {
            self.frame_started_at = None;
        } else if self.frame_started_at.is_none() {
            self.frame_started_at = Some(Instant::now());
        }
        Ok(())
    }

    /// Hands one frame to the handler and writes its ACK. Once shutdown has
    /// been signalled, this is the last frame the connection answers.
    async fn answer(&mut self, frame: Bytes) -> Result<(), CloseReason> {
        self.frame_started_at = None;
        increment(&self.stats.frames_received);
        let frame_bytes = frame.len();
        let acks = self.handler.handle(frame, self.peer).await;
        self.write_buf.clear();
        for ack in &acks {
            encode(ack, &mut self.write_buf);
        }
        match timeout(
            self.config.write_timeout,
            self.stream.write_all(&self.write_buf),
        )
        .await
        {
            Err(_elapsed) => return Err(CloseReason::WriteTimeout),
            Ok(Err(err)) => return Err(CloseReason::Io(err)),
            Ok(Ok(())) => {}
        }
        self.frames_answered += 1;
        self.last_activity_at = Instant::now();
        add(&self.stats.acks_sent, acks.len() as u64);
        trace!(
            connection_id = self.peer.connection_id,
            frame_bytes,
            ack_count = acks.len(),
            ack_bytes = self.write_buf.len(),
            "MLLP frame answered"
        );
        if *self.shutdown.borrow() {
            return Err(CloseReason::Shutdown);
        }
        Ok(())
    }

    /// Waits for the next bytes, the shutdown signal or the earlier of the
    /// idle and read deadlines, whichever comes first.
    async fn wait_for_bytes(&mut self) -> Wakeup {
        if *self.shutdown.borrow() {
            return Wakeup::Shutdown;
        }
        let (deadline, expiry) = self.next_deadline();
        self.make_room_for_read();
        let mut bounded_stream = (&mut self.stream).take(MAX_READ_BYTES);
        let read = bounded_stream.read_buf(&mut self.read_buf);
        tokio::select! {
            biased;
            // An error means the sender is gone: shut down as well.
            _ = self.shutdown.changed() => Wakeup::Shutdown,
            () = sleep_until(deadline) => Wakeup::Expired(expiry),
            result = read => Wakeup::Read(result),
        }
    }

    /// The deadline that applies now and the reason to close if it passes.
    fn next_deadline(&self) -> (Instant, CloseReason) {
        let idle_deadline = deadline_after(self.last_activity_at, self.config.idle_timeout);
        match self.frame_started_at {
            Some(started) => {
                let read_deadline = deadline_after(started, self.config.read_timeout);
                if read_deadline < idle_deadline {
                    (read_deadline, CloseReason::ReadTimeout)
                } else {
                    (idle_deadline, CloseReason::IdleTimeout)
                }
            }
            None => (idle_deadline, CloseReason::IdleTimeout),
        }
    }

    fn make_room_for_read(&mut self) {
        if self.read_buf.is_empty() && self.read_buf.capacity() > MAX_RETAINED_CAPACITY {
            self.read_buf = BytesMut::with_capacity(INITIAL_READ_CAPACITY);
        }
        self.read_buf.reserve(MIN_READ_SPACE);
    }

    /// The peer closed its side: a last frame that lacks only its carriage
    /// return is still answered (the peer may be half-closed and reading).
    async fn finish_after_peer_closed(&mut self) -> CloseReason {
        if let Ok(Some(frame)) = self.decoder.decode_eof(&mut self.read_buf) {
            if let Err(reason) = self.answer(frame).await {
                return reason;
            }
        }
        if self.decoder.is_mid_frame() {
            debug!(
                connection_id = self.peer.connection_id,
                unfinished_bytes = self.read_buf.len(),
                "MLLP peer closed in the middle of a frame; partial frame dropped"
            );
        }
        CloseReason::PeerClosed
    }

    fn account_garbage(&mut self) {
        let skipped = self.decoder.take_skipped_garbage();
        if skipped > 0 {
            add(&self.stats.garbage_bytes, skipped);
            warn!(
                connection_id = self.peer.connection_id,
                peer = %self.peer.addr,
                garbage_bytes = skipped,
                "{skipped} garbage bytes skipped outside any MLLP frame"
            );
        }
    }

    fn framing_failure(&self, err: FrameError) -> CloseReason {
        let connection_id = self.peer.connection_id;
        let peer = self.peer.addr;
        match err {
            FrameError::TooLarge { limit } => {
                increment(&self.stats.frames_oversize);
                warn!(
                    connection_id, %peer, limit,
                    "MLLP frame over the size limit; closing the connection without an ACK"
                );
                CloseReason::FrameTooLarge
            }
            FrameError::TooMuchGarbage { skipped, limit } => {
                increment(&self.stats.garbage_disconnects);
                warn!(
                    connection_id, %peer, garbage_bytes = skipped, limit,
                    "too many bytes outside any MLLP frame; closing the connection"
                );
                CloseReason::TooMuchGarbage
            }
        }
    }
}

/// `start + timeout`, or a date decades away when a huge timeout (meaning
/// "never") would overflow.
fn deadline_after(start: Instant, timeout: Duration) -> Instant {
    const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);
    start
        .checked_add(timeout)
        .unwrap_or_else(|| start + FAR_FUTURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_timeouts_mean_a_distant_deadline_not_an_overflow() {
        let now = Instant::now();
        assert!(deadline_after(now, Duration::MAX) > now + Duration::from_secs(3600));
        assert_eq!(
            deadline_after(now, Duration::from_secs(1)),
            now + Duration::from_secs(1)
        );
    }
}
