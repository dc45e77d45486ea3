//! Applying normalized facts. Every write is keyed by the fact's natural key
//! (patient: hospital + key; unit: DIN + product; event: its natural key;
//! stock report: facility + moment; donation: DIN), so that applying the same
//! message twice (a redelivery, a replay) changes nothing the second time.

use super::{bulk, now_ms, Backend, Store};
use anyhow::Result;
use hemobridge_canonical::{BloodUnit, Normalized, Patient, UnitEvent};
use hemobridge_document::{Donation, StockReport};
use sqlx::{Any, Transaction};
use std::collections::HashMap;

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

/// One message's outcome, borrowed, as the batch apply reads it.
type Item<'a> = (i64, &'a str, &'a Outcome);

impl Store {
    /// Applies each message's facts and marks it processed, all in one
    /// transaction (one sync for the batch). The facts of the whole batch
    /// go in a handful of multi-row statements, not a few per message.
    pub async fn apply_batch(&self, batch: &[(i64, String, Outcome)]) -> Result<()> {
        let items: Vec<Item> = batch
            .iter()
            .map(|(id, channel, outcome)| (*id, channel.as_str(), outcome))
            .collect();
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        self.apply_items(&mut tx, &items).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The same for one message (the fallback when a batch fails, so that
    /// one bad message cannot hold back the others).
    pub async fn apply_one(&self, id: i64, channel: &str, outcome: &Outcome) -> Result<()> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool().begin().await?;
        self.apply_items(&mut tx, &[(id, channel, outcome)]).await?;
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

    /// Writes the batch's facts with the same result as applying the
    /// messages one after another: rows for one natural key are merged in
    /// message order first (a later source's known attribute wins, as the
    /// `COALESCE` upserts do), events keep the first message that reported
    /// them.
    async fn apply_items(
        &self,
        tx: &mut Transaction<'static, Any>,
        items: &[Item<'_>],
    ) -> Result<()> {
        let now = now_ms();
        let applied: Vec<(i64, &str, &Facts)> = items
            .iter()
            .filter_map(|&(id, channel, outcome)| match outcome {
                Outcome::Applied(facts) => Some((id, channel, facts)),
                Outcome::Failed(_) => None,
            })
            .collect();

        let patients = merge_patients(
            self,
            applied
                .iter()
                .flat_map(|(_, _, f)| f.normalized.patients.iter()),
        );
        for chunk in patients.chunks(bulk::MAX_ROWS) {
            upsert_patients(tx, self.backend(), chunk, now).await?;
        }
        let units = merge_units(
            applied
                .iter()
                .flat_map(|(_, _, f)| f.normalized.units.iter()),
        );
        for chunk in units.chunks(bulk::MAX_ROWS) {
            upsert_units(tx, self.backend(), chunk, now).await?;
        }
        let events: Vec<(&UnitEvent, i64, &str)> = applied
            .iter()
            .flat_map(|&(id, channel, f)| f.normalized.events.iter().map(move |e| (e, id, channel)))
            .collect();
        for chunk in events.chunks(bulk::MAX_ROWS) {
            insert_events(tx, self.backend(), chunk, now).await?;
        }
        for &(id, _, facts) in &applied {
            self.write_stock(tx, id, &facts.stock).await?;
            self.write_donations(tx, id, &facts.donations).await?;
        }

        let ok: Vec<i64> = applied.iter().map(|(id, _, _)| *id).collect();
        for chunk in ok.chunks(bulk::MAX_ROWS) {
            let backend = self.backend();
            let sql = format!(
                "UPDATE messages SET status = 'ok', processed_at = {}, \
                 attempts = attempts + 1 WHERE id IN ({})",
                bulk::param(backend, 1),
                bulk::list(backend, chunk.len(), 2)
            );
            let mut update = sqlx::query(&sql).bind(now);
            for id in chunk {
                update = update.bind(id);
            }
            update.execute(&mut **tx).await?;
        }
        for &(id, _, outcome) in items {
            if let Outcome::Failed(errors) = outcome {
                sqlx::query(
                    "UPDATE messages SET status = 'error', errors = $1, processed_at = $2, \
                     attempts = attempts + 1 WHERE id = $3",
                )
                .bind(errors)
                .bind(now)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }
}

/// A patient row as stored (names and ID numbers already encrypted).
struct PatientRow {
    facility: String,
    key: String,
    id_type: Option<String>,
    id_enc: Option<String>,
    id_mac: Option<String>,
    name_enc: Option<String>,
    sex: Option<String>,
    birth_date: Option<String>,
    abo: Option<&'static str>,
    rh: Option<&'static str>,
}

impl PatientRow {
    fn new(store: &Store, p: &Patient) -> PatientRow {
        let vault = store.vault();
        PatientRow {
            facility: p.facility.clone(),
            key: p.key.clone(),
            id_type: p.id_type.and_then(|t| {
                serde_json::to_value(t)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
            }),
            id_enc: p.id_number.as_ref().map(|v| vault.encrypt(v.expose())),
            id_mac: p.id_number.as_ref().map(|v| vault.lookup_hash(v.expose())),
            name_enc: p.name.as_ref().map(|v| vault.encrypt(v.expose())),
            sex: p.sex.map(|s| format!("{s:?}")),
            birth_date: p.birth_date.map(|d| d.to_string()),
            abo: p.blood_group.abo.map(|a| a.as_str()),
            rh: p.blood_group.rh.map(|r| r.as_str()),
        }
    }

    /// `later` applied after `self`: what it knows replaces, what it does
    /// not know is kept.
    fn merge(&mut self, later: PatientRow) {
        self.id_type = later.id_type.or(self.id_type.take());
        self.id_enc = later.id_enc.or(self.id_enc.take());
        self.id_mac = later.id_mac.or(self.id_mac.take());
        self.name_enc = later.name_enc.or(self.name_enc.take());
        self.sex = later.sex.or(self.sex.take());
        self.birth_date = later.birth_date.or(self.birth_date.take());
        self.abo = later.abo.or(self.abo);
        self.rh = later.rh.or(self.rh);
    }
}

fn merge_patients<'a>(
    store: &Store,
    patients: impl Iterator<Item = &'a Patient>,
) -> Vec<PatientRow> {
    let mut rows: Vec<PatientRow> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for p in patients {
        let row = PatientRow::new(store, p);
        match index.get(&(p.facility.clone(), p.key.clone())) {
            Some(&i) => rows[i].merge(row),
            None => {
                index.insert((p.facility.clone(), p.key.clone()), rows.len());
                rows.push(row);
            }
        }
    }
    rows
}

async fn upsert_patients(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[PatientRow],
    now: i64,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO patients (facility, patient_key, id_type, id_number_enc, id_number_mac, \
         name_enc, sex, birth_date, abo, rh, updated_at) VALUES {} \
         ON CONFLICT (facility, patient_key) DO UPDATE SET \
         id_type = COALESCE(excluded.id_type, patients.id_type), \
         id_number_enc = COALESCE(excluded.id_number_enc, patients.id_number_enc), \
         id_number_mac = COALESCE(excluded.id_number_mac, patients.id_number_mac), \
         name_enc = COALESCE(excluded.name_enc, patients.name_enc), \
         sex = COALESCE(excluded.sex, patients.sex), \
         birth_date = COALESCE(excluded.birth_date, patients.birth_date), \
         abo = COALESCE(excluded.abo, patients.abo), rh = COALESCE(excluded.rh, patients.rh), \
         updated_at = excluded.updated_at",
        bulk::values(backend, rows.len(), 11, 1)
    );
    let mut query = sqlx::query(&sql);
    for p in rows {
        query = query
            .bind(&p.facility)
            .bind(&p.key)
            .bind(&p.id_type)
            .bind(&p.id_enc)
            .bind(&p.id_mac)
            .bind(&p.name_enc)
            .bind(&p.sex)
            .bind(&p.birth_date)
            .bind(p.abo)
            .bind(p.rh)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// A unit row as stored.
struct UnitRow {
    din: String,
    product: &'static str,
    modifiers: Option<String>,
    abo: Option<&'static str>,
    rh: Option<&'static str>,
    volume_ml: Option<i64>,
    quantity: Option<f64>,
    measure: &'static str,
    expires: Option<String>,
    station: Option<String>,
    donor_key: Option<String>,
}

impl UnitRow {
    fn new(u: &BloodUnit) -> UnitRow {
        UnitRow {
            din: u.din.clone(),
            product: u.product.code(),
            modifiers: (!u.modifiers.is_empty())
                .then(|| serde_json::to_string(&u.modifiers).unwrap_or_default()),
            abo: u.abo.map(|a| a.as_str()),
            rh: u.rh.map(|r| r.as_str()),
            volume_ml: u.volume_ml.map(i64::from),
            quantity: u.quantity,
            measure: u.measure.as_str(),
            expires: u.expires.map(|e| e.to_rfc3339()),
            station: u.station.clone(),
            donor_key: u.donor_key.clone(),
        }
    }

    /// `later` applied after `self`. The measure is the first one's: the
    /// upsert never changes a unit's measure once stored.
    fn merge(&mut self, later: UnitRow) {
        self.modifiers = later.modifiers.or(self.modifiers.take());
        self.abo = later.abo.or(self.abo);
        self.rh = later.rh.or(self.rh);
        self.volume_ml = later.volume_ml.or(self.volume_ml);
        self.quantity = later.quantity.or(self.quantity);
        self.expires = later.expires.or(self.expires.take());
        self.station = later.station.or(self.station.take());
        self.donor_key = later.donor_key.or(self.donor_key.take());
    }
}

/// One row per (DIN, product): PostgreSQL refuses an upsert that touches
/// the same row twice in one statement.
fn merge_units<'a>(units: impl Iterator<Item = &'a BloodUnit>) -> Vec<UnitRow> {
    let mut rows: Vec<UnitRow> = Vec::new();
    let mut index: HashMap<(String, &'static str), usize> = HashMap::new();
    for u in units {
        let row = UnitRow::new(u);
        match index.get(&(row.din.clone(), row.product)) {
            Some(&i) => rows[i].merge(row),
            None => {
                index.insert((row.din.clone(), row.product), rows.len());
                rows.push(row);
            }
        }
    }
    rows
}

async fn upsert_units(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[UnitRow],
    now: i64,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO units (din, product, modifiers, abo, rh, volume_ml, quantity, measure, \
         expires, station, donor_key, updated_at) VALUES {} \
         ON CONFLICT (din, product) DO UPDATE SET \
         modifiers = COALESCE(excluded.modifiers, units.modifiers), \
         abo = COALESCE(excluded.abo, units.abo), rh = COALESCE(excluded.rh, units.rh), \
         volume_ml = COALESCE(excluded.volume_ml, units.volume_ml), \
         quantity = COALESCE(excluded.quantity, units.quantity), \
         expires = COALESCE(excluded.expires, units.expires), \
         station = COALESCE(excluded.station, units.station), \
         donor_key = COALESCE(excluded.donor_key, units.donor_key), \
         updated_at = excluded.updated_at",
        bulk::values(backend, rows.len(), 12, 1)
    );
    let mut query = sqlx::query(&sql);
    for u in rows {
        query = query
            .bind(&u.din)
            .bind(u.product)
            .bind(&u.modifiers)
            .bind(u.abo)
            .bind(u.rh)
            .bind(u.volume_ml)
            .bind(u.quantity)
            .bind(u.measure)
            .bind(&u.expires)
            .bind(&u.station)
            .bind(&u.donor_key)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Events in message order; a key seen before (stored earlier or earlier in
/// this statement) is skipped, so the first message that reported the fact
/// keeps it.
async fn insert_events(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    events: &[(&UnitEvent, i64, &str)],
    now: i64,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO events (event_key, din, product, kind, at_ms, at_text, facility, patient_key, \
         detail, message_id, channel, recorded_at) VALUES {} \
         ON CONFLICT (event_key) DO NOTHING",
        bulk::values(backend, events.len(), 12, 1)
    );
    let mut query = sqlx::query(&sql);
    for &(e, message_id, channel) in events {
        query = query
            .bind(e.natural_key())
            .bind(&e.unit.din)
            .bind(e.unit.product.code())
            .bind(e.kind.as_str())
            .bind(e.at.timestamp_millis())
            .bind(e.at.to_rfc3339())
            .bind(&e.facility)
            .bind(&e.patient_key)
            .bind(serde_json::to_string(&e.detail)?)
            .bind(message_id)
            .bind(channel)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}
