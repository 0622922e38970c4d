//! Duplicate primary keys among the rows that would be sent, counted in
//! bounded memory: a set of 64-bit digests of the keys (about 16 bytes per
//! distinct key), and the text of a key only once it repeats.
//!
//! Bounds: at most [`TRACKED_KEYS`] distinct keys are remembered (some
//! 160 MB); keys first seen after that are not checked, and the report
//! says so. The text of at most [`NAMED_KEYS`] repeated keys is kept. Two
//! different keys share a digest with odds of about 1 in 10^7 among ten
//! million keys, which would count one false duplicate.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::report::{Duplicate, Duplicates};

/// Distinct keys remembered at most.
pub const TRACKED_KEYS: u64 = 10_000_000;

/// Repeated keys whose text is kept for the report.
const NAMED_KEYS: usize = 10_000;

pub struct Counter {
    seen: HashSet<u64>,
    limit: u64,
    /// Rows per repeated key, by digest.
    repeated: HashMap<u64, (String, u64)>,
    /// Repeated keys beyond [`NAMED_KEYS`]: counted, not named.
    unnamed_keys: u64,
    unnamed_rows: u64,
    untracked: bool,
}

impl Counter {
    pub fn new(limit: u64) -> Self {
        Counter {
            seen: HashSet::new(),
            limit,
            repeated: HashMap::new(),
            unnamed_keys: 0,
            unnamed_rows: 0,
            untracked: false,
        }
    }

    /// Counts one row's key (as the server compares it).
    pub fn add(&mut self, key: &str) {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let digest = hasher.finish();
        if let Some((_, rows)) = self.repeated.get_mut(&digest) {
            *rows += 1;
            return;
        }
        if self.seen.contains(&digest) {
            if self.repeated.len() < NAMED_KEYS {
                self.repeated.insert(digest, (key.to_string(), 2));
            } else {
                // Counted as a new repeated key each time: an upper bound.
                self.unnamed_keys += 1;
                self.unnamed_rows += 1;
            }
            return;
        }
        if (self.seen.len() as u64) < self.limit {
            self.seen.insert(digest);
        } else {
            self.untracked = true;
        }
    }

    /// The `top` most repeated keys, most rows first, then by key.
    pub fn finish(self, top: usize) -> Duplicates {
        let keys = self.repeated.len() as u64 + self.unnamed_keys;
        let extra_rows = self
            .repeated
            .values()
            .map(|(_, rows)| rows - 1)
            .sum::<u64>()
            + self.unnamed_rows;
        let mut listed: Vec<Duplicate> = self
            .repeated
            .into_values()
            .map(|(key, rows)| Duplicate { key, rows })
            .collect();
        listed.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.key.cmp(&b.key)));
        listed.truncate(top);
        Duplicates {
            keys,
            extra_rows,
            top: listed,
            tracked_limit: self.limit,
            complete: !self.untracked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_counted_and_listed_most_first() {
        let mut counter = Counter::new(100);
        for key in ["a", "b", "a", "c", "b", "a", "d"] {
            counter.add(key);
        }
        let found = counter.finish(10);
        assert_eq!((found.keys, found.extra_rows, found.complete), (2, 3, true));
        let top: Vec<(&str, u64)> = found.top.iter().map(|d| (d.key.as_str(), d.rows)).collect();
        assert_eq!(top, vec![("a", 3), ("b", 2)]);
    }

    #[test]
    fn keys_beyond_the_bound_are_not_tracked_and_the_report_says_so() {
        let mut counter = Counter::new(2);
        for key in ["a", "b", "c", "c", "a"] {
            counter.add(key);
        }
        let found = counter.finish(10);
        assert_eq!(
            (found.keys, found.extra_rows, found.complete),
            (1, 1, false)
        );
        assert_eq!(found.top[0].key, "a");
    }
}
