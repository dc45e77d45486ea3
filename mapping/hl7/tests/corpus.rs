//! Every message of the public HL7 v2 corpus
//! (conformance-tests/corpus/public-hl7v2): ADT messages (v2.3 to 2.8, `\n`
//! terminators, byte order marks, several PIDs) map to patients; every other
//! type is unsupported (200). Nothing panics.

use hemobridge_hl7::{decode, map_message, split_messages, Config, ErrorCode, Mapping};
use std::path::PathBuf;

fn corpus_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../conformance-tests/corpus/public-hl7v2");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "hl7"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_message_maps_as_expected() {
    let cfg = Config::default();
    let files = corpus_files();
    assert!(
        files.len() > 100,
        "corpus not found or incomplete: {}",
        files.len()
    );
    let (mut adt, mut other) = (0, 0);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let messages = split_messages(&text);
        assert!(!messages.is_empty(), "{name}: no message found");
        for message in messages {
            let decoded = decode(message.as_bytes(), &cfg)
                .unwrap_or_else(|e| panic!("{name}: decode failed: {e}"));
            let mapping = map_message(&decoded, &cfg);
            if decoded.header.message_code == "ADT" {
                adt += 1;
                match mapping {
                    Mapping::Mapped(n) => {
                        assert!(!n.patients.is_empty(), "{name}: no patient");
                        let facility = &decoded.header.sending_facility;
                        assert!(n
                            .patients
                            .iter()
                            .all(|p| &p.facility == facility && !p.key.is_empty()));
                    }
                    other => panic!("{name}: {other:#?}"),
                }
            } else {
                other += 1;
                match mapping {
                    Mapping::Unsupported(issue) => {
                        assert_eq!(issue.code, ErrorCode::UnsupportedMessageType, "{name}");
                        assert_eq!((issue.segment.as_str(), issue.field), ("MSH", Some(9)));
                    }
                    other => panic!("{name}: expected Unsupported, got {other:#?}"),
                }
            }
        }
    }
    assert!(adt >= 50 && other >= 50, "adt {adt}, other {other}");
}

#[test]
fn corpus_patient_keys_follow_the_identifier_types() {
    let cfg = Config::default();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../conformance-tests/corpus/public-hl7v2");
    let key_of = |file: &str| {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let decoded = decode(split_messages(&text)[0].as_bytes(), &cfg).unwrap();
        match map_message(&decoded, &cfg) {
            Mapping::Mapped(n) => n.patients.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
            other => panic!("{file}: {other:?}"),
        }
    };
    // PID-3 typed MR in the first repetition.
    assert_eq!(key_of("ADT-A01-01.hl7"), ["PATID1234"]);
    // No MR/PI/PT/PN type: the first repetition.
    assert_eq!(key_of("ADT-A06-01.hl7"), ["PATID1234"]);
    // A merge message with two patients.
    assert_eq!(key_of("ADT-A40-02.hl7"), ["12345", "145"]);
}
