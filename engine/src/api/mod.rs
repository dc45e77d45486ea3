//! The HTTP API (axum): health, HL7 over HTTP, traces, and the message
//! browser. JSON names are camelCase; errors have one shape
//! (`{"error": {"code", "message", "details"}}`, see [`error`]).
//!
//! - [`auth`][]: bearer tokens and what each role may see.
//! - [`health`][]: `/healthz`, `/readyz`.
//! - [`metrics`][]: `GET /metrics` (Prometheus text, no auth).
//! - [`ingest`][]: `POST /api/v1/ingest/hl7`.
//! - [`documents`][]: `POST /api/v1/ingest/xml`, `POST /api/v1/ingest/json`.
//! - [`trace`][]: `/api/v1/trace/...`.
//! - [`messages`][]: `/api/v1/messages...`.
//! - [`audit`][]: `/api/v1/audit/completeness`.
//! - [`waivers`][]: `/api/v1/waivers...` (direct-waiver claims).
//! - [`outbox`][]: `/api/v1/outbox...` (outbound queue, admins).
//! - [`query_audit`][]: the query audit log and its layer.

pub mod audit;
pub mod auth;
pub mod daily;
pub mod documents;
pub mod error;
pub mod fhir;
pub mod health;
pub mod ingest;
pub mod messages;
pub mod metrics;
pub mod outbox;
pub mod query_audit;
pub mod stock;
pub mod trace;
pub mod waivers;

use crate::ingest::Ingest;
use crate::store::Store;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use tokio::sync::Notify;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub ingest: Arc<Ingest>,
    pub wake: Arc<Notify>,
    pub bootstrap_token: Option<String>,
    /// The direct-waiver rule in force (`waiver_rule`).
    pub waiver_rule: Arc<hemobridge_waivers::Rule>,
    /// The daily submissions' cut-off (`daily_cutoff`).
    pub daily_cutoff: chrono::NaiveTime,
    /// Portal sessions and cookies ([`crate::portal`]).
    pub portal: crate::portal::PortalSettings,
    /// Outbound delivery counters (`hemobridge_outbound_deliveries_total`).
    pub outbox_stats: Arc<crate::outbox::OutboxStats>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/v1/ingest/hl7", post(ingest::hl7))
        .route("/api/v1/ingest/xml", post(documents::xml))
        .route("/api/v1/ingest/json", post(documents::json))
        .route("/api/v1/trace/units/{din}", get(trace::unit))
        .route("/api/v1/trace/patients/{patient_key}", get(trace::patient))
        .route("/api/v1/trace/donors/{donor_key}", get(trace::donor))
        .route("/api/v1/audit/completeness", get(audit::completeness))
        .route("/api/v1/audit/log", get(query_audit::log))
        .route("/api/v1/daily/late", get(daily::late))
        .route("/api/v1/daily/{hospital}/{date}", get(daily::one))
        .route("/api/v1/stock", get(stock::view))
        .route("/api/v1/messages", get(messages::search))
        .route("/api/v1/messages/reprocess", post(messages::reprocess))
        .route("/api/v1/messages/{id}", get(messages::one))
        .route("/fhir/metadata", get(fhir::metadata))
        .route("/fhir/{resource_type}", get(fhir::search))
        .route("/fhir/{resource_type}/{id}", get(fhir::read))
        .route("/api/v1/waivers", post(waivers::claim))
        .route("/api/v1/waivers/{claim_id}", get(waivers::one))
        .route("/api/v1/waivers/{claim_id}/cancel", post(waivers::cancel))
        .route("/api/v1/outbox", get(outbox::list))
        .route("/api/v1/outbox/{id}", get(outbox::one))
        .route("/api/v1/outbox/{id}/retry", post(outbox::retry))
        // The web portal: `/`, `/login`, `/logout`, `/portal/...`, `/static/...`.
        .merge(crate::portal::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            query_audit::record_queries,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024))
        .with_state(state)
}
