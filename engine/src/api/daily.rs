//! `GET /api/v1/daily/{hospital}/{date}` (a day's submission, latest or
//! `?version=N`) and `GET /api/v1/daily/late?date=` (the late list).
//!
//! A day that has no version yet and is over is computed and recorded on
//! first read (version 1), so the answer is the same one the routes send;
//! a day not yet over has nothing to show (404). A hospital token reads
//! only its own days.

use super::error::ApiError;
use super::AppState;
use crate::daily;
use crate::store::admin::Principal;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{NaiveDate, Utc};
use hemobridge_canonical::FacilityKind;
use hemobridge_submission::DailySubmission;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct DayParams {
    version: Option<String>,
    format: Option<String>,
}

fn parse_date(text: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request("date", format!("expected YYYY-MM-DD, got {text:?}")))
}

pub async fn one(
    State(state): State<AppState>,
    principal: Principal,
    Path((hospital, date)): Path<(String, String)>,
    Query(p): Query<DayParams>,
) -> Result<axum::response::Response, ApiError> {
    // `?format=xml` (routing): the same submission in the Shanghai XML form.
    let xml = p.format.as_deref() == Some("xml");
    let answer = |s: DailySubmission| -> axum::response::Response {
        use axum::response::IntoResponse;
        if xml {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    crate::routing::formats::XML,
                )],
                crate::routing::formats::shanghai_summary(&s),
            )
                .into_response()
        } else {
            Json(s).into_response()
        }
    };
    if !principal.may_access(&hospital) {
        return Err(ApiError::forbidden(
            "a hospital token reads only its own daily submissions",
        ));
    }
    let date = parse_date(&date)?;
    let version = match p.version.as_deref() {
        None => None,
        Some(v) => Some(v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::bad_request(
                "version",
                format!("expected a version number ≥ 1, got {v:?}"),
            )
        })?),
    };
    match p.format.as_deref() {
        None | Some("json") => {}
        Some("xml") => {}
        Some(other) => {
            return Err(ApiError::bad_request(
                "format",
                format!("expected json or xml, got {other:?}"),
            ))
        }
    }
    match state.store.facility(&hospital).await? {
        Some(f) if f.kind == FacilityKind::Hospital => {}
        _ => return Err(ApiError::not_found(format!("no hospital {hospital:?}"))),
    }
    if let Some(found) = daily::get(&state.store, &hospital, date, version).await? {
        return Ok(answer(found));
    }
    if let Some(v) = version {
        return Err(ApiError::not_found(format!(
            "no version {v} of {hospital}'s {date}"
        )));
    }
    let zone = state.ingest.normalizer.hl7.zone;
    let now = Utc::now();
    let (_, end) = daily::day::span_ms(zone, date);
    if now.timestamp_millis() < end {
        return Err(ApiError::not_found(format!(
            "{date} is not over yet: nothing recorded for {hospital}"
        )));
    }
    daily::record(&state.store, zone, state.daily_cutoff, &hospital, date, now).await?;
    // Recorded now, or by a concurrent reader a moment ago: the latest is it.
    daily::get(&state.store, &hospital, date, None)
        .await?
        .map(answer)
        .ok_or_else(|| ApiError::not_found(format!("nothing recorded for {hospital}'s {date}")))
}

#[derive(Deserialize)]
pub struct LateParams {
    date: Option<String>,
}

pub async fn late(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<LateParams>,
) -> Result<Json<Value>, ApiError> {
    if principal.scope().is_some() {
        return Err(ApiError::forbidden(
            "the late list is for regulators and admins",
        ));
    }
    let text = p
        .date
        .ok_or_else(|| ApiError::bad_request("date", "required (YYYY-MM-DD)"))?;
    let date = parse_date(&text)?;
    let zone = state.ingest.normalizer.hl7.zone;
    let cutoff = state.daily_cutoff;
    let hospitals = daily::late(&state.store, zone, date, cutoff).await?;
    let cut_ms = daily::day::cutoff_ms(zone, date, cutoff);
    let cut = chrono::DateTime::from_timestamp_millis(cut_ms)
        .unwrap_or_default()
        .with_timezone(&zone);
    Ok(Json(json!({
        "date": date,
        "cutoff": cut.to_rfc3339(),
        // Before the cut-off the list can still shrink.
        "final": Utc::now().timestamp_millis() >= cut_ms,
        "hospitals": hospitals,
    })))
}
