//! `hemobridge report daily --hospital CODE --date YYYY-MM-DD [--format]`:
//! prints the latest version of the day, computing and recording version 1
//! first when none exists.

use crate::config::Settings;
use crate::server;
use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, Utc};

pub async fn report_daily(
    settings: &Settings,
    hospital: &str,
    date: &str,
    format: &str,
) -> Result<i32> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .with_context(|| format!("--date: expected YYYY-MM-DD, got {date:?}"))?;
    if !matches!(format, "json" | "xml") {
        bail!("--format: expected json or xml, got {format:?}");
    }
    let store = server::open_store(settings).await?;
    let answer = latest_or_record(&store, settings, hospital, date).await;
    store.close().await;
    match answer? {
        Some(s) => {
            if format == "xml" {
                // The Shanghai form, as routing renders it.
                println!("{}", crate::routing::formats::shanghai_summary(&s));
            } else {
                println!("{}", serde_json::to_string_pretty(&s)?);
            }
            Ok(0)
        }
        None => {
            eprintln!("no hospital {hospital} is registered");
            Ok(1)
        }
    }
}

async fn latest_or_record(
    store: &crate::store::Store,
    settings: &Settings,
    hospital: &str,
    date: NaiveDate,
) -> Result<Option<hemobridge_submission::DailySubmission>> {
    if !super::hospitals(store).await?.iter().any(|h| h == hospital) {
        return Ok(None);
    }
    if let Some(found) = super::get(store, hospital, date, None).await? {
        return Ok(Some(found));
    }
    super::record(
        store,
        settings.timezone,
        settings.daily_cutoff,
        hospital,
        date,
        Utc::now(),
    )
    .await?;
    super::get(store, hospital, date, None).await
}
