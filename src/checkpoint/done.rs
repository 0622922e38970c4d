//! Which records are final, by their number in reading order: every record
//! up to a low-water mark, plus the ranges completed above it.
//!
//! Outcomes complete out of order, but only the records in flight can be
//! missing above the mark, so the ranges above it stay as few as the holes
//! the records in flight leave: memory stays flat however long the input.

use std::collections::BTreeMap;

/// A set of record numbers (1-based), kept as a mark and ranges above it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Done {
    /// Every record numbered at or below this is final.
    mark: u64,
    /// Ranges above `mark + 1`, first number to last (inclusive); never
    /// touching each other or the mark.
    above: BTreeMap<u64, u64>,
    /// Records in the set.
    count: u64,
}

impl Done {
    /// Whether record `seq` is final.
    pub fn contains(&self, seq: u64) -> bool {
        seq <= self.mark
            || self
                .above
                .range(..=seq)
                .next_back()
                .is_some_and(|(_, &last)| seq <= last)
    }

    /// Adds record `seq`; adding it twice changes nothing.
    pub fn insert(&mut self, seq: u64) {
        self.insert_range(seq, seq);
    }

    /// Adds records `first..=last`, whether or not some are in already.
    pub fn insert_range(&mut self, first: u64, last: u64) {
        let first = first.max(self.mark + 1);
        if first == 0 || last < first {
            return;
        }
        let mut added = last - first + 1;
        let (mut lowest, mut highest) = (first, last);
        // Absorb every range that overlaps or touches `first..=last`.
        while let Some((&start, &end)) = self.above.range(..=last.saturating_add(1)).next_back() {
            if end.saturating_add(1) < first {
                break;
            }
            self.above.remove(&start);
            let overlap = end
                .min(last)
                .saturating_add(1)
                .saturating_sub(start.max(first));
            added -= overlap;
            lowest = lowest.min(start);
            highest = highest.max(end);
        }
        self.above.insert(lowest, highest);
        self.count += added;
        self.raise_mark();
    }

    /// The mark and the ranges above it, in order: the whole set.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let below = (self.mark > 0).then_some((1, self.mark));
        below
            .into_iter()
            .chain(self.above.iter().map(|(&first, &last)| (first, last)))
    }

    /// Folds the first range into the mark when it starts right above it.
    fn raise_mark(&mut self) {
        while let Some(entry) = self.above.first_entry() {
            if *entry.key() != self.mark + 1 {
                return;
            }
            self.mark = entry.remove();
        }
    }

    /// Every record at or below this number is final.
    pub fn mark(&self) -> u64 {
        self.mark
    }

    /// Records in the set.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Ranges held above the mark: what the set costs in memory.
    pub fn ranges_above(&self) -> usize {
        self.above.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_outcomes_raise_the_mark_once_the_hole_fills() {
        let mut done = Done::default();
        for seq in [2, 3, 5, 7, 6] {
            done.insert(seq);
        }
        assert_eq!((done.mark(), done.ranges_above()), (0, 2));
        assert!(!done.contains(1) && done.contains(2) && !done.contains(4));
        assert!(done.contains(7) && !done.contains(8));
        done.insert(1);
        assert_eq!((done.mark(), done.ranges_above()), (3, 1));
        done.insert(4);
        assert_eq!((done.mark(), done.ranges_above(), done.count()), (7, 0, 7));
    }

    #[test]
    fn adding_a_record_twice_or_zero_changes_nothing() {
        let mut done = Done::default();
        done.insert(3);
        done.insert(3);
        done.insert(0);
        done.insert(1);
        done.insert(1);
        assert_eq!((done.mark(), done.count(), done.ranges_above()), (1, 2, 1));
    }

    #[test]
    fn overlapping_ranges_are_counted_once() {
        let mut done = Done::default();
        done.insert_range(5, 9);
        done.insert_range(12, 12);
        done.insert_range(8, 11);
        assert_eq!(done.ranges().collect::<Vec<_>>(), [(5, 12)]);
        assert_eq!(done.count(), 8);
        done.insert_range(1, 6);
        assert_eq!((done.mark(), done.count()), (12, 12));
        assert_eq!(done.ranges().collect::<Vec<_>>(), [(1, 12)]);
        done.insert_range(20, 30);
        done.insert_range(14, 15);
        assert_eq!(
            done.ranges().collect::<Vec<_>>(),
            [(1, 12), (14, 15), (20, 30)]
        );
        assert_eq!(done.count(), 25);
    }

    #[test]
    fn ranges_stay_as_few_as_the_holes() {
        let mut done = Done::default();
        // 16 records in flight that never finish; everything else does.
        let stuck = |seq: u64| seq % 1000 == 17 && seq < 16_000;
        for seq in (1..=100_000).filter(|&seq| !stuck(seq)) {
            done.insert(seq);
        }
        assert_eq!(done.mark(), 16);
        assert_eq!(done.ranges_above(), 16);
        assert_eq!(done.count(), 100_000 - 16);
    }
}
