//! Outages: telling a server that is down from records that fail, and
//! while it is down, holding every worker back and letting one probe at a
//! time find out when it is back.
//!
//! Every answer is evidence. A failed connection, a timeout, or a gateway's
//! 502, 503 or 504 says the server may be down; any other answer (a 2xx, a
//! 4xx, a 429, a 500) says it is up. A 500 counts as up: Laudspeaker
//! answers some bad records with 500, and a few of them left at the end of
//! a run must be dead-lettered, not taken for an outage.
//!
//! An outage starts when five different records have failed in a row with
//! no "up" answer between, each attempt sent after the last "up" answer
//! arrived (a request that hung since before then says nothing about the
//! server now). With fewer requests in flight at once, [`rows_to_declare`]
//! records do, once their failures have gone on for [`SLOW_DECLARE`]: two
//! records failing together at a concurrency of 2 are too common to stop
//! for. From then on, attempts wait at the
//! gate ([`Outages::admit`]); one of the held records is sent as the probe,
//! with a growing pause between probes ([`PROBE_FIRST`] doubling up to
//! [`PROBE_CAP`]); the first "up" answer ends the outage and releases them
//! all. An attempt that failed during the outage does not count against its
//! record's retries, and a record whose retries run out on a "down" answer
//! while the others' answers are still pending waits for them first
//! ([`Outages::doubt`]), so an outage dead-letters no record. After
//! `max` without an answer, the gate tells the run to stop.
//!
//! Known shortcoming: with `--concurrency 1`, the first record an outage
//! catches can still be dead-lettered once its retries run out, since one
//! failing record alone cannot be told from a bad record.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::backoff::Backoff;
use super::client::Answer;
use super::Stop;

/// The pause between an outage's start and its first probe.
pub const PROBE_FIRST: Duration = Duration::from_millis(250);

/// The longest pause between two probes.
pub const PROBE_CAP: Duration = Duration::from_secs(4);

/// Different records failing in a row that start an outage at once.
pub const ROWS_FOR_OUTAGE: u32 = 5;

/// How long the failures of fewer records must go on to start an outage.
pub const SLOW_DECLARE: Duration = Duration::from_secs(1);

/// Different records that must fail in a row to start an outage: five, or
/// fewer when fewer requests are in flight at once (then only after
/// [`SLOW_DECLARE`]), but never one.
pub fn rows_to_declare(concurrency: usize) -> u32 {
    let rows = u32::try_from(concurrency).unwrap_or(ROWS_FOR_OUTAGE);
    rows.clamp(2, ROWS_FOR_OUTAGE)
}

/// What an answer says about the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Up,
    Down,
}

/// Reads an answer as evidence. Every `Down` answer is one that
/// `classify::decide` retries (checked by a test below).
pub fn evidence(answer: &Answer) -> Evidence {
    match answer {
        Answer::Reply(reply) if matches!(reply.status, 502..=504) => Evidence::Down,
        Answer::Reply(_) => Evidence::Up,
        // The server answered the handshake: it is there (and the run stops).
        Answer::Untrusted(_) => Evidence::Up,
        Answer::TimedOut | Answer::Unreachable(_) => Evidence::Down,
    }
}

/// Which kind of attempt the gate let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// No outage: send as usual.
    Normal,
    /// The one probe of an outage.
    Probe,
}

/// Leave to send one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    pub turn: Turn,
    /// How many "up" answers had arrived when it was given.
    ups_before: u64,
}

/// What the gate says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Go(Ticket),
    /// The outage has lasted longer than allowed: stop the run.
    TooLong(Duration),
}

/// What an attempt's answer meant, once booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The server answered.
    Up,
    /// A "down" answer outside an outage: it counts against the record.
    Failed,
    /// A "down" answer during an outage (or the one that started it): it
    /// does not count against the record.
    Outage,
}

/// A record's place in the current run of failures: the count of "up"
/// answers at its last "down" answer, so that its repeated failures count
/// it once.
#[derive(Debug, Default)]
pub struct RowMark(Option<u64>);

/// The outage state every worker shares.
#[derive(Debug)]
pub struct Outages {
    rows_to_declare: u32,
    max: Duration,
    probes: Backoff,
    /// An outage is under way: the gate must look closer.
    down: AtomicBool,
    /// A run of failures or an outage is under way: an "up" answer must
    /// end it.
    troubled: AtomicBool,
    /// "Up" answers so far: a run of failures is the "down" answers that
    /// came since the last one.
    ups: AtomicU64,
    /// Attempts let through the gate and not yet booked.
    in_flight: AtomicUsize,
    /// Callers of [`doubt`](Self::doubt) waiting: every answer must wake
    /// them.
    doubting: AtomicUsize,
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// The `ups` count the run of failures below belongs to.
    epoch: u64,
    /// Different records with a "down" answer in this run.
    failing_rows: u32,
    /// The first "down" answer of this run.
    failing_since: Option<Instant>,
    outage: Option<Outage>,
}

#[derive(Debug)]
struct Outage {
    since: Instant,
    probing: bool,
    failed_probes: u32,
    next_probe: Instant,
}

impl Outages {
    pub fn new(concurrency: usize, max: Duration) -> Self {
        Outages {
            rows_to_declare: rows_to_declare(concurrency),
            max,
            probes: Backoff::new(PROBE_FIRST, PROBE_CAP),
            down: AtomicBool::new(false),
            troubled: AtomicBool::new(false),
            ups: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            doubting: AtomicUsize::new(0),
            state: Mutex::default(),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements; keep using it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until an attempt may be sent: at once outside an outage,
    /// else when this caller gets the next probe's turn, or the outage
    /// ends. Every `Go` must be followed by [`answered`](Self::answered)
    /// or [`release`](Self::release).
    pub async fn admit(&self) -> Gate {
        if !self.down.load(Ordering::Acquire) {
            return self.go(Turn::Normal);
        }
        loop {
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            let wake = {
                let mut state = self.lock();
                let now = Instant::now();
                let Some(outage) = state.outage.as_mut() else {
                    return self.go(Turn::Normal);
                };
                let lasted = now - outage.since;
                if lasted >= self.max {
                    return Gate::TooLong(lasted);
                }
                if !outage.probing && now >= outage.next_probe {
                    outage.probing = true;
                    return self.go(Turn::Probe);
                }
                let give_up = outage.since + self.max;
                match outage.probing {
                    true => give_up,
                    false => outage.next_probe.min(give_up),
                }
            };
            tokio::select! {
                () = changed => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    fn go(&self, turn: Turn) -> Gate {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let ups_before = self.ups.load(Ordering::Acquire);
        Gate::Go(Ticket { turn, ups_before })
    }

    /// Whether an outage began after `ticket` was given as a normal one:
    /// then it should be given back rather than used.
    pub fn stale(&self, ticket: Ticket) -> bool {
        ticket.turn == Turn::Normal && self.down.load(Ordering::Acquire)
    }

    /// Gives back a ticket that sent nothing.
    pub fn release(&self, ticket: Ticket) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        if ticket.turn == Turn::Probe {
            if let Some(outage) = self.lock().outage.as_mut() {
                outage.probing = false;
            }
        }
        self.changed.notify_waiters();
    }

    /// Books the answer to an attempt sent with `ticket`.
    pub fn answered(&self, ticket: Ticket, answer: &Answer, row: &mut RowMark) -> Verdict {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        match evidence(answer) {
            Evidence::Up => {
                self.ups.fetch_add(1, Ordering::AcqRel);
                if self.troubled.load(Ordering::Acquire) {
                    self.recovered();
                } else if self.doubting.load(Ordering::Acquire) > 0 {
                    self.changed.notify_waiters();
                }
                Verdict::Up
            }
            Evidence::Down => self.failed(ticket, answer, row),
        }
    }

    /// An "up" answer: the run of failures, and any outage, is over.
    fn recovered(&self) {
        let mut state = self.lock();
        if let Some(outage) = state.outage.take() {
            self.down.store(false, Ordering::Release);
            let lasted = Instant::now() - outage.since;
            crate::say!(
                "outage over after {:.1}s: the server answers again; resuming",
                lasted.as_secs_f64()
            );
        }
        self.troubled.store(false, Ordering::Release);
        drop(state);
        self.changed.notify_waiters();
    }

    fn failed(&self, ticket: Ticket, answer: &Answer, row: &mut RowMark) -> Verdict {
        let mut state = self.lock();
        self.troubled.store(true, Ordering::Release);
        let now = Instant::now();
        let ups = self.ups.load(Ordering::Acquire);
        let verdict = if let Some(outage) = state.outage.as_mut() {
            if ticket.turn == Turn::Probe {
                outage.probing = false;
                outage.failed_probes += 1;
                outage.next_probe = now + self.probes.nominal(outage.failed_probes + 1);
            }
            Verdict::Outage
        } else if ticket.ups_before != ups {
            // The server answered since this was sent: stale news.
            Verdict::Failed
        } else {
            if state.epoch != ups {
                state.epoch = ups;
                state.failing_rows = 0;
                state.failing_since = None;
            }
            if row.0 != Some(ups) {
                row.0 = Some(ups);
                state.failing_rows += 1;
            }
            let since = *state.failing_since.get_or_insert(now);
            let rows = state.failing_rows;
            let long = now - since >= SLOW_DECLARE;
            if rows >= ROWS_FOR_OUTAGE || rows >= self.rows_to_declare && long {
                self.declare(&mut state, since, answer);
                Verdict::Outage
            } else {
                Verdict::Failed
            }
        };
        drop(state);
        self.changed.notify_waiters();
        verdict
    }

    fn declare(&self, state: &mut State, since: Instant, answer: &Answer) {
        state.outage = Some(Outage {
            since,
            probing: false,
            failed_probes: 0,
            next_probe: Instant::now() + self.probes.nominal(1),
        });
        self.down.store(true, Ordering::Release);
        crate::say!(
            "outage: {} records in a row failed (last: {}); holding every request and \
             probing the server until it answers",
            state.failing_rows,
            describe(answer)
        );
    }

    /// For a record whose retries ran out on a "down" answer: waits for
    /// the attempts still in flight to tell whether the server is down.
    /// True when an outage started (the failure does not count); false
    /// when another answer came, or nothing is left in flight to tell.
    pub async fn doubt(&self, row: &RowMark) -> bool {
        self.doubting.fetch_add(1, Ordering::AcqRel);
        // Counted down however this ends, the caller giving up included.
        let _doubting = CountedDown(&self.doubting);
        self.wait_for_evidence(row).await
    }

    async fn wait_for_evidence(&self, row: &RowMark) -> bool {
        loop {
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            {
                let state = self.lock();
                if state.outage.is_some() {
                    return true;
                }
                let ups = self.ups.load(Ordering::Acquire);
                if row.0 != Some(ups) || self.in_flight.load(Ordering::Acquire) == 0 {
                    return false;
                }
            }
            changed.await;
        }
    }
}

/// Takes one off a counter when dropped.
struct CountedDown<'a>(&'a AtomicUsize);

impl Drop for CountedDown<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The failure in a few words, for the line announcing an outage.
fn describe(answer: &Answer) -> String {
    match answer {
        Answer::Reply(reply) => format!("HTTP {}", reply.status),
        Answer::TimedOut => "timed out".to_owned(),
        Answer::Unreachable(detail) | Answer::Untrusted(detail) => detail.clone(),
    }
}

/// The run's stop when an outage outlasts `--max-outage`.
pub fn too_long(lasted: Duration, max: Duration) -> Stop {
    Stop::Fatal {
        message: format!(
            "the server has not answered for {:.0}s, longer than --max-outage {}",
            lasted.as_secs_f64(),
            humantime::format_duration(max)
        ),
        hint: "nothing was lost: the summary counts the rows not sent; run the same command \
               again once the server is back to continue (upserting a row twice is harmless)"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::classify::{decide, Decision};
    use super::super::client::Reply;
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn reply(status: u16) -> Answer {
        Answer::Reply(Reply {
            status,
            message: String::new(),
            retry_after: None,
            not_json: false,
            id: None,
        })
    }

    fn refused() -> Answer {
        Answer::Unreachable("connection refused".into())
    }

    fn go(gate: Gate) -> Ticket {
        match gate {
            Gate::Go(ticket) => ticket,
            Gate::TooLong(lasted) => panic!("stopped after {lasted:?}"),
        }
    }

    /// One attempt of record `row` answered with `answer`.
    async fn attempt(outages: &Outages, row: &mut RowMark, answer: &Answer) -> Verdict {
        let turn = go(outages.admit().await);
        outages.answered(turn, answer, row)
    }

    #[test]
    fn down_answers_are_all_retried_by_decide() {
        let answers = (100..=999).map(reply).chain([Answer::TimedOut, refused()]);
        for answer in answers {
            if evidence(&answer) == Evidence::Down {
                let decision = decide(&answer, 1, 3, true);
                assert!(matches!(decision, Decision::Retry(_)), "{answer:?}");
            }
        }
        assert_eq!(evidence(&reply(500)), Evidence::Up);
        assert_eq!(evidence(&reply(429)), Evidence::Up);
        assert_eq!(evidence(&reply(503)), Evidence::Down);
    }

    #[test]
    fn the_threshold_follows_the_concurrency() {
        let thresholds: Vec<u32> = [1, 2, 3, 5, 64].map(rows_to_declare).to_vec();
        assert_eq!(thresholds, [2, 2, 3, 5, 5]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_outage_needs_different_records_failing_in_a_row() {
        let outages = Outages::new(8, Duration::from_secs(600));
        let early = go(outages.admit().await);
        let mut rows: Vec<RowMark> = (0..5).map(|_| RowMark::default()).collect();
        for _ in 0..10 {
            let verdict = attempt(&outages, &mut rows[0], &refused()).await;
            assert_eq!(verdict, Verdict::Failed, "one record failing again");
        }
        for row in &mut rows[1..4] {
            assert_eq!(attempt(&outages, row, &reply(503)).await, Verdict::Failed);
        }
        assert_eq!(
            attempt(&outages, &mut rows[4], &Answer::TimedOut).await,
            Verdict::Outage
        );
        assert!(outages.down.load(Ordering::Acquire));
        assert!(outages.stale(early), "a ticket from before the outage");
        outages.release(early);
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_between_failures_starts_the_count_again() {
        let outages = Outages::new(8, Duration::from_secs(600));
        let mut rows: Vec<RowMark> = (0..6).map(|_| RowMark::default()).collect();
        for row in &mut rows[..3] {
            assert_eq!(attempt(&outages, row, &refused()).await, Verdict::Failed);
        }
        assert_eq!(
            attempt(&outages, &mut rows[5], &reply(500)).await,
            Verdict::Up
        );
        for row in &mut rows[..4] {
            assert_eq!(attempt(&outages, row, &refused()).await, Verdict::Failed);
        }
        assert_eq!(
            attempt(&outages, &mut rows[4], &refused()).await,
            Verdict::Outage
        );
    }

    #[tokio::test(start_paused = true)]
    async fn at_low_concurrency_the_failures_must_last() {
        let outages = Outages::new(2, Duration::from_secs(600));
        let (mut first, mut second) = (RowMark::default(), RowMark::default());
        assert_eq!(
            attempt(&outages, &mut first, &refused()).await,
            Verdict::Failed
        );
        assert_eq!(
            attempt(&outages, &mut second, &refused()).await,
            Verdict::Failed
        );
        tokio::time::sleep(SLOW_DECLARE - MS).await;
        assert_eq!(
            attempt(&outages, &mut first, &refused()).await,
            Verdict::Failed
        );
        tokio::time::sleep(MS).await;
        assert_eq!(
            attempt(&outages, &mut second, &refused()).await,
            Verdict::Outage
        );
    }

    /// Declares an outage with five records.
    async fn declared(max: Duration) -> Arc<Outages> {
        let outages = Arc::new(Outages::new(8, max));
        for _ in 0..5 {
            attempt(&outages, &mut RowMark::default(), &reply(503)).await;
        }
        assert!(outages.down.load(Ordering::Acquire));
        outages
    }

    #[tokio::test(start_paused = true)]
    async fn one_probe_at_a_time_with_growing_pauses() {
        let outages = declared(Duration::from_secs(600)).await;
        let start = Instant::now();
        let mut probes = Vec::new();
        // Eight records wait at the gate; every probe fails.
        let mut waiting = tokio::task::JoinSet::new();
        let (sent, mut probed) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..8 {
            let (outages, sent) = (outages.clone(), sent.clone());
            waiting.spawn(async move {
                let mut row = RowMark::default();
                loop {
                    let turn = go(outages.admit().await);
                    assert_eq!(turn.turn, Turn::Probe, "nobody else gets through");
                    sent.send(Instant::now()).expect("the test listens");
                    tokio::time::sleep(10 * MS).await;
                    let verdict = outages.answered(turn, &reply(503), &mut row);
                    assert_eq!(verdict, Verdict::Outage);
                }
            });
        }
        while probes.len() < 7 {
            probes.push(probed.recv().await.expect("a probe") - start);
        }
        let gaps: Vec<u128> = probes.iter().map(|at| at.as_millis()).collect();
        assert_eq!(gaps, [250, 760, 1770, 3780, 7790, 11800, 15810]);
        waiting.abort_all();
    }

    #[tokio::test(start_paused = true)]
    async fn an_answered_probe_ends_the_outage_for_everyone() {
        let outages = declared(Duration::from_secs(600)).await;
        let mut waiting = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let outages = outages.clone();
            waiting.spawn(async move { go(outages.admit().await) });
        }
        tokio::time::sleep(PROBE_FIRST).await;
        let turns = {
            let mut turns = Vec::new();
            // The probe's holder answers up; the others then pass as usual.
            let first = waiting
                .join_next()
                .await
                .expect("a task")
                .expect("no panic");
            turns.push(first);
            outages.answered(first, &reply(200), &mut RowMark::default());
            while let Some(turn) = waiting.join_next().await {
                turns.push(turn.expect("no panic"));
            }
            turns
        };
        let turns: Vec<Turn> = turns.iter().map(|ticket| ticket.turn).collect();
        assert_eq!(
            turns,
            [Turn::Probe, Turn::Normal, Turn::Normal, Turn::Normal]
        );
        assert!(!outages.down.load(Ordering::Acquire));
        assert_eq!(go(outages.admit().await).turn, Turn::Normal);
    }

    #[tokio::test(start_paused = true)]
    async fn an_outage_longer_than_the_limit_stops_the_run() {
        let start = Instant::now();
        let outages = declared(Duration::from_secs(2)).await;
        let probe = go(outages.admit().await);
        assert_eq!(probe.turn, Turn::Probe);
        // The probe hangs; the others are told to stop at the limit.
        let gate = outages.admit().await;
        assert_eq!(gate, Gate::TooLong(Duration::from_secs(2)));
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
        let Stop::Fatal { message, hint } =
            too_long(Duration::from_secs(2), Duration::from_secs(2))
        else {
            panic!("a fatal stop");
        };
        assert_eq!(
            message,
            "the server has not answered for 2s, longer than --max-outage 2s"
        );
        assert!(hint.contains("run the same command again"), "{hint}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_released_probe_lets_another_caller_probe() {
        let outages = declared(Duration::from_secs(600)).await;
        let probe = go(outages.admit().await);
        outages.release(probe);
        assert_eq!(go(outages.admit().await).turn, Turn::Probe);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_of_requests_sent_before_the_last_answer_do_not_count() {
        let outages = Outages::new(2, Duration::from_secs(600));
        // Two requests hang while a third is answered.
        let hung = [go(outages.admit().await), go(outages.admit().await)];
        attempt(&outages, &mut RowMark::default(), &reply(200)).await;
        for ticket in hung {
            let verdict = outages.answered(ticket, &Answer::TimedOut, &mut RowMark::default());
            assert_eq!(verdict, Verdict::Failed);
        }
        assert!(!outages.down.load(Ordering::Acquire));
        // Sent after the last answer, two failures do count.
        attempt(&outages, &mut RowMark::default(), &refused()).await;
        tokio::time::sleep(SLOW_DECLARE).await;
        let last = attempt(&outages, &mut RowMark::default(), &refused()).await;
        assert_eq!(last, Verdict::Outage);
    }

    #[tokio::test(start_paused = true)]
    async fn doubt_waits_for_the_answers_in_flight() {
        let outages = Arc::new(Outages::new(3, Duration::from_secs(600)));
        let mut spent = RowMark::default();
        // Nothing else in flight: the failure is the record's own.
        assert_eq!(
            attempt(&outages, &mut spent, &refused()).await,
            Verdict::Failed
        );
        assert!(!outages.doubt(&spent).await);

        // Another attempt in flight answers up: the record gives up.
        let other = go(outages.admit().await);
        assert_eq!(
            attempt(&outages, &mut spent, &refused()).await,
            Verdict::Failed
        );
        let doubting = tokio::spawn({
            let outages = outages.clone();
            async move { outages.doubt(&spent).await }
        });
        tokio::time::sleep(100 * MS).await;
        outages.answered(other, &reply(200), &mut RowMark::default());
        assert!(!doubting.await.expect("no panic"));
    }

    #[tokio::test(start_paused = true)]
    async fn doubt_ends_in_an_outage_when_the_others_fail_too() {
        let outages = Arc::new(Outages::new(8, Duration::from_secs(600)));
        let mut others = Vec::new();
        for _ in 0..4 {
            others.push(go(outages.admit().await));
        }
        let mut spent = RowMark::default();
        assert_eq!(
            attempt(&outages, &mut spent, &refused()).await,
            Verdict::Failed
        );
        let doubting = tokio::spawn({
            let outages = outages.clone();
            async move { outages.doubt(&spent).await }
        });
        for turn in others {
            tokio::time::sleep(100 * MS).await;
            outages.answered(turn, &Answer::TimedOut, &mut RowMark::default());
        }
        assert!(
            doubting.await.expect("no panic"),
            "the fifth record started an outage"
        );
    }
}
