//! One scrape of `GET /metrics`: the hot-path counters plus what is read at
//! scrape time, rendered in the Prometheus text format (version 0.0.4).
//!
//! The registry is built per scrape from handles (an `Arc` clone each), so
//! values read now (gauges from the store, the adapters' counters) need no
//! shared mutable registry and no lock held between scrapes.

use super::Metrics;
use crate::outbox::OutboxStats;
use crate::store::{RowExt, Store};
use chrono::NaiveTime;
use chrono_tz::Tz;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

pub use prometheus_text::CONTENT_TYPE;

/// What a scrape reads besides [`Metrics`].
pub struct Sources<'a> {
    pub store: &'a Store,
    pub outbox: &'a OutboxStats,
    pub zone: Tz,
    pub cutoff: NaiveTime,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteOutcome {
    route: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DateLabel {
    date: String,
}

/// Renders every metric. A store read that fails leaves its gauges out
/// (and logs why) rather than failing the whole scrape: the counters are
/// still worth having while the database is down.
pub async fn render(metrics: &Metrics, sources: &Sources<'_>) -> String {
    let mut registry = Registry::default();
    registry.register(
        "hemobridge_messages_received",
        "Payloads received, by sending facility, channel and message type",
        metrics.received.clone(),
    );
    registry.register(
        "hemobridge_acks",
        "HL7 acknowledgements sent, by MSA-1 code",
        metrics.acks.clone(),
    );
    registry.register(
        "hemobridge_message_processing_seconds",
        "Time from a message's receipt to the worker's commit of its facts",
        metrics.processing.clone(),
    );

    let deliveries = Family::<RouteOutcome, Counter>::default();
    for (route, outcome, n) in sources.outbox.snapshot() {
        deliveries
            .get_or_create(&RouteOutcome { route, outcome })
            .inc_by(n);
    }
    registry.register(
        "hemobridge_outbound_deliveries",
        "Outbound delivery attempts, by route and outcome (delivered, rejected, retry, dead)",
        deliveries,
    );

    let mllp = metrics.mllp.snapshot();
    registry.register(
        "hemobridge_mllp_connections",
        "MLLP connections open now",
        gauge(mllp.connections_open as i64),
    );
    let refused = Counter::<u64>::default();
    refused.inc_by(mllp.connections_refused);
    registry.register(
        "hemobridge_mllp_connections_refused",
        "MLLP connections refused because the connection limit was reached",
        refused,
    );

    match messages_with_status(sources.store, "pending").await {
        Ok(n) => registry.register(
            "hemobridge_queue_depth",
            "Messages stored and waiting for the worker (status pending)",
            gauge(n),
        ),
        Err(e) => tracing::warn!(error = %e, "metrics: queue depth unavailable"),
    }
    match messages_with_status(sources.store, "error").await {
        Ok(n) => registry.register(
            "hemobridge_parked_messages",
            "Messages refused as invalid or parked by the worker (status error)",
            gauge(n),
        ),
        Err(e) => tracing::warn!(error = %e, "metrics: parked messages unavailable"),
    }

    match sources.store.outbox_counts().await {
        Ok(rows) => {
            let items = Family::<RouteStatus, Gauge>::default();
            for (route, status, n) in rows {
                items.get_or_create(&RouteStatus { route, status }).set(n);
            }
            registry.register(
                "hemobridge_outbox_items",
                "Outbox items by route and status (pending, delivered, dead)",
                items,
            );
        }
        Err(e) => tracing::warn!(error = %e, "metrics: outbox counts unavailable"),
    }

    match metrics
        .late
        .get(sources.store, sources.zone, sources.cutoff)
        .await
    {
        Ok((date, count)) => {
            let late = Family::<DateLabel, Gauge>::default();
            late.get_or_create(&DateLabel {
                date: date.to_string(),
            })
            .set(count as i64);
            registry.register(
                "hemobridge_late_hospitals",
                "Hospitals that sent nothing for the last closed day by its cut-off",
                late,
            );
        }
        Err(e) => tracing::warn!(error = %e, "metrics: late list unavailable"),
    }

    let mut text = String::new();
    prometheus_text::encode(&mut text, &registry).expect("writing to a String cannot fail");
    text
}

fn gauge(value: i64) -> Gauge {
    let g = Gauge::default();
    g.set(value);
    g
}

/// How many messages have `status`: an index range (`messages_pending`,
/// `messages_status_time`), not a scan of the whole table as a GROUP BY
/// over every status would be.
async fn messages_with_status(store: &Store, status: &str) -> anyhow::Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE status = $1")
        .bind(status)
        .fetch_one(store.pool())
        .await?;
    Ok(row.int("n").unwrap_or(0))
}

/// `received_at` (ms) of the given messages. The ids are integers from the
/// store, so they are written into the statement rather than bound one by
/// one.
pub async fn received_at(store: &Store, ids: &[i64]) -> anyhow::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(&format!(
        "SELECT received_at FROM messages WHERE id IN ({list})"
    ))
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().filter_map(|r| r.int("received_at")).collect())
}
