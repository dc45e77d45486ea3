//! `POST /api/v1/waivers`, `GET /api/v1/waivers/{claimId}`,
//! `POST /api/v1/waivers/{claimId}/cancel`: direct-waiver claims at
//! discharge (用血费用直接减免, `docs/waivers.md`).
//!
//! The body is the document's `WaiverClaim` record as JSON; the answer is the
//! contract's decision. A hospital token claims as its own facility; an admin
//! token names the hospital (`hospital` in the body, `?hospital=` on the
//! other two). The donor is found by the keyed hash of the ID number, which
//! is never logged, stored in clear or echoed, nor is any name.

use super::error::ApiError;
use super::AppState;
use crate::store::admin::{Principal, Role};
use crate::store::waivers::{StoredWaiver, WaiverRequest};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use hemobridge_waivers::{money, Decision, Relationship};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimBody {
    claim_id: Option<Value>,
    patient: Option<Value>,
    donor_id_number: Option<Value>,
    donor_name: Option<Value>,
    relationship: Option<Value>,
    blood_fee: Option<Value>,
    discharged_at: Option<Value>,
    units_used_ml: Option<Value>,
    hospital: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct HospitalParam {
    hospital: Option<String>,
}

/// A value as text: strings as they are, numbers in their JSON spelling.
fn text(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// `"1234.5"` → 123450 fen; at most two decimals, never negative.
fn parse_fen(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(frac)
}

fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    // Without an offset: site-local (China, +08:00).
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok()?;
    FixedOffset::east_opt(8 * 3600)?
        .from_local_datetime(&naive)
        .single()
}

/// Yuan with two decimals as a JSON number (`1200.0`, `123.45`).
fn yuan_number(fen: i64) -> Value {
    money::yuan(fen)
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// The contract's decision JSON.
fn render(hospital: &str, d: &Decision) -> Value {
    json!({
        "claimId": d.claim_id,
        "hospital": hospital,
        "decision": d.kind.as_str(),
        "waivedMl": d.waived_ml,
        "waivedYuan": yuan_number(d.waived_fen),
        "patientPaysYuan": yuan_number(d.patient_pays_fen),
        "reason": d.reason.message,
        "reasonCode": d.reason.code.as_str(),
        "rule": {"id": d.rule.id, "version": d.rule.version},
        "remaining": {
            "selfMl": d.remaining.self_ml,
            "relativesMl": d.remaining.relatives_ml.unwrap_or(0),
        },
    })
}

fn answer(stored: StoredWaiver) -> Json<Value> {
    let mut body = stored.answer;
    body["status"] = json!(stored.status);
    Json(body)
}

/// The hospital a principal acts as: its own facility, or the one an admin
/// names.
fn acting_hospital(principal: &Principal, named: Option<String>) -> Result<String, ApiError> {
    match principal.role {
        Role::Hospital => {
            let own = principal.facility.clone().unwrap_or_default();
            match named {
                Some(h) if !h.is_empty() && h != own => Err(ApiError::forbidden(format!(
                    "this token may only act as {own}"
                ))),
                _ => Ok(own),
            }
        }
        Role::Admin => match named {
            Some(h) if !h.is_empty() => Ok(h),
            _ => Err(ApiError::unprocessable(
                "an admin token must name the hospital",
                vec![("hospital".into(), "required for an admin token".into())],
            )),
        },
        Role::Regulator => Err(ApiError::forbidden(
            "a regulator token may read waiver claims, not make or cancel them",
        )),
    }
}

/// `POST /api/v1/waivers`.
pub async fn claim(
    State(state): State<AppState>,
    principal: Principal,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    // serde's messages may quote values (the donor's ID number): give only
    // the position.
    let body: ClaimBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "body",
            format!(
                "not a WaiverClaim JSON object (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let hospital = acting_hospital(&principal, text(&body.hospital))?;

    let mut errors: Vec<(String, String)> = Vec::new();
    let mut need = |path: &str, v: &Option<Value>| -> Option<String> {
        match text(v) {
            Some(s) if !s.is_empty() => Some(s),
            _ => {
                errors.push((path.into(), "required".into()));
                None
            }
        }
    };
    let claim_id = need("claimId", &body.claim_id);
    let patient = need("patient", &body.patient);
    let donor_id = need("donorIdNumber", &body.donor_id_number);
    let relationship = need("relationship", &body.relationship);
    let fee = need("bloodFee", &body.blood_fee);
    let discharged = need("dischargedAt", &body.discharged_at);
    let volume = need("unitsUsedMl", &body.units_used_ml);
    if body.donor_name.is_some() && text(&body.donor_name).is_none() {
        errors.push(("donorName".into(), "expected a string".into()));
    }
    if let Some(c) = &claim_id {
        if c.chars().count() > 64 {
            errors.push(("claimId".into(), "at most 64 characters".into()));
        }
    }
    let donor_id = donor_id.map(|d| d.to_ascii_uppercase());
    if let Some(d) = &donor_id {
        if !hemobridge_canonical::ids::resident_id_valid(d) {
            // The value itself is not repeated.
            errors.push((
                "donorIdNumber".into(),
                "not a valid resident ID number (GB 11643 check character)".into(),
            ));
        }
    }
    let relationship = relationship.and_then(|r| match r.parse::<Relationship>() {
        Ok(r) => Some(r),
        Err(_) => {
            let words: Vec<&str> = Relationship::WORDS.iter().map(|(w, _)| *w).collect();
            errors.push((
                "relationship".into(),
                format!("{r:?} is not one of {}", words.join(", ")),
            ));
            None
        }
    });
    let fee_fen = fee.and_then(|f| match parse_fen(&f) {
        Some(fen) if fen > 0 => Some(fen),
        _ => {
            errors.push((
                "bloodFee".into(),
                format!("{f:?} is not a positive amount in yuan (at most 2 decimals)"),
            ));
            None
        }
    });
    let volume_ml = volume.and_then(|v| match v.parse::<u32>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            errors.push((
                "unitsUsedMl".into(),
                format!("{v:?} is not a positive whole number of mL"),
            ));
            None
        }
    });
    let at = discharged.and_then(|d| match parse_time(&d) {
        Some(t) => Some(t),
        None => {
            errors.push((
                "dischargedAt".into(),
                format!("{d:?} is not an ISO 8601 time"),
            ));
            None
        }
    });
    let (
        true,
        Some(claim_id),
        Some(patient),
        Some(donor_id),
        Some(relationship),
        Some(blood_fee_fen),
        Some(volume_ml),
        Some(at),
    ) = (
        errors.is_empty(),
        claim_id,
        patient,
        donor_id,
        relationship,
        fee_fen,
        volume_ml,
        at,
    )
    else {
        return Err(ApiError::unprocessable(
            format!(
                "the claim is invalid ({} {}); see details",
                errors.len(),
                if errors.len() == 1 { "error" } else { "errors" }
            ),
            errors,
        ));
    };

    let req = WaiverRequest {
        donor_id_mac: state.store.vault().lookup_hash(&donor_id),
        hospital: hospital.clone(),
        claim_id,
        relationship,
        blood_fee_fen,
        volume_ml,
        at,
        patient_key: Some(patient),
    };
    let render = move |d: &Decision| render(&hospital, d);
    let stored = state
        .store
        .decide_waiver(&state.waiver_rule, &req, &render)
        .await?;
    Ok(answer(stored))
}

/// `GET /api/v1/waivers/{claimId}`: a hospital reads its own claims.
pub async fn one(
    State(state): State<AppState>,
    principal: Principal,
    Path(claim_id): Path<String>,
    Query(p): Query<HospitalParam>,
) -> Result<Json<Value>, ApiError> {
    let hospital = match principal.scope() {
        Some(own) => Some(own.to_owned()),
        None => p.hospital.filter(|h| !h.is_empty()),
    };
    match state.store.waiver(hospital.as_deref(), &claim_id).await? {
        Some(stored) => Ok(answer(stored)),
        None => Err(ApiError::not_found(format!("no waiver claim {claim_id:?}"))),
    }
}

/// `POST /api/v1/waivers/{claimId}/cancel`: a hospital cancels its own
/// claim; the entitlement it took is restored. Cancelling again is fine.
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    Path(claim_id): Path<String>,
    Query(p): Query<HospitalParam>,
) -> Result<Json<Value>, ApiError> {
    let hospital = acting_hospital(&principal, p.hospital)?;
    match state.store.cancel_waiver(&hospital, &claim_id).await? {
        Some(stored) => Ok(answer(stored)),
        None => Err(ApiError::not_found(format!("no waiver claim {claim_id:?}"))),
    }
}
