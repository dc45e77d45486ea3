//! The stock view (`GET /api/v1/stock`, the portal's stock page): current
//! stock per hospital from the events, beside the hospital's last report,
//! each group coloured against the hospital's thresholds, and RhD-negative
//! stock pooled by the three Jiangsu regions.

use crate::store::daily::{GroupQuantity, Threshold};
use crate::store::Store;
use anyhow::Result;
use chrono::Utc;
use hemobridge_canonical::{Facility, FacilityKind, Product};
use hemobridge_submission::round_quantity;
use serde::Serialize;
use std::collections::BTreeMap;

/// What to show: every filter is optional; `hospital` limits the view to
/// one hospital (a hospital token's own).
#[derive(Debug, Clone, Default)]
pub struct StockFilter {
    pub hospital: Option<String>,
    pub product: Option<String>,
    pub abo: Option<String>,
    /// `+` or `-`.
    pub rh: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockView {
    pub as_of: String,
    pub hospitals: Vec<HospitalStock>,
    /// RhD-negative stock in each Jiangsu pooling region.
    pub rh_negative_regions: Vec<RegionStock>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HospitalStock {
    pub hospital: String,
    pub name: String,
    pub city: Option<String>,
    /// 1, 2 or 3 (see [`jiangsu_region`]), `None` outside those cities.
    pub jiangsu_region: Option<u8>,
    /// When the hospital last reported its own count (RFC 3339).
    pub last_report_at: Option<String>,
    pub items: Vec<StockItem>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StockItem {
    pub category: String,
    pub product: String,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub measure: String,
    /// From the events.
    pub quantity: f64,
    /// From the hospital's last report, where it named this group.
    pub reported: Option<f64>,
    /// `high`, `medium`, `low` or `none`.
    pub level: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionStock {
    pub region: u8,
    pub cities: Vec<&'static str>,
    pub hospitals: usize,
    /// Sums per (product, ABO), RhD negative only.
    pub items: Vec<RegionItem>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionItem {
    pub product: String,
    pub abo: Option<String>,
    pub measure: String,
    pub quantity: f64,
}

/// The three RhD-negative pooling regions of Jiangsu (`domain/jiangsu.md`),
/// with each city's Chinese and pinyin names.
const REGIONS: [(u8, &[(&str, &str)]); 3] = [
    (
        1,
        &[
            ("南京", "nanjing"),
            ("扬州", "yangzhou"),
            ("镇江", "zhenjiang"),
        ],
    ),
    (
        2,
        &[
            ("苏州", "suzhou"),
            ("无锡", "wuxi"),
            ("常州", "changzhou"),
            ("南通", "nantong"),
            ("泰州", "taizhou"),
        ],
    ),
    (
        3,
        &[
            ("徐州", "xuzhou"),
            ("连云港", "lianyungang"),
            ("宿迁", "suqian"),
            ("淮安", "huaian"),
            ("盐城", "yancheng"),
        ],
    ),
];

/// The Jiangsu RhD-negative region of a city (`南京`, `南京市`, `Nanjing`,
/// `Huai'an`), or `None`.
pub fn jiangsu_region(city: &str) -> Option<u8> {
    let t = city.trim();
    let zh = t.trim_end_matches('市');
    let latin: String = t
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    let latin = latin.strip_suffix("shi").unwrap_or(&latin).to_string();
    let latin = latin.strip_suffix("city").unwrap_or(&latin);
    REGIONS.iter().find_map(|(region, cities)| {
        cities
            .iter()
            .any(|(name_zh, name_py)| zh == *name_zh || latin == *name_py)
            .then_some(*region)
    })
}

/// The colour of a quantity against a threshold.
pub fn level(quantity: f64, threshold: Option<&Threshold>) -> &'static str {
    if quantity <= 0.0 {
        return "none";
    }
    match threshold {
        Some(t) if quantity < t.low => "low",
        Some(t) if quantity < t.high => "medium",
        _ => "high",
    }
}

pub async fn current_stock(store: &Store, filter: &StockFilter) -> Result<StockView> {
    let now = Utc::now();
    let facilities: Vec<Facility> = store
        .facilities()
        .await?
        .into_iter()
        .filter(|f| f.kind == FacilityKind::Hospital)
        .filter(|f| filter.hospital.as_ref().is_none_or(|h| &f.code == h))
        .collect();
    let one = filter.hospital.as_deref();
    let computed = store
        .computed_stock(one, now.timestamp_millis() + 1)
        .await?;
    let reports = store.last_reports(one).await?;
    let thresholds = store.stock_thresholds().await?;
    let wanted = |g: &GroupQuantity| {
        filter.product.as_ref().is_none_or(|p| &g.product == p)
            && filter
                .abo
                .as_ref()
                .is_none_or(|a| g.abo.as_ref() == Some(a))
            && filter.rh.as_ref().is_none_or(|r| g.rh.as_ref() == Some(r))
    };
    type Key = (String, Option<String>, Option<String>);
    let mut by_hospital: BTreeMap<String, BTreeMap<Key, (f64, Option<f64>)>> = BTreeMap::new();
    for g in computed.iter().filter(|g| wanted(g)) {
        let key = (g.product.clone(), g.abo.clone(), g.rh.clone());
        by_hospital
            .entry(g.facility.clone())
            .or_default()
            .entry(key)
            .or_default()
            .0 += g.quantity;
    }
    let mut report_time: BTreeMap<String, String> = BTreeMap::new();
    for r in &reports {
        report_time.insert(r.facility.clone(), r.at_text.clone());
        for g in r.items.iter().filter(|g| wanted(g)) {
            let key = (g.product.clone(), g.abo.clone(), g.rh.clone());
            let slot = by_hospital
                .entry(g.facility.clone())
                .or_default()
                .entry(key)
                .or_default();
            slot.1 = Some(slot.1.unwrap_or(0.0) + g.quantity);
        }
    }
    let threshold = |hospital: &str, category: &str| {
        thresholds
            .iter()
            .find(|t| t.facility == hospital && t.category == category)
            .or_else(|| {
                thresholds
                    .iter()
                    .find(|t| t.facility == "*" && t.category == category)
            })
    };
    let mut hospitals = Vec::new();
    // Per region: hospitals counted, and RhD-negative sums per (product, ABO).
    type RegionSums = (usize, BTreeMap<(String, Option<String>), f64>);
    let mut regions: BTreeMap<u8, RegionSums> = BTreeMap::new();
    for f in &facilities {
        let region = f.region.as_deref().and_then(jiangsu_region);
        if let Some(r) = region {
            regions.entry(r).or_default().0 += 1;
        }
        let groups = by_hospital.remove(&f.code).unwrap_or_default();
        let mut items = Vec::new();
        for ((product, abo, rh), (quantity, reported)) in groups {
            let known = Product::from_code(&product);
            let category = known
                .map(|p| p.category().as_str())
                .unwrap_or("other")
                .to_string();
            let quantity = round_quantity(quantity);
            if let (Some(r), Some("-")) = (region, rh.as_deref()) {
                *regions
                    .entry(r)
                    .or_default()
                    .1
                    .entry((product.clone(), abo.clone()))
                    .or_default() += quantity;
            }
            items.push(StockItem {
                level: level(quantity, threshold(&f.code, &category)),
                measure: known
                    .map(|p| p.measure().as_str())
                    .unwrap_or("U")
                    .to_string(),
                category,
                product,
                abo,
                rh,
                quantity,
                reported: reported.map(round_quantity),
            });
        }
        hospitals.push(HospitalStock {
            hospital: f.code.clone(),
            name: f.name.clone(),
            city: f.region.clone(),
            jiangsu_region: region,
            last_report_at: report_time.get(&f.code).cloned(),
            items,
        });
    }
    let rh_negative_regions = REGIONS
        .iter()
        .map(|(number, cities)| {
            let (count, sums) = regions.remove(number).unwrap_or_default();
            RegionStock {
                region: *number,
                cities: cities.iter().map(|(zh, _)| *zh).collect(),
                hospitals: count,
                items: sums
                    .into_iter()
                    .map(|((product, abo), quantity)| RegionItem {
                        measure: Product::from_code(&product)
                            .map(|p| p.measure().as_str())
                            .unwrap_or("U")
                            .to_string(),
                        product,
                        abo,
                        quantity: round_quantity(quantity),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(StockView {
        as_of: now.to_rfc3339(),
        hospitals,
        rh_negative_regions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cities_map_to_the_three_regions_in_both_scripts() {
        assert_eq!(jiangsu_region("南京"), Some(1));
        assert_eq!(jiangsu_region("镇江市"), Some(1));
        assert_eq!(jiangsu_region("Wuxi"), Some(2));
        assert_eq!(jiangsu_region("泰州"), Some(2));
        assert_eq!(jiangsu_region("Huai'an"), Some(3));
        assert_eq!(jiangsu_region("Lianyungang City"), Some(3));
        assert_eq!(jiangsu_region("上海"), None);
    }

    #[test]
    fn levels_follow_the_thresholds() {
        let t = Threshold {
            facility: "*".into(),
            category: "red-cells".into(),
            low: 20.0,
            high: 50.0,
        };
        assert_eq!(level(0.0, Some(&t)), "none");
        assert_eq!(level(19.5, Some(&t)), "low");
        assert_eq!(level(20.0, Some(&t)), "medium");
        assert_eq!(level(50.0, Some(&t)), "high");
    }
}
