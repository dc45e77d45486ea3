//! Versions of a day: the first is `submitted` (or `late`), each later one
//! `amended`, with the version it replaces and what changed. A version is
//! stored only when its figures differ from the latest; nothing is ever
//! overwritten (the table refuses updates).

use super::{compute, day};
use crate::store::Store;
use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use hemobridge_submission::{DailySubmission, Status};

pub async fn record(
    store: &Store,
    zone: Tz,
    cutoff: NaiveTime,
    hospital: &str,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<DailySubmission>> {
    let mut next = compute::compute(store, zone, hospital, date, now).await?;
    let previous = get(store, hospital, date, None).await?;
    match &previous {
        Some(prev) if next.same_figures(prev) => return Ok(None),
        Some(prev) => {
            next.version = prev.version + 1;
            next.status = Status::Amended;
            next.amends = Some(prev.version);
            next.changes = next.changes_since(prev);
        }
        None => {
            next.version = 1;
            next.status = if is_late(store, zone, cutoff, hospital, date, now).await? {
                Status::Late
            } else {
                Status::Submitted
            };
        }
    }
    let body = serde_json::to_string(&next)?;
    let status = serde_json::to_value(next.status)?
        .as_str()
        .unwrap_or("submitted")
        .to_string();
    let stored = store
        .insert_daily_version(
            hospital,
            &date.to_string(),
            i64::from(next.version),
            &status,
            day::span_ms(zone, date),
            now.timestamp_millis(),
            &body,
        )
        .await?;
    // Another recorder stored this version number first: its version stands.
    Ok(stored.then_some(next))
}

/// A first version is late when it is recorded after the cut-off and the
/// hospital had sent nothing for the day by then.
async fn is_late(
    store: &Store,
    zone: Tz,
    cutoff: NaiveTime,
    hospital: &str,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool> {
    let cut = day::cutoff_ms(zone, date, cutoff);
    if now.timestamp_millis() < cut {
        return Ok(false);
    }
    let (start, _) = day::span_ms(zone, date);
    Ok(!store.sent_between(hospital, start, cut).await?)
}

pub async fn amend_changed(
    store: &Store,
    zone: Tz,
    cutoff: NaiveTime,
    since_ms: i64,
    now: DateTime<Utc>,
) -> Result<Vec<DailySubmission>> {
    let mut out = Vec::new();
    for (hospital, day_text) in store.days_touched_since(since_ms).await? {
        let date: NaiveDate = day_text
            .parse()
            .with_context(|| format!("stored day {day_text:?} is not a date"))?;
        if let Some(v) = record(store, zone, cutoff, &hospital, date, now).await? {
            out.push(v);
        }
    }
    Ok(out)
}

pub async fn get(
    store: &Store,
    hospital: &str,
    date: NaiveDate,
    version: Option<u32>,
) -> Result<Option<DailySubmission>> {
    let stored = store
        .daily_version(hospital, &date.to_string(), version.map(i64::from))
        .await?;
    stored
        .map(|s| {
            serde_json::from_str(&s.body)
                .with_context(|| format!("stored daily version {} is not readable", s.version))
        })
        .transpose()
}
