//! Vein-to-vein chains: a unit's events put in order, its current state, and
//! the gaps that make it incomplete.
//!
//! The chain is computed when it is read, from the events alone, so that a
//! late event (a transfusion record that arrives after the issue) mends the
//! chain without any stored state to correct.

use crate::store::reads::{EventRow, UnitRow};
use hemobridge_canonical::{EventKind, Product};
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Gap {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chain {
    pub unit: Value,
    pub events: Vec<Value>,
    pub donor_key: Option<String>,
    /// Where the unit is now: `in-stock`, `reserved`, `issued`,
    /// `transfused`, `discarded`, `transferred`, `dispatched`, …
    pub state: Option<String>,
    pub complete: bool,
    pub gaps: Vec<Gap>,
}

/// Builds the chain of one component from its row and events (any order).
pub fn build_chain(unit: &UnitRow, events: &[EventRow]) -> Chain {
    let mut ordered: Vec<(&EventRow, EventKind)> = events
        .iter()
        .filter_map(|e| EventKind::parse(&e.kind).map(|k| (e, k)))
        .collect();
    // Same instant: the normal order of the steps (a TR message gives a
    // transfusion and a reaction with one timestamp).
    ordered.sort_by_key(|(e, k)| (e.at_ms, k.chain_rank()));

    let hospital = ordered
        .iter()
        .rev()
        .find(|(_, k)| *k == EventKind::Received)
        .map(|(e, _)| e.facility.clone());
    let state = state_of(&ordered);
    let gaps = find_gaps(&ordered);
    let final_disposition = matches!(state.as_deref(), Some("transfused") | Some("discarded"));

    let product = Product::from_code(&unit.product);
    let unit_json = json!({
        "din": unit.din,
        "product": unit.product,
        "productName": product.map(|p| p.name_zh()),
        "category": product.map(|p| p.category().as_str()),
        "modifiers": unit.modifiers,
        "abo": unit.abo,
        "rh": unit.rh,
        "volumeMl": unit.volume_ml,
        "quantity": unit.quantity,
        "measure": unit.measure,
        "expires": unit.expires,
        "station": unit.station,
        "hospital": hospital,
    });
    let events_json = ordered
        .iter()
        .map(|(e, _)| {
            json!({
                "kind": e.kind,
                "at": e.at,
                "facility": e.facility,
                "patientKey": e.patient_key,
                "source": {"messageId": e.message_id, "channel": e.channel},
                "detail": e.detail,
            })
        })
        .collect();
    Chain {
        unit: unit_json,
        events: events_json,
        donor_key: unit.donor_key.clone(),
        state,
        complete: final_disposition && gaps.is_empty(),
        gaps,
    }
}

/// The unit's state after its last state-changing event.
fn state_of(ordered: &[(&EventRow, EventKind)]) -> Option<String> {
    let mut state: Option<&str> = None;
    for (_, kind) in ordered {
        state = Some(match kind {
            EventKind::Collected => "collected",
            EventKind::Dispatched => "dispatched",
            EventKind::Received | EventKind::Released | EventKind::Returned => "in-stock",
            EventKind::Crossmatched | EventKind::Reserved => "reserved",
            EventKind::Issued => "issued",
            EventKind::Transfused => "transfused",
            EventKind::Discarded => "discarded",
            EventKind::Transferred => "transferred",
            // A reaction follows a transfusion; it does not move the unit.
            EventKind::Reaction => continue,
        });
    }
    state.map(str::to_owned)
}

fn find_gaps(ordered: &[(&EventRow, EventKind)]) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let position = |kind: EventKind| ordered.iter().position(|(_, k)| *k == kind);
    let clinical = ordered.iter().find(|(_, k)| {
        matches!(
            k,
            EventKind::Crossmatched
                | EventKind::Reserved
                | EventKind::Issued
                | EventKind::Transfused
        )
    });
    if let Some((first_clinical, _)) = clinical {
        let received_before = ordered
            .iter()
            .any(|(e, k)| *k == EventKind::Received && e.at_ms <= first_clinical.at_ms);
        if !received_before {
            gaps.push(Gap {
                code: "no-receipt",
                message: format!(
                    "{} at {} with no receipt into the blood bank before it",
                    first_clinical.kind, first_clinical.facility
                ),
            });
        }
    }
    for (i, (e, kind)) in ordered.iter().enumerate() {
        match kind {
            EventKind::Transfused => {
                let issued_before = ordered[..i].iter().any(|(_, k)| *k == EventKind::Issued);
                let issued_after = ordered[i + 1..]
                    .iter()
                    .any(|(_, k)| *k == EventKind::Issued);
                if !issued_before && issued_after {
                    gaps.push(Gap {
                        code: "out-of-order",
                        message: format!("transfused at {} before it was issued", e.at),
                    });
                } else if !issued_before && !e.detail["presumed"].as_bool().unwrap_or(false) {
                    gaps.push(Gap {
                        code: "transfused-without-issue",
                        message: format!("transfused at {} with no issue record", e.at),
                    });
                }
            }
            EventKind::Issued => {
                let outcome_after = ordered[i + 1..].iter().any(|(_, k)| {
                    matches!(
                        k,
                        EventKind::Transfused
                            | EventKind::Returned
                            | EventKind::Discarded
                            | EventKind::Transferred
                            | EventKind::Issued
                    )
                });
                if !outcome_after {
                    gaps.push(Gap {
                        code: "issued-without-outcome",
                        message: format!(
                            "issued at {} with no transfusion, return or discard after it",
                            e.at
                        ),
                    });
                }
            }
            EventKind::Transferred => {
                let to = e.detail["to"].as_str();
                let received_there = ordered[i + 1..].iter().any(|(r, k)| {
                    *k == EventKind::Received && to.is_none_or(|to| r.facility == to)
                });
                if !received_there {
                    gaps.push(Gap {
                        code: "transferred-not-received",
                        message: format!(
                            "transferred to {} at {} with no receipt there",
                            to.unwrap_or("another hospital"),
                            e.at
                        ),
                    });
                }
            }
            EventKind::Reaction if position(EventKind::Transfused).is_none() => {
                gaps.push(Gap {
                    code: "reaction-without-transfusion",
                    message: format!("reaction at {} with no transfusion record", e.at),
                });
            }
            _ => {}
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, at_ms: i64, facility: &str) -> EventRow {
        EventRow {
            kind: kind.into(),
            at: format!("t{at_ms}"),
            at_ms,
            facility: facility.into(),
            patient_key: None,
            message_id: 1,
            channel: "mllp".into(),
            detail: json!({}),
            din: "W1".into(),
            product: "RBC-LR".into(),
        }
    }

    fn unit() -> UnitRow {
        UnitRow {
            din: "W1".into(),
            product: "RBC-LR".into(),
            modifiers: None,
            abo: Some("O".into()),
            rh: Some("+".into()),
            volume_ml: Some(200),
            quantity: Some(1.0),
            measure: "U".into(),
            expires: None,
            station: None,
            donor_key: None,
        }
    }

    #[test]
    fn full_chain_is_complete() {
        let c = build_chain(
            &unit(),
            &[
                ev("transfused", 40, "H1"),
                ev("received", 10, "H1"),
                ev("issued", 30, "H1"),
                ev("reserved", 20, "H1"),
            ],
        );
        assert!(c.complete, "{:?}", c.gaps);
        assert_eq!(c.state.as_deref(), Some("transfused"));
        assert_eq!(c.events[0]["kind"], "received");
        assert_eq!(c.unit["hospital"], "H1");
        assert_eq!(c.unit["category"], "red-cells");
    }

    #[test]
    fn issued_without_outcome_is_a_gap() {
        let c = build_chain(&unit(), &[ev("received", 10, "H1"), ev("issued", 30, "H1")]);
        assert!(!c.complete);
        assert_eq!(c.gaps[0].code, "issued-without-outcome");
    }

    #[test]
    fn in_stock_is_incomplete_without_gaps() {
        let c = build_chain(&unit(), &[ev("received", 10, "H1")]);
        assert!(!c.complete);
        assert!(c.gaps.is_empty());
        assert_eq!(c.state.as_deref(), Some("in-stock"));
    }

    #[test]
    fn out_of_order_and_missing_receipt() {
        let c = build_chain(
            &unit(),
            &[ev("transfused", 10, "H1"), ev("issued", 30, "H1")],
        );
        let codes: Vec<_> = c.gaps.iter().map(|g| g.code).collect();
        assert!(codes.contains(&"out-of-order"), "{codes:?}");
        assert!(codes.contains(&"no-receipt"), "{codes:?}");
        assert!(!c.complete);
    }

    #[test]
    fn transfer_is_one_chain() {
        let mut t = ev("transferred", 20, "H1");
        t.detail = json!({"to": "H2"});
        let c = build_chain(
            &unit(),
            &[
                ev("received", 10, "H1"),
                t.clone(),
                ev("received", 30, "H2"),
                ev("issued", 40, "H2"),
                ev("transfused", 50, "H2"),
            ],
        );
        assert!(c.complete, "{:?}", c.gaps);
        assert_eq!(c.unit["hospital"], "H2");
        let c = build_chain(&unit(), &[ev("received", 10, "H1"), t]);
        assert_eq!(c.gaps[0].code, "transferred-not-received");
    }
}
