//! A minimal MLLP client: one connection, one message at a time, each
//! answered by one framed reply (HL7 original mode). In enhanced mode, where
//! a commit ACK may be followed by an application ACK, the caller reads the
//! second one with [`Client::receive`].
//!
//! Used by the `send` command, the load generator and the tests. After any
//! error the stream position is unknown (a late reply could be taken for the
//! answer to the next message), so the client refuses further sends and the
//! caller reconnects.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::time::error::Elapsed;
use tokio::time::timeout;

use crate::codec::{encode, FrameDecoder, FrameError, DEFAULT_MAX_FRAME_BYTES};

/// Why a connection or an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection could not be opened.
    #[error("cannot connect: {0}")]
    Connect(#[source] io::Error),
    /// The connection was not opened within the timeout.
    #[error("connection not established within {0:?}")]
    ConnectTimeout(Duration),
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// No complete reply arrived within the timeout.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The peer closed the connection before replying.
    #[error("connection closed by the peer before a reply")]
    Closed,
    /// The reply could not be decoded.
    #[error("malformed reply: {0}")]
    Frame(#[from] FrameError),
    /// An earlier error left the connection in an unknown state.
    #[error("connection unusable after an earlier error; reconnect")]
    Unusable,
}

/// One MLLP connection to a listener.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    peer_addr: SocketAddr,
    timeout: Duration,
    decoder: FrameDecoder,
    read_buf: BytesMut,
    write_buf: BytesMut,
    usable: bool,
}

impl Client {
    /// Connects to `addr` within `timeout_after`, which also becomes the timeout of
    /// each [`send`](Self::send).
    pub async fn connect(
        addr: impl ToSocketAddrs,
        timeout_after: Duration,
    ) -> Result<Self, ClientError> {
        let stream = match timeout(timeout_after, TcpStream::connect(addr)).await {
            Err(_elapsed) => return Err(ClientError::ConnectTimeout(timeout_after)),
            Ok(Err(err)) => return Err(ClientError::Connect(err)),
            Ok(Ok(stream)) => stream,
        };
        stream.set_nodelay(true).map_err(ClientError::Connect)?;
        let peer_addr = stream.peer_addr().map_err(ClientError::Connect)?;
        Ok(Self {
            stream,
            peer_addr,
            timeout: timeout_after,
            decoder: FrameDecoder::new(DEFAULT_MAX_FRAME_BYTES),
            read_buf: BytesMut::with_capacity(4 * 1024),
            write_buf: BytesMut::new(),
            usable: true,
        })
    }

    /// Changes the timeout of later sends.
    pub fn set_timeout(&mut self, timeout_after: Duration) {
        self.timeout = timeout_after;
    }

    /// The address of the listener this client is connected to.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer_addr
    }

    /// Frames and writes `msg`, then reads one framed reply and returns its
    /// payload. Writing and reading together must finish within the timeout.
    pub async fn send(&mut self, msg: &[u8]) -> Result<Bytes, ClientError> {
        self.ensure_usable()?;
        let outcome = timeout(self.timeout, self.write_then_read(msg)).await;
        self.settle(outcome)
    }

    /// Reads one more framed reply without sending anything: in enhanced
    /// mode, the application ACK that follows the commit ACK returned by
    /// [`send`](Self::send). Must arrive within the timeout.
    pub async fn receive(&mut self) -> Result<Bytes, ClientError> {
        self.ensure_usable()?;
        let outcome = timeout(self.timeout, self.read_reply()).await;
        self.settle(outcome)
    }

    fn ensure_usable(&self) -> Result<(), ClientError> {
        if self.usable {
            Ok(())
        } else {
            Err(ClientError::Unusable)
        }
    }

    /// Turns a timed exchange into its result; any failure makes the client
    /// unusable.
    fn settle(
        &mut self,
        outcome: Result<Result<Bytes, ClientError>, Elapsed>,
    ) -> Result<Bytes, ClientError> {
        let outcome = outcome.unwrap_or(Err(ClientError::Timeout(self.timeout)));
        self.usable = outcome.is_ok();
        outcome
    }

    async fn write_then_read(&mut self, msg: &[u8]) -> Result<Bytes, ClientError> {
        self.write_buf.clear();
        encode(msg, &mut self.write_buf);
        self.stream.write_all(&self.write_buf).await?;
        self.read_reply().await
    }

    async fn read_reply(&mut self) -> Result<Bytes, ClientError> {
        loop {
            if let Some(reply) = self.decoder.decode(&mut self.read_buf)? {
                // Bytes skipped around replies are of no interest to a sender.
                self.decoder.take_skipped_garbage();
                return Ok(reply);
            }
            self.read_buf.reserve(4 * 1024);
            if self.stream.read_buf(&mut self.read_buf).await? == 0 {
                return match self.decoder.decode_eof(&mut self.read_buf)? {
                    Some(reply) => Ok(reply),
                    None => Err(ClientError::Closed),
                };
            }
        }
    }
}
