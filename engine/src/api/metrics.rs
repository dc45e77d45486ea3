//! `GET /metrics`: Prometheus text format (version 0.0.4), no auth, for the
//! scraper on the operations network (`docs/operations.md`).

use super::AppState;
use crate::metrics::scrape::{render, Sources, CONTENT_TYPE};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn metrics(State(state): State<AppState>) -> Response {
    let sources = Sources {
        store: &state.store,
        outbox: &state.outbox_stats,
        zone: state.ingest.normalizer.hl7.zone,
        cutoff: state.daily_cutoff,
    };
    let text = render(&state.ingest.metrics, &sources).await;
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}
