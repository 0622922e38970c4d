//! Where each record's final outcome is recorded: the counters and the
//! dead-letter file.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::spares::Spares;
use crate::dead_letter::{DeadLetters, Entry};
use crate::deliver::{Failure, Job, Outcomes};
use crate::input::decode::RecordCodec;
use crate::stats::Stats;
use crate::supersede::Ledger;
use crate::transform::Rejection;
use tokio_util::sync::CancellationToken;

/// Records outcomes for the reader (rejected rows) and for delivery.
pub struct Recorder {
    pub stats: Arc<Stats>,
    dead_letters: DeadLetters,
    /// Turns a record as parsed back into the input's bytes.
    codec: RecordCodec,
    /// Customers with an undelivered row, and later rows of theirs.
    pub ledger: Arc<Ledger>,
    /// Stops the run when the dead-letter file cannot be written.
    halt: CancellationToken,
    /// Set when the dead-letter file could not be written: the run must
    /// not claim success for rows it could not keep.
    pub write_failed: AtomicBool,
    /// Jobs whose outcome is recorded, for the reader to refill.
    pub spares: Spares,
}

impl Recorder {
    pub fn new(
        stats: Arc<Stats>,
        dead_letters: DeadLetters,
        codec: RecordCodec,
        halt: CancellationToken,
    ) -> Self {
        Recorder {
            stats,
            dead_letters,
            codec,
            ledger: Arc::default(),
            halt,
            write_failed: AtomicBool::new(false),
            spares: Spares::default(),
        }
    }

    /// A record refused before sending.
    pub fn rejected(&self, line: u64, raw: &[u8], rejection: &Rejection, source_line: Option<u64>) {
        let entry = Entry {
            line,
            reason: &rejection.reason,
            raw,
            kind: rejection.kind.as_str(),
            source_line,
            ..Entry::default()
        };
        self.write(&entry);
    }

    /// Writes an entry whose `raw` is the record as parsed.
    fn write(&self, entry: &Entry<'_>) {
        tracing::debug!(line = entry.line, kind = entry.kind, "row dead-lettered");
        let (raw, text, binary) = self.codec.dead_letter(entry.raw);
        let entry = Entry {
            raw: &raw,
            text: text.as_deref(),
            binary,
            ..entry.clone()
        };
        let written = self.dead_letters.write(&entry);
        // Counted as dead-lettered only once it is in the file; a row the
        // file could not take was read and not sent.
        let counter = match written {
            Ok(()) => &self.stats.dead_lettered,
            Err(_) => &self.stats.not_sent,
        };
        Stats::bump(counter);
        if let Err(error) = written {
            // Rows that cannot be kept must not be risked: stop the run.
            self.halt.cancel();
            if !self.write_failed.swap(true, Ordering::Relaxed) {
                crate::say!(
                    "error: cannot write the dead-letter file {}: {error}",
                    self.dead_letters.path().display()
                );
            }
        }
    }

    pub fn into_dead_letters(self) -> DeadLetters {
        self.dead_letters
    }
}

impl Outcomes for Recorder {
    fn delivered(&self, job: Job, _attempts: u32) {
        Stats::bump(&self.stats.upserted);
        self.ledger.note_delivered(&job.key, job.line);
        self.spares.give(job);
    }

    fn failed(&self, job: Job, failure: Failure) {
        self.ledger.note_undelivered(&job.key, job.line);
        let entry = Entry {
            line: job.line,
            reason: &failure.reason,
            raw: &job.raw,
            kind: "http",
            status: failure.status,
            attempts: Some(failure.attempts),
            source_line: job.source_line,
            text: None,
            binary: false,
        };
        self.write(&entry);
        self.spares.give(job);
    }
}
