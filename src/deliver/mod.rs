//! Delivery: sends prepared upsert bodies to Laudspeaker through a bounded
//! pool of in-flight requests, a shared rate limiter and a retry policy, and
//! reports each record's final outcome.
//!
//! INTERFACE STUB: the owner of this module replaces the bodies below.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::secret::ApiKey;
use crate::stats::Stats;

/// One record ready to send.
#[derive(Debug)]
pub struct Job {
    /// Line where the record starts in the input (1-based).
    pub line: u64,
    /// The primary key as the server will see it (normalised, trimmed).
    /// Jobs with equal keys are sent one at a time, in the order received.
    pub key: Box<str>,
    /// The complete JSON request body.
    pub body: Vec<u8>,
    /// The record's original bytes, for the dead-letter file.
    pub raw: Vec<u8>,
}

/// How delivery behaves; built from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Full URL of the upsert endpoint (`<base>/customers/upsert`).
    pub upsert_url: reqwest::Url,
    pub api_key: ApiKey,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Global request rate shared by all workers; `None`: unlimited.
    pub rate: Option<governor::Quota>,
    /// Limit for one request, from sending to the end of the answer.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with jitter, up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

/// Why a record could not be delivered.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The last HTTP status, if any answer came.
    pub status: Option<u16>,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
    /// What happened, for a person: "HTTP 500 after 4 attempts: Internal
    /// server error".
    pub reason: String,
}

/// Receives each record's final outcome. Called from delivery tasks.
pub trait Outcomes: Send + Sync + 'static {
    fn delivered(&self, job: Job, attempts: u32);
    fn failed(&self, job: Job, failure: Failure);
}

/// Why delivery stopped before the input ended.
#[derive(Debug, Clone)]
pub enum Stop {
    /// A failure that is not about one record (authentication, workspace not
    /// set up): the run must stop with one message.
    Fatal { message: String, hint: String },
    /// The cancellation token fired.
    Interrupted,
}

/// Sends every job from `jobs` until the channel closes.
pub async fn deliver(
    _jobs: mpsc::Receiver<Job>,
    _settings: Settings,
    _stats: Arc<Stats>,
    _outcomes: Arc<dyn Outcomes>,
    _cancel: CancellationToken,
) -> Result<(), Stop> {
    unimplemented!()
}
