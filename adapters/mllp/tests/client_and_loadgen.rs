//! The client and the load generator against the test listener.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ack_for, message, AckHandler, TestListener};
use hemobridge_mllp::loadgen::{self, LoadConfig, MessageFactory};
use hemobridge_mllp::{Client, ClientError, ListenerConfig, LoadError};
use tokio::net::TcpListener;

#[tokio::test]
async fn client_sends_messages_one_after_another() {
    let listener = TestListener::start(ListenerConfig::default()).await;
    let mut client = Client::connect(listener.addr, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(client.peer_addr(), listener.addr);
    for id in ["A1", "E2", "A3"] {
        assert_eq!(client.send(&message(id)).await.unwrap(), ack_for(id));
    }
    listener.shutdown().await;
}

#[tokio::test]
async fn client_times_out_and_refuses_to_reuse_the_connection() {
    let handler = AckHandler::with_delay(Duration::from_millis(500));
    let listener = TestListener::start_with(ListenerConfig::default(), handler).await;
    let mut client = Client::connect(listener.addr, Duration::from_secs(5))
        .await
        .unwrap();
    client.set_timeout(Duration::from_millis(100));
    assert!(matches!(
        client.send(&message("SLOW")).await,
        Err(ClientError::Timeout(_))
    ));
    assert!(matches!(
        client.send(&message("NEXT")).await,
        Err(ClientError::Unusable)
    ));
    drop(client);
    listener.shutdown().await;
}

#[tokio::test]
async fn client_reports_a_close_without_reply() {
    let raw = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = raw.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = raw.accept().await.unwrap();
        // Wait for the message, then hang up without answering.
        stream.readable().await.unwrap();
        drop(stream);
    });
    let mut client = Client::connect(addr, Duration::from_secs(5)).await.unwrap();
    let outcome = client.send(&message("GONE")).await;
    assert!(
        matches!(outcome, Err(ClientError::Closed) | Err(ClientError::Io(_))),
        "{outcome:?}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn client_connect_fails_when_nothing_listens() {
    let addr = unused_address().await;
    assert!(matches!(
        Client::connect(addr, Duration::from_secs(5)).await,
        Err(ClientError::Connect(_))
    ));
}

/// Message `i` has control id `M{i}`, or `E{i}` (answered AE) for every
/// tenth; the factory claims a wrong control id for message 7.
fn factory() -> MessageFactory {
    Arc::new(|index: u64| {
        let id = if index % 10 == 0 {
            format!("E{index}")
        } else {
            format!("M{index}")
        };
        let expected = if index == 7 {
            "WRONG".to_owned()
        } else {
            id.clone()
        };
        (message(&id), expected)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loadgen_counts_acks_codes_and_wrong_control_ids() {
    let listener = TestListener::start(ListenerConfig::default()).await;
    let config = LoadConfig {
        addr: listener.addr.to_string(),
        connections: 8,
        messages: 200,
        rate: None,
        timeout: Duration::from_secs(10),
    };
    let report = loadgen::run(config, factory()).await.unwrap();
    assert_eq!(report.sent, 200);
    assert_eq!(report.acked, 200);
    assert_eq!(report.by_code.get("AA"), Some(&180));
    assert_eq!(report.by_code.get("AE"), Some(&20));
    assert_eq!(report.mismatched_control_ids, 1);
    assert_eq!(report.errors, 0);
    assert!(report.first_error.is_none());
    assert!(report.msgs_per_sec > 0.0);
    assert!(report.p50 <= report.p90 && report.p90 <= report.p99 && report.p99 <= report.max);
    assert_eq!(listener.stats().frames_received, 200);
    assert_eq!(listener.stats().connections_total, 8);
    let summary = report.to_string();
    assert!(summary.contains("AA 180, AE 20"), "{summary}");
    listener.shutdown().await;
}

#[tokio::test]
async fn loadgen_honours_a_rate() {
    let listener = TestListener::start(ListenerConfig::default()).await;
    let config = LoadConfig {
        addr: listener.addr.to_string(),
        connections: 2,
        messages: 20,
        rate: Some(200),
        timeout: Duration::from_secs(10),
    };
    let report = loadgen::run(config, factory()).await.unwrap();
    assert_eq!(report.acked, 20);
    // Message 19 is not due before 19 / 200 s.
    assert!(report.elapsed >= Duration::from_millis(95), "{report}");
    listener.shutdown().await;
}

#[tokio::test]
async fn loadgen_counts_errors_and_reconnects() {
    // Every ACK takes longer than the load generator waits.
    let handler = AckHandler::with_delay(Duration::from_millis(300));
    let listener = TestListener::start_with(ListenerConfig::default(), handler).await;
    let config = LoadConfig {
        addr: listener.addr.to_string(),
        connections: 2,
        messages: 4,
        rate: None,
        timeout: Duration::from_millis(50),
    };
    let report = loadgen::run(config, factory()).await.unwrap();
    assert_eq!(report.sent, 4);
    assert_eq!(report.acked, 0);
    assert_eq!(report.errors, 4);
    assert!(report.first_error.unwrap().contains("no reply"));
    // Each timed-out connection was replaced by a new one.
    assert!(listener.stats().connections_total >= 4);
    listener.shutdown().await;
}

#[tokio::test]
async fn loadgen_fails_when_it_cannot_connect() {
    let config = LoadConfig {
        addr: unused_address().await.to_string(),
        connections: 2,
        messages: 10,
        rate: None,
        timeout: Duration::from_secs(5),
    };
    assert!(matches!(
        loadgen::run(config, factory()).await,
        Err(LoadError::Connect { .. })
    ));
}

#[tokio::test]
async fn loadgen_rejects_zero_connections() {
    let config = LoadConfig {
        addr: "127.0.0.1:1".to_owned(),
        connections: 0,
        messages: 10,
        rate: None,
        timeout: Duration::from_secs(1),
    };
    assert!(matches!(
        loadgen::run(config, factory()).await,
        Err(LoadError::InvalidConfig(_))
    ));
}

/// An address on which nothing listens (bound, then released).
async fn unused_address() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}
