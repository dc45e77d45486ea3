//! Direct-waiver claims (用血费用直接减免): the decision against the donor's
//! ledger, with no double spending.
//!
//! Every decision or cancellation for a donor runs in one transaction whose
//! first statement writes the donor's row in `donor_ledgers`: on SQLite that
//! takes the database write lock at once (no read-then-upgrade `SQLITE_BUSY`),
//! on PostgreSQL it locks the donor's row. Then the donor's donations and
//! non-cancelled waivers are read, `hemobridge_waivers::decide` runs, and
//! the claim is stored with the answer as given, so that a repeated claim is
//! answered with its first decision. The donor is known only by the keyed
//! hash of the ID number (`donor_id_mac`).

use super::{now_ms, RowExt, Store};
use anyhow::Result;
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use hemobridge_waivers::{
    decide, Claim, Decision, Donation, DonationKind, DonorHistory, PriorWaiver, Relationship, Rule,
};
use serde_json::Value;
use sqlx::{Any, Transaction};
use std::time::Duration;

/// A claim as the engine decides it (the donor by hash only).
#[derive(Debug, Clone)]
pub struct WaiverRequest {
    pub hospital: String,
    pub claim_id: String,
    pub donor_id_mac: String,
    pub relationship: Relationship,
    pub blood_fee_fen: i64,
    pub volume_ml: u32,
    /// The decision time (the discharge).
    pub at: DateTime<FixedOffset>,
    pub patient_key: Option<String>,
}

/// A stored decision: the answer as first given, and the claim's status.
#[derive(Debug, Clone)]
pub struct StoredWaiver {
    pub answer: Value,
    pub status: String,
}

const ATTEMPTS: u32 = 8;

/// Busy, locked, serialization failure or deadlock: the whole transaction
/// may be tried again.
fn retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = db.message().to_ascii_lowercase();
            matches!(code.as_str(), "40001" | "40P01" | "5" | "6" | "261" | "517")
                || message.contains("database is locked")
                || message.contains("busy")
        }
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

async fn lock_donor(tx: &mut Transaction<'static, Any>, donor_id_mac: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO donor_ledgers (donor_id_mac, version) VALUES ($1, 1) \
         ON CONFLICT (donor_id_mac) DO UPDATE SET version = donor_ledgers.version + 1",
    )
    .bind(donor_id_mac)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn stored(
    tx: &mut Transaction<'static, Any>,
    hospital: &str,
    claim_id: &str,
) -> sqlx::Result<Option<StoredWaiver>> {
    let row = sqlx::query(
        "SELECT decision, status FROM waiver_claims WHERE hospital = $1 AND claim_id = $2",
    )
    .bind(hospital)
    .bind(claim_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.and_then(|r| {
        Some(StoredWaiver {
            answer: serde_json::from_str(&r.text("decision")?).ok()?,
            status: r.text("status")?,
        })
    }))
}

fn parse_time(text: &str, fallback_ms: i64) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|_| {
        Utc.timestamp_millis_opt(fallback_ms)
            .single()
            .unwrap_or_default()
            .fixed_offset()
    })
}

async fn history(
    tx: &mut Transaction<'static, Any>,
    donor_id_mac: &str,
) -> sqlx::Result<DonorHistory> {
    let mut donations = Vec::new();
    let rows = sqlx::query(
        "SELECT kind, volume_ml, at_ms, at_text FROM donations WHERE donor_id_mac = $1",
    )
    .bind(donor_id_mac)
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let kind = r
            .text("kind")
            .and_then(|k| k.parse::<DonationKind>().ok())
            .unwrap_or(DonationKind::WholeBlood);
        donations.push(Donation {
            at: parse_time(
                &r.text("at_text").unwrap_or_default(),
                r.int("at_ms").unwrap_or(0),
            ),
            volume_ml: u32::try_from(r.int("volume_ml").unwrap_or(0)).unwrap_or(0),
            kind,
        });
    }
    let mut waivers = Vec::new();
    let rows = sqlx::query(
        "SELECT hospital, claim_id, relationship, waived_ml, decided_at, created_at \
         FROM waiver_claims WHERE donor_id_mac = $1 AND status = 'granted' AND waived_ml > 0",
    )
    .bind(donor_id_mac)
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let Some(relationship) = r
            .text("relationship")
            .and_then(|v| v.parse::<Relationship>().ok())
        else {
            continue;
        };
        waivers.push(PriorWaiver {
            // Claim ids are unique per hospital only: qualify them, so that
            // another hospital's claim with the same id is never taken for
            // this claim's own earlier waiver.
            claim_id: format!(
                "{}\u{1f}{}",
                r.text("hospital").unwrap_or_default(),
                r.text("claim_id").unwrap_or_default()
            ),
            relationship,
            waived_ml: u32::try_from(r.int("waived_ml").unwrap_or(0)).unwrap_or(0),
            at: parse_time(
                &r.text("decided_at").unwrap_or_default(),
                r.int("created_at").unwrap_or(0),
            ),
        });
    }
    Ok(DonorHistory { donations, waivers })
}

impl Store {
    /// Decides `req` under `rule` (or returns the stored decision of the
    /// same hospital's claim id). `render` turns the decision into the
    /// answer that is stored and given. Retries on lock contention.
    pub async fn decide_waiver(
        &self,
        rule: &Rule,
        req: &WaiverRequest,
        render: &(dyn Fn(&Decision) -> Value + Sync),
    ) -> Result<StoredWaiver> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_decide(rule, req, render).await {
                Ok(v) => return Ok(v),
                Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn try_decide(
        &self,
        rule: &Rule,
        req: &WaiverRequest,
        render: &(dyn Fn(&Decision) -> Value + Sync),
    ) -> sqlx::Result<StoredWaiver> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        lock_donor(&mut tx, &req.donor_id_mac).await?;
        if let Some(found) = stored(&mut tx, &req.hospital, &req.claim_id).await? {
            tx.commit().await?;
            return Ok(found);
        }
        let history = history(&mut tx, &req.donor_id_mac).await?;
        let claim = Claim {
            claim_id: req.claim_id.clone(),
            relationship: req.relationship,
            blood_fee_fen: req.blood_fee_fen,
            volume_ml: req.volume_ml,
            items: Vec::new(),
        };
        let decision = decide(rule, &history, &claim, req.at);
        let answer = render(&decision);
        let inserted = sqlx::query(
            "INSERT INTO waiver_claims (hospital, claim_id, donor_id_mac, relationship, \
             blood_fee_fen, volume_ml, waived_ml, waived_fen, patient_pays_fen, decision, \
             rule_id, rule_version, status, decided_at, created_at, patient_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'granted', $13, $14, $15) \
             ON CONFLICT (hospital, claim_id) DO NOTHING RETURNING claim_id",
        )
        .bind(&req.hospital)
        .bind(&req.claim_id)
        .bind(&req.donor_id_mac)
        .bind(req.relationship.as_str())
        .bind(req.blood_fee_fen)
        .bind(i64::from(req.volume_ml))
        .bind(i64::from(decision.waived_ml))
        .bind(decision.waived_fen)
        .bind(decision.patient_pays_fen)
        .bind(answer.to_string())
        .bind(&decision.rule.id)
        .bind(&decision.rule.version)
        .bind(req.at.to_rfc3339())
        .bind(now_ms())
        .bind(req.patient_key.clone())
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            // The same claim id, decided meanwhile under another donor's
            // lock: the first decision stands.
            let found = stored(&mut tx, &req.hospital, &req.claim_id).await?;
            tx.commit().await?;
            return found.ok_or(sqlx::Error::RowNotFound);
        }
        // The provincial waiver-claim message, committed with the decision.
        let outbound = self
            .outbox_hooks()
            .waiver_items(&super::outbox::WaiverEvent::Decided {
                request: req,
                answer: &answer,
            });
        for item in &outbound {
            super::outbox::enqueue_in(&mut tx, item, now_ms()).await?;
        }
        tx.commit().await?;
        for item in &outbound {
            self.outbox_hooks().wake(&item.route);
        }
        Ok(StoredWaiver {
            answer,
            status: "granted".into(),
        })
    }

    /// A stored claim; `hospital` `None` (admin, regulator) finds it in any
    /// hospital.
    pub async fn waiver(
        &self,
        hospital: Option<&str>,
        claim_id: &str,
    ) -> Result<Option<StoredWaiver>> {
        let row = sqlx::query(
            "SELECT decision, status FROM waiver_claims \
             WHERE claim_id = $1 AND ($2 = '' OR hospital = $2) ORDER BY hospital LIMIT 1",
        )
        .bind(claim_id)
        .bind(hospital.unwrap_or(""))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.and_then(|r| {
            Some(StoredWaiver {
                answer: serde_json::from_str(&r.text("decision")?).ok()?,
                status: r.text("status")?,
            })
        }))
    }

    /// Cancels a hospital's claim (again is fine), restoring what it took:
    /// decisions count only non-cancelled waivers. `None` if no such claim.
    pub async fn cancel_waiver(
        &self,
        hospital: &str,
        claim_id: &str,
    ) -> Result<Option<StoredWaiver>> {
        let row = sqlx::query(
            "SELECT donor_id_mac FROM waiver_claims WHERE hospital = $1 AND claim_id = $2",
        )
        .bind(hospital)
        .bind(claim_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(donor_id_mac) = row.and_then(|r| r.text("donor_id_mac")) else {
            return Ok(None);
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_cancel(hospital, claim_id, &donor_id_mac).await {
                Ok(v) => return Ok(v),
                Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                    tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn try_cancel(
        &self,
        hospital: &str,
        claim_id: &str,
        donor_id_mac: &str,
    ) -> sqlx::Result<Option<StoredWaiver>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        lock_donor(&mut tx, donor_id_mac).await?;
        let cancelled_at = now_ms();
        let changed = sqlx::query(
            "UPDATE waiver_claims SET status = 'cancelled', cancelled_at = $3 \
             WHERE hospital = $1 AND claim_id = $2 AND status = 'granted'",
        )
        .bind(hospital)
        .bind(claim_id)
        .bind(cancelled_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // The provincial waiver-cancel message, only for the cancellation
        // that changed the claim, committed with it.
        let outbound = if changed > 0 {
            self.outbox_hooks()
                .waiver_items(&super::outbox::WaiverEvent::Cancelled {
                    hospital,
                    claim_id,
                    at_ms: cancelled_at,
                })
        } else {
            Vec::new()
        };
        for item in &outbound {
            super::outbox::enqueue_in(&mut tx, item, cancelled_at).await?;
        }
        let found = stored(&mut tx, hospital, claim_id).await?;
        tx.commit().await?;
        for item in &outbound {
            self.outbox_hooks().wake(&item.route);
        }
        Ok(found)
    }
}
