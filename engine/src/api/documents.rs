//! `POST /api/v1/ingest/xml` and `POST /api/v1/ingest/json`: one hospital
//! document in the body (`docs/document.md`). The rules live in
//! [`crate::documents`]; this module only puts its answers into HTTP:
//! 202 `{"receipt", "records"}`, 400 unreadable, 422 invalid with every
//! problem in `details`, 403 for a token sending as another facility.
//! Refused documents are stored too; `error.receipt` names the stored copy.

use super::error::ApiError;
use super::AppState;
use crate::documents::{self, Answer, Refusal, Syntax};
use crate::store::admin::Principal;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

pub async fn xml(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    submit(&state, &principal, Syntax::Xml, body).await
}

pub async fn json(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    submit(&state, &principal, Syntax::Json, body).await
}

async fn submit(
    state: &AppState,
    principal: &Principal,
    syntax: Syntax,
    body: Bytes,
) -> Result<Response, ApiError> {
    let answer = documents::submit(
        &state.ingest,
        &state.store,
        syntax,
        body.to_vec(),
        "http",
        principal.scope(),
    )
    .await;
    match answer {
        Answer::Accepted {
            receipt, records, ..
        } => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"receipt": receipt, "records": records})),
        )
            .into_response()),
        Answer::Forbidden { own, claimed } => Err(ApiError::forbidden(format!(
            "this token may only send as {own}; the document's facility is {claimed:?}"
        ))),
        Answer::Refused {
            receipt,
            refusal,
            errors,
        } => {
            let details: Vec<(String, String)> =
                errors.into_iter().map(|e| (e.path, e.message)).collect();
            let error = match refusal {
                Refusal::Unreadable => {
                    let (path, message) = details.into_iter().next().unwrap_or_default();
                    ApiError::bad_request(&path, message)
                }
                Refusal::Invalid => ApiError::unprocessable(
                    format!(
                        "the document is invalid ({} {}); see details",
                        details.len(),
                        if details.len() == 1 {
                            "error"
                        } else {
                            "errors"
                        }
                    ),
                    details,
                ),
            };
            Err(error.with_receipt(receipt))
        }
        Answer::Unavailable => Err(ApiError::unavailable(
            "the document was not accepted: the engine cannot store or check it now; resend later",
        )),
    }
}
