//! Consuming with manual acknowledgements. `basic.qos` bounds how many
//! unacknowledged messages the broker hands this consumer, so memory stays
//! bounded whatever the backlog; a message is acked only after the caller
//! has committed its work, so a crash before that redelivers it.

use crate::{Error, Topology};
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use std::time::Duration;

pub struct Consumer {
    channel: Channel,
    stream: lapin::Consumer,
}

/// One delivered message; ack or nack it on the consumer that gave it.
pub struct Delivery {
    tag: u64,
    pub data: Vec<u8>,
    pub redelivered: bool,
}

impl Consumer {
    pub async fn open(
        conn: &Connection,
        topology: &Topology,
        prefetch: u16,
        tag: &str,
    ) -> crate::Result<Consumer> {
        let channel = conn.create_channel().await?;
        topology.declare(&channel).await?;
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await?;
        let stream = channel
            .basic_consume(
                &topology.queue,
                tag,
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(Consumer { channel, stream })
    }

    /// The next delivery; `Err(Closed)` when the link is gone.
    pub async fn next(&mut self) -> crate::Result<Delivery> {
        match self.stream.next().await {
            Some(Ok(d)) => Ok(Delivery {
                tag: d.delivery_tag,
                data: d.data,
                redelivered: d.redelivered,
            }),
            Some(Err(e)) => Err(Error::Amqp(e)),
            None => Err(Error::Closed),
        }
    }

    /// Up to `max` deliveries: waits for the first, then takes what arrives
    /// within `linger` (a batch under load, no delay when idle).
    pub async fn next_batch(
        &mut self,
        max: usize,
        linger: Duration,
    ) -> crate::Result<Vec<Delivery>> {
        let mut batch = vec![self.next().await?];
        let deadline = tokio::time::Instant::now() + linger;
        while batch.len() < max {
            match tokio::time::timeout_at(deadline, self.next()).await {
                Ok(Ok(d)) => batch.push(d),
                // A broken link shows on the next call; this batch is
                // processed (and its acks fail, which redelivers it).
                Ok(Err(_)) | Err(_) => break,
            }
        }
        Ok(batch)
    }

    pub async fn ack(&self, delivery: &Delivery) -> crate::Result<()> {
        self.channel
            .basic_ack(delivery.tag, BasicAckOptions::default())
            .await?;
        Ok(())
    }

    /// Acks this delivery and every earlier one not yet acked on this
    /// channel (one frame for a batch).
    pub async fn ack_up_to(&self, delivery: &Delivery) -> crate::Result<()> {
        self.channel
            .basic_ack(delivery.tag, BasicAckOptions { multiple: true })
            .await?;
        Ok(())
    }

    /// Hands the delivery back for another consumer (a transient failure).
    pub async fn requeue(&self, delivery: &Delivery) -> crate::Result<()> {
        self.channel
            .basic_nack(
                delivery.tag,
                BasicNackOptions {
                    multiple: false,
                    requeue: true,
                },
            )
            .await?;
        Ok(())
    }

    /// Refuses the delivery for good: it goes to the dead-letter exchange.
    pub async fn dead_letter(&self, delivery: &Delivery) -> crate::Result<()> {
        self.channel
            .basic_nack(
                delivery.tag,
                BasicNackOptions {
                    multiple: false,
                    requeue: false,
                },
            )
            .await?;
        Ok(())
    }

    pub fn is_open(&self) -> bool {
        self.channel.status().connected()
    }
}
