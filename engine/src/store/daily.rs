//! The SQL behind daily submissions and the stock view. Every figure is
//! aggregated in the database (GROUP BY over one hospital's events of one
//! day, or a window over its units' last movements), so the cost grows with
//! the number of groups, not of events handed to Rust.

use super::{Backend, RowExt, Store};
use anyhow::{Context, Result};
use sqlx::Row;

/// A unit's quantity in its product's measure: the stored quantity, else
/// the volume for products counted in mL, else one.
const QUANTITY: &str = "COALESCE(u.quantity, CASE WHEN u.measure = 'mL' \
     THEN CAST(u.volume_ml AS DOUBLE PRECISION) END, 1.0)";

/// The kinds that move a unit into or out of a blood bank.
const MOVEMENT_KINDS: &str =
    "('received', 'issued', 'returned', 'transfused', 'transferred', 'discarded')";
/// A movement as `at_ms * 8 + rank`: the MAX per unit is its last movement
/// (two at the same millisecond in chain order), and `% 8` tells its kind:
/// 1 received, 2 issued, 3 returned, 4 transfused, 5 transferred,
/// 6 discarded. Other kinds give NULL, which MAX ignores.
const LAST_MOVE_KEY: &str = "CASE kind WHEN 'received' THEN at_ms * 8 + 1 \
     WHEN 'issued' THEN at_ms * 8 + 2 WHEN 'returned' THEN at_ms * 8 + 3 \
     WHEN 'transfused' THEN at_ms * 8 + 4 WHEN 'transferred' THEN at_ms * 8 + 5 \
     WHEN 'discarded' THEN at_ms * 8 + 6 END";

/// One (product, ABO, RhD) group's movements in a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MovementRow {
    pub product: String,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub received: f64,
    pub crossmatched: f64,
    pub issued: f64,
    pub transfused: f64,
    pub returned: f64,
    pub discarded: f64,
    pub transferred: f64,
    /// In stock at the period's end.
    pub stock: f64,
}

/// A quantity of one group (stock computed or reported).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupQuantity {
    pub facility: String,
    pub product: String,
    pub abo: Option<String>,
    pub rh: Option<String>,
    pub quantity: f64,
}

/// Reactions of one source type, national category and severity.
#[derive(Debug, Clone, PartialEq)]
pub struct ReactionRow {
    pub category: Option<String>,
    pub source_type: Option<String>,
    pub severity: Option<String>,
    pub count: i64,
}

/// Discards of one product for one stated reason.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscardRow {
    pub product: String,
    pub reason: Option<String>,
    pub quantity: f64,
}

/// A stored version of a day.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub version: i64,
    pub body: String,
}

/// One hospital's last stock report.
#[derive(Debug, Clone)]
pub struct LastReport {
    pub facility: String,
    pub at_text: String,
    pub items: Vec<GroupQuantity>,
}

/// A per-category threshold: below `low` is low, from `high` up is high.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub facility: String,
    pub category: String,
    pub low: f64,
    pub high: f64,
}

fn real(row: &sqlx::any::AnyRow, col: &str) -> f64 {
    row.try_get::<Option<f64>, _>(col)
        .ok()
        .flatten()
        .or_else(|| {
            row.try_get::<Option<i64>, _>(col)
                .ok()
                .flatten()
                .map(|v| v as f64)
        })
        .unwrap_or(0.0)
}

impl Store {
    /// A JSON text field of `events.detail`, in this database's dialect.
    fn detail_field(&self, field: &str) -> String {
        match self.backend() {
            Backend::Sqlite => format!("json_extract(e.detail, '$.{field}')"),
            Backend::Postgres => format!("(e.detail::json ->> '{field}')"),
        }
    }

    /// Movements at `facility` with `from_ms <= at < to_ms`, and the stock
    /// at `to_ms`, per group, in one pass over the facility's events:
    /// first per unit (counts of each kind in the day; its last movement
    /// before the end, encoded as `at_ms * 8 + rank` so MAX finds it), then
    /// per group with the unit's quantity. Groups with no figure at all
    /// (units that left before the day) are dropped by the caller.
    pub async fn daily_movements(
        &self,
        facility: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<MovementRow>> {
        let kinds = [
            "received",
            "crossmatched",
            "issued",
            "transfused",
            "returned",
            "discarded",
            "transferred",
        ];
        let per_unit: Vec<String> = kinds
            .iter()
            .map(|k| {
                format!("SUM(CASE WHEN kind = '{k}' AND at_ms >= $2 THEN 1 ELSE 0 END) AS n_{k}")
            })
            .collect();
        let per_group: Vec<String> = kinds
            .iter()
            .map(|k| format!("SUM(x.n_{k} * {QUANTITY}) AS {k}"))
            .collect();
        let sql = format!(
            "SELECT x.product AS product, u.abo AS abo, u.rh AS rh, {}, \
             SUM(CASE WHEN x.last_move % 8 IN (1, 3) THEN {QUANTITY} ELSE 0.0 END) AS stock \
             FROM (SELECT din, product, {}, MAX({LAST_MOVE_KEY}) AS last_move \
               FROM events WHERE facility = $1 AND at_ms < $3 GROUP BY din, product) x \
             JOIN units u ON u.din = x.din AND u.product = x.product \
             GROUP BY x.product, u.abo, u.rh",
            per_group.join(", "),
            per_unit.join(", "),
        );
        let rows = sqlx::query(&sql)
            .bind(facility)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(self.pool())
            .await
            .context("daily movements")?;
        Ok(rows
            .iter()
            .map(|r| MovementRow {
                product: r.text("product").unwrap_or_default(),
                abo: r.text("abo"),
                rh: r.text("rh"),
                received: real(r, "received"),
                crossmatched: real(r, "crossmatched"),
                issued: real(r, "issued"),
                transfused: real(r, "transfused"),
                returned: real(r, "returned"),
                discarded: real(r, "discarded"),
                transferred: real(r, "transferred"),
                stock: real(r, "stock"),
            })
            .collect())
    }

    /// Distinct patients with a transfusion at `facility` in the period.
    pub async fn patients_transfused(
        &self,
        facility: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<u64> {
        let row = sqlx::query(
            "SELECT COUNT(DISTINCT patient_key) AS n FROM events \
             WHERE facility = $1 AND kind = 'transfused' AND at_ms >= $2 AND at_ms < $3 \
             AND patient_key IS NOT NULL",
        )
        .bind(facility)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_one(self.pool())
        .await?;
        Ok(row.int("n").unwrap_or(0).max(0) as u64)
    }

    /// Reactions at `facility` in the period, by what the source said.
    pub async fn daily_reactions(
        &self,
        facility: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<ReactionRow>> {
        let (category, source, severity) = (
            self.detail_field("reactionCategory"),
            self.detail_field("reactionType"),
            self.detail_field("severity"),
        );
        let sql = format!(
            "SELECT {category} AS category, {source} AS source_type, {severity} AS severity, \
             COUNT(*) AS n FROM events e \
             WHERE e.facility = $1 AND e.kind = 'reaction' AND e.at_ms >= $2 AND e.at_ms < $3 \
             GROUP BY {category}, {source}, {severity}"
        );
        let rows = sqlx::query(&sql)
            .bind(facility)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(self.pool())
            .await
            .context("daily reactions")?;
        Ok(rows
            .iter()
            .map(|r| ReactionRow {
                category: r.text("category"),
                source_type: r.text("source_type"),
                severity: r.text("severity"),
                count: r.int("n").unwrap_or(0),
            })
            .collect())
    }

    /// Discards at `facility` in the period, by product and stated reason.
    pub async fn daily_discards(
        &self,
        facility: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<DiscardRow>> {
        let reason = self.detail_field("reason");
        let sql = format!(
            "SELECT e.product AS product, {reason} AS reason, SUM({QUANTITY}) AS quantity \
             FROM events e JOIN units u ON u.din = e.din AND u.product = e.product \
             WHERE e.facility = $1 AND e.kind = 'discarded' AND e.at_ms >= $2 AND e.at_ms < $3 \
             GROUP BY e.product, {reason}"
        );
        let rows = sqlx::query(&sql)
            .bind(facility)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(self.pool())
            .await
            .context("daily discards")?;
        Ok(rows
            .iter()
            .map(|r| DiscardRow {
                product: r.text("product").unwrap_or_default(),
                reason: r.text("reason"),
                quantity: real(r, "quantity"),
            })
            .collect())
    }

    /// Stock implied by the events before `to_ms`: every unit whose last
    /// movement at its facility is `received` or `returned` is on the
    /// shelf. `facility` = `None` computes every facility at once.
    pub async fn computed_stock(
        &self,
        facility: Option<&str>,
        to_ms: i64,
    ) -> Result<Vec<GroupQuantity>> {
        let filter = if facility.is_some() {
            "AND facility = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT x.facility AS facility, u.product AS product, u.abo AS abo, u.rh AS rh, \
             SUM({QUANTITY}) AS quantity FROM ( \
               SELECT facility, din, product, MAX({LAST_MOVE_KEY}) AS last_move \
               FROM events WHERE at_ms < $1 AND kind IN {MOVEMENT_KINDS} {filter} \
               GROUP BY facility, din, product \
             ) x JOIN units u ON u.din = x.din AND u.product = x.product \
             WHERE x.last_move % 8 IN (1, 3) \
             GROUP BY x.facility, u.product, u.abo, u.rh"
        );
        let mut query = sqlx::query(&sql).bind(to_ms);
        if let Some(f) = facility {
            query = query.bind(f);
        }
        let rows = query
            .fetch_all(self.pool())
            .await
            .context("computed stock")?;
        Ok(rows.iter().map(group_quantity).collect())
    }

    /// The items of `facility`'s last stock report in `[from_ms, to_ms)`.
    pub async fn reported_stock(
        &self,
        facility: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Option<Vec<GroupQuantity>>> {
        let report = sqlx::query(
            "SELECT id FROM stock_reports WHERE facility = $1 AND at_ms >= $2 AND at_ms < $3 \
             ORDER BY at_ms DESC LIMIT 1",
        )
        .bind(facility)
        .bind(from_ms)
        .bind(to_ms)
        .fetch_optional(self.pool())
        .await?;
        let Some(report) = report else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT product, abo, rh, SUM(quantity) AS quantity \
             FROM stock_items WHERE report_id = $1 GROUP BY product, abo, rh",
        )
        .bind(report.int("id").unwrap_or(0))
        .fetch_all(self.pool())
        .await?;
        let mut items: Vec<GroupQuantity> = rows.iter().map(group_quantity).collect();
        for item in &mut items {
            item.facility = facility.to_string();
        }
        Ok(Some(items))
    }

    /// Each facility's latest stock report (all facilities, or one).
    pub async fn last_reports(&self, facility: Option<&str>) -> Result<Vec<LastReport>> {
        let filter = if facility.is_some() {
            "WHERE s.facility = $1"
        } else {
            ""
        };
        let sql = format!(
            "SELECT s.facility AS facility, s.at_text AS at_text, i.product AS product, \
             i.abo AS abo, i.rh AS rh, i.quantity AS quantity \
             FROM stock_reports s \
             JOIN (SELECT facility, MAX(at_ms) AS at_ms FROM stock_reports GROUP BY facility) l \
               ON l.facility = s.facility AND l.at_ms = s.at_ms \
             LEFT JOIN stock_items i ON i.report_id = s.id {filter} \
             ORDER BY s.facility"
        );
        let mut query = sqlx::query(&sql);
        if let Some(f) = facility {
            query = query.bind(f);
        }
        let rows = query.fetch_all(self.pool()).await?;
        let mut out: Vec<LastReport> = Vec::new();
        for r in &rows {
            let code = r.text("facility").unwrap_or_default();
            if out.last().map(|l| l.facility != code).unwrap_or(true) {
                out.push(LastReport {
                    facility: code.clone(),
                    at_text: r.text("at_text").unwrap_or_default(),
                    items: Vec::new(),
                });
            }
            if let Some(product) = r.text("product") {
                let last = out.last_mut().expect("pushed above");
                last.items.push(GroupQuantity {
                    facility: code,
                    product,
                    abo: r.text("abo"),
                    rh: r.text("rh"),
                    quantity: real(r, "quantity"),
                });
            }
        }
        Ok(out)
    }

    /// Codes of registered hospitals, sorted.
    pub async fn hospital_codes(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT code FROM facilities WHERE kind = 'hospital' ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().filter_map(|r| r.text("code")).collect())
    }

    /// Hospitals with no stored message (other than a refused one) received
    /// in `[from_ms, until_ms)`.
    pub async fn silent_hospitals(&self, from_ms: i64, until_ms: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT f.code AS code FROM facilities f WHERE f.kind = 'hospital' AND NOT EXISTS ( \
               SELECT 1 FROM messages m WHERE m.facility = f.code AND m.received_at >= $1 \
               AND m.received_at < $2 AND m.status <> 'rejected') \
             ORDER BY f.code",
        )
        .bind(from_ms)
        .bind(until_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().filter_map(|r| r.text("code")).collect())
    }

    /// Whether `facility` sent any message (not refused) in the period.
    pub async fn sent_between(&self, facility: &str, from_ms: i64, until_ms: i64) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM messages WHERE facility = $1 AND received_at >= $2 \
             AND received_at < $3 AND status <> 'rejected'",
        )
        .bind(facility)
        .bind(from_ms)
        .bind(until_ms)
        .fetch_one(self.pool())
        .await?;
        Ok(row.int("n").unwrap_or(0) > 0)
    }

    /// The latest stored version of a day, or the one asked for.
    pub async fn daily_version(
        &self,
        hospital: &str,
        day: &str,
        version: Option<i64>,
    ) -> Result<Option<StoredVersion>> {
        let row = match version {
            Some(v) => {
                sqlx::query(
                    "SELECT version, body FROM daily_submissions \
                     WHERE hospital = $1 AND day = $2 AND version = $3",
                )
                .bind(hospital)
                .bind(day)
                .bind(v)
                .fetch_optional(self.pool())
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT version, body FROM daily_submissions \
                     WHERE hospital = $1 AND day = $2 ORDER BY version DESC LIMIT 1",
                )
                .bind(hospital)
                .bind(day)
                .fetch_optional(self.pool())
                .await?
            }
        };
        Ok(row.map(|r| StoredVersion {
            version: r.int("version").unwrap_or(0),
            body: r.text("body").unwrap_or_default(),
        }))
    }

    /// Stores a version; `false` when that version number already exists
    /// (a concurrent recorder won). Versions are never updated.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_daily_version(
        &self,
        hospital: &str,
        day: &str,
        version: i64,
        status: &str,
        span: (i64, i64),
        computed_at_ms: i64,
        body: &str,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "INSERT INTO daily_submissions (hospital, day, version, status, start_ms, end_ms, \
             computed_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (hospital, day, version) DO NOTHING",
        )
        .bind(hospital)
        .bind(day)
        .bind(version)
        .bind(status)
        .bind(span.0)
        .bind(span.1)
        .bind(computed_at_ms)
        .bind(body)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// (hospital, day) of every recorded day that received an event, or a
    /// stock report, recorded after `since_ms`.
    pub async fn days_touched_since(&self, since_ms: i64) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT DISTINCT d.hospital AS hospital, d.day AS day FROM events e \
             JOIN daily_submissions d ON d.hospital = e.facility \
               AND e.at_ms >= d.start_ms AND e.at_ms < d.end_ms \
             WHERE e.recorded_at > $1 \
             UNION \
             SELECT DISTINCT d.hospital AS hospital, d.day AS day FROM stock_reports s \
             JOIN messages m ON m.id = s.message_id \
             JOIN daily_submissions d ON d.hospital = s.facility \
               AND s.at_ms >= d.start_ms AND s.at_ms < d.end_ms \
             WHERE m.processed_at > $1 \
             ORDER BY hospital, day",
        )
        .bind(since_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.text("hospital").unwrap_or_default(),
                    r.text("day").unwrap_or_default(),
                )
            })
            .collect())
    }

    /// Stock thresholds: the defaults (`facility = '*'`) and every override.
    pub async fn stock_thresholds(&self) -> Result<Vec<Threshold>> {
        let rows = sqlx::query("SELECT facility, category, low, high FROM stock_thresholds")
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(|r| Threshold {
                facility: r.text("facility").unwrap_or_default(),
                category: r.text("category").unwrap_or_default(),
                low: real(r, "low"),
                high: real(r, "high"),
            })
            .collect())
    }

    /// Sets one facility's threshold for a category (`'*'`: the default).
    pub async fn set_stock_threshold(&self, t: &Threshold) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO stock_thresholds (facility, category, low, high) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (facility, category) DO UPDATE SET low = excluded.low, high = excluded.high",
        )
        .bind(&t.facility)
        .bind(&t.category)
        .bind(t.low)
        .bind(t.high)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

fn group_quantity(r: &sqlx::any::AnyRow) -> GroupQuantity {
    GroupQuantity {
        facility: r.text("facility").unwrap_or_default(),
        product: r.text("product").unwrap_or_default(),
        abo: r.text("abo"),
        rh: r.text("rh"),
        quantity: real(r, "quantity"),
    }
}
