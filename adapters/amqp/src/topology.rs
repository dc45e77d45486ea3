//! Names and declarations. Everything is durable; the work queue is a quorum
//! queue (replicated, and it counts deliveries): a message delivered more
//! than `delivery_limit` times without an ack goes to the dead-letter
//! exchange instead of looping forever.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

#[derive(Debug, Clone)]
pub struct Topology {
    pub exchange: String,
    pub queue: String,
    pub routing_key: String,
    pub dead_letter_exchange: String,
    pub dead_letter_queue: String,
    /// Deliveries (redeliveries included) before a message is dead-lettered.
    pub delivery_limit: i64,
}

impl Topology {
    /// The work queue's names under a prefix (`hemobridge` in production; a
    /// unique one per test run so that runs never share queues).
    pub fn with_prefix(prefix: &str) -> Topology {
        Topology {
            exchange: format!("{prefix}.work"),
            queue: format!("{prefix}.messages"),
            routing_key: "message".into(),
            dead_letter_exchange: format!("{prefix}.dead"),
            dead_letter_queue: format!("{prefix}.messages.dead"),
            delivery_limit: 20,
        }
    }

    /// Declares (idempotently) the exchanges, queues and bindings.
    pub async fn declare(&self, channel: &Channel) -> crate::Result<()> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                &self.exchange,
                ExchangeKind::Direct,
                durable,
                FieldTable::default(),
            )
            .await?;
        channel
            .exchange_declare(
                &self.dead_letter_exchange,
                ExchangeKind::Fanout,
                durable,
                FieldTable::default(),
            )
            .await?;
        let queue_options = QueueDeclareOptions {
            durable: true,
            ..Default::default()
        };
        let mut args = quorum();
        args.insert(
            ShortString::from("x-delivery-limit"),
            AMQPValue::LongLongInt(self.delivery_limit),
        );
        args.insert(
            ShortString::from("x-dead-letter-exchange"),
            AMQPValue::LongString(LongString::from(self.dead_letter_exchange.as_str())),
        );
        channel
            .queue_declare(&self.queue, queue_options, args)
            .await?;
        channel
            .queue_declare(&self.dead_letter_queue, queue_options, quorum())
            .await?;
        channel
            .queue_bind(
                &self.queue,
                &self.exchange,
                &self.routing_key,
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                &self.dead_letter_queue,
                &self.dead_letter_exchange,
                "",
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    /// Messages ready in the work queue (not counting those delivered and
    /// not yet acked).
    pub async fn ready(&self, channel: &Channel) -> crate::Result<u32> {
        let q = channel
            .queue_declare(
                &self.queue,
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok(q.message_count())
    }

    /// Messages in the dead-letter queue.
    pub async fn dead(&self, channel: &Channel) -> crate::Result<u32> {
        let q = channel
            .queue_declare(
                &self.dead_letter_queue,
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        Ok(q.message_count())
    }

    /// Deletes the queues and exchanges (tests clean up after themselves).
    pub async fn delete(&self, channel: &Channel) -> crate::Result<()> {
        use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
        channel
            .queue_delete(&self.queue, QueueDeleteOptions::default())
            .await?;
        channel
            .queue_delete(&self.dead_letter_queue, QueueDeleteOptions::default())
            .await?;
        channel
            .exchange_delete(&self.exchange, ExchangeDeleteOptions::default())
            .await?;
        channel
            .exchange_delete(&self.dead_letter_exchange, ExchangeDeleteOptions::default())
            .await?;
        Ok(())
    }
}

fn quorum() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        ShortString::from("x-queue-type"),
        AMQPValue::LongString(LongString::from("quorum")),
    );
    args
}
