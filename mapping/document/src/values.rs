//! Checks and conversions of single values, shared by every record.
//!
//! Each function takes a [`Value`] as either syntax gave it and returns the
//! typed value or the message for the error list. The lexical rules here are
//! the ones the XSD and the JSON Schema publish (same patterns, same
//! enumerations); what a schema cannot say (check characters, product names,
//! calendar dates) is checked here too, on top.
//!
//! Messages quote coded values (a blood group, a product, a time) to help
//! the sender, but never the value of an identity field: names, ID numbers,
//! patient keys and birth dates are personal data and must not travel into
//! logs and error answers.

use crate::error::quote;
use crate::raw::Value;
use chrono::{DateTime, FixedOffset, NaiveDate};
use chrono_tz::Tz;
use hemobridge_canonical::blood_group::{parse_abo, parse_rh};
use hemobridge_canonical::ids::{canonical_din, din_error, resident_id_valid};
use hemobridge_canonical::time::parse_iso;
use hemobridge_canonical::{Abo, Modifiers, Product, ProductTable, Rh, Sensitive};
use std::borrow::Cow;

pub(crate) type Problem = Cow<'static, str>;

/// Values are below this (9 digits before the decimal point), so that every
/// count and volume fits a `u32` and prints without an exponent.
const LIMIT: f64 = 1_000_000_000.0;

/// Any non-empty string.
pub(crate) fn text<'v>(value: &'v Value<'_>) -> Result<&'v str, Problem> {
    match value {
        Value::Text(s) if s.is_empty() => Err("must not be empty".into()),
        Value::Text(s) => Ok(s),
        Value::Number(_) => Err("must be a string, not a number".into()),
        Value::Other(what) => Err(format!("must be a string, not {what}").into()),
    }
}

/// Text that is personal data: kept wrapped, never echoed.
pub(crate) fn sensitive(value: &Value<'_>) -> Result<Sensitive, Problem> {
    text(value).map(Sensitive::new)
}

/// A code (facility, document id, patient key): 1 to 64 printable ASCII
/// characters, no spaces. Not echoed: a patient key is a code too.
pub(crate) fn code<'v>(value: &'v Value<'_>) -> Result<&'v str, Problem> {
    let s = text(value)?;
    if s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(s)
    } else {
        Err("must be 1 to 64 printable ASCII characters without spaces".into())
    }
}

/// A donation identification number, in its canonical (joinable) form.
pub(crate) fn din(value: &Value<'_>) -> Result<String, Problem> {
    let s = text(value)?;
    match din_error(s) {
        Some(message) => Err(message.into()),
        None => Ok(canonical_din(s).to_owned()),
    }
}

/// A product name or code, through the (configurable) product table.
pub(crate) fn product(
    value: &Value<'_>,
    table: &ProductTable,
) -> Result<(Product, Modifiers), Problem> {
    let s = text(value)?;
    table
        .lookup(s)
        .ok_or_else(|| format!("{} is not a known blood product", quote(s)).into())
}

/// `A`, `B`, `O` or `AB`, exactly: the document is the canonical exchange
/// form, vendor spellings are mapped by connector profiles before it.
pub(crate) fn abo(value: &Value<'_>) -> Result<Abo, Problem> {
    let s = text(value)?;
    match s {
        "A" | "B" | "O" | "AB" => parse_abo(s, false).flatten(),
        _ => None,
    }
    .ok_or_else(|| format!("{} is not a blood group (A, B, O, AB)", quote(s)).into())
}

/// `+`, `-`, `阳性` or `阴性`.
pub(crate) fn rh(value: &Value<'_>) -> Result<Rh, Problem> {
    let s = text(value)?;
    match s {
        "+" | "-" | "阳性" | "阴性" => parse_rh(s, false).flatten(),
        _ => None,
    }
    .ok_or_else(|| format!("{} is not an RhD value (+, -, 阳性, 阴性)", quote(s)).into())
}

/// One of a fixed list of words.
pub(crate) fn one_of<T: Copy>(
    value: &Value<'_>,
    choices: &[(&str, T)],
    what: &str,
) -> Result<T, Problem> {
    let s = text(value)?;
    match choices.iter().find(|(word, _)| *word == s) {
        Some(&(_, t)) => Ok(t),
        None => {
            let words: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
            Err(format!("{} is not {what} ({})", quote(s), words.join(", ")).into())
        }
    }
}

/// An ISO 8601 date or date-time:
/// `YYYY-MM-DD[(T| )hh:mm[:ss[.f{1,9}]][Z|±hh:mm]]`; without an offset, local
/// time in `zone`.
pub(crate) fn time(value: &Value<'_>, zone: Tz) -> Result<DateTime<FixedOffset>, Problem> {
    let s = text(value)?;
    let bad = || format!("{} is not an ISO 8601 date-time", quote(s)).into();
    let Some(has_seconds) = iso_shape(s.as_bytes()) else {
        return Err(bad());
    };
    let parsed = if has_seconds || s.len() == 10 {
        parse_iso(s, zone)
    } else {
        // `parse_iso` wants seconds before a `Z`; add them.
        parse_iso(&format!("{}:00{}", &s[..16], &s[16..]), zone)
    };
    parsed.map_err(|_| bad())
}

/// A calendar date `YYYY-MM-DD`. Only used for birth dates, so the value is
/// not echoed.
pub(crate) fn date(value: &Value<'_>) -> Result<NaiveDate, Problem> {
    let s = text(value)?;
    let b = s.as_bytes();
    if b.len() == 10 && date_shape(b) {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(d);
        }
    }
    Err("must be a real date written YYYY-MM-DD".into())
}

/// A whole number from 1 to 999,999,999 (`0*[1-9][0-9]{0,8}` as text).
pub(crate) fn positive_int(value: &Value<'_>) -> Result<u32, Problem> {
    let bad = |shown: &str| format!("{shown} is not a whole number from 1 to 999999999");
    match value {
        Value::Text(s) => {
            let digits = s.trim_start_matches('0');
            if !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && !digits.is_empty()
                && digits.len() <= 9
            {
                Ok(digits.parse().unwrap_or(0))
            } else {
                Err(bad(&quote(s)).into())
            }
        }
        Value::Number(n) => {
            let whole = n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as u64));
            match whole {
                Some(w) if (1..LIMIT as u64).contains(&w) => Ok(w as u32),
                _ => Err(bad(&n.to_string()).into()),
            }
        }
        Value::Other(what) => Err(format!("must be a number, not {what}").into()),
    }
}

/// A decimal number above zero and below 10^9.
pub(crate) fn positive_decimal(value: &Value<'_>) -> Result<f64, Problem> {
    let q = decimal(value, None)?;
    if q > 0.0 {
        Ok(q)
    } else {
        Err("must be more than 0".into())
    }
}

/// A decimal number from zero to below 10^9 (a stock count may be zero).
pub(crate) fn non_negative_decimal(value: &Value<'_>) -> Result<f64, Problem> {
    decimal(value, None)
}

/// An amount of money in yuan with at most two decimals, as whole fen, so
/// that no float rounding ever touches a fee.
pub(crate) fn money_fen(value: &Value<'_>) -> Result<i64, Problem> {
    match value {
        Value::Text(s) => {
            decimal(value, Some(2))?;
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            let whole: i64 = whole.trim_start_matches('0').parse().unwrap_or(0);
            let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
            Ok(whole * 100 + frac)
        }
        Value::Number(_) => {
            let yuan = decimal(value, None)?;
            let fen = (yuan * 100.0).round();
            if (yuan * 100.0 - fen).abs() > 1e-6 {
                return Err(format!("{yuan} has more than two decimals").into());
            }
            Ok(fen as i64)
        }
        Value::Other(what) => Err(format!("must be a number, not {what}").into()),
    }
}

/// A non-negative decimal below 10^9: as text `0*[0-9]{1,9}(\.[0-9]+)?`
/// (with at most `max_decimals` decimals), or a JSON number.
fn decimal(value: &Value<'_>, max_decimals: Option<usize>) -> Result<f64, Problem> {
    match value {
        Value::Text(s) => {
            let (whole, frac) = match s.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (s.as_ref(), None),
            };
            let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            let ok = digits(whole)
                && whole.trim_start_matches('0').len() <= 9
                && frac.is_none_or(|f| digits(f) && max_decimals.is_none_or(|m| f.len() <= m));
            if ok {
                Ok(s.parse().unwrap_or(0.0))
            } else if max_decimals.is_some() {
                Err(format!("{} is not an amount like 1234.50", quote(s)).into())
            } else {
                Err(format!("{} is not a decimal number like 1.5", quote(s)).into())
            }
        }
        Value::Number(n) => match n.as_f64() {
            Some(f) if (0.0..LIMIT).contains(&f) => Ok(f),
            _ => Err(format!("{n} is out of range (0 to 999999999)").into()),
        },
        Value::Other(what) => Err(format!("must be a number, not {what}").into()),
    }
}

/// A resident identity number (GB 11643): 18 characters whose check
/// character and birth date are right. The value itself is never echoed.
pub(crate) fn resident_id(value: &Value<'_>) -> Result<Sensitive, Problem> {
    let s = text(value)?;
    if !looks_like_resident_id(s) {
        return Err("a resident ID has 18 characters: 17 digits and a check character".into());
    }
    if resident_id_valid(s) {
        Ok(Sensitive::new(s))
    } else if NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").is_err() {
        Err("the birth date inside the resident ID is not a real date".into())
    } else {
        Err("check character does not match".into())
    }
}

/// A donor's ID number, whose type the document does not say: checked as a
/// resident ID where it has that shape (a passport number never does).
pub(crate) fn donor_id(value: &Value<'_>) -> Result<Sensitive, Problem> {
    let s = text(value)?;
    if looks_like_resident_id(s) {
        resident_id(value)
    } else {
        Ok(Sensitive::new(s))
    }
}

fn looks_like_resident_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x')
}

fn date_shape(b: &[u8]) -> bool {
    let d = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    d(0..4) && b[4] == b'-' && d(5..7) && b[7] == b'-' && d(8..10)
}

/// Checks the lexical form of a date-time; `Some(has_seconds)` when it fits.
fn iso_shape(b: &[u8]) -> Option<bool> {
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 10 || !date_shape(b) {
        return None;
    }
    if b.len() == 10 {
        return Some(false);
    }
    if !matches!(b[10], b'T' | b' ')
        || !digits(11..13)
        || b.get(13) != Some(&b':')
        || !digits(14..16)
    {
        return None;
    }
    let mut i = 16;
    let mut has_seconds = false;
    if b.get(i) == Some(&b':') {
        if !digits(i + 1..i + 3) {
            return None;
        }
        has_seconds = true;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=9).contains(&n) {
                return None;
            }
            i += 1 + n;
        }
    }
    let zone_ok = match b.get(i) {
        None => true,
        Some(b'Z') => b.len() == i + 1,
        Some(b'+' | b'-') => {
            b.len() == i + 6 && digits(i + 1..i + 3) && b[i + 3] == b':' && digits(i + 4..i + 6)
        }
        Some(_) => false,
    };
    zone_ok.then_some(has_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value<'_> {
        Value::Text(Cow::Borrowed(s))
    }

    fn n(json: &str) -> Value<'static> {
        Value::Number(serde_json::from_str(json).unwrap())
    }

    const SH: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn every_accepted_time_form_parses() {
        for (s, want) in [
            ("2026-11-22", "2026-11-22T00:00:00+08:00"),
            ("2026-11-22T08:00", "2026-11-22T08:00:00+08:00"),
            ("2026-11-22 08:00", "2026-11-22T08:00:00+08:00"),
            ("2026-11-22T08:00:05", "2026-11-22T08:00:05+08:00"),
            (
                "2026-11-22T08:00:05.123456789",
                "2026-11-22T08:00:05.123456789+08:00",
            ),
            ("2026-11-22T08:00Z", "2026-11-22T08:00:00+00:00"),
            ("2026-11-22 08:00Z", "2026-11-22T08:00:00+00:00"),
            ("2026-11-22T08:00+08:00", "2026-11-22T08:00:00+08:00"),
            ("2026-11-22T08:00:05Z", "2026-11-22T08:00:05+00:00"),
            (
                "2026-11-22 08:00:05.5-05:30",
                "2026-11-22T08:00:05.500-05:30",
            ),
        ] {
            assert_eq!(time(&t(s), SH).unwrap().to_rfc3339(), want, "{s}");
        }
        for s in [
            "2026-11-22T08",
            "2026-11-22T08:00:05.",
            "2026-11-22T08:00:05.1234567890",
            "2026-11-22T08:00+0800",
            "2026-11-22T08:00:05+08",
            "2026-11-22T",
            "22/11/2026",
            "2026-13-01",
            "2026-11-22T25:00",
            "2026-11-22T08:00:05ZZ",
        ] {
            assert!(time(&t(s), SH).is_err(), "{s}");
        }
    }

    #[test]
    fn numbers_as_text_and_json() {
        assert_eq!(positive_int(&t("200")).unwrap(), 200);
        assert_eq!(positive_int(&t("0200")).unwrap(), 200);
        assert_eq!(positive_int(&n("200")).unwrap(), 200);
        assert_eq!(positive_int(&n("200.0")).unwrap(), 200);
        for bad in ["0", "", "-1", "1.5", "+1", " 1", "1000000000"] {
            assert!(positive_int(&t(bad)).is_err(), "{bad}");
        }
        assert!(positive_int(&n("1.5")).is_err());
        assert!(positive_int(&n("0")).is_err());
        assert!(positive_int(&n("1000000000")).is_err());
        assert_eq!(positive_decimal(&t("1.5")).unwrap(), 1.5);
        assert_eq!(positive_decimal(&t("0.5")).unwrap(), 0.5);
        assert!(positive_decimal(&t("0.0")).is_err());
        assert!(positive_decimal(&t(".5")).is_err());
        assert!(positive_decimal(&t("1.")).is_err());
        assert!(positive_decimal(&t("1e3")).is_err());
        assert!(positive_decimal(&n("-1")).is_err());
        assert_eq!(non_negative_decimal(&t("0")).unwrap(), 0.0);
        assert_eq!(money_fen(&t("1200")).unwrap(), 120_000);
        assert_eq!(money_fen(&t("1200.5")).unwrap(), 120_050);
        assert_eq!(money_fen(&t("0.07")).unwrap(), 7);
        assert!(money_fen(&t("1.005")).is_err());
        assert_eq!(money_fen(&n("1200.35")).unwrap(), 120_035);
        assert_eq!(money_fen(&n("0.07")).unwrap(), 7);
        assert!(money_fen(&n("1.005")).is_err());
        assert!(text(&n("5")).is_err());
    }

    #[test]
    fn groups_are_exact() {
        assert_eq!(abo(&t("AB")).unwrap(), Abo::AB);
        assert_eq!(
            abo(&t("C")).unwrap_err(),
            "\"C\" is not a blood group (A, B, O, AB)"
        );
        assert!(abo(&t("AB型")).is_err());
        assert_eq!(rh(&t("阴性")).unwrap(), Rh::Neg);
        assert_eq!(rh(&t("+")).unwrap(), Rh::Pos);
        assert!(rh(&t("POS")).is_err());
    }

    #[test]
    fn resident_ids_never_echo() {
        assert!(resident_id(&t("11010519491231002X")).is_ok());
        let err = resident_id(&t("110105194912310021")).unwrap_err();
        assert_eq!(err, "check character does not match");
        assert!(!err.contains("1101"));
        assert!(resident_id(&t("1101051949123100")).is_err());
        assert!(donor_id(&t("E12345678")).is_ok());
        assert!(donor_id(&t("110105194912310021")).is_err());
    }

    #[test]
    fn dins_are_canonical() {
        assert_eq!(din(&t("W000026000001")).unwrap(), "W000026000001");
        assert!(din(&t("a b")).is_err());
    }
}
