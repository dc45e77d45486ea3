//! `hemobridge connector check PROFILE FILE`: the real binary on the
//! shipped profiles and fixtures (no database needed).

use std::path::{Path, PathBuf};
use std::process::Command;

fn connectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../hospital-connectors")
}

fn check(profile: &str, file: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hemobridge"))
        .args(["connector", "check"])
        .arg(connectors().join(profile))
        .arg(connectors().join(file))
        .args(["--facility", "H3201001"])
        // The check reads no config file and opens no database.
        .env(
            "HEMOBRIDGE_DATABASE_URL",
            "postgres://nobody@127.0.0.1:1/none",
        )
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn a_good_file_prints_the_document() {
    let (code, stdout) = check(
        "vendor-a-lis-xml/profile.toml",
        "vendor-a-lis-xml/fixtures/good.xml",
    );
    assert_eq!(code, 0, "{stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["documentId"], "A20261124-01");
    assert_eq!(doc["facility"], "H3201001");
    assert_eq!(doc["records"].as_array().unwrap().len(), 6);
}

#[test]
fn a_bad_file_prints_every_row_error_and_fails() {
    let (code, stdout) = check(
        "vendor-b-csv-gbk/profile.toml",
        "vendor-b-csv-gbk/fixtures/bad.csv",
    );
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(
        lines[0].starts_with("第 4 行：RH \"D阴\" 无效"),
        "{}",
        lines[0]
    );
    assert!(lines[3]
        .ends_with("row 6: 操作类型 \"调拨\" is not valid (one of: 入库, 发血, 报废, 输血, 退血)"));
}

#[test]
fn a_document_error_is_shown_on_its_row() {
    let (code, stdout) = check(
        "portal-standard/profile.toml",
        "portal-standard/fixtures/transfusion-without-patient.csv",
    );
    assert_eq!(code, 1);
    assert_eq!(
        stdout.trim_end(),
        "第 3 行：「患者编号」不能为空\trow 3, 患者编号: is required"
    );
}
