//! MLLP transport for hemobridge: framing, a tokio listener, a client and a
//! load generator, independent of HL7 content.
//!
//! * [`codec`]: the `0x0B message 0x1C 0x0D` framing, as a streaming decoder
//!   and an encoder.
//! * [`listener`]: accepts connections and hands each frame to a
//!   [`Handler`], which returns the ACK to send back.
//! * [`client`]: one connection, one message and its reply at a time.
//! * [`loadgen`]: drives many clients and reports throughput and latency.
//! * [`ack`]: just enough HL7 to read MSA-1 and MSA-2 of an ACK.

pub mod ack;
pub mod client;
pub mod codec;
pub mod listener;
pub mod loadgen;

pub use ack::{find_msa_segment, is_accept_code, parse_msa, MsaFields};
pub use client::{Client, ClientError};
pub use codec::{encode, FrameDecoder, FrameError, DEFAULT_MAX_FRAME_BYTES};
pub use listener::{serve, Handler, ListenerConfig, ListenerStats, ListenerStatsSnapshot, Peer};
pub use loadgen::{LoadConfig, LoadError, LoadReport, MessageFactory};
