//! Canonical blood-component codes (`domain/products.md`) and the table that
//! maps the names and codes feeds actually send onto them.
//!
//! The table is data: connectors extend it with a station's local codes
//! ([`ProductTable::insert`]) without new code. Lookup folds case, width and
//! spacing, peels modifiers (irradiated, leukocyte-reduced, pooled) off the
//! front of a name, and falls back to English ISBT 128 class names.

use crate::text::fold;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Product {
    #[serde(rename = "WB")]
    Wb,
    #[serde(rename = "RBC-CONC")]
    RbcConc,
    #[serde(rename = "RBC-SUSP")]
    RbcSusp,
    #[serde(rename = "RBC-LR")]
    RbcLr,
    #[serde(rename = "RBC-WASH")]
    RbcWash,
    #[serde(rename = "RBC-FTD")]
    RbcFtd,
    #[serde(rename = "PLT-WB")]
    PltWb,
    #[serde(rename = "PLT-APH")]
    PltAph,
    #[serde(rename = "PLS-FFP")]
    PlsFfp,
    #[serde(rename = "PLS-FP")]
    PlsFp,
    #[serde(rename = "PLS-VI")]
    PlsVi,
    #[serde(rename = "CRYO")]
    Cryo,
    #[serde(rename = "GRAN-APH")]
    GranAph,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    WholeBlood,
    RedCells,
    Platelets,
    Plasma,
    Cryoprecipitate,
    Granulocytes,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::WholeBlood => "whole-blood",
            Category::RedCells => "red-cells",
            Category::Platelets => "platelets",
            Category::Plasma => "plasma",
            Category::Cryoprecipitate => "cryoprecipitate",
            Category::Granulocytes => "granulocytes",
        }
    }
}

/// How a product is counted: units (U), millilitres, or therapeutic doses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Measure {
    U,
    #[serde(rename = "mL")]
    Ml,
    #[serde(rename = "dose")]
    Dose,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::U => "U",
            Measure::Ml => "mL",
            Measure::Dose => "dose",
        }
    }

    pub fn parse(s: &str) -> Option<Measure> {
        match s.trim() {
            "U" | "u" | "单位" | "袋" => Some(Measure::U),
            "mL" | "ml" | "ML" | "毫升" => Some(Measure::Ml),
            "dose" | "治疗量" | "TD" | "td" => Some(Measure::Dose),
            _ => None,
        }
    }
}

pub const ALL_PRODUCTS: [Product; 13] = [
    Product::Wb,
    Product::RbcConc,
    Product::RbcSusp,
    Product::RbcLr,
    Product::RbcWash,
    Product::RbcFtd,
    Product::PltWb,
    Product::PltAph,
    Product::PlsFfp,
    Product::PlsFp,
    Product::PlsVi,
    Product::Cryo,
    Product::GranAph,
];

impl Product {
    pub fn code(self) -> &'static str {
        match self {
            Product::Wb => "WB",
            Product::RbcConc => "RBC-CONC",
            Product::RbcSusp => "RBC-SUSP",
            Product::RbcLr => "RBC-LR",
            Product::RbcWash => "RBC-WASH",
            Product::RbcFtd => "RBC-FTD",
            Product::PltWb => "PLT-WB",
            Product::PltAph => "PLT-APH",
            Product::PlsFfp => "PLS-FFP",
            Product::PlsFp => "PLS-FP",
            Product::PlsVi => "PLS-VI",
            Product::Cryo => "CRYO",
            Product::GranAph => "GRAN-APH",
        }
    }

    pub fn from_code(code: &str) -> Option<Product> {
        ALL_PRODUCTS.iter().copied().find(|p| p.code() == code)
    }

    /// The GB 18469 name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Product::Wb => "全血",
            Product::RbcConc => "浓缩红细胞",
            Product::RbcSusp => "悬浮红细胞",
            Product::RbcLr => "去白细胞悬浮红细胞",
            Product::RbcWash => "洗涤红细胞",
            Product::RbcFtd => "冰冻解冻去甘油红细胞",
            Product::PltWb => "浓缩血小板",
            Product::PltAph => "单采血小板",
            Product::PlsFfp => "新鲜冰冻血浆",
            Product::PlsFp => "冰冻血浆",
            Product::PlsVi => "病毒灭活新鲜冰冻血浆",
            Product::Cryo => "冷沉淀凝血因子",
            Product::GranAph => "单采粒细胞",
        }
    }

    pub fn category(self) -> Category {
        match self {
            Product::Wb => Category::WholeBlood,
            Product::RbcConc
            | Product::RbcSusp
            | Product::RbcLr
            | Product::RbcWash
            | Product::RbcFtd => Category::RedCells,
            Product::PltWb | Product::PltAph => Category::Platelets,
            Product::PlsFfp | Product::PlsFp | Product::PlsVi => Category::Plasma,
            Product::Cryo => Category::Cryoprecipitate,
            Product::GranAph => Category::Granulocytes,
        }
    }

    pub fn measure(self) -> Measure {
        match self {
            Product::PltAph | Product::GranAph => Measure::Dose,
            Product::PlsFfp | Product::PlsFp | Product::PlsVi => Measure::Ml,
            _ => Measure::U,
        }
    }
}

/// Flags that can accompany any product without making a new code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Modifiers {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub irradiated: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leukoreduced: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pooled: bool,
}

impl Modifiers {
    pub fn is_empty(&self) -> bool {
        *self == Modifiers::default()
    }
}

/// Names and codes → product. Cheap to clone the default; lookups take no
/// allocation for exact hits on already-folded keys.
#[derive(Debug, Clone)]
pub struct ProductTable {
    entries: HashMap<String, Product>,
}

impl Default for ProductTable {
    fn default() -> Self {
        let mut table = ProductTable {
            entries: HashMap::new(),
        };
        let names: &[(Product, &[&str])] = &[
            (Product::Wb, &["全血", "WB", "WHOLEBLOOD"]),
            (Product::RbcConc, &["浓缩红细胞", "红细胞浓缩液"]),
            (Product::RbcSusp, &["悬浮红细胞", "红细胞悬液", "红悬"]),
            (
                Product::RbcLr,
                &[
                    "去白细胞悬浮红细胞",
                    "悬浮少白细胞红细胞",
                    "少白细胞红细胞",
                    "悬浮少白",
                    "去白悬红",
                    "去白细胞红细胞",
                    "少白细胞悬浮红细胞",
                ],
            ),
            (Product::RbcWash, &["洗涤红细胞"]),
            (
                Product::RbcFtd,
                &[
                    "冰冻解冻去甘油红细胞",
                    "解冻红细胞",
                    "冰冻红细胞",
                    "解冻去甘油红细胞",
                ],
            ),
            (Product::PltWb, &["浓缩血小板", "手工血小板"]),
            (
                Product::PltAph,
                &["单采血小板", "机采血小板", "去白细胞单采血小板", "血小板"],
            ),
            (
                Product::PlsFfp,
                &["新鲜冰冻血浆", "单采新鲜冰冻血浆", "FFP", "新鲜血浆"],
            ),
            (Product::PlsFp, &["冰冻血浆", "普通冰冻血浆", "普通血浆"]),
            (
                Product::PlsVi,
                &[
                    "病毒灭活新鲜冰冻血浆",
                    "病毒灭活冰冻血浆",
                    "病毒灭活血浆",
                    "灭活血浆",
                ],
            ),
            (Product::Cryo, &["冷沉淀凝血因子", "冷沉淀"]),
            (Product::GranAph, &["单采粒细胞", "粒细胞"]),
        ];
        for (product, aliases) in names {
            table.insert(product.code(), *product);
            table.insert(product.name_zh(), *product);
            for alias in *aliases {
                table.insert(alias, *product);
            }
        }
        // CV04.50.021 (transfusion product kind) two-digit sub-codes.
        for (code, product) in [
            ("13", Product::RbcSusp),
            ("14", Product::RbcWash),
            ("16", Product::RbcFtd),
            ("32", Product::PltAph),
            ("42", Product::PlsFfp),
            ("43", Product::PlsFp),
        ] {
            table.insert(code, product);
        }
        table
    }
}

impl ProductTable {
    /// Adds or replaces one mapping (a station's local code, a vendor name).
    pub fn insert(&mut self, key: &str, product: Product) {
        self.entries.insert(fold(key), product);
    }

    /// Maps a name or code onto a product and its modifiers.
    pub fn lookup(&self, input: &str) -> Option<(Product, Modifiers)> {
        let key = fold(input);
        if key.is_empty() {
            return None;
        }
        if let Some(p) = self.entries.get(&key) {
            return Some((*p, with_leuko_flag(*p, Modifiers::default())));
        }
        let mut modifiers = Modifiers::default();
        let mut rest = key.as_str();
        // Peel modifier words off the front (辐照去白细胞悬浮红细胞) and
        // retry; leukoreduction also stays part of a name when the table
        // knows the longer name (去白细胞悬浮红细胞 is RBC-LR, not RBC-SUSP).
        loop {
            let before = rest;
            for (word, flag) in [
                ("辐照", 0u8),
                ("辐射", 0),
                ("IRRADIATED", 0),
                ("IRR", 0),
                ("混合", 2),
                ("POOLED", 2),
            ] {
                if let Some(r) = rest.strip_prefix(word) {
                    rest = r.trim_start_matches(['-', '(', ')']);
                    match flag {
                        0 => modifiers.irradiated = true,
                        _ => modifiers.pooled = true,
                    }
                }
            }
            if let Some(p) = self.entries.get(rest) {
                return Some((*p, with_leuko_flag(*p, modifiers)));
            }
            for word in ["去白细胞", "少白细胞", "去白"] {
                if let Some(r) = rest.strip_prefix(word) {
                    modifiers.leukoreduced = true;
                    rest = r;
                }
            }
            if let Some(p) = self.entries.get(rest) {
                return Some((upgrade_leuko(*p, modifiers), modifiers));
            }
            if rest == before {
                break;
            }
        }
        english_class(&key).map(|(p, m)| {
            let mut m = m;
            m.irradiated |= modifiers.irradiated;
            m.pooled |= modifiers.pooled;
            (p, m)
        })
    }
}

/// RBC-LR is leukoreduced by definition; say so in the flags too.
fn with_leuko_flag(p: Product, mut m: Modifiers) -> Modifiers {
    if p == Product::RbcLr {
        m.leukoreduced = true;
    }
    m
}

/// A leukoreduced red-cell suspension is its own canonical code.
fn upgrade_leuko(p: Product, m: Modifiers) -> Product {
    if m.leukoreduced && p == Product::RbcSusp {
        Product::RbcLr
    } else {
        p
    }
}

/// ISBT 128 product descriptions are English class names with attributes
/// (`RED BLOOD CELLS|CPD>AS1/450mL/refg|ResLeu:<5E6`, `Apheresis PLATELETS`).
fn english_class(key: &str) -> Option<(Product, Modifiers)> {
    let leuko = key.contains("RESLEU") || key.contains("LEUKOCYTESREDUCED") || key.contains("LR");
    let mut m = Modifiers {
        leukoreduced: leuko,
        irradiated: key.contains("IRRADIATED"),
        pooled: key.contains("POOLED"),
    };
    let p = if key.contains("WHOLEBLOOD") {
        Product::Wb
    } else if key.contains("DEGLYCEROLIZED") || key.contains("FROZENREDBLOODCELLS") {
        Product::RbcFtd
    } else if key.contains("WASHED") && key.contains("RED") {
        Product::RbcWash
    } else if key.contains("REDBLOODCELLS") || key.contains("REDCELLS") || key == "RBC" {
        if leuko {
            Product::RbcLr
        } else {
            Product::RbcSusp
        }
    } else if key.contains("PLATELETS") {
        if key.contains("APHERESIS") {
            Product::PltAph
        } else {
            Product::PltWb
        }
    } else if key.contains("CRYO") {
        Product::Cryo
    } else if key.contains("GRANULOCYTES") {
        Product::GranAph
    } else if key.contains("PATHOGENREDUCED") && key.contains("PLASMA") {
        Product::PlsVi
    } else if key.contains("FRESHFROZENPLASMA") || key.contains("FFP") {
        Product::PlsFfp
    } else if key.contains("PLASMA") {
        Product::PlsFp
    } else {
        return None;
    };
    if p == Product::RbcLr {
        m.leukoreduced = true;
    }
    Some((p, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_maps() {
        let t = ProductTable::default();
        for (name, want) in [
            ("全血", Product::Wb),
            ("浓缩红细胞", Product::RbcConc),
            ("悬浮红细胞", Product::RbcSusp),
            ("去白细胞悬浮红细胞", Product::RbcLr),
            ("悬浮少白细胞红细胞", Product::RbcLr),
            ("少白细胞红细胞", Product::RbcLr),
            ("悬浮少白", Product::RbcLr),
            ("洗涤红细胞", Product::RbcWash),
            ("冰冻解冻去甘油红细胞", Product::RbcFtd),
            ("解冻红细胞", Product::RbcFtd),
            ("冰冻红细胞", Product::RbcFtd),
            ("浓缩血小板", Product::PltWb),
            ("单采血小板", Product::PltAph),
            ("机采血小板", Product::PltAph),
            ("去白细胞单采血小板", Product::PltAph),
            ("新鲜冰冻血浆", Product::PlsFfp),
            ("单采新鲜冰冻血浆", Product::PlsFfp),
            ("冰冻血浆", Product::PlsFp),
            ("普通冰冻血浆", Product::PlsFp),
            ("病毒灭活新鲜冰冻血浆", Product::PlsVi),
            ("病毒灭活冰冻血浆", Product::PlsVi),
            ("病毒灭活血浆", Product::PlsVi),
            ("冷沉淀凝血因子", Product::Cryo),
            ("冷沉淀", Product::Cryo),
            ("单采粒细胞", Product::GranAph),
            ("RBC-LR", Product::RbcLr),
            ("rbc-lr", Product::RbcLr),
        ] {
            assert_eq!(t.lookup(name).map(|(p, _)| p), Some(want), "{name}");
        }
    }

    #[test]
    fn modifiers_are_flags() {
        let t = ProductTable::default();
        let (p, m) = t.lookup("辐照去白细胞悬浮红细胞").unwrap();
        assert_eq!(p, Product::RbcLr);
        assert!(m.irradiated && m.leukoreduced);
        let (p, m) = t.lookup("辐照单采血小板").unwrap();
        assert_eq!(p, Product::PltAph);
        assert!(m.irradiated);
        let (p, m) = t.lookup("去白细胞洗涤红细胞").unwrap();
        assert_eq!(p, Product::RbcWash);
        assert!(m.leukoreduced);
        // The same product spelled any way carries the same flags.
        for name in ["RBC-LR", "悬浮少白细胞红细胞", "去白细胞悬浮红细胞"] {
            assert!(t.lookup(name).unwrap().1.leukoreduced, "{name}");
        }
    }

    #[test]
    fn isbt_english_classes() {
        let t = ProductTable::default();
        assert_eq!(
            t.lookup("RED BLOOD CELLS|CPD>AS1/450mL/refg|ResLeu:<5E6")
                .unwrap()
                .0,
            Product::RbcLr
        );
        assert_eq!(t.lookup("Apheresis PLATELETS").unwrap().0, Product::PltAph);
        assert_eq!(t.lookup("Fresh Frozen Plasma").unwrap().0, Product::PlsFfp);
        assert_eq!(t.lookup("Cryoprecipitated AHF").unwrap().0, Product::Cryo);
        assert!(t.lookup("aspirin").is_none());
    }

    #[test]
    fn local_codes_extend_the_table() {
        let mut t = ProductTable::default();
        assert!(t.lookup("XZ-0101").is_none());
        t.insert("XZ-0101", Product::PlsFfp);
        assert_eq!(t.lookup("xz-0101").unwrap().0, Product::PlsFfp);
    }
}
