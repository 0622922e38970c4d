//! Delivery: sends prepared upsert bodies to Laudspeaker through a bounded
//! pool of in-flight requests, a shared rate limiter and a retry policy, and
//! reports each record's final outcome.
//!
//! This file holds the entry point and the dispatcher, which keeps records
//! with the same primary key in order: one of them at a time, in the order
//! received. [`worker`] takes one record through its attempts; [`client`]
//! makes one HTTP attempt; [`classify`] decides what an answer means;
//! [`backoff`] says how long to wait; [`limiter`] paces the whole run, at
//! the rate [`pace`] learns from the answers unless the pace is fixed;
//! [`outage`] holds everything back while the server is down.

mod backoff;
mod classify;
mod client;
mod limiter;
mod outage;
mod pace;
mod worker;

pub use client::load_ca_certs;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::secret::ApiKey;
use crate::stats::Stats;

pub use backoff::MAX_RETRY_AFTER;
use worker::{JobEnd, Worker};

/// How long requests in flight may still finish once the run is stopping;
/// whatever is still unanswered then is abandoned and counted as not sent.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// Received-but-unfinished records held at most, per request in flight.
const HELD_PER_REQUEST: usize = 4;

/// Received-but-unfinished records held at most, whatever the concurrency.
const MIN_HELD: usize = 64;

/// One record ready to send. Its buffers are owned so that a finished job
/// can be refilled with a later record instead of allocating new ones.
#[derive(Debug, Default)]
pub struct Job {
    /// Line where the record starts in the input (1-based).
    pub line: u64,
    /// The record's number in reading order (1-based, blank lines
    /// included): what the checkpoint records.
    pub seq: u64,
    /// The primary key as the server will see it (normalised, trimmed).
    /// Jobs with equal keys are sent one at a time, in the order received.
    pub key: String,
    /// The complete JSON request body.
    pub body: Vec<u8>,
    /// The record's original bytes, for the dead-letter file.
    pub raw: Vec<u8>,
    /// When the input is a dead-letter file: the record's line in the
    /// file it first came from.
    pub source_line: Option<u64>,
    /// The input the record came from, when a run reads several (its
    /// place among them; 0 for the first or only one).
    pub input: usize,
}

/// How delivery behaves; built from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Full URL of the upsert endpoint (`<base>/customers/upsert`).
    pub upsert_url: reqwest::Url,
    pub api_key: ApiKey,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Global request rate shared by all workers; `None`: unlimited. With
    /// `adaptive_pace`, the ceiling of the adaptive rate.
    pub rate: Option<governor::Quota>,
    /// Find the rate the server sustains from its answers ([`pace`]).
    pub adaptive_pace: bool,
    /// Limit for one request, from sending to the end of the answer.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with jitter, up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// How long an outage may last before the run stops (`--max-outage`).
    pub max_outage: Duration,
    /// Certificate authorities trusted besides the built-in roots
    /// (`--ca-cert`).
    pub ca_certs: Vec<reqwest::Certificate>,
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
    /// `customer_id`: the id the server's answer named (`{"id": ...}`).
    fn delivered(&self, job: Job, attempts: u32, customer_id: Option<&str>);
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
///
/// Each job that was attempted gets exactly one call to `outcomes`. Jobs
/// whose outcome is unknown because the run stopped (received but not
/// sent, waiting for a retry, abandoned in flight, or answered with the
/// fatal answer itself) are counted in `stats.not_sent`, as are jobs still
/// buffered in the channel when delivery stops; a job the caller fails to
/// send after that is the caller's to count.
pub async fn deliver(
    mut jobs: mpsc::Receiver<Job>,
    settings: Settings,
    stats: Arc<Stats>,
    outcomes: Arc<dyn Outcomes>,
    cancel: CancellationToken,
) -> Result<(), Stop> {
    let halt = cancel.child_token();
    let worker = match Worker::new(&settings, stats.clone(), outcomes, halt.clone()) {
        Ok(worker) => Arc::new(worker),
        Err(stop) => {
            stats
                .not_sent
                .fetch_add(abandon_channel(&mut jobs), Ordering::Relaxed);
            return Err(stop);
        }
    };
    let limits = Limits::for_concurrency(settings.concurrency);
    let run = |job: Job| {
        let worker = worker.clone();
        async move { worker.run(job).await }
    };
    let not_sent = Dispatcher::new(limits, run).run(&mut jobs, &halt).await;
    stats.not_sent.fetch_add(not_sent, Ordering::Relaxed);
    if let Some(stop) = worker.fatal() {
        return Err(stop);
    }
    if cancel.is_cancelled() {
        return Err(Stop::Interrupted);
    }
    Ok(())
}

/// Closes the channel and counts the jobs still buffered in it.
fn abandon_channel(jobs: &mut mpsc::Receiver<Job>) -> u64 {
    jobs.close();
    let mut count = 0;
    while jobs.try_recv().is_ok() {
        count += 1;
    }
    count
}

/// The dispatcher's bounds.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Jobs running at once.
    concurrency: usize,
    /// Jobs received and not finished (running, ready or queued behind an
    /// earlier job with the same key). While full, nothing more is received,
    /// so the channel fills and the reader waits.
    held: usize,
    /// How long running jobs may finish after a halt.
    grace: Duration,
}

impl Limits {
    fn for_concurrency(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        let held = concurrency.saturating_mul(HELD_PER_REQUEST).max(MIN_HELD);
        Limits {
            concurrency,
            held,
            grace: STOP_GRACE,
        }
    }
}

/// Starts jobs as tasks, at most `concurrency` at once, never two with the
/// same key at once, and same-key jobs in the order received.
///
/// Keys are tracked by a 64-bit hash rather than a copy of the key, so
/// admitting a job allocates nothing; two different keys sharing a hash
/// are merely serialised, which is harmless.
struct Dispatcher<R> {
    limits: Limits,
    run: R,
    hasher: RandomState,
    running: JoinSet<(u64, JobEnd)>,
    /// Jobs whose key is free of earlier jobs, waiting for a free slot.
    ready: VecDeque<(u64, Job)>,
    /// For every key with a job ready or running: the later jobs with that
    /// key, in the order received.
    behind: HashMap<u64, VecDeque<Job>>,
    /// Jobs received and not finished.
    held: usize,
    /// Jobs whose outcome was not reported because the run stopped.
    not_sent: u64,
}

impl<R, F> Dispatcher<R>
where
    R: FnMut(Job) -> F,
    F: Future<Output = JobEnd> + Send + 'static,
{
    fn new(limits: Limits, run: R) -> Self {
        Dispatcher {
            limits,
            run,
            hasher: RandomState::new(),
            running: JoinSet::new(),
            ready: VecDeque::new(),
            behind: HashMap::new(),
            held: 0,
            not_sent: 0,
        }
    }

    /// Runs jobs until the channel is closed and every job has finished, or
    /// until `halt` fires. Returns how many jobs were not sent.
    async fn run(mut self, jobs: &mut mpsc::Receiver<Job>, halt: &CancellationToken) -> u64 {
        let mut open = true;
        loop {
            self.start_ready();
            if !open && self.held == 0 {
                break;
            }
            let room = open && self.held < self.limits.held;
            tokio::select! {
                biased;
                () = halt.cancelled() => break,
                Some(done) = self.running.join_next() => self.finish(done),
                job = jobs.recv(), if room => match job {
                    Some(job) => self.admit(job),
                    None => open = false,
                },
            }
        }
        if halt.is_cancelled() {
            self.abandon_waiting();
            self.drain_running().await;
            self.not_sent += abandon_channel(jobs);
        }
        self.not_sent
    }

    /// Takes in a received job: ready if no job with its key is ahead of
    /// it, else queued behind the last one.
    fn admit(&mut self, job: Job) {
        let hash = self.hasher.hash_one(&*job.key);
        self.held += 1;
        match self.behind.entry(hash) {
            Entry::Occupied(mut queue) => queue.get_mut().push_back(job),
            Entry::Vacant(slot) => {
                slot.insert(VecDeque::new());
                self.ready.push_back((hash, job));
            }
        }
    }

    /// Starts ready jobs while slots are free.
    fn start_ready(&mut self) {
        while self.running.len() < self.limits.concurrency {
            let Some((hash, job)) = self.ready.pop_front() else {
                return;
            };
            let task = (self.run)(job);
            self.running.spawn(async move { (hash, task.await) });
        }
    }

    /// Books a finished job and makes the next job with its key ready.
    fn finish(&mut self, done: Result<(u64, JobEnd), JoinError>) {
        let Some(hash) = self.book(done) else {
            return;
        };
        if let Entry::Occupied(mut queue) = self.behind.entry(hash) {
            match queue.get_mut().pop_front() {
                Some(next) => self.ready.push_back((hash, next)),
                None => {
                    queue.remove();
                }
            }
        }
    }

    /// Counts a finished task and returns its key's hash; `None` for a task
    /// aborted after the grace time. A task that panicked passes its panic
    /// on: it is a bug, and its key's later jobs could never run.
    fn book(&mut self, done: Result<(u64, JobEnd), JoinError>) -> Option<u64> {
        self.held -= 1;
        match done {
            Ok((hash, end)) => {
                if end == JobEnd::Dropped {
                    self.not_sent += 1;
                }
                Some(hash)
            }
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(_) => {
                self.not_sent += 1;
                None
            }
        }
    }

    /// Counts every job not yet started as not sent.
    fn abandon_waiting(&mut self) {
        let queued: usize = self.behind.values().map(VecDeque::len).sum();
        let waiting = self.ready.len() + queued;
        self.ready.clear();
        self.behind.clear();
        self.held -= waiting;
        self.not_sent += waiting as u64;
    }

    /// Lets running jobs finish for the grace time, then abandons them.
    async fn drain_running(&mut self) {
        let deadline = tokio::time::sleep(self.limits.grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                biased;
                done = self.running.join_next() => match done {
                    Some(done) => {
                        self.book(done);
                    }
                    None => return,
                },
                () = &mut deadline => break,
            }
        }
        tracing::debug!(
            abandoned = self.running.len(),
            "requests still in flight abandoned"
        );
        self.running.abort_all();
        while let Some(done) = self.running.join_next().await {
            self.book(done);
        }
    }
}

#[cfg(test)]
mod end_to_end;
#[cfg(test)]
mod tests;
