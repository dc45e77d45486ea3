//! The HL7 data types that BPX and BTX share (DTM, EI, CNE/CWE, NM, CE),
//! read into canonical values. An absent optional value is `None` without an
//! issue; a value that is present but unreadable is an error located at its
//! field, and also `None`, so that reading goes on and every problem of a
//! message is reported at once.

use crate::reader::{Repetition, Segment};
use crate::{ErrorCode, Issue};
use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use hemobridge_canonical::{ids, time, BloodGroup, Measure, Modifiers, Product, ProductTable};
use std::borrow::Cow;

/// A required DTM field.
pub(crate) fn required_time(
    segment: &Segment,
    n: usize,
    zone: Tz,
    issues: &mut Vec<Issue>,
) -> Option<DateTime<FixedOffset>> {
    if segment.field(n).is_empty() {
        issues.push(segment.issue(
            ErrorCode::RequiredFieldMissing,
            n,
            format!("{}-{n} (date/time) is empty", segment.name),
        ));
        return None;
    }
    time(segment, n, zone, issues)
}

/// An optional DTM field. Times without an offset are in the site's zone.
pub(crate) fn time(
    segment: &Segment,
    n: usize,
    zone: Tz,
    issues: &mut Vec<Issue>,
) -> Option<DateTime<FixedOffset>> {
    let value = segment.field(n).text();
    if value.is_empty() {
        return None;
    }
    match time::parse_hl7(&value, zone) {
        Ok(t) => Some(t),
        Err(e) => {
            issues.push(segment.issue(
                ErrorCode::DataType,
                n,
                format!("{}-{n} is not a date/time: {e}", segment.name),
            ));
            None
        }
    }
}

/// A donation identification number (EI.1), checked and in canonical form
/// (ISBT 128 flag and check characters dropped).
pub(crate) fn donation_id(segment: &Segment, n: usize, issues: &mut Vec<Issue>) -> Option<String> {
    let value = segment.field(n).text();
    if value.is_empty() {
        issues.push(segment.issue(
            ErrorCode::RequiredFieldMissing,
            n,
            format!("{}-{n} (donation id) is empty", segment.name),
        ));
        return None;
    }
    if let Some(problem) = ids::din_error(&value) {
        issues.push(segment.issue(
            ErrorCode::DataType,
            n,
            format!("{}-{n} donation id: {problem}", segment.name),
        ));
        return None;
    }
    Some(ids::canonical_din(&value).to_string())
}

/// Products already looked up in one message, by the component field as
/// sent: a BPS names the same component in BPX after BPX, and a table
/// lookup folds and hashes the name.
#[derive(Debug, Default)]
pub(crate) struct ProductMemo<'t> {
    seen: Vec<(&'t str, Option<(Product, Modifiers)>)>,
}

/// A blood component (CNE): the code, else the text, through the product
/// table.
pub(crate) fn product<'t>(
    segment: &Segment<'t>,
    n: usize,
    products: &ProductTable,
    memo: &mut ProductMemo<'t>,
    issues: &mut Vec<Issue>,
) -> Option<(Product, Modifiers)> {
    let field = segment.field(n);
    let (code, text) = (field.component(1), field.component(2));
    if code.is_empty() && text.is_empty() {
        issues.push(segment.issue(
            ErrorCode::RequiredFieldMissing,
            n,
            format!("{}-{n} (blood component) is empty", segment.name),
        ));
        return None;
    }
    let raw = field.raw();
    let found = match memo.seen.iter().find(|(seen, _)| *seen == raw) {
        Some((_, found)) => *found,
        None => {
            let found = [&code, &text]
                .into_iter()
                .filter(|v| !v.is_empty())
                .find_map(|v| products.lookup(v));
            memo.seen.push((raw, found));
            found
        }
    };
    if found.is_none() {
        // Product codes and names are not personal data: naming them helps
        // the sender add a mapping.
        issues.push(segment.issue(
            ErrorCode::TableValueNotFound,
            n,
            format!(
                "{}-{n} blood component {} is not in the product table",
                segment.name,
                quoted_pair(&code, &text)
            ),
        ));
    }
    found
}

/// An ABO/RhD group (CNE): the code, else the text. Absent is `None`;
/// present but unreadable is an error.
pub(crate) fn blood_group(
    segment: &Segment,
    n: usize,
    issues: &mut Vec<Issue>,
) -> Option<BloodGroup> {
    coded(
        segment,
        n,
        issues,
        BloodGroup::parse,
        "blood group",
        "is not an ABO/RhD group",
    )
}

/// A non-negative number (NM).
pub(crate) fn number(segment: &Segment, n: usize, issues: &mut Vec<Issue>) -> Option<f64> {
    let value = segment.field(n).text();
    if value.is_empty() {
        return None;
    }
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
        _ => {
            issues.push(segment.issue(
                ErrorCode::DataType,
                n,
                format!("{}-{n} is not a non-negative number", segment.name),
            ));
            None
        }
    }
}

/// Units of measure (CE): `mL`, `U`/`单位`/`袋`, `dose`/`治疗量`.
pub(crate) fn measure(segment: &Segment, n: usize, issues: &mut Vec<Issue>) -> Option<Measure> {
    coded(
        segment,
        n,
        issues,
        Measure::parse,
        "unit",
        "is not mL, U or dose",
    )
}

/// A coded field (CE/CNE/CWE) read by its code, else its text. Empty is
/// `None`; present but unreadable is a table-value error (103) that quotes
/// the value (codes and product words, never personal data).
fn coded<T>(
    segment: &Segment,
    n: usize,
    issues: &mut Vec<Issue>,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
    problem: &str,
) -> Option<T> {
    let field = segment.field(n);
    let (code, text) = (field.component(1), field.component(2));
    if code.is_empty() && text.is_empty() {
        return None;
    }
    let found = [&code, &text]
        .into_iter()
        .filter(|v| !v.is_empty())
        .find_map(|v| parse(v));
    if found.is_none() {
        issues.push(segment.issue(
            ErrorCode::TableValueNotFound,
            n,
            format!(
                "{}-{n} {what} {} {problem}",
                segment.name,
                quoted_pair(&code, &text)
            ),
        ));
    }
    found
}

/// A coded value's code (CWE.1), else its text (CWE.2); `None` when both
/// are empty.
pub(crate) fn code_or_text<'t>(repetition: Repetition<'_, 't>) -> Option<Cow<'t, str>> {
    let code = repetition.component(1);
    if !code.is_empty() {
        return Some(code);
    }
    let text = repetition.component(2);
    (!text.is_empty()).then_some(text)
}

/// `"code"`, `"text"` or `"code"/"text"`, each cut to 40 characters.
fn quoted_pair(code: &str, text: &str) -> String {
    let cut = |s: &str| s.chars().take(40).collect::<String>();
    match (code.is_empty(), text.is_empty()) {
        (false, false) => format!("{:?}/{:?}", cut(code), cut(text)),
        (false, true) => format!("{:?}", cut(code)),
        _ => format!("{:?}", cut(text)),
    }
}
