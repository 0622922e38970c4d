//! What a scheduled, repeated sync adds to an import: the `--state` store
//! that skips records the server already holds ([`state`]), the success
//! ledger ([`ledger`]), the error budget ([`budget`]), and the outcome
//! hooks that feed them, called by the run's outcome recorder.

pub mod budget;
pub mod ledger;
pub mod state;

use std::sync::{Mutex, OnceLock};

use crate::deliver::Job;
use budget::MaxErrors;
use ledger::{Success, SuccessLedger};

/// Why a sync feature stopped the run early (exit 3).
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// More records were dead-lettered than `--max-errors` allows.
    ErrorBudget(MaxErrors),
    /// The success ledger could not be written: successes would go
    /// unrecorded.
    LedgerWrite(String),
}

impl StopReason {
    /// What the summary and the report say.
    pub fn message(&self) -> String {
        match self {
            StopReason::ErrorBudget(limit) => format!(
                "stopped: more than {limit} of the records read were dead-lettered \
                 (--max-errors {limit})"
            ),
            StopReason::LedgerWrite(error) => {
                format!("stopped: cannot write the success ledger: {error}")
            }
        }
    }
}

/// The sync features' side of each record's outcome.
#[derive(Default)]
pub struct Hooks {
    pub state: Option<state::Updates>,
    pub ledger: Option<SuccessLedger>,
    pub max_errors: Option<MaxErrors>,
    /// Dead letters written, by kind ("value", "http", ...), in the order
    /// each kind first appeared.
    kinds: Mutex<Vec<(String, u64)>>,
    stop: OnceLock<StopReason>,
}

impl Hooks {
    /// A successful upsert: into the ledger, then into the state. Returns
    /// true when this stops the run (the ledger could not be written).
    pub fn delivered(&self, job: &Job, customer_id: Option<&str>) -> bool {
        let mut stopped = false;
        if let Some(ledger) = &self.ledger {
            let success = Success {
                line: job.line,
                source_line: job.source_line,
                primary_key: &job.key,
                customer_id,
            };
            if let Err(error) = ledger.write(&success) {
                let path = ledger.path().display();
                stopped = self.stop(StopReason::LedgerWrite(format!("{path}: {error}")));
            }
        }
        if let Some(state) = &self.state {
            state.delivered(&job.key, &job.body);
        }
        stopped
    }

    /// A record sent and not delivered: the state must not skip it later.
    pub fn failed(&self, key: &str) {
        if let Some(state) = &self.state {
            state.failed(key);
        }
    }

    /// A dead letter of `kind` was written, making `dead_lettered` of
    /// `read` records so far. Returns true when this spends the budget.
    pub fn dead_lettered(&self, kind: &str, dead_lettered: u64, read: u64) -> bool {
        {
            let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
            match kinds.iter_mut().find(|(name, _)| name == kind) {
                Some((_, count)) => *count += 1,
                None => kinds.push((kind.to_string(), 1)),
            }
        }
        match self.max_errors {
            Some(limit) if limit.exceeded(dead_lettered, read) => {
                self.stop(StopReason::ErrorBudget(limit))
            }
            _ => false,
        }
    }

    /// Records the first stop reason; true if this call set it.
    fn stop(&self, reason: StopReason) -> bool {
        self.stop.set(reason).is_ok()
    }

    /// Why the run was stopped early, if it was.
    pub fn stopped(&self) -> Option<&StopReason> {
        self.stop.get()
    }

    /// Dead letters by kind so far.
    pub fn kinds(&self) -> Vec<(String, u64)> {
        self.kinds.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Closes the ledger and the state updates, so the state writer can
    /// make its last commit.
    pub fn close(&mut self) {
        self.state = None;
        self.ledger = None;
    }
}
