//! The Shanghai platform's records of one hospital's day, read from the
//! store: units received and issued, transfusions and reactions (from the
//! day's events), and the end-of-day stock (from the daily submission).
//!
//! A record's id is the event's natural key (or the stock line's key). An
//! amended day sends what the previous version already covered with action
//! `update` (same id), and events recorded since that version with `new`.

use crate::daily::day::span_ms;
use crate::store::{RowExt, Store};
use anyhow::Result;
use chrono::{DateTime, FixedOffset, TimeZone};
use chrono_tz::Tz;
use hemobridge_outbound::shanghai::{
    Action, DayRecords, Reaction, StockLine, Transfusion, UnitMovement,
};
use hemobridge_submission::DailySubmission;
use serde_json::Value;

fn local_time(zone: Tz, at_text: Option<String>, at_ms: i64) -> DateTime<FixedOffset> {
    at_text
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .unwrap_or_else(|| {
            zone.timestamp_millis_opt(at_ms)
                .single()
                .map(|t| t.fixed_offset())
                .unwrap_or_default()
        })
}

fn detail_text(detail: &Value, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| detail.get(*n).and_then(Value::as_str).map(str::to_owned))
}

/// The records of `s`'s hospital and day.
pub async fn day_records(store: &Store, zone: Tz, s: &DailySubmission) -> Result<DayRecords> {
    // Events recorded after the previous version was computed are new to
    // the platform; the rest (and every stock line) were sent before.
    let previous_ms = if s.version > 1 {
        crate::daily::get(store, &s.hospital, s.date, Some(s.version - 1))
            .await?
            .map(|p| p.computed_at.timestamp_millis())
    } else {
        None
    };
    let stock_action = if previous_ms.is_some() {
        Action::Update
    } else {
        Action::New
    };
    let (from, to) = span_ms(zone, s.date);
    let rows = sqlx::query(
        "SELECT e.event_key, e.din, e.product, e.kind, e.at_ms, e.at_text, e.patient_key, \
         e.recorded_at, \
         e.detail, u.abo, u.rh, u.volume_ml, u.quantity, u.measure, u.station, u.expires \
         FROM events e LEFT JOIN units u ON u.din = e.din AND u.product = e.product \
         WHERE e.facility = $1 AND e.at_ms >= $2 AND e.at_ms < $3 \
         AND e.kind IN ('received', 'issued', 'transfused', 'reaction') \
         ORDER BY e.at_ms, e.id",
    )
    .bind(&s.hospital)
    .bind(from)
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    let mut day = DayRecords {
        hospital: s.hospital.clone(),
        date: s.date,
        ..DayRecords::default()
    };
    for r in &rows {
        let record_id = r.text("event_key").unwrap_or_default();
        let action = match previous_ms {
            Some(prev) if r.int("recorded_at").unwrap_or(0) <= prev => Action::Update,
            _ => Action::New,
        };
        let din = r.text("din").unwrap_or_default();
        let product = r.text("product").unwrap_or_default();
        let at = local_time(zone, r.text("at_text"), r.int("at_ms").unwrap_or(0));
        let detail: Value = r
            .text("detail")
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(Value::Null);
        let volume_ml = r.int("volume_ml").and_then(|v| u32::try_from(v).ok());
        let quantity = sqlx::Row::try_get::<Option<f64>, _>(r, "quantity")
            .ok()
            .flatten()
            .unwrap_or(1.0);
        let measure = r.text("measure").unwrap_or_else(|| "U".into());
        let patient_key = r.text("patient_key");
        match r.text("kind").as_deref() {
            Some(kind @ ("received" | "issued")) => {
                let movement = UnitMovement {
                    record_id,
                    action,
                    din,
                    product,
                    product_name: None,
                    abo: r.text("abo"),
                    rh: r.text("rh"),
                    quantity,
                    measure,
                    volume_ml,
                    at,
                    station: r.text("station"),
                    ward: detail_text(&detail, &["ward", "location"]),
                    patient_key,
                    expires: r
                        .text("expires")
                        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok()),
                };
                if kind == "received" {
                    day.receipts.push(movement);
                } else {
                    day.issues.push(movement);
                }
            }
            Some("transfused") => {
                // The platform's transfusion record needs the patient.
                let Some(patient_key) = patient_key else {
                    continue;
                };
                day.transfusions.push(Transfusion {
                    record_id,
                    action,
                    din,
                    product,
                    product_name: None,
                    abo: r.text("abo"),
                    rh: r.text("rh"),
                    quantity,
                    measure,
                    volume_ml,
                    started_at: at,
                    ended_at: None,
                    patient_key,
                    ward: detail_text(&detail, &["ward", "location"]),
                    diagnosis_icd10: None,
                    diagnosis_name: None,
                });
            }
            Some("reaction") => {
                let Some(patient_key) = patient_key else {
                    continue;
                };
                day.reactions.push(Reaction {
                    record_id,
                    action,
                    din: Some(din),
                    product: Some(product),
                    patient_key,
                    at,
                    category: detail_text(&detail, &["category", "type"])
                        .filter(|c| {
                            ["febrile", "allergic", "haemolytic", "other"].contains(&c.as_str())
                        })
                        .unwrap_or_else(|| "other".into()),
                    severity: detail_text(&detail, &["severity"])
                        .filter(|c| {
                            ["mild", "moderate", "severe", "death", "unknown"].contains(&c.as_str())
                        })
                        .unwrap_or_else(|| "unknown".into()),
                    description: None,
                });
            }
            _ => {}
        }
    }
    let end_of_day = local_time(zone, None, to - 1);
    for line in &s.lines {
        day.stock.push(StockLine {
            record_id: format!("stock/{}/{}/{}", s.hospital, s.date, line.key()),
            action: stock_action,
            product: line.product.clone(),
            product_name: None,
            abo: line.abo.clone(),
            rh: line.rh.clone(),
            quantity: line.stock_reported.unwrap_or(line.stock_computed),
            measure: line.measure.clone(),
            at: end_of_day,
        });
    }
    Ok(day)
}
