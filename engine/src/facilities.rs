//! Which facility codes are registered, asked for every message. Registered
//! codes are cached (facilities are never deleted); an unknown code is asked
//! of the store each time, so that `hemobridge facility add` in another
//! process takes effect at once.

use crate::store::Store;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct FacilityDirectory {
    store: Store,
    known: Arc<RwLock<HashSet<String>>>,
}

impl FacilityDirectory {
    pub fn new(store: Store) -> Self {
        FacilityDirectory {
            store,
            known: Arc::new(RwLock::new(HashSet::new())),
        }
    }

    /// Whether `code` is registered; an error when the store cannot say.
    pub async fn is_registered(&self, code: &str) -> anyhow::Result<bool> {
        if code.is_empty() {
            return Ok(false);
        }
        if self.known.read().expect("lock").contains(code) {
            return Ok(true);
        }
        let found = self.store.facility(code).await?.is_some();
        if found {
            self.known.write().expect("lock").insert(code.to_string());
        }
        Ok(found)
    }
}
