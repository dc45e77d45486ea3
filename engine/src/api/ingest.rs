//! `POST /api/v1/ingest/hl7`: one HL7 v2 message in the body, the ACK in the
//! answer, with the same rules as MLLP. A hospital token may only send as its
//! own facility (MSH-4): anything else is refused with 403 before storing.

use super::error::ApiError;
use super::AppState;
use crate::store::admin::Principal;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

pub async fn hl7(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Some(own) = principal.scope() {
        let header = hemobridge_hl7::header_lossy(&body, &state.ingest.normalizer.hl7);
        let sender = header.map(|h| h.sending_facility).unwrap_or_default();
        if sender != own {
            return Err(ApiError::forbidden(format!(
                "this token may only send as {own}; MSH-4 says {sender:?}"
            )));
        }
    }
    let reply = state.ingest.hl7(body.to_vec(), "http").await;
    let Some(ack) = reply.acks.into_iter().last() else {
        return Ok(StatusCode::ACCEPTED.into_response());
    };
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "x-application/hl7-v2+er7")],
        ack,
    )
        .into_response())
}
