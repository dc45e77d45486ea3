//! Every query a regulator or admin makes is written to the append-only
//! query audit log (who: role and token id; when; what: method, path, query
//! string, and the answer's status), and admins can read that log at
//! `GET /api/v1/audit/log`.
//!
//! The layer resolves the bearer token once and leaves the [`Principal`] in
//! the request's extensions for the handler. If the log cannot be written,
//! the answer is 503: a regulator's query that is not on record is not
//! answered.

use super::error::ApiError;
use super::AppState;
use crate::store::admin::{Principal, Role};
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn record_queries(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let audited = parts.method == Method::GET
        && (parts.uri.path().starts_with("/api/") || parts.uri.path().starts_with("/fhir/"));
    let principal = if audited
        && parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
    {
        Principal::from_request_parts(&mut parts, &state).await.ok()
    } else {
        None
    };
    if let Some(p) = &principal {
        parts.extensions.insert(p.clone());
    }
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let response = next.run(Request::from_parts(parts, body)).await;
    match principal {
        Some(p) if matches!(p.role, Role::Regulator | Role::Admin) => {
            let status = response.status().as_u16();
            match state
                .store
                .record_query(&p, &method, &path, query.as_deref(), status)
                .await
            {
                Ok(()) => response,
                Err(e) => {
                    tracing::error!(error = %e, "query audit log not written; refusing the answer");
                    ApiError::unavailable("the query audit log cannot be written now")
                        .into_response()
                }
            }
        }
        _ => response,
    }
}

#[derive(Deserialize)]
pub struct LogParams {
    cursor: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/audit/log`: admins only.
pub async fn log(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<LogParams>,
) -> Result<Json<Value>, ApiError> {
    if !principal.is_admin() {
        return Err(ApiError::forbidden("the query audit log is for admins"));
    }
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let items = state.store.query_log(p.cursor, limit).await?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(|r| r.id))
        .flatten();
    Ok(Json(json!({"items": items, "next": next})))
}
