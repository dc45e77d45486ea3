//! The provincial store (Jiangsu blood-cloud style): JSON over HTTPS.
//!
//! Every message is one envelope `{specVersion, messageType, messageId,
//! sender, hospital, sentAt, payload}`; `docs/specs/provincial.md` is the
//! specification and `docs/specs/provincial.schema.json` its schema.

mod messages;
mod render;

pub use messages::{
    RemainingEntitlement, StockItem, StockSnapshot, WaiverCancel, WaiverClaimMessage, WaiverRule,
};
pub use render::{daily, stock, waiver, waiver_cancel, MessageType, SPEC_VERSION};
