//! Store rows → canonical types for the FHIR mapping. Reads only what the
//! export maps: the patient query never selects the name or ID number
//! ciphertexts.

use crate::store::reads::{EventRow, UnitRow};
use crate::store::{RowExt, Store};
use anyhow::Result;
use chrono::DateTime;
use hemobridge_canonical::{
    Abo, BloodUnit, EventDetail, EventKind, Measure, Modifiers, Patient, Product, Rh, Sex,
    UnitEvent, UnitKey,
};
use hemobridge_fhir::resources::WaiverClaim;

fn abo(s: Option<&str>) -> Option<Abo> {
    match s? {
        "A" => Some(Abo::A),
        "B" => Some(Abo::B),
        "O" => Some(Abo::O),
        "AB" => Some(Abo::AB),
        _ => None,
    }
}

fn rh(s: Option<&str>) -> Option<Rh> {
    match s? {
        "+" => Some(Rh::Pos),
        "-" => Some(Rh::Neg),
        _ => None,
    }
}

/// A hospital's patient, without name or ID number.
pub async fn patient(store: &Store, facility: &str, key: &str) -> Result<Option<Patient>> {
    let row = sqlx::query(
        "SELECT facility, patient_key, sex, abo, rh FROM patients \
         WHERE facility = $1 AND patient_key = $2",
    )
    .bind(facility)
    .bind(key)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| {
        let mut p = Patient::new(
            r.text("facility").unwrap_or_default(),
            r.text("patient_key").unwrap_or_default(),
        );
        p.sex = r.text("sex").and_then(|s| Sex::parse(&s));
        p.blood_group.abo = abo(r.text("abo").as_deref());
        p.blood_group.rh = rh(r.text("rh").as_deref());
        p
    }))
}

/// (facility, key) of the patients with this key (in one facility, or any).
pub async fn patient_keys(
    store: &Store,
    key: &str,
    facility: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT facility, patient_key FROM patients WHERE patient_key = $1 \
         AND ($2 = '' OR facility = $2) ORDER BY facility",
    )
    .bind(key)
    .bind(facility.unwrap_or(""))
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.text("facility").unwrap_or_default(),
                r.text("patient_key").unwrap_or_default(),
            )
        })
        .collect())
}

/// One event by its natural key (`events.event_key`, unique).
pub async fn event_by_key(store: &Store, event_key: &str) -> Result<Option<UnitEvent>> {
    let row = sqlx::query(
        "SELECT din, product, kind, at_text, facility, patient_key, detail FROM events \
         WHERE event_key = $1",
    )
    .bind(event_key)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.and_then(|r| {
        event(
            &r.text("din")?,
            &r.text("product")?,
            &r.text("kind")?,
            &r.text("at_text")?,
            &r.text("facility")?,
            r.text("patient_key"),
            r.text("detail")
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default(),
        )
    }))
}

fn event(
    din: &str,
    product: &str,
    kind: &str,
    at: &str,
    facility: &str,
    patient_key: Option<String>,
    detail: EventDetail,
) -> Option<UnitEvent> {
    let unit = UnitKey {
        din: din.to_string(),
        product: Product::from_code(product)?,
    };
    let mut e = UnitEvent::new(
        EventKind::parse(kind)?,
        DateTime::parse_from_rfc3339(at).ok()?,
        facility,
        unit,
    );
    e.patient_key = patient_key;
    e.detail = detail;
    Some(e)
}

/// A trace event row as a canonical event (`None` for a row the current
/// code cannot read: an unknown product or kind).
pub fn unit_event(r: &EventRow) -> Option<UnitEvent> {
    event(
        &r.din,
        &r.product,
        &r.kind,
        &r.at,
        &r.facility,
        r.patient_key.clone(),
        serde_json::from_value(r.detail.clone()).unwrap_or_default(),
    )
}

/// A unit row as a canonical unit (`None` for an unknown product code).
pub fn blood_unit(r: &UnitRow) -> Option<BloodUnit> {
    let product = Product::from_code(&r.product)?;
    let mut u = BloodUnit::new(r.din.clone(), product);
    u.modifiers = r
        .modifiers
        .clone()
        .and_then(|m| serde_json::from_value::<Modifiers>(m).ok())
        .unwrap_or_default();
    u.abo = abo(r.abo.as_deref());
    u.rh = rh(r.rh.as_deref());
    u.volume_ml = r.volume_ml.and_then(|v| u32::try_from(v).ok());
    u.quantity = r.quantity;
    u.measure = Measure::parse(&r.measure).unwrap_or(product.measure());
    u.expires = r
        .expires
        .as_deref()
        .and_then(|e| DateTime::parse_from_rfc3339(e).ok());
    u.station = r.station.clone();
    u.donor_key = r.donor_key.clone();
    Some(u)
}

/// A hospital's waiver claim (no donor identity is selected).
pub async fn waiver_claim(
    store: &Store,
    hospital: &str,
    claim_id: &str,
) -> Result<Option<WaiverClaim>> {
    let row = sqlx::query(
        "SELECT hospital, claim_id, patient_key, status, blood_fee_fen, waived_fen, \
         patient_pays_fen, waived_ml, decided_at FROM waiver_claims \
         WHERE hospital = $1 AND claim_id = $2",
    )
    .bind(hospital)
    .bind(claim_id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.and_then(|r| {
        Some(WaiverClaim {
            hospital: r.text("hospital")?,
            claim_id: r.text("claim_id")?,
            patient_key: r.text("patient_key"),
            status: r.text("status")?,
            blood_fee_fen: r.int("blood_fee_fen")?,
            waived_fen: r.int("waived_fen")?,
            patient_pays_fen: r.int("patient_pays_fen")?,
            waived_ml: r.int("waived_ml")?,
            decided_at: DateTime::parse_from_rfc3339(&r.text("decided_at")?).ok()?,
        })
    }))
}
