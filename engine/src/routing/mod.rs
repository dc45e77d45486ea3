//! Which outbound items go where (`docs/delivery.md`).
//!
//! A route is a config (name, URL, credential, timeout) plus a build step
//! (the formats it renders, [`formats`]), like a sink in a log shipper. The
//! three routes are on when their URL is set:
//!
//! | route | daily submission | stock | waiver claim / cancel |
//! |---|---|---|---|
//! | `provincial` | JSON `daily-submission` | JSON `stock-snapshot` | JSON `waiver-claim` / `waiver-cancel` |
//! | `shanghai` | XML daily envelope of the day's records | - | - |
//! | `fhir` | transaction Bundle (`MeasureReport`) | - | - |
//!
//! Idempotency keys name the thing sent, so re-queueing it is a no-op:
//! `daily:{hospital}:{date}:v{version}`, `stock:{hospital}:{at_ms}`,
//! `waiver-claim:{hospital}:{claimId}`, `waiver-cancel:{hospital}:{claimId}`.
//!
//! - [`formats`][]: the build step of each route.
//! - [`shanghai_records`][]: the day's records for the Shanghai XML.
//! - [`waivers`][]: the waiver decision → provincial message hook.
//! - [`scheduler`][]: the cut-off, amendments and stock loops.

pub mod formats;
pub mod scheduler;
pub mod shanghai_records;
pub mod waivers;

use crate::config::Settings;
use crate::outbox::{Destination, OutboxStats, RetryPolicy, RouteDelivery};
use crate::store::outbox::NewItem;
use crate::store::Store;
use anyhow::{Context, Result};
use chrono::{FixedOffset, Utc};
use chrono_tz::Tz;
use formats::Rendered;
use hemobridge_http_out::{Sender, SenderConfig};
use hemobridge_outbound::shanghai::ShanghaiConfig;
use hemobridge_outbound::Envelope;
use hemobridge_submission::DailySubmission;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The sender's name in every envelope.
pub const SENDER_ID: &str = "hemobridge";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Provincial,
    Shanghai,
    Fhir,
}

impl RouteKind {
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::Provincial => "provincial",
            RouteKind::Shanghai => "shanghai",
            RouteKind::Fhir => "fhir",
        }
    }
}

/// One route's configuration.
#[derive(Debug, Clone)]
pub struct RouteConfig {
    pub kind: RouteKind,
    pub url: String,
    pub bearer: Option<String>,
    pub timeout: Duration,
}

/// The configured routes and what they need to render.
#[derive(Clone)]
pub struct Routes {
    inner: Arc<Inner>,
}

struct Inner {
    routes: Vec<(RouteKind, Destination)>,
    zone: Tz,
    shanghai: ShanghaiConfig,
    policy: RetryPolicy,
    stats: Arc<OutboxStats>,
}

impl Routes {
    /// The routes whose URL is set in `settings`.
    pub fn from_settings(settings: &Settings) -> Result<Routes> {
        let o = &settings.outbox;
        let configs = [
            (
                RouteKind::Provincial,
                &settings.provincial_url,
                &o.provincial_token,
            ),
            (
                RouteKind::Shanghai,
                &settings.shanghai_url,
                &o.shanghai_token,
            ),
            (RouteKind::Fhir, &settings.fhir_url, &o.fhir_token),
        ]
        .into_iter()
        .filter_map(|(kind, url, bearer)| {
            url.as_ref().map(|url| RouteConfig {
                kind,
                url: url.clone(),
                bearer: bearer.clone(),
                timeout: o.timeout,
            })
        })
        .collect();
        Routes::new(configs, settings.timezone, o.policy)
    }

    pub fn new(configs: Vec<RouteConfig>, zone: Tz, policy: RetryPolicy) -> Result<Routes> {
        let mut routes = Vec::new();
        for c in configs {
            let sender = Sender::new(SenderConfig {
                timeout: c.timeout,
                bearer: c.bearer,
                ..SenderConfig::default()
            })
            .with_context(|| format!("route {}", c.kind.name()))?;
            routes.push((
                c.kind,
                Destination {
                    route: c.kind.name().to_string(),
                    url: c.url,
                    sender,
                },
            ));
        }
        Ok(Routes {
            inner: Arc::new(Inner {
                routes,
                zone,
                shanghai: ShanghaiConfig::default(),
                policy,
                stats: Arc::new(OutboxStats::default()),
            }),
        })
    }

    pub fn stats(&self) -> Arc<OutboxStats> {
        self.inner.stats.clone()
    }

    pub fn zone(&self) -> Tz {
        self.inner.zone
    }

    pub fn has(&self, kind: RouteKind) -> bool {
        self.inner.routes.iter().any(|(k, _)| *k == kind)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.inner.routes.iter().map(|(k, _)| k.name()).collect()
    }

    /// One delivery task per route.
    pub fn spawn_deliveries(
        &self,
        store: &Store,
        shutdown: &watch::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        self.inner
            .routes
            .iter()
            .map(|(_, destination)| {
                let delivery = RouteDelivery {
                    store: store.clone(),
                    destination: destination.clone(),
                    policy: self.inner.policy,
                    stats: self.inner.stats.clone(),
                };
                // One process at a time delivers a route (PostgreSQL
                // advisory lock; no lock on SQLite): `crate::singleton`.
                let name = format!("outbox:{}", delivery.destination.route);
                tokio::spawn(crate::singleton::exclusive(
                    store.clone(),
                    name,
                    shutdown.clone(),
                    move |stop| {
                        RouteDelivery {
                            store: delivery.store.clone(),
                            destination: delivery.destination.clone(),
                            policy: delivery.policy,
                            stats: delivery.stats.clone(),
                        }
                        .run(stop)
                    },
                ))
            })
            .collect()
    }

    /// Makes waiver decisions queue their provincial messages in their own
    /// transaction.
    pub fn install_waiver_routing(&self, store: &Store) {
        if self.has(RouteKind::Provincial) {
            let zone = self.inner.zone;
            store
                .outbox_hooks()
                .set_waiver_routing(Arc::new(move |event| waivers::items(event, zone)));
        }
    }

    fn envelope(&self, key: &str) -> Envelope {
        Envelope {
            message_id: key.to_string(),
            sender: SENDER_ID.to_string(),
            sent_at: now_in(self.inner.zone),
        }
    }

    /// The items of one daily-submission version, one per route. A route
    /// whose build step fails is left out and logged (its error is about
    /// our data, not the receiver, and must not hold back the others).
    pub async fn daily_items(&self, store: &Store, s: &DailySubmission) -> Result<Vec<NewItem>> {
        let key = format!("daily:{}:{}:v{}", s.hospital, s.date, s.version);
        let mut items = Vec::new();
        for (kind, _) in &self.inner.routes {
            let rendered: Result<Rendered> = match kind {
                RouteKind::Provincial => Ok(formats::provincial_daily(s, &self.envelope(&key))),
                RouteKind::Shanghai => {
                    let day = shanghai_records::day_records(store, self.inner.zone, s).await?;
                    formats::shanghai_daily(&day, &self.inner.shanghai, &self.envelope(&key))
                        .map_err(|e| anyhow::anyhow!("{e:?}"))
                }
                RouteKind::Fhir => formats::fhir_daily(s).map_err(anyhow::Error::from),
            };
            match rendered {
                Ok(r) => items.push(item(*kind, &key, Some(&s.hospital), r)),
                Err(e) => tracing::error!(
                    route = kind.name(), hospital = %s.hospital, date = %s.date,
                    version = s.version, error = %e,
                    "daily submission not rendered for this route"
                ),
            }
        }
        Ok(items)
    }

    /// Queues one daily-submission version on every route; returns what
    /// was queued (`None` id: queued before).
    pub async fn route_daily(
        &self,
        store: &Store,
        s: &DailySubmission,
    ) -> Result<Vec<(NewItem, Option<i64>)>> {
        let items = self.daily_items(store, s).await?;
        let ids = store.enqueue(&items).await?;
        Ok(items.into_iter().zip(ids).collect())
    }

    /// The provincial stock snapshot of `hospital` now (`None`: no
    /// provincial route, or no such hospital).
    pub async fn stock_item(&self, store: &Store, hospital: &str) -> Result<Option<NewItem>> {
        if !self.has(RouteKind::Provincial) {
            return Ok(None);
        }
        let view = crate::daily::current_stock(
            store,
            &crate::daily::StockFilter {
                hospital: Some(hospital.to_string()),
                ..Default::default()
            },
        )
        .await?;
        let Some(h) = view.hospitals.into_iter().find(|h| h.hospital == hospital) else {
            return Ok(None);
        };
        let at = now_in(self.inner.zone);
        let snapshot = hemobridge_outbound::provincial::StockSnapshot {
            hospital: hospital.to_string(),
            at,
            last_reported_at: h
                .last_report_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()),
            items: h
                .items
                .into_iter()
                .map(|i| hemobridge_outbound::provincial::StockItem {
                    product: i.product,
                    category: i.category,
                    abo: i.abo,
                    rh: i.rh,
                    quantity: i.quantity,
                    measure: i.measure,
                })
                .collect(),
        };
        let key = format!("stock:{hospital}:{}", at.timestamp_millis());
        let rendered = formats::provincial_stock(&snapshot, &self.envelope(&key));
        Ok(Some(item(
            RouteKind::Provincial,
            &key,
            Some(hospital),
            rendered,
        )))
    }
}

fn item(kind: RouteKind, key: &str, hospital: Option<&str>, r: Rendered) -> NewItem {
    NewItem {
        route: kind.name().to_string(),
        kind: r.kind.to_string(),
        key: key.to_string(),
        hospital: hospital.map(str::to_owned),
        content_type: r.content_type.to_string(),
        body: r.body,
    }
}

/// Now, with the zone's offset (whole seconds, as the formats write).
fn now_in(zone: Tz) -> chrono::DateTime<FixedOffset> {
    let now = Utc::now();
    let now = now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos()));
    now.with_timezone(&zone).fixed_offset()
}
