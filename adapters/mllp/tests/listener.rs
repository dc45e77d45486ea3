//! The listener against real TCP connections on 127.0.0.1.

mod common;

use std::time::Duration;

use std::sync::Arc;

use bytes::Bytes;
use common::{ack_for, control_id, message, AckHandler, RawConnection, TestListener, PATIENCE};
use hemobridge_mllp::{serve, Client, Handler, ListenerConfig, ListenerStats, Peer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

fn short_timeouts() -> ListenerConfig {
    ListenerConfig {
        idle_timeout: Duration::from_millis(200),
        read_timeout: Duration::from_millis(200),
        write_timeout: Duration::from_secs(5),
        ..ListenerConfig::default()
    }
}

#[tokio::test]
async fn answers_a_frame_sent_one_byte_at_a_time() {
    let listener = TestListener::start(ListenerConfig::default()).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    for byte in common::framed(&message("SPLIT1")).iter() {
        connection.write(&[*byte]).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(connection.read_frame().await, ack_for("SPLIT1"));
    assert_eq!(listener.stats().frames_received, 1);
    listener.shutdown().await;
}

#[tokio::test]
async fn answers_coalesced_frames_in_order() {
    let listener = TestListener::start(ListenerConfig::default()).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    let mut both = common::framed(&message("FIRST"));
    both.extend_from_slice(&common::framed(&message("SECOND")));
    connection.write(&both).await;
    assert_eq!(connection.read_frame().await, ack_for("FIRST"));
    assert_eq!(connection.read_frame().await, ack_for("SECOND"));
    listener.shutdown().await;
}

#[tokio::test]
async fn skips_and_counts_garbage_before_a_frame() {
    let listener = TestListener::start(ListenerConfig::default()).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    connection.write(b"garbage\r\n").await;
    connection.write_framed(&message("AFTER")).await;
    assert_eq!(connection.read_frame().await, ack_for("AFTER"));
    assert_eq!(listener.stats().garbage_bytes, 9);
    listener.shutdown().await;
}

#[tokio::test]
async fn closes_a_connection_that_sends_only_garbage() {
    let config = ListenerConfig {
        max_garbage_bytes: 100,
        ..ListenerConfig::default()
    };
    let listener = TestListener::start(config).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    connection.write(&[b'x'; 200]).await;
    connection.expect_closed().await;
    listener
        .wait_for_stats(|stats| stats.garbage_disconnects == 1)
        .await;
    listener.shutdown().await;
}

#[tokio::test]
async fn closes_the_connection_on_a_complete_oversize_frame() {
    let config = ListenerConfig {
        max_frame_bytes: 1024,
        ..ListenerConfig::default()
    };
    let listener = TestListener::start(config).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    let mut oversize = message("BIG");
    oversize.resize(2048, b'x');
    connection.write_framed(&oversize).await;
    connection.expect_closed().await;
    listener
        .wait_for_stats(|stats| stats.frames_oversize == 1 && stats.connections_open == 0)
        .await;
    assert_eq!(listener.stats().frames_received, 0);
    assert_eq!(listener.handler.handled(), 0);

    // Other connections are unaffected.
    let mut client = Client::connect(listener.addr, CLIENT_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(client.send(&message("OK1")).await.unwrap(), ack_for("OK1"));
    listener.shutdown().await;
}

#[tokio::test]
async fn closes_the_connection_on_an_endless_frame_before_it_ends() {
    let config = ListenerConfig {
        max_frame_bytes: 64 * 1024,
        ..ListenerConfig::default()
    };
    let listener = TestListener::start(config).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    connection.write(b"\x0bMSH|").await;
    // Keep writing payload without an end marker until the listener hangs up.
    let chunk = [b'x'; 8 * 1024];
    let mut written = 0usize;
    let hung_up = tokio::time::timeout(PATIENCE, async {
        loop {
            if connection.stream.write_all(&chunk).await.is_err() {
                return;
            }
            written += chunk.len();
            if listener.stats().frames_oversize == 1 {
                return;
            }
        }
    })
    .await;
    assert!(hung_up.is_ok(), "listener never rejected the frame");
    listener
        .wait_for_stats(|stats| stats.frames_oversize == 1 && stats.connections_open == 0)
        .await;
    assert_eq!(listener.handler.handled(), 0);
    listener.shutdown().await;
}

#[tokio::test]
async fn closes_an_idle_connection() {
    let listener = TestListener::start(short_timeouts()).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    connection.expect_closed().await;
    listener
        .wait_for_stats(|stats| stats.idle_timeouts == 1)
        .await;
    listener.shutdown().await;
}

#[tokio::test]
async fn idle_timer_restarts_after_each_message() {
    let config = ListenerConfig {
        idle_timeout: Duration::from_secs(1),
        ..ListenerConfig::default()
    };
    let listener = TestListener::start(config).await;
    let mut client = Client::connect(listener.addr, CLIENT_TIMEOUT)
        .await
        .unwrap();
    // Four pauses of 300 ms outlast the idle timeout only if it never restarts.
    for round in 0..4 {
        let id = format!("KEEP{round}");
        assert_eq!(client.send(&message(&id)).await.unwrap(), ack_for(&id));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(listener.stats().idle_timeouts, 0);
    listener.shutdown().await;
}

#[tokio::test]
async fn closes_a_slow_loris_connection_after_the_read_timeout() {
    let config = ListenerConfig {
        idle_timeout: Duration::from_secs(60),
        read_timeout: Duration::from_millis(200),
        ..ListenerConfig::default()
    };
    let listener = TestListener::start(config).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    connection.write(b"\x0bMSH|^~\\&|").await;
    // Trickle one byte every 20 ms: never idle, never finished.
    let trickle = tokio::time::timeout(PATIENCE, async {
        while connection.stream.write_all(b"x").await.is_ok() {
            if listener.stats().read_timeouts == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(trickle.is_ok(), "slow-loris connection was never cut off");
    listener
        .wait_for_stats(|stats| stats.read_timeouts == 1 && stats.connections_open == 0)
        .await;
    assert_eq!(listener.stats().idle_timeouts, 0);
    listener.shutdown().await;
}

#[tokio::test]
async fn refuses_connections_beyond_the_limit_and_keeps_serving_the_others() {
    let config = ListenerConfig {
        max_connections: 2,
        ..ListenerConfig::default()
    };
    let listener = TestListener::start(config).await;
    let mut first = Client::connect(listener.addr, CLIENT_TIMEOUT)
        .await
        .unwrap();
    let mut second = Client::connect(listener.addr, CLIENT_TIMEOUT)
        .await
        .unwrap();
    listener
        .wait_for_stats(|stats| stats.connections_open == 2)
        .await;

    let mut extra = RawConnection::connect(listener.addr).await;
    extra.expect_closed().await;
    listener
        .wait_for_stats(|stats| stats.connections_refused == 1)
        .await;

    assert_eq!(first.send(&message("L1")).await.unwrap(), ack_for("L1"));
    assert_eq!(second.send(&message("L2")).await.unwrap(), ack_for("L2"));

    // A slot freed by a closed connection can be used again.
    drop(first);
    listener
        .wait_for_stats(|stats| stats.connections_open == 1)
        .await;
    let mut third = Client::connect(listener.addr, CLIENT_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(third.send(&message("L3")).await.unwrap(), ack_for("L3"));
    assert_eq!(listener.stats().connections_refused, 1);
    listener.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_200_concurrent_connections() {
    const CONNECTIONS: usize = 200;
    const MESSAGES_PER_CONNECTION: usize = 5;
    let listener = TestListener::start(ListenerConfig::default()).await;
    let addr = listener.addr;
    let mut clients = tokio::task::JoinSet::new();
    for connection in 0..CONNECTIONS {
        clients.spawn(async move {
            let mut client = Client::connect(addr, CLIENT_TIMEOUT).await.unwrap();
            for index in 0..MESSAGES_PER_CONNECTION {
                let id = format!("C{connection}M{index}");
                let ack = client.send(&message(&id)).await.unwrap();
                assert_eq!(ack, ack_for(&id));
            }
        });
    }
    while let Some(finished) = clients.join_next().await {
        finished.unwrap();
    }
    let stats = listener.stats();
    assert_eq!(stats.connections_total, CONNECTIONS as u64);
    assert_eq!(
        stats.frames_received,
        (CONNECTIONS * MESSAGES_PER_CONNECTION) as u64
    );
    assert_eq!(
        stats.acks_sent,
        (CONNECTIONS * MESSAGES_PER_CONNECTION) as u64
    );
    assert_eq!(stats.connections_refused, 0);
    listener.shutdown().await;
}

#[tokio::test]
async fn shutdown_delivers_the_ack_of_the_frame_in_flight() {
    let handler = AckHandler::with_delay(Duration::from_millis(300));
    let mut listener = TestListener::start_with(ListenerConfig::default(), handler).await;
    let mut busy = RawConnection::connect(listener.addr).await;
    let mut idle = RawConnection::connect(listener.addr).await;
    listener
        .wait_for_stats(|stats| stats.connections_open == 2)
        .await;

    busy.write_framed(&message("INFLIGHT")).await;
    tokio::time::timeout(PATIENCE, listener.handler.frame_arrived.notified())
        .await
        .expect("frame reaches the handler");
    listener.begin_shutdown();

    assert_eq!(busy.read_frame().await, ack_for("INFLIGHT"));
    busy.expect_closed().await;
    idle.expect_closed().await;
    let stats = listener.stats.clone();
    listener.shutdown().await;
    let stats = stats.snapshot();
    assert_eq!(stats.acks_sent, 1);
    assert_eq!(stats.connections_open, 0);
}

#[tokio::test]
async fn stops_accepting_after_shutdown() {
    let listener = TestListener::start(ListenerConfig::default()).await;
    let addr = listener.addr;
    listener.shutdown().await;
    assert!(Client::connect(addr, Duration::from_secs(2)).await.is_err());
}

#[tokio::test]
async fn answers_a_last_frame_missing_its_carriage_return_after_half_close() {
    let listener = TestListener::start(ListenerConfig::default()).await;
    let mut connection = RawConnection::connect(listener.addr).await;
    let mut frame = common::framed(&message("HALF"));
    frame.truncate(frame.len() - 1);
    connection.write(&frame).await;
    connection.stream.shutdown().await.unwrap();
    assert_eq!(connection.read_frame().await, ack_for("HALF"));
    listener.shutdown().await;
}

/// Answers like an enhanced-mode receiver: a commit ACK, then an
/// application ACK.
struct CommitThenApplicationAck;

impl Handler for CommitThenApplicationAck {
    async fn handle(&self, frame: Bytes, _peer: &Peer) -> Vec<Vec<u8>> {
        let id = control_id(&frame);
        vec![
            format!("MSH|^~\\&|HB\rMSA|CA|{id}\r").into_bytes(),
            format!("MSH|^~\\&|HB\rMSA|AA|{id}\r").into_bytes(),
        ]
    }
}

/// Answers nothing at all.
struct NoAck;

impl Handler for NoAck {
    async fn handle(&self, _frame: Bytes, _peer: &Peer) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

/// Serves `handler` with default settings until the returned sender fires
/// or is dropped.
async fn serve_handler<H: Handler>(
    handler: H,
) -> (
    std::net::SocketAddr,
    Arc<ListenerStats>,
    tokio::sync::oneshot::Sender<()>,
) {
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let stats = Arc::new(ListenerStats::new());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(
        tcp,
        ListenerConfig::default(),
        Arc::new(handler),
        Arc::clone(&stats),
        async move {
            let _ = stopped.await;
        },
    ));
    (addr, stats, stop)
}

#[tokio::test]
async fn sends_every_ack_of_a_reply_as_its_own_frame_in_order() {
    let (addr, stats, _stop) = serve_handler(CommitThenApplicationAck).await;
    let mut client = Client::connect(addr, CLIENT_TIMEOUT).await.unwrap();
    for id in ["ENH1", "ENH2"] {
        let commit = client.send(&message(id)).await.unwrap();
        assert_eq!(commit, format!("MSH|^~\\&|HB\rMSA|CA|{id}\r").as_bytes());
        let application = client.receive().await.unwrap();
        assert_eq!(
            application,
            format!("MSH|^~\\&|HB\rMSA|AA|{id}\r").as_bytes()
        );
    }
    let snapshot = stats.snapshot();
    assert_eq!(snapshot.frames_received, 2);
    assert_eq!(snapshot.acks_sent, 4);
}

#[tokio::test]
async fn an_empty_reply_leaves_the_frame_unacknowledged() {
    let (addr, stats, _stop) = serve_handler(NoAck).await;
    let mut client = Client::connect(addr, Duration::from_millis(200))
        .await
        .unwrap();
    assert!(matches!(
        client.send(&message("SILENT")).await,
        Err(hemobridge_mllp::ClientError::Timeout(_))
    ));
    let snapshot = stats.snapshot();
    assert_eq!(snapshot.frames_received, 1);
    assert_eq!(snapshot.acks_sent, 0);
}
