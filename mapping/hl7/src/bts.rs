//! BTS^O31, blood product transfusion/disposition: each BTX says what
//! finally happened to a unit (table 0513), with the transfusion's start
//! and end and any adverse reactions (BTX-18).

use crate::datatypes::{
    blood_group, code_or_text, donation_id, measure, number, product, required_time, time,
};
use crate::mapping::Context;
use crate::reader::{Segment, SegmentRead};
use crate::tables::TransfusionStatus;
use crate::units::{Amounts, UnitList};
use crate::{bps::UNSPECIFIED_REACTION, pid, screen, ErrorCode, Issue};
use hemobridge_canonical::{BloodUnit, EventKind, Normalized, ReactionCategory, UnitEvent};

/// The segments this mapper reads.
pub(crate) const SEGMENTS: &[SegmentRead] = &[
    SegmentRead::new("PID", pid::LAST_FIELD),
    SegmentRead::new("BTX", 19),
];

pub(crate) fn map(cx: &mut Context) -> Normalized {
    let body = cx.body;
    let facility = cx.header.sending_facility.as_str();
    let patient = body
        .first("PID")
        .and_then(|pid| pid::patient(pid, facility, &mut cx.issues));
    let patient_key = patient.as_ref().map(|p| p.key.as_str());
    let mut out = Normalized::default();
    let mut units = UnitList::default();
    let mut any = false;
    for btx in body.segments("BTX") {
        any = true;
        read(cx, btx, facility, patient_key, &mut units, &mut out.events);
    }
    if !any {
        cx.issues.push(Issue::error(
            ErrorCode::SegmentSequence,
            "BTX",
            1,
            "BTS^O31 holds no BTX segment",
        ));
    }
    out.units = units.into_vec();
    out.patients.extend(patient);
    out
}

fn read<'t>(
    cx: &mut Context<'_, 't>,
    btx: &Segment<'t>,
    facility: &str,
    patient_key: Option<&str>,
    units: &mut UnitList,
    events: &mut Vec<UnitEvent>,
) {
    let issues = &mut cx.issues;
    if !screen::is_traceable(btx, &screen::BTX, issues) {
        return;
    }
    let status_code = btx.field(11).text();
    if status_code.is_empty() {
        issues.push(btx.issue(
            ErrorCode::RequiredFieldMissing,
            11,
            "BTX-11 (transfusion/disposition status) is empty",
        ));
        return;
    }
    let Some(status) = TransfusionStatus::parse(&status_code) else {
        issues.push(btx.issue(
            ErrorCode::TableValueNotFound,
            11,
            format!(
                "BTX-11 status {:?} is not in table 0513",
                status_code.chars().take(20).collect::<String>()
            ),
        ));
        return;
    };

    let zone = cx.cfg.zone;
    let din = donation_id(btx, 2, issues);
    let product = product(btx, 3, &cx.cfg.products, &mut cx.products, issues);
    let group = blood_group(btx, 4, issues);
    let amounts = Amounts {
        count: number(btx, 8, issues),
        amount: number(btx, 9, issues),
        units: measure(btx, 10, issues),
    };
    let start = time(btx, 16, zone, issues);
    let end = time(btx, 17, zone, issues);
    // BTX-13 may be left out when the transfusion's own times are given.
    let status_time =
        if btx.field(13).is_empty() && !(btx.field(16).is_empty() && btx.field(17).is_empty()) {
            None
        } else {
            required_time(btx, 13, zone, issues)
        };
    let at = match status.event() {
        EventKind::Transfused => end.or(start).or(status_time),
        _ => status_time.or(end).or(start),
    };
    let (Some(at), Some(din), Some((product, modifiers))) = (at, din, product) else {
        return;
    };

    let mut unit = BloodUnit::new(din, product);
    unit.modifiers = modifiers;
    unit.abo = group.and_then(|g| g.abo);
    unit.rh = group.and_then(|g| g.rh);
    if let Err(mismatch) = amounts.apply(&mut unit) {
        issues.push(mismatch.warning(btx, 10));
    }
    let key = unit.key();
    units.add(unit);

    let new_event = |kind| {
        let mut event = UnitEvent::new(kind, at, facility, key.clone());
        event.patient_key = patient_key.map(str::to_string);
        event.detail.source_status = Some(status.code().to_string());
        event
    };
    let mut main = new_event(status.event());
    let interrupted = btx.field(19);
    main.detail.reason = [interrupted.component(2), interrupted.component(1)]
        .into_iter()
        .find(|r| !r.is_empty())
        .map(|r| r.into_owned());
    match status {
        TransfusionStatus::Tx | TransfusionStatus::Tr => {
            main.detail.start = start;
            main.detail.end = end;
            main.detail.volume_ml = amounts.volume_ml();
        }
        TransfusionStatus::Rl => main.detail.keep_linked = true,
        TransfusionStatus::Ra | TransfusionStatus::Wa => {}
    }
    events.push(main);

    // A reported reaction is recorded whatever the status says: dropping
    // one would hide it from haemovigilance.
    let reaction_at = status_time.unwrap_or(at);
    let mut reactions = 0;
    for repetition in btx.field(18).repetitions() {
        let Some(reaction_type) = code_or_text(repetition) else {
            continue;
        };
        let mut category = ReactionCategory::classify(&reaction_type);
        if category == ReactionCategory::Other {
            let text = repetition.component(2);
            if !text.is_empty() {
                category = ReactionCategory::classify(&text);
            }
        }
        let mut event = new_event(EventKind::Reaction);
        event.at = reaction_at;
        event.detail.reaction_type = Some(reaction_type.into_owned());
        event.detail.reaction_category = Some(category);
        events.push(event);
        reactions += 1;
    }
    if status == TransfusionStatus::Tr && reactions == 0 {
        let mut event = new_event(EventKind::Reaction);
        event.at = reaction_at;
        event.detail.reaction_type = Some(UNSPECIFIED_REACTION.to_string());
        event.detail.reaction_category = Some(ReactionCategory::classify(UNSPECIFIED_REACTION));
        events.push(event);
    }
}
