//! ACKs built for real messages: structure, echo, swap, ERR locations,
//! escaping, enhanced-mode codes, and the charset round trip.

mod common;

use chrono::{DateTime, FixedOffset};
use common::{decoded, fixture, map_text};
use hemobridge_hl7::{
    ack_wanted, build_ack, decode, encode, header_lossy, map_message, AckCode, Charset, Config,
    Mapping,
};

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T10:30:16+08:00").unwrap()
}

/// Field `n` of the segment `id` of an ACK, split with hl7-parser (a
/// second, independent reading of the structure; its message parser counts
/// MSH-1 as MSH's first field, like the standard).
fn field(ack: &str, id: &str, n: usize) -> String {
    let message = hl7_parser::Message::parse(ack).expect("ACK parses");
    let segment = message.segment(id).unwrap_or_else(|| panic!("no {id}"));
    segment
        .fields
        .get(n - 1)
        .map(|f| f.raw_value().to_string())
        .unwrap_or_default()
}

#[test]
fn application_accept_swaps_sender_and_receiver_and_echoes_the_control_id() {
    let d = decoded(&fixture("bps_o29.hl7"));
    let ack = build_ack(&d.header, AckCode::AA, &[], "HB0001", now());
    assert_eq!(field(&ack, "MSH", 3), "HEMOBRIDGE");
    assert_eq!(field(&ack, "MSH", 4), "SHBLOOD");
    assert_eq!(field(&ack, "MSH", 5), "BIS");
    assert_eq!(field(&ack, "MSH", 6), "H310001");
    assert_eq!(field(&ack, "MSH", 7), "20261122103016+0800");
    assert_eq!(field(&ack, "MSH", 9), "ACK^O29^ACK");
    assert_eq!(field(&ack, "MSH", 10), "HB0001");
    assert_eq!(field(&ack, "MSH", 11), "P");
    assert_eq!(field(&ack, "MSH", 12), "2.5");
    assert_eq!(field(&ack, "MSH", 18), "UNICODE UTF-8");
    assert_eq!(field(&ack, "MSA", 1), "AA");
    assert_eq!(field(&ack, "MSA", 2), "BPS20261122001");
    assert!(!ack.contains("ERR"));
    assert!(!ack.ends_with('\r'));
}

#[test]
fn error_ack_lists_every_issue_with_its_location() {
    let text = [
        common::MSH_BPS,
        "PID|1||ZY1^^^H1^MR||王^小明",
        "BPX|1|DS|F||W000026000001|9999^a|b^c",
        "BPX|2|XX|F|20261122|W000026000002|RBC-LR",
    ]
    .join("\r");
    let d = decoded(text.as_bytes());
    let Mapping::Invalid(issues) = map_message(&d, &Config::default()) else {
        panic!("expected invalid");
    };
    let ack = build_ack(&d.header, AckCode::AE, &issues, "HB0002", now());
    let errs: Vec<_> = ack.split('\r').filter(|s| s.starts_with("ERR")).collect();
    assert_eq!(errs.len(), 3);
    assert_eq!(field(&ack, "MSA", 1), "AE");
    assert_eq!(field(&ack, "MSA", 2), "C1");
    assert_eq!(field(&ack, "MSA", 3), "BPX-4 (date/time) is empty");
    assert!(errs[0].starts_with("ERR||BPX^1^4|101^Required field missing^HL70357|E||||"));
    assert!(errs[1].starts_with("ERR||BPX^1^6|103^Table value not found^HL70357|E||||"));
    assert!(errs[2].starts_with("ERR||BPX^2^2|103^"));
    // No patient identity anywhere in the ACK.
    assert!(!ack.contains("王") && !ack.contains("小明"));
}

#[test]
fn texts_with_delimiters_are_escaped() {
    let d = decoded(&fixture("bps_o29.hl7"));
    let issue = hemobridge_hl7::Issue::error(
        hemobridge_hl7::ErrorCode::TableValueNotFound,
        "BPX",
        1,
        "product \"A|B^C&D~E\\F\" unknown",
    )
    .field(6)
    .component(2);
    let ack = build_ack(&d.header, AckCode::AE, &[issue], "X|1", now());
    assert_eq!(field(&ack, "MSH", 10), "X\\F\\1");
    assert_eq!(field(&ack, "ERR", 2), "BPX^1^6^^2");
    assert_eq!(
        field(&ack, "ERR", 8),
        "product \"A\\F\\B\\S\\C\\T\\D\\R\\E\\E\\F\" unknown"
    );
    // Every segment still has the field count it should.
    let message = hl7_parser::Message::parse(&ack).unwrap();
    assert_eq!(message.segment("ERR").unwrap().fields.len(), 8);
    assert_eq!(message.segment("MSA").unwrap().fields.len(), 3);
}

#[test]
fn enhanced_mode_commit_codes_follow_msh15_and_msh16() {
    // The fixture asks for a commit ACK always (AL) and no application ACK
    // (NE).
    let d = decoded(&fixture("bps_o29.hl7"));
    assert!(d.header.enhanced_mode());
    assert_eq!(
        (
            d.header.accept_ack_type.as_str(),
            d.header.application_ack_type.as_str()
        ),
        ("AL", "NE")
    );
    let mapping = map_message(&d, &Config::default());
    let code = AckCode::for_mapping(&mapping);
    assert_eq!(code, AckCode::AA);
    assert!(ack_wanted(&d.header.accept_ack_type, code.is_accept()));
    assert!(!ack_wanted(
        &d.header.application_ack_type,
        code.is_accept()
    ));
    let commit = build_ack(&d.header, code.commit(), &[], "HB0003", now());
    assert_eq!(field(&commit, "MSA", 1), "CA");

    let unsupported = map_text("MSH|^~\\&|A|H1|||20261122||ORU^R01|C7|P|2.5|||ER|AL\rOBX|1");
    let code = AckCode::for_mapping(&unsupported);
    assert_eq!((code, code.commit()), (AckCode::AR, AckCode::CR));
    let invalid = map_text("MSH|^~\\&|A|H1|||20261122||ADT^A01|C8|P|2.5|||ER|AL\rEVN|A01");
    assert_eq!(AckCode::for_mapping(&invalid).commit(), AckCode::CE);
    // Original mode: MSH-15 empty (a blank counts as empty).
    let d = decoded(b"MSH|^~\\&|A|H1|||20261122||ADT^A01|C9|P|2.3| | \rPID|1||P1");
    assert!(!d.header.enhanced_mode());
}

#[test]
fn gb18030_ack_round_trips_through_decode() {
    let d = decoded(&fixture("bps_o29_gb18030.hl7"));
    let ack = build_ack(&d.header, AckCode::AA, &[], "HB0004", now());
    // The sender's facility field (with its Chinese name) comes back in
    // MSH-6, and the ACK declares the charset it is encoded in.
    assert_eq!(field(&ack, "MSH", 6), "H310002^红磡医院^L");
    let bytes = encode(&ack, d.header.charset);
    assert!(std::str::from_utf8(&bytes).is_err());
    let back = decode(&bytes, &Config::default()).unwrap();
    assert_eq!(back.header.charset, Charset::Gb18030);
    assert_eq!(back.header.receiving_facility, "H310002^红磡医院^L");
    assert_eq!(back.header.message_type(), "ACK^O29");
}

#[test]
fn undecodable_message_still_gets_an_ack_with_its_control_id() {
    let raw = b"MSH|^~\\&|LIS|H1|HB|SH|20261122||BPS^O29|BAD0001|P|2.5\rPID|1||P1||\xFF\xFE";
    let cfg = Config::default();
    let err = decode(raw, &cfg).unwrap_err();
    let header = header_lossy(raw, &cfg).unwrap();
    let ack = build_ack(&header, AckCode::AE, &[err.to_issue()], "HB0005", now());
    assert_eq!(field(&ack, "MSA", 2), "BAD0001");
    assert_eq!(field(&ack, "ERR", 2), "MSH^1^18");
    assert!(field(&ack, "ERR", 3).starts_with("102^"));
}
