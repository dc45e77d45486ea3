//! The hemobridge engine: everything between the transports and the store.
//!
//! Data flows one way: a transport (MLLP, HTTP) hands bytes to [`ingest`],
//! which decides the ACK, stores the raw payload through the group-commit
//! [`writer`] and answers; the [`worker`] takes committed messages from the
//! embedded queue, runs them through [`normalize`] (the pure mapping crates)
//! and applies the canonical facts to the [`store`]; [`trace`] and the
//! [`api`] read them back. [`server`] wires it together for `hemobridge
//! serve`; [`cli`] is the command line.

pub mod api;
pub mod audit;
pub mod broker;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod daily;
pub mod documents;
pub mod facilities;
pub mod fhir;
pub mod handoff;
pub mod ingest;
pub mod loadgen;
pub mod logging;
pub mod metrics;
pub mod mllp;
pub mod normalize;
pub mod outbox;
pub mod portal;
pub mod routing;
pub mod server;
pub mod singleton;
pub mod store;
pub mod trace;
pub mod worker;
pub mod writer;
