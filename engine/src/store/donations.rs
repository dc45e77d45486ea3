//! Donations reported by blood stations (`Donation` records): the start of a
//! unit's chain and, later, the donor's entitlement to fee waivers.
//!
//! The donor's ID number and name are kept as patients' are (see
//! [`super::canonical`]): AES-256-GCM ciphertexts, plus a keyed hash of the
//! ID number so that a waiver claim can find the donor's donations without
//! the number being stored in clear. A donation's natural key is its DIN:
//! the first report of a donation is kept, a repeat writes nothing.

use super::Store;
use anyhow::Result;
use hemobridge_document::Donation;
use sqlx::{Any, Transaction};

impl Store {
    /// Writes the donations not yet recorded; each comes with the station
    /// that reported it.
    pub(crate) async fn write_donations(
        &self,
        tx: &mut Transaction<'static, Any>,
        message_id: i64,
        donations: &[(String, Donation)],
    ) -> Result<()> {
        let vault = self.vault();
        for (station, d) in donations {
            let id_enc = d
                .donor_id_number
                .as_ref()
                .map(|v| vault.encrypt(v.expose()));
            let id_mac = d
                .donor_id_number
                .as_ref()
                .map(|v| vault.lookup_hash(v.expose()));
            let name_enc = d.donor_name.as_ref().map(|v| vault.encrypt(v.expose()));
            sqlx::query(
                "INSERT INTO donations (din, donor_key, donor_id_mac, donor_id_enc, \
                 donor_name_enc, kind, volume_ml, at_ms, at_text, station, message_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (din) DO NOTHING",
            )
            .bind(&d.unit)
            .bind(&d.donor_key)
            .bind(id_mac)
            .bind(id_enc)
            .bind(name_enc)
            .bind(d.kind.as_str())
            .bind(i64::from(d.volume_ml))
            .bind(d.at.timestamp_millis())
            .bind(d.at.to_rfc3339())
            .bind(station)
            .bind(message_id)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}
