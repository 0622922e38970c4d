//! The adaptive pace: a pure state machine that learns the request rate the
//! server sustains from the answers it gives, and says how many requests
//! per second may go out now. [`super::limiter`] feeds it and enforces it.
//!
//! # What is controlled, and why a rate
//!
//! The controller sets a request *rate* (the refill rate of a token bucket);
//! the number of requests in flight stays capped by `--concurrency` and is
//! not adapted. A rate, because:
//!
//! - the limits hosted APIs enforce are rates (requests per second per key),
//!   and a 429 says "too many per unit of time", not "too many at once";
//! - an in-flight limit paces only through latency (rate = in flight /
//!   latency): at 1 ms per answer one request in flight is already 1,000/s,
//!   so no in-flight limit can express 200/s, and the pace it gives moves
//!   with every change of latency;
//! - the fixed in-flight cap already slows the run when the server slows
//!   (fewer answers per second through the same number of slots), and a
//!   marked rise of latency also cuts the rate (below), so the case an
//!   in-flight controller (as Vector's adaptive request concurrency) is made
//!   for is covered.
//!
//! # The rule: additive increase, multiplicative decrease
//!
//! Answers are tallied in windows of [`WINDOW`]; a window closes at the first
//! answer arriving at least [`WINDOW`] after it opened.
//!
//! - **Start.** Without `--rate` the pace starts unlimited (only the
//!   concurrency bounds it), so a server that never complains costs nothing;
//!   with `--rate` it starts at that rate, which it never exceeds.
//! - **Cut on a 429**, at once. The new rate is [`KEEP`] (95%) of the current
//!   one. When the server accepted less than that over the last two windows
//!   (healthy answers per second), the rate is cut to 95% of what it
//!   accepted instead, but never below [`FLOOR`] (half) of the current rate
//!   in one cut: a window that held a `Retry-After` pause understates what
//!   the server takes. A 429 answering a request sent before the last cut,
//!   or less than [`SETTLE`] after it, is an echo of the same excess and
//!   cuts nothing more: without that, a server refusing everything for a
//!   moment would halve the rate with every request sent meanwhile.
//! - **Cut on rising latency.** When a window's mean latency is more than
//!   [`LATENCY_RATIO`] times the usual one and [`LATENCY_SLACK`] above it,
//!   the rate is cut to 95% (while unlimited: of the rate answers came at).
//!   The usual latency is an average over past windows that follows a
//!   lasting change within a few windows, so a server that is simply slower
//!   now is not punished forever.
//! - **Raise while healthy.** A window with no 429, no failure, no cut and
//!   normal latency (the window after a latency cut is not judged: its
//!   answers were mostly sent before the cut), that used at least [`BUSY`]
//!   of the allowance (else the rate is not what holds the run back),
//!   raises the rate by a fixed step. The step is set at each cut so that
//!   the climb from the cut back to the rate that was cut takes
//!   [`CLIMB_WINDOWS`] windows: slow after a 5% cut, faster after a deep
//!   one, whose depth may come from a measurement that a pause or the
//!   start of the run distorted.
//!
//! Why these constants: a throttling server usually answers 429 with
//! `Retry-After: 1` or more, which pauses every worker for at least a
//! second, so a cycle of cut, climb and the next 429 must last well over
//! 10 s for the pause to cost under 10%, and the climb must start close
//! under the limit. Cutting by 5% and climbing back over 30 s loses about
//! 2.5% during the climb and one pause per cycle of about 30 s. (TCP halves
//! on a loss; here a half-speed climb would cost 25%. A 10% cut and a 20 s
//! climb measured 176 rows/s against a 200/s bucket of 10 tokens.) The
//! unit tests' model of a 200/s token bucket (10 to 200 tokens,
//! `Retry-After: 1`) settles within 10% of it after the first 10 s, with
//! under 0.1% of requests throttled; `simulated_throttle_settles_near_it`
//! keeps that in check. A burst of deep cuts is still possible at the
//! start, when the first 429s come from an unlimited pace.
//!
//! Known shortcoming: the window is a fixed second, whatever the latency;
//! against a server answering in several seconds, a window holds answers
//! to requests sent at an older rate, and the rate moves on stale news.

use std::time::Duration;

use tokio::time::Instant;

/// A 429 for a request sent less than this after a cut is an echo of the
/// excess already answered by the cut: the cut needs a moment to show.
pub const SETTLE: Duration = Duration::from_millis(100);

/// How long answers are tallied before the rate may rise.
pub const WINDOW: Duration = Duration::from_secs(1);

/// Share of the rate kept by a cut.
pub const KEEP: f64 = 0.95;

/// Share of the rate one cut keeps at least.
pub const FLOOR: f64 = 0.5;

/// Windows a climb takes from a cut back to the rate that was throttled.
pub const CLIMB_WINDOWS: f64 = 30.0;

/// Share of the allowance a window must use for the rate to rise.
pub const BUSY: f64 = 0.8;

/// The rate is never cut below this many requests per second.
pub const MIN_RATE: f64 = 1.0;

/// A window's mean latency this many times the usual one is a rise...
pub const LATENCY_RATIO: f64 = 2.0;

/// ...when it is also this much above it: on a fast link latency doubles
/// with any hiccup, and that says nothing about the server.
pub const LATENCY_SLACK: Duration = Duration::from_millis(50);

/// Weight of the newest window in the usual latency.
const LATENCY_WEIGHT: f64 = 0.25;

/// Answers a window needs for its mean latency to count.
const LATENCY_SAMPLES: u32 = 5;

/// What one answer says about the pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The server answered and did not complain about the pace (2xx, and
    /// 4xx other than 429: those are about the record).
    Answered,
    /// 429 Too Many Requests.
    Throttled,
    /// A 5xx, a timeout or a broken connection: not a verdict on the pace,
    /// but not a healthy answer either.
    Failed,
}

/// One answer as the controller sees it.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub signal: Signal,
    /// When the request went out.
    pub sent: Instant,
    /// When its answer (or failure) came.
    pub answered: Instant,
}

/// Why the rate was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Throttled,
    /// The window's mean latency and the usual one.
    Latency {
        mean: Duration,
        usual: Duration,
    },
}

/// A change of the allowance, for the log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    Cut { rate: f64, cause: Cause },
    Raised { rate: f64 },
}

/// Counts of one window.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    answers: u32,
    /// Answers with [`Signal::Answered`], whose latency is summed.
    healthy: u32,
    latency: Duration,
    /// Some answer was throttled or failed, or the rate was cut.
    troubled: bool,
}

/// The controller. Feed it every answer with [`Pace::observe`]; read the
/// allowance with [`Pace::rate`].
#[derive(Debug, Clone)]
pub struct Pace {
    ceiling: Option<f64>,
    /// Requests per second allowed; `None`: unlimited.
    rate: Option<f64>,
    /// What a healthy window adds to the rate.
    step: f64,
    opened: Instant,
    /// No answer yet: the first one's send time opens the first window, so
    /// the time spent starting up is not taken for a slow server.
    fresh: bool,
    current: Tally,
    /// The window before the current one: when it opened, and its counts.
    previous: Option<(Instant, Tally)>,
    usual_latency: Option<Duration>,
    last_cut: Option<Instant>,
}

impl Pace {
    /// A controller starting at `now`, never above `ceiling` requests per
    /// second (`None`: no ceiling; the pace then starts unlimited).
    pub fn new(ceiling: Option<f64>, now: Instant) -> Self {
        let ceiling = ceiling.map(|c| c.max(MIN_RATE));
        Pace {
            ceiling,
            rate: ceiling,
            step: 0.0,
            opened: now,
            fresh: true,
            current: Tally::default(),
            previous: None,
            usual_latency: None,
            last_cut: None,
        }
    }

    /// Requests per second allowed now; `None` means unlimited.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Takes in one answer; returns the change of allowance it caused.
    pub fn observe(&mut self, seen: Observation) -> Option<Change> {
        if self.fresh {
            self.fresh = false;
            self.opened = seen.sent;
        }
        let closed = self.roll(seen.answered);
        self.current.answers += 1;
        match seen.signal {
            Signal::Answered => {
                self.current.healthy += 1;
                self.current.latency += seen.answered.saturating_duration_since(seen.sent);
                closed
            }
            Signal::Failed => {
                self.current.troubled = true;
                closed
            }
            Signal::Throttled => {
                self.current.troubled = true;
                let echo = self.last_cut.is_some_and(|cut| seen.sent < cut + SETTLE);
                if echo {
                    return closed;
                }
                Some(self.cut_for_throttle(seen.answered))
            }
        }
    }

    /// Closes the current window if it is over; returns what closing it
    /// changed.
    fn roll(&mut self, now: Instant) -> Option<Change> {
        let span = now.saturating_duration_since(self.opened);
        if span < WINDOW {
            return None;
        }
        let tally = std::mem::take(&mut self.current);
        let change = self.judge(&tally, span, now);
        self.previous = Some((self.opened, tally));
        self.opened = now;
        change
    }

    /// What a closed window says: cut for latency, raise, or nothing.
    fn judge(&mut self, tally: &Tally, span: Duration, now: Instant) -> Option<Change> {
        let mean = (tally.healthy >= LATENCY_SAMPLES).then(|| tally.latency / tally.healthy);
        let usual = self.usual_latency;
        if let Some(mean) = mean {
            self.usual_latency = Some(match usual {
                None => mean,
                Some(usual) => usual.mul_f64(1.0 - LATENCY_WEIGHT) + mean.mul_f64(LATENCY_WEIGHT),
            });
        }
        if tally.troubled {
            return None;
        }
        if let (Some(mean), Some(usual)) = (mean, usual) {
            if latency_rose(mean, usual) {
                let cause = Cause::Latency { mean, usual };
                let base = self.rate.unwrap_or(f64::from(tally.answers) / secs(span));
                return Some(self.cut_to(KEEP * base, base, now, cause));
            }
        }
        let rate = self.rate?;
        if f64::from(tally.answers) < BUSY * rate * secs(span) {
            return None;
        }
        let raised = self.capped(rate + self.step);
        if raised <= rate {
            return None;
        }
        self.rate = Some(raised);
        Some(Change::Raised { rate: raised })
    }

    /// The cut for a 429 that is not an echo of an earlier one.
    fn cut_for_throttle(&mut self, now: Instant) -> Change {
        let (answer_rate, healthy_rate) = self.recent_rates(now);
        let base = self.rate.unwrap_or(answer_rate);
        let accepted = KEEP * healthy_rate;
        let rate = if healthy_rate >= KEEP * base {
            KEEP * base
        } else {
            accepted.max(FLOOR * base)
        };
        self.cut_to(rate, base, now, Cause::Throttled)
    }

    /// Sets the rate to `rate` (bounded), down from `base`, and the step
    /// that climbs back to `base` in [`CLIMB_WINDOWS`] windows.
    fn cut_to(&mut self, rate: f64, base: f64, now: Instant, cause: Cause) -> Change {
        let rate = self.capped(rate.max(MIN_RATE));
        self.rate = Some(rate);
        self.step = (base - rate).max(0.0) / CLIMB_WINDOWS;
        self.last_cut = Some(now);
        self.current.troubled = true;
        Change::Cut { rate, cause }
    }

    /// Answers and healthy answers per second over the previous window and
    /// the current one so far.
    fn recent_rates(&self, now: Instant) -> (f64, f64) {
        let (since, answers, healthy) = match self.previous {
            Some((opened, tally)) => (
                opened,
                tally.answers + self.current.answers,
                tally.healthy + self.current.healthy,
            ),
            None => (self.opened, self.current.answers, self.current.healthy),
        };
        let span = secs(now.saturating_duration_since(since)).max(0.001);
        (f64::from(answers) / span, f64::from(healthy) / span)
    }

    fn capped(&self, rate: f64) -> f64 {
        self.ceiling.map_or(rate, |ceiling| rate.min(ceiling))
    }
}

fn latency_rose(mean: Duration, usual: Duration) -> bool {
    mean > usual.mul_f64(LATENCY_RATIO) && mean > usual + LATENCY_SLACK
}

fn secs(span: Duration) -> f64 {
    span.as_secs_f64()
}

#[cfg(test)]
mod tests;
