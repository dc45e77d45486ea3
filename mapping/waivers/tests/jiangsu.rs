//! The Jiangsu rule (the default) against every case of the table in
//! `domain/waivers.md`, then the edges around it: no donation, items in the
//! bill's order, rounding, the decision's JSON.

mod common;

use common::*;
use hemobridge_waivers::{
    decide, Claim, DecisionKind, DonationKind, DonorHistory, ReasonCode, Relationship, Rule,
};
use ReasonCode::*;
use Relationship::*;

const DONATED: &str = "2024-03-01";
const DISCHARGE: &str = "2025-06-01";

/// The table of `domain/waivers.md`, one row per case (the spouse, sibling
/// and father rows are one donor, so they are one case of three steps).
#[test]
fn the_domain_table() {
    let rule = Rule::default_rule();
    let stem_cell = || vec![donation("2023-05-01", 200, DonationKind::StemCell)];
    let cases: Vec<(&str, Vec<_>, Vec<Step>)> = vec![
        (
            "self, under 800 mL: 3 × 400 = 1,200 mL, 0 left",
            vec![whole(DONATED, 400)],
            vec![Step::Claim(
                claim("c1", Self_, 1200),
                DISCHARGE,
                full(1200, WithinEntitlement, Some(0), Some(400)),
            )],
        ),
        (
            "self, over the 3 ×: 600 mL free of 800, pays 200",
            vec![whole(DONATED, 200)],
            vec![Step::Claim(
                claim("c1", Self_, 800),
                DISCHARGE,
                partial(800, 600, Some(0), Some(200)),
            )],
        ),
        (
            "self, cumulative 800 mL: free for life",
            vec![whole("2023-09-01", 400), whole(DONATED, 400)],
            vec![Step::Claim(
                claim("c1", Self_, 5000),
                DISCHARGE,
                full(5000, FreeForLife, None, Some(800)),
            )],
        ),
        (
            "spouse, then sister, then father: relatives share 400 mL",
            vec![whole(DONATED, 400)],
            vec![
                Step::Claim(
                    claim("spouse", Spouse, 300),
                    DISCHARGE,
                    full(300, WithinEntitlement, Some(1200), Some(100)),
                ),
                Step::Claim(
                    claim("sister", Sibling, 300),
                    "2025-07-01",
                    partial(300, 100, Some(1200), Some(0)),
                ),
                Step::Claim(
                    claim("father", Parent, 200),
                    "2025-08-01",
                    none(200, RelativesExhausted, Some(1200), Some(0)),
                ),
            ],
        ),
        (
            "self's use does not consume relatives' share",
            vec![whole(DONATED, 400)],
            vec![
                Step::Claim(
                    claim("self", Self_, 400),
                    DISCHARGE,
                    full(400, WithinEntitlement, Some(800), Some(400)),
                ),
                Step::Claim(
                    claim("child", Child, 400),
                    "2025-07-01",
                    full(400, WithinEntitlement, Some(800), Some(0)),
                ),
            ],
        ),
        (
            "stem-cell donor's relative: 800 mL of 900",
            stem_cell(),
            vec![Step::Claim(
                claim("parent", Parent, 900),
                DISCHARGE,
                partial(900, 800, None, Some(0)),
            )],
        ),
        (
            "stem-cell donor: free for life",
            stem_cell(),
            vec![Step::Claim(
                claim("self", Self_, 3000),
                DISCHARGE,
                full(3000, FreeForLife, None, Some(800)),
            )],
        ),
        (
            "not a qualifying relative (cousin)",
            vec![whole(DONATED, 400)],
            vec![Step::Claim(
                claim("cousin", Other, 500),
                DISCHARGE,
                none(500, RelationshipNotCovered, Some(1200), Some(400)),
            )],
        ),
        (
            "cancelled claim: entitlement restored",
            vec![whole(DONATED, 400)],
            vec![
                Step::Claim(
                    claim("spouse", Spouse, 400),
                    DISCHARGE,
                    full(400, WithinEntitlement, Some(1200), Some(0)),
                ),
                Step::Cancel("spouse"),
                Step::Claim(
                    claim("sister", Sibling, 400),
                    "2025-07-01",
                    full(400, WithinEntitlement, Some(1200), Some(0)),
                ),
                Step::Claim(
                    claim("father", Parent, 100),
                    "2025-08-01",
                    none(100, RelativesExhausted, Some(1200), Some(0)),
                ),
            ],
        ),
        (
            "same claim sent twice: the first decision, nothing consumed twice",
            vec![whole(DONATED, 400)],
            vec![
                Step::Claim(
                    claim("A", Spouse, 300),
                    DISCHARGE,
                    full(300, WithinEntitlement, Some(1200), Some(100)),
                ),
                Step::Again("A", "2025-06-02"),
                Step::Claim(
                    claim("B", Sibling, 300),
                    "2025-07-01",
                    partial(300, 100, Some(1200), Some(0)),
                ),
            ],
        ),
    ];
    for (name, donations, steps) in cases {
        run(name, &rule, donations, steps);
    }
}

#[test]
fn nothing_without_a_donation_before_the_stay() {
    let rule = Rule::default_rule();
    let steps = || {
        vec![Step::Claim(
            claim("c", Self_, 300),
            DISCHARGE,
            none(300, NoDonation, Some(0), Some(0)),
        )]
    };
    run("no donation", &rule, vec![], steps());
    run(
        "a donation after discharge",
        &rule,
        vec![whole("2025-07-01", 400)],
        steps(),
    );
}

#[test]
fn edges_of_the_jiangsu_rule() {
    let rule = Rule::default_rule();
    let cases: Vec<(&str, Vec<_>, Vec<Step>)> = vec![
        (
            "apheresis counts its recorded volume by default: 3 × 250",
            vec![donation(DONATED, 250, DonationKind::ApheresisPlatelets)],
            vec![Step::Claim(
                claim("c", Self_, 1000),
                DISCHARGE,
                partial(1000, 750, Some(0), Some(250)),
            )],
        ),
        (
            "stem-cell donor who also gave 1,000 mL: relatives get the larger",
            vec![
                donation("2023-05-01", 200, DonationKind::StemCell),
                whole("2023-09-01", 500),
                whole(DONATED, 500),
            ],
            vec![Step::Claim(
                claim("c", Spouse, 1200),
                DISCHARGE,
                partial(1200, 1000, None, Some(0)),
            )],
        ),
        (
            "no time window: a donation of 2001 still counts",
            vec![whole("2001-03-01", 200)],
            vec![Step::Claim(
                claim("c", SpouseParent, 200),
                DISCHARGE,
                full(200, WithinEntitlement, Some(600), Some(0)),
            )],
        ),
        (
            "nothing used",
            vec![whole(DONATED, 400)],
            vec![Step::Claim(
                claim("c", Self_, 0),
                DISCHARGE,
                none(0, NothingUsed, Some(1200), Some(400)),
            )],
        ),
        (
            "the self's entitlement is used up",
            vec![whole(DONATED, 200)],
            vec![
                Step::Claim(
                    claim("a", Self_, 600),
                    DISCHARGE,
                    full(600, WithinEntitlement, Some(0), Some(200)),
                ),
                Step::Claim(
                    claim("b", Self_, 100),
                    "2025-09-01",
                    none(100, SelfExhausted, Some(0), Some(200)),
                ),
            ],
        ),
    ];
    for (name, donations, steps) in cases {
        run(name, &rule, donations, steps);
    }
}

fn itemised(items: Vec<hemobridge_waivers::ClaimItem>) -> Claim {
    Claim {
        claim_id: "items".into(),
        relationship: Spouse,
        blood_fee_fen: items.iter().map(|i| i.fee_fen).sum(),
        volume_ml: items.iter().map(|i| i.volume_ml).sum(),
        items,
    }
}

#[test]
fn prices_differ_so_the_bills_order_decides_and_says_so() {
    let rule = Rule::default_rule();
    let h = DonorHistory {
        donations: vec![whole(DONATED, 400)],
        waivers: vec![],
    };
    let plasma_first = itemised(vec![
        item("新鲜冰冻血浆", 400, 200),
        item("悬浮少白细胞红细胞", 400, 600),
    ]);
    let d = decide(&rule, &h, &plasma_first, day(DISCHARGE));
    assert_eq!(d.kind, DecisionKind::Partial);
    assert_eq!(
        (d.waived_ml, d.waived_fen, d.patient_pays_fen),
        (400, 20_000, 60_000)
    );
    assert_eq!(d.items[0].waived_ml, 400);
    assert_eq!(d.items[1].waived_ml, 0);
    assert_eq!(d.notes.len(), 1);
    assert_eq!(d.notes[0].code, WaivedInItemOrder);
    assert!(d.notes[0].message.contains("新鲜冰冻血浆 400毫升"));

    let red_cells_first = itemised(vec![
        item("悬浮少白细胞红细胞", 400, 600),
        item("新鲜冰冻血浆", 400, 200),
    ]);
    let d = decide(&rule, &h, &red_cells_first, day(DISCHARGE));
    assert_eq!(
        (d.waived_ml, d.waived_fen, d.patient_pays_fen),
        (400, 60_000, 20_000)
    );

    // Same price per mL: the order changes nothing, so nothing is said.
    let same_price = itemised(vec![item("A", 200, 200), item("B", 400, 400)]);
    let d = decide(&rule, &h, &same_price, day(DISCHARGE));
    assert_eq!((d.waived_fen, d.patient_pays_fen), (40_000, 20_000));
    assert!(d.notes.is_empty());

    // A bill that does not add up is refused, not guessed at.
    let mut wrong = plasma_first.clone();
    wrong.blood_fee_fen += 1;
    let d = decide(&rule, &h, &wrong, day(DISCHARGE));
    assert_eq!((d.kind, d.reason.code), (DecisionKind::None, InvalidClaim));
    assert_eq!(d.patient_pays_fen, wrong.blood_fee_fen);
}

#[test]
fn a_partial_fee_is_rounded_once_and_the_patient_pays_the_rest() {
    let rule = Rule::default_rule();
    let h = DonorHistory {
        donations: vec![whole(DONATED, 100)],
        waivers: vec![],
    };
    // 1,000 yuan for 300 mL, 100 mL waived: 333.333… yuan → 333.33.
    let c = Claim {
        claim_id: "r".into(),
        relationship: Child,
        blood_fee_fen: 100_000,
        volume_ml: 300,
        items: vec![],
    };
    let d = decide(&rule, &h, &c, day(DISCHARGE));
    assert_eq!(
        (d.waived_ml, d.waived_fen, d.patient_pays_fen),
        (100, 33_333, 66_667)
    );
}

#[test]
fn the_decision_serialises_in_the_contracts_words() {
    let rule = Rule::default_rule();
    let h = DonorHistory {
        donations: vec![whole("2023-09-01", 400), whole(DONATED, 400)],
        waivers: vec![],
    };
    let d = decide(&rule, &h, &claim("H1-0001", Self_, 400), day(DISCHARGE));
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["claimId"], "H1-0001");
    assert_eq!(v["decision"], "full");
    assert_eq!(v["waivedMl"], 400);
    assert_eq!(v["waivedFen"], 40_000);
    assert_eq!(v["patientPaysFen"], 0);
    assert_eq!(v["reason"]["code"], "free-for-life");
    assert_eq!(
        v["rule"],
        serde_json::json!({"id": "jiangsu-2025", "version": "1"})
    );
    assert_eq!(
        v["remaining"],
        serde_json::json!({"selfMl": null, "relativesMl": 800})
    );
    let back: hemobridge_waivers::Decision = serde_json::from_value(v).unwrap();
    assert_eq!(back, d);
    assert_eq!(hemobridge_waivers::money::yuan(d.waived_fen), "400.00");
}
