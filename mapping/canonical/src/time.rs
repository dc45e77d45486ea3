//! Times as feeds send them: HL7 DTM/TS (`YYYY[MM[DD[HH[MM[SS[.S…]]]]]][±ZZZZ]`)
//! and ISO 8601 with or without an offset. A time without an offset is local
//! time in the site's zone (`HEMOBRIDGE_TIMEZONE`, Asia/Shanghai by default).

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(pub &'static str);

/// Parses an HL7 v2 DTM / TS value. Precision below a day is optional;
/// missing parts are zero.
pub fn parse_hl7(value: &str, zone: Tz) -> Result<DateTime<FixedOffset>, TimeError> {
    let value = value.trim();
    // TS has a second component (degree of precision) in v2.5: drop it.
    let value = value.split('^').next().unwrap_or("");
    let (body, offset) = match value.find(['+', '-']) {
        Some(i) => (&value[..i], Some(&value[i..])),
        None => (value, None),
    };
    let (digits, fraction) = match body.find('.') {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, ""),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || !matches!(digits.len(), 4 | 6 | 8 | 10 | 12 | 14)
    {
        return Err(TimeError(
            "not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ])",
        ));
    }
    let num = |range: std::ops::Range<usize>, default: u32| -> u32 {
        digits
            .get(range)
            .map(|s| s.parse().unwrap_or(0))
            .unwrap_or(default)
    };
    let date = NaiveDate::from_ymd_opt(num(0..4, 0) as i32, num(4..6, 1), num(6..8, 1))
        .ok_or(TimeError("date out of range"))?;
    let nanos = if fraction.is_empty() {
        0
    } else {
        let f: String = fraction
            .chars()
            .chain("000000000".chars())
            .take(9)
            .collect();
        f.parse().unwrap_or(0)
    };
    let time = NaiveTime::from_hms_nano_opt(num(8..10, 0), num(10..12, 0), num(12..14, 0), nanos)
        .ok_or(TimeError("time of day out of range"))?;
    let naive = NaiveDateTime::new(date, time);
    match offset {
        Some(off) => {
            let off = parse_offset(off)?;
            off.from_local_datetime(&naive)
                .single()
                .ok_or(TimeError("time out of range"))
        }
        None => Ok(local(naive, zone)),
    }
}

/// Parses ISO 8601 (`2026-11-22T08:00:00+08:00`, `2026-11-22T08:00:00`,
/// `2026-11-22 08:00`, `2026-11-22`); without an offset, site-local time.
pub fn parse_iso(value: &str, zone: Tz) -> Result<DateTime<FixedOffset>, TimeError> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t);
    }
    let normalised = value.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&normalised) {
        return Ok(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(&normalised, fmt) {
            return Ok(t);
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(&normalised, fmt) {
            return Ok(local(n, zone));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(local(d.and_time(NaiveTime::MIN), zone));
    }
    Err(TimeError("not an ISO 8601 date/time"))
}

/// A local wall-clock time in `zone`. A time that falls in a DST gap (not in
/// China, but a configured zone may have them) is read as the later instant.
pub fn local(naive: NaiveDateTime, zone: Tz) -> DateTime<FixedOffset> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.fixed_offset(),
        LocalResult::Ambiguous(t, _) => t.fixed_offset(),
        LocalResult::None => zone.from_utc_datetime(&naive).fixed_offset(),
    }
}

fn parse_offset(s: &str) -> Result<FixedOffset, TimeError> {
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let digits = &s[1..];
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TimeError("time zone offset must be +HHMM or -HHMM"));
    }
    let h: i32 = digits[..2].parse().unwrap_or(0);
    let m: i32 = digits[2..].parse().unwrap_or(0);
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
        .ok_or(TimeError("time zone offset out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    const SH: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn hl7_forms() {
        let t = parse_hl7("20261122083015", SH).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T08:30:15+08:00");
        let t = parse_hl7("202611220830+0000", SH).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T08:30:00+00:00");
        let t = parse_hl7("20261122", SH).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T00:00:00+08:00");
        let t = parse_hl7("20261122083015.1234-0500", SH).unwrap();
        assert_eq!(t.timestamp_subsec_millis(), 123);
        assert!(parse_hl7("2026112", SH).is_err());
        assert!(parse_hl7("20261322", SH).is_err());
        assert!(parse_hl7("yesterday", SH).is_err());
    }

    #[test]
    fn iso_forms() {
        assert_eq!(
            parse_iso("2026-11-22T08:00:00+08:00", SH)
                .unwrap()
                .to_rfc3339(),
            "2026-11-22T08:00:00+08:00"
        );
        assert_eq!(
            parse_iso("2026-11-22 08:00", SH).unwrap().to_rfc3339(),
            "2026-11-22T08:00:00+08:00"
        );
        assert_eq!(
            parse_iso("2026-11-22", SH).unwrap().to_rfc3339(),
            "2026-11-22T00:00:00+08:00"
        );
        assert!(parse_iso("22/11/2026", SH).is_err());
    }
}
