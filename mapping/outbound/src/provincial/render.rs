//! The four provincial messages as JSON values, each inside the envelope.

use super::messages::{StockSnapshot, WaiverCancel, WaiverClaimMessage};
use crate::{iso_time, quantity_json, Envelope};
use hemobridge_submission::{DailySubmission, Status};
use serde_json::{json, Value};

/// The `specVersion` of every message this crate writes.
pub const SPEC_VERSION: &str = "1";

/// What a message carries (`messageType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    DailySubmission,
    StockSnapshot,
    WaiverClaim,
    WaiverCancel,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::DailySubmission => "daily-submission",
            MessageType::StockSnapshot => "stock-snapshot",
            MessageType::WaiverClaim => "waiver-claim",
            MessageType::WaiverCancel => "waiver-cancel",
        }
    }
}

fn envelope(kind: MessageType, hospital: &str, e: &Envelope, payload: Value) -> Value {
    json!({
        "specVersion": SPEC_VERSION,
        "messageType": kind.as_str(),
        "messageId": e.message_id,
        "sender": e.sender,
        "hospital": hospital,
        "sentAt": iso_time(&e.sent_at),
        "payload": payload,
    })
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Submitted => "submitted",
        Status::Late => "late",
        Status::Amended => "amended",
    }
}

/// Money in fen as a yuan number with at most two decimals (`1234.56`).
fn yuan(fen: i64) -> Value {
    // Exact for any fen below 2^53; the shortest float text has at most two
    // decimals because fen / 100 is the nearest double to that decimal.
    json!(fen as f64 / 100.0)
}

/// One version of a hospital's day (`daily-submission`). An amendment
/// carries its `version`, the version it `amends` and the `changes`.
pub fn daily(s: &DailySubmission, e: &Envelope) -> Value {
    let lines: Vec<Value> = s
        .lines
        .iter()
        .map(|l| {
            json!({
                "product": l.product,
                "category": l.category,
                "measure": l.measure,
                "abo": l.abo,
                "rh": l.rh,
                "received": quantity_json(l.received),
                "crossmatched": quantity_json(l.crossmatched),
                "issued": quantity_json(l.issued),
                "transfused": quantity_json(l.transfused),
                "returned": quantity_json(l.returned),
                "discarded": quantity_json(l.discarded),
                "transferred": quantity_json(l.transferred),
                "stockComputed": quantity_json(l.stock_computed),
                "stockReported": l.stock_reported.map(quantity_json),
                "stockDifference": l.stock_difference.map(quantity_json),
            })
        })
        .collect();
    let reactions: Vec<Value> = s
        .reactions
        .iter()
        .map(|r| json!({"type": r.kind, "severity": r.severity, "count": r.count}))
        .collect();
    let discards: Vec<Value> = s
        .discards
        .iter()
        .map(|d| json!({"product": d.product, "reason": d.reason, "quantity": quantity_json(d.quantity)}))
        .collect();
    let changes: Vec<Value> = s
        .changes
        .iter()
        .map(|c| json!({"path": c.path, "from": c.from.map(quantity_json), "to": c.to.map(quantity_json)}))
        .collect();
    let payload = json!({
        "date": s.date.to_string(),
        "timezone": s.timezone,
        "version": s.version,
        "status": status_text(s.status),
        "computedAt": iso_time(&s.computed_at),
        "amends": s.amends,
        "changes": changes,
        "lines": lines,
        "patientsTransfused": s.patients_transfused,
        "reactions": reactions,
        "discards": discards,
    });
    envelope(MessageType::DailySubmission, &s.hospital, e, payload)
}

/// The blood bank's stock now (`stock-snapshot`).
pub fn stock(s: &StockSnapshot, e: &Envelope) -> Value {
    let items: Vec<Value> = s
        .items
        .iter()
        .map(|i| {
            json!({
                "product": i.product,
                "category": i.category,
                "abo": i.abo,
                "rh": i.rh,
                "quantity": quantity_json(i.quantity),
                "measure": i.measure,
            })
        })
        .collect();
    let payload = json!({
        "at": iso_time(&s.at),
        "lastReportedAt": s.last_reported_at.as_ref().map(iso_time),
        "items": items,
    });
    envelope(MessageType::StockSnapshot, &s.hospital, e, payload)
}

/// A direct-waiver decision (`waiver-claim`).
pub fn waiver(w: &WaiverClaimMessage, e: &Envelope) -> Value {
    let payload = json!({
        "claimId": w.claim_id,
        "decision": w.decision,
        "waivedMl": w.waived_ml,
        "unitsUsedMl": w.units_used_ml,
        "bloodFeeYuan": yuan(w.blood_fee_fen),
        "waivedYuan": yuan(w.waived_fen),
        "patientPaysYuan": yuan(w.patient_pays_fen),
        "reasonCode": w.reason_code,
        "reason": w.reason,
        "rule": {"id": w.rule.id, "version": w.rule.version},
        "donorKey": w.donor_key,
        "relationship": w.relationship,
        "patientNameMasked": w.patient_name_masked,
        "decidedAt": iso_time(&w.decided_at),
        "remaining": {"selfMl": w.remaining.self_ml, "relativesMl": w.remaining.relatives_ml},
    });
    envelope(MessageType::WaiverClaim, &w.hospital, e, payload)
}

/// A decision withdrawn (`waiver-cancel`).
pub fn waiver_cancel(c: &WaiverCancel, e: &Envelope) -> Value {
    let payload = json!({
        "claimId": c.claim_id,
        "cancelledAt": iso_time(&c.cancelled_at),
        "reason": c.reason,
    });
    envelope(MessageType::WaiverCancel, &c.hospital, e, payload)
}
