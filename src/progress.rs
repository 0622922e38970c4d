//! Progress while a run goes: a bar on a terminal, a plain line every few
//! seconds otherwise. Reads the same counters as the final summary.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::ProgressMode;
use crate::stats::Stats;

/// A running progress display; `finish` stops it.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const PLAIN_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    pub fn start(
        mode: ProgressMode,
        quiet: bool,
        stats: Arc<Stats>,
        total_bytes: Option<u64>,
        dry_run: bool,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        // In JSON logs a bar would break the one-object-a-line format.
        let terminal = std::io::stderr().is_terminal() && !crate::console::is_json();
        let mode = match mode {
            _ if quiet => ProgressMode::None,
            ProgressMode::Auto if terminal => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Plain,
            other => other,
        };
        let flag = stop.clone();
        let thread = match mode {
            ProgressMode::Bar => Some(std::thread::spawn(move || {
                bar(&stats, total_bytes.unwrap_or(0), dry_run, &flag)
            })),
            ProgressMode::Plain => Some(std::thread::spawn(move || plain(&stats, dry_run, &flag))),
            ProgressMode::None | ProgressMode::Auto => None,
        };
        Progress { stop, thread }
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn verb(dry_run: bool) -> &'static str {
    if dry_run {
        "valid"
    } else {
        "upserted"
    }
}

fn bar(stats: &Stats, total_bytes: u64, dry_run: bool, stop: &AtomicBool) {
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{bar:30} {percent:>3}% {msg} · {elapsed_precise} elapsed, ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let started = Instant::now();
    while !sleep_unless_stopped(stop, Duration::from_millis(200)) {
        bar.set_position(Stats::get(&stats.bytes_read));
        bar.set_message(line(stats, started, dry_run));
    }
    bar.finish_and_clear();
}

fn plain(stats: &Stats, dry_run: bool, stop: &AtomicBool) {
    let started = Instant::now();
    while !sleep_unless_stopped(stop, PLAIN_EVERY) {
        crate::say!("progress: {}", line(stats, started, dry_run));
    }
}

fn line(stats: &Stats, started: Instant, dry_run: bool) -> String {
    let read = Stats::get(&stats.read);
    let rate = read as f64 / started.elapsed().as_secs_f64().max(0.001);
    format!(
        "{read} rows read, {} {}, {} dead-lettered, {:.0} rows/s",
        Stats::get(&stats.upserted),
        verb(dry_run),
        Stats::get(&stats.dead_lettered),
        rate
    )
}

/// Sleeps `total` in short steps; returns true as soon as `stop` is set.
fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) -> bool {
    let step = Duration::from_millis(50);
    let deadline = Instant::now() + total;
    while Instant::now() < deadline {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep(step);
    }
    stop.load(Ordering::Relaxed)
}
