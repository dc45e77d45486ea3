//! Test fixtures: a listener on 127.0.0.1:0 with an ACK-echoing handler, a
//! raw connection for sending arbitrary bytes, and HL7-looking messages.

#![allow(dead_code)] // Each test file uses a different subset.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use hemobridge_mllp::codec::{encode, FrameDecoder};
use hemobridge_mllp::{serve, Handler, ListenerConfig, ListenerStats, ListenerStatsSnapshot, Peer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

/// Upper bound for anything a test waits on; only reached on failure.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// An HL7 message whose MSH-10 is `control_id`.
pub fn message(control_id: &str) -> Vec<u8> {
    format!(
        "MSH|^~\\&|LIS|H001|HEMOBRIDGE|HB|20250101120000||OML^O21^OML_O21|{control_id}|P|2.5.1\rPID|1||P0001\r"
    )
    .into_bytes()
}

/// MSH-10 of `frame`, or an empty string.
pub fn control_id(frame: &[u8]) -> String {
    let first_segment = frame
        .split(|byte| *byte == b'\r')
        .next()
        .unwrap_or_default();
    let field = first_segment
        .split(|byte| *byte == b'|')
        .nth(9)
        .unwrap_or_default();
    String::from_utf8_lossy(field).into_owned()
}

/// Answers every frame with an ACK whose MSA-2 echoes MSH-10. The code is
/// AE when the control id starts with `E`, AA otherwise. Optionally waits
/// `delay` before answering.
#[derive(Default)]
pub struct AckHandler {
    pub frames_handled: AtomicU64,
    pub delay: Option<Duration>,
    /// Notified when a frame reaches the handler.
    pub frame_arrived: Notify,
}

impl AckHandler {
    pub fn with_delay(delay: Duration) -> Self {
        Self {
            delay: Some(delay),
            ..Self::default()
        }
    }

    pub fn handled(&self) -> u64 {
        self.frames_handled.load(Ordering::SeqCst)
    }
}

impl Handler for AckHandler {
    async fn handle(&self, frame: Bytes, _peer: &Peer) -> Vec<Vec<u8>> {
        self.frame_arrived.notify_one();
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        self.frames_handled.fetch_add(1, Ordering::SeqCst);
        vec![ack_for(&control_id(&frame))]
    }
}

/// The ACK [`AckHandler`] sends for `control_id`.
pub fn ack_for(control_id: &str) -> Vec<u8> {
    let code = if control_id.starts_with('E') {
        "AE"
    } else {
        "AA"
    };
    format!(
        "MSH|^~\\&|HEMOBRIDGE|HB|LIS|H001|20250101120001||ACK^O21^ACK|ACK{control_id}|P|2.5.1\rMSA|{code}|{control_id}\r"
    )
    .into_bytes()
}

/// A running listener and the means to stop it.
pub struct TestListener {
    pub addr: SocketAddr,
    pub stats: Arc<ListenerStats>,
    pub handler: Arc<AckHandler>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl TestListener {
    pub async fn start(config: ListenerConfig) -> Self {
        Self::start_with(config, AckHandler::default()).await
    }

    pub async fn start_with(config: ListenerConfig, handler: AckHandler) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(ListenerStats::new());
        let handler = Arc::new(handler);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            listener,
            config,
            Arc::clone(&handler),
            Arc::clone(&stats),
            async move {
                let _ = stopped.await;
            },
        ));
        Self {
            addr,
            stats,
            handler,
            stop: Some(stop),
            task,
        }
    }

    pub fn stats(&self) -> ListenerStatsSnapshot {
        self.stats.snapshot()
    }

    /// Signals shutdown without waiting for `serve` to return.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Signals shutdown and waits for `serve` to return.
    pub async fn shutdown(mut self) {
        self.begin_shutdown();
        tokio::time::timeout(PATIENCE, &mut self.task)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task does not panic")
            .expect("serve returns Ok");
    }

    /// Waits until `condition` holds for the stats, failing after [`PATIENCE`].
    pub async fn wait_for_stats(&self, condition: impl Fn(&ListenerStatsSnapshot) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let stats = self.stats();
            if condition(&stats) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "condition on stats never held: {stats:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A TCP connection driven byte by byte, for sending what a well-behaved
/// client would not.
pub struct RawConnection {
    pub stream: TcpStream,
    read_buf: BytesMut,
    decoder: FrameDecoder,
}

impl RawConnection {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream,
            read_buf: BytesMut::new(),
            decoder: FrameDecoder::default(),
        }
    }

    pub async fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    pub async fn write_framed(&mut self, msg: &[u8]) {
        self.write(&framed(msg)).await;
    }

    /// Reads the next framed reply; panics if the connection closes first.
    pub async fn read_frame(&mut self) -> Bytes {
        tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(frame) = self.decoder.decode(&mut self.read_buf).unwrap() {
                    return frame;
                }
                let read = self.stream.read_buf(&mut self.read_buf).await.unwrap();
                assert_ne!(read, 0, "connection closed before a reply");
            }
        })
        .await
        .expect("a reply in time")
    }

    /// Waits for the listener to close the connection, asserting that no
    /// byte arrives before the close.
    pub async fn expect_closed(&mut self) {
        let mut scratch = [0u8; 1024];
        let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut scratch))
            .await
            .expect("connection closed in time");
        match read {
            Ok(0) => {}
            Ok(n) => panic!("expected close, got {n} bytes"),
            // A reset also means closed (the listener had unread bytes).
            Err(err) => assert!(
                matches!(
                    err.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ),
                "unexpected error {err}"
            ),
        }
    }
}

pub fn framed(msg: &[u8]) -> BytesMut {
    let mut out = BytesMut::new();
    encode(msg, &mut out);
    out
}
