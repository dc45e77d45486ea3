//! HL7 v2 for hemobridge: bytes → header + canonical facts, and ACKs.
//!
//! The crate is pure (no I/O, no clock, no global state):
//!
//! 1. [`decode`] finds MSH-18 in the raw bytes, decodes them (UTF-8,
//!    GB 18030, GBK) and normalises segment terminators; it also reads the
//!    [`Header`]. When decoding fails, [`header_lossy`] still gives the
//!    control id for the ACK.
//! 2. [`map_message`] maps a decoded ADT, OMB^O27, BPS^O29 or BTS^O31 message
//!    onto [`hemobridge_canonical::Normalized`], or says why it cannot
//!    ([`Mapping::Invalid`], [`Mapping::Unsupported`]), with every problem as
//!    an [`Issue`] located for an ERR segment.
//! 3. [`build_ack`] writes the acknowledgement; [`encode`] turns it into the
//!    sender's character set.
//!
//! `hl7-parser` gives the structure (fields, repetitions, components);
//! escape sequences are decoded here ([`unescape`]), because the crate's own
//! decoder panics on Chinese text before an escape sequence.
//! `docs/hl7-profile.md` describes every segment and field read.

mod ack;
mod adt;
mod batch;
mod bps;
mod bts;
mod charset;
mod datatypes;
mod decode;
mod delimiters;
mod error;
mod escape;
mod header;
mod issue;
mod mapping;
mod omb;
mod pid;
mod reader;
mod screen;
mod tables;
mod units;

pub use ack::{ack_wanted, build_ack, AckCode};
pub use batch::{split_messages, split_raw_messages};
pub use charset::{decode_text, encode, Charset};
pub use decode::{decode, header_lossy, Decoded};
pub use delimiters::Delimiters;
pub use error::Hl7Error;
pub use escape::{escape, escape_into, unescape, unescape_in};
pub use header::Header;
pub use issue::{ErrorCode, Issue, Severity};
pub use mapping::{map_message, map_message_with_notes, Mapping};

use hemobridge_canonical::ProductTable;

/// Per-site settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The zone of times sent without an offset.
    pub zone: chrono_tz::Tz,
    /// The charset of messages whose MSH-18 is empty.
    pub default_charset: Charset,
    /// Product names and codes → canonical products.
    pub products: ProductTable,
}

impl Default for Config {
    /// Asia/Shanghai, UTF-8, the default product table.
    fn default() -> Self {
        Config {
            zone: chrono_tz::Asia::Shanghai,
            default_charset: Charset::Utf8,
            products: ProductTable::default(),
        }
    }
}
