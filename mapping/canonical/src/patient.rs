//! A hospital's patient. The hospital's own key identifies the patient within
//! that hospital; ID number and name are [`Sensitive`] and are encrypted by
//! the store.

use crate::{BloodGroup, Sensitive};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdType {
    ResidentId,
    Passport,
    Other,
}

impl IdType {
    pub fn parse(s: &str) -> Option<IdType> {
        match s.trim() {
            "resident-id" | "01" | "身份证" | "居民身份证" => Some(IdType::ResidentId),
            "passport" | "03" | "护照" => Some(IdType::Passport),
            "other" | "99" | "其他" => Some(IdType::Other),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    M,
    F,
    U,
}

impl Sex {
    /// HL7 table 0001 and GB/T 2261.1 (1 male, 2 female, 0/9 unknown).
    pub fn parse(s: &str) -> Option<Sex> {
        match s.trim() {
            "M" | "m" | "1" | "男" => Some(Sex::M),
            "F" | "f" | "2" | "女" => Some(Sex::F),
            "U" | "u" | "O" | "A" | "N" | "0" | "9" | "未知" | "" => Some(Sex::U),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// The hospital that owns the key.
    pub facility: String,
    /// The hospital's patient id (PID-3 / `Patient@key`).
    pub key: String,
    pub id_type: Option<IdType>,
    pub id_number: Option<Sensitive>,
    pub name: Option<Sensitive>,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    #[serde(default)]
    pub blood_group: BloodGroup,
}

impl Patient {
    pub fn new(facility: impl Into<String>, key: impl Into<String>) -> Self {
        Patient {
            facility: facility.into(),
            key: key.into(),
            id_type: None,
            id_number: None,
            name: None,
            sex: None,
            birth_date: None,
            blood_group: BloodGroup::default(),
        }
    }
}
