//! Local-day boundaries. A day is `[00:00, next 00:00)` local time in the
//! configured zone, as epoch milliseconds; on a DST change the earlier of
//! two ambiguous instants is taken and a skipped midnight moves forward.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Start and end (exclusive) of the local day, in epoch milliseconds.
pub fn span_ms(zone: Tz, date: NaiveDate) -> (i64, i64) {
    let next = date.succ_opt().unwrap_or(date);
    (
        local_ms(zone, date.and_time(NaiveTime::MIN)),
        local_ms(zone, next.and_time(NaiveTime::MIN)),
    )
}

/// The cut-off instant of `date`: `cutoff` local time on the next day.
pub fn cutoff_ms(zone: Tz, date: NaiveDate, cutoff: NaiveTime) -> i64 {
    let next = date.succ_opt().unwrap_or(date);
    local_ms(zone, next.and_time(cutoff))
}

/// The local day an instant falls on.
pub fn date_of(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

fn local_ms(zone: Tz, local: NaiveDateTime) -> i64 {
    // A local time skipped by a DST jump does not exist; an hour later does.
    let mut probe = local;
    for _ in 0..4 {
        if let Some(t) = zone.from_local_datetime(&probe).earliest() {
            return t.timestamp_millis();
        }
        probe += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&local).timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_day_starts_at_16_utc_the_day_before() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let (start, end) = span_ms(chrono_tz::Asia::Shanghai, date);
        let start_utc = DateTime::from_timestamp_millis(start).unwrap();
        assert_eq!(start_utc.to_rfc3339(), "2026-11-23T16:00:00+00:00");
        assert_eq!(end - start, 86_400_000);
        let cut = cutoff_ms(
            chrono_tz::Asia::Shanghai,
            date,
            NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
        );
        assert_eq!(cut - end, 2 * 3_600_000);
    }

    #[test]
    fn a_dst_day_is_23_hours_long() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let (start, end) = span_ms(chrono_tz::America::New_York, date);
        assert_eq!(end - start, 23 * 3_600_000);
    }
}
