//! The MLLP listener's handler: each frame goes through [`Ingest`] and its
//! ACKs go back on the same connection.

use crate::ingest::Ingest;
use bytes::Bytes;
use hemobridge_mllp::{Handler, Peer};
use std::sync::Arc;

pub struct MllpHandler {
    pub ingest: Arc<Ingest>,
}

impl Handler for MllpHandler {
    async fn handle(&self, frame: Bytes, _peer: &Peer) -> Vec<Vec<u8>> {
        self.ingest.hl7(frame.to_vec(), "mllp").await.acks
    }
}
