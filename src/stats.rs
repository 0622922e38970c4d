//! Run counters shared by every stage. The progress display and the final
//! summary read the same counters, so they can never disagree.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a request was retried; one counter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryCause {
    /// 429 Too Many Requests.
    Throttled,
    /// A 5xx answer.
    ServerError,
    /// No answer within the request timeout.
    Timeout,
    /// The connection failed or was closed without an answer.
    Connection,
}

/// Counters of one run. All are monotonic and safe to bump from any thread.
#[derive(Debug, Default)]
pub struct Stats {
    /// Records read from the input, blank lines included.
    pub read: AtomicU64,
    /// Records the server accepted (or, in a dry run, that were valid).
    pub upserted: AtomicU64,
    /// Records written to the dead-letter file.
    pub dead_lettered: AtomicU64,
    /// Blank lines skipped.
    pub skipped_blank: AtomicU64,
    /// Records read but never sent because the run stopped early.
    pub not_sent: AtomicU64,
    /// Input bytes consumed, for the progress estimate.
    pub bytes_read: AtomicU64,
    pub retries_throttled: AtomicU64,
    pub retries_server_error: AtomicU64,
    pub retries_timeout: AtomicU64,
    pub retries_connection: AtomicU64,
    /// Answers 429 Too Many Requests, whether retried or not.
    pub throttled: AtomicU64,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn retried(&self, cause: RetryCause) {
        let counter = match cause {
            RetryCause::Throttled => &self.retries_throttled,
            RetryCause::ServerError => &self.retries_server_error,
            RetryCause::Timeout => &self.retries_timeout,
            RetryCause::Connection => &self.retries_connection,
        };
        Self::bump(counter);
    }

    pub fn retries(&self) -> u64 {
        Self::get(&self.retries_throttled)
            + Self::get(&self.retries_server_error)
            + Self::get(&self.retries_timeout)
            + Self::get(&self.retries_connection)
    }
}
