//! ABO and RhD blood groups, from the many forms feeds use: ISBT 128 ABO/RhD
//! codes (`51`, `5100`), text (`O+`, `O RhD POS`, `A RhD+`, `O型Rh阳性`,
//! `Rh(D)阴性`), and the Chinese value sets CV04.50.005 / CV04.50.020 where a
//! field is known to carry them.

use crate::text::fold;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Abo {
    A,
    B,
    O,
    AB,
}

impl Abo {
    pub fn as_str(self) -> &'static str {
        match self {
            Abo::A => "A",
            Abo::B => "B",
            Abo::O => "O",
            Abo::AB => "AB",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rh {
    #[serde(rename = "+")]
    Pos,
    #[serde(rename = "-")]
    Neg,
}

impl Rh {
    pub fn as_str(self) -> &'static str {
        match self {
            Rh::Pos => "+",
            Rh::Neg => "-",
        }
    }
}

/// A blood group; either part may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct BloodGroup {
    pub abo: Option<Abo>,
    pub rh: Option<Rh>,
}

/// ISBT 128 ABO/RhD group codes (the first two characters of the data
/// structure 002 value).
const ISBT_CODES: [(&str, Abo, Rh); 8] = [
    ("95", Abo::O, Rh::Neg),
    ("51", Abo::O, Rh::Pos),
    ("06", Abo::A, Rh::Neg),
    ("62", Abo::A, Rh::Pos),
    ("17", Abo::B, Rh::Neg),
    ("73", Abo::B, Rh::Pos),
    ("28", Abo::AB, Rh::Neg),
    ("84", Abo::AB, Rh::Pos),
];

impl BloodGroup {
    pub fn new(abo: Option<Abo>, rh: Option<Rh>) -> Self {
        BloodGroup { abo, rh }
    }

    pub fn is_unknown(&self) -> bool {
        self.abo.is_none() && self.rh.is_none()
    }

    /// Reads a combined ABO/RhD value in any of the forms seen in feeds.
    /// Returns `None` when the text is not recognisable as a blood group
    /// (a value that is present but unreadable is an error for the caller);
    /// an explicitly unknown value (`未知`, `unknown`) gives `Some` with both
    /// parts `None`.
    pub fn parse(input: &str) -> Option<BloodGroup> {
        let text = fold(input);
        if text.is_empty() {
            return None;
        }
        if let Some(group) = parse_isbt(&text) {
            return Some(group);
        }
        if matches!(text.as_str(), "UNKNOWN" | "UNK" | "未知" | "不详" | "U") {
            return Some(BloodGroup::default());
        }
        let (abo, rest) = split_abo(&text);
        let rest = rest.trim_start_matches('型').trim();
        let rh = if rest.is_empty() {
            None
        } else {
            Some(parse_rh_text(rest)?)
        };
        if abo.is_none() && rh.is_none() {
            return None;
        }
        Some(BloodGroup { abo, rh })
    }
}

/// ABO alone, from a field that carries only ABO (`A`, `AB型`, or the
/// CV04.50.005 numeric code when `coded` is set).
pub fn parse_abo(input: &str, coded: bool) -> Option<Option<Abo>> {
    let text = fold(input);
    if coded {
        match text.as_str() {
            "1" => return Some(Some(Abo::A)),
            "2" => return Some(Some(Abo::B)),
            "3" => return Some(Some(Abo::O)),
            "4" => return Some(Some(Abo::AB)),
            "5" => return Some(None),
            _ => {}
        }
    }
    if matches!(text.as_str(), "UNKNOWN" | "UNK" | "未知" | "不详") {
        return Some(None);
    }
    let (abo, rest) = split_abo(&text);
    if abo.is_some() && rest.trim_start_matches('型').trim().is_empty() {
        Some(abo)
    } else {
        None
    }
}

/// RhD alone (`+`, `-`, `POS`, `阳性`, `Rh(D)阴性`, or the CV04.50.020 code
/// when `coded` is set).
pub fn parse_rh(input: &str, coded: bool) -> Option<Option<Rh>> {
    let text = fold(input);
    if coded {
        match text.as_str() {
            "1" => return Some(Some(Rh::Neg)),
            "2" => return Some(Some(Rh::Pos)),
            "3" | "4" => return Some(None),
            _ => {}
        }
    }
    if matches!(
        text.as_str(),
        "UNKNOWN" | "UNK" | "未知" | "不详" | "未查" | "未测"
    ) {
        return Some(None);
    }
    parse_rh_text(&text).map(Some)
}

fn parse_isbt(text: &str) -> Option<BloodGroup> {
    let digits = match text.len() {
        2 => text,
        4 if text.ends_with("00") => &text[..2],
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ISBT_CODES
        .iter()
        .find(|(code, _, _)| *code == digits)
        .map(|&(_, abo, rh)| BloodGroup::new(Some(abo), Some(rh)))
}

fn split_abo(text: &str) -> (Option<Abo>, &str) {
    if let Some(rest) = text.strip_prefix("AB") {
        (Some(Abo::AB), rest)
    } else if let Some(rest) = text.strip_prefix('A') {
        (Some(Abo::A), rest)
    } else if let Some(rest) = text.strip_prefix('B') {
        (Some(Abo::B), rest)
    } else if let Some(rest) = text.strip_prefix('O') {
        (Some(Abo::O), rest)
    } else if let Some(rest) = text.strip_prefix('0') {
        // A zero for O is a common typing slip in hand-entered data.
        (Some(Abo::O), rest)
    } else {
        (None, text)
    }
}

fn parse_rh_text(text: &str) -> Option<Rh> {
    let mut t = text;
    for prefix in ["RH(D)", "RHD", "RH", "(D)", "D"] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest;
            break;
        }
    }
    let t = t.trim_start_matches(['(', ')', ':', ',']);
    match t {
        "+" | "POS" | "POSITIVE" | "阳性" | "阳" | "(+)" => Some(Rh::Pos),
        "-" | "NEG" | "NEGATIVE" | "阴性" | "阴" | "(-)" => Some(Rh::Neg),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(abo: Abo, rh: Rh) -> Option<BloodGroup> {
        Some(BloodGroup::new(Some(abo), Some(rh)))
    }

    #[test]
    fn isbt_codes() {
        assert_eq!(BloodGroup::parse("5100"), g(Abo::O, Rh::Pos));
        assert_eq!(BloodGroup::parse("95"), g(Abo::O, Rh::Neg));
        assert_eq!(BloodGroup::parse("8400"), g(Abo::AB, Rh::Pos));
        assert_eq!(BloodGroup::parse("0600"), g(Abo::A, Rh::Neg));
        assert_eq!(BloodGroup::parse("9999"), None);
    }

    #[test]
    fn text_forms() {
        for (text, want) in [
            ("O+", g(Abo::O, Rh::Pos)),
            ("O-", g(Abo::O, Rh::Neg)),
            ("O Rh+", g(Abo::O, Rh::Pos)),
            ("O RhD POS", g(Abo::O, Rh::Pos)),
            ("A RhD+", g(Abo::A, Rh::Pos)),
            ("O型Rh阳性", g(Abo::O, Rh::Pos)),
            ("AB型RhD阴性", g(Abo::AB, Rh::Neg)),
            ("B Rh(D) NEG", g(Abo::B, Rh::Neg)),
            ("Ｏ型　Ｒｈ（Ｄ）阳性", g(Abo::O, Rh::Pos)),
            ("ab pos", g(Abo::AB, Rh::Pos)),
        ] {
            assert_eq!(BloodGroup::parse(text), want, "{text}");
        }
        assert_eq!(
            BloodGroup::parse("O型"),
            Some(BloodGroup::new(Some(Abo::O), None))
        );
        assert_eq!(
            BloodGroup::parse("Rh(D)阴性"),
            Some(BloodGroup::new(None, Some(Rh::Neg)))
        );
        assert_eq!(
            BloodGroup::parse("阳性"),
            Some(BloodGroup::new(None, Some(Rh::Pos)))
        );
        assert_eq!(BloodGroup::parse("未知"), Some(BloodGroup::default()));
        assert_eq!(BloodGroup::parse("C"), None);
        assert_eq!(BloodGroup::parse("O maybe"), None);
        assert_eq!(BloodGroup::parse(""), None);
    }

    #[test]
    fn separate_fields() {
        assert_eq!(parse_abo("AB型", false), Some(Some(Abo::AB)));
        assert_eq!(parse_abo("3", true), Some(Some(Abo::O)));
        assert_eq!(parse_abo("3", false), None);
        assert_eq!(parse_abo("C", false), None);
        assert_eq!(parse_rh("阴性", false), Some(Some(Rh::Neg)));
        assert_eq!(parse_rh("2", true), Some(Some(Rh::Pos)));
        assert_eq!(parse_rh("x", false), None);
    }
}
