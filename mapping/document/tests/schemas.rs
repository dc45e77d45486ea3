//! The published schemas and the parser accept the same documents.
//!
//! Every fixture, and many small edits of the hospital day, are given to
//! both the parser and a schema validator (`xmllint` for the XSD, the
//! `jsonschema` crate for the JSON Schema); both must accept or both must
//! reject. The only exceptions are the checks no schema can express (check
//! characters, product names, real dates, end before start): for those the
//! test asserts that the schema accepts and the parser rejects, so the
//! boundary is written down rather than assumed.
//!
//! Without `xmllint` on PATH the XSD half prints SKIPPED, or fails when
//! `HEMOBRIDGE_REQUIRE_SERVICES=1` (as in CI).

use hemobridge_document::{read_json, read_xml, Config, ReadError};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn xsd() -> PathBuf {
    root().join("../../docs/schema/report-1.xsd")
}

fn json_schema() -> Value {
    let path = root().join("../../docs/schema/report-1.schema.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn fixtures(ext: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    paths
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// How the fixture's name says it must fare.
enum Expect {
    Valid,
    /// Rejected by the schema and the parser.
    Invalid,
    /// Accepted by the schema, rejected by the parser.
    BeyondSchema,
}

fn expect(name: &str) -> Expect {
    if name.starts_with("invalid-beyond-schema-") {
        Expect::BeyondSchema
    } else if name.starts_with("invalid-") {
        Expect::Invalid
    } else {
        Expect::Valid
    }
}

fn parser_accepts_xml(bytes: &[u8]) -> bool {
    match read_xml(bytes, &Config::default()) {
        Ok(_) => true,
        Err(ReadError::Invalid(_)) => false,
        Err(e) => panic!("a schema test document must be readable: {e}"),
    }
}

fn parser_accepts_json(bytes: &[u8]) -> bool {
    match read_json(bytes, &Config::default()) {
        Ok(_) => true,
        Err(ReadError::Invalid(_)) => false,
        Err(e) => panic!("a schema test document must be readable: {e}"),
    }
}

/// Whether xmllint can be used; if not, fails under
/// `HEMOBRIDGE_REQUIRE_SERVICES=1` and otherwise says SKIPPED.
fn xmllint_available(test: &str) -> bool {
    let found = Command::new("xmllint")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("HEMOBRIDGE_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("xmllint is not on PATH (apt-get install libxml2-utils)");
        }
        println!("SKIPPED {test}: xmllint is not on PATH (apt-get install libxml2-utils)");
    }
    found
}

/// Validates a document against the XSD with xmllint (from stdin, so that
/// the bytes are exactly these). Panics if the schema itself is broken.
fn xsd_accepts(bytes: &[u8]) -> bool {
    let mut child = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(xsd())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xmllint runs");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    match out.status.code() {
        Some(0) => true,
        Some(3) => false,
        other => panic!(
            "xmllint failed ({other:?}): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&json_schema()).expect("the JSON Schema compiles")
}

#[test]
fn xml_fixtures_agree_with_the_xsd() {
    if !xmllint_available("xml_fixtures_agree_with_the_xsd") {
        return;
    }
    for path in fixtures("xml") {
        let n = name(&path);
        let bytes = std::fs::read(&path).unwrap();
        let (schema, parser) = (xsd_accepts(&bytes), parser_accepts_xml(&bytes));
        match expect(&n) {
            Expect::Valid => assert!(schema && parser, "{n}: xsd {schema}, parser {parser}"),
            Expect::Invalid => assert!(!schema && !parser, "{n}: xsd {schema}, parser {parser}"),
            Expect::BeyondSchema => {
                assert!(schema && !parser, "{n}: xsd {schema}, parser {parser}")
            }
        }
    }
}

#[test]
fn json_fixtures_agree_with_the_json_schema() {
    let validator = validator();
    for path in fixtures("json") {
        let n = name(&path);
        let bytes = std::fs::read(&path).unwrap();
        let instance: Value = serde_json::from_slice(&bytes).unwrap();
        let (schema, parser) = (validator.is_valid(&instance), parser_accepts_json(&bytes));
        match expect(&n) {
            Expect::Valid => assert!(schema && parser, "{n}: schema {schema}, parser {parser}"),
            Expect::Invalid => assert!(!schema && !parser, "{n}: schema {schema}, parser {parser}"),
            Expect::BeyondSchema => {
                assert!(schema && !parser, "{n}: schema {schema}, parser {parser}")
            }
        }
    }
}

/// Records appended to the hospital day by some edits.
const EXTRA_DISPATCH: &str = r#"<Dispatch station="S1" to="H1" at="2026-11-22"/>"#;

/// Edits of `hospital-day.xml`: (what, from, to, expected).
fn xml_edits() -> Vec<(&'static str, &'static str, String, Expect)> {
    use Expect::*;
    let end = "</Report>";
    let add = |record: &str| format!("{record}\n</Report>");
    vec![
        // Both reject.
        (
            "lower-case abo",
            r#"abo="A" rh="阳性""#,
            r#"abo="a" rh="阳性""#.into(),
            Invalid,
        ),
        ("rh word", r#"rh="阳性""#, r#"rh="POS""#.into(), Invalid),
        (
            "decimal volume",
            r#"volumeMl="200" diagnosis"#,
            r#"volumeMl="200.5" diagnosis"#.into(),
            Invalid,
        ),
        (
            "zero volume",
            r#"volumeMl="200" quantity="1" expires"#,
            r#"volumeMl="0" quantity="1" expires"#.into(),
            Invalid,
        ),
        (
            "zero unit quantity",
            r#"quantity="1" expires="2026-12-20""#,
            r#"quantity="0" expires="2026-12-20""#.into(),
            Invalid,
        ),
        (
            "huge quantity",
            r#"quantity="1" expires="2026-12-20""#,
            r#"quantity="1000000000" expires="2026-12-20""#.into(),
            Invalid,
        ),
        (
            "negative stock",
            r#"quantity="12""#,
            r#"quantity="-1""#.into(),
            Invalid,
        ),
        (
            "exponent",
            r#"quantity="7.5""#,
            r#"quantity="7.5e0""#.into(),
            Invalid,
        ),
        (
            "discard reason in Chinese",
            r#"reason="expired""#,
            r#"reason="过期""#.into(),
            Invalid,
        ),
        (
            "severity",
            r#"severity="mild""#,
            r#"severity="grave""#.into(),
            Invalid,
        ),
        (
            "crossmatch result",
            r#"result="compatible""#,
            r#"result="ok""#.into(),
            Invalid,
        ),
        ("sex", r#"sex="M""#, r#"sex="male""#.into(), Invalid),
        (
            "id type",
            r#"idType="resident-id""#,
            r#"idType="身份证""#.into(),
            Invalid,
        ),
        (
            "short birth date",
            r#"birthDate="1985-03-12""#,
            r#"birthDate="1985-3-12""#.into(),
            Invalid,
        ),
        (
            "slashed time",
            r#"at="2026-11-22 18:00""#,
            r#"at="2026/11/22 18:00""#.into(),
            Invalid,
        ),
        (
            "offset without colon",
            r#"at="2026-11-22 18:00""#,
            r#"at="2026-11-22T18:00+0800""#.into(),
            Invalid,
        ),
        (
            "ten fraction digits",
            r#"at="2026-11-22 18:00""#,
            r#"at="2026-11-22T18:00:00.1234567890""#.into(),
            Invalid,
        ),
        (
            "measure case",
            r#"measure="mL""#,
            r#"measure="ml""#.into(),
            Invalid,
        ),
        (
            "empty ward",
            r#"ward="心内科一病区" at="2026-11-22T10:05"#,
            r#"ward="" at="2026-11-22T10:05"#.into(),
            Invalid,
        ),
        (
            "space in facility",
            r#"facility="H3201001""#,
            r#"facility="H 3201001""#.into(),
            Invalid,
        ),
        (
            "space in DIN",
            r#"<Received unit="W000026000002""#,
            r#"<Received unit="W 000026000002""#.into(),
            Invalid,
        ),
        (
            "misspelt attribute",
            r#"product="RBC-LR" patient="#,
            r#"prodcut="RBC-LR" patient="#.into(),
            Invalid,
        ),
        (
            "extra attribute",
            "<Stock at=",
            r#"<Stock foo="1" at="#.into(),
            Invalid,
        ),
        (
            "prefixed attribute",
            "<Stock at=",
            r#"<Stock xmlns:x="urn:x" x:foo="1" at="#.into(),
            Invalid,
        ),
        (
            "Unit in Stock",
            "  </Stock>",
            "    <Unit unit=\"W1\" product=\"CRYO\" collectedAt=\"2026-11-22\"/>\n  </Stock>"
                .into(),
            Invalid,
        ),
        (
            "child of Item",
            r#"quantity="7.5" measure="U"/>"#,
            r#"quantity="7.5" measure="U"><Extra/></Item>"#.into(),
            Invalid,
        ),
        (
            "wrong namespace",
            "urn:hemobridge:report:1",
            "urn:hemobridge:report:2".into(),
            Invalid,
        ),
        (
            "no namespace",
            r#" xmlns="urn:hemobridge:report:1""#,
            String::new(),
            Invalid,
        ),
        (
            "text in a record",
            r#"diagnosis="I21.9"/>"#,
            r#"diagnosis="I21.9">x</Transfused>"#.into(),
            Invalid,
        ),
        (
            "blank in a record",
            r#"diagnosis="I21.9"/>"#,
            r#"diagnosis="I21.9"> </Transfused>"#.into(),
            Invalid,
        ),
        (
            "text in Stock",
            "  </Stock>",
            "  stray </Stock>".into(),
            Invalid,
        ),
        (
            "no documentId",
            r#"documentId="H3201001-20261122-0001" "#,
            String::new(),
            Invalid,
        ),
        ("Dispatch without units", end, add(EXTRA_DISPATCH), Invalid),
        (
            "fee with 3 decimals",
            end,
            add(
                r#"<WaiverClaim claimId="C1" patient="P1" donorIdNumber="E1234567" relationship="self" bloodFee="1.005" dischargedAt="2026-11-22" unitsUsedMl="400"/>"#,
            ),
            Invalid,
        ),
        (
            "donation kind",
            end,
            add(
                r#"<Donation unit="W1" donorKey="D1" kind="blood" volumeMl="400" at="2026-11-22"/>"#,
            ),
            Invalid,
        ),
        (
            "relationship",
            end,
            add(
                r#"<WaiverClaim claimId="C1" patient="P1" donorIdNumber="E1234567" relationship="cousin" bloodFee="1" dischargedAt="2026-11-22" unitsUsedMl="400"/>"#,
            ),
            Invalid,
        ),
        // Both accept.
        (
            "leading zeros and decimals",
            r#"volumeMl="200" quantity="1" expires"#,
            r#"volumeMl="0200" quantity="1.50" expires"#.into(),
            Valid,
        ),
        (
            "fractional quantity",
            r#"quantity="1" expires="2026-12-20""#,
            r#"quantity="0.5" expires="2026-12-20""#.into(),
            Valid,
        ),
        (
            "UTC with fraction",
            r#"at="2026-11-22 18:00""#,
            r#"at="2026-11-22T18:00:00.123Z""#.into(),
            Valid,
        ),
        (
            "minutes and Z",
            r#"at="2026-11-22 18:00""#,
            r#"at="2026-11-22T18:00Z""#.into(),
            Valid,
        ),
        (
            "comment in a record",
            r#"diagnosis="I21.9"/>"#,
            r#"diagnosis="I21.9"><!-- note --></Transfused>"#.into(),
            Valid,
        ),
        (
            "end tag for an empty element",
            r#"quantity="7.5" measure="U"/>"#,
            r#"quantity="7.5" measure="U"></Item>"#.into(),
            Valid,
        ),
        (
            "empty stock",
            "<Stock at=\"2026-11-22T20:00:00+08:00\">",
            "<Stock at=\"2026-11-22T20:00:00+08:00\"/><Stock at=\"2026-11-22T20:00:00+08:00\">"
                .into(),
            Valid,
        ),
        (
            "fee in yuan and fen",
            end,
            add(
                r#"<WaiverClaim claimId="C1" patient="P1" donorIdNumber="E1234567" relationship="self" bloodFee="0.07" dischargedAt="2026-11-22" unitsUsedMl="400"/>"#,
            ),
            Valid,
        ),
        (
            "other patient id",
            r#"idType="resident-id" idNumber="320102198503120418""#,
            r#"idType="passport" idNumber="E12345678""#.into(),
            Valid,
        ),
        // Beyond any schema: only the parser can tell.
        (
            "unknown product",
            r#"product="悬浮少白细胞红细胞" patient="ZY20261122001" start"#,
            r#"product="aspirin" patient="ZY20261122001" start"#.into(),
            BeyondSchema,
        ),
        (
            "no such day",
            r#"birthDate="1985-03-12""#,
            r#"birthDate="1985-02-30""#.into(),
            BeyondSchema,
        ),
        (
            "no such hour",
            r#"at="2026-11-22 18:00""#,
            r#"at="2026-11-22 25:00""#.into(),
            BeyondSchema,
        ),
        (
            "ISBT check character",
            "W00002600000100F",
            "W00002600000100G".into(),
            BeyondSchema,
        ),
        (
            "end before start",
            r#"end="2026-11-22T12:05:00+08:00""#,
            r#"end="2026-11-22T10:05:00+08:00""#.into(),
            BeyondSchema,
        ),
        (
            "donor resident ID",
            end,
            add(
                r#"<WaiverClaim claimId="C1" patient="P1" donorIdNumber="320502197808081016" relationship="self" bloodFee="1" dischargedAt="2026-11-22" unitsUsedMl="400"/>"#,
            ),
            BeyondSchema,
        ),
    ]
}

#[test]
fn edited_xml_documents_agree_with_the_xsd() {
    if !xmllint_available("edited_xml_documents_agree_with_the_xsd") {
        return;
    }
    let day = std::fs::read_to_string(root().join("tests/fixtures/hospital-day.xml")).unwrap();
    for (what, from, to, expected) in xml_edits() {
        assert_eq!(day.matches(from).count(), 1, "{what}: edit must hit once");
        let doc = day.replacen(from, &to, 1);
        let (schema, parser) = (
            xsd_accepts(doc.as_bytes()),
            parser_accepts_xml(doc.as_bytes()),
        );
        let ok = match expected {
            Expect::Valid => schema && parser,
            Expect::Invalid => !schema && !parser,
            Expect::BeyondSchema => schema && !parser,
        };
        assert!(ok, "{what}: xsd accepts {schema}, parser accepts {parser}");
    }
}

enum Edit {
    Set(&'static str, Value),
    Remove(&'static str),
    Push(Value),
}

fn json_edits() -> Vec<(&'static str, Edit, Expect)> {
    use Edit::*;
    use Expect::*;
    let claim = |fee: Value, donor: &str| {
        json!({"type": "WaiverClaim", "claimId": "C1", "patient": "P1", "donorIdNumber": donor,
               "relationship": "self", "bloodFee": fee, "dischargedAt": "2026-11-22", "unitsUsedMl": 400})
    };
    vec![
        // Both reject.
        ("lower-case abo", Set("/records/3/abo", json!("a")), Invalid),
        (
            "decimal volume",
            Set("/records/1/volumeMl", json!(200.5)),
            Invalid,
        ),
        (
            "decimal volume as text",
            Set("/records/1/volumeMl", json!("200.5")),
            Invalid,
        ),
        ("zero volume", Set("/records/1/volumeMl", json!(0)), Invalid),
        (
            "boolean volume",
            Set("/records/1/volumeMl", json!(true)),
            Invalid,
        ),
        (
            "zero quantity",
            Set("/records/1/quantity", json!(0)),
            Invalid,
        ),
        (
            "huge quantity",
            Set("/records/1/quantity", json!(1e9)),
            Invalid,
        ),
        (
            "negative stock",
            Set("/records/12/items/0/quantity", json!(-1)),
            Invalid,
        ),
        (
            "number for a DIN",
            Set("/records/1/unit", json!(12345)),
            Invalid,
        ),
        ("null abo", Set("/records/1/abo", Value::Null), Invalid),
        ("sex", Set("/records/0/sex", json!("male")), Invalid),
        (
            "items not an array",
            Set("/records/12/items", json!({})),
            Invalid,
        ),
        (
            "XML name for reactionType",
            Set("/records/7/type", json!("发热")),
            Invalid,
        ),
        (
            "unknown record field",
            Set("/records/2/extra", json!(1)),
            Invalid,
        ),
        ("unknown document field", Set("/extra", json!(1)), Invalid),
        ("no records", Remove("/records"), Invalid),
        ("no type", Remove("/records/5/type"), Invalid),
        (
            "unknown type",
            Set("/records/5/type", json!("Issue")),
            Invalid,
        ),
        (
            "record not an object",
            Set("/records/1", json!("Received")),
            Invalid,
        ),
        (
            "offset without colon",
            Set("/generatedAt", json!("2026-11-22T08:00+0800")),
            Invalid,
        ),
        (
            "Dispatch without units",
            Push(
                json!({"type": "Dispatch", "station": "S1", "to": "H1", "at": "2026-11-22", "units": []}),
            ),
            Invalid,
        ),
        (
            "fee with 3 decimals",
            Push(claim(json!(1.005), "E1234567")),
            Invalid,
        ),
        (
            "fee text with 3 decimals",
            Push(claim(json!("1.005"), "E1234567")),
            Invalid,
        ),
        ("negative fee", Push(claim(json!(-1), "E1234567")), Invalid),
        // Both accept.
        (
            "volume as text",
            Set("/records/1/volumeMl", json!("0200")),
            Valid,
        ),
        (
            "quantity as text",
            Set("/records/1/quantity", json!("1.50")),
            Valid,
        ),
        (
            "whole float volume",
            Set("/records/1/volumeMl", json!(200.0)),
            Valid,
        ),
        (
            "fee as number",
            Push(claim(json!(1200.35), "E1234567")),
            Valid,
        ),
        ("fee in fen", Push(claim(json!(0.07), "E1234567")), Valid),
        ("fee as text", Push(claim(json!("0.07"), "E1234567")), Valid),
        ("stock without items", Remove("/records/12/items"), Valid),
        // Beyond any schema.
        (
            "unknown product",
            Set("/records/1/product", json!("aspirin")),
            BeyondSchema,
        ),
        (
            "no such day",
            Set("/records/0/birthDate", json!("1985-02-30")),
            BeyondSchema,
        ),
        (
            "donor resident ID",
            Push(claim(json!(1), "320502197808081016")),
            BeyondSchema,
        ),
    ]
}

#[test]
fn edited_json_documents_agree_with_the_json_schema() {
    let validator = validator();
    let day: Value = serde_json::from_slice(
        &std::fs::read(root().join("tests/fixtures/hospital-day.json")).unwrap(),
    )
    .unwrap();
    for (what, edit, expected) in json_edits() {
        let mut doc = day.clone();
        match edit {
            Edit::Set(pointer, value) => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                let parent = doc.pointer_mut(parent).unwrap();
                match parent {
                    Value::Object(map) => {
                        map.insert(key.into(), value);
                    }
                    Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
                    _ => panic!("{what}: bad pointer"),
                }
            }
            Edit::Remove(pointer) => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                let removed = doc
                    .pointer_mut(parent)
                    .and_then(Value::as_object_mut)
                    .and_then(|m| m.remove(key));
                assert!(removed.is_some(), "{what}: nothing removed");
            }
            Edit::Push(record) => doc["records"].as_array_mut().unwrap().push(record),
        }
        let bytes = serde_json::to_vec(&doc).unwrap();
        let (schema, parser) = (validator.is_valid(&doc), parser_accepts_json(&bytes));
        let ok = match expected {
            Expect::Valid => schema && parser,
            Expect::Invalid => !schema && !parser,
            Expect::BeyondSchema => schema && !parser,
        };
        assert!(
            ok,
            "{what}: schema accepts {schema}, parser accepts {parser}"
        );
    }
}
