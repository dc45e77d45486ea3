//! In-memory counters behind `hemobridge_outbound_deliveries_total{route,
//! outcome}`: one count per attempt, by its outcome (`delivered`,
//! `rejected`: dead-lettered by the receiver's answer, `retry`, `dead`:
//! out of attempts).

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct OutboxStats {
    counts: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl OutboxStats {
    pub fn count(&self, route: &str, outcome: &'static str) {
        let mut counts = self.counts.lock().expect("stats lock");
        *counts.entry((route.to_string(), outcome)).or_default() += 1;
    }

    /// Every (route, outcome, count), sorted, for the metrics exporter.
    pub fn snapshot(&self) -> Vec<(String, &'static str, u64)> {
        let counts = self.counts.lock().expect("stats lock");
        counts
            .iter()
            .map(|((route, outcome), n)| (route.clone(), *outcome, *n))
            .collect()
    }

    pub fn get(&self, route: &str, outcome: &str) -> u64 {
        let counts = self.counts.lock().expect("stats lock");
        counts
            .iter()
            .find(|((r, o), _)| r == route && *o == outcome)
            .map_or(0, |(_, n)| *n)
    }
}
