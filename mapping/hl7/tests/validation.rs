//! What makes a message invalid or unsupported, and what is skipped on
//! purpose: each rule of docs/hl7-profile.md checked on a small message.

mod common;

use common::{invalid, locations, map_text, mapped, MSH_BPS, MSH_BTS};
use hemobridge_canonical::{EventKind, Product};
use hemobridge_hl7::{
    decode, map_message, map_message_with_notes, Config, ErrorCode, Mapping, Severity,
};

const PID: &str = "PID|1||ZY1^^^H310001^MR||王^小明||19850721|M";
const BPX_OK: &str =
    "BPX|1|DS|F|20261122090000|W000026000001|0201^悬浮少白细胞红细胞|||||O+||||||W5";

fn bps(bpx: &[&str]) -> String {
    let mut segments = vec![MSH_BPS, PID];
    segments.extend_from_slice(bpx);
    segments.join("\r")
}

#[test]
fn every_bpx_error_is_reported_at_its_field() {
    let issues = invalid(map_text(&bps(&[
        BPX_OK,
        // No time, a DIN with a wrong ISBT check character, an unknown
        // product, an unreadable group, a bad expiry, a bad quantity.
        "BPX|2|DS|F||W000026000001002|9999^神秘血液|||||Q型||2026-13-01|two||U",
        "BPX|3||F|20261122090000|W000026000003|RBC-LR",
        "BPX|4|ZZ|F|20261122090000|W000026000003|RBC-LR",
        "BPX|5|DS|X|20261122090000|W000026000003|RBC-LR",
    ])));
    assert_eq!(
        locations(&issues),
        [
            ("BPX".into(), 2, Some(4), 101),
            ("BPX".into(), 2, Some(5), 102),
            ("BPX".into(), 2, Some(6), 103),
            ("BPX".into(), 2, Some(11), 103),
            ("BPX".into(), 2, Some(13), 102),
            ("BPX".into(), 2, Some(14), 102),
            ("BPX".into(), 3, Some(2), 101),
            ("BPX".into(), 4, Some(2), 103),
            ("BPX".into(), 5, Some(3), 103),
        ]
    );
    assert!(issues.iter().all(|i| i.severity == Severity::Error));
    assert!(
        issues[2].message.contains("9999"),
        "product names help the sender: {}",
        issues[2].message
    );
}

#[test]
fn missing_pid3_invalidates_the_message() {
    let text = [MSH_BPS, "PID|1||||王^小明", BPX_OK].join("\r");
    let issues = invalid(map_text(&text));
    assert_eq!(locations(&issues), [("PID".into(), 1, Some(3), 101)]);
    assert!(!issues[0].message.contains("王"));
}

#[test]
fn bps_without_bpx_and_omb_without_bpo() {
    let issues = invalid(map_text(&[MSH_BPS, PID, "ORC|SC"].join("\r")));
    assert_eq!(locations(&issues), [("BPX".into(), 1, None, 100)]);

    let omb = "MSH|^~\\&|HIS|H310001|BIS|H310001|20261121||OMB^O27|C3|P|2.5";
    let issues = invalid(map_text(&[omb, PID].join("\r")));
    assert_eq!(
        locations(&issues),
        [("ORC".into(), 1, None, 100), ("BPO".into(), 1, None, 100)]
    );
    let issues = invalid(map_text(&[omb, PID, "ORC|NW", "BPO|1"].join("\r")));
    assert_eq!(locations(&issues), [("BPO".into(), 1, Some(2), 101)]);
}

#[test]
fn withdrawn_and_commercial_bpx_are_skipped_with_a_note() {
    let text = bps(&[
        BPX_OK,
        "BPX|2|TX|W|20261122100000|W000026000001|RBC-LR",
        // Albumin: no DIN, no component, a commercial product.
        "BPX|3|DS|F|20261122090000||||人血白蛋白^20%^L|华兰生物|A2026001",
        // Withdrawn: nothing else of it is checked.
        "BPX|4||W",
    ]);
    let (mapping, notes) =
        map_message_with_notes(&common::decoded(text.as_bytes()), &Config::default());
    let n = mapped(mapping);
    assert_eq!(n.events.len(), 1);
    assert_eq!(n.events[0].kind, EventKind::Issued);
    assert_eq!(
        locations(&notes),
        [
            ("BPX".into(), 2, Some(3), 0),
            ("BPX".into(), 3, Some(8), 0),
            ("BPX".into(), 4, Some(3), 0)
        ]
    );
    assert!(notes.iter().all(|n| n.severity == Severity::Information));
}

#[test]
fn corrections_and_presumed_and_returns() {
    let n = mapped(map_text(&bps(&[
        "BPX|1|PT|C|20261122120000|W000026000001|RBC-LR",
        "BPX|2|RL|F|20261122130000|W000026000001|RBC-LR",
        "BPX|3|RA|F|20261122130000|W000026000002|RBC-LR",
        "BPX|4|RE|F|20261122130000|W000026000003|RBC-LR",
        "BPX|5|RD|F|20261122130000|W000026000003|RBC-LR",
    ])));
    let e = &n.events;
    assert_eq!(
        e.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            EventKind::Transfused,
            EventKind::Returned,
            EventKind::Returned,
            EventKind::Released,
            EventKind::Reserved
        ]
    );
    assert!(e[0].detail.presumed);
    assert!(e[1].detail.keep_linked);
    assert!(!e[2].detail.keep_linked);
}

#[test]
fn issued_ward_falls_back_to_pv1() {
    let text = [
        MSH_BPS,
        PID,
        "PV1|1|I|W3^301^2",
        "BPX|1|DS|F|20261122090000|W000026000001|RBC-LR",
    ]
    .join("\r");
    let n = mapped(map_text(&text));
    assert_eq!(n.events[0].detail.ward.as_deref(), Some("W3"));
}

#[test]
fn isbt_flag_and_check_characters_are_dropped() {
    let check = hemobridge_canonical::ids::isbt_check_char("W000026000001").unwrap();
    let text = bps(&[&format!(
        "BPX|1|DS|F|20261122090000|W00002600000100{check}|RBC-LR"
    )]);
    let n = mapped(map_text(&text));
    assert_eq!(n.units[0].din, "W000026000001");
    assert_eq!(n.units[0].product, Product::RbcLr);
}

#[test]
fn bts_rules() {
    let bts = |btx: &str| [MSH_BTS, PID, btx].join("\r");
    // TR without BTX-18: one unspecified reaction. BTX-13 may be omitted
    // when 16/17 are given.
    let n = mapped(map_text(&bts(
        "BTX|1|W000026000001|RBC-LR|O+||||1||U|TR|F||||20261122100000|",
    )));
    assert_eq!(n.events.len(), 2);
    assert_eq!(n.events[0].at, n.events[0].detail.start.unwrap());
    assert_eq!(
        n.events[1].detail.reaction_type.as_deref(),
        Some("unspecified")
    );
    // Reaction given by text only (a local code system).
    let n = mapped(map_text(&bts(
        "BTX|1|W000026000001|RBC-LR|O+||||1||U|TX|F|20261122110000|||||^急性溶血性输血反应^L",
    )));
    assert_eq!(
        n.events[1].detail.reaction_type.as_deref(),
        Some("急性溶血性输血反应")
    );
    assert_eq!(
        n.events[1].detail.reaction_category,
        Some(hemobridge_canonical::ReactionCategory::Haemolytic)
    );
    // RL keeps the unit linked; WA discards.
    let n = mapped(map_text(&bts(
        "BTX|1|W000026000001|RBC-LR||||||||RL|F|20261122110000",
    )));
    assert!(n.events[0].detail.keep_linked);
    let n = mapped(map_text(&bts(
        "BTX|1|W000026000001|RBC-LR||||||||WA|F|20261122110000",
    )));
    assert_eq!(n.events[0].kind, EventKind::Discarded);
    // No time at all.
    let issues = invalid(map_text(&bts("BTX|1|W000026000001|RBC-LR||||||||TX|F")));
    assert_eq!(locations(&issues), [("BTX".into(), 1, Some(13), 101)]);
    // Status missing and unknown.
    let issues = invalid(map_text(&bts(
        "BTX|1|W000026000001|RBC-LR||||||||DS|F|20261122",
    )));
    assert_eq!(locations(&issues), [("BTX".into(), 1, Some(11), 103)]);
}

#[test]
fn unsupported_types_events_versions_and_processing_ids() {
    let unsupported = |msh9: &str, version: &str, processing: &str, body: &str| {
        let text = format!("MSH|^~\\&|A|H1|||20261122||{msh9}|C1|{processing}|{version}\r{body}");
        match map_text(&text) {
            Mapping::Unsupported(issue) => (issue.code, issue.field, issue.component),
            other => panic!("{msh9}: {other:?}"),
        }
    };
    assert_eq!(
        unsupported("ORU^R01", "2.5", "P", PID),
        (ErrorCode::UnsupportedMessageType, Some(9), None)
    );
    assert_eq!(
        unsupported("BPS^O30", "2.5", "P", ""),
        (ErrorCode::UnsupportedEventCode, Some(9), Some(2))
    );
    assert_eq!(
        unsupported("ADT^A99", "2.5", "P", "EVN|A99"),
        (ErrorCode::UnsupportedEventCode, Some(9), Some(2))
    );
    assert_eq!(
        unsupported("ADT^A01", "3.0", "P", PID),
        (ErrorCode::UnsupportedVersionId, Some(12), None)
    );
    assert_eq!(
        unsupported("ADT^A01", "2.5", "X", PID),
        (ErrorCode::UnsupportedProcessingId, Some(11), None)
    );
    // An unknown ADT trigger with a PID is handled.
    let n = mapped(map_text(&format!(
        "MSH|^~\\&|A|H1|||20261122||ADT^A99|C1|P|2.5\r{PID}"
    )));
    assert_eq!(n.patients.len(), 1);
}

#[test]
fn header_problems() {
    let issues = invalid(map_text(&format!(
        "MSH|^~\\&|A|H1|||20261122|||C1|P|2.5\r{PID}"
    )));
    assert_eq!(locations(&issues), [("MSH".into(), 1, Some(9), 101)]);
    let issues = invalid(map_text(&format!(
        "MSH|^~\\&|A|H1|||20261122||ADT^A01||P|2.5\r{PID}"
    )));
    assert_eq!(locations(&issues), [("MSH".into(), 1, Some(10), 101)]);
    // A known ADT trigger without PID.
    let issues = invalid(map_text(
        "MSH|^~\\&|A|H1|||20261122||ADT^A01|C1|P|2.5\rEVN|A01",
    ));
    assert_eq!(locations(&issues), [("PID".into(), 1, None, 100)]);
}

#[test]
fn a_broken_line_is_a_segment_error_that_does_not_echo_its_text() {
    // A line feed inside PID-11 splits the address into a line of its own.
    let text =
        format!("{MSH_BPS}\rPID|1||ZY1^^^H1^MR||王^小明|||||上海市\n徐汇区某路1号\r{BPX_OK}");
    let issues = invalid(map_text(&text));
    assert_eq!(locations(&issues), [(String::new(), 3, None, 100)]);
    assert!(!issues[0].message.contains("徐汇"));
}

#[test]
fn other_delimiters_and_escapes_in_values() {
    let text = "MSH#$*/!#BIS#H1#####BPS$O29#C9#P#2.5\r\
                PID#1##ZY1$$$H1$MR##王/T/李$小明\r\
                BPX#1#DS#F#20261122090000#W000026000001#$悬浮少白细胞红细胞/.br/";
    let d = decode(text.as_bytes(), &Config::default()).unwrap();
    assert_eq!(d.header.field_separator, '#');
    let n = mapped(map_message(&d, &Config::default()));
    assert_eq!(n.patients[0].name.as_ref().unwrap().expose(), "王!李小明");
    assert_eq!(n.units[0].product, Product::RbcLr);
}

#[test]
fn crlf_and_lf_terminators_map_the_same() {
    let cr = bps(&[BPX_OK]);
    let lf = cr.replace('\r', "\n");
    let crlf = cr.replace('\r', "\r\n") + "\r\n\r\n";
    let a = map_text(&cr);
    assert_eq!(a, map_text(&lf));
    assert_eq!(a, map_text(&crlf));
}
