//! The two vocabularies a rule is written in: who the patient is to the
//! donor, and what kind of donation the donor gave.
//!
//! They are mirrored from the hospital document (`hemobridge-document`)
//! rather than imported, so that this crate depends on nothing of the
//! engine's ingest path; the words are the same (a test checks it), so the
//! engine maps one onto the other by name.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Who the patient is to the donor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relationship {
    /// The donor (本人). Named `Self_` because `Self` is a keyword.
    #[serde(rename = "self")]
    Self_,
    /// 配偶
    Spouse,
    /// 父母
    Parent,
    /// 子女
    Child,
    /// 兄弟姐妹
    Sibling,
    /// 配偶的父母
    SpouseParent,
    /// Anyone else (a cousin, a friend): never qualifies, a rule cannot
    /// list it because it says nothing about who the claimant is.
    Other,
}

impl Relationship {
    /// Every relationship with its word, in the document's order.
    pub const WORDS: [(&'static str, Relationship); 7] = [
        ("self", Relationship::Self_),
        ("spouse", Relationship::Spouse),
        ("parent", Relationship::Parent),
        ("child", Relationship::Child),
        ("sibling", Relationship::Sibling),
        ("spouse-parent", Relationship::SpouseParent),
        ("other", Relationship::Other),
    ];

    /// The word used in documents and rule files.
    pub fn as_str(self) -> &'static str {
        Relationship::WORDS
            .iter()
            .find(|(_, r)| *r == self)
            .map_or("other", |(w, _)| w)
    }

    /// The Chinese name, for reason messages shown at the hospital's window.
    pub fn zh(self) -> &'static str {
        match self {
            Relationship::Self_ => "本人",
            Relationship::Spouse => "配偶",
            Relationship::Parent => "父母",
            Relationship::Child => "子女",
            Relationship::Sibling => "兄弟姐妹",
            Relationship::SpouseParent => "配偶父母",
            Relationship::Other => "其他关系",
        }
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Relationship {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Relationship::WORDS
            .iter()
            .find(|(w, _)| *w == s)
            .map(|(_, r)| *r)
            .ok_or_else(|| UnknownWord(s.to_owned()))
    }
}

/// What the donor gave at one donation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DonationKind {
    WholeBlood,
    ApheresisPlatelets,
    ApheresisPlasma,
    /// Haematopoietic stem cells (造血干细胞): some rules grant their own
    /// allowances to these donors and their relatives.
    StemCell,
}

impl DonationKind {
    /// Every kind with its word, in the document's order.
    pub const WORDS: [(&'static str, DonationKind); 4] = [
        ("whole-blood", DonationKind::WholeBlood),
        ("apheresis-platelets", DonationKind::ApheresisPlatelets),
        ("apheresis-plasma", DonationKind::ApheresisPlasma),
        ("stem-cell", DonationKind::StemCell),
    ];

    /// The word used in documents and rule files.
    pub fn as_str(self) -> &'static str {
        DonationKind::WORDS
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("whole-blood", |(w, _)| w)
    }
}

impl fmt::Display for DonationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DonationKind {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DonationKind::WORDS
            .iter()
            .find(|(w, _)| *w == s)
            .map(|(_, k)| *k)
            .ok_or_else(|| UnknownWord(s.to_owned()))
    }
}

/// A word that is not in the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown word {0:?}")]
pub struct UnknownWord(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for (w, r) in Relationship::WORDS {
            assert_eq!(w.parse::<Relationship>().unwrap(), r);
            assert_eq!(r.as_str(), w);
        }
        for (w, k) in DonationKind::WORDS {
            assert_eq!(w.parse::<DonationKind>().unwrap(), k);
            assert_eq!(k.as_str(), w);
        }
        assert!("cousin".parse::<Relationship>().is_err());
    }
}
