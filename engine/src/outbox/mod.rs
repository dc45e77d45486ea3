//! Durable delivery to remote parties (`docs/delivery.md`).
//!
//! Everything the engine sends out is first an item in the outbox table
//! (`store/outbox.rs`), queued idempotently by key. One [`delivery`] task
//! per route takes due items in small batches, POSTs them with the
//! `hemobridge-http-out` sender and records every attempt: delivered,
//! dead-lettered at once (the receiver refused the content), or retried
//! after an exponential back-off with full jitter until `max_attempts`,
//! then dead with its last error. A dead item goes back to pending only by
//! hand (`hemobridge outbox retry`, `POST /api/v1/outbox/{id}/retry`).
//!
//! - [`policy`][]: the retry policy and its back-off.
//! - [`stats`][]: counters for `hemobridge_outbound_deliveries_total`.
//! - [`delivery`][]: the per-route task.

pub mod cli;
pub mod delivery;
pub mod policy;
pub mod settings;
pub mod stats;

pub use delivery::{Destination, RouteDelivery};
pub use policy::RetryPolicy;
pub use settings::{OutboxFileConfig, OutboxSettings};
pub use stats::OutboxStats;
