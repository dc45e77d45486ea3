//! Applying normalized facts. Every write is keyed by the fact's natural key
//! (patient: hospital + key; unit: DIN + product; event: its natural key;
//! stock report: facility + moment; donation: DIN), so that applying the same
//! message twice (a redelivery, a replay) changes nothing the second time.

use super::{now_ms, Store};
use anyhow::Result;
use hemobridge_canonical::{Normalized, Patient, UnitEvent};
use hemobridge_document::{Donation, StockReport};
use sqlx::{Any, Transaction};

/// Everything one stored payload says, ready to apply. An HL7 message only
/// has unit facts; a document can also carry stock reports and donations,
/// which go to their own tables in the same transaction.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub normalized: Normalized,
    pub stock: Vec<StockReport>,
    /// Each donation with the station that reported it (the sending
    /// facility: a `Donation` record does not name its station).
    pub donations: Vec<(String, Donation)>,
}

impl From<Normalized> for Facts {
    fn from(normalized: Normalized) -> Self {
        Facts {
            normalized,
            ..Facts::default()
        }
    }
}

/// The outcome of processing one pending message.
#[derive(Debug)]
pub enum Outcome {
    Applied(Facts),
    /// Could not be processed: parked with these reasons (JSON array).
    Failed(String),
}

impl Store {
    /// Applies each message's facts and marks it processed, all in one
    /// transaction (one sync for the batch).
    pub async fn apply_batch(&self, batch: &[(i64, String, Outcome)]) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        for (id, channel, outcome) in batch {
            self.apply_in(&mut tx, *id, channel, outcome).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The same for one message (the fallback when a batch fails, so that
    /// one bad message cannot hold back the others).
    pub async fn apply_one(&self, id: i64, channel: &str, outcome: &Outcome) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        self.apply_in(&mut tx, id, channel, outcome).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Parks a message whose processing failed for a reason outside the
    /// message (e.g. a constraint the store enforces).
    pub async fn park(&self, id: i64, errors_json: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE messages SET status = 'error', errors = $1, processed_at = $2, \
             attempts = attempts + 1 WHERE id = $3",
        )
        .bind(errors_json)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn apply_in(
        &self,
        tx: &mut Transaction<'static, Any>,
        id: i64,
        channel: &str,
        outcome: &Outcome,
    ) -> Result<()> {
        let (status, errors) = match outcome {
            Outcome::Applied(facts) => {
                self.write_facts(tx, id, channel, &facts.normalized).await?;
                self.write_stock(tx, id, &facts.stock).await?;
                self.write_donations(tx, id, &facts.donations).await?;
                ("ok", None)
            }
            Outcome::Failed(errors) => ("error", Some(errors.as_str())),
        };
        sqlx::query(
            "UPDATE messages SET status = $1, errors = COALESCE($2, errors), processed_at = $3, \
             attempts = attempts + 1 WHERE id = $4",
        )
        .bind(status)
        .bind(errors)
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn write_facts(
        &self,
        tx: &mut Transaction<'static, Any>,
        message_id: i64,
        channel: &str,
        facts: &Normalized,
    ) -> Result<()> {
        let now = now_ms();
        for p in &facts.patients {
            self.upsert_patient(tx, p, now).await?;
        }
        for u in &facts.units {
            let modifiers = (!u.modifiers.is_empty())
                .then(|| serde_json::to_string(&u.modifiers).unwrap_or_default());
            sqlx::query(
                "INSERT INTO units (din, product, modifiers, abo, rh, volume_ml, quantity, measure, \
                 expires, station, donor_key, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (din, product) DO UPDATE SET \
                 modifiers = COALESCE(excluded.modifiers, units.modifiers), \
                 abo = COALESCE(excluded.abo, units.abo), rh = COALESCE(excluded.rh, units.rh), \
                 volume_ml = COALESCE(excluded.volume_ml, units.volume_ml), \
                 quantity = COALESCE(excluded.quantity, units.quantity), \
                 expires = COALESCE(excluded.expires, units.expires), \
                 station = COALESCE(excluded.station, units.station), \
                 donor_key = COALESCE(excluded.donor_key, units.donor_key), \
                 updated_at = excluded.updated_at",
            )
            .bind(&u.din)
            .bind(u.product.code())
            .bind(modifiers)
            .bind(u.abo.map(|a| a.as_str()))
            .bind(u.rh.map(|r| r.as_str()))
            .bind(u.volume_ml.map(i64::from))
            .bind(u.quantity)
            .bind(u.measure.as_str())
            .bind(u.expires.map(|e| e.to_rfc3339()))
            .bind(&u.station)
            .bind(&u.donor_key)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        for e in &facts.events {
            insert_event(tx, e, message_id, channel, now).await?;
        }
        Ok(())
    }

    async fn upsert_patient(
        &self,
        tx: &mut Transaction<'static, Any>,
        p: &Patient,
        now: i64,
    ) -> Result<()> {
        let vault = self.vault();
        let id_enc = p.id_number.as_ref().map(|v| vault.encrypt(v.expose()));
        let id_mac = p.id_number.as_ref().map(|v| vault.lookup_hash(v.expose()));
        let name_enc = p.name.as_ref().map(|v| vault.encrypt(v.expose()));
        let id_type = p.id_type.and_then(|t| {
            serde_json::to_value(t)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
        });
        let sex = p.sex.map(|s| format!("{s:?}"));
        sqlx::query(
            "INSERT INTO patients (facility, patient_key, id_type, id_number_enc, id_number_mac, \
             name_enc, sex, birth_date, abo, rh, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (facility, patient_key) DO UPDATE SET \
             id_type = COALESCE(excluded.id_type, patients.id_type), \
             id_number_enc = COALESCE(excluded.id_number_enc, patients.id_number_enc), \
             id_number_mac = COALESCE(excluded.id_number_mac, patients.id_number_mac), \
             name_enc = COALESCE(excluded.name_enc, patients.name_enc), \
             sex = COALESCE(excluded.sex, patients.sex), \
             birth_date = COALESCE(excluded.birth_date, patients.birth_date), \
             abo = COALESCE(excluded.abo, patients.abo), rh = COALESCE(excluded.rh, patients.rh), \
             updated_at = excluded.updated_at",
        )
        .bind(&p.facility)
        .bind(&p.key)
        .bind(id_type)
        .bind(id_enc)
        .bind(id_mac)
        .bind(name_enc)
        .bind(sex)
        .bind(p.birth_date.map(|d| d.to_string()))
        .bind(p.blood_group.abo.map(|a| a.as_str()))
        .bind(p.blood_group.rh.map(|r| r.as_str()))
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    e: &UnitEvent,
    message_id: i64,
    channel: &str,
    now: i64,
) -> Result<()> {
    let detail = serde_json::to_string(&e.detail)?;
    sqlx::query(
        "INSERT INTO events (event_key, din, product, kind, at_ms, at_text, facility, patient_key, \
         detail, message_id, channel, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (event_key) DO NOTHING",
    )
    .bind(e.natural_key())
    .bind(&e.unit.din)
    .bind(e.unit.product.code())
    .bind(e.kind.as_str())
    .bind(e.at.timestamp_millis())
    .bind(e.at.to_rfc3339())
    .bind(&e.facility)
    .bind(&e.patient_key)
    .bind(detail)
    .bind(message_id)
    .bind(channel)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
