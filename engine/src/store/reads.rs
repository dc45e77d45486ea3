//! What traces and the API read back: units, their events, and the units
//! linked to a patient or a donor. Each read is an indexed look-up
//! (`units` by primary key or donor, `events` by unit or patient).

use super::{RowExt, Store};
use anyhow::Result;
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitRow {
    pub din: String,
    pub product: String,
    pub modifiers: Option<Value>,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub volume_ml: Option<i64>,
    pub quantity: Option<f64>,
    pub measure: String,
    pub expires: Option<String>,
    pub station: Option<String>,
    pub donor_key: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRow {
    pub kind: String,
    pub at: String,
    #[serde(skip)]
    pub at_ms: i64,
    pub facility: String,
    pub patient_key: Option<String>,
    pub message_id: i64,
    pub channel: String,
    pub detail: Value,
    #[serde(skip)]
    pub din: String,
    #[serde(skip)]
    pub product: String,
}

const UNIT_COLUMNS: &str =
    "din, product, modifiers, abo, rh, volume_ml, quantity, measure, expires, station, donor_key";
const EVENT_COLUMNS: &str =
    "din, product, kind, at_ms, at_text, facility, patient_key, message_id, channel, detail";

impl Store {
    /// The components known under a DIN (one, or several products).
    pub async fn units_by_din(&self, din: &str, product: Option<&str>) -> Result<Vec<UnitRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE din = $1 AND ($2 IS NULL OR product = $2) \
             ORDER BY product"
        ))
        .bind(din)
        .bind(product)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(unit_from_row).collect())
    }

    pub async fn units_by_donor(&self, donor_key: &str) -> Result<Vec<UnitRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE donor_key = $1 ORDER BY din, product"
        ))
        .bind(donor_key)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(unit_from_row).collect())
    }

    /// A unit's events in time order (ties keep the order they were stored).
    pub async fn unit_events(&self, din: &str, product: &str) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE din = $1 AND product = $2 \
             ORDER BY at_ms, id"
        ))
        .bind(din)
        .bind(product)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    pub async fn message_events(&self, message_id: i64) -> Result<Vec<EventRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE message_id = $1 ORDER BY id"
        ))
        .bind(message_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    /// (DIN, product) of every unit with a clinical event for a patient;
    /// `facility` narrows to one hospital's patient key.
    pub async fn patient_units(
        &self,
        patient_key: &str,
        facility: Option<&str>,
    ) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT DISTINCT din, product FROM events WHERE patient_key = $1 \
             AND ($2 IS NULL OR facility = $2) ORDER BY din, product",
        )
        .bind(patient_key)
        .bind(facility)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.text("din").unwrap_or_default(),
                    r.text("product").unwrap_or_default(),
                )
            })
            .collect())
    }
}

fn unit_from_row(r: &AnyRow) -> UnitRow {
    UnitRow {
        din: r.text("din").unwrap_or_default(),
        product: r.text("product").unwrap_or_default(),
        modifiers: r
            .text("modifiers")
            .and_then(|m| serde_json::from_str(&m).ok()),
        abo: r.text("abo"),
        rh: r.text("rh"),
        volume_ml: r.int("volume_ml"),
        quantity: sqlx::Row::try_get::<Option<f64>, _>(r, "quantity")
            .ok()
            .flatten(),
        measure: r.text("measure").unwrap_or_default(),
        expires: r.text("expires"),
        station: r.text("station"),
        donor_key: r.text("donor_key"),
    }
}

fn event_from_row(r: &AnyRow) -> EventRow {
    EventRow {
        kind: r.text("kind").unwrap_or_default(),
        at: r.text("at_text").unwrap_or_default(),
        at_ms: r.int("at_ms").unwrap_or_default(),
        facility: r.text("facility").unwrap_or_default(),
        patient_key: r.text("patient_key"),
        message_id: r.int("message_id").unwrap_or_default(),
        channel: r.text("channel").unwrap_or_default(),
        detail: r
            .text("detail")
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(Value::Null),
        din: r.text("din").unwrap_or_default(),
        product: r.text("product").unwrap_or_default(),
    }
}

/// What the completeness audit reads for one hospital and period: every
/// event of every unit that had any event at the hospital in the period, the
/// units themselves, and the blood groups of the hospital's patients.
pub struct AuditRows {
    pub units: Vec<UnitRow>,
    pub events: Vec<EventRow>,
    /// (patient key, ABO, RhD) of the hospital's patients with a known group.
    pub patient_groups: Vec<(String, Option<String>, Option<String>)>,
}

impl Store {
    pub async fn audit_rows(&self, hospital: &str, from_ms: i64, to_ms: i64) -> Result<AuditRows> {
        let scope = "SELECT DISTINCT din, product FROM events \
                     WHERE facility = $1 AND at_ms >= $2 AND at_ms < $3";
        let events = sqlx::query(&format!(
            "SELECT e.din, e.product, e.kind, e.at_ms, e.at_text, e.facility, e.patient_key, \
             e.message_id, e.channel, e.detail FROM events e \
             JOIN ({scope}) s ON e.din = s.din AND e.product = s.product \
             ORDER BY e.din, e.product, e.at_ms, e.id"
        ))
        .bind(hospital)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        let units = sqlx::query(&format!(
            "SELECT u.din, u.product, u.modifiers, u.abo, u.rh, u.volume_ml, u.quantity, \
             u.measure, u.expires, u.station, u.donor_key FROM units u \
             JOIN ({scope}) s ON u.din = s.din AND u.product = s.product ORDER BY u.din, u.product"
        ))
        .bind(hospital)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        let patients = sqlx::query(
            "SELECT patient_key, abo, rh FROM patients WHERE facility = $1 \
             AND (abo IS NOT NULL OR rh IS NOT NULL)",
        )
        .bind(hospital)
        .fetch_all(self.pool())
        .await?;
        Ok(AuditRows {
            units: units.iter().map(unit_from_row).collect(),
            events: events.iter().map(event_from_row).collect(),
            patient_groups: patients
                .iter()
                .map(|r| {
                    (
                        r.text("patient_key").unwrap_or_default(),
                        r.text("abo"),
                        r.text("rh"),
                    )
                })
                .collect(),
        })
    }
}
