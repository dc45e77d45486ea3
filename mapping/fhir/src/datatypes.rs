//! Small constructors for the FHIR data types every resource uses, so that
//! the resource mappings read as "which field goes where".

use crate::MappingError;
use chrono::{DateTime as ChronoDateTime, Datelike, FixedOffset, NaiveDate};
use fhir_sdk::r5::types::{
    CodeableConcept, Coding, Identifier, Money, Period, Quantity, Reference,
};
use fhir_sdk::time;
use fhir_sdk::{Date, DateTime, Instant};

pub type Result<T> = std::result::Result<T, MappingError>;

pub fn coding(system: &str, code: &str, display: Option<&str>) -> Result<Coding> {
    let mut b = Coding::builder()
        .system(system.to_string())
        .code(code.to_string());
    if let Some(d) = display {
        b = b.display(d.to_string());
    }
    Ok(b.build()?)
}

pub fn concept(codings: Vec<Coding>, text: Option<&str>) -> Result<CodeableConcept> {
    let mut b = CodeableConcept::builder().coding(codings.into_iter().map(Some).collect());
    if let Some(t) = text {
        b = b.text(t.to_string());
    }
    Ok(b.build()?)
}

/// A concept with one coding.
pub fn concept1(system: &str, code: &str, display: Option<&str>) -> Result<CodeableConcept> {
    concept(vec![coding(system, code, display)?], None)
}

pub fn identifier(system: &str, value: &str) -> Result<Identifier> {
    Ok(Identifier::builder()
        .system(system.to_string())
        .value(value.to_string())
        .build()?)
}

/// A literal reference to a resource on the same server (`Type/id`).
pub fn reference(resource_type: &str, id: &str) -> Result<Reference> {
    Ok(Reference::builder()
        .reference(format!("{resource_type}/{id}"))
        .r#type(resource_type.to_string())
        .build()?)
}

/// A reference by business identifier, for a target this export does not
/// carry (the receiver resolves it, or keeps it as is).
pub fn logical_reference(resource_type: &str, identifier: Identifier) -> Result<Reference> {
    Ok(Reference::builder()
        .r#type(resource_type.to_string())
        .identifier(identifier)
        .build()?)
}

/// A reference that names nothing resolvable (a required reference whose
/// target the source did not send).
pub fn display_reference(display: &str) -> Result<Reference> {
    Ok(Reference::builder().display(display.to_string()).build()?)
}

pub fn instant(at: &ChronoDateTime<FixedOffset>) -> Result<Instant> {
    let offset = time::UtcOffset::from_whole_seconds(at.offset().local_minus_utc())
        .map_err(|e| MappingError::Value(format!("offset {}: {e}", at.offset())))?;
    let nanos =
        i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos());
    let utc = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|e| MappingError::Value(format!("time {at}: {e}")))?;
    Ok(Instant(utc.to_offset(offset)))
}

pub fn date_time(at: &ChronoDateTime<FixedOffset>) -> Result<DateTime> {
    Ok(DateTime::DateTime(instant(at)?))
}

pub fn date(day: &NaiveDate) -> Result<Date> {
    let month = time::Month::try_from(day.month() as u8)
        .map_err(|e| MappingError::Value(format!("date {day}: {e}")))?;
    let d = time::Date::from_calendar_date(day.year(), month, day.day() as u8)
        .map_err(|e| MappingError::Value(format!("date {day}: {e}")))?;
    Ok(Date::Date(d))
}

pub fn period(
    start: Option<&ChronoDateTime<FixedOffset>>,
    end: Option<&ChronoDateTime<FixedOffset>>,
) -> Result<Period> {
    let mut b = Period::builder();
    if let Some(s) = start {
        b = b.start(date_time(s)?);
    }
    if let Some(e) = end {
        b = b.end(date_time(e)?);
    }
    Ok(b.build()?)
}

/// A quantity in a product's measure: mL in UCUM; `U` and `dose` (which are
/// not UCUM units: UCUM's `U` is the enzyme unit) in hemobridge's system.
pub fn measure_quantity(value: f64, measure: &str) -> Result<Quantity> {
    let system = if measure == "mL" {
        crate::systems::UCUM
    } else {
        crate::systems::MEASURE
    };
    Ok(Quantity::builder()
        .value(value)
        .unit(measure.to_string())
        .system(system.to_string())
        .code(measure.to_string())
        .build()?)
}

/// Money in CNY from integer fen (money is never a float in the store).
pub fn cny(fen: i64) -> Result<Money> {
    Ok(Money::builder()
        .value(fen as f64 / 100.0)
        .currency("CNY".to_string())
        .build()?)
}
