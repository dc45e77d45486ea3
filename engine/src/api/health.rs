//! Liveness and readiness.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::time::Duration;

/// How long `/readyz` waits for the database: a probe must answer within
/// the orchestrator's timeout (often 1–5 s) even when the database hangs.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers `SELECT 1` in time (the embedded queue
/// lives in it). 503 names what is down in `down`.
///
/// RabbitMQ (`HEMOBRIDGE_AMQP_URL`) is not checked yet: the broker adapter
/// has no health check to call; when it does, it joins `down` as `queue`.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database_up = matches!(
        tokio::time::timeout(DATABASE_TIMEOUT, state.store.ping()).await,
        Ok(Ok(()))
    );
    if database_up {
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "database": "up", "queue": "up", "down": []})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "not-ready",
                "database": "down",
                "queue": "down",
                "down": ["database", "queue"],
            })),
        )
    }
}
