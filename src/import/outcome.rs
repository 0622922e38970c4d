//! Where each record's final outcome is recorded: the counters, the
//! dead-letter file and the checkpoint.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::checkpoint::{Journal, Outcome};
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
    /// Records each final outcome, for a later run to resume from.
    pub checkpoint: Option<Journal>,
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
            checkpoint: None,
        }
    }

    pub fn with_checkpoint(mut self, checkpoint: Option<Journal>) -> Self {
        self.checkpoint = checkpoint;
        self
    }

    /// Record `seq` reached its final outcome.
    fn checkpoint(&self, seq: u64, outcome: Outcome) {
        if let Some(journal) = &self.checkpoint {
            journal.record(seq, outcome);
        }
    }

    /// A blank line, skipped.
    pub fn blank(&self, seq: u64) {
        Stats::bump(&self.stats.skipped_blank);
        self.checkpoint(seq, Outcome::Blank);
    }

    /// Exits at once with `code`, between whole writes: no dead-letter
    /// entry or checkpoint entry is left half written.
    pub fn exit_now(&self, code: u8) -> ! {
        let _dead_letters = self.dead_letters.hold();
        let _checkpoint = self.checkpoint.as_ref().map(Journal::hold);
        std::process::exit(i32::from(code))
    }

    /// A record refused before sending.
    pub fn rejected(
        &self,
        seq: u64,
        line: u64,
        raw: &[u8],
        rejection: &Rejection,
        source_line: Option<u64>,
    ) {
        let entry = Entry {
            line,
            reason: &rejection.reason,
            raw,
            kind: rejection.kind.as_str(),
            source_line,
            ..Entry::default()
        };
        self.write(seq, &entry);
    }

    /// Writes an entry whose `raw` is the record as parsed.
    /// The checkpoint entry of record `seq` is written after its
    /// dead-letter entry, under the same lock, so the checkpoint never
    /// counts a record whose dead-letter entry is not in the file.
    fn write(&self, seq: u64, entry: &Entry<'_>) {
        tracing::debug!(line = entry.line, kind = entry.kind, "row dead-lettered");
        let (raw, text, binary) = self.codec.dead_letter(entry.raw);
        let entry = Entry {
            raw: &raw,
            text: text.as_deref(),
            binary,
            ..entry.clone()
        };
        let written = self.dead_letters.write_then(&entry, |dead_letter_end| {
            self.checkpoint(seq, Outcome::DeadLettered { dead_letter_end });
        });
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
        self.checkpoint(job.seq, Outcome::Upserted);
        self.ledger.note_delivered(&job.key, job.line);
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
        self.write(job.seq, &entry);
    }
}
