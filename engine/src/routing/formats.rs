//! The build step of each route: a message → (kind, content type, body).
//! Pure: the caller gives the envelope (idempotency key, sender, time), so
//! the same input renders to the same bytes.

use hemobridge_outbound::provincial;
use hemobridge_outbound::shanghai::{self, DayRecords, ShanghaiConfig};
use hemobridge_outbound::Envelope;
use hemobridge_submission::DailySubmission;

pub const JSON: &str = "application/json";
pub const XML: &str = "application/xml; charset=utf-8";
pub const FHIR_JSON: &str = "application/fhir+json";

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub kind: &'static str,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

fn json(kind: &'static str, content_type: &'static str, value: &serde_json::Value) -> Rendered {
    Rendered {
        kind,
        content_type,
        body: serde_json::to_vec(value).expect("a JSON value serializes"),
    }
}

/// Provincial `daily-submission`.
pub fn provincial_daily(s: &DailySubmission, e: &Envelope) -> Rendered {
    json("daily", JSON, &provincial::daily(s, e))
}

/// Provincial `stock-snapshot`.
pub fn provincial_stock(s: &provincial::StockSnapshot, e: &Envelope) -> Rendered {
    json("stock", JSON, &provincial::stock(s, e))
}

/// Provincial `waiver-claim`.
pub fn provincial_waiver(w: &provincial::WaiverClaimMessage, e: &Envelope) -> Rendered {
    json("waiver-claim", JSON, &provincial::waiver(w, e))
}

/// Provincial `waiver-cancel`.
pub fn provincial_waiver_cancel(c: &provincial::WaiverCancel, e: &Envelope) -> Rendered {
    json("waiver-cancel", JSON, &provincial::waiver_cancel(c, e))
}

/// Shanghai daily envelope of the day's records; the error lists every bad
/// field of the records.
pub fn shanghai_daily(
    day: &DayRecords,
    config: &ShanghaiConfig,
    e: &Envelope,
) -> Result<Rendered, shanghai::InvalidRecords> {
    Ok(Rendered {
        kind: "daily-xml",
        content_type: XML,
        body: shanghai::daily(day, config, e)?.into_bytes(),
    })
}

/// FHIR transaction Bundle of the day's `MeasureReport`.
pub fn fhir_daily(s: &DailySubmission) -> Result<Rendered, hemobridge_fhir::MappingError> {
    Ok(json(
        "fhir-bundle",
        FHIR_JSON,
        &hemobridge_fhir::daily_bundle_json(s)?,
    ))
}

/// The day's aggregate figures in the Shanghai XML form (the `?format=xml`
/// answer of `GET /api/v1/daily/{hospital}/{date}`).
pub fn shanghai_summary(s: &DailySubmission) -> String {
    shanghai::daily_summary(s, &ShanghaiConfig::default())
}
