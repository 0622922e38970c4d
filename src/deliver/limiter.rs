//! The run-wide request rate, shared by every worker and consulted before
//! every attempt, retries included: a fixed governor limiter (`--pace
//! fixed`), or a token bucket whose rate the adaptive [`Pace`] sets from
//! the answers it is fed.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use super::pace::{Cause, Change, Observation, Pace};

/// A raise of the adaptive rate is announced at `-v` at most this often
/// (every one is logged at `-vv`); cuts are always announced.
const RAISE_REPORT_EVERY: Duration = Duration::from_secs(10);

/// A shared request-rate limit.
#[derive(Debug)]
pub enum Limiter {
    /// Keeps to the quota; `None` means unlimited.
    Fixed(Option<DefaultDirectRateLimiter>),
    /// Keeps to the rate the pace controller allows.
    Adaptive(Mutex<Adaptive>),
}

impl Limiter {
    /// A limiter for `quota` (`None`: no ceiling). With `adaptive`, the
    /// quota is the ceiling of the adaptive pace and its burst is kept.
    pub fn new(quota: Option<Quota>, adaptive: bool) -> Self {
        if !adaptive {
            return Limiter::Fixed(quota.map(RateLimiter::direct));
        }
        let ceiling = quota.map(|q| 1.0 / q.replenish_interval().as_secs_f64());
        let burst = quota.map_or(1, |q| q.burst_size().get());
        Limiter::Adaptive(Mutex::new(Adaptive::new(ceiling, burst, Instant::now())))
    }

    /// Waits for a permit to send one request.
    pub async fn ready(&self) {
        match self {
            Limiter::Fixed(Some(limiter)) => limiter.until_ready().await,
            Limiter::Fixed(None) => {}
            Limiter::Adaptive(state) => {
                let at = lock(state).reserve(Instant::now());
                if let Some(at) = at {
                    tokio::time::sleep_until(at).await;
                }
            }
        }
    }

    /// Tells the adaptive pace how an attempt went; nothing for a fixed one.
    pub fn observe(&self, seen: Observation) {
        if let Limiter::Adaptive(state) = self {
            lock(state).observe(seen);
        }
    }

    /// The adaptive pace's allowance in requests per second: `None` when
    /// unlimited or fixed.
    #[cfg(test)]
    pub fn adaptive_rate(&self) -> Option<f64> {
        match self {
            Limiter::Adaptive(state) => lock(state).pace.rate(),
            Limiter::Fixed(_) => None,
        }
    }
}

/// The state is plain numbers, left consistent between statements, so a
/// panic elsewhere while it was held does not make it unusable.
fn lock(state: &Mutex<Adaptive>) -> std::sync::MutexGuard<'_, Adaptive> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A token bucket at the pace's rate, kept as the instant the next request
/// is due at an even pace (the generic cell rate algorithm, as governor).
#[derive(Debug)]
pub struct Adaptive {
    pace: Pace,
    /// Requests that may go at once after a quiet spell.
    burst: u32,
    due: Instant,
    /// When a raise was last announced at `-v`.
    reported: Instant,
}

impl Adaptive {
    fn new(ceiling: Option<f64>, burst: u32, now: Instant) -> Self {
        Adaptive {
            pace: Pace::new(ceiling, now),
            burst: burst.max(1),
            due: now,
            reported: now,
        }
    }

    /// Books the next permit; returns when it may be used, if later than
    /// `now`.
    fn reserve(&mut self, now: Instant) -> Option<Instant> {
        let rate = self.pace.rate()?;
        let interval = Duration::from_secs_f64(1.0 / rate);
        let due = self.due.max(now);
        self.due = due + interval;
        let tolerance = interval * (self.burst - 1);
        let at = due.checked_sub(tolerance).unwrap_or(now);
        (at > now).then_some(at)
    }

    fn observe(&mut self, seen: Observation) {
        match self.pace.observe(seen) {
            Some(Change::Cut { rate, cause }) => match cause {
                Cause::Throttled => tracing::info!(
                    "pace: the server throttled (429); now at most {rate:.1} requests/s"
                ),
                Cause::Latency { mean, usual } => tracing::info!(
                    "pace: answers slowed to {} ms (usually {} ms); now at most {rate:.1} \
                     requests/s",
                    mean.as_millis(),
                    usual.as_millis()
                ),
            },
            Some(Change::Raised { rate }) => {
                tracing::debug!("pace: raised to {rate:.1} requests/s");
                if seen.answered >= self.reported + RAISE_REPORT_EVERY {
                    self.reported = seen.answered;
                    tracing::info!("pace: back up to {rate:.1} requests/s");
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::pace::Signal;
    use std::num::NonZeroU32;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn unlimited_limiter_never_waits() {
        let limiter = Limiter::new(None, false);
        for _ in 0..10_000 {
            limiter.ready().await;
        }
    }

    #[tokio::test]
    async fn burst_is_granted_without_waiting() {
        let burst = NonZeroU32::new(5).expect("5 is not zero");
        let quota = Quota::per_hour(NonZeroU32::MIN).allow_burst(burst);
        let limiter = Limiter::new(Some(quota), false);
        // With one permit an hour, a sixth request would hang this test.
        for _ in 0..5 {
            limiter.ready().await;
        }
        let Limiter::Fixed(Some(inner)) = &limiter else {
            panic!("fixed limiter expected")
        };
        assert!(inner.check().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn adaptive_limiter_without_ceiling_starts_unlimited() {
        let limiter = Limiter::new(None, true);
        let start = Instant::now();
        for _ in 0..1000 {
            limiter.ready().await;
        }
        assert_eq!(Instant::now(), start);
        assert_eq!(limiter.adaptive_rate(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn adaptive_limiter_spaces_requests_at_the_ceiling() {
        let quota = Quota::with_period(10 * MS).expect("not zero");
        let limiter = Limiter::new(Some(quota), true);
        let start = Instant::now();
        for _ in 0..11 {
            limiter.ready().await;
        }
        // The first goes at once, the next ten 10 ms apart.
        assert_eq!(Instant::now() - start, 100 * MS);
        assert_eq!(limiter.adaptive_rate(), Some(100.0));
    }

    #[tokio::test(start_paused = true)]
    async fn adaptive_limiter_keeps_the_burst_of_the_quota() {
        let quota = Quota::per_second(NonZeroU32::new(10).expect("not zero"))
            .allow_burst(NonZeroU32::new(3).expect("not zero"));
        let limiter = Limiter::new(Some(quota), true);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.ready().await;
        }
        assert_eq!(Instant::now(), start);
        limiter.ready().await;
        assert_eq!(Instant::now() - start, 100 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn adaptive_limiter_slows_down_after_a_429() {
        let limiter = Limiter::new(None, true);
        let start = Instant::now();
        // 50 answers in 50 ms, then a 429: 1,000/s seen, 950/s kept.
        for ms in 1..=51 {
            let signal = if ms == 51 {
                Signal::Throttled
            } else {
                Signal::Answered
            };
            let answered = start + ms * MS;
            let sent = answered - MS;
            limiter.observe(Observation {
                signal,
                sent,
                answered,
            });
        }
        assert_eq!(limiter.adaptive_rate().map(f64::round), Some(950.0));
        let before = Instant::now();
        for _ in 0..10 {
            limiter.ready().await;
        }
        // Nine intervals of 1/950 s after the first: 9.47 ms, which tokio's
        // timer, counting whole milliseconds, ends at 10 ms.
        assert_eq!(Instant::now() - before, 10 * MS);
    }
}
