//! Facilities and bearer tokens. Tokens are stored as SHA-256 hashes: the
//! database never holds a usable credential.

use super::{now_ms, RowExt, Store};
use anyhow::Result;
use hemobridge_canonical::{Facility, FacilityKind};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Regulator,
    Hospital,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Regulator => "regulator",
            Role::Hospital => "hospital",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "regulator" => Some(Role::Regulator),
            "hospital" => Some(Role::Hospital),
            _ => None,
        }
    }
}

/// Who a bearer token speaks for. `facility` is set for hospital (and
/// station) tokens and limits what they see and may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    pub facility: Option<String>,
    /// Who, for the query audit log: the first 12 hex digits of the token's
    /// hash (never the token), or `bootstrap`.
    pub token_id: String,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random token: `hb_` and 32 bytes of base64url.
pub fn new_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "hb_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl Store {
    /// Registers or updates a facility; true when it was new.
    pub async fn upsert_facility(&self, f: &Facility) -> Result<bool> {
        let existed = self.facility(&f.code).await?.is_some();
        sqlx::query(
            "INSERT INTO facilities (code, name, kind, region, province, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
             region = COALESCE(excluded.region, facilities.region), \
             province = COALESCE(excluded.province, facilities.province)",
        )
        .bind(&f.code)
        .bind(&f.name)
        .bind(f.kind.as_str())
        .bind(&f.region)
        .bind(&f.province)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(!existed)
    }

    pub async fn facility(&self, code: &str) -> Result<Option<Facility>> {
        let row = sqlx::query(
            "SELECT code, name, kind, region, province FROM facilities WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(facility_from_row))
    }

    pub async fn facilities(&self) -> Result<Vec<Facility>> {
        let rows =
            sqlx::query("SELECT code, name, kind, region, province FROM facilities ORDER BY code")
                .fetch_all(self.pool())
                .await?;
        Ok(rows.iter().map(facility_from_row).collect())
    }

    /// Stores a token (its hash) and returns nothing: the caller prints the
    /// clear token once.
    pub async fn insert_token(
        &self,
        token: &str,
        role: Role,
        facility: Option<&str>,
        label: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO tokens (token_hash, role, facility, label, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(hash_token(token))
        .bind(role.as_str())
        .bind(facility)
        .bind(label)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn principal(&self, token: &str) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT role, facility FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_token(token))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.and_then(|r| {
            Some(Principal {
                role: Role::parse(&r.text("role")?)?,
                facility: r.text("facility"),
                token_id: hash_token(token)[..12].to_string(),
            })
        }))
    }
}

fn facility_from_row(r: &sqlx::any::AnyRow) -> Facility {
    Facility {
        code: r.text("code").unwrap_or_default(),
        name: r.text("name").unwrap_or_default(),
        kind: r
            .text("kind")
            .and_then(|k| FacilityKind::parse(&k))
            .unwrap_or(FacilityKind::Hospital),
        region: r.text("region"),
        province: r.text("province"),
    }
}

impl Store {
    /// Creates or resets a portal user (argon2id hash of the password).
    pub async fn upsert_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
        facility: Option<&str>,
    ) -> Result<()> {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut OsRng);
        let hash = argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?
            .to_string();
        sqlx::query(
            "INSERT INTO users (username, role, facility, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO UPDATE SET \
             role = excluded.role, facility = excluded.facility, \
             password_hash = excluded.password_hash, failed_attempts = 0, locked_until = NULL",
        )
        .bind(username)
        .bind(role.as_str())
        .bind(facility)
        .bind(hash)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
