//! Every converted good fixture is a document the published JSON Schema
//! (`docs/schema/report-1.schema.json`) accepts, so what the engine stores
//! for an upload is a plain hbx report v1.

use hemobridge_dialect::Profile;
use std::path::Path;

#[test]
fn converted_fixtures_conform_to_the_json_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("docs/schema/report-1.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let connectors = root.join("hospital-connectors");
    for (profile, file) in [
        (
            "portal-standard/profile.toml",
            "portal-standard/fixtures/good.csv",
        ),
        (
            "portal-standard/profile.toml",
            "portal-standard/template.csv",
        ),
        (
            "portal-standard/profile.xlsx.toml",
            "portal-standard/fixtures/good.xlsx",
        ),
        (
            "vendor-a-lis-xml/profile.toml",
            "vendor-a-lis-xml/fixtures/good.xml",
        ),
        (
            "vendor-b-csv-gbk/profile.toml",
            "vendor-b-csv-gbk/fixtures/good.csv",
        ),
    ] {
        let profile =
            Profile::from_toml(&std::fs::read_to_string(connectors.join(profile)).unwrap())
                .unwrap();
        let converted = profile
            .convert(
                &std::fs::read(connectors.join(file)).unwrap(),
                None,
                "H3201001",
            )
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&converted.document)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
    // And the schema does refuse something, so the check can fail.
    assert!(!validator.is_valid(&serde_json::json!({"documentId": "x", "records": []})));
}
