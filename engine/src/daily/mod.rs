//! Daily submissions (每日上报): one hospital's blood movements for one
//! local day, computed from stored events alone, versioned, with
//! amendments for late events, the late list and the stock view.
//!
//! - [`compute`][]: figures of one day (SQL aggregates → `DailySubmission`).
//! - [`versions`][]: recording versions, amendments, reading them back.
//! - [`late`][]: hospitals that sent nothing for a day by the cut-off.
//! - [`stock`][]: the current stock view (`GET /api/v1/stock`).
//! - [`day`][]: local-day boundaries and the cut-off instant.
//!
//! The rules (what counts as received, the stock formula, boundaries,
//! versions) are written down in `docs/daily.md`.

pub mod compute;
pub mod day;
pub mod late;
pub mod report;
pub mod stock;
pub mod versions;

use crate::store::Store;
use anyhow::Result;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use hemobridge_submission::DailySubmission;

pub use stock::{current_stock, StockFilter, StockView};

/// The cut-off when none is configured: 02:00 local time on the next day.
pub fn default_cutoff() -> NaiveTime {
    NaiveTime::from_hms_opt(2, 0, 0).expect("valid time")
}

/// The figures of `hospital` for the local day `date` in `zone`, computed
/// now from the stored events (version 0: not recorded).
pub async fn compute(
    store: &Store,
    zone: Tz,
    hospital: &str,
    date: NaiveDate,
) -> Result<DailySubmission> {
    compute::compute(store, zone, hospital, date, Utc::now()).await
}

/// Computes the day and stores it as a new version when its figures differ
/// from the latest stored one. `Some` is the version just stored; `None`
/// means nothing changed.
pub async fn record(
    store: &Store,
    zone: Tz,
    cutoff: NaiveTime,
    hospital: &str,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<DailySubmission>> {
    versions::record(store, zone, cutoff, hospital, date, now).await
}

/// Re-records every day that already has a version and got events (or a
/// stock report) recorded after `since_ms`; returns the new versions.
pub async fn amend_changed(
    store: &Store,
    zone: Tz,
    cutoff: NaiveTime,
    since_ms: i64,
    now: DateTime<Utc>,
) -> Result<Vec<DailySubmission>> {
    versions::amend_changed(store, zone, cutoff, since_ms, now).await
}

/// A stored version (`None`: the latest).
pub async fn get(
    store: &Store,
    hospital: &str,
    date: NaiveDate,
    version: Option<u32>,
) -> Result<Option<DailySubmission>> {
    versions::get(store, hospital, date, version).await
}

/// Codes of the registered hospitals (kind `hospital`), sorted.
pub async fn hospitals(store: &Store) -> Result<Vec<String>> {
    store.hospital_codes().await
}

/// Hospitals that had sent no message at all for `date` by its cut-off.
pub async fn late(
    store: &Store,
    zone: Tz,
    date: NaiveDate,
    cutoff: NaiveTime,
) -> Result<Vec<String>> {
    late::late(store, zone, date, cutoff).await
}
