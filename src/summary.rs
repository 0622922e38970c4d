//! The one summary printed at the end of a run. Its counts always add up:
//! read = upserted + dead-lettered + skipped blank + skipped unchanged +
//! not sent + already done.

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
    /// Skipped because `--state` says the server already holds them.
    pub skipped_unchanged: u64,
    pub not_sent: u64,
    /// Finished by an earlier run of the same command (resumed).
    pub already_done: u64,
    /// Rows sent without some property, and the properties left out.
    pub rows_with_dropped: u64,
    pub properties_dropped: u64,
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
            skipped_unchanged: Stats::get(&stats.skipped_unchanged),
            not_sent: Stats::get(&stats.not_sent),
            already_done: Stats::get(&stats.already_done),
            rows_with_dropped: Stats::get(&stats.rows_with_dropped),
            properties_dropped: Stats::get(&stats.properties_dropped),
            retries: stats.retries(),
            throttled: Stats::get(&stats.answers_429),
            elapsed,
            dry_run,
        }
    }

    /// Whether every record read is accounted for.
    pub fn adds_up(&self) -> bool {
        self.read
            == self.upserted
                + self.dead_lettered
                + self.skipped_blank
                + self.skipped_unchanged
                + self.not_sent
                + self.already_done
    }

    pub fn rows_per_second(&self) -> f64 {
        self.read as f64 / self.elapsed.as_secs_f64().max(0.000_001)
    }

    /// One input's line of a run of several: its counts and where its
    /// rejected rows went. Its rows not sent are what its other counts
    /// leave of its rows read.
    pub fn input_line(&self, input: &Path, dead_letter_path: &Path) -> String {
        let accounted = self.upserted
            + self.dead_lettered
            + self.skipped_blank
            + self.skipped_unchanged
            + self.already_done;
        let verb = if self.dry_run { "valid" } else { "upserted" };
        let mut line = format!(
            "{}: {} read, {} {verb}, {} dead-lettered, {} skipped blank",
            input.display(),
            self.read,
            self.upserted,
            self.dead_lettered,
            self.skipped_blank
        );
        if self.skipped_unchanged > 0 {
            line.push_str(&format!(", {} unchanged", self.skipped_unchanged));
        }
        if self.already_done > 0 {
            line.push_str(&format!(", {} already done", self.already_done));
        }
        if self.read > accounted {
            line.push_str(&format!(", {} not sent", self.read - accounted));
        }
        if self.dead_lettered > 0 {
            line.push_str(&format!(" -> {}", dead_letter_path.display()));
        }
        line
    }

    /// Prints the summary to standard error; `dead_letter_path` is shown
    /// beside the dead-lettered count (a run of several inputs shows each
    /// input's on its own line instead).
    /// `--quiet` hides progress, never this summary.
    pub fn print(&self, dead_letter_path: Option<&Path>, dead_letter_entries: u64) {
        if crate::console::is_json() {
            return self.print_json(dead_letter_path);
        }
        let verb = if self.dry_run {
            "valid (dry run)"
        } else {
            "upserted"
        };
        crate::say!("rows read       {:>10}", self.read);
        crate::say!("{verb:<15} {:>10}", self.upserted);
        if let (true, Some(path)) = (dead_letter_entries > 0, dead_letter_path) {
            crate::say!(
                "dead-lettered   {:>10}  -> {}",
                self.dead_lettered,
                path.display()
            );
        } else {
            crate::say!("dead-lettered   {:>10}", self.dead_lettered);
        }
        crate::say!("skipped blank   {:>10}", self.skipped_blank);
        if self.skipped_unchanged > 0 {
            crate::say!("skipped unchanged {:>8}", self.skipped_unchanged);
        }
        if self.not_sent > 0 {
            crate::say!("not sent        {:>10}", self.not_sent);
        }
        if self.already_done > 0 {
            crate::say!(
                "already done    {:>10}  (in an earlier run)",
                self.already_done
            );
        }
        if self.rows_with_dropped > 0 {
            crate::say!(
                "sent with drops {:>10}  ({} properties dropped; see the warnings file)",
                self.rows_with_dropped,
                self.properties_dropped
            );
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

    /// `--log-format json`: the summary as one object.
    fn print_json(&self, dead_letter_path: Option<&Path>) {
        let fields = serde_json::json!({
            "read": self.read,
            "upserted": self.upserted,
            "dead_lettered": self.dead_lettered,
            "skipped_blank": self.skipped_blank,
            "skipped_unchanged": self.skipped_unchanged,
            "not_sent": self.not_sent,
            "already_done": self.already_done,
            "sent_with_dropped_properties": self.rows_with_dropped,
            "retries": self.retries,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "rows_per_second": self.rows_per_second(),
            "dry_run": self.dry_run,
            "adds_up": self.adds_up(),
            "dead_letter": dead_letter_path.map(|path| path.display().to_string()),
        });
        crate::console::say_fields("INFO", "summary", fields);
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
            skipped_unchanged: 0,
            not_sent: 1,
            already_done: 0,
            rows_with_dropped: 0,
            properties_dropped: 0,
            retries: 0,
            throttled: 0,
            elapsed: Duration::from_secs(2),
            dry_run: false,
        };
        assert!(summary.adds_up());
        assert_eq!(summary.rows_per_second(), 5.0);
        summary.upserted = 5;
        assert!(!summary.adds_up());
        summary.already_done = 1;
        assert!(summary.adds_up());
    }
}
