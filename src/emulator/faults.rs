//! Faults from the command line (`--fail-rate`, `--throttle`, `--latency`,
//! `--reset-rate`, `--hang-rate`, `--outage`): parsing their values, and
//! deciding each customer request's fault when it arrives.
//!
//! The random part of a decision is a pure function of the seed and the
//! request's arrival number, so the same seed and the same request order
//! give the same faults however the requests interleave. The throttle and
//! the outage depend on arrival times instead: a token bucket and a window
//! measured from the emulator's start.
//!
//! At most one fault hits a request, checked in this order: the outage
//! (503), the throttle (429), then one draw that picks a reset, a hang or a
//! 500 with the configured probabilities. Latency comes on top of any of
//! them, and is the only fault that lets the request take effect.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::cli::Rate;

/// A probability: a fraction from 0 to 1 (`0.1`) or a percentage (`10%`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Probability(f64);

impl Probability {
    pub fn fraction(self) -> f64 {
        self.0
    }
}

impl FromStr for Probability {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (number, scale) = match text.strip_suffix('%') {
            Some(percent) => (percent.trim(), 100.0),
            None => (text, 1.0),
        };
        let value = number
            .parse::<f64>()
            .ok()
            .map(|value| value / scale)
            .filter(|value| (0.0..=1.0).contains(value));
        value
            .map(Probability)
            .ok_or_else(|| format!("`{text}` is not a probability: write 0.1 or 10% (0 to 1)"))
    }
}

/// A delay before answering: fixed (`20ms`) or uniform in a range
/// (`5ms..50ms`, both ends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    pub min: Duration,
    pub max: Duration,
}

impl FromStr for Latency {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (min, max) = match text.split_once("..") {
            Some((min, max)) => (duration(min)?, duration(max)?),
            None => (duration(text)?, duration(text)?),
        };
        if min > max {
            return Err(format!("`{text}`: the range ends before it starts"));
        }
        Ok(Latency { min, max })
    }
}

/// A stretch of time after the emulator started: `10s..40s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Duration,
    pub end: Duration,
}

impl Window {
    fn holds(&self, at_us: u64) -> bool {
        let at = Duration::from_micros(at_us);
        self.start <= at && at < self.end
    }
}

impl FromStr for Window {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some((start, end)) = text.split_once("..") else {
            return Err(format!(
                "`{text}` is not a window: write START..END, e.g. 10s..40s"
            ));
        };
        let (start, end) = (duration(start)?, duration(end)?);
        if start >= end {
            return Err(format!("`{text}`: the window must end after it starts"));
        }
        Ok(Window { start, end })
    }
}

fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    humantime::parse_duration(text).map_err(|e| format!("`{text}`: {e} (try 20ms or 10s)"))
}

/// The faults asked for. `Faults::default()` asks for none.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Seeds every random draw.
    pub seed: u64,
    pub fail_rate: Probability,
    pub reset_rate: Probability,
    pub hang_rate: Probability,
    pub throttle: Option<Rate>,
    pub latency: Option<Latency>,
    pub outage: Option<Window>,
}

impl Faults {
    /// Whether any fault is asked for.
    pub fn any(&self) -> bool {
        self.draws() || self.throttle.is_some() || self.latency.is_some() || self.outage.is_some()
    }

    /// Whether any decision depends on the seed.
    pub fn draws(&self) -> bool {
        let rates = [self.fail_rate, self.reset_rate, self.hang_rate];
        rates.iter().any(|rate| rate.0 > 0.0) || self.latency.is_some_and(|l| l.min != l.max)
    }

    /// Refuses rates that cannot all hold: one draw picks at most one fault.
    pub fn check(&self) -> Result<(), String> {
        let total = self.fail_rate.0 + self.reset_rate.0 + self.hang_rate.0;
        if total > 1.0 + 1e-9 {
            return Err(format!(
                "--fail-rate, --reset-rate and --hang-rate add up to {:.0}%, over 100%",
                total * 100.0
            ));
        }
        Ok(())
    }
}

/// The fault that hits one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Inside `--outage`: 503.
    Outage,
    /// Past the `--throttle` bucket: 429 with `Retry-After` in seconds.
    Throttled { retry_after_s: u64 },
    /// Closed without an answer.
    Reset,
    /// Never answered.
    Hang,
    /// 500.
    Fail,
}

impl Fault {
    /// The name the request log shows.
    pub fn label(self) -> &'static str {
        match self {
            Fault::Outage => "outage",
            Fault::Throttled { .. } => "throttle",
            Fault::Reset => "reset",
            Fault::Hang => "hang",
            Fault::Fail => "fail",
        }
    }
}

/// What happens to one request on top of the emulator's own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    pub fault: Option<Fault>,
    /// Added before the answer (or before closing, for a reset).
    pub latency: Duration,
}

/// Decides each request's faults; shared by every connection.
#[derive(Debug, Default)]
pub struct Injector {
    faults: Faults,
    bucket: Option<Bucket>,
    active: bool,
}

impl Injector {
    pub fn new(faults: Faults) -> Self {
        Injector {
            bucket: faults.throttle.map(Bucket::new),
            active: faults.any(),
            faults,
        }
    }

    /// The faults for request number `seq`, arrived `received_us` after
    /// the start. Call in arrival order: the throttle's bucket counts on.
    pub fn decide(&self, seq: u64, received_us: u64) -> Decision {
        if !self.active {
            return Decision::default();
        }
        let faults = &self.faults;
        // Drawn for every request, faulted or not, so that one request's
        // fault never shifts another's.
        let pick = unit(draw(faults.seed, seq, 0));
        let latency = faults
            .latency
            .map_or(Duration::ZERO, |l| between(l, draw(faults.seed, seq, 1)));
        let fault = if faults.outage.is_some_and(|w| w.holds(received_us)) {
            Some(Fault::Outage)
        } else if let Some(wait) = self.bucket.as_ref().and_then(|b| b.take(received_us)) {
            Some(Fault::Throttled {
                retry_after_s: whole_seconds(wait),
            })
        } else {
            self.drawn(pick)
        };
        Decision { fault, latency }
    }

    fn drawn(&self, pick: f64) -> Option<Fault> {
        let faults = &self.faults;
        let reset = faults.reset_rate.0;
        let hang = reset + faults.hang_rate.0;
        let fail = hang + faults.fail_rate.0;
        if pick < reset {
            Some(Fault::Reset)
        } else if pick < hang {
            Some(Fault::Hang)
        } else if pick < fail {
            Some(Fault::Fail)
        } else {
            None
        }
    }
}

/// A `Retry-After` in whole seconds: rounded up, at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// A token bucket holding one second's worth of requests (at least one),
/// refilled at the throttle's rate; kept as the "theoretical arrival time"
/// of the generic cell rate algorithm, in one atomic.
#[derive(Debug)]
struct Bucket {
    /// Nanoseconds between two tokens.
    interval_ns: u64,
    /// How far ahead of now the theoretical arrival time may run.
    tolerance_ns: u64,
    /// When the bucket is full again, in ns since the emulator started.
    tat_ns: AtomicU64,
}

impl Bucket {
    fn new(rate: Rate) -> Self {
        let per_ns = u64::try_from(rate.per.as_nanos()).unwrap_or(u64::MAX);
        let interval_ns = (per_ns / u64::from(rate.count.get())).max(1);
        let capacity = (1_000_000_000 / interval_ns).max(1);
        Bucket {
            interval_ns,
            tolerance_ns: interval_ns.saturating_mul(capacity - 1),
            tat_ns: AtomicU64::new(0),
        }
    }

    /// Takes a token at `now_us`; when none is left, how long until one is.
    fn take(&self, now_us: u64) -> Option<Duration> {
        let now = now_us.saturating_mul(1000);
        let mut tat = self.tat_ns.load(Ordering::Acquire);
        loop {
            let from = tat.max(now);
            if from > now.saturating_add(self.tolerance_ns) {
                return Some(Duration::from_nanos(from - self.tolerance_ns - now));
            }
            let next = from.saturating_add(self.interval_ns);
            match self
                .tat_ns
                .compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return None,
                Err(current) => tat = current,
            }
        }
    }
}

/// 64 well-mixed bits for draw `stream` of request `seq` (the SplitMix64
/// finaliser applied twice, over the seed and the request number).
fn draw(seed: u64, seq: u64, stream: u64) -> u64 {
    mix(mix(seed ^ seq.wrapping_mul(0x9e37_79b9_7f4a_7c15)) ^ stream)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A number in [0, 1) from 53 of the bits.
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// A duration in `latency`'s range, both ends included.
fn between(latency: Latency, bits: u64) -> Duration {
    let span = latency.max.saturating_sub(latency.min).as_nanos();
    if span == 0 {
        return latency.min;
    }
    let offset = (u128::from(bits) * (span + 1)) >> 64;
    latency.min + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn rate(text: &str) -> Probability {
        text.parse().expect("a valid probability")
    }

    #[test]
    fn probabilities_are_fractions_or_percentages() {
        assert_eq!(rate("0.1"), Probability(0.1));
        assert_eq!(rate("2%"), Probability(0.02));
        assert_eq!(rate(" 100 % "), Probability(1.0));
        assert_eq!(rate("0"), Probability(0.0));
        for bad in ["1.5", "150%", "-0.1", "ten", "", "NaN", "%"] {
            assert!(bad.parse::<Probability>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn latency_is_fixed_or_a_range() {
        let fixed: Latency = "20ms".parse().expect("valid");
        assert_eq!((fixed.min, fixed.max), (20 * MS, 20 * MS));
        let range: Latency = "5ms..50ms".parse().expect("valid");
        assert_eq!((range.min, range.max), (5 * MS, 50 * MS));
        assert!("50ms..5ms".parse::<Latency>().is_err());
        assert!("soon".parse::<Latency>().is_err());
    }

    #[test]
    fn windows_need_a_start_before_the_end() {
        let window: Window = "10s..40s".parse().expect("valid");
        assert_eq!((window.start.as_secs(), window.end.as_secs()), (10, 40));
        assert!(window.holds(10_000_000));
        assert!(window.holds(39_999_999));
        assert!(!window.holds(40_000_000));
        assert!(!window.holds(9_999_999));
        for bad in ["10s", "40s..10s", "5s..5s", "a..b"] {
            assert!(bad.parse::<Window>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rates_over_a_whole_are_refused() {
        let faults = Faults {
            fail_rate: rate("60%"),
            reset_rate: rate("0.3"),
            hang_rate: rate("20%"),
            ..Faults::default()
        };
        assert_eq!(
            faults.check(),
            Err("--fail-rate, --reset-rate and --hang-rate add up to 110%, over 100%".into())
        );
    }

    fn soak_faults(seed: u64) -> Faults {
        Faults {
            seed,
            fail_rate: rate("10%"),
            reset_rate: rate("2%"),
            hang_rate: rate("1%"),
            ..Faults::default()
        }
    }

    fn counts(injector: &Injector, requests: u64) -> [u64; 4] {
        let mut counts = [0; 4];
        for seq in 1..=requests {
            let slot = match injector.decide(seq, 0).fault {
                None => 0,
                Some(Fault::Fail) => 1,
                Some(Fault::Reset) => 2,
                Some(Fault::Hang) => 3,
                Some(other) => panic!("no {other:?} was asked for"),
            };
            counts[slot] += 1;
        }
        counts
    }

    #[test]
    fn a_seed_gives_the_same_faults_every_time() {
        let first = Injector::new(soak_faults(42));
        let again = Injector::new(soak_faults(42));
        let other = Injector::new(soak_faults(43));
        let faults = |injector: &Injector| -> Vec<Decision> {
            (1..=2000).map(|seq| injector.decide(seq, 0)).collect()
        };
        assert_eq!(faults(&first), faults(&again));
        assert_ne!(faults(&first), faults(&other));
    }

    #[test]
    fn drawn_faults_come_at_their_rates() {
        // Exact for this seed; each count is within a few standard
        // deviations of its rate (8,700 / 1,000 / 200 / 100).
        let injector = Injector::new(soak_faults(7));
        assert_eq!(counts(&injector, 10_000), [8715, 1000, 196, 89]);
    }

    #[test]
    fn a_decision_depends_on_the_request_number_only() {
        let injector = Injector::new(soak_faults(7));
        let forwards: Vec<_> = (1..=500).map(|seq| injector.decide(seq, 0)).collect();
        let mut backwards: Vec<_> = (1..=500).rev().map(|seq| injector.decide(seq, 0)).collect();
        backwards.reverse();
        assert_eq!(forwards, backwards);
    }

    #[test]
    fn no_faults_decide_nothing() {
        let injector = Injector::new(Faults::default());
        assert_eq!(counts(&injector, 1000), [1000, 0, 0, 0]);
    }

    #[test]
    fn a_rate_of_one_hits_every_request() {
        let injector = Injector::new(Faults {
            hang_rate: rate("100%"),
            ..Faults::default()
        });
        assert_eq!(counts(&injector, 1000), [0, 0, 0, 1000]);
    }

    #[test]
    fn latency_ranges_are_drawn_within_their_ends() {
        let latency = Latency {
            min: 5 * MS,
            max: 50 * MS,
        };
        let injector = Injector::new(Faults {
            seed: 3,
            latency: Some(latency),
            ..Faults::default()
        });
        let drawn: Vec<Duration> = (1..=5000).map(|s| injector.decide(s, 0).latency).collect();
        assert!(drawn.iter().all(|d| (5 * MS..=50 * MS).contains(d)));
        assert_eq!(drawn.iter().min(), Some(&Duration::from_nanos(5_004_159)));
        assert_eq!(drawn.iter().max(), Some(&Duration::from_nanos(49_996_211)));
        let fixed = Injector::new(Faults {
            latency: Some("20ms".parse().expect("valid")),
            ..Faults::default()
        });
        assert_eq!(fixed.decide(9, 0).latency, 20 * MS);
        assert_eq!(fixed.decide(9, 0).fault, None);
    }

    fn throttled(rate: &str) -> Injector {
        Injector::new(Faults {
            throttle: Some(rate.parse().expect("a valid rate")),
            ..Faults::default()
        })
    }

    #[test]
    fn throttle_allows_a_second_of_requests_at_once_then_its_rate() {
        let injector = throttled("10/s");
        let at = |ms: u64| injector.decide(1, ms * 1000).fault;
        for _ in 0..10 {
            assert_eq!(at(0), None);
        }
        assert_eq!(at(0), Some(Fault::Throttled { retry_after_s: 1 }));
        // One token comes back every 100 ms.
        assert_eq!(at(99), Some(Fault::Throttled { retry_after_s: 1 }));
        assert_eq!(at(100), None);
        assert_eq!(at(150), Some(Fault::Throttled { retry_after_s: 1 }));
        assert_eq!(at(200), None);
        // An idle second fills the bucket again, and no more.
        for _ in 0..10 {
            assert_eq!(at(1300), None);
        }
        assert_eq!(at(1300), Some(Fault::Throttled { retry_after_s: 1 }));
    }

    #[test]
    fn throttle_retry_after_is_whole_seconds_rounded_up() {
        let injector = throttled("1/m");
        assert_eq!(injector.decide(1, 0).fault, None);
        let wait = |s: u64| match injector.decide(1, s * 1_000_000).fault {
            Some(Fault::Throttled { retry_after_s }) => retry_after_s,
            other => panic!("throttled expected, got {other:?}"),
        };
        assert_eq!(wait(0), 60);
        assert_eq!(wait(30), 30);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(5)), 1);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn the_outage_comes_first_and_only_inside_its_window() {
        let injector = Injector::new(Faults {
            outage: Some("1s..2s".parse().expect("valid")),
            throttle: Some("1/h".parse().expect("valid")),
            ..Faults::default()
        });
        assert_eq!(injector.decide(1, 999_999).fault, None);
        assert_eq!(injector.decide(2, 1_000_000).fault, Some(Fault::Outage));
        assert_eq!(injector.decide(3, 1_999_999).fault, Some(Fault::Outage));
        assert!(matches!(
            injector.decide(4, 2_000_000).fault,
            Some(Fault::Throttled { .. })
        ));
    }
}
