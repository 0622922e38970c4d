//! Where each record's final outcome is recorded: the counters (of the run
//! and of its input), the input's dead-letter file and its checkpoint.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::spares::Spares;
use crate::checkpoint::{Journal, Outcome};
use crate::dead_letter::{DeadLetters, Entry};
use crate::deliver::{Failure, Job, Outcomes};
use crate::input::decode::RecordCodec;
use crate::stats::Stats;
use crate::supersede::{position, Ledger};
use crate::sync::Hooks;
use crate::transform::Rejection;
use tokio_util::sync::CancellationToken;

/// Records the outcomes of one input's rows, for the reader (rejected
/// rows) and for delivery.
pub struct Recorder {
    /// The whole run's counters.
    pub stats: Arc<Stats>,
    /// This input's counters (its `not_sent` stays 0: delivery counts
    /// unsent jobs in the run's counters only; the input's own is what its
    /// other counts leave of its rows read).
    pub own: Stats,
    /// The input's place among the inputs of the run.
    index: usize,
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
    /// State, success ledger, error budget: the run's, shared by its inputs.
    pub sync: Arc<Hooks>,
    /// Jobs whose outcome is recorded, for the reader to refill.
    pub spares: Spares,
}

impl Recorder {
    /// The recorder of input number `index`; `ledger` is the run's.
    pub fn new(
        stats: Arc<Stats>,
        index: usize,
        dead_letters: DeadLetters,
        codec: RecordCodec,
        ledger: Arc<Ledger>,
        halt: CancellationToken,
    ) -> Self {
        Recorder {
            stats,
            own: Stats::default(),
            index,
            dead_letters,
            codec,
            ledger,
            halt,
            write_failed: AtomicBool::new(false),
            checkpoint: None,
            sync: Arc::default(),
            spares: Spares::default(),
        }
    }

    pub fn with_checkpoint(mut self, checkpoint: Option<Journal>) -> Self {
        self.checkpoint = checkpoint;
        self
    }

    /// Record `seq` of this input reached its final outcome.
    fn checkpoint(&self, seq: u64, outcome: Outcome) {
        if let Some(journal) = &self.checkpoint {
            journal.record(seq, outcome);
        }
    }

    /// A record whose properties the server already holds (`--state`),
    /// skipped. The checkpoint records it as a skip, like a blank line.
    pub fn unchanged(&self, seq: u64) {
        self.count(|stats| &stats.skipped_unchanged);
        self.checkpoint(seq, Outcome::Blank);
    }

    /// A blank line, skipped.
    pub fn blank(&self, seq: u64) {
        self.count(|stats| &stats.skipped_blank);
        self.checkpoint(seq, Outcome::Blank);
    }

    /// Bumps the counter `which` of the run and of this input.
    pub fn count(&self, which: fn(&Stats) -> &AtomicU64) {
        Stats::bump(which(&self.stats));
        Stats::bump(which(&self.own));
    }

    /// A row of this input was delivered (or, in a dry run, is valid).
    pub fn note_delivered(&self, key: &str, line: u64) {
        self.ledger.note_delivered(key, position(self.index, line));
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
        match written {
            Ok(()) => {
                self.count(|stats| &stats.dead_lettered);
                let dead = Stats::get(&self.stats.dead_lettered);
                if self
                    .sync
                    .dead_lettered(entry.kind, dead, Stats::get(&self.stats.read))
                {
                    self.halt.cancel();
                }
            }
            // `not_sent` of the run only: see `own`.
            Err(_) => Stats::bump(&self.stats.not_sent),
        }
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

    /// Holds this input's files so no dead-letter or checkpoint entry is
    /// being written until the guard drops: taken before exiting at once.
    pub fn hold(&self) -> impl Sized + '_ {
        let dead_letters = self.dead_letters.hold();
        let checkpoint = self.checkpoint.as_ref().map(Journal::hold);
        (dead_letters, checkpoint)
    }

    /// Whether the run must stop reading: an output cannot be written or
    /// the error budget is spent.
    pub fn stopping(&self) -> bool {
        self.write_failed.load(Ordering::Relaxed) || self.sync.stopped().is_some()
    }

    pub fn into_dead_letters(self) -> DeadLetters {
        self.dead_letters
    }
}

/// The recorders of every input of the run, one per input; delivery's
/// outcomes go to the recorder of the job's input.
pub struct Recorders(pub Vec<Arc<Recorder>>);

impl Outcomes for Recorders {
    fn delivered(&self, job: Job, attempts: u32, customer_id: Option<&str>) {
        if let Some(recorder) = self.0.get(job.input) {
            recorder.delivered(job, attempts, customer_id);
        }
    }

    fn failed(&self, job: Job, failure: Failure) {
        if let Some(recorder) = self.0.get(job.input) {
            recorder.failed(job, failure);
        }
    }
}

impl Outcomes for Recorder {
    fn delivered(&self, job: Job, _attempts: u32, customer_id: Option<&str>) {
        self.count(|stats| &stats.upserted);
        self.checkpoint(job.seq, Outcome::Upserted);
        self.note_delivered(&job.key, job.line);
        if self.sync.delivered(&job, customer_id) {
            self.halt.cancel();
        }
        self.spares.give(job);
    }

    fn failed(&self, job: Job, failure: Failure) {
        let at = position(self.index, job.line);
        self.ledger.note_undelivered(&job.key, at);
        self.sync.failed(&job.key);
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
        self.spares.give(job);
    }
}
