//! What a load run measured: per-connection tallies while it runs, merged
//! into one [`LoadReport`] at the end.
//!
//! Each connection keeps its own tally (counters and a latency histogram)
//! so the hot path shares nothing; tallies are merged once, after the run.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::ack::parse_msa;

/// Highest latency the histogram resolves: one hour, in microseconds.
const MAX_TRACKED_LATENCY_MICROS: u64 = 3_600_000_000;
/// Histogram precision: three significant digits.
const LATENCY_SIGNIFICANT_DIGITS: u8 = 3;

/// Outcome of a load run.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    /// Messages written to a connection.
    pub sent: u64,
    /// Messages answered by a reply with an MSA segment.
    pub acked: u64,
    /// Acknowledgement codes (MSA-1) and how often each came back.
    pub by_code: BTreeMap<String, u64>,
    /// Replies whose MSA-2 differs from the control id of the message sent.
    pub mismatched_control_ids: u64,
    /// Messages without a usable reply: connection failures, timeouts,
    /// replies without an MSA segment.
    pub errors: u64,
    /// Wall time from the first message to the last reply.
    pub elapsed: Duration,
    /// Acknowledged messages per second of `elapsed`.
    pub msgs_per_sec: f64,
    /// Median latency from writing a message to reading its reply.
    pub p50: Duration,
    /// 90th percentile latency.
    pub p90: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Highest latency.
    pub max: Duration,
    /// The first error met, to tell what went wrong when `errors` is not 0.
    pub first_error: Option<String>,
}

impl LoadReport {
    pub(crate) fn new(tally: Tally, elapsed: Duration) -> Self {
        let seconds = elapsed.as_secs_f64();
        let latency = |quantile: f64| micros(tally.latencies.value_at_quantile(quantile));
        Self {
            sent: tally.sent,
            acked: tally.acked,
            mismatched_control_ids: tally.mismatched_control_ids,
            errors: tally.errors,
            elapsed,
            msgs_per_sec: if seconds > 0.0 {
                tally.acked as f64 / seconds
            } else {
                0.0
            },
            p50: latency(0.50),
            p90: latency(0.90),
            p99: latency(0.99),
            max: micros(tally.latencies.max()),
            by_code: tally.by_code,
            first_error: tally.first_error,
        }
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let codes = self
            .by_code
            .iter()
            .map(|(code, count)| format!("{code} {count}"))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(f, "messages sent     {}", self.sent)?;
        writeln!(f, "acknowledged      {}  ({codes})", self.acked)?;
        writeln!(f, "MSA-2 mismatches  {}", self.mismatched_control_ids)?;
        writeln!(f, "errors            {}", self.errors)?;
        writeln!(f, "elapsed           {:.3} s", self.elapsed.as_secs_f64())?;
        writeln!(f, "throughput        {:.1} msgs/s", self.msgs_per_sec)?;
        write!(
            f,
            "latency           p50 {}  p90 {}  p99 {}  max {}",
            Millis(self.p50),
            Millis(self.p90),
            Millis(self.p99),
            Millis(self.max)
        )?;
        if let Some(error) = &self.first_error {
            write!(f, "\nfirst error       {error}")?;
        }
        Ok(())
    }
}

/// Formats a duration as milliseconds with three decimals.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ms", self.0.as_secs_f64() * 1000.0)
    }
}

fn micros(value: u64) -> Duration {
    Duration::from_micros(value)
}

/// Counters and latencies of one connection (or, merged, of a whole run).
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    sent: u64,
    acked: u64,
    by_code: BTreeMap<String, u64>,
    mismatched_control_ids: u64,
    errors: u64,
    latencies: Histogram<u64>,
    first_error: Option<String>,
}

impl Tally {
    pub(crate) fn new() -> Self {
        Self {
            sent: 0,
            acked: 0,
            by_code: BTreeMap::new(),
            mismatched_control_ids: 0,
            errors: 0,
            latencies: Histogram::new_with_bounds(
                1,
                MAX_TRACKED_LATENCY_MICROS,
                LATENCY_SIGNIFICANT_DIGITS,
            )
            .expect("constant histogram bounds are valid"),
            first_error: None,
        }
    }

    /// A message was written to a connection.
    pub(crate) fn record_sent(&mut self) {
        self.sent += 1;
    }

    /// A reply arrived after `latency`; checks it against the control id of
    /// the message it answers.
    pub(crate) fn record_reply(
        &mut self,
        reply: &[u8],
        expected_control_id: &str,
        latency: Duration,
    ) {
        let latency_micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latencies.saturating_record(latency_micros.max(1));
        let Some(msa) = parse_msa(reply) else {
            self.record_error(format_args!(
                "reply of {} bytes without an MSA segment",
                reply.len()
            ));
            return;
        };
        self.acked += 1;
        let code = String::from_utf8_lossy(msa.acknowledgment_code).into_owned();
        *self.by_code.entry(code).or_default() += 1;
        if msa.control_id != expected_control_id.as_bytes() {
            self.mismatched_control_ids += 1;
        }
    }

    /// A message got no usable reply.
    pub(crate) fn record_error(&mut self, error: impl fmt::Display) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(error.to_string());
        }
    }

    /// Adds another tally's counts and latencies to this one.
    pub(crate) fn merge(&mut self, other: Tally) {
        self.sent += other.sent;
        self.acked += other.acked;
        for (code, count) in other.by_code {
            *self.by_code.entry(code).or_default() += count;
        }
        self.mismatched_control_ids += other.mismatched_control_ids;
        self.errors += other.errors;
        // Both histograms share the same bounds, so adding cannot fail.
        let _ = self.latencies.add(&other.latencies);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(code: &str, control_id: &str) -> Vec<u8> {
        format!("MSH|^~\\&|HB||LIS||20250101||ACK|1|P|2.5.1\rMSA|{code}|{control_id}\r")
            .into_bytes()
    }

    #[test]
    fn counts_codes_mismatches_and_errors() {
        let mut first = Tally::new();
        first.record_sent();
        first.record_reply(&ack("AA", "1"), "1", Duration::from_millis(2));
        first.record_sent();
        first.record_reply(&ack("AE", "9"), "2", Duration::from_millis(4));
        let mut second = Tally::new();
        second.record_sent();
        second.record_reply(b"not an ack", "3", Duration::from_millis(1));
        second.record_error("timed out");
        first.merge(second);

        let report = LoadReport::new(first, Duration::from_secs(2));
        assert_eq!(report.sent, 3);
        assert_eq!(report.acked, 2);
        assert_eq!(report.by_code.get("AA"), Some(&1));
        assert_eq!(report.by_code.get("AE"), Some(&1));
        assert_eq!(report.mismatched_control_ids, 1);
        assert_eq!(report.errors, 2);
        assert_eq!(report.msgs_per_sec, 1.0);
        assert!(report.max >= Duration::from_millis(4));
        assert!(report.p50 <= report.p99);
        assert_eq!(
            report.first_error.as_deref(),
            Some("reply of 10 bytes without an MSA segment")
        );
        let text = report.to_string();
        assert!(text.contains("AA 1, AE 1"), "{text}");
        assert!(text.contains("first error"), "{text}");
    }
}
