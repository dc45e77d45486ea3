//! Patient identity at rest: AES-256-GCM for names and ID numbers, and a
//! keyed hash (HMAC-SHA-256) so that an ID number can be looked up without
//! being stored in clear.
//!
//! The key lives in a file outside the database (`HEMOBRIDGE_KEY_FILE`,
//! default `$DATA_DIR/keys/patient-data.key`), created with mode 0600 on
//! first start. A stolen database file alone reveals no identity. The
//! ciphertext carries the key id (`k1:`) so that a later rotation can tell
//! old from new.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

const KEY_ID: &str = "k1";

#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    /// Loads the key file, creating it (64 random bytes, hex) if absent.
    pub fn open_or_create(path: &Path) -> Result<Vault> {
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let mut material = [0u8; 64];
            rand::rngs::OsRng.fill_bytes(&mut material);
            write_private(path, hex::encode(material).as_bytes())?;
            tracing::info!(path = %path.display(), "created a new patient-data key file");
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        let material = hex::decode(text.trim()).context("key file: expected hex")?;
        if material.len() != 64 {
            bail!("key file: expected 64 bytes of key material");
        }
        Ok(Vault::from_material(&material))
    }

    /// First 32 bytes: the AES key; last 32: the HMAC key. Separate keys so
    /// that the look-up hash reveals nothing about the ciphertexts.
    pub fn from_material(material: &[u8]) -> Vault {
        let cipher = Aes256Gcm::new_from_slice(&material[..32]).expect("32-byte key");
        let mut mac_key = [0u8; 32];
        mac_key.copy_from_slice(&material[32..64]);
        Vault { cipher, mac_key }
    }

    pub fn encrypt(&self, clear: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), clear.as_bytes())
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{KEY_ID}:{}", B64.encode(out))
    }

    pub fn decrypt(&self, sealed: &str) -> Result<String> {
        let Some(body) = sealed.strip_prefix("k1:") else {
            bail!("ciphertext with an unknown key id");
        };
        let bytes = B64.decode(body).context("ciphertext is not base64")?;
        if bytes.len() < 12 + 16 {
            bail!("ciphertext too short");
        }
        let clear = self
            .cipher
            .decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..])
            .map_err(|_| anyhow::anyhow!("ciphertext does not authenticate with this key"))?;
        String::from_utf8(clear).context("decrypted value is not UTF-8")
    }

    /// Keyed hash for equality look-ups (ID numbers are normalised to upper
    /// case first: a trailing `x` and `X` are the same check character).
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key).expect("any key length");
        mac.update(value.trim().to_ascii_uppercase().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot create key file {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_no_clear_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/key");
        let vault = Vault::open_or_create(&path).unwrap();
        let sealed = vault.encrypt("王小明");
        assert!(!sealed.contains("王小明"));
        assert_eq!(vault.decrypt(&sealed).unwrap(), "王小明");
        // Same key file, same vault: a restart can read what was written.
        let again = Vault::open_or_create(&path).unwrap();
        assert_eq!(again.decrypt(&sealed).unwrap(), "王小明");
        assert_eq!(
            vault.lookup_hash("11010519491231002x"),
            again.lookup_hash("11010519491231002X")
        );
        // Another key cannot read it.
        let other = Vault::from_material(&[7u8; 64]);
        assert!(other.decrypt(&sealed).is_err());
    }
}
