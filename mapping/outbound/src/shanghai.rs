//! The Shanghai clinical blood-use platform (上海市临床用血综合管理平台,
//! medical-institution part): XML, UTF-8.
//!
//! The official interface specification is not public; this is our model of
//! it from the 2017 notice (`docs/specs/shanghai.md`). Every element name
//! comes from a [`ShanghaiMapping`] (by default
//! `mappings/shanghai-2017.toml`), so the official names can replace ours
//! without a code change.

mod check;
mod mapping;
mod records;
mod render;

pub use check::{check, FieldError, InvalidRecords};
pub use mapping::{
    DataSetNames, EnvelopeNames, FieldNames, MappingError, Meta, ShanghaiMapping, SummaryNames,
    DEFAULT_MAPPING_TOML,
};
pub use records::{
    Action, BloodUser, DataSet, DayRecords, Reaction, StockLine, Transfusion, UnitMovement,
};
pub use render::{daily, daily_summary, ShanghaiConfig};
