//! The shipped profiles in `hospital-connectors/` against their fixtures:
//! each good file becomes a document that the document reader accepts with
//! the expected facts; each bad file gives exactly its row errors.

use hemobridge_canonical::{Abo, EventKind, Product, Rh};
use hemobridge_dialect::{Converted, Profile, SourceRef};
use hemobridge_document::{Config, Document};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FACILITY: &str = "H3201001";

fn connectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hospital-connectors")
}

fn profile(path: &str) -> Profile {
    let text = std::fs::read_to_string(connectors().join(path)).unwrap();
    Profile::from_toml(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(connectors().join(path)).unwrap()
}

fn read(profile_path: &str, file: &str) -> (Document, Converted) {
    profile(profile_path)
        .to_document(&fixture(file), Some(file), FACILITY, &Config::default())
        .unwrap_or_else(|e| panic!("{file}: {:#?}", e.rows))
}

fn errors(profile_path: &str, file: &str) -> Vec<(usize, String)> {
    let e = profile(profile_path)
        .to_document(&fixture(file), Some(file), FACILITY, &Config::default())
        .expect_err("bad fixture must be refused");
    e.rows.into_iter().map(|r| (r.row, r.message_zh)).collect()
}

fn events_by_kind(doc: &Document) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in &doc.facts.events {
        *counts.entry(format!("{:?}", e.kind)).or_default() += 1;
    }
    counts
}

#[test]
fn every_shipped_profile_loads() {
    let mut loaded = 0;
    for dir in std::fs::read_dir(connectors()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("profile") && name.ends_with(".toml") {
                let text = std::fs::read_to_string(&file).unwrap();
                Profile::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                loaded += 1;
            }
        }
    }
    assert!(loaded >= 4, "only {loaded} profiles found");
}

#[test]
fn portal_csv_becomes_the_expected_facts() {
    let (doc, converted) = read(
        "portal-standard/profile.toml",
        "portal-standard/fixtures/good.csv",
    );
    assert_eq!(doc.facility, FACILITY);
    assert!(doc.document_id.starts_with("H3201001-"));
    let want: BTreeMap<String, usize> = [
        ("Received", 4),
        ("Crossmatched", 1),
        ("Issued", 2),
        ("Transfused", 1),
        ("Reaction", 1),
        ("Returned", 1),
        ("Discarded", 1),
        ("Transferred", 1),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    assert_eq!(events_by_kind(&doc), want);
    assert_eq!(doc.facts.patients.len(), 2);
    // Two stock rows at one time are one stock report with two items.
    assert_eq!(doc.stock.len(), 1);
    assert_eq!(doc.stock[0].items.len(), 2);
    assert_eq!(doc.stock[0].items[1].quantity, 0.0);

    let unit = doc
        .facts
        .units
        .iter()
        .find(|u| u.din == "W042726000002")
        .unwrap();
    assert_eq!(unit.product, Product::PltAph);
    assert_eq!((unit.abo, unit.rh), (Some(Abo::A), Some(Rh::Neg)));
    let received = doc
        .facts
        .events
        .iter()
        .find(|e| e.kind == EventKind::Received && e.unit.din == "W042726000001")
        .unwrap();
    // A time without an offset is site-local (Asia/Shanghai by default).
    assert_eq!(received.at.to_rfc3339(), "2026-11-24T08:30:00+08:00");
    let transfused = doc
        .facts
        .events
        .iter()
        .find(|e| e.kind == EventKind::Transfused)
        .unwrap();
    assert_eq!(transfused.patient_key.as_deref(), Some("ZY2026001"));
    assert_eq!(
        transfused.detail.end.unwrap().to_rfc3339(),
        "2026-11-24T11:50:00+08:00"
    );

    // Sources: the first record is row 2 (the header is row 1); the stock
    // report's second item is the last row of the file.
    assert_eq!(converted.sources[0], SourceRef::Row { row: 2 });
    let stock = converted.kinds.iter().position(|k| k == "Stock").unwrap();
    assert_eq!(
        converted.locate(&format!("records[{stock}].items[1].quantity")),
        Some(&SourceRef::Row { row: 15 })
    );
    assert_eq!(
        converted.column(&format!("records[{stock}].items[1].quantity")),
        Some("数量")
    );
}

#[test]
fn portal_xlsx_gives_the_same_records_as_the_csv() {
    let (_, csv) = read(
        "portal-standard/profile.toml",
        "portal-standard/fixtures/good.csv",
    );
    // good.xlsx holds 发生时间 as Excel date-time cells, not text.
    let (doc, xlsx) = read(
        "portal-standard/profile.xlsx.toml",
        "portal-standard/fixtures/good.xlsx",
    );
    assert_eq!(xlsx.document["records"], csv.document["records"]);
    assert_eq!(xlsx.sources, csv.sources);
    assert_eq!(doc.facts.events.len(), 12);
}

#[test]
fn portal_templates_convert() {
    let (doc, _) = read(
        "portal-standard/profile.toml",
        "portal-standard/template.csv",
    );
    assert_eq!(doc.facts.events.len(), 3);
    let (doc, _) = read(
        "portal-standard/profile.xlsx.toml",
        "portal-standard/template.xlsx",
    );
    assert_eq!(doc.facts.events.len(), 3);
}

#[test]
fn portal_bad_rows_are_all_reported_in_chinese() {
    assert_eq!(
        errors(
            "portal-standard/profile.toml",
            "portal-standard/fixtures/bad.csv"
        ),
        [
            (3, "第 3 行：ABO血型 \"C\" 无效（可用：AB型、A型、B型、O型）".to_owned()),
            (
                4,
                "第 4 行：业务类型 \"出库\" 无效（可用：不良反应、入库、发血、库存、报废、调剂、输血、退血、配血）"
                    .to_owned()
            ),
            (5, "第 5 行：发生时间 \"2026/13/01 08:30\" 不是可识别的日期时间".to_owned()),
            (6, "第 6 行：严重程度 \"很重\" 无效（可用：中度、死亡、轻度、重度）".to_owned()),
        ]
    );
}

#[test]
fn a_document_error_is_located_on_its_source_row() {
    let profile = profile("portal-standard/profile.toml");
    let bytes = fixture("portal-standard/fixtures/transfusion-without-patient.csv");
    // The conversion itself succeeds: a missing patient is the document
    // reader's rule, not the profile's.
    let converted = profile.convert(&bytes, None, FACILITY).unwrap();
    let err =
        hemobridge_document::read_json(&converted.to_json_bytes(), &Config::default()).unwrap_err();
    let hemobridge_document::ReadError::Invalid(list) = err else {
        panic!("expected invalid")
    };
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].path, "records[1].patient");
    assert_eq!(
        converted.locate(&list[0].path),
        Some(&SourceRef::Row { row: 3 })
    );
    assert_eq!(converted.column(&list[0].path), Some("患者编号"));
    let explained = converted.explain(&list[0]);
    assert_eq!(explained.row, 3);
    assert_eq!(explained.message_zh, "第 3 行：「患者编号」不能为空");
    assert_eq!(explained.message_en, "row 3, 患者编号: is required");
    // And the one-call path gives the same row error.
    let e = profile
        .to_document(&bytes, None, FACILITY, &Config::default())
        .unwrap_err();
    assert_eq!(e.rows, [explained]);
}

#[test]
fn vendor_b_gbk_csv_becomes_the_expected_facts() {
    let (doc, converted) = read(
        "vendor-b-csv-gbk/profile.toml",
        "vendor-b-csv-gbk/fixtures/good.csv",
    );
    let want: BTreeMap<String, usize> = [
        ("Received", 3),
        ("Issued", 1),
        ("Transfused", 1),
        ("Returned", 1),
        ("Discarded", 1),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    assert_eq!(events_by_kind(&doc), want);
    let unit = doc
        .facts
        .units
        .iter()
        .find(|u| u.din == "W042726000101")
        .unwrap();
    // 少白红悬 is the vendor's word for leukoreduced red cells.
    assert_eq!(unit.product, Product::RbcLr);
    assert_eq!((unit.abo, unit.rh), (Some(Abo::O), Some(Rh::Pos)));
    // The title line is row 1, the header row 2: data starts at row 3.
    assert_eq!(converted.sources[0], SourceRef::Row { row: 3 });
    assert_eq!(doc.facts.patients.len(), 1);
}

#[test]
fn vendor_b_bad_rows() {
    assert_eq!(
        errors(
            "vendor-b-csv-gbk/profile.toml",
            "vendor-b-csv-gbk/fixtures/bad.csv"
        ),
        [
            (
                4,
                "第 4 行：RH \"D阴\" 无效（可用：RH阳性、RH阴性）".to_owned()
            ),
            (
                5,
                "第 5 行：操作时间 \"2026-11-24 16:00\" 不是可识别的日期时间".to_owned()
            ),
            (
                5,
                "第 5 行：报废原因 \"丢失\" 无效（可用：其他、溶血、破袋、过期）".to_owned()
            ),
            (
                6,
                "第 6 行：操作类型 \"调拨\" 无效（可用：入库、发血、报废、输血、退血）".to_owned()
            ),
        ]
    );
}

#[test]
fn vendor_a_xml_becomes_the_expected_facts() {
    let (doc, converted) = read(
        "vendor-a-lis-xml/profile.toml",
        "vendor-a-lis-xml/fixtures/good.xml",
    );
    assert_eq!(doc.document_id, "A20261124-01");
    let want: BTreeMap<String, usize> = [
        ("Received", 2),
        ("Issued", 1),
        ("Transfused", 1),
        ("Discarded", 1),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_owned(), n))
    .collect();
    assert_eq!(events_by_kind(&doc), want);
    let issued = doc
        .facts
        .events
        .iter()
        .find(|e| e.kind == EventKind::Issued)
        .unwrap();
    assert_eq!(issued.unit.product, Product::RbcLr);
    assert_eq!(issued.detail.ward.as_deref(), Some("普外科"));
    assert_eq!(issued.at.to_rfc3339(), "2026-11-24T10:00:00+08:00");
    let plasma = doc
        .facts
        .units
        .iter()
        .find(|u| u.din == "W042726000202")
        .unwrap();
    assert_eq!((plasma.abo, plasma.rh), (Some(Abo::AB), Some(Rh::Neg)));
    // The patient is emitted once, before the event that named it first.
    assert_eq!(doc.facts.patients.len(), 1);
    assert_eq!(converted.kinds[2], "Patient");
    assert_eq!(
        converted.sources[2],
        SourceRef::Element {
            path: "ShuXueJiLu/FaXue".into(),
            index: 3,
            line: 20
        }
    );
}

#[test]
fn vendor_a_bad_records() {
    assert_eq!(
        errors(
            "vendor-a-lis-xml/profile.toml",
            "vendor-a-lis-xml/fixtures/bad.xml"
        ),
        [
            (1, "第 1 条记录（第 3 行）：ShiJian \"2026112408\" 不是可识别的日期时间".to_owned()),
            (
                2,
                "第 2 条记录（第 10 行）：元素名 (element name) \"XueYeDiaoBo\" 无效（可用：BaoFei、FaXue、ShuXue、XueYeRuKu）"
                    .to_owned()
            ),
            (3, "第 3 条记录（第 14 行）：BaoFeiYuanYin \"05\" 无效（可用：01、02、03、99）".to_owned()),
        ]
    );
}
