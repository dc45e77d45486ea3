//! The two other shipped rules, to show that rules really are data: time
//! windows (inside and outside 5 years), tiers with durations, a waiting
//! period, and apheresis counting set by a rule parameter.

mod common;

use common::*;
use hemobridge_waivers::{decide, DonationKind, DonorHistory, ReasonCode, Relationship, Rule};
use ReasonCode::*;
use Relationship::*;

fn cases(rule: &Rule, cases: Vec<(&str, Vec<hemobridge_waivers::Donation>, Vec<Step>)>) {
    for (name, donations, steps) in cases {
        run(name, rule, donations, steps);
    }
}

#[test]
fn zhejiang_2012() {
    let rule = Rule::shipped("zhejiang-2012").unwrap();
    cases(
        &rule,
        vec![
            (
                "within 5 years: 5 × for the donor, 2 × for family",
                vec![whole("2022-01-10", 400)],
                vec![
                    Step::Claim(
                        claim("self", Self_, 2000),
                        "2025-06-01",
                        full(2000, WithinEntitlement, Some(0), Some(800)),
                    ),
                    Step::Claim(
                        claim("spouse", Spouse, 900),
                        "2025-06-02",
                        partial(900, 800, Some(0), Some(0)),
                    ),
                ],
            ),
            (
                "after 5 years: 1 × for the donor, nothing for family",
                vec![whole("2019-01-10", 400)],
                vec![
                    Step::Claim(
                        claim("self", Self_, 1000),
                        "2025-06-01",
                        partial(1000, 400, Some(0), Some(0)),
                    ),
                    Step::Claim(
                        claim("child", Child, 300),
                        "2025-06-01",
                        none(300, NoEntitlement, Some(0), Some(0)),
                    ),
                ],
            ),
            (
                "each donation gets the multiple of its own age: 400 × 1 + 200 × 5",
                vec![whole("2019-01-10", 400), whole("2023-01-10", 200)],
                vec![Step::Claim(
                    claim("self", Self_, 1500),
                    "2025-06-01",
                    partial(1500, 1400, Some(0), Some(400)),
                )],
            ),
            (
                "the 5-year anniversary closes the window",
                vec![whole("2020-06-01", 200)],
                vec![
                    Step::Claim(
                        claim("a", Self_, 100),
                        "2025-05-31",
                        full(100, WithinEntitlement, Some(900), Some(400)),
                    ),
                    Step::Claim(
                        claim("b", Self_, 100),
                        "2025-06-01",
                        full(100, WithinEntitlement, Some(0), Some(0)),
                    ),
                ],
            ),
            (
                "what was used inside the window still counts after it",
                vec![whole("2020-01-10", 400)],
                vec![
                    Step::Claim(
                        claim("a", Self_, 2000),
                        "2024-06-01",
                        full(2000, WithinEntitlement, Some(0), Some(800)),
                    ),
                    Step::Claim(
                        claim("b", Self_, 100),
                        "2025-06-01",
                        none(100, SelfExhausted, Some(0), Some(0)),
                    ),
                ],
            ),
            (
                "cumulative 1,000 mL: free for life",
                vec![
                    whole("2010-01-10", 400),
                    whole("2012-01-10", 400),
                    whole("2024-01-10", 200),
                ],
                vec![Step::Claim(
                    claim("self", Self_, 4000),
                    "2025-06-01",
                    full(4000, FreeForLife, None, Some(400)),
                )],
            ),
            (
                "siblings are not family in this rule",
                vec![whole("2024-01-10", 400)],
                vec![Step::Claim(
                    claim("sibling", Sibling, 300),
                    "2025-06-01",
                    none(300, RelationshipNotCovered, Some(2000), Some(800)),
                )],
            ),
        ],
    );
}

#[test]
fn variant_published() {
    let rule = Rule::shipped("variant-published").unwrap();
    cases(
        &rule,
        vec![
            (
                "30-day waiting period after the first donation",
                vec![whole("2025-05-20", 400)],
                vec![
                    Step::Claim(
                        claim("early", Self_, 300),
                        "2025-06-18",
                        none(300, WaitingPeriod, Some(0), Some(0)),
                    ),
                    Step::Claim(
                        claim("on-time", Self_, 300),
                        "2025-06-19",
                        full(300, WithinEntitlement, Some(900), Some(400)),
                    ),
                ],
            ),
            (
                "the waiting period is from the first donation only",
                vec![whole("2024-01-10", 200), whole("2025-05-20", 200)],
                vec![Step::Claim(
                    claim("c", Self_, 1500),
                    "2025-06-01",
                    partial(1500, 1200, Some(0), Some(400)),
                )],
            ),
            (
                "600 mL within 5 years: free for 10 years, then 1 × after",
                vec![
                    whole("2010-01-10", 200),
                    whole("2011-01-10", 200),
                    whole("2012-01-10", 200),
                ],
                vec![
                    Step::Claim(
                        claim("in", Self_, 5000),
                        "2021-06-01",
                        full(5000, FreePeriod, None, Some(600)),
                    ),
                    Step::Claim(
                        claim("out", Self_, 100),
                        "2022-06-01",
                        none(100, SelfExhausted, Some(0), Some(600)),
                    ),
                ],
            ),
            (
                "600 mL tier expired, fresh donor: 1 × 600",
                vec![
                    whole("2010-01-10", 200),
                    whole("2011-01-10", 200),
                    whole("2012-01-10", 200),
                ],
                vec![Step::Claim(
                    claim("c", Self_, 1000),
                    "2022-06-01",
                    partial(1000, 600, Some(0), Some(600)),
                )],
            ),
            (
                "800 mL within 5 years: free for 15 years",
                vec![whole("2010-01-10", 400), whole("2013-01-10", 400)],
                vec![
                    Step::Claim(
                        claim("in", Self_, 2000),
                        "2026-06-01",
                        full(2000, FreePeriod, None, Some(800)),
                    ),
                    Step::Cancel("in"),
                    Step::Claim(
                        claim("out", Self_, 1000),
                        "2028-06-01",
                        partial(1000, 800, Some(0), Some(800)),
                    ),
                ],
            ),
            (
                "1,000 mL within 5 years: free for life",
                vec![whole("2010-01-10", 500), whole("2014-01-01", 500)],
                vec![Step::Claim(
                    claim("c", Self_, 3000),
                    "2040-06-01",
                    full(3000, FreeForLife, None, Some(1000)),
                )],
            ),
            (
                "600 mL over 6 years is no tier: 300 × 1 + 300 × 3",
                vec![whole("2010-01-10", 300), whole("2016-01-10", 300)],
                vec![Step::Claim(
                    claim("c", Self_, 1500),
                    "2016-06-01",
                    partial(1500, 1200, Some(0), Some(600)),
                )],
            ),
            (
                "spouse or direct relatives: up to the donated volume; not siblings",
                vec![whole("2024-01-10", 400)],
                vec![
                    Step::Claim(
                        claim("spouse", Spouse, 500),
                        "2025-06-01",
                        partial(500, 400, Some(1200), Some(0)),
                    ),
                    Step::Claim(
                        claim("sibling", Sibling, 100),
                        "2025-06-01",
                        none(100, RelationshipNotCovered, Some(1200), Some(0)),
                    ),
                ],
            ),
        ],
    );
}

/// A regulator's edit: apheresis platelets counted as 800 mL of whole
/// blood, by uncommenting two lines of the shipped file and bumping the
/// version; no code changes, and the new version is on the decision.
#[test]
fn apheresis_counting_is_a_rule_parameter() {
    let shipped = Rule::shipped("variant-published").unwrap();
    let text = hemobridge_waivers::SHIPPED
        .iter()
        .find(|s| s.id == "variant-published")
        .unwrap()
        .text;
    let edited_text = text
        .replace(
            "# [count_as_ml]\n# apheresis-platelets = 800",
            "[count_as_ml]\napheresis-platelets = 800",
        )
        .replace("version = \"1\"", "version = \"2\"");
    assert_ne!(edited_text, text);
    let edited = Rule::from_toml(&edited_text).unwrap();

    let h = DonorHistory {
        donations: vec![donation(
            "2024-01-10",
            250,
            DonationKind::ApheresisPlatelets,
        )],
        waivers: vec![],
    };
    let c = claim("c", Self_, 1000);
    let at = day("2025-06-01");

    let d = decide(&shipped, &h, &c, at);
    assert_eq!(
        (d.waived_ml, d.reason.code),
        (750, PartlyCovered),
        "3 × 250"
    );
    assert_eq!(d.rule.version, "1");

    let d = decide(&edited, &h, &c, at);
    assert_eq!(
        (d.waived_ml, d.reason.code),
        (1000, FreePeriod),
        "800 mL: 15 years"
    );
    assert_eq!(d.remaining.relatives_ml, Some(800));
    assert_eq!(d.rule.version, "2");
}
