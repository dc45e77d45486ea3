//! Publishing with publisher confirms. A batch is published as a whole and
//! then every confirm is awaited: one round trip's wait for many messages,
//! and nothing counts as published before the broker has taken it.

use crate::{Error, Topology};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Connection};

pub struct Publisher {
    channel: Channel,
    exchange: String,
    routing_key: String,
}

impl Publisher {
    /// Opens a confirm-mode channel and declares the topology.
    pub async fn open(conn: &Connection, topology: &Topology) -> crate::Result<Publisher> {
        let channel = conn.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        topology.declare(&channel).await?;
        Ok(Publisher {
            channel,
            exchange: topology.exchange.clone(),
            routing_key: topology.routing_key.clone(),
        })
    }

    pub fn is_open(&self) -> bool {
        self.channel.status().connected()
    }

    /// Publishes every payload (persistent) and returns once the broker has
    /// confirmed them all; any negative confirm is an error for the batch.
    pub async fn publish_batch(&self, payloads: &[Vec<u8>]) -> crate::Result<()> {
        let mut confirms = Vec::with_capacity(payloads.len());
        for payload in payloads {
            let confirm = self
                .channel
                .basic_publish(
                    &self.exchange,
                    &self.routing_key,
                    BasicPublishOptions::default(),
                    payload,
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await?;
            confirms.push(confirm);
        }
        let total = confirms.len();
        let mut refused = 0;
        for confirm in confirms {
            if !confirm.await?.is_ack() {
                refused += 1;
            }
        }
        if refused > 0 {
            return Err(Error::NotConfirmed { refused, total });
        }
        Ok(())
    }

    /// A channel for inspection (queue depths).
    pub fn channel(&self) -> &Channel {
        &self.channel
    }
}
