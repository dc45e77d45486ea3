//! Character sets, profile checks, document ids, and robustness against
//! arbitrary input.

use hemobridge_dialect::{Profile, SourceRef};
use hemobridge_document::Config;
use proptest::prelude::*;
use std::path::Path;

fn shipped(path: &str) -> Profile {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hospital-connectors");
    Profile::from_toml(&std::fs::read_to_string(dir.join(path)).unwrap()).unwrap()
}

fn shipped_bytes(path: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hospital-connectors");
    std::fs::read(dir.join(path)).unwrap()
}

const PATIENTS: &str = r#"
name = "patients"
format = "csv"
encoding = "ENCODING"
[record_type]
fixed = "Issued"
[dates]
formats = ["%Y-%m-%d %H:%M"]
[columns]
unit = "血袋号"
product = "品种"
patient = "住院号"
at = "时间"
[patients]
key = "住院号"
name = "姓名"
"#;

/// `王䶮`: U+4DAE is a four-byte character in GB 18030, absent from GBK.
const CSV: &str =
    "血袋号,品种,住院号,姓名,时间\nW042726000001,悬浮红细胞,ZY1,王䶮,2026-11-24 10:00\n";

#[test]
fn gb18030_csv_decodes_four_byte_characters() {
    let profile = Profile::from_toml(&PATIENTS.replace("ENCODING", "gb18030")).unwrap();
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(CSV);
    assert!(!unmappable);
    assert_ne!(bytes.as_ref(), CSV.as_bytes());
    let converted = profile.convert(&bytes, None, "H3201001").unwrap();
    assert_eq!(converted.document["records"][0]["name"], "王䶮");
    assert_eq!(converted.document["records"][1]["product"], "悬浮红细胞");
}

#[test]
fn gbk_csv_decodes_and_a_utf8_bom_wins() {
    let profile = Profile::from_toml(&PATIENTS.replace("ENCODING", "gbk")).unwrap();
    let text = CSV.replace('䶮', "明");
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let gbk = profile.convert(&bytes, None, "H3201001").unwrap();
    assert_eq!(gbk.document["records"][0]["name"], "王明");
    // The same text as UTF-8 with a byte-order mark (Excel's "CSV UTF-8").
    let mut utf8 = b"\xEF\xBB\xBF".to_vec();
    utf8.extend_from_slice(text.as_bytes());
    let bom = profile.convert(&utf8, None, "H3201001").unwrap();
    assert_eq!(bom.document["records"], gbk.document["records"]);
}

#[test]
fn bytes_not_in_the_encoding_are_a_file_error() {
    let profile = Profile::from_toml(&PATIENTS.replace("ENCODING", "utf-8")).unwrap();
    let text = CSV.replace('䶮', "明");
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let e = profile.convert(&gbk, None, "H3201001").unwrap_err();
    assert_eq!(e.rows.len(), 1);
    assert_eq!(e.rows[0].row, 0);
    assert_eq!(
        e.rows[0].message_zh,
        "文件：不是 UTF-8 编码的文本，请检查文件的字符集"
    );
}

#[test]
fn portal_auto_reads_gb18030_like_utf8() {
    let profile = shipped("portal-standard/profile.toml");
    let utf8 = shipped_bytes("portal-standard/fixtures/good.csv");
    let text = std::str::from_utf8(&utf8)
        .unwrap()
        .trim_start_matches('\u{feff}');
    let (gb, _, _) = encoding_rs::GB18030.encode(text);
    let a = profile.convert(&utf8, None, "H3201001").unwrap();
    let b = profile.convert(&gb, None, "H3201001").unwrap();
    assert_eq!(a.document["records"], b.document["records"]);
    // Different bytes, different content hash: the id follows the file.
    assert_ne!(a.document["documentId"], b.document["documentId"]);
}

#[test]
fn a_missing_header_column_is_named() {
    let profile = Profile::from_toml(&PATIENTS.replace("ENCODING", "utf-8")).unwrap();
    let csv = CSV.replace("品种", "品名");
    let e = profile
        .convert(csv.as_bytes(), None, "H3201001")
        .unwrap_err();
    assert_eq!(e.rows.len(), 1);
    assert_eq!(e.rows[0].column.as_deref(), Some("品种"));
    assert_eq!(e.rows[0].message_zh, "第 1 行（表头）：缺少列「品种」");
}

#[test]
fn unknown_keys_and_targets_are_named() {
    let base = PATIENTS.replace("ENCODING", "utf-8");
    let cases = [
        (format!("colour = \"red\"\n{base}"), "colour"),
        (
            base.replace(
                "unit = \"血袋号\"",
                "unit = \"血袋号\"\nbloodType = \"血型\"",
            ),
            "bloodType",
        ),
        (
            base.replace("[record_type]", "[csv]\ndelimeter = \";\"\n[record_type]"),
            "delimeter",
        ),
        (
            base.replace("name = \"姓名\"", "name = \"姓名\"\nward = \"病区\""),
            "[patients] ward",
        ),
        (
            format!("{base}[codes.severity]\n\"重\" = \"heavy\"\n"),
            "[codes.severity]",
        ),
    ];
    for (text, key) in cases {
        let e = Profile::from_toml(&text).unwrap_err().to_string();
        assert!(e.contains(key), "{e:?} does not name {key:?}");
    }
}

#[test]
fn document_id_from_file_name_or_column() {
    let mut text = PATIENTS.replace("ENCODING", "utf-8");
    text.push_str("[document]\nid = \"file-name\"\n");
    let profile = Profile::from_toml(&text).unwrap();
    let c = profile
        .convert(CSV.as_bytes(), Some("/tmp/血库 2026-11-24.csv"), "H3201001")
        .unwrap();
    assert_eq!(c.document["documentId"], "H3201001-___2026-11-24");
    assert!(profile.convert(CSV.as_bytes(), None, "H3201001").is_err());

    // Vendor A takes it from each record; two batches in one file is an
    // error on the row that differs.
    let xml = String::from_utf8(shipped_bytes("vendor-a-lis-xml/fixtures/good.xml")).unwrap();
    let mixed = xml.replacen(
        "<BaoFei PiCiHao=\"A20261124-01\"",
        "<BaoFei PiCiHao=\"A20261124-09\"",
        1,
    );
    let e = shipped("vendor-a-lis-xml/profile.toml")
        .convert(mixed.as_bytes(), None, "H3201001")
        .unwrap_err();
    assert_eq!(e.rows.len(), 1);
    assert_eq!(e.rows[0].row, 5);
}

#[test]
fn xml_with_a_dtd_or_broken_markup_is_a_file_error() {
    let profile = shipped("vendor-a-lis-xml/profile.toml");
    let dtd = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><ShuXueJiLu/>";
    let e = profile
        .convert(dtd.as_bytes(), None, "H3201001")
        .unwrap_err();
    assert_eq!(e.rows[0].message_en, "file: XML with a DTD is not accepted");
    let broken = "<ShuXueJiLu><FaXue><TiaoMa>1</FaXue></ShuXueJiLu>";
    let e = profile
        .convert(broken.as_bytes(), None, "H3201001")
        .unwrap_err();
    assert_eq!(e.rows[0].row, 0);
}

#[test]
fn stock_rows_group_and_locate_per_item() {
    let profile = shipped("portal-standard/profile.toml");
    let c = profile
        .convert(
            &shipped_bytes("portal-standard/fixtures/good.csv"),
            None,
            "H3201001",
        )
        .unwrap();
    let stock: Vec<usize> = (0..c.kinds.len())
        .filter(|&i| c.kinds[i] == "Stock")
        .collect();
    assert_eq!(stock.len(), 1);
    assert_eq!(c.child_sources[stock[0]].len(), 2);
    assert_eq!(
        c.locate(&format!("records[{}].items[0]", stock[0])),
        Some(&SourceRef::Row { row: 14 })
    );
    assert_eq!(c.locate("records[999].abo"), None);
    assert_eq!(c.locate("documentId"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for path in [
            "portal-standard/profile.toml",
            "vendor-b-csv-gbk/profile.toml",
            "vendor-a-lis-xml/profile.toml",
            "portal-standard/profile.xlsx.toml",
        ] {
            let _ = shipped(path).to_document(&bytes, Some("x.csv"), "H3201001", &Config::default());
        }
    }

    #[test]
    fn arbitrary_cells_under_a_real_header_never_panic(
        cells in proptest::collection::vec("[^\n]{0,12}", 0..60)
    ) {
        let profile = shipped("portal-standard/profile.toml");
        let header = std::str::from_utf8(&shipped_bytes("portal-standard/template.csv"))
            .unwrap()
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap()
            .to_owned();
        let mut csv = header;
        for (i, cell) in cells.iter().enumerate() {
            csv.push(if i % 26 == 0 { '\n' } else { ',' });
            csv.push_str(cell);
        }
        let _ = profile.to_document(csv.as_bytes(), None, "H3201001", &Config::default());
    }
}
