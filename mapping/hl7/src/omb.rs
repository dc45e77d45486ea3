//! OMB^O27, blood product order (用血申请). An order has no DIN yet, so it
//! yields no unit or event: only the patient it is for, once the order's
//! shape has been checked.

use crate::mapping::Context;
use crate::reader::SegmentRead;
use crate::{pid, ErrorCode, Issue};
use hemobridge_canonical::Normalized;

/// The segments this mapper reads.
/// ORC only has to be present.
pub(crate) const SEGMENTS: &[SegmentRead] = &[
    SegmentRead::new("PID", pid::LAST_FIELD),
    SegmentRead::new("BPO", 2),
];

pub(crate) fn map(cx: &mut Context) -> Normalized {
    let body = cx.body;
    let mut out = Normalized::default();
    if let Some(pid) = body.first("PID") {
        out.patients.extend(pid::patient(
            pid,
            &cx.header.sending_facility,
            &mut cx.issues,
        ));
    }
    for required in ["ORC", "BPO"] {
        if !body.contains(required) {
            cx.issues.push(Issue::error(
                ErrorCode::SegmentSequence,
                required,
                1,
                format!("OMB^O27 holds no {required} segment"),
            ));
        }
    }
    for bpo in body.segments("BPO") {
        if bpo.field(2).is_empty() {
            cx.issues.push(bpo.issue(
                ErrorCode::RequiredFieldMissing,
                2,
                "BPO-2 (blood product ordered) is empty",
            ));
        }
    }
    out
}
