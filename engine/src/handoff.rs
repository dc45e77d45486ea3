//! The facts the door already computed, handed to the worker so that an
//! accepted HL7 message is mapped once, not twice.
//!
//! The door maps every message to decide its ACK; after the commit it leaves
//! the canonical facts here under the message id, and the worker takes them
//! instead of mapping the stored bytes again. Mapping is pure, so the facts
//! are the ones the worker would compute. Anything not found here (after a
//! restart, on replay, or when the worker took the row a moment before the
//! facts arrived) is mapped from the stored bytes as before. The map is
//! bounded: past its capacity the oldest entries go, and memory stays flat
//! under any backlog.

use hemobridge_canonical::Normalized;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

const CAPACITY: usize = 8192;

#[derive(Default)]
pub struct Handoff {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    facts: HashMap<i64, Normalized>,
    order: VecDeque<i64>,
}

impl Handoff {
    pub fn put(&self, message_id: i64, facts: Normalized) {
        let mut inner = self.inner.lock().expect("handoff lock");
        while inner.order.len() >= CAPACITY {
            if let Some(oldest) = inner.order.pop_front() {
                inner.facts.remove(&oldest);
            }
        }
        inner.order.push_back(message_id);
        inner.facts.insert(message_id, facts);
    }

    pub fn take(&self, message_id: i64) -> Option<Normalized> {
        let mut inner = self.inner.lock().expect("handoff lock");
        // The id stays in `order` until evicted; removing it there would
        // cost a scan, and a stale id only evicts nothing.
        inner.facts.remove(&message_id)
    }

    pub fn len(&self) -> usize {
        self.inner.lock().expect("handoff lock").facts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_taken_once() {
        let h = Handoff::default();
        for id in 0..(CAPACITY as i64 + 10) {
            h.put(id, Normalized::default());
        }
        assert_eq!(h.len(), CAPACITY);
        assert!(h.take(0).is_none(), "oldest evicted");
        assert!(h.take(CAPACITY as i64 + 9).is_some());
        assert!(h.take(CAPACITY as i64 + 9).is_none(), "taken once");
    }
}
