//! What a work-queue message says: the stored message's id and its
//! facility (for operators reading the queue). Never the body: it stays in
//! the database, and patient data never passes through the broker.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
}

impl WorkItem {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<WorkItem, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a work item: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusal() {
        let item = WorkItem {
            id: 42,
            facility: Some("H001".into()),
        };
        assert_eq!(WorkItem::decode(&item.encode()).unwrap(), item);
        assert_eq!(WorkItem::decode(br#"{"id":7}"#).unwrap().id, 7);
        assert!(WorkItem::decode(b"garbage").is_err());
        assert!(WorkItem::decode(br#"{"facility":"H"}"#).is_err());
    }
}
