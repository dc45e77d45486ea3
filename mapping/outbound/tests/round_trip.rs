//! Every rendered document parses back (quick-xml's reader, serde_json), the
//! envelope's counts equal the records, and text comes back as it went in,
//! for generated days (proptest).

mod common;

use common::*;
use hemobridge_outbound::provincial;
use hemobridge_outbound::shanghai::{self, Action, DayRecords, ShanghaiConfig};
use hemobridge_submission::{DailySubmission, Line};
use proptest::prelude::*;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::BTreeMap;

/// What the reader found: element counts under each data-set container,
/// the header's counts, and every text of one element name, in order.
#[derive(Debug, Default)]
struct Parsed {
    records: BTreeMap<String, usize>,
    counts: BTreeMap<String, usize>,
    texts: BTreeMap<String, Vec<String>>,
}

fn parse(xml: &str) -> Parsed {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut parsed = Parsed::default();
    // Text seen since the last start tag: an element's value if its end tag
    // comes next, indentation otherwise.
    let mut pending: Option<String> = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                pending = None;
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                stack.push(name);
                if stack.len() == 3 && stack[1] != "Header" {
                    *parsed.records.entry(stack[1].clone()).or_default() += 1;
                }
            }
            Event::Empty(e) => {
                pending = None;
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if stack.len() == 1 {
                    parsed.records.insert(name, 0);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap();
                if let Some(text) = pending.take() {
                    if stack.len() == 3 && stack[2] == "RecordCounts" {
                        parsed.counts.insert(name.clone(), text.parse().unwrap());
                    }
                    parsed.texts.entry(name).or_default().push(text);
                }
            }
            Event::Text(t) => {
                pending = Some(t.unescape().expect("escapes are valid").into_owned());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "every element closed");
    parsed
}

fn text_strategy() -> impl Strategy<Value = String> {
    "[a-z<&>\"'一-龥][a-zA-Z0-9 <>&\"'一-龥\t\r\n]{0,12}"
}

fn action_strategy() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::New),
        Just(Action::Update),
        Just(Action::Cancel)
    ]
}

prop_compose! {
    fn day_strategy()(
        receipts in 0usize..6,
        issues in 0usize..6,
        stock in 0usize..3,
        transfusions in 0usize..6,
        reactions in 0usize..2,
        identities in 0usize..2,
        names in proptest::collection::vec(text_strategy(), 6),
        actions in proptest::collection::vec(action_strategy(), 6),
        quantity in 0.0f64..10_000.0,
    ) -> DayRecords {
        let mut day = records(6);
        day.receipts.truncate(receipts);
        day.issues.truncate(issues);
        day.stock.truncate(stock);
        day.transfusions.truncate(transfusions);
        day.reactions.truncate(reactions);
        day.identities.truncate(identities);
        for (i, r) in day.receipts.iter_mut().enumerate() {
            r.product_name = Some(names[i].clone());
            r.action = actions[i];
            r.quantity = quantity;
        }
        for (i, t) in day.transfusions.iter_mut().enumerate() {
            t.diagnosis_name = Some(names[i].clone());
        }
        day
    }
}

fn submission_strategy() -> impl Strategy<Value = DailySubmission> {
    (
        proptest::collection::vec((text_strategy(), 0.0f64..1e6, -1e3f64..1e3), 0..20),
        0u64..1000,
    )
        .prop_map(|(lines, patients)| {
            let mut s = submission_v1();
            s.lines = lines
                .into_iter()
                .map(|(product, q, diff)| Line {
                    product,
                    received: q,
                    stock_difference: Some(diff),
                    ..line("RBC-LR", Some("A"), Some("-"), q / 3.0)
                })
                .collect();
            s.patients_transfused = patients;
            s
        })
}

const SETS: [(&str, &str); 6] = [
    ("Receipts", "ReceiptCount"),
    ("Issues", "IssueCount"),
    ("Stock", "StockCount"),
    ("Transfusions", "TransfusionCount"),
    ("Reactions", "ReactionCount"),
    ("BloodUsers", "BloodUserCount"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_daily_envelope_parses_back_and_counts_its_records(day in day_strategy()) {
        let xml = shanghai::daily(&day, &ShanghaiConfig::default(), &envelope("p")).unwrap();
        let parsed = parse(&xml);
        let expected = [
            day.receipts.len(),
            day.issues.len(),
            day.stock.len(),
            day.transfusions.len(),
            day.reactions.len(),
            day.identities.len(),
        ];
        for ((container, count), n) in SETS.iter().zip(expected) {
            prop_assert_eq!(parsed.records.get(*container).copied(), Some(n), "{} records", container);
            prop_assert_eq!(parsed.counts.get(*count).copied(), Some(n), "{} in the header", count);
        }
        let names: Vec<String> = day.receipts.iter().filter_map(|r| r.product_name.clone()).collect();
        let issue_names = day.issues.iter().filter_map(|r| r.product_name.clone());
        let stock_names = day.stock.iter().filter_map(|r| r.product_name.clone());
        let transfusion_names = day.transfusions.iter().filter_map(|r| r.product_name.clone());
        let all: Vec<String> = names.iter().cloned().chain(issue_names).chain(stock_names).chain(transfusion_names).collect();
        prop_assert_eq!(parsed.texts.get("ProductName").cloned().unwrap_or_default(), all);
        let actions: Vec<&str> = day.receipts.iter().map(|r| r.action.as_str()).collect();
        let parsed_actions = parsed.texts.get("Action").cloned().unwrap_or_default();
        prop_assert_eq!(&parsed_actions[..actions.len()], &actions[..]);
    }

    #[test]
    fn a_summary_parses_back_with_its_lines(s in submission_strategy()) {
        let xml = shanghai::daily_summary(&s, &ShanghaiConfig::default());
        let parsed = parse(&xml);
        prop_assert_eq!(parsed.records.get("Lines").copied(), Some(s.lines.len()));
        let products: Vec<String> = s.lines.iter().map(|l| l.product.clone()).collect();
        let parsed_products = parsed.texts.get("ProductCode").cloned().unwrap_or_default();
        prop_assert_eq!(&parsed_products[..products.len()], &products[..]);
        for (l, text) in s.lines.iter().zip(parsed.texts.get("Received").cloned().unwrap_or_default()) {
            let back: f64 = text.parse().unwrap();
            prop_assert!((back - l.received).abs() <= 0.005 + 1e-9, "{} vs {}", back, l.received);
        }
    }

    #[test]
    fn a_provincial_daily_parses_back(s in submission_strategy()) {
        let message = provincial::daily(&s, &envelope("p"));
        let text = serde_json::to_string(&message).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &message);
        let lines = back["payload"]["lines"].as_array().unwrap();
        prop_assert_eq!(lines.len(), s.lines.len());
        for (l, json) in s.lines.iter().zip(lines) {
            prop_assert_eq!(json["product"].as_str().unwrap(), l.product.as_str());
            let received = json["received"].as_f64().unwrap();
            prop_assert!((received - l.received).abs() <= 0.005 + 1e-9);
        }
        prop_assert_eq!(back["payload"]["patientsTransfused"].as_u64(), Some(s.patients_transfused));
    }
}
