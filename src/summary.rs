//! The one summary printed at the end of a run. Its counts always add up:
//! read = upserted + dead-lettered + skipped blank + not sent.

use std::path::Path;
use std::time::Duration;

use crate::stats::Stats;

/// The final counts of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub read: u64,
    pub upserted: u64,
    pub dead_lettered: u64,
    pub skipped_blank: u64,
    pub not_sent: u64,
    pub retries: u64,
    /// Answers 429 Too Many Requests.
    pub throttled: u64,
    pub elapsed: Duration,
    pub dry_run: bool,
}

impl Summary {
    pub fn new(stats: &Stats, elapsed: Duration, dry_run: bool) -> Self {
        Summary {
            read: Stats::get(&stats.read),
            upserted: Stats::get(&stats.upserted),
            dead_lettered: Stats::get(&stats.dead_lettered),
            skipped_blank: Stats::get(&stats.skipped_blank),
            not_sent: Stats::get(&stats.not_sent),
            retries: stats.retries(),
            throttled: Stats::get(&stats.throttled),
            elapsed,
            dry_run,
        }
    }

    /// Whether every record read is accounted for.
    pub fn adds_up(&self) -> bool {
        self.read == self.upserted + self.dead_lettered + self.skipped_blank + self.not_sent
    }

    pub fn rows_per_second(&self) -> f64 {
        self.read as f64 / self.elapsed.as_secs_f64().max(0.000_001)
    }

    /// Prints the summary to standard error.
    /// `--quiet` hides progress, never this summary.
    pub fn print(&self, dead_letter_path: &Path, dead_letter_entries: u64) {
        let verb = if self.dry_run {
            "valid (dry run)"
        } else {
            "upserted"
        };
        crate::say!("rows read       {:>10}", self.read);
        crate::say!("{verb:<15} {:>10}", self.upserted);
        if dead_letter_entries > 0 {
            crate::say!(
                "dead-lettered   {:>10}  -> {}",
                self.dead_lettered,
                dead_letter_path.display()
            );
        } else {
            crate::say!("dead-lettered   {:>10}", self.dead_lettered);
        }
        crate::say!("skipped blank   {:>10}", self.skipped_blank);
        if self.not_sent > 0 {
            crate::say!("not sent        {:>10}", self.not_sent);
        }
        crate::say!("retries         {:>10}", self.retries);
        if self.throttled > 0 {
            crate::say!("answered 429    {:>10}", self.throttled);
        }
        crate::say!(
            "elapsed         {:>9.2}s  ({:.0} rows/s)",
            self.elapsed.as_secs_f64(),
            self.rows_per_second()
        );
        if !self.adds_up() {
            crate::say!("warning: the counts do not add up; please report this as a bug");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_only_when_every_row_is_accounted_for() {
        let mut summary = Summary {
            read: 10,
            upserted: 6,
            dead_lettered: 2,
            skipped_blank: 1,
            not_sent: 1,
            retries: 0,
            throttled: 0,
            elapsed: Duration::from_secs(2),
            dry_run: false,
        };
        assert!(summary.adds_up());
        assert_eq!(summary.rows_per_second(), 5.0);
        summary.upserted = 5;
        assert!(!summary.adds_up());
    }
}
