//! ADT: admit, register, update (and the other patient-administration
//! events). Each PID creates or updates a patient; nothing else in an ADT
//! message is canonical.

use crate::mapping::Context;
use crate::reader::SegmentRead;
use crate::{pid, ErrorCode, Issue};
use hemobridge_canonical::Normalized;

/// The segments this mapper reads.
pub(crate) const SEGMENTS: &[SegmentRead] = &[SegmentRead::new("PID", pid::LAST_FIELD)];

/// Triggers that must carry a PID: admit, transfer, discharge, register,
/// pre-admit, change of class, update, cancellations, add and update person.
/// Any other ADT trigger is handled when it carries a PID, and unsupported
/// (201) when it does not.
const KNOWN_TRIGGERS: [&str; 13] = [
    "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A12", "A13", "A28", "A31",
];

pub(crate) fn is_known_trigger(trigger: &str) -> bool {
    KNOWN_TRIGGERS.contains(&trigger)
}

pub(crate) fn map(cx: &mut Context) -> Normalized {
    let body = cx.body;
    let mut out = Normalized::default();
    let mut any = false;
    for segment in body.segments("PID") {
        any = true;
        let Some(patient) = pid::patient(segment, &cx.header.sending_facility, &mut cx.issues)
        else {
            continue;
        };
        // Merge messages (A40…) may name one patient twice: keep the last.
        out.patients.retain(|p| p.key != patient.key);
        out.patients.push(patient);
    }
    if !any {
        cx.issues.push(Issue::error(
            ErrorCode::SegmentSequence,
            "PID",
            1,
            format!("{} holds no PID segment", cx.header.message_type()),
        ));
    }
    out
}
