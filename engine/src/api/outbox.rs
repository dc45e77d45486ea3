//! `GET /api/v1/outbox`, `GET /api/v1/outbox/{id}`,
//! `POST /api/v1/outbox/{id}/retry`: the outbound queue for admins
//! (`docs/delivery.md`): what waits, what was delivered, what is dead and
//! why, and putting a dead item back in the queue.

use super::error::ApiError;
use super::AppState;
use crate::store::admin::Principal;
use crate::store::outbox::OutboxQuery;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub const STATUSES: [&str; 3] = ["pending", "delivered", "dead"];

#[derive(Debug, Deserialize)]
pub struct ListParams {
    status: Option<String>,
    route: Option<String>,
    limit: Option<i64>,
    cursor: Option<i64>,
}

fn admin_only(principal: &Principal) -> Result<(), ApiError> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("the outbox is for admin tokens"))
    }
}

/// Checks `--status` / `?status=` against the three statuses.
pub fn parse_status(status: Option<String>) -> Result<Option<String>, String> {
    match status.filter(|s| !s.is_empty()) {
        Some(s) if !STATUSES.contains(&s.as_str()) => {
            Err(format!("{s:?} is not one of {}", STATUSES.join(", ")))
        }
        other => Ok(other),
    }
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, ApiError> {
    admin_only(&principal)?;
    let status = parse_status(p.status).map_err(|e| ApiError::bad_request("status", e))?;
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let items = state
        .store
        .outbox_items(&OutboxQuery {
            status,
            route: p.route.filter(|r| !r.is_empty()),
            before_id: p.cursor,
            limit,
        })
        .await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|i| i.id))
        .flatten();
    Ok(Json(json!({"items": items, "next": next})))
}

pub async fn one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    admin_only(&principal)?;
    let Some((item, attempts)) = state.store.outbox_item(id).await? else {
        return Err(ApiError::not_found(format!("no outbox item {id}")));
    };
    let mut body = serde_json::to_value(&item).unwrap_or(Value::Null);
    // The body as sent, when it is text (JSON and XML always are).
    body["body"] = match String::from_utf8(item.body) {
        Ok(text) => Value::String(text),
        Err(_) => Value::Null,
    };
    body["attempts"] = serde_json::to_value(attempts).unwrap_or(Value::Null);
    Ok(Json(body))
}

pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    admin_only(&principal)?;
    let Some((item, _)) = state.store.outbox_item(id).await? else {
        return Err(ApiError::not_found(format!("no outbox item {id}")));
    };
    if item.status != "dead" {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not-dead",
            format!(
                "outbox item {id} is {}; only a dead item can be retried",
                item.status
            ),
        ));
    }
    let moved = state.store.retry_dead(Some(&[id])).await?;
    Ok(Json(
        json!({"id": id, "retried": !moved.is_empty(), "status": "pending"}),
    ))
}
