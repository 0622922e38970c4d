//! Customers with a row that was not delivered. When a later row of the
//! same customer is delivered, re-importing the earlier one from the
//! dead-letter file would bring its older values back over the newer ones;
//! such rows are counted so the run can warn before anyone does that.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// A row's place in the whole run: its input's place among the inputs,
/// then its line, so that a row of a later input comes after every row of
/// an earlier one (lines up to 2^40, inputs up to 2^24).
pub fn position(input: usize, line: u64) -> u64 {
    ((input as u64) << 40) | (line & ((1 << 40) - 1))
}

/// Shared by the reader (rows refused before sending) and delivery (rows
/// that failed over HTTP, rows delivered).
#[derive(Debug, Default)]
pub struct Ledger {
    /// Set once any key is noted: until then delivery takes no lock.
    any: AtomicBool,
    /// Each customer's first dead-lettered row.
    undelivered: Mutex<HashMap<Box<str>, u64>>,
    superseded: AtomicU64,
}

impl Ledger {
    /// The row on `line` of customer `key` was dead-lettered.
    pub fn note_undelivered(&self, key: &str, line: u64) {
        let mut keys = self.undelivered.lock().unwrap_or_else(|e| e.into_inner());
        let first = keys.entry(key.into()).or_insert(line);
        *first = (*first).min(line);
        self.any.store(true, Ordering::Release);
    }

    /// The row on `line` of customer `key` was delivered (or, in a dry run,
    /// is valid); it counts when an earlier row of the customer was not.
    pub fn note_delivered(&self, key: &str, line: u64) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let keys = self.undelivered.lock().unwrap_or_else(|e| e.into_inner());
        if keys.get(key).is_some_and(|&first| first < line) {
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
        ledger.note_delivered("a", 1);
        ledger.note_undelivered("a", 3);
        ledger.note_delivered("b", 4);
        ledger.note_delivered("a", 2);
        ledger.note_delivered("a", 5);
        ledger.note_delivered("a", 6);
        assert_eq!(ledger.superseded(), 2);
    }
}
