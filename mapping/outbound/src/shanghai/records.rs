//! The records of one hospital's day, one list per Shanghai data set. The
//! engine fills them from the store; the renderer only writes them.
//!
//! Plain fields: codes as our canonical strings (`RBC-LR`, `A`, `+`),
//! quantities in the product's own measure, times with their offset.

use chrono::{DateTime, FixedOffset, NaiveDate};

/// What a record does to the platform's copy of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// First report of this record id.
    New,
    /// Replaces what was reported under this record id.
    Update,
    /// Withdraws what was reported under this record id.
    Cancel,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::New => "new",
            Action::Update => "update",
            Action::Cancel => "cancel",
        }
    }
}

/// The six data sets of the platform, in the order the envelope holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataSet {
    Receipts,
    Issues,
    Stock,
    Transfusions,
    Reactions,
    Identities,
}

impl DataSet {
    pub const ALL: [DataSet; 6] = [
        DataSet::Receipts,
        DataSet::Issues,
        DataSet::Stock,
        DataSet::Transfusions,
        DataSet::Reactions,
        DataSet::Identities,
    ];
}

/// One hospital's records for one local day.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DayRecords {
    /// The hospital's facility code (as registered with the platform).
    pub hospital: String,
    /// The local day covered.
    pub date: NaiveDate,
    /// Units received from a blood station (入库).
    pub receipts: Vec<UnitMovement>,
    /// Units issued from the blood bank to a ward or patient (出库).
    pub issues: Vec<UnitMovement>,
    /// End-of-day stock (库存), one line per product and blood group.
    pub stock: Vec<StockLine>,
    /// Transfusions with the principal diagnosis (单病种用血).
    pub transfusions: Vec<Transfusion>,
    /// Adverse transfusion reactions (用血不良反应).
    pub reactions: Vec<Reaction>,
    /// Blood users' identities (用血者身份识别), masked or hashed.
    pub identities: Vec<BloodUser>,
}

impl DayRecords {
    /// How many records the data set holds (the envelope's count).
    pub fn count(&self, set: DataSet) -> usize {
        match set {
            DataSet::Receipts => self.receipts.len(),
            DataSet::Issues => self.issues.len(),
            DataSet::Stock => self.stock.len(),
            DataSet::Transfusions => self.transfusions.len(),
            DataSet::Reactions => self.reactions.len(),
            DataSet::Identities => self.identities.len(),
        }
    }
}

/// A unit received (from a station) or issued (to a ward).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitMovement {
    /// The record's own id: the same fact keeps it on update and cancel.
    pub record_id: String,
    pub action: Action,
    /// Donation identification number (血袋号).
    pub din: String,
    /// Canonical product code.
    pub product: String,
    /// The product's name as the hospital knows it (Chinese), if any.
    pub product_name: Option<String>,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub quantity: f64,
    /// `U`, `mL` or `dose`.
    pub measure: String,
    pub volume_ml: Option<u32>,
    pub at: DateTime<FixedOffset>,
    /// Receipts: the supplying blood station's code.
    pub station: Option<String>,
    /// Issues: the ward the unit went to.
    pub ward: Option<String>,
    /// Issues: the patient it was issued for (the engine's patient key).
    pub patient_key: Option<String>,
    pub expires: Option<DateTime<FixedOffset>>,
}

/// Stock of one product and blood group at the end of the day.
#[derive(Debug, Clone, PartialEq)]
pub struct StockLine {
    pub record_id: String,
    pub action: Action,
    pub product: String,
    pub product_name: Option<String>,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub quantity: f64,
    pub measure: String,
    /// The moment the figure describes.
    pub at: DateTime<FixedOffset>,
}

/// One unit transfused to one patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfusion {
    pub record_id: String,
    pub action: Action,
    pub din: String,
    pub product: String,
    pub product_name: Option<String>,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub quantity: f64,
    pub measure: String,
    pub volume_ml: Option<u32>,
    pub started_at: DateTime<FixedOffset>,
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// The engine's patient key (never a name or ID number).
    pub patient_key: String,
    pub ward: Option<String>,
    /// ICD-10 code of the principal diagnosis (`D50.0`), if known.
    pub diagnosis_icd10: Option<String>,
    /// The diagnosis as written (Chinese), if known.
    pub diagnosis_name: Option<String>,
}

/// An adverse transfusion reaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Reaction {
    pub record_id: String,
    pub action: Action,
    /// The unit suspected, if known.
    pub din: Option<String>,
    pub product: Option<String>,
    pub patient_key: String,
    pub at: DateTime<FixedOffset>,
    /// `febrile`, `allergic`, `haemolytic` or `other`.
    pub category: String,
    /// `mild`, `moderate`, `severe`, `death` or `unknown`.
    pub severity: String,
    /// What was observed, free text (no identity).
    pub description: Option<String>,
}

/// A blood user's identity, for the platform's identification and the
/// family's waiver claims. Only masked or hashed values.
#[derive(Debug, Clone, PartialEq)]
pub struct BloodUser {
    pub record_id: String,
    pub action: Action,
    pub patient_key: String,
    /// Masked name (`张*`), as the engine chooses.
    pub name_masked: Option<String>,
    /// Keyed hash of the ID number, as the engine chooses.
    pub id_number_hash: Option<String>,
    /// `resident-id`, `passport`, ... (the kind of document hashed).
    pub id_type: Option<String>,
    /// `male`, `female`, `unknown`.
    pub sex: Option<String>,
    pub abo: Option<String>,
    pub rh: Option<String>,
    /// The donor the family claims against, if any (the donor key).
    pub donor_key: Option<String>,
    /// Relationship of the patient to that donor (`self`, `spouse`, ...).
    pub relationship: Option<String>,
}
