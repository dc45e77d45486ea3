//! Properties: escaping round-trips for any text (CJK included), and no
//! input, however mangled, makes decoding, mapping or ACK building panic.

mod common;

use chrono::DateTime;
use common::fixture;
use hemobridge_hl7::{
    build_ack, decode, escape, header_lossy, map_message_with_notes, unescape, unescape_in,
    AckCode, Charset, Config, Delimiters, ErrorCode, Mapping,
};
use proptest::prelude::*;

/// Text rich in what matters: delimiters, escape-sequence letters, hex
/// digits, line breaks, CJK, and anything else.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(vec![
            "|", "^", "~", "\\", "&", "\r", "\n", "X", "0D", "F", "S", "T", "R", "E", "H", "N",
            ".br", "C", "M", "王", "小明", "悬浮少白细胞红细胞", "\"\"", " ", "#", "$",
        ])
        .prop_map(str::to_string),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn other_delimiters() -> Delimiters {
    Delimiters::parse('#', "$*/!").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn unescape_inverts_escape(s in tricky_text()) {
        for d in [Delimiters::default(), other_delimiters()] {
            let escaped = escape(&s, &d);
            prop_assert_eq!(unescape(&escaped, &d), s.as_str());
            prop_assert_eq!(unescape_in(&escaped, &d, Charset::Gb18030), s.as_str());
            // The escaped form is canonical: escaping what it decodes to
            // gives it back.
            prop_assert_eq!(escape(&unescape(&escaped, &d), &d), escaped.clone());
            // And it holds no delimiter or line break, only escapes.
            prop_assert!(!escaped.contains([d.field, d.component, d.repetition, d.subcomponent, '\r', '\n']));
        }
    }

    #[test]
    fn unescape_never_panics_and_keeps_plain_text(s in tricky_text()) {
        let d = Delimiters::default();
        let out = unescape(&s, &d);
        if !s.contains('\\') {
            prop_assert_eq!(out, s.as_str());
        }
        let _ = unescape_in(&s, &d, Charset::Gbk);
    }

    #[test]
    fn mangled_text_never_panics(
        which in 0usize..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, tricky_text()), 1..6),
    ) {
        let name = ["bps_o29.hl7", "bts_o31.hl7", "omb_o27.hl7", "adt_a01.hl7"][which];
        let mut text = String::from_utf8(fixture(name)).unwrap();
        for (at, op, insert) in edits {
            let bounds: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let i = *at.get(&bounds);
            let j = bounds.iter().copied().find(|&b| b >= i + insert.len().max(1)).unwrap_or(text.len());
            match op {
                0 => text.insert_str(i, &insert),
                1 => text.replace_range(i..j, ""),
                2 => text.replace_range(i..j, &insert),
                _ => text.truncate(i),
            }
        }
        exercise(text.as_bytes());
    }

    #[test]
    fn mangled_bytes_never_panic(
        which in 0usize..2,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let name = ["bps_o29_gb18030.hl7", "adt_a01_gbk.hl7"][which];
        let mut bytes = fixture(name);
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        exercise(&bytes);
    }
}

/// Decode, map and acknowledge `raw` whatever it holds. A panic fails the
/// test; a panic caught by map_message's last line of defence shows up as
/// code 207 and fails it too.
fn exercise(raw: &[u8]) {
    let cfg = Config::default();
    let now = DateTime::parse_from_rfc3339("2026-11-22T10:30:16+08:00").unwrap();
    match decode(raw, &cfg) {
        Ok(decoded) => {
            let (mapping, notes) = map_message_with_notes(&decoded, &cfg);
            let issues = match &mapping {
                Mapping::Mapped(_) => notes,
                Mapping::Invalid(issues) => issues.clone(),
                Mapping::Unsupported(issue) => vec![issue.clone()],
            };
            assert!(
                issues.iter().all(|i| i.code != ErrorCode::InternalError),
                "mapping panicked: {issues:?}"
            );
            let ack = build_ack(
                &decoded.header,
                AckCode::for_mapping(&mapping),
                &issues,
                "P1",
                now,
            );
            let back = decode(&hemobridge_hl7::encode(&ack, decoded.header.charset), &cfg)
                .expect("an ACK always decodes");
            assert_eq!(back.header.message_code, "ACK");
        }
        Err(e) => {
            let issue = e.to_issue();
            if let Some(header) = header_lossy(raw, &cfg) {
                let _ = build_ack(&header, AckCode::AE, &[issue], "P1", now);
            }
        }
    }
}
