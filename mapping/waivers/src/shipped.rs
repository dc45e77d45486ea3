//! The rule files shipped in `mapping/waivers/rules/`, embedded in the
//! binary so that the engine can select one by id with no file at hand.
//!
//! A regulator who changes a rule does not wait for a release: the engine
//! can instead read any file and hand its text to [`Rule::from_toml`].

use crate::rule::Rule;
use crate::rules::{parse, RuleError};

/// The rule used when the configuration names none: Jiangsu's.
pub const DEFAULT_RULE_ID: &str = "jiangsu-2025";

/// One shipped rule file: its id (the file's stem) and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedRule {
    pub id: &'static str,
    pub file: &'static str,
    pub text: &'static str,
}

/// Every shipped rule, the default first.
pub const SHIPPED: &[ShippedRule] = &[
    ShippedRule {
        id: "jiangsu-2025",
        file: "jiangsu-2025.toml",
        text: include_str!("../rules/jiangsu-2025.toml"),
    },
    ShippedRule {
        id: "zhejiang-2012",
        file: "zhejiang-2012.toml",
        text: include_str!("../rules/zhejiang-2012.toml"),
    },
    ShippedRule {
        id: "variant-published",
        file: "variant-published.toml",
        text: include_str!("../rules/variant-published.toml"),
    },
];

impl Rule {
    /// Reads and checks a rule file's text (a shipped one, or one a
    /// regulator edited).
    pub fn from_toml(text: &str) -> Result<Rule, RuleError> {
        parse(text)
    }

    /// The shipped rule with this id.
    pub fn shipped(id: &str) -> Result<Rule, RuleError> {
        let s = SHIPPED
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| RuleError::UnknownId(id.to_owned()))?;
        parse(s.text)
    }

    /// Jiangsu's rule ([`DEFAULT_RULE_ID`]).
    pub fn default_rule() -> Rule {
        // The shipped files are checked by the tests, so this cannot fail
        // in a released build.
        Rule::shipped(DEFAULT_RULE_ID).expect("the shipped default rule is valid")
    }
}
