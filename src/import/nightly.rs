//! The nightly-sync side of an import: before the run, opens the `--state`
//! store, the success ledger and the error budget; after it, lets the state
//! writer make its last commit and writes the `--report`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::outputs;
use crate::cli::ImportArgs;
use crate::failure::{code, Failure};
use crate::report::{Report, Retries};
use crate::stats::Stats;
use crate::summary::Summary;
use crate::sync::ledger::SuccessLedger;
use crate::sync::state::{Filter, Store, Writer};
use crate::sync::Hooks;

/// What the run keeps of the sync features until its end.
pub struct Nightly {
    /// The state writer thread, in a live run with `--state`.
    writer: Option<Writer>,
    started: DateTime<Utc>,
    /// Shared with the outcome recorder.
    pub hooks: Arc<Hooks>,
}

/// Checks and opens the sync files. Returns the reader's state filter
/// when `--state` names a store (in a dry run: one that exists).
pub fn open(
    args: &ImportArgs,
    inputs: &[PathBuf],
    dead_letters: &[PathBuf],
) -> Result<(Nightly, Option<Filter>), Failure> {
    let started = Utc::now();
    outputs::check_sync(args, inputs, dead_letters)?;
    let mut hooks = Hooks::default();
    hooks.max_errors = args.sync.max_errors;
    let mut writer = None;
    let mut filter = None;
    if let Some(path) = &args.sync.state {
        let store = Store::open(path, !args.dry_run).map_err(|e| {
            Failure::before_sending(format!("--state: {e}"))
                .with_hint("pass another --state FILE; one state file per input and workspace")
        })?;
        if let Some(store) = store.map(Arc::new) {
            let updates = if args.dry_run {
                None
            } else {
                let (updates, thread) = store.start_writer().map_err(Failure::before_sending)?;
                writer = Some(thread);
                hooks.state = Some(updates.clone());
                Some(updates)
            };
            filter = Some(store.filter(args.sync.full, updates));
        }
    }
    if let (Some(path), false) = (&args.sync.ledger, args.dry_run) {
        let ledger = SuccessLedger::create(path).map_err(|e| {
            Failure::before_sending(format!("cannot create the ledger {}: {e}", path.display()))
        })?;
        hooks.ledger = Some(ledger);
    }
    let nightly = Nightly {
        writer,
        started,
        hooks: Arc::new(hooks),
    };
    Ok((nightly, filter))
}

/// The files a run wrote per input, for the report.
pub struct Files<'a> {
    pub dead_letters: &'a [PathBuf],
    /// Every input's checkpoint path, whether or not it is kept at the end.
    pub checkpoints: Vec<PathBuf>,
}

impl Nightly {
    /// Closes the state and writes the report; returns the run's result,
    /// turned into a failure if the report cannot be written.
    pub fn end(
        self,
        result: Result<u8, Failure>,
        stats: &Stats,
        elapsed: Duration,
        args: &ImportArgs,
        inputs: &[PathBuf],
        files: Files<'_>,
    ) -> Result<u8, Failure> {
        let kinds = self.hooks.kinds();
        // Every task holding the hooks has ended: dropping them closes the
        // state's update channel, so the writer commits and stops.
        let closed = Arc::into_inner(self.hooks).map(drop).is_some();
        if closed {
            if let Some(Err(error)) = self.writer.map(Writer::finish) {
                crate::notice!(
                    "warning: {error}; records delivered in this run may be sent again next time"
                );
            }
        }
        let Some(path) = &args.sync.report else {
            return result;
        };
        let report = Report {
            inputs: inputs.to_vec(),
            mapping: args.mapping.clone(),
            dry_run: args.dry_run,
            full: args.sync.full,
            started: self.started,
            ended: Utc::now(),
            elapsed,
            summary: Summary::new(stats, elapsed, args.dry_run),
            retries: Retries::from_stats(stats),
            answers_429: Stats::get(&stats.answers_429),
            dead_lettered_by_kind: kinds,
            exit_code: result.as_ref().map_or_else(|f| f.code, |&c| c),
            stopped_because: stopped_because(&result),
            // Only what is there at the end: an empty dead-letter file is
            // removed, and a complete run's checkpoint too.
            dead_letters: existing(files.dead_letters.iter().cloned()),
            checkpoints: existing(files.checkpoints.into_iter()),
            state: args.sync.state.clone(),
            ledger: args.sync.ledger.clone().filter(|_| !args.dry_run),
        };
        match (report.write(path), result) {
            (Ok(()), result) => result,
            (Err(e), Ok(code::OK | code::PARTIAL)) => Err(Failure::during_run(format!(
                "cannot write the report {}: {e}",
                path.display()
            ))),
            (Err(e), result) => {
                crate::say!("error: cannot write the report {}: {e}", path.display());
                result
            }
        }
    }
}

/// The paths of files that exist.
fn existing(paths: impl Iterator<Item = PathBuf>) -> Vec<PathBuf> {
    paths.filter(|path| path.exists()).collect()
}

/// Why the run stopped before the end of its input, if it did: the failure's
/// message, or the clean stop's cause.
fn stopped_because(result: &Result<u8, Failure>) -> Option<String> {
    match result {
        Err(failure) => Some(failure.message.clone()),
        Ok(code::INTERRUPTED) => Some("interrupted by a signal".into()),
        Ok(code::OUT_OF_TIME) => Some("the --max-runtime deadline was reached".into()),
        Ok(_) => None,
    }
}
