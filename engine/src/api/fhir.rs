//! `/fhir`: FHIR R5 JSON over the store. `GET /fhir/metadata` (the
//! CapabilityStatement, no token needed: it holds no data),
//! `GET /fhir/{Type}/{id}` and `GET /fhir/{Type}?identifier=[system|]value`
//! (a `searchset` Bundle). Answers are `application/fhir+json`; errors are
//! `OperationOutcome`s: 401 without a valid token, 404 for an unknown type
//! or id (and for another hospital's resource: a hospital token must not
//! learn what exists elsewhere), 400 for a search it cannot run, 503 when
//! the store is unreachable. Regulator and admin reads are recorded by the
//! query-audit layer like `/api` reads.

use super::error::ApiError;
use super::AppState;
use crate::fhir::{self, IdentifierQuery};
use crate::store::admin::Principal;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hemobridge_fhir::rest::{self, IssueType, SUPPORTED_TYPES};
use hemobridge_fhir::to_json;
use std::collections::HashMap;

const FHIR_JSON: &str = "application/fhir+json";

fn fhir_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    match to_json(body).and_then(|v| {
        serde_json::to_vec(&v).map_err(|e| hemobridge_fhir::MappingError::Value(e.to_string()))
    }) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, FHIR_JSON)], bytes).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "FHIR answer not serialized");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "FHIR answer not serialized",
            )
                .into_response()
        }
    }
}

/// An error as an `OperationOutcome`.
fn outcome(
    status: StatusCode,
    code: IssueType,
    message: &str,
    expression: Option<&str>,
) -> Response {
    match rest::operation_outcome(code, message, expression) {
        Ok(o) => fhir_response(status, &o),
        Err(e) => {
            tracing::error!(error = %e, "OperationOutcome not built");
            status.into_response()
        }
    }
}

fn from_api_error(e: ApiError) -> Response {
    let code = match e.status {
        StatusCode::UNAUTHORIZED => IssueType::Login,
        StatusCode::FORBIDDEN => IssueType::Forbidden,
        StatusCode::SERVICE_UNAVAILABLE => IssueType::Transient,
        _ => IssueType::Exception,
    };
    outcome(e.status, code, &e.message, None)
}

fn store_error(e: anyhow::Error) -> Response {
    tracing::warn!(error = %e, "FHIR read failed");
    outcome(
        StatusCode::SERVICE_UNAVAILABLE,
        IssueType::Transient,
        "the store cannot be read now; try again",
        None,
    )
}

fn unknown_type(resource_type: &str) -> Response {
    outcome(
        StatusCode::NOT_FOUND,
        IssueType::NotSupported,
        &format!(
            "resource type {resource_type} is not supported; supported: {}",
            SUPPORTED_TYPES.join(", ")
        ),
        None,
    )
}

/// `GET /fhir/metadata`.
pub async fn metadata() -> Response {
    let now = chrono::Utc::now().fixed_offset();
    match rest::capability_statement(env!("CARGO_PKG_VERSION"), &now) {
        Ok(c) => fhir_response(StatusCode::OK, &c),
        Err(e) => {
            tracing::error!(error = %e, "CapabilityStatement not built");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /fhir/{Type}/{id}`.
pub async fn read(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    Path((resource_type, id)): Path<(String, String)>,
) -> Response {
    let principal = match principal {
        Ok(p) => p,
        Err(e) => return from_api_error(e),
    };
    if !SUPPORTED_TYPES.contains(&resource_type.as_str()) {
        return unknown_type(&resource_type);
    }
    match fhir::read(&state.store, &resource_type, &id, principal.scope()).await {
        Ok(Some(r)) => fhir_response(StatusCode::OK, &r),
        Ok(None) => outcome(
            StatusCode::NOT_FOUND,
            IssueType::NotFound,
            &format!("{resource_type}/{id} is not known"),
            None,
        ),
        Err(e) => store_error(e),
    }
}

/// `GET /fhir/{Type}?identifier=[system|]value`.
pub async fn search(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    Path(resource_type): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let principal = match principal {
        Ok(p) => p,
        Err(e) => return from_api_error(e),
    };
    if !SUPPORTED_TYPES.contains(&resource_type.as_str()) {
        return unknown_type(&resource_type);
    }
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    if let Some(other) = names
        .iter()
        .find(|n| !matches!(n.as_str(), "identifier" | "_format"))
    {
        return outcome(
            StatusCode::BAD_REQUEST,
            IssueType::NotSupported,
            &format!("search parameter {other} is not supported; use identifier=[system|]value"),
            Some(other),
        );
    }
    let Some(token) = params.get("identifier") else {
        return outcome(
            StatusCode::BAD_REQUEST,
            IssueType::Required,
            "identifier is required: identifier=[system|]value",
            Some("identifier"),
        );
    };
    let Some(query) = IdentifierQuery::parse(token) else {
        return outcome(
            StatusCode::BAD_REQUEST,
            IssueType::Value,
            "identifier has no value: identifier=[system|]value",
            Some("identifier"),
        );
    };
    let matches = match fhir::search(&state.store, &resource_type, &query, principal.scope()).await
    {
        Ok(m) => m,
        Err(e) => return store_error(e),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    match rest::searchset(&format!("http://{host}/fhir"), matches) {
        Ok(b) => fhir_response(StatusCode::OK, &b),
        Err(e) => {
            tracing::error!(error = %e, "searchset not built");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
