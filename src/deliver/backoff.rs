//! When to try again: the per-record backoff policy, the `Retry-After`
//! header, and the run-wide pause a `Retry-After` imposes on every worker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use rand::Rng;
use tokio::time::Instant;

/// The longest wait a `Retry-After` header can impose. A server asking for
/// more is most likely misconfigured; waiting ten minutes per retry is
/// already as patient as an import run should be.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// Capped exponential backoff with jitter.
///
/// The nominal delay before retry `n` (1-based) is `base * 2^(n-1)`, capped
/// at `cap`; the actual delay is drawn uniformly from `[nominal/2, nominal]`.
/// Keeping half of the nominal delay (rather than "full jitter" down to
/// zero) guarantees a minimum gap between two attempts of one record, so a
/// struggling server always gets some rest.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff { base, cap }
    }

    /// The delay before retry `retry` (1 = the first retry) without jitter.
    pub fn nominal(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.base
            .checked_mul(1 << doublings)
            .map_or(self.cap, |delay| delay.min(self.cap))
    }

    /// The jittered delay before retry `retry`, drawn from `rng`.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let nominal = self.nominal(retry);
        rng.random_range(nominal / 2..=nominal)
    }
}

/// Reads a `Retry-After` value: whole seconds or an HTTP date, compared with
/// `now`. A date in the past means no wait (`Some(ZERO)`); a value that is
/// neither form gives `None`. Waits longer than [`MAX_RETRY_AFTER`] are cut
/// to it.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still a number: an absurdly long wait.
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// A run-wide "send nothing before" instant, shared by all workers.
///
/// A `Retry-After` speaks for the server, not for one record: when one
/// worker is told to wait, every worker waits. The instant only ever moves
/// forward, so concurrent announcements keep the latest.
#[derive(Debug)]
pub struct Pause {
    origin: Instant,
    /// Nanoseconds after `origin`; 0 means no pause was ever announced.
    until_nanos: AtomicU64,
}

impl Pause {
    pub fn new() -> Self {
        Pause {
            origin: Instant::now(),
            until_nanos: AtomicU64::new(0),
        }
    }

    /// Holds every sender back until `until` (if that is later than the
    /// current pause).
    pub fn hold_until(&self, until: Instant) {
        let since_origin = until.saturating_duration_since(self.origin).as_nanos();
        let nanos = u64::try_from(since_origin).unwrap_or(u64::MAX);
        self.until_nanos.fetch_max(nanos, Ordering::AcqRel);
    }

    /// The instant before which nothing may be sent.
    pub fn until(&self) -> Instant {
        let nanos = self.until_nanos.load(Ordering::Acquire);
        self.origin + Duration::from_nanos(nanos)
    }

    /// Whether sending is allowed now.
    pub fn is_clear(&self) -> bool {
        Instant::now() >= self.until()
    }

    /// Waits until no pause is in force, including pauses announced while
    /// waiting.
    pub async fn wait(&self) {
        loop {
            let until = self.until();
            if Instant::now() >= until {
                return;
            }
            tokio::time::sleep_until(until).await;
        }
    }
}

impl Default for Pause {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const MS: Duration = Duration::from_millis(1);

    fn policy() -> Backoff {
        Backoff::new(250 * MS, 4000 * MS)
    }

    #[test]
    fn nominal_delay_doubles_per_retry_up_to_the_cap() {
        let nominal: Vec<u128> = (1..=7).map(|n| policy().nominal(n).as_millis()).collect();
        assert_eq!(nominal, [250, 500, 1000, 2000, 4000, 4000, 4000]);
    }

    #[test]
    fn nominal_delay_does_not_overflow_on_huge_retry_counts() {
        assert_eq!(policy().nominal(u32::MAX), 4000 * MS);
        let huge = Backoff::new(Duration::MAX, Duration::from_secs(30));
        assert_eq!(huge.nominal(3), Duration::from_secs(30));
    }

    #[test]
    fn jittered_delay_stays_between_half_and_full_nominal() {
        let mut rng = StdRng::seed_from_u64(7);
        for retry in 1..=8 {
            let nominal = policy().nominal(retry);
            for _ in 0..500 {
                let delay = policy().delay(retry, &mut rng);
                assert!(
                    delay >= nominal / 2,
                    "retry {retry}: {delay:?} < half of {nominal:?}"
                );
                assert!(delay <= nominal, "retry {retry}: {delay:?} > {nominal:?}");
            }
        }
    }

    #[test]
    fn default_base_keeps_attempts_at_least_100_ms_apart() {
        let mut rng = StdRng::seed_from_u64(1);
        let min = (0..1000).map(|_| policy().delay(1, &mut rng)).min();
        assert!(min >= Some(125 * MS), "{min:?}");
    }

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(parse_retry_after("2", now), Some(2000 * MS));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_as_http_date_counts_from_now() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:30 GMT").unwrap();
        let value = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(parse_retry_after(value, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_date_in_the_past_means_no_wait() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let value = "Sun, 06 Nov 1994 08:49:30 GMT";
        assert_eq!(parse_retry_after(value, now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        let now = SystemTime::UNIX_EPOCH;
        for value in [
            "",
            "soon",
            "-1",
            "1.5",
            "2 s",
            "Sun, 99 Nov 1994 08:49:30 GMT",
        ] {
            assert_eq!(parse_retry_after(value, now), None, "{value:?}");
        }
    }

    #[test]
    fn absurd_retry_after_is_capped() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(parse_retry_after("86400", now), Some(MAX_RETRY_AFTER));
        let digits = "99999999999999999999999999";
        assert_eq!(parse_retry_after(digits, now), Some(MAX_RETRY_AFTER));
        let far = "Fri, 31 Dec 9999 23:59:59 GMT";
        assert_eq!(parse_retry_after(far, now), Some(MAX_RETRY_AFTER));
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_until_the_latest_announced_instant() {
        let pause = Pause::new();
        let start = Instant::now();
        assert!(pause.is_clear());
        pause.hold_until(start + 300 * MS);
        pause.hold_until(start + 100 * MS);
        assert!(!pause.is_clear());
        pause.wait().await;
        assert_eq!(Instant::now() - start, 300 * MS);
        assert!(pause.is_clear());
    }

    #[tokio::test(start_paused = true)]
    async fn pause_extended_while_waiting_is_honoured() {
        let pause = std::sync::Arc::new(Pause::new());
        let start = Instant::now();
        pause.hold_until(start + 100 * MS);
        let other = pause.clone();
        tokio::spawn(async move {
            tokio::time::sleep(50 * MS).await;
            other.hold_until(start + 700 * MS);
        });
        pause.wait().await;
        assert_eq!(Instant::now() - start, 700 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_in_the_past_does_not_wait() {
        let pause = Pause::new();
        tokio::time::sleep(50 * MS).await;
        pause.hold_until(Instant::now() - 10 * MS);
        let before = Instant::now();
        pause.wait().await;
        assert_eq!(Instant::now(), before);
    }
}
