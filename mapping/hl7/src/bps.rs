//! BPS^O29, blood product dispense status: each BPX says that a unit
//! changed state in the blood bank (table 0510 → canonical events).

use crate::datatypes::{blood_group, donation_id, measure, number, product, required_time, time};
use crate::mapping::Context;
use crate::reader::{Segment, SegmentRead};
use crate::tables::DispenseStatus;
use crate::units::{Amounts, UnitList};
use crate::{pid, screen, ErrorCode, Issue};
use hemobridge_canonical::{BloodUnit, EventKind, Normalized, ReactionCategory, UnitEvent};

/// The segments this mapper reads.
pub(crate) const SEGMENTS: &[SegmentRead] = &[
    SegmentRead::new("PID", pid::LAST_FIELD),
    SegmentRead::new("PV1", 3),
    SegmentRead::new("BPX", 18),
];

/// The reaction type recorded when the source says "transfused with
/// reaction" without saying which.
pub(crate) const UNSPECIFIED_REACTION: &str = "unspecified";

pub(crate) fn map(cx: &mut Context) -> Normalized {
    let body = cx.body;
    let facility = cx.header.sending_facility.as_str();
    let patient = body
        .first("PID")
        .and_then(|pid| pid::patient(pid, facility, &mut cx.issues));
    // The patient's location, for DS when BPX-18 does not say where.
    let assigned_ward = body
        .first("PV1")
        .map(|pv1| pv1.field(3).component(1).into_owned())
        .filter(|w| !w.is_empty());
    let mut out = Normalized::default();
    let mut units = UnitList::default();
    let dispense = Dispense {
        facility,
        patient_key: patient.as_ref().map(|p| p.key.as_str()),
        assigned_ward: assigned_ward.as_deref(),
    };
    let mut any = false;
    for bpx in body.segments("BPX") {
        any = true;
        dispense.read(cx, bpx, &mut units, &mut out.events);
    }
    if !any {
        cx.issues.push(Issue::error(
            ErrorCode::SegmentSequence,
            "BPX",
            1,
            "BPS^O29 holds no BPX segment",
        ));
    }
    out.units = units.into_vec();
    out.patients.extend(patient);
    out
}

/// What every BPX of one message shares.
struct Dispense<'a> {
    facility: &'a str,
    patient_key: Option<&'a str>,
    assigned_ward: Option<&'a str>,
}

impl Dispense<'_> {
    fn read<'t>(
        &self,
        cx: &mut Context<'_, 't>,
        bpx: &Segment<'t>,
        units: &mut UnitList,
        events: &mut Vec<UnitEvent>,
    ) {
        let issues = &mut cx.issues;
        if !screen::is_traceable(bpx, &screen::BPX, issues) {
            return;
        }
        let status_code = bpx.field(2).text();
        if status_code.is_empty() {
            issues.push(bpx.issue(
                ErrorCode::RequiredFieldMissing,
                2,
                "BPX-2 (dispense status) is empty",
            ));
            return;
        }
        let Some(status) = DispenseStatus::parse(&status_code) else {
            issues.push(bpx.issue(
                ErrorCode::TableValueNotFound,
                2,
                format!(
                    "BPX-2 dispense status {:?} is not in table 0510",
                    status_code.chars().take(20).collect::<String>()
                ),
            ));
            return;
        };
        let zone = cx.cfg.zone;
        let at = required_time(bpx, 4, zone, issues);
        let din = donation_id(bpx, 5, issues);
        let product = product(bpx, 6, &cx.cfg.products, &mut cx.products, issues);
        let group = blood_group(bpx, 11, issues);
        let expires = time(bpx, 13, zone, issues);
        let amounts = Amounts {
            count: number(bpx, 14, issues),
            amount: number(bpx, 15, issues),
            units: measure(bpx, 16, issues),
        };
        let (Some(at), Some(din), Some((product, modifiers))) = (at, din, product) else {
            return;
        };

        let mut unit = BloodUnit::new(din, product);
        unit.modifiers = modifiers;
        unit.abo = group.and_then(|g| g.abo);
        unit.rh = group.and_then(|g| g.rh);
        unit.expires = expires;
        if let Err(mismatch) = amounts.apply(&mut unit) {
            issues.push(mismatch.warning(bpx, 16));
        }
        let key = unit.key();
        units.add(unit);

        let ward = Some(bpx.field(18).component(1))
            .filter(|w| !w.is_empty())
            .map(|w| w.into_owned())
            .or_else(|| self.assigned_ward.map(str::to_string));
        for &kind in status.events() {
            let mut event = UnitEvent::new(kind, at, self.facility, key.clone());
            if status.is_for_patient() {
                event.patient_key = self.patient_key.map(str::to_string);
            }
            let detail = &mut event.detail;
            detail.source_status = Some(status.code().to_string());
            match kind {
                EventKind::Crossmatched => detail.result = Some("compatible".to_string()),
                EventKind::Issued => detail.ward = ward.clone(),
                EventKind::Transfused => {
                    detail.presumed = status == DispenseStatus::Pt;
                    detail.volume_ml = amounts.volume_ml();
                }
                EventKind::Returned => detail.keep_linked = status == DispenseStatus::Rl,
                EventKind::Reaction => {
                    detail.reaction_type = Some(UNSPECIFIED_REACTION.to_string());
                    detail.reaction_category =
                        Some(ReactionCategory::classify(UNSPECIFIED_REACTION));
                }
                _ => {}
            }
            events.push(event);
        }
    }
}
