//! The pace controller fed with answers at explicit instants.

use super::*;

const MS: Duration = Duration::from_millis(1);

/// Rates are compared to a millionth: the arithmetic is in f64.
fn assert_rate(pace: &Pace, expected: f64) {
    let rate = pace.rate().expect("a limited pace");
    assert!(
        (rate - expected).abs() < 1e-6,
        "rate {rate}, expected {expected}"
    );
}

struct Feed {
    start: Instant,
    pace: Pace,
}

impl Feed {
    fn new(ceiling: Option<f64>) -> Self {
        let start = Instant::now();
        Feed {
            start,
            pace: Pace::new(ceiling, start),
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    /// One answer at `ms` for a request sent `latency` ms earlier.
    fn one(&mut self, ms: u64, latency: u64, signal: Signal) -> Option<Change> {
        self.pace.observe(Observation {
            signal,
            sent: self.at(ms - latency),
            answered: self.at(ms),
        })
    }

    /// Healthy answers every `every` ms from `from + every` up to `to`
    /// (inclusive); returns the changes they caused.
    fn healthy(&mut self, from: u64, to: u64, every: u64, latency: u64) -> Vec<Change> {
        let times = (from + every..=to).step_by(every as usize);
        times
            .filter_map(|ms| self.one(ms, latency, Signal::Answered))
            .collect()
    }

    /// A window of 100 answers a second at the ceiling of 100/s, then a
    /// 429 at 1,005 ms: the cut of the first test. (The first request,
    /// sent at 0 ms, opens the first window.)
    fn cut_at_100() -> Self {
        let mut feed = Feed::new(Some(100.0));
        assert_eq!(feed.healthy(0, 1000, 10, 10), []);
        feed.one(1005, 1, Signal::Throttled);
        feed
    }
}

#[test]
fn without_a_ceiling_the_pace_starts_unlimited_and_stays_so_while_healthy() {
    let mut feed = Feed::new(None);
    assert_eq!(feed.healthy(0, 5000, 1, 1), []);
    assert_eq!(feed.pace.rate(), None);
}

#[test]
fn with_a_ceiling_the_pace_starts_at_it_and_never_rises_above() {
    let mut feed = Feed::new(Some(100.0));
    assert_rate(&feed.pace, 100.0);
    assert_eq!(feed.healthy(0, 5000, 10, 1), []);
    assert_rate(&feed.pace, 100.0);
}

#[test]
fn a_429_near_the_allowance_keeps_95_percent_of_it() {
    let mut feed = Feed::new(Some(100.0));
    feed.healthy(0, 1000, 10, 10);
    let change = feed.one(1005, 1, Signal::Throttled);
    let cut = Change::Cut {
        rate: 95.0,
        cause: Cause::Throttled,
    };
    assert_eq!(change.map(round), Some(cut));
    assert_rate(&feed.pace, 95.0);
}

#[test]
fn each_healthy_busy_window_after_a_cut_adds_a_thirtieth_of_the_way_back() {
    let mut feed = Feed::cut_at_100();
    // The window holding the cut closes at 2,005 ms without a raise; the
    // next ones (closing at 3,005, 4,005 and 5,005 ms) raise by
    // (100 - 95) / 30 each.
    let changes = feed.healthy(1005, 5005, 10, 1);
    let rates: Vec<f64> = changes.into_iter().map(|c| round(c).rate()).collect();
    assert_eq!(rates, [95.166667, 95.333333, 95.5]);
    assert_rate(&feed.pace, 95.5);
}

#[test]
fn a_raise_stops_at_the_ceiling() {
    let mut feed = Feed::cut_at_100();
    feed.healthy(1005, 40_000, 10, 1);
    assert_rate(&feed.pace, 100.0);
}

#[test]
fn a_window_that_used_less_than_80_percent_of_the_allowance_does_not_raise() {
    let mut feed = Feed::cut_at_100();
    feed.healthy(1005, 2000, 10, 1);
    // 71 answers in the next second: under 0.8 * 95 = 76.
    let changes = feed.healthy(2000, 2994, 14, 1);
    assert_eq!(changes, []);
    assert_eq!(feed.one(3000, 1, Signal::Answered), None);
    assert_rate(&feed.pace, 95.0);
}

#[test]
fn a_failed_answer_blocks_the_raise_of_its_window_and_cuts_nothing() {
    let mut feed = Feed::cut_at_100();
    feed.healthy(1005, 2000, 10, 1);
    assert_eq!(feed.one(2005, 1, Signal::Failed), None);
    assert_eq!(feed.healthy(2005, 3000, 10, 1), []);
    assert_rate(&feed.pace, 95.0);
}

#[test]
fn a_429_for_a_request_sent_before_or_just_after_the_cut_is_an_echo() {
    let mut feed = Feed::cut_at_100();
    assert_eq!(feed.one(1006, 3, Signal::Throttled), None);
    feed.healthy(1005, 1105, 10, 1);
    // Sent 99 ms after the cut: still too soon for the cut to show.
    assert_eq!(feed.one(1110, 6, Signal::Throttled), None);
    assert_rate(&feed.pace, 95.0);
    // Sent 100 ms after the cut: the excess goes on, cut again. The server
    // took 110 healthy answers in 1.12 s (98/s), at least 95% of the 95/s
    // allowed: keep 95% of 95.
    let change = feed.one(1120, 15, Signal::Throttled).map(round);
    let cut = Change::Cut {
        rate: 90.25,
        cause: Cause::Throttled,
    };
    assert_eq!(change, Some(cut));
}

#[test]
fn a_429_when_the_server_took_less_keeps_95_percent_of_what_it_took() {
    let mut feed = Feed::new(Some(100.0));
    // 80 healthy answers in the first second (in pairs 25 ms apart), the
    // last pair and then a 429 at 1 s, in the next window.
    for ms in (25..=1000).step_by(25) {
        feed.one(ms, 25, Signal::Answered);
        feed.one(ms, 25, Signal::Answered);
    }
    // Over the second: 80 healthy of 81 answers; 0.95 * 80 = 76.
    let change = feed.one(1000, 1, Signal::Throttled).map(round);
    assert_eq!(
        change,
        Some(Change::Cut {
            rate: 76.0,
            cause: Cause::Throttled
        })
    );
    // The climb from 76 back to 100 takes 30 windows: 0.8 a window, from
    // the window after the one holding the cut.
    let changes = feed.healthy(1000, 4000, 10, 1);
    let rates: Vec<f64> = changes.into_iter().map(|c| round(c).rate()).collect();
    assert_eq!(rates, [76.8, 77.6]);
}

#[test]
fn the_first_429_of_an_unlimited_pace_cuts_from_the_rate_answers_came_at() {
    let mut feed = Feed::new(None);
    // 50 answers in 50 ms, then a 429 at 51 ms: 51 answers in 51 ms is
    // 1,000/s, of which 980/s healthy, over 95%: keep 950.
    feed.healthy(0, 50, 1, 1);
    let change = feed.one(51, 1, Signal::Throttled).map(round);
    let cut = Change::Cut {
        rate: 950.0,
        cause: Cause::Throttled,
    };
    assert_eq!(change, Some(cut));
}

#[test]
fn a_429_right_after_a_pause_cuts_to_half_and_climbs_back_in_30_windows() {
    let mut feed = Feed::new(None);
    feed.healthy(0, 50, 1, 1);
    feed.one(51, 1, Signal::Throttled);
    // A second of Retry-After pause, then a 429 at once: 50 healthy
    // answers in 1.06 s is far under 950/s, and 95% of it under half.
    let change = feed.one(1060, 5, Signal::Throttled).map(round);
    let cut = Change::Cut {
        rate: 475.0,
        cause: Cause::Throttled,
    };
    assert_eq!(change, Some(cut));
    // The climb back to 950 takes 30 windows: 15.83 a window.
    let changes = feed.healthy(1060, 3060, 2, 1);
    let rates: Vec<f64> = changes.into_iter().map(|c| round(c).rate()).collect();
    assert_eq!(rates, [490.833333]);
}

#[test]
fn latency_twice_the_usual_and_50_ms_above_it_cuts() {
    let mut feed = Feed::new(Some(100.0));
    assert_eq!(feed.healthy(0, 2990, 10, 10), []);
    // Usual latency 10 ms; a window at 100 ms opens at 3,000 ms and closes
    // at 4,000 ms.
    assert_eq!(feed.healthy(2990, 3990, 10, 100), []);
    let change = feed.one(4000, 100, Signal::Answered);
    let cut = Change::Cut {
        rate: 95.0,
        cause: Cause::Latency {
            mean: 100 * MS,
            usual: 10 * MS,
        },
    };
    assert_eq!(change.map(round), Some(cut));
}

#[test]
fn a_lasting_rise_of_latency_cuts_twice_then_becomes_the_usual() {
    let mut feed = Feed::new(Some(100.0));
    feed.healthy(0, 2990, 10, 10);
    let changes = feed.healthy(2990, 9000, 10, 100);
    let rates: Vec<f64> = changes.into_iter().map(|c| round(c).rate()).collect();
    // Cut at 4 s (usual 10 ms); the window after a cut is not judged; cut
    // at 6 s (usual 49.4 ms); not judged; at 8 s 100 ms is under twice the
    // usual (71.5 ms) and the climb starts: (95 - 90.25) / 30 a window.
    assert_eq!(rates, [95.0, 90.25, 90.408333, 90.566667]);
}

#[test]
fn latency_under_the_slack_never_cuts() {
    let mut feed = Feed::new(Some(100.0));
    feed.healthy(0, 2990, 10, 1);
    // 40 times the usual latency, but only 39 ms above it.
    assert_eq!(feed.healthy(3000, 6000, 10, 40), []);
    assert_rate(&feed.pace, 100.0);
}

/// A model of the emulator's `--throttle 200/s`: a token bucket holding
/// `bucket` tokens, answering 429 with `Retry-After: 1` past it, which
/// pauses every sender for a second; answers take 1 ms, and the rate
/// limiter spaces requests by `1 / rate`, or 0.5 ms while unlimited.
/// Returns the rows per second after the first 10 s and the share of 429s.
fn simulate(bucket: f64, rows: u32) -> (f64, f64) {
    const LIMIT: f64 = 200.0;
    let start = Instant::now();
    let mut pace = Pace::new(None, start);
    let (mut now, mut paused_until) = (0.0_f64, 0.0_f64);
    let (mut tokens, mut refilled) = (bucket, 0.0_f64);
    let (mut done, mut sent, mut throttled) = (0_u32, 0_u32, 0_u32);
    let mut settled_from: Option<(u32, f64)> = None;
    while done < rows {
        now = now.max(paused_until);
        tokens = (tokens + (now - refilled) * LIMIT).min(bucket);
        refilled = now;
        sent += 1;
        let answered = now + 0.001;
        let signal = if tokens >= 1.0 {
            tokens -= 1.0;
            done += 1;
            Signal::Answered
        } else {
            throttled += 1;
            paused_until = answered + 1.01;
            Signal::Throttled
        };
        let at = |secs: f64| start + Duration::from_secs_f64(secs);
        let seen = Observation {
            signal,
            sent: at(now),
            answered: at(answered),
        };
        pace.observe(seen);
        if settled_from.is_none() && answered >= 10.0 {
            settled_from = Some((done, answered));
        }
        now += pace.rate().map_or(0.0005, |rate| 1.0 / rate);
    }
    let (done_then, then) = settled_from.expect("the run lasts over 10 s");
    let settled = f64::from(done - done_then) / (now - then);
    (settled, f64::from(throttled) / f64::from(sent))
}

#[test]
fn simulated_throttle_settles_near_it() {
    for bucket in [10.0, 50.0, 200.0] {
        let (rate, share) = simulate(bucket, 12_000);
        assert!((180.0..=220.0).contains(&rate), "bucket {bucket}: {rate}/s");
        assert!(share < 0.02, "bucket {bucket}: {share} throttled");
    }
}

impl Change {
    fn rate(self) -> f64 {
        match self {
            Change::Cut { rate, .. } | Change::Raised { rate } => rate,
        }
    }
}

/// The change with its rate rounded to a millionth, for exact comparison.
fn round(change: Change) -> Change {
    let r = |rate: f64| (rate * 1e6).round() / 1e6;
    match change {
        Change::Cut { rate, cause } => Change::Cut {
            rate: r(rate),
            cause,
        },
        Change::Raised { rate } => Change::Raised { rate: r(rate) },
    }
}
