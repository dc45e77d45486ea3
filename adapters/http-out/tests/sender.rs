//! The sender against a real HTTP server: headers sent, answers classified,
//! transport failures turned into retries.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hemobridge_http_out::{Outcome, Request, Sender, SenderConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Each request's headers and body.
type Requests = Vec<(HeaderMap, Vec<u8>)>;

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Requests>>);

async fn receiver() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/ok",
            post(
                |State(s): State<Seen>, h: HeaderMap, b: axum::body::Bytes| async move {
                    s.0.lock().unwrap().push((h, b.to_vec()));
                    (StatusCode::CREATED, "stored")
                },
            ),
        )
        .route(
            "/dup",
            post(|| async { (StatusCode::CONFLICT, "already have it") }),
        )
        .route(
            "/bad",
            post(|| async { (StatusCode::BAD_REQUEST, "field hospital: required") }),
        )
        .route(
            "/busy",
            post(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("Retry-After", "7")],
                    "slow down",
                )
            }),
        )
        .route(
            "/down",
            post(|| async { (StatusCode::SERVICE_UNAVAILABLE, "maintenance") }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn request<'a>(url: &'a str) -> Request<'a> {
    Request {
        url,
        content_type: "application/json",
        idempotency_key: "daily:H001:2026-11-24:v1",
        body: br#"{"a":1}"#,
    }
}

#[tokio::test]
async fn headers_and_classification() {
    let (base, seen) = receiver().await;
    let sender = Sender::new(SenderConfig {
        bearer: Some("route-secret".into()),
        timeout: Duration::from_millis(500),
        ..SenderConfig::default()
    })
    .unwrap();

    let ok_url = format!("{base}/ok");
    let attempt = sender.send(request(&ok_url)).await;
    assert_eq!(attempt.outcome, Outcome::Delivered);
    assert_eq!(attempt.status, Some(201));
    assert_eq!(attempt.excerpt, "stored");
    {
        let seen = seen.0.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let (headers, body) = &seen[0];
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["idempotency-key"], "daily:H001:2026-11-24:v1");
        assert_eq!(headers["authorization"], "Bearer route-secret");
        assert_eq!(body, br#"{"a":1}"#);
    }

    let dup = format!("{base}/dup");
    assert_eq!(sender.send(request(&dup)).await.outcome, Outcome::Delivered);

    let bad = format!("{base}/bad");
    let attempt = sender.send(request(&bad)).await;
    assert_eq!(attempt.outcome, Outcome::Rejected);
    assert_eq!(attempt.describe(), "HTTP 400: field hospital: required");

    let busy = format!("{base}/busy");
    assert_eq!(
        sender.send(request(&busy)).await.outcome,
        Outcome::Retry {
            retry_after: Some(Duration::from_secs(7))
        }
    );

    let down = format!("{base}/down");
    let attempt = sender.send(request(&down)).await;
    assert_eq!(attempt.outcome, Outcome::Retry { retry_after: None });
    assert_eq!(attempt.status, Some(503));

    let slow = format!("{base}/slow");
    let attempt = sender.send(request(&slow)).await;
    assert_eq!(attempt.outcome, Outcome::Retry { retry_after: None });
    assert_eq!(attempt.status, None);
    assert!(
        attempt.describe().starts_with("timeout"),
        "{}",
        attempt.describe()
    );
}

#[tokio::test]
async fn refused_connection_is_a_retry() {
    // Bind and drop: nobody listens on this port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sender = Sender::new(SenderConfig::default()).unwrap();
    let url = format!("http://127.0.0.1:{port}/x");
    let attempt = sender.send(request(&url)).await;
    assert_eq!(attempt.outcome, Outcome::Retry { retry_after: None });
    assert!(attempt.status.is_none());
    assert!(
        attempt.describe().starts_with("connection failed"),
        "{}",
        attempt.describe()
    );
}
