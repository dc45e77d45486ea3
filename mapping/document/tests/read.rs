//! Reading the fixtures: the facts they give, the errors invalid documents
//! give, encodings, and the XML/JSON equivalence.

use chrono::DateTime;
use hemobridge_canonical::{
    Abo, EventKind, IdType, Measure, Product, ReactionCategory, Rh, Severity, Sex,
};
use hemobridge_document::{
    peek_json, peek_xml, read_json, read_xml, Config, Document, DonationKind, FieldError,
    ReadError, Relationship,
};
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn xml(name: &str) -> Document {
    read_xml(&fixture(name), &Config::default()).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn json(name: &str) -> Document {
    read_json(&fixture(name), &Config::default()).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn invalid(result: Result<Document, ReadError>) -> Vec<FieldError> {
    match result {
        Err(ReadError::Invalid(errors)) => errors,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn unreadable(result: Result<Document, ReadError>) -> String {
    match result {
        Err(ReadError::Unreadable(why)) => why,
        other => panic!("expected Unreadable, got {other:?}"),
    }
}

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn lines(errors: &[FieldError]) -> Vec<String> {
    errors.iter().map(ToString::to_string).collect()
}

/// Wraps records in a UTF-8 `Report`.
fn report(records: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?><Report xmlns="urn:hemobridge:report:1" documentId="D1" facility="H1">{records}</Report>"#
    )
    .into_bytes()
}

#[test]
fn hospital_day_gives_every_fact() {
    let doc = xml("hospital-day.xml");
    assert_eq!(doc.document_id, "H3201001-20261122-0001");
    assert_eq!(doc.facility, "H3201001");
    assert_eq!(doc.generated_at, Some(at("2026-11-22T20:00:00+08:00")));
    assert_eq!(doc.records, 13);

    let patient = &doc.facts.patients[0];
    assert_eq!(patient.facility, "H3201001");
    assert_eq!(patient.key, "ZY20261122001");
    assert_eq!(patient.id_type, Some(IdType::ResidentId));
    assert_eq!(
        patient.id_number.as_ref().unwrap().expose(),
        "320102198503120418"
    );
    assert_eq!(patient.name.as_ref().unwrap().expose(), "王小明");
    assert_eq!(patient.sex, Some(Sex::M));
    assert_eq!(patient.blood_group.abo, Some(Abo::A));
    assert_eq!(patient.blood_group.rh, Some(Rh::Pos));

    // Received: units with their attributes; the ISBT flags and check
    // character are dropped from the DIN so that sources join.
    let units = &doc.facts.units;
    assert_eq!(units.len(), 4);
    assert_eq!(units[0].din, "W000026000001");
    assert_eq!(units[0].product, Product::RbcLr);
    assert_eq!(units[0].volume_ml, Some(200));
    assert_eq!(units[0].quantity, Some(1.0));
    assert_eq!(units[0].expires, Some(at("2026-12-20T00:00:00+08:00")));
    assert_eq!(units[1].product, Product::PlsFfp);
    assert_eq!(units[1].measure, Measure::Ml);
    assert_eq!(units[2].product, Product::PltAph);
    assert_eq!(units[2].rh, Some(Rh::Pos));
    assert_eq!(units[3].product, Product::Cryo);
    assert_eq!(units[3].rh, Some(Rh::Neg));

    let kinds: Vec<EventKind> = doc.facts.events.iter().map(|e| e.kind).collect();
    use EventKind::*;
    assert_eq!(
        kinds,
        [
            Received,
            Received,
            Received,
            Crossmatched,
            Issued,
            Transfused,
            Reaction,
            Issued,
            Returned,
            Received,
            Discarded
        ]
    );
    let events = &doc.facts.events;
    assert!(events.iter().all(|e| e.facility == "H3201001"));
    assert_eq!(events[0].detail.from.as_deref(), Some("S3201"));
    assert_eq!(events[3].detail.result.as_deref(), Some("compatible"));
    assert_eq!(events[3].patient_key.as_deref(), Some("ZY20261122001"));
    assert_eq!(events[3].unit, units[0].key());
    assert_eq!(events[4].detail.ward.as_deref(), Some("心内科一病区"));

    let transfused = &events[5];
    assert_eq!(transfused.at, at("2026-11-22T12:05:00+08:00"));
    assert_eq!(
        transfused.detail.start,
        Some(at("2026-11-22T10:20:00+08:00"))
    );
    assert_eq!(transfused.detail.end, Some(transfused.at));
    assert_eq!(transfused.detail.volume_ml, Some(200));
    assert_eq!(transfused.detail.diagnosis.as_deref(), Some("I21.9"));

    let reaction = &events[6];
    assert_eq!(
        reaction.detail.reaction_type.as_deref(),
        Some("发热性非溶血性输血反应")
    );
    assert_eq!(
        reaction.detail.reaction_category,
        Some(ReactionCategory::Febrile)
    );
    assert_eq!(reaction.detail.severity, Some(Severity::Mild));
    assert_eq!(reaction.detail.outcome.as_deref(), Some("好转"));

    assert_eq!(events[8].detail.reason.as_deref(), Some("医嘱取消"));
    assert_eq!(events[8].patient_key, None);
    let discarded = &events[10];
    assert_eq!(discarded.detail.reason.as_deref(), Some("expired"));
    // A time without an offset is local time in the configured zone.
    assert_eq!(discarded.at, at("2026-11-22T18:00:00+08:00"));

    assert_eq!(doc.stock.len(), 1);
    let stock = &doc.stock[0];
    assert_eq!(stock.facility, "H3201001");
    assert_eq!(stock.items.len(), 4);
    assert_eq!(stock.items[0].product, Product::RbcLr);
    assert_eq!(stock.items[0].quantity, 12.0);
    assert_eq!(stock.items[1].measure, Measure::Ml);
    assert_eq!(stock.items[2].quantity, 0.0);
    assert_eq!(stock.items[3].abo, None);
    assert!(doc.donations.is_empty() && doc.waiver_claims.is_empty());
}

#[test]
fn station_dispatch_starts_the_chain() {
    let doc = xml("station-dispatch.xml");
    assert_eq!(doc.records, 3);
    assert_eq!(doc.donations.len(), 2);
    let d = &doc.donations[0];
    assert_eq!(d.unit, "W000026000010");
    assert_eq!(d.donor_key, "D-7F3A91");
    assert_eq!(
        d.donor_id_number.as_ref().unwrap().expose(),
        "320106199002150029"
    );
    assert_eq!(d.kind, DonationKind::WholeBlood);
    assert_eq!(d.volume_ml, 400);
    assert_eq!(doc.donations[1].kind, DonationKind::ApheresisPlatelets);
    assert!(doc.donations[1].donor_id_number.is_none());

    // One DIN, two products: two units that share the DIN.
    let units = &doc.facts.units;
    assert_eq!(units.len(), 3);
    assert_eq!(units[0].din, "W000026000010");
    assert_eq!(units[1].din, "W000026000010");
    assert_eq!(
        (units[0].product, units[1].product),
        (Product::RbcLr, Product::PlsFfp)
    );
    assert!(units.iter().all(|u| u.station.as_deref() == Some("S3201")));
    assert_eq!(units[0].donor_key.as_deref(), Some("D-7F3A91"));

    let events = &doc.facts.events;
    assert_eq!(events.len(), 6);
    for (pair, unit) in events.chunks(2).zip(units) {
        let (collected, dispatched) = (&pair[0], &pair[1]);
        assert_eq!(collected.kind, EventKind::Collected);
        assert_eq!(collected.facility, "S3201");
        assert_eq!(collected.unit, unit.key());
        assert_eq!(dispatched.kind, EventKind::Dispatched);
        assert_eq!(dispatched.at, at("2026-11-21T15:00:00+08:00"));
        assert_eq!(dispatched.detail.to.as_deref(), Some("H3201001"));
        assert_eq!(dispatched.unit, unit.key());
    }
    assert_eq!(events[0].at, at("2026-11-20T09:30:00+08:00"));
}

#[test]
fn a_transfer_pair_meets_on_the_unit() {
    let out = xml("transfer-out.xml");
    let into = xml("transfer-in.xml");
    let transferred = &out.facts.events[0];
    let received = &into.facts.events[0];
    assert_eq!(transferred.kind, EventKind::Transferred);
    assert_eq!(transferred.facility, "H3201001");
    assert_eq!(transferred.detail.to.as_deref(), Some("H3201002"));
    assert_eq!(received.kind, EventKind::Received);
    assert_eq!(received.facility, "H3201002");
    assert_eq!(received.detail.from.as_deref(), Some("H3201001"));
    // 去白细胞悬浮红细胞 and 悬浮少白细胞红细胞 are one product.
    assert_eq!(transferred.unit, received.unit);
    assert_eq!(out.generated_at, None);
}

#[test]
fn waiver_claims_keep_money_in_fen() {
    let doc = xml("waiver-claim.xml");
    let claim = &doc.waiver_claims[0];
    assert_eq!(claim.claim_id, "WC-2026-000123");
    assert_eq!(claim.patient, "ZY20261122001");
    assert_eq!(claim.donor_id_number.expose(), "320502197808081015");
    assert_eq!(claim.donor_name.as_ref().unwrap().expose(), "王大力");
    assert_eq!(claim.relationship, Relationship::Spouse);
    assert_eq!(claim.blood_fee_fen, 123_450);
    assert_eq!(claim.units_used_ml, 400);
    // generatedAt without an offset: Asia/Shanghai by default...
    assert_eq!(doc.generated_at, Some(at("2026-11-25T16:00:00+08:00")));
    // ...or the configured zone.
    let utc = Config {
        zone: chrono_tz::UTC,
        ..Config::default()
    };
    let doc = read_xml(&fixture("waiver-claim.xml"), &utc).unwrap();
    assert_eq!(doc.generated_at, Some(at("2026-11-25T16:00:00Z")));
}

#[test]
fn chinese_encodings_give_the_same_facts() {
    let utf8 = xml("hospital-day.xml");
    for name in ["hospital-day.gb18030.xml", "hospital-day.gbk.xml"] {
        let bytes = fixture(name);
        assert!(std::str::from_utf8(&bytes).is_err(), "{name} is not UTF-8");
        assert_eq!(xml(name), utf8, "{name}");
    }
    // GB18030's four-byte sequences (beyond GBK) decode too.
    let text = r#"<?xml version="1.0" encoding="GB18030"?><Report xmlns="urn:hemobridge:report:1" documentId="D1" facility="H1"><Patient key="P1" name="𠮷田"/></Report>"#;
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let doc = read_xml(&bytes, &Config::default()).unwrap();
    assert_eq!(
        doc.facts.patients[0].name.as_ref().unwrap().expose(),
        "𠮷田"
    );
}

#[test]
fn xml_and_json_of_the_same_day_agree() {
    assert_eq!(xml("hospital-day.xml"), json("hospital-day.json"));
    assert_eq!(xml("station-dispatch.xml"), json("station-dispatch.json"));
}

#[test]
fn bad_blood_group_is_named_by_path() {
    let errors = invalid(read_xml(
        &fixture("invalid-bad-abo.xml"),
        &Config::default(),
    ));
    assert_eq!(
        lines(&errors),
        ["records[3].abo: \"C\" is not a blood group (A, B, O, AB)"]
    );
    let errors = invalid(read_json(
        &fixture("invalid-bad-abo.json"),
        &Config::default(),
    ));
    assert_eq!(
        lines(&errors),
        ["records[3].abo: \"C\" is not a blood group (A, B, O, AB)"]
    );
}

#[test]
fn missing_unit_is_required() {
    for errors in [
        invalid(read_xml(
            &fixture("invalid-missing-unit.xml"),
            &Config::default(),
        )),
        invalid(read_json(
            &fixture("invalid-missing-unit.json"),
            &Config::default(),
        )),
    ] {
        assert_eq!(lines(&errors), ["records[5].unit: is required"]);
    }
}

#[test]
fn unknown_names_are_caught() {
    let errors = invalid(read_xml(
        &fixture("invalid-unknown-element.xml"),
        &Config::default(),
    ));
    assert_eq!(lines(&errors), ["records[2]: unknown element \"Recieved\""]);
    let errors = invalid(read_json(
        &fixture("invalid-unknown-field.json"),
        &Config::default(),
    ));
    assert_eq!(
        lines(&errors),
        [
            "records[2].prodcut: unknown field in Received",
            "records[2].product: is required"
        ]
    );
    let errors = invalid(read_xml(
        &report(r#"<Returned unit="W1" prodcut="CRYO" at="2026-11-22"/>"#),
        &Config::default(),
    ));
    assert_eq!(
        lines(&errors),
        [
            "records[0].prodcut: unknown attribute in Returned",
            "records[0].product: is required"
        ]
    );
}

#[test]
fn a_bad_resident_id_is_reported_without_the_number() {
    for (errors, body) in [
        (
            invalid(read_xml(
                &fixture("invalid-beyond-schema-resident-id.xml"),
                &Config::default(),
            )),
            fixture("invalid-beyond-schema-resident-id.xml"),
        ),
        (
            invalid(read_json(
                &fixture("invalid-beyond-schema-resident-id.json"),
                &Config::default(),
            )),
            fixture("invalid-beyond-schema-resident-id.json"),
        ),
    ] {
        assert_eq!(
            lines(&errors),
            ["records[0].idNumber: check character does not match"]
        );
        let all = format!("{errors:?}");
        assert!(!all.contains("320102"), "{all}");
        assert!(!all.contains("王小明"));
        assert!(!body.is_empty());
    }
}

#[test]
fn every_error_is_listed_and_no_pii_is_echoed() {
    let body = report(
        r#"<Patient key="P 1" idType="passport" idNumber="" name="" sex="X" birthDate="1985-02-30"/>
           <Received unit="a b" product="aspirin" abo="AB型" rh="POS" volumeMl="0" quantity="-1" from="S1" at="yesterday"/>
           <Transfused unit="W1" product="RBC-LR" patient="P1" start="2026-11-22T12:00" end="2026-11-22T11:00"/>
           <Discarded unit="W1" product="RBC-LR" reason="过期" at="2026-11-22"/>
           <Reaction unit="W1" product="RBC-LR" patient="P1" type="TACO" severity="grave" at="2026-11-22"/>
           <Dispatch station="S1" to="H1" at="2026-11-22"/>
           <Stock at="2026-11-22"><Item product="CRYO" quantity="1" measure="bag"/></Stock>
           <WaiverClaim claimId="C1" patient="P1" donorIdNumber="320502197808081016" relationship="cousin" bloodFee="12.345" dischargedAt="2026-11-22" unitsUsedMl="1.5"/>"#,
    );
    let errors = invalid(read_xml(&body, &Config::default()));
    assert_eq!(
        lines(&errors),
        [
            "records[0].key: must be 1 to 64 printable ASCII characters without spaces",
            "records[0].idNumber: must not be empty",
            "records[0].name: must not be empty",
            "records[0].sex: \"X\" is not a sex (M, F, U)",
            "records[0].birthDate: must be a real date written YYYY-MM-DD",
            "records[1].unit: donation id must be printable ASCII without spaces, at most 40 characters",
            "records[1].product: \"aspirin\" is not a known blood product",
            "records[1].abo: \"AB型\" is not a blood group (A, B, O, AB)",
            "records[1].rh: \"POS\" is not an RhD value (+, -, 阳性, 阴性)",
            "records[1].volumeMl: \"0\" is not a whole number from 1 to 999999999",
            "records[1].quantity: \"-1\" is not a decimal number like 1.5",
            "records[1].at: \"yesterday\" is not an ISO 8601 date-time",
            "records[2].end: is before start",
            "records[3].reason: \"过期\" is not a discard reason (expired, damaged, hemolysis, returned-late, other)",
            "records[4].severity: \"grave\" is not a severity (mild, moderate, severe, death)",
            "records[5].units: at least one unit is required",
            "records[6].items[0].measure: \"bag\" is not a measure (U, mL, dose)",
            "records[7].donorIdNumber: check character does not match",
            "records[7].relationship: \"cousin\" is not a relationship (self, spouse, parent, child, sibling, spouse-parent, other)",
            "records[7].bloodFee: \"12.345\" is not an amount like 1234.50",
            "records[7].unitsUsedMl: \"1.5\" is not a whole number from 1 to 999999999",
        ]
    );
    let all = format!("{errors:?}");
    assert!(!all.contains("320502"));
    assert!(!all.contains("1985"));
}

#[test]
fn structure_errors_have_paths() {
    let body = report(
        r#"<Dispatch station="S1" to="H1" at="2026-11-22">
             <Unit unit="W1" product="CRYO" collectedAt="2026-11-21"/>
             <Unit unit="W2" product="CRYO" abo="Q"><Extra/></Unit>
             <Item product="CRYO" quantity="1" measure="U"/>
           </Dispatch>
           <Issued unit="W1" product="CRYO" patient="P1" at="2026-11-22">text</Issued>
           <other:Issued xmlns:other="urn:other" unit="W1"/>
           stray"#,
    );
    let errors = invalid(read_xml(&body, &Config::default()));
    assert_eq!(
        lines(&errors),
        [
            "records[0].units[1]: unexpected element \"Extra\"",
            "records[0]: unexpected element \"Item\"",
            "records[0].units[1].collectedAt: is required",
            "records[0].units[1].abo: \"Q\" is not a blood group (A, B, O, AB)",
            "records[1]: Issued must be empty (attributes only)",
            "records[2]: unknown element \"other:Issued\"",
            "document: text between records is not allowed",
        ]
    );
}

#[test]
fn json_structure_errors_have_paths() {
    let body = br#"{"documentId": "D1", "facility": "H1", "extra": 1, "records": [
        {"type": "Dispatch", "station": "S1", "to": "H1", "at": "2026-11-22",
         "units": [{"unit": "W1", "product": "CRYO", "collectedAt": "2026-11-21", "volumeMl": "200"},
                   "W2",
                   {"unit": 5, "product": "CRYO", "collectedAt": "2026-11-21", "volumeMl": true}]},
        {"type": "Recieved"},
        {"unit": "W1"},
        [],
        {"type": "Issued", "type": "Issued"},
        {"type": "Stock", "at": "2026-11-22", "items": {}},
        {"type": "Returned", "unit": "W1", "product": "CRYO", "at": "2026-11-22", "at": "2026-11-23", "reason": null}
    ]}"#;
    let errors = invalid(read_json(body, &Config::default()));
    assert_eq!(
        lines(&errors),
        [
            "extra: unknown field in Report",
            "records[0].units[1]: must be an object, not a string",
            "records[0].units[2].unit: must be a string, not a number",
            "records[0].units[2].volumeMl: must be a number, not a boolean",
            "records[1].type: \"Recieved\" is not a record type",
            "records[2].type: is required",
            "records[3]: must be an object, not an array",
            "records[4].type: repeated field",
            "records[5].items: must be an array, not an object",
            "records[6].at: repeated field",
            "records[6].reason: must be a string, not null",
        ]
    );
}

#[test]
fn wrong_root_is_invalid() {
    for body in [
        &br#"<Report documentId="D1" facility="H1"/>"#[..],
        br#"<Rapport xmlns="urn:hemobridge:report:1" documentId="D1" facility="H1"/>"#,
        br#"<Report xmlns="urn:hemobridge:report:2" documentId="D1" facility="H1"/>"#,
    ] {
        let errors = invalid(read_xml(body, &Config::default()));
        assert_eq!(
            lines(&errors),
            ["document: the root element must be Report in the namespace urn:hemobridge:report:1"]
        );
    }
    let errors = invalid(read_xml(
        br#"<Report xmlns="urn:hemobridge:report:1" facility="H 1" generatedAt="soon"/>"#,
        &Config::default(),
    ));
    assert_eq!(
        lines(&errors),
        [
            "documentId: is required",
            "facility: must be 1 to 64 printable ASCII characters without spaces",
            "generatedAt: \"soon\" is not an ISO 8601 date-time",
        ]
    );
    let errors = invalid(read_json(b"[1, 2]", &Config::default()));
    assert_eq!(
        lines(&errors),
        ["document: must be an object, not an array"]
    );
    let errors = invalid(read_json(
        br#"{"documentId": "D1", "facility": "H1"}"#,
        &Config::default(),
    ));
    assert_eq!(lines(&errors), ["records: is required"]);
}

#[test]
fn an_empty_report_is_valid() {
    let doc = read_xml(&report(""), &Config::default()).unwrap();
    assert_eq!(doc.records, 0);
    assert!(doc.facts.is_empty());
    let doc = read_json(
        br#"{"documentId": "D1", "facility": "H1", "records": []}"#,
        &Config::default(),
    )
    .unwrap();
    assert_eq!(doc.records, 0);
}

#[test]
fn unreadable_documents() {
    let cfg = Config::default();
    assert!(unreadable(read_xml(b"", &cfg)).contains("no root"));
    assert!(unreadable(read_xml(b"hello", &cfg)).contains("outside the root"));
    unreadable(read_xml(b"<Report", &cfg));
    unreadable(read_xml(
        br#"<Report xmlns="urn:hemobridge:report:1" documentId="D1" facility="H1">"#,
        &cfg,
    ));
    let root = |rest: &str| {
        format!(r#"<Report xmlns="urn:hemobridge:report:1" documentId="D1" facility="H1"{rest}"#)
            .into_bytes()
    };
    unreadable(read_xml(&root("></Rapport>"), &cfg));
    unreadable(read_xml(
        &root(r#"><Issued unit="1" unit="2"/></Report>"#),
        &cfg,
    ));
    unreadable(read_xml(&root(r#" generatedAt="&unknown;"/>"#), &cfg));
    unreadable(read_xml(&root(r#"><Issued unit="a&b"/></Report>"#), &cfg));
    assert!(unreadable(read_xml(&root("/><Report/>"), &cfg)).contains("more than one root"));
    // GBK bytes declared (by default) as UTF-8.
    let gbk = encoding_rs::GBK
        .encode("<Report name=\"王\"/>")
        .0
        .into_owned();
    assert!(unreadable(read_xml(&gbk, &cfg)).contains("UTF-8"));
    // Undecodable bytes in a declared encoding.
    unreadable(read_xml(
        b"<?xml version=\"1.0\" encoding=\"GBK\"?><Report a=\"\x81\"/>",
        &cfg,
    ));
    assert!(unreadable(read_xml(
        br#"<?xml version="1.0" encoding="Shift_JIS"?><Report/>"#,
        &cfg
    ))
    .contains("not supported"));
    unreadable(read_json(b"{", &cfg));
    unreadable(read_json(b"<Report/>", &cfg));
    unreadable(read_json(b"{\"a\": \"\xff\"}", &cfg));
    unreadable(read_json(br#"{"records": []} trailing"#, &cfg));
}

#[test]
fn dtds_are_refused_so_entities_cannot_expand() {
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Report xmlns="urn:hemobridge:report:1" documentId="&lol3;" facility="H1"/>"#;
    assert!(unreadable(read_xml(laughs, &Config::default())).contains("DOCTYPE"));
    let external = br#"<?xml version="1.0"?><!DOCTYPE r SYSTEM "file:///etc/passwd"><Report/>"#;
    unreadable(read_xml(external, &Config::default()));
}

#[test]
fn escapes_comments_and_prefixes_are_xml() {
    let body = report(
        r#"<!-- a comment --><?pi data?>
           <Issued unit="W1" product="CRYO" patient="P&amp;1" ward="&#x5FC3;&lt;A&gt;" at="2026-11-22"><!-- ok --></Issued>
           <![CDATA[  ]]>"#,
    );
    let doc = read_xml(&body, &Config::default()).unwrap();
    let e = &doc.facts.events[0];
    assert_eq!(e.patient_key.as_deref(), Some("P&1"));
    assert_eq!(e.detail.ward.as_deref(), Some("心<A>"));
}

#[test]
fn json_numbers_may_be_strings_and_strings_may_not_be_numbers() {
    let body = br#"{"documentId": "D1", "facility": "H1", "records": [
        {"type": "Received", "unit": "W1", "product": "CRYO", "volumeMl": "200", "quantity": 1.5, "from": "S1", "at": "2026-11-22"},
        {"type": "WaiverClaim", "claimId": "C1", "patient": "P1", "donorIdNumber": "E1234567", "relationship": "self",
         "bloodFee": 1200.35, "dischargedAt": "2026-11-22", "unitsUsedMl": 400.0}
    ]}"#;
    let doc = read_json(body, &Config::default()).unwrap();
    assert_eq!(doc.facts.units[0].volume_ml, Some(200));
    assert_eq!(doc.facts.units[0].quantity, Some(1.5));
    assert_eq!(doc.waiver_claims[0].blood_fee_fen, 120_035);
    assert_eq!(doc.waiver_claims[0].relationship, Relationship::Self_);
    assert_eq!(doc.waiver_claims[0].units_used_ml, 400);
    let body = br#"{"documentId": 1, "facility": "H1", "records": []}"#;
    assert_eq!(
        lines(&invalid(read_json(body, &Config::default()))),
        ["documentId: must be a string, not a number"]
    );
}

#[test]
fn product_table_is_configurable() {
    let body = report(r#"<Returned unit="W1" product="XZ-0101" at="2026-11-22"/>"#);
    invalid(read_xml(&body, &Config::default()));
    let mut cfg = Config::default();
    cfg.products.insert("XZ-0101", Product::PlsFfp);
    let doc = read_xml(&body, &cfg).unwrap();
    assert_eq!(doc.facts.events[0].unit.product, Product::PlsFfp);
}

#[test]
fn peeks_read_only_the_envelope() {
    assert_eq!(
        peek_xml(&fixture("hospital-day.xml")),
        Some(("H3201001-20261122-0001".into(), "H3201001".into()))
    );
    assert_eq!(
        peek_xml(&fixture("hospital-day.gbk.xml")),
        Some(("H3201001-20261122-0001".into(), "H3201001".into()))
    );
    assert_eq!(
        peek_xml(&fixture("waiver-claim.xml")),
        Some(("H3201001-20261125-0003".into(), "H3201001".into()))
    );
    // Invalid records do not matter to a peek.
    assert_eq!(
        peek_xml(&fixture("invalid-bad-abo.xml")),
        Some(("H3201001-20261122-0001".into(), "H3201001".into()))
    );
    assert_eq!(
        peek_json(&fixture("hospital-day.json")),
        Some(("H3201001-20261122-0001".into(), "H3201001".into()))
    );
    assert_eq!(
        peek_xml(br#"<Report documentId="D1" facility="H1"/>"#),
        None
    );
    assert_eq!(
        peek_xml(br#"<Report xmlns="urn:hemobridge:report:1" facility="H1"/>"#),
        None
    );
    assert_eq!(peek_xml(b"<!DOCTYPE x><Report/>"), None);
    assert_eq!(peek_json(br#"{"facility": "H1", "records": []}"#), None);
    assert_eq!(peek_json(b"not json"), None);
}

#[test]
fn documents_serialize_without_pii_in_debug() {
    let doc = xml("hospital-day.xml");
    let debug = format!("{doc:?}");
    assert!(!debug.contains("王小明"));
    assert!(!debug.contains("320102198503120418"));
    let json = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["documentId"], "H3201001-20261122-0001");
    assert!(json["facts"]["events"].is_array());
}
