//! The delivery side's clocks:
//!
//! - **cut-off**: at `daily_cutoff` local time (default 02:00) the engine
//!   records yesterday's submission of every hospital and queues it on every
//!   route. A cut-off missed while the engine was down is caught up at
//!   start (recording is idempotent).
//! - **amendments**: every minute, days that got late events are recorded
//!   again (`daily::amend_changed`) and the new versions queued.
//! - **stock**: every minute, each hospital with new events or a new stock
//!   report since the last round gets one provincial stock snapshot (so at
//!   most one a minute per hospital).

use super::Routes;
use crate::daily;
use crate::store::outbox::NewItem;
use crate::store::{now_ms, RowExt, Store};
use anyhow::Result;
use chrono::{Duration as ChronoDuration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const ROUND: Duration = Duration::from_secs(60);

/// What `submit daily` queued: one line per item.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    pub id: Option<i64>,
    pub route: String,
    pub kind: String,
    pub key: String,
    pub hospital: Option<String>,
    pub version: u32,
    /// `false`: this item was queued before (nothing new).
    pub new: bool,
}

#[derive(Clone)]
pub struct Scheduler {
    pub store: Store,
    pub routes: Routes,
    pub zone: Tz,
    pub cutoff: NaiveTime,
}

impl Scheduler {
    pub fn spawn(self, shutdown: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
        // Each round runs in one process at a time (PostgreSQL advisory
        // lock; no lock on SQLite): `crate::singleton`.
        let (s1, s2, s3) = (self.clone(), self.clone(), self.clone());
        vec![
            tokio::spawn(crate::singleton::exclusive(
                self.store.clone(),
                "scheduler:cutoff".into(),
                shutdown.clone(),
                move |stop| s1.clone().cutoff_loop(stop),
            )),
            tokio::spawn(crate::singleton::exclusive(
                self.store.clone(),
                "scheduler:amendment".into(),
                shutdown.clone(),
                move |stop| s2.clone().amendment_loop(stop),
            )),
            tokio::spawn(crate::singleton::exclusive(
                self.store.clone(),
                "scheduler:stock".into(),
                shutdown.clone(),
                move |stop| s3.clone().stock_loop(stop),
            )),
        ]
    }

    /// Records `date` for one hospital or all, and queues the latest
    /// version on every route (again is a no-op: keys are per version).
    pub async fn submit_day(&self, date: NaiveDate, hospital: Option<&str>) -> Result<Vec<Queued>> {
        let hospitals = match hospital {
            Some(h) => vec![h.to_string()],
            None => daily::hospitals(&self.store).await?,
        };
        let mut queued = Vec::new();
        for h in hospitals {
            let recorded =
                daily::record(&self.store, self.zone, self.cutoff, &h, date, Utc::now()).await?;
            // Nothing new: queue the latest version anyway, in case the
            // engine stopped between recording it and queueing it.
            let submission = match recorded {
                Some(s) => Some(s),
                None => daily::get(&self.store, &h, date, None).await?,
            };
            if let Some(s) = submission {
                for (item, id) in self.routes.route_daily(&self.store, &s).await? {
                    queued.push(queued_line(item, id, s.version));
                }
            }
        }
        Ok(queued)
    }

    async fn cutoff_loop(self, mut shutdown: watch::Receiver<bool>) {
        let mut done: Option<NaiveDate> = None;
        loop {
            let now = Utc::now();
            let wait = match next_cutoff(self.zone, self.cutoff, now, done) {
                CutoffStep::Submit(date) => match self.submit_day(date, None).await {
                    Ok(q) => {
                        tracing::info!(date = %date, queued = q.iter().filter(|q| q.new).count(),
                            "daily submissions recorded and queued");
                        done = Some(date);
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(date = %date, error = %e,
                            "daily submissions failed; retrying in a minute");
                        ROUND
                    }
                },
                CutoffStep::Wait(wait) => wait,
            };
            tokio::select! {
                // Wake at least hourly: the clock may jump.
                _ = tokio::time::sleep(wait.min(Duration::from_secs(3600))) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }

    async fn amendment_loop(self, mut shutdown: watch::Receiver<bool>) {
        let mut since = now_ms() - 24 * 3600 * 1000;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(ROUND) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            let started = now_ms();
            match self.amend_once(since).await {
                Ok(_) => since = started,
                Err(e) => tracing::error!(error = %e, "amendments failed; retrying next round"),
            }
        }
    }

    /// Records and queues amendments for days changed since `since_ms`.
    pub async fn amend_once(&self, since_ms: i64) -> Result<Vec<Queued>> {
        let amended =
            daily::amend_changed(&self.store, self.zone, self.cutoff, since_ms, Utc::now()).await?;
        let mut queued = Vec::new();
        for s in amended {
            for (item, id) in self.routes.route_daily(&self.store, &s).await? {
                queued.push(queued_line(item, id, s.version));
            }
        }
        Ok(queued)
    }

    async fn stock_loop(self, mut shutdown: watch::Receiver<bool>) {
        let mut marks = StockMarks {
            events_since_ms: now_ms(),
            last_report_id: i64::MAX,
        };
        loop {
            tokio::select! {
                _ = tokio::time::sleep(ROUND) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            if let Err(e) = self.stock_once(&mut marks).await {
                tracing::error!(error = %e, "stock snapshots failed; retrying next round");
            }
        }
    }

    /// Queues a stock snapshot for each hospital changed since `marks`,
    /// and moves the marks on.
    pub async fn stock_once(&self, marks: &mut StockMarks) -> Result<Vec<NewItem>> {
        let started = now_ms();
        let report_row = sqlx::query("SELECT MAX(id) AS id FROM stock_reports")
            .fetch_one(self.store.pool())
            .await?;
        let max_report = report_row.int("id").unwrap_or(0);
        if marks.last_report_id == i64::MAX {
            marks.last_report_id = max_report;
        }
        let rows = sqlx::query(
            "SELECT DISTINCT facility FROM events WHERE recorded_at >= $1 \
             UNION SELECT DISTINCT facility FROM stock_reports WHERE id > $2",
        )
        .bind(marks.events_since_ms)
        .bind(marks.last_report_id)
        .fetch_all(self.store.pool())
        .await?;
        let mut items = Vec::new();
        for hospital in rows.iter().filter_map(|r| r.text("facility")) {
            if let Some(item) = self.routes.stock_item(&self.store, &hospital).await? {
                items.push(item);
            }
        }
        self.store.enqueue(&items).await?;
        marks.events_since_ms = started;
        marks.last_report_id = max_report;
        Ok(items)
    }
}

/// What the cut-off round does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutoffStep {
    /// Record and queue this day now (its cut-off has passed).
    Submit(NaiveDate),
    /// Nothing due: sleep this long (at least a second).
    Wait(Duration),
}

/// Yesterday (local) is due once its cut-off has passed and it is not
/// `done`; after that, the next due moment is today's cut-off tomorrow. At
/// start (`done` is `None`) the last day whose cut-off has passed is due.
pub fn next_cutoff(
    zone: Tz,
    cutoff: NaiveTime,
    now: chrono::DateTime<Utc>,
    done: Option<NaiveDate>,
) -> CutoffStep {
    let yesterday = daily::day::date_of(zone, now) - ChronoDuration::days(1);
    let now_ms = now.timestamp_millis();
    let due_ms = daily::day::cutoff_ms(zone, yesterday, cutoff);
    let until = if done == Some(yesterday) {
        daily::day::cutoff_ms(zone, yesterday + ChronoDuration::days(1), cutoff) - now_ms
    } else if now_ms >= due_ms {
        return CutoffStep::Submit(yesterday);
    } else if done.is_none() {
        // Just started before yesterday's cut-off: the day before may have
        // been missed while the engine was down (again is harmless).
        return CutoffStep::Submit(yesterday - ChronoDuration::days(1));
    } else {
        due_ms - now_ms
    };
    CutoffStep::Wait(Duration::from_millis(
        u64::try_from(until.max(1000)).unwrap_or(1000),
    ))
}

/// Where the stock round left off.
#[derive(Debug, Clone, Copy)]
pub struct StockMarks {
    pub events_since_ms: i64,
    /// `i64::MAX`: not yet read (start from the newest report).
    pub last_report_id: i64,
}

fn queued_line(item: NewItem, id: Option<i64>, version: u32) -> Queued {
    Queued {
        id,
        new: id.is_some(),
        route: item.route,
        kind: item.kind,
        key: item.key,
        hospital: item.hospital,
        version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cutoff_is_due_after_two_local_time_once() {
        let zone = chrono_tz::Asia::Shanghai;
        let cutoff = NaiveTime::from_hms_opt(2, 0, 0).unwrap();
        let at = |h: u32, m: u32| {
            zone.with_ymd_and_hms(2026, 11, 25, h, m, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        let nov24 = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let nov23 = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        // Started at 01:30 local: the 23rd's cut-off has passed (caught up
        // in case it was missed), then the 24th's is in 30 minutes.
        assert_eq!(
            next_cutoff(zone, cutoff, at(1, 30), None),
            CutoffStep::Submit(nov23)
        );
        // 02:00 and later: the 24th is due, until it is done.
        assert_eq!(
            next_cutoff(zone, cutoff, at(2, 0), None),
            CutoffStep::Submit(nov24)
        );
        assert_eq!(
            next_cutoff(zone, cutoff, at(9, 0), None),
            CutoffStep::Submit(nov24)
        );
        // Done: the next is the 25th's, at 02:00 on the 26th.
        assert_eq!(
            next_cutoff(zone, cutoff, at(9, 0), Some(nov24)),
            CutoffStep::Wait(Duration::from_secs(17 * 3600))
        );
        // Running at 01:30 with the 23rd done: wait.
        assert_eq!(
            next_cutoff(zone, cutoff, at(1, 30), Some(nov23)),
            CutoffStep::Wait(Duration::from_secs(30 * 60))
        );
    }
}
