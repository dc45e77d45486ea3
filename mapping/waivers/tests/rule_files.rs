//! The shipped rule files, and the errors a bad rule file gets: each one
//! names the key at fault.

use hemobridge_waivers::rule::{AllowanceKind, RuleStatus, WaitingFrom};
use hemobridge_waivers::{Relationship, Rule, RuleError, DEFAULT_RULE_ID, SHIPPED};

fn jiangsu_text() -> &'static str {
    SHIPPED
        .iter()
        .find(|s| s.id == "jiangsu-2025")
        .unwrap()
        .text
}

/// The Jiangsu file with `from` replaced by `to` (which must occur).
fn edited(from: &str, to: &str) -> String {
    let text = jiangsu_text();
    assert!(text.contains(from), "the test's edit {from:?} must apply");
    text.replacen(from, to, 1)
}

fn syntax_error(text: &str) -> String {
    match Rule::from_toml(text) {
        Err(RuleError::Syntax(m)) => m,
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

fn invalid_key(text: &str) -> (String, String) {
    match Rule::from_toml(text) {
        Err(RuleError::Invalid { key, message }) => (key, message),
        other => panic!("expected an invalid key, got {other:?}"),
    }
}

#[test]
fn every_shipped_file_is_valid_and_named_by_its_id() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = SHIPPED.iter().map(|s| s.file.to_owned()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "every file in rules/ is embedded");
    for s in SHIPPED {
        let rule = Rule::shipped(s.id).unwrap();
        assert_eq!(rule.id, s.id);
        assert_eq!(format!("{}.toml", rule.id), s.file);
        assert_eq!(std::fs::read_to_string(dir.join(s.file)).unwrap(), s.text);
        assert!(!rule.source.is_empty() && !rule.version.is_empty());
        assert!(
            !rule.notes.is_empty(),
            "{}: open points are written down",
            s.id
        );
    }
    assert_eq!(SHIPPED[0].id, DEFAULT_RULE_ID);
    assert_eq!(Rule::default_rule().id, "jiangsu-2025");
}

#[test]
fn shipped_rules_say_what_the_sources_say() {
    let js = Rule::shipped("jiangsu-2025").unwrap();
    assert_eq!(js.status, RuleStatus::OfficialText);
    assert!(
        js.waiting.is_none(),
        "no time window or waiting in Jiangsu's text"
    );
    let relatives = js.group_of(Relationship::Sibling).unwrap();
    assert!(relatives.shared);
    assert_eq!(
        relatives.relationships,
        [
            Relationship::Spouse,
            Relationship::Parent,
            Relationship::Child,
            Relationship::Sibling,
            Relationship::SpouseParent
        ]
    );
    assert!(js.group_of(Relationship::Other).is_none());
    assert_eq!(js.effective_from.unwrap().to_string(), "2025-04-01");

    let zj = Rule::shipped("zhejiang-2012").unwrap();
    assert_eq!(zj.status, RuleStatus::PressReport);
    assert_eq!(zj.effective_from, None);

    let v = Rule::shipped("variant-published").unwrap();
    assert_eq!(v.status, RuleStatus::Variant);
    let w = v.waiting.unwrap();
    assert_eq!((w.days, w.from), (30, WaitingFrom::FirstDonation));
    let tiers: Vec<_> = v
        .group_of(Relationship::Self_)
        .unwrap()
        .allowances
        .iter()
        .filter_map(|a| match a.kind {
            AllowanceKind::Threshold {
                min_ml,
                free_for_years,
                ..
            } => Some((min_ml, free_for_years)),
            _ => None,
        })
        .collect();
    assert_eq!(tiers, [(600, Some(10)), (800, Some(15)), (1000, None)]);
}

#[test]
fn unknown_keys_are_named() {
    for (from, to, key) in [
        ("province = ", "provnce = ", "provnce"),
        (
            "relationships = [\"self\"]",
            "relationship = [\"self\"]",
            "relationship",
        ),
        ("min_ml = 800", "min_mll = 800", "min_mll"),
        (
            "windows = [{ times = 3 }]",
            "windows = [{ years = 1, times = 3 }]",
            "years",
        ),
        ("\nstem-cell = 0", "\nplatelets = 0", "platelets"),
    ] {
        let m = syntax_error(&edited(from, to));
        assert!(
            m.contains(&format!("unknown field `{key}`")),
            "{key} is named in: {m}"
        );
    }
}

#[test]
fn bad_values_are_named() {
    let m = syntax_error(&edited("version = \"1\"\n", ""));
    assert!(m.contains("missing field `version`"), "{m}");
    let m = syntax_error(&edited("\"official text\"", "\"official\""));
    assert!(m.contains("official"), "{m}");
    let m = syntax_error(&edited("\"spouse\",", "\"cousin\","));
    assert!(m.contains("cousin"), "{m}");
    let m = syntax_error(&edited("min_ml = 800", "min_ml = -800"));
    assert!(m.contains("min_ml"), "{m}");
    let m = syntax_error("id = ");
    assert!(m.contains("line 1"), "{m}");
}

#[test]
fn inconsistent_rules_are_refused_with_the_keys_path() {
    let cases = [
        (
            edited("min_ml = 800", "min_ml = 800\nml = 800"),
            "group.self.allowance[0].ml",
            "not a key of kind \"threshold\"",
        ),
        (
            edited(
                "windows = [{ times = 3 }]",
                "measured_from = \"each-donation\"",
            ),
            "group.self.allowance[1].windows",
            "required",
        ),
        (
            edited(
                "windows = [{ times = 3 }]",
                "windows = [{ within_years = 5, times = 3 }, { within_years = 2, times = 1 }]",
            ),
            "group.self.allowance[1].windows[1].within_years",
            "ascending",
        ),
        (
            edited(
                "windows = [{ times = 3 }]",
                "windows = [{ times = 3 }, { within_years = 2, times = 1 }]",
            ),
            "group.self.allowance[1].windows[0].within_years",
            "open-ended",
        ),
        (
            edited(
                "relationships = [\"self\"]",
                "relationships = [\"self\", \"spouse\"]",
            ),
            "group.self.shared",
            "required",
        ),
        (
            edited(
                "relationships = [\"self\"]",
                "relationships = [\"self\", \"spouse\"]\nshared = false",
            ),
            "group.relatives.relationships",
            "already in group",
        ),
        (
            edited("\"spouse-parent\"]", "\"spouse-parent\", \"other\"]"),
            "group.relatives.relationships",
            "\"other\"",
        ),
        (
            edited("id = \"relatives\"", "id = \"self\""),
            "group[1].id",
            "two groups",
        ),
        (
            edited(
                "effective_from = 2025-04-01",
                "effective_from = \"April 2025\"",
            ),
            "effective_from",
            "unknown",
        ),
        (
            edited("id = \"jiangsu-2025\"", "id = \"Jiangsu 2025\""),
            "id",
            "lowercase",
        ),
        (
            edited("\nml = 800", "\nml = 0"),
            "group.relatives.allowance[1].ml",
            "at least 1",
        ),
    ];
    for (text, want_key, want_message) in cases {
        let (key, message) = invalid_key(&text);
        assert_eq!(key, want_key, "{message}");
        assert!(message.contains(want_message), "{key}: {message}");
    }
}

#[test]
fn a_rule_without_groups_or_id_is_refused() {
    let minimal = "id = \"x\"\nversion = \"1\"\nprovince = \"p\"\nsource = \"s\"\n\
                   effective_from = \"unknown\"\nstatus = \"variant, to confirm\"\n";
    let (key, _) = invalid_key(minimal);
    assert_eq!(key, "group");
    let with_group = format!(
        "{minimal}[[group]]\nid = \"self\"\nrelationships = [\"self\"]\n\
         [[group.allowance]]\nkind = \"unlimited\"\n"
    );
    let rule = Rule::from_toml(&with_group).unwrap();
    assert!(rule.group_of(Relationship::Self_).unwrap().shared);
    assert_eq!(
        Rule::shipped("guangdong-2030"),
        Err(RuleError::UnknownId("guangdong-2030".into()))
    );
    let e = Rule::from_toml(&format!(
        "{minimal}[[group]]\nid = \"self\"\nrelationships = [\"self\"]\n"
    ))
    .unwrap_err();
    assert!(e.to_string().contains("group.self.allowance"), "{e}");
}
