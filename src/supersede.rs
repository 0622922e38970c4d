//! Customers with a row that was not delivered. When a later row of the
//! same customer is delivered, re-importing the earlier one from the
//! dead-letter file would bring its older values back over the newer ones;
//! such rows are counted so the run can warn before anyone does that.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Shared by the reader (rows refused before sending) and delivery (rows
/// that failed over HTTP, rows delivered).
#[derive(Debug, Default)]
pub struct Ledger {
    /// Set once any key is noted: until then delivery takes no lock.
    any: AtomicBool,
    undelivered: Mutex<HashSet<Box<str>>>,
    superseded: AtomicU64,
}

impl Ledger {
    /// A row of customer `key` was dead-lettered.
    pub fn note_undelivered(&self, key: &str) {
        let mut keys = self.undelivered.lock().unwrap_or_else(|e| e.into_inner());
        keys.insert(key.into());
        self.any.store(true, Ordering::Release);
    }

    /// A row of customer `key` was delivered (or, in a dry run, is valid).
    pub fn note_delivered(&self, key: &str) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let keys = self.undelivered.lock().unwrap_or_else(|e| e.into_inner());
        if keys.contains(key) {
            self.superseded.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Delivered rows whose customer has an earlier dead-lettered row.
    pub fn superseded(&self) -> u64 {
        self.superseded.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rows_after_an_undelivered_row_of_the_same_key_count() {
        let ledger = Ledger::default();
        ledger.note_delivered("a");
        ledger.note_undelivered("a");
        ledger.note_delivered("b");
        ledger.note_delivered("a");
        ledger.note_delivered("a");
        assert_eq!(ledger.superseded(), 2);
    }
}
