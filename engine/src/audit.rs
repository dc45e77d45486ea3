//! The completeness audit: per hospital and period, how many units reached
//! a final disposition, and every chain that is broken, by rule.
//!
//! The rules and the reason each matters are in `docs/traceability.md`.
//! This module is pure: it works on the rows the store returns
//! ([`AuditRows`]) and a "now", so that a test can state exactly which
//! units each rule must find.

use crate::store::reads::{AuditRows, EventRow, UnitRow};
use hemobridge_canonical::{Category, EventKind, Product};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

const HOUR_MS: i64 = 3_600_000;

/// The rules, in the order the report lists them.
pub const RULES: [(&str, &str); 7] = [
    (
        "issued-no-transfusion-24h",
        "issued with no transfusion, return or discard after 24 h",
    ),
    (
        "issued-no-transfusion-72h",
        "issued with no transfusion, return or discard after 72 h",
    ),
    (
        "transfused-without-issue",
        "transfused with no issue record",
    ),
    (
        "received-without-dispatch",
        "received from a known blood station that sent no dispatch record",
    ),
    (
        "out-of-order",
        "events out of order (transfused before issued)",
    ),
    ("expired-transfused", "transfused after the unit's expiry"),
    (
        "abo-rh-mismatch",
        "ABO/RhD incompatible between patient and unit",
    ),
];

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FindingUnit {
    pub din: String,
    pub product: String,
    /// When the finding's event happened (ISO 8601).
    pub at: Option<String>,
    pub patient_key: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule: &'static str,
    pub title: &'static str,
    pub count: usize,
    pub units: Vec<FindingUnit>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HospitalAudit {
    pub hospital: String,
    /// Units received at the hospital in the period.
    pub units_received: usize,
    /// Of those, units with a final disposition (transfused, discarded, or
    /// passed on to another hospital).
    pub with_final_disposition: usize,
    /// `with_final_disposition / units_received`, or null with no units.
    pub share: Option<f64>,
    pub findings: Vec<Finding>,
}

/// Audits one hospital. `stations` are the registered blood-station codes;
/// `now_ms` is the time the 24 h / 72 h rules count to.
pub fn audit_hospital(
    hospital: &str,
    rows: &AuditRows,
    stations: &HashSet<String>,
    now_ms: i64,
) -> HospitalAudit {
    let units: HashMap<(&str, &str), &UnitRow> = rows
        .units
        .iter()
        .map(|u| ((u.din.as_str(), u.product.as_str()), u))
        .collect();
    let groups: HashMap<&str, (Option<&str>, Option<&str>)> = rows
        .patient_groups
        .iter()
        .map(|(k, a, r)| (k.as_str(), (a.as_deref(), r.as_deref())))
        .collect();
    let mut by_unit: BTreeMap<(&str, &str), Vec<(&EventRow, EventKind)>> = BTreeMap::new();
    for e in &rows.events {
        if let Some(kind) = EventKind::parse(&e.kind) {
            by_unit
                .entry((e.din.as_str(), e.product.as_str()))
                .or_default()
                .push((e, kind));
        }
    }
    let mut found: BTreeMap<&'static str, Vec<FindingUnit>> = BTreeMap::new();
    let mut received = 0;
    let mut finalised = 0;
    for ((din, product), mut events) in by_unit {
        events.sort_by_key(|(e, k)| (e.at_ms, k.chain_rank()));
        // Only this hospital's part of the chain is judged here; a unit
        // passed on is judged again at the hospital that received it.
        let here: Vec<(&EventRow, EventKind)> = events
            .iter()
            .filter(|(e, k)| e.facility == hospital || is_upstream(*k))
            .copied()
            .collect();
        let mut push = |rule: &'static str, e: Option<&EventRow>, note: Option<String>| {
            found.entry(rule).or_default().push(FindingUnit {
                din: din.to_string(),
                product: product.to_string(),
                at: e.map(|e| e.at.clone()),
                patient_key: e.and_then(|e| e.patient_key.clone()),
                note,
            });
        };
        let receipt = here
            .iter()
            .find(|(e, k)| *k == EventKind::Received && e.facility == hospital);
        if let Some((r, _)) = receipt {
            received += 1;
            let last_state = here
                .iter()
                .rev()
                .find(|(e, k)| e.facility == hospital && !matches!(k, EventKind::Reaction));
            if matches!(
                last_state.map(|(_, k)| *k),
                Some(EventKind::Transfused | EventKind::Discarded | EventKind::Transferred)
            ) {
                finalised += 1;
            }
            let from = r.detail["from"].as_str();
            if let Some(station) = from.filter(|f| stations.contains(*f)) {
                let dispatched = events.iter().any(|(_, k)| *k == EventKind::Dispatched);
                if !dispatched {
                    push(
                        "received-without-dispatch",
                        Some(r),
                        Some(format!("from {station}")),
                    );
                }
            }
        }
        for (i, (e, kind)) in here.iter().enumerate() {
            if e.facility != hospital {
                continue;
            }
            match kind {
                EventKind::Issued => {
                    let outcome = here[i + 1..].iter().any(|(_, k)| {
                        matches!(
                            k,
                            EventKind::Transfused
                                | EventKind::Returned
                                | EventKind::Discarded
                                | EventKind::Transferred
                                | EventKind::Issued
                        )
                    });
                    // A transfusion recorded before the issue (out of
                    // order) still closes this episode: report it once,
                    // as out of order, not also as an open issue.
                    let episode_start = here[..i]
                        .iter()
                        .rposition(|(_, k)| matches!(k, EventKind::Received | EventKind::Returned))
                        .unwrap_or(0);
                    let transfused_in_episode = here[episode_start..]
                        .iter()
                        .any(|(_, k)| *k == EventKind::Transfused);
                    if !outcome && !transfused_in_episode {
                        let age = now_ms - e.at_ms;
                        if age > 72 * HOUR_MS {
                            push("issued-no-transfusion-72h", Some(e), None);
                        } else if age > 24 * HOUR_MS {
                            push("issued-no-transfusion-24h", Some(e), None);
                        }
                    }
                }
                EventKind::Transfused => {
                    let issued_before = here[..i].iter().any(|(_, k)| *k == EventKind::Issued);
                    let issued_after = here[i + 1..].iter().any(|(_, k)| *k == EventKind::Issued);
                    if !issued_before && issued_after {
                        push(
                            "out-of-order",
                            Some(e),
                            Some("transfused before issued".into()),
                        );
                    } else if !issued_before && !e.detail["presumed"].as_bool().unwrap_or(false) {
                        push("transfused-without-issue", Some(e), None);
                    }
                    let unit = units.get(&(din, product));
                    if let Some(expires) = unit.and_then(|u| u.expires.as_deref()) {
                        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(expires) {
                            if e.at_ms > t.timestamp_millis() {
                                push(
                                    "expired-transfused",
                                    Some(e),
                                    Some(format!("expired {expires}")),
                                );
                            }
                        }
                    }
                    let patient = e.patient_key.as_deref().and_then(|k| groups.get(k));
                    if let (Some(unit), Some((p_abo, p_rh))) = (unit, patient) {
                        if let Some(note) = incompatibility(unit, *p_abo, *p_rh) {
                            push("abo-rh-mismatch", Some(e), Some(note));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let findings = RULES
        .iter()
        .map(|(rule, title)| {
            let units = found.remove(rule).unwrap_or_default();
            Finding {
                rule,
                title,
                count: units.len(),
                units,
            }
        })
        .collect();
    HospitalAudit {
        hospital: hospital.to_string(),
        units_received: received,
        with_final_disposition: finalised,
        share: (received > 0).then(|| finalised as f64 / received as f64),
        findings,
    }
}

/// Steps that happen before the hospital (at the station) and belong to
/// every hospital's view of the chain.
fn is_upstream(kind: EventKind) -> bool {
    matches!(kind, EventKind::Collected | EventKind::Dispatched)
}

/// Whether giving `unit` to a patient of this group is incompatible.
/// Red cells and whole blood: the patient must not carry antibodies against
/// the unit's ABO antigens (O gives to all; AB takes from all), whole blood
/// must be ABO-identical, and an RhD-negative patient must not get
/// RhD-positive red cells. Plasma and cryoprecipitate: the reverse (AB gives
/// to all). Platelets and granulocytes are not judged (ABO-non-identical
/// platelets are accepted practice).
pub fn incompatibility(
    unit: &UnitRow,
    patient_abo: Option<&str>,
    patient_rh: Option<&str>,
) -> Option<String> {
    let category = Product::from_code(&unit.product).map(|p| p.category())?;
    let unit_abo = unit.abo.as_deref();
    let abo_ok = match (category, unit_abo, patient_abo) {
        (_, None, _) | (_, _, None) => true,
        (Category::WholeBlood, Some(u), Some(p)) => u == p,
        (Category::RedCells, Some(u), Some(p)) => red_cells_compatible(u, p),
        (Category::Plasma | Category::Cryoprecipitate, Some(u), Some(p)) => {
            red_cells_compatible(p, u)
        }
        _ => true,
    };
    let rh_ok = !matches!(
        (category, unit.rh.as_deref(), patient_rh),
        (
            Category::WholeBlood | Category::RedCells,
            Some("+"),
            Some("-")
        )
    );
    if abo_ok && rh_ok {
        return None;
    }
    Some(format!(
        "unit {}{} to patient {}{}",
        unit_abo.unwrap_or("?"),
        unit.rh.as_deref().unwrap_or(""),
        patient_abo.unwrap_or("?"),
        patient_rh.unwrap_or("")
    ))
}

/// Donor red cells of group `donor` into a recipient of group `recipient`.
fn red_cells_compatible(donor: &str, recipient: &str) -> bool {
    match donor {
        "O" => true,
        "A" => matches!(recipient, "A" | "AB"),
        "B" => matches!(recipient, "B" | "AB"),
        "AB" => recipient == "AB",
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn unit(din: &str, product: &str, abo: &str, rh: &str, expires: Option<&str>) -> UnitRow {
        UnitRow {
            din: din.into(),
            product: product.into(),
            modifiers: None,
            abo: Some(abo.into()),
            rh: Some(rh.into()),
            volume_ml: None,
            quantity: None,
            measure: "U".into(),
            expires: expires.map(String::from),
            station: None,
            donor_key: None,
        }
    }

    fn ev(
        din: &str,
        kind: &str,
        hours: i64,
        facility: &str,
        patient: Option<&str>,
        detail: serde_json::Value,
    ) -> EventRow {
        EventRow {
            kind: kind.into(),
            at: format!("h{hours}"),
            at_ms: hours * HOUR_MS,
            facility: facility.into(),
            patient_key: patient.map(String::from),
            message_id: 1,
            channel: "mllp".into(),
            detail,
            din: din.into(),
            product: "RBC-LR".into(),
        }
    }

    #[test]
    fn each_rule_finds_its_unit() {
        let none = json!({});
        let rows = AuditRows {
            units: vec![
                unit("OK", "RBC-LR", "O", "+", None),
                unit("OPEN24", "RBC-LR", "O", "+", None),
                unit("OPEN72", "RBC-LR", "O", "+", None),
                unit("NOISSUE", "RBC-LR", "O", "+", None),
                unit("NODISP", "RBC-LR", "O", "+", None),
                unit("ORDER", "RBC-LR", "O", "+", None),
                unit(
                    "EXPIRED",
                    "RBC-LR",
                    "O",
                    "+",
                    Some("1970-01-01T10:00:00+00:00"),
                ),
                unit("MISMATCH", "RBC-LR", "A", "+", None),
            ],
            events: vec![
                ev("OK", "received", 1, "H1", None, none.clone()),
                ev("OK", "issued", 2, "H1", Some("P1"), none.clone()),
                ev("OK", "transfused", 3, "H1", Some("P1"), none.clone()),
                ev("OPEN24", "received", 1, "H1", None, none.clone()),
                ev("OPEN24", "issued", 70, "H1", Some("P1"), none.clone()),
                ev("OPEN72", "received", 1, "H1", None, none.clone()),
                ev("OPEN72", "issued", 2, "H1", Some("P1"), none.clone()),
                ev("NOISSUE", "received", 1, "H1", None, none.clone()),
                ev("NOISSUE", "transfused", 3, "H1", Some("P1"), none.clone()),
                ev("NODISP", "received", 1, "H1", None, json!({"from": "S1"})),
                ev("ORDER", "received", 1, "H1", None, none.clone()),
                ev("ORDER", "transfused", 2, "H1", Some("P1"), none.clone()),
                ev("ORDER", "issued", 3, "H1", Some("P1"), none.clone()),
                ev("EXPIRED", "received", 1, "H1", None, none.clone()),
                ev("EXPIRED", "issued", 11, "H1", Some("P1"), none.clone()),
                ev("EXPIRED", "transfused", 12, "H1", Some("P1"), none.clone()),
                ev("MISMATCH", "received", 1, "H1", None, none.clone()),
                ev("MISMATCH", "issued", 2, "H1", Some("P2"), none.clone()),
                ev("MISMATCH", "transfused", 3, "H1", Some("P2"), none.clone()),
            ],
            patient_groups: vec![
                ("P1".into(), Some("AB".into()), Some("+".into())),
                ("P2".into(), Some("O".into()), Some("+".into())),
            ],
        };
        let stations = HashSet::from(["S1".to_string()]);
        let audit = audit_hospital("H1", &rows, &stations, 100 * HOUR_MS);
        let by_rule: HashMap<&str, Vec<&str>> = audit
            .findings
            .iter()
            .map(|f| (f.rule, f.units.iter().map(|u| u.din.as_str()).collect()))
            .collect();
        assert_eq!(by_rule["issued-no-transfusion-24h"], ["OPEN24"]);
        assert_eq!(by_rule["issued-no-transfusion-72h"], ["OPEN72"]);
        assert_eq!(by_rule["transfused-without-issue"], ["NOISSUE"]);
        assert_eq!(by_rule["received-without-dispatch"], ["NODISP"]);
        assert_eq!(by_rule["out-of-order"], ["ORDER"]);
        assert_eq!(by_rule["expired-transfused"], ["EXPIRED"]);
        assert_eq!(by_rule["abo-rh-mismatch"], ["MISMATCH"]);
        assert_eq!(audit.units_received, 8);
        // OK, NOISSUE, EXPIRED, MISMATCH were transfused (ORDER's last state is issued).
        assert_eq!(audit.with_final_disposition, 4);
    }

    #[test]
    fn compatibility_rules() {
        let rbc = |abo, rh| unit("X", "RBC-LR", abo, rh, None);
        let ffp = |abo| unit("X", "PLS-FFP", abo, "+", None);
        assert!(incompatibility(&rbc("O", "-"), Some("AB"), Some("+")).is_none());
        assert!(incompatibility(&rbc("A", "+"), Some("O"), Some("+")).is_some());
        assert!(incompatibility(&rbc("O", "+"), Some("O"), Some("-")).is_some());
        assert!(incompatibility(&ffp("AB"), Some("O"), Some("-")).is_none());
        assert!(incompatibility(&ffp("O"), Some("A"), Some("+")).is_some());
        assert!(
            incompatibility(&unit("X", "PLT-APH", "A", "+", None), Some("O"), Some("-")).is_none()
        );
        assert!(incompatibility(&rbc("A", "+"), None, None).is_none());
    }
}
