//! Waiver decisions and cancellations → provincial `waiver-claim` and
//! `waiver-cancel` messages (issue 10). Called by the store inside the
//! decision's transaction (`store/waivers.rs`), so a decision and its
//! message are committed together; pure apart from reading the clock for
//! the envelope.

use super::{formats, item, now_in, RouteKind, SENDER_ID};
use crate::store::outbox::{NewItem, WaiverEvent};
use chrono::TimeZone;
use chrono_tz::Tz;
use hemobridge_outbound::provincial::{
    RemainingEntitlement, WaiverCancel, WaiverClaimMessage, WaiverRule,
};
use hemobridge_outbound::Envelope;
use serde_json::Value;

fn fen(yuan: &Value) -> i64 {
    (yuan.as_f64().unwrap_or(0.0) * 100.0).round() as i64
}

fn text(v: &Value, name: &str) -> String {
    v.get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The provincial message of a waiver event.
pub fn items(event: &WaiverEvent<'_>, zone: Tz) -> Vec<NewItem> {
    let envelope = |key: &str| Envelope {
        message_id: key.to_string(),
        sender: SENDER_ID.to_string(),
        sent_at: now_in(zone),
    };
    match *event {
        WaiverEvent::Decided { request, answer } => {
            let key = format!("waiver-claim:{}:{}", request.hospital, request.claim_id);
            let remaining = &answer["remaining"];
            let message = WaiverClaimMessage {
                claim_id: request.claim_id.clone(),
                hospital: request.hospital.clone(),
                decision: text(answer, "decision"),
                waived_ml: answer["waivedMl"]
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0),
                blood_fee_fen: request.blood_fee_fen,
                waived_fen: fen(&answer["waivedYuan"]),
                patient_pays_fen: fen(&answer["patientPaysYuan"]),
                reason_code: text(answer, "reasonCode"),
                reason: text(answer, "reason"),
                rule: WaiverRule {
                    id: text(&answer["rule"], "id"),
                    version: text(&answer["rule"], "version"),
                },
                donor_key: request.donor_id_mac.clone(),
                relationship: request.relationship.as_str().to_string(),
                patient_name_masked: None,
                units_used_ml: request.volume_ml,
                decided_at: request.at,
                remaining: RemainingEntitlement {
                    self_ml: remaining["selfMl"].as_u64(),
                    relatives_ml: remaining["relativesMl"].as_u64().unwrap_or(0),
                },
            };
            let rendered = formats::provincial_waiver(&message, &envelope(&key));
            vec![item(
                RouteKind::Provincial,
                &key,
                Some(&request.hospital),
                rendered,
            )]
        }
        WaiverEvent::Cancelled {
            hospital,
            claim_id,
            at_ms,
        } => {
            let key = format!("waiver-cancel:{hospital}:{claim_id}");
            let cancelled_at = zone
                .timestamp_millis_opt(at_ms)
                .single()
                .map(|t| t.fixed_offset())
                .unwrap_or_else(|| now_in(zone));
            let message = WaiverCancel {
                claim_id: claim_id.to_string(),
                hospital: hospital.to_string(),
                cancelled_at,
                reason: None,
            };
            let rendered = formats::provincial_waiver_cancel(&message, &envelope(&key));
            vec![item(RouteKind::Provincial, &key, Some(hospital), rendered)]
        }
    }
}
