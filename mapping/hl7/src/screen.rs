//! Whether a BPX or BTX describes a traceable unit at all, decided before
//! any other field is read: a report posted in error (table 0511 `W`) is
//! withdrawn, and a fractionated product (albumin, immunoglobulin) has no
//! DIN and no vein-to-vein chain. Both are skipped with an informational
//! note, not an error.

use crate::reader::Segment;
use crate::tables::ReportStatus;
use crate::{ErrorCode, Issue, Severity};

/// Where the screened fields sit in a segment.
pub(crate) struct Layout {
    /// BP observation status (table 0511).
    pub report_status: usize,
    pub donation_id: usize,
    pub component: usize,
    pub commercial_product: usize,
}

pub(crate) const BPX: Layout = Layout {
    report_status: 3,
    donation_id: 5,
    component: 6,
    commercial_product: 8,
};

pub(crate) const BTX: Layout = Layout {
    report_status: 12,
    donation_id: 2,
    component: 3,
    commercial_product: 5,
};

/// `true` when the segment is to be read; otherwise the reason has been
/// recorded (a note, or an error for a status outside table 0511).
pub(crate) fn is_traceable(segment: &Segment, layout: &Layout, issues: &mut Vec<Issue>) -> bool {
    let (name, n) = (segment.name, layout.report_status);
    match ReportStatus::parse(&segment.field(n).text()) {
        None => {
            issues.push(segment.issue(
                ErrorCode::TableValueNotFound,
                n,
                format!("{name}-{n} status is not F, P, C or W (table 0511)"),
            ));
            return false;
        }
        Some(ReportStatus::Wrong) => {
            issues.push(note(
                segment,
                n,
                format!(
                    "{name} #{} is marked W (posted in error): not recorded",
                    segment.sequence
                ),
            ));
            return false;
        }
        Some(_) => {}
    }
    let commercial = segment.field(layout.donation_id).is_empty()
        && segment.field(layout.component).is_empty()
        && !segment.field(layout.commercial_product).is_empty();
    if commercial {
        issues.push(note(
            segment,
            layout.commercial_product,
            format!(
                "{name} #{} is a commercial product: not traced",
                segment.sequence
            ),
        ));
        return false;
    }
    true
}

fn note(segment: &Segment, field: usize, message: String) -> Issue {
    segment
        .issue(ErrorCode::MessageAccepted, field, message)
        .severity(Severity::Information)
}
