//! `hemobridge_late_hospitals{date}`: the late list of the last closed day
//! (`daily::late`), cached for up to a minute so that a scrape every few
//! seconds does not run the query each time.

use crate::daily::late::{last_closed_day, late};
use crate::store::Store;
use chrono::{NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub const MAX_AGE: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct LateCache {
    last: Mutex<Option<(Instant, NaiveDate, usize)>>,
}

impl LateCache {
    /// The last closed day and how many hospitals were late for it.
    pub async fn get(
        &self,
        store: &Store,
        zone: Tz,
        cutoff: NaiveTime,
    ) -> anyhow::Result<(NaiveDate, usize)> {
        let date = last_closed_day(zone, cutoff, Utc::now());
        let mut last = self.last.lock().await;
        if let Some((at, cached_date, count)) = *last {
            if cached_date == date && at.elapsed() < MAX_AGE {
                return Ok((date, count));
            }
        }
        let count = late(store, zone, date, cutoff).await?.len();
        *last = Some((Instant::now(), date, count));
        Ok((date, count))
    }
}
