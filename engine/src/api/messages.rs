//! The message browser's API: search stored messages, read one with its ACK
//! and the events it produced, and reprocess a selection.

use super::error::ApiError;
use super::AppState;
use crate::store::admin::Principal;
use crate::store::messages::MessageQuery;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchParams {
    facility: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    msg_type: Option<String>,
    control_id: Option<String>,
    donation: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    cursor: Option<i64>,
}

pub async fn search(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    let facility = match (principal.scope(), p.facility) {
        (Some(own), Some(asked)) if asked != own => {
            return Err(ApiError::forbidden(
                "a hospital token sees only its own messages",
            ))
        }
        (Some(own), _) => Some(own.to_string()),
        (None, asked) => asked,
    };
    let zone = state.ingest.normalizer.hl7.zone;
    let time = |name: &str, v: Option<String>| -> Result<Option<i64>, ApiError> {
        v.map(|t| {
            hemobridge_canonical::time::parse_iso(&t, zone)
                .map(|t| t.timestamp_millis())
                .map_err(|e| ApiError::bad_request(name, e.to_string()))
        })
        .transpose()
    };
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let query = MessageQuery {
        facility,
        status: p.status,
        msg_type: p.msg_type,
        control_id: p.control_id,
        donation: p.donation,
        from_ms: time("from", p.from)?,
        to_ms: time("to", p.to)?,
        before_id: p.cursor,
        limit,
    };
    let items = state.store.search_messages(&query).await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|m| m.id))
        .flatten();
    Ok(Json(json!({"items": items, "next": next})))
}

pub async fn one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let Some(record) = state.store.message(id).await? else {
        return Err(ApiError::not_found(format!("no message {id}")));
    };
    let facility = record.summary.facility.clone().unwrap_or_default();
    if !principal.may_access(&facility) {
        // Same answer as a missing message: a foreign hospital learns nothing.
        return Err(ApiError::not_found(format!("no message {id}")));
    }
    let events = state.store.message_events(id).await?;
    let raw = decode_text(&record.raw, record.charset.as_deref());
    let ack = decode_text(&record.ack, record.charset.as_deref());
    let mut body = serde_json::to_value(&record.summary).unwrap_or(Value::Null);
    body["raw"] = Value::String(raw);
    body["ack"] = Value::String(ack);
    body["events"] = serde_json::to_value(events).unwrap_or(Value::Null);
    Ok(Json(body))
}

fn decode_text(bytes: &[u8], charset: Option<&str>) -> String {
    let charset = charset
        .and_then(hemobridge_hl7::Charset::from_msh18)
        .unwrap_or(hemobridge_hl7::Charset::Utf8);
    hemobridge_hl7::decode_text(bytes, charset)
}

#[derive(Deserialize)]
pub struct ReprocessBody {
    ids: Vec<i64>,
}

/// Puts the messages back on the queue and processes them now, answering
/// with each one's new status.
pub async fn reprocess(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ReprocessBody>,
) -> Result<Json<Value>, ApiError> {
    let mut allowed = Vec::new();
    for id in &body.ids {
        if let Some(m) = state.store.message(*id).await? {
            if principal.may_access(m.summary.facility.as_deref().unwrap_or_default()) {
                allowed.push(*id);
            }
        }
    }
    state.store.requeue(&allowed).await?;
    state.wake.notify_one();
    // Wait (bounded) for the worker to take them.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut results = Vec::new();
    for id in &body.ids {
        loop {
            let record = if allowed.contains(id) {
                state.store.message(*id).await?
            } else {
                None
            };
            match record {
                None => {
                    results.push(json!({"id": id, "status": "not-found", "errors": []}));
                    break;
                }
                Some(r)
                    if r.summary.status != "pending" || tokio::time::Instant::now() > deadline =>
                {
                    results.push(
                        json!({"id": id, "status": r.summary.status, "errors": r.summary.errors}),
                    );
                    break;
                }
                Some(_) => {
                    state.wake.notify_one();
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }
    Ok(Json(json!({"results": results})))
}
