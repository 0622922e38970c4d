//! One record from its first attempt to its final outcome: waits for the
//! outage gate, the run-wide pause and the rate limiter, sends, decides,
//! backs off, and reports the outcome, or stops the run on a fatal answer.

use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hyper::body::Bytes;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::backoff::{Backoff, Pause};
use super::classify::{self, Decision};
use super::client::{Answer, Sender};
use super::limiter::Limiter;
use super::outage::{self, Gate, Outages, RowMark, Ticket, Verdict};
use super::pace::{Observation, Signal};
use super::{Failure, Job, Outcomes, Settings, Stop};
use crate::stats::{RetryCause, Stats};

/// Extra wait after a `Retry-After` delay, so the retry cannot land a
/// fraction of a millisecond early by the server's clock.
const RETRY_AFTER_MARGIN: Duration = Duration::from_millis(10);

/// A `Retry-After` at least this long is announced at default verbosity.
const LONG_PAUSE: Duration = Duration::from_secs(5);

/// How a job's task ended, for the dispatcher's accounting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    /// `Outcomes` was told (delivered or failed).
    Reported,
    /// The run stopped before the record's outcome was known; it counts as
    /// not sent.
    Dropped,
}

/// What happened to a record, before the outcome is reported.
enum Settled {
    /// Attempts made, and the customer id the answer named.
    Delivered(u32, Option<String>),
    Failed(Failure),
    Dropped,
}

/// Everything the record tasks share.
pub struct Worker {
    sender: Sender,
    limiter: Limiter,
    pause: Pause,
    outages: Outages,
    max_outage: Duration,
    backoff: Backoff,
    max_retries: u32,
    timeout: Duration,
    stats: Arc<Stats>,
    outcomes: Arc<dyn Outcomes>,
    /// Fires on cancellation or on a fatal answer: no new attempt starts.
    halt: CancellationToken,
    /// The first fatal answer; later ones are the same story told again.
    fatal: OnceLock<Stop>,
    /// Some upsert of this run succeeded: the URL is right.
    endpoint_proven: AtomicBool,
}

impl Worker {
    pub fn new(
        settings: &Settings,
        stats: Arc<Stats>,
        outcomes: Arc<dyn Outcomes>,
        halt: CancellationToken,
    ) -> Result<Self, Stop> {
        Ok(Worker {
            sender: Sender::new(settings)?,
            limiter: Limiter::new(settings.rate, settings.adaptive_pace),
            pause: Pause::new(),
            outages: Outages::new(settings.concurrency, settings.max_outage),
            max_outage: settings.max_outage,
            backoff: Backoff::new(settings.backoff_base, settings.backoff_cap),
            max_retries: settings.max_retries,
            timeout: settings.timeout,
            stats,
            outcomes,
            halt,
            fatal: OnceLock::new(),
            endpoint_proven: AtomicBool::new(false),
        })
    }

    /// The fatal stop, if an answer called for one.
    pub fn fatal(&self) -> Option<Stop> {
        self.fatal.get().cloned()
    }

    /// Delivers `job` and reports its outcome, unless the run halts first.
    pub async fn run(&self, mut job: Job) -> JobEnd {
        // Bytes lets every attempt share the body; it goes back to the job
        // afterwards without a copy when no attempt still holds it.
        let body = Bytes::from(mem::take(&mut job.body));
        let settled = self.settle(&body, job.line).await;
        job.body = Vec::from(body);
        match settled {
            Settled::Delivered(attempts, id) => {
                self.outcomes.delivered(job, attempts, id.as_deref());
            }
            Settled::Failed(failure) => self.outcomes.failed(job, failure),
            Settled::Dropped => return JobEnd::Dropped,
        }
        JobEnd::Reported
    }

    /// Attempts until the record is delivered, refused, out of retries, or
    /// the run halts.
    async fn settle(&self, body: &Bytes, line: u64) -> Settled {
        let mut attempts = 0;
        let mut retrying: Option<RetryCause> = None;
        let mut mark = RowMark::default();
        loop {
            let Some(ticket) = self.leave_to_send().await else {
                return Settled::Dropped;
            };
            if let Some(cause) = retrying.take() {
                self.stats.retried(cause);
            }
            attempts += 1;
            let sent = Instant::now();
            let (answer, answered) = self.sender.send(body.clone()).await;
            let verdict = self.outages.answered(ticket, &answer, &mut mark);
            self.note_pace(&answer, sent, answered);
            if let Some(wait) = answer.retry_after() {
                self.pause.hold_until(answered + wait + RETRY_AFTER_MARGIN);
                tracing::debug!(line, wait_ms = wait.as_millis(), "server asked to pause");
                if wait >= LONG_PAUSE {
                    // Otherwise the run looks hung at 3 a.m.
                    tracing::warn!(
                        "the server asked every request to wait {} s (Retry-After); waiting",
                        wait.as_secs()
                    );
                }
            }
            let proven = self.endpoint_proven.load(Ordering::Relaxed);
            match classify::decide(&answer, attempts, self.max_retries, proven) {
                Decision::Delivered => {
                    self.endpoint_proven.store(true, Ordering::Relaxed);
                    return Settled::Delivered(attempts, answer.into_customer_id());
                }
                Decision::Retry(cause) | Decision::GiveUp(cause) if verdict == Verdict::Outage => {
                    // The server is down, not this record: the attempt is
                    // free, and the gate paces the next one.
                    attempts -= 1;
                    retrying = Some(cause);
                }
                Decision::GiveUp(cause)
                    if verdict == Verdict::Failed && self.outage_started(&mark).await =>
                {
                    attempts -= 1;
                    retrying = Some(cause);
                }
                Decision::Retry(cause) => {
                    tracing::debug!(line, attempts, ?cause, "retrying");
                    if !self.back_off(attempts).await {
                        return Settled::Dropped;
                    }
                    retrying = Some(cause);
                }
                Decision::GiveUp(_) | Decision::Reject(_) => {
                    return Settled::Failed(classify::failure(&answer, attempts, self.timeout));
                }
                Decision::Fatal(fatal) => {
                    self.stop_run(classify::stop(fatal, &answer));
                    return Settled::Dropped;
                }
            }
        }
    }

    /// Waits for the outage gate, then for the pause and the limiter.
    /// `None` if the run halts first.
    async fn leave_to_send(&self) -> Option<Ticket> {
        loop {
            let ticket = self.pass_gate().await?;
            if !self.clear_to_send().await {
                self.outages.release(ticket);
                return None;
            }
            if !self.outages.stale(ticket) {
                return Some(ticket);
            }
            // An outage began while this waited for the pause or the
            // limiter: back to the gate instead of sending.
            self.outages.release(ticket);
        }
    }

    /// Waits at the outage gate. `None` if the run halts first, or if the
    /// outage has lasted too long (which halts the run).
    async fn pass_gate(&self) -> Option<Ticket> {
        let gate = tokio::select! {
            biased;
            () = self.halt.cancelled() => return None,
            gate = self.outages.admit() => gate,
        };
        match gate {
            Gate::Go(ticket) => Some(ticket),
            Gate::TooLong(lasted) => {
                self.stop_run(outage::too_long(lasted, self.max_outage));
                None
            }
        }
    }

    /// For a record out of retries on a "down" answer: whether the answers
    /// still in flight show an outage (then the failure is not its own).
    /// True if the run halts meanwhile, so the record ends not sent rather
    /// than dead-lettered on a doubt.
    async fn outage_started(&self, mark: &RowMark) -> bool {
        tokio::select! {
            biased;
            () = self.halt.cancelled() => true,
            started = self.outages.doubt(mark) => started,
        }
    }

    /// Waits until no `Retry-After` pause holds and the rate limiter grants
    /// a permit. False if the run halts meanwhile.
    async fn clear_to_send(&self) -> bool {
        loop {
            let permitted = async {
                self.pause.wait().await;
                self.limiter.ready().await;
            };
            tokio::select! {
                biased;
                () = self.halt.cancelled() => return false,
                () = permitted => {}
            }
            // A pause announced while waiting for the permit still applies.
            if self.pause.is_clear() {
                return true;
            }
        }
    }

    /// Counts a 429 and tells the limiter how the attempt went.
    fn note_pace(&self, answer: &Answer, sent: Instant, answered: Instant) {
        let signal = pace_signal(answer);
        if signal == Signal::Throttled {
            Stats::bump(&self.stats.answers_429);
        }
        self.limiter.observe(Observation {
            signal,
            sent,
            answered,
        });
    }

    /// Sleeps the backoff before retry number `retry`. False if the run
    /// halts first.
    async fn back_off(&self, retry: u32) -> bool {
        let delay = self.backoff.delay(retry, &mut rand::rng());
        tokio::select! {
            biased;
            () = self.halt.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }

    /// Records the first fatal stop and halts every worker.
    fn stop_run(&self, stop: Stop) {
        if self.fatal.set(stop).is_ok() {
            tracing::debug!("fatal answer: halting delivery");
        }
        self.halt.cancel();
    }
}

/// What an answer says about the pace: a 429 is a verdict on it; a 5xx or no
/// answer at all is trouble but no verdict; any other answer is healthy (a
/// 4xx is about the record, not the pace).
fn pace_signal(answer: &Answer) -> Signal {
    match answer {
        Answer::Reply(reply) if reply.status == 429 => Signal::Throttled,
        Answer::Reply(reply) if reply.status >= 500 => Signal::Failed,
        Answer::Reply(_) => Signal::Answered,
        Answer::TimedOut | Answer::Unreachable(_) | Answer::Untrusted(_) => Signal::Failed,
    }
}
