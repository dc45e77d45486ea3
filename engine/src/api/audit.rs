//! `GET /api/v1/audit/completeness?from=&to=&hospital=`: per hospital and
//! period, the share of units with a final disposition and every broken
//! chain by rule (see [`crate::audit`]). A hospital token gets its own
//! hospital only.

use super::error::ApiError;
use super::AppState;
use crate::audit::audit_hospital;
use crate::store::admin::Principal;
use axum::extract::{Query, State};
use axum::Json;
use hemobridge_canonical::FacilityKind;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;

#[derive(Deserialize)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    hospital: Option<String>,
}

/// Without `from`, the audit covers the 30 days before `to` (default now).
const DEFAULT_DAYS: i64 = 30;

pub async fn completeness(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<Params>,
) -> Result<Json<Value>, ApiError> {
    let zone = state.ingest.normalizer.hl7.zone;
    let parse = |name: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
        v.as_ref()
            .map(|t| {
                hemobridge_canonical::time::parse_iso(t, zone)
                    .map(|t| t.timestamp_millis())
                    .map_err(|e| ApiError::bad_request(name, e.to_string()))
            })
            .transpose()
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    let to_ms = parse("to", &p.to)?.unwrap_or(now_ms);
    let from_ms = parse("from", &p.from)?.unwrap_or(to_ms - DEFAULT_DAYS * 86_400_000);
    if from_ms >= to_ms {
        return Err(ApiError::bad_request("from", "must be before to"));
    }
    let facilities = state.store.facilities().await?;
    let stations: HashSet<String> = facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::Station)
        .map(|f| f.code.clone())
        .collect();
    let hospitals: Vec<String> = match (principal.scope(), p.hospital) {
        (Some(own), Some(asked)) if asked != own => {
            return Err(ApiError::forbidden(
                "a hospital token audits only its own hospital",
            ))
        }
        (Some(own), _) => vec![own.to_string()],
        (None, Some(asked)) => vec![asked],
        (None, None) => facilities
            .iter()
            .filter(|f| f.kind == FacilityKind::Hospital)
            .map(|f| f.code.clone())
            .collect(),
    };
    let mut reports = Vec::with_capacity(hospitals.len());
    let (mut received, mut finalised) = (0usize, 0usize);
    for hospital in &hospitals {
        let rows = state.store.audit_rows(hospital, from_ms, to_ms).await?;
        let report = audit_hospital(hospital, &rows, &stations, now_ms);
        received += report.units_received;
        finalised += report.with_final_disposition;
        reports.push(report);
    }
    let iso = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .with_timezone(&zone)
            .to_rfc3339()
    };
    Ok(Json(json!({
        "from": iso(from_ms),
        "to": iso(to_ms),
        "unitsReceived": received,
        "withFinalDisposition": finalised,
        "share": (received > 0).then(|| finalised as f64 / received as f64),
        "hospitals": reports,
    })))
}
