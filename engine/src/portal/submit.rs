//! The portal's way into the document door: the same
//! [`crate::documents::submit`] as `POST /api/v1/ingest/json` and `/xml`
//! (raw body stored first, all or nothing, duplicates by `documentId`),
//! with channel `portal` and the user's own hospital as the only facility
//! it may send as.

use super::session::PortalUser;
use crate::api::AppState;
use crate::documents::{self, Answer, Syntax};
use serde_json::{json, Value};

/// Sends a document as this user's hospital.
pub async fn document(state: &AppState, hospital: &str, syntax: Syntax, raw: Vec<u8>) -> Answer {
    documents::submit(
        &state.ingest,
        &state.store,
        syntax,
        raw,
        "portal",
        Some(hospital),
    )
    .await
}

/// A one-document envelope around `records`, for the user's hospital. The
/// id is unique per submission (time and a random part), so a form sent
/// twice on purpose is two documents; a double click is two as well, and
/// the natural keys of the events keep the facts from doubling.
pub fn envelope(user: &PortalUser, hospital: &str, records: Vec<Value>) -> Value {
    let now = chrono::Utc::now();
    let document_id = format!(
        "PORTAL-{hospital}-{}-{}",
        now.format("%Y%m%d%H%M%S%3f"),
        &super::session::random_token()[..8]
    );
    tracing::debug!(user = %user.username, document_id = %document_id, "portal document");
    json!({
        "documentId": document_id,
        "facility": hospital,
        "generatedAt": now.to_rfc3339(),
        "records": records,
    })
}
