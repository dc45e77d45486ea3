//! RabbitMQ as a work queue for the engine, through lapin.
//!
//! Knows nothing of messages or the store: it carries opaque payloads (the
//! engine publishes a message id, never a body). The parts:
//! - [`topology`]: the names and declarations (a durable exchange, a durable
//!   quorum queue with a delivery limit, and a dead-letter exchange and queue
//!   for what exceeds it);
//! - [`connect`]: connecting with capped exponential back-off;
//! - [`Publisher`]: publishes a batch and waits for every publisher confirm;
//! - [`Consumer`]: manual acknowledgements with a bounded prefetch.

mod connect;
mod consumer;
mod publisher;
pub mod topology;

pub use connect::{connect, connect_with_retry, Backoff};
pub use consumer::{Consumer, Delivery};
pub use lapin::Connection;
pub use publisher::Publisher;
pub use topology::Topology;

/// What can go wrong talking to the broker. Every variant means "the link is
/// broken or refused": callers drop the connection and connect again.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("AMQP: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("the broker refused {refused} of {total} published messages")]
    NotConfirmed { refused: usize, total: usize },
    #[error("the broker connection is closed")]
    Closed,
}

pub type Result<T> = std::result::Result<T, Error>;
