//! The engine's Prometheus metrics (`GET /metrics`, `docs/operations.md`).
//!
//! Built on `prometheus-client` (the Prometheus project's own Rust client):
//! explicit registries rather than a process-global recorder, so that several
//! engines in one test process keep separate counts, and a native encoder for
//! the classic text format (`text/plain; version=0.0.4`) that the contract
//! names. `metrics` + `metrics-exporter-prometheus` would need a global
//! recorder and renders summaries unless every histogram is configured.
//!
//! Two kinds of value:
//! - counted on the hot path ([`Metrics`]): atomic counters and a histogram,
//!   handles created once where the label set is fixed (ACK codes), so a
//!   message costs a few atomic increments and at most a shared read lock;
//! - read at scrape time ([`scrape`]): queue depth, parked messages, outbox
//!   items and late hospitals from the store, MLLP connections and outbound
//!   deliveries from the adapters' own counters.
//!
//! Label values are facility codes, channels, message types, ACK codes, route
//! names and statuses: never message content. Facility and type come from
//! the sender (MSH-4, MSH-9), so [`labels`] bounds them.

pub mod labels;
pub mod late;
pub mod scrape;

use labels::{AckLabels, ReceivedLabels, ACK_CODES};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Hot-path counters shared by the doors (ingest, documents) and the worker.
#[derive(Debug)]
pub struct Metrics {
    received: Family<ReceivedLabels, Counter>,
    received_series: AtomicUsize,
    acks: Family<AckLabels, Counter>,
    /// One handle per ACK code, created up front: counting an ACK takes no
    /// lock.
    ack_counters: [Counter; 6],
    processing: Histogram,
    /// The MLLP listener's counters (connections, refused).
    pub mllp: Arc<hemobridge_mllp::ListenerStats>,
    late: late::LateCache,
}

impl Default for Metrics {
    fn default() -> Self {
        let acks = Family::<AckLabels, Counter>::default();
        let ack_counters = ACK_CODES.map(|code| acks.get_or_create(&AckLabels { code }).clone());
        Metrics {
            received: Family::default(),
            received_series: AtomicUsize::new(0),
            acks,
            ack_counters,
            // 1 ms .. ~65 s: an idle engine commits in milliseconds, a
            // backlog can hold a message for a minute.
            processing: Histogram::new(exponential_buckets(0.001, 2.0, 17)),
            mllp: Arc::new(hemobridge_mllp::ListenerStats::default()),
            late: late::LateCache::default(),
        }
    }
}

impl Metrics {
    /// One payload received on `channel`; `facility` only when it is a
    /// registered code (else it counts as `unknown`).
    pub fn received(&self, facility: Option<&str>, channel: &'static str, msg_type: &str) {
        let labels = labels::received(facility, channel, msg_type);
        if let Some(counter) = self.received.get(&labels) {
            counter.inc();
            return;
        }
        // A new series: past the cap, fold it (a race may let a few more
        // through; the bound is what matters, not its exact value).
        let labels = if self.received_series.fetch_add(1, Ordering::Relaxed)
            >= labels::MAX_RECEIVED_SERIES
        {
            labels::overflow(channel)
        } else {
            labels
        };
        self.received.get_or_create(&labels).inc();
    }

    /// Counts each ACK in `acks` by its MSA-1 code.
    pub fn acks_sent(&self, acks: &[Vec<u8>]) {
        for ack in acks {
            let code = hemobridge_mllp::parse_msa(ack).map(|m| m.acknowledgment_code);
            if let Some(i) = code.and_then(|c| ACK_CODES.iter().position(|k| k.as_bytes() == c)) {
                self.ack_counters[i].inc();
            }
        }
    }

    /// A message committed by the worker `seconds` after its receipt.
    pub fn processed(&self, seconds: f64) {
        self.processing.observe(seconds.max(0.0));
    }

    /// The worker's hook: after a batch is committed, observes each
    /// message's time from receipt (its stored `received_at`) to now. One
    /// primary-key query per batch, not per message.
    pub async fn observe_committed(&self, store: &crate::store::Store, ids: &[i64]) {
        match scrape::received_at(store, ids).await {
            Ok(times) => {
                let now = crate::store::now_ms();
                for received in times {
                    self.processed((now - received) as f64 / 1000.0);
                }
            }
            Err(e) => tracing::warn!(error = %e, "processing-time metric not recorded"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_series_are_capped() {
        let metrics = Metrics::default();
        for i in 0..labels::MAX_RECEIVED_SERIES + 5 {
            metrics.received(Some(&format!("F{i}")), "http", "ADT^A01");
        }
        assert!(metrics.received.get(&labels::overflow("http")).is_some());
        assert!(metrics
            .received
            .get(&labels::received(Some("F10"), "http", "ADT^A01"))
            .is_some());
        metrics.received(Some("F10"), "http", "ADT^A01");
        let f10 = labels::received(Some("F10"), "http", "ADT^A01");
        assert_eq!(metrics.received.get(&f10).map(|c| c.get()), Some(2));
    }
}
