//! Facilities: hospitals (with a transfusion department) and blood stations.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FacilityKind {
    Hospital,
    Station,
}

impl FacilityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FacilityKind::Hospital => "hospital",
            FacilityKind::Station => "station",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hospital" => Some(FacilityKind::Hospital),
            "station" => Some(FacilityKind::Station),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Facility {
    /// The code the facility sends in MSH-4 or `facility=`; unique.
    pub code: String,
    pub name: String,
    pub kind: FacilityKind,
    /// City (for regional statistics and RhD-negative pooling).
    pub region: Option<String>,
    pub province: Option<String>,
}
