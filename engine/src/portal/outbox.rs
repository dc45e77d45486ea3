//! `/portal/admin/outbox`: the outbound queue for admins, with the manual
//! re-send of dead letters that the CLI (`outbox retry`) and the API
//! (`POST /api/v1/outbox/{id}/retry`) also offer (`docs/delivery.md`).
//!
//! Only admins: an item's body is a regulator message that may carry a
//! hospital's figures, and re-sending is an operator's decision.

use super::csrf;
use super::pages::{self, frame, render};
use super::session::PortalUser;
use crate::api::AppState;
use crate::store::admin::Role;
use crate::store::outbox::OutboxQuery;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};

/// Items shown on one page.
const LIMIT: i64 = 100;

#[derive(Deserialize, Default)]
pub struct Filter {
    /// `dead` (default), `pending`, `delivered` or `all`.
    status: Option<String>,
    route: Option<String>,
    /// How many items the last re-send moved (shown as a notice).
    moved: Option<usize>,
}

#[derive(Serialize)]
struct Row {
    id: i64,
    route: String,
    kind: String,
    hospital: String,
    status: String,
    attempts: i64,
    last_error: String,
    created_at: String,
}

fn status_zh(status: &str) -> &'static str {
    match status {
        "pending" => "待发送 (pending)",
        "delivered" => "已送达 (delivered)",
        "dead" => "失败待处理 (dead letter)",
        _ => "未知",
    }
}

pub async fn page(
    State(state): State<AppState>,
    user: PortalUser,
    Query(filter): Query<Filter>,
) -> Response {
    if user.role != Role::Admin {
        return pages::forbidden();
    }
    let status = filter.status.clone().unwrap_or_else(|| "dead".into());
    let query = OutboxQuery {
        status: (status != "all").then(|| status.clone()),
        route: filter.route.clone().filter(|r| !r.is_empty()),
        before_id: None,
        limit: LIMIT,
    };
    let items = match state.store.outbox_items(&query).await {
        Ok(items) => items,
        Err(e) => {
            tracing::warn!(error = %e, "portal outbox could not be read");
            return pages::unavailable();
        }
    };
    let zone = state.ingest.normalizer.hl7.zone;
    let local = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| {
                t.with_timezone(&zone)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default()
    };
    let rows: Vec<Row> = items
        .into_iter()
        .map(|item| Row {
            id: item.id,
            route: item.route,
            kind: item.kind,
            hospital: item.hospital.unwrap_or_default(),
            status: status_zh(&item.status).into(),
            attempts: item.attempts,
            last_error: item.last_error.unwrap_or_default(),
            created_at: local(item.created_at),
        })
        .collect();
    let frame = frame(&state, &user, "outbox").await;
    render(
        "outbox.html",
        context! {
            frame => frame,
            rows => rows,
            status => status,
            route => filter.route.unwrap_or_default(),
            moved => filter.moved,
        },
    )
}

/// `POST /portal/admin/outbox/retry`: the CSRF token and either the ids
/// ticked (several `id` fields of one name, which is why the body is read
/// as pairs rather than into a struct) or `all` for every dead item.
pub async fn retry(
    State(state): State<AppState>,
    user: PortalUser,
    body: axum::body::Bytes,
) -> Response {
    if user.role != Role::Admin {
        return pages::forbidden();
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Err(refused) = csrf::check(&user, field(csrf::FIELD)) {
        return refused.into_response();
    }
    let ticked: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let ids = match field("all") {
        Some(_) => None,
        None => Some(ticked.as_slice()),
    };
    if ids.is_some_and(|ids| ids.is_empty()) {
        return Redirect::to("/portal/admin/outbox?moved=0").into_response();
    }
    match state.store.retry_dead(ids).await {
        Ok(moved) => {
            tracing::info!(user = %user.username, items = moved.len(), "outbox re-send from the portal");
            Redirect::to(&format!("/portal/admin/outbox?moved={}", moved.len())).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "portal outbox re-send failed");
            pages::unavailable()
        }
    }
}
