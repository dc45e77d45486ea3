//! A patient's name and ID number, decrypted only to be masked at once:
//! regulators and admins see `张*丰` and `3201**********1234`, never the
//! values. Nothing here is logged.

use crate::store::{RowExt, Store};
use anyhow::Result;
use hemobridge_canonical::ids::{mask_id_number, mask_name};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct MaskedPatient {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub sex: Option<String>,
    pub abo: Option<String>,
    pub rh: Option<String>,
}

/// The masked identity of a hospital's patient, `None` when the hospital
/// never sent the patient's details.
pub async fn masked_patient(
    store: &Store,
    hospital: &str,
    patient_key: &str,
) -> Result<Option<MaskedPatient>> {
    let row = sqlx::query(
        "SELECT name_enc, id_number_enc, sex, abo, rh FROM patients \
         WHERE facility = $1 AND patient_key = $2",
    )
    .bind(hospital)
    .bind(patient_key)
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    // A value that cannot be decrypted (a lost key) is shown as unknown
    // rather than failing the page.
    let open = |col: &str| {
        row.text(col)
            .and_then(|sealed| store.vault().decrypt(&sealed).ok())
    };
    Ok(Some(MaskedPatient {
        name: open("name_enc").map(|n| mask_name(&n)),
        id_number: open("id_number_enc").map(|n| mask_id_number(&n)),
        sex: row.text("sex"),
        abo: row.text("abo"),
        rh: row.text("rh"),
    }))
}
