//! The late list: hospitals that had sent no message at all (a refused one
//! does not count) between the start of day D and its cut-off (`HH:MM`
//! local time on D + 1).

use super::day;
use crate::store::Store;
use anyhow::Result;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

pub async fn late(
    store: &Store,
    zone: Tz,
    date: NaiveDate,
    cutoff: NaiveTime,
) -> Result<Vec<String>> {
    let (start, _) = day::span_ms(zone, date);
    let cut = day::cutoff_ms(zone, date, cutoff);
    store.silent_hospitals(start, cut).await
}

/// The latest day whose cut-off has passed at `now`.
pub fn last_closed_day(zone: Tz, cutoff: NaiveTime, now: DateTime<Utc>) -> NaiveDate {
    let local = now.with_timezone(&zone);
    let today = local.date_naive();
    let back = if local.time() >= cutoff { 1 } else { 2 };
    today - chrono::Days::new(back)
}

/// The late list of the last closed day in Prometheus text format, for
/// `GET /metrics`: a count and one series per late hospital.
pub async fn metrics_text(
    store: &Store,
    zone: Tz,
    cutoff: NaiveTime,
    now: DateTime<Utc>,
) -> Result<String> {
    let date = last_closed_day(zone, cutoff, now);
    let hospitals = late(store, zone, date, cutoff).await?;
    let mut out = String::from(
        "# HELP hemobridge_daily_late_hospitals Hospitals that sent nothing for the last closed day by its cut-off.\n\
         # TYPE hemobridge_daily_late_hospitals gauge\n",
    );
    out.push_str(&format!(
        "hemobridge_daily_late_hospitals{{date=\"{date}\"}} {}\n",
        hospitals.len()
    ));
    out.push_str(
        "# HELP hemobridge_daily_late One series per late hospital (value 1).\n\
         # TYPE hemobridge_daily_late gauge\n",
    );
    for h in &hospitals {
        out.push_str(&format!(
            "hemobridge_daily_late{{date=\"{date}\",hospital=\"{h}\"}} 1\n"
        ));
    }
    Ok(out)
}

/// `HH:MM` → a time of day, with a message that names the expected form.
pub fn parse_cutoff(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| format!("expected HH:MM (e.g. 02:00), got {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_parse_as_hours_and_minutes() {
        assert_eq!(
            parse_cutoff("02:30").unwrap(),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap()
        );
        assert!(parse_cutoff("25:00").is_err());
        assert!(parse_cutoff("2am").is_err());
    }

    #[test]
    fn the_last_closed_day_turns_at_the_cutoff() {
        let zone = chrono_tz::Asia::Shanghai;
        let cutoff = NaiveTime::from_hms_opt(2, 0, 0).unwrap();
        let before: DateTime<Utc> = "2026-11-24T17:59:00Z".parse().unwrap(); // 01:59 local
        let after: DateTime<Utc> = "2026-11-24T18:00:00Z".parse().unwrap(); // 02:00 local
        assert_eq!(
            last_closed_day(zone, cutoff, before).to_string(),
            "2026-11-23"
        );
        assert_eq!(
            last_closed_day(zone, cutoff, after).to_string(),
            "2026-11-24"
        );
    }
}
