//! Adaptive pace benchmark: imports a generated file into the emulator
//! throttling at 200 requests/s (`--throttle 200/s`: a token bucket, 429
//! with `Retry-After` past it) with no `--rate`, and prints the rows per
//! second once settled (after the first 10 s) and the share of requests
//! answered 429, beside the targets of issue 5: within 10% of 200/s, under
//! 2% answered 429.
//!
//! Run with `cargo bench --bench adaptive_pace` (about a minute).
//! Progress lines (`--progress plain`, every 5 s) time the settled part.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_laudspeaker-import");
const KEY: &str = "bench-key";

/// The emulator's throttle, as its flag takes it and as a number.
const THROTTLE: &str = "200/s";
const THROTTLE_PER_SECOND: f64 = 200.0;

/// About 60 s of rows at the throttle.
const ROWS: usize = 12_000;

/// The start is not judged: the pace is still being found.
const SETTLING: Duration = Duration::from_secs(10);

/// Targets: settled rate within this share of the throttle...
const RATE_TOLERANCE: f64 = 0.10;
/// ...and fewer requests answered 429 than this share.
const MAX_THROTTLED_SHARE: f64 = 0.02;

const MAPPING: &str = r#"
[source]
format = "csv"

[primary_key]
from = "email"
type = "email"
attribute = "email"

[[property]]
from = "name"
to = "name"

[[property]]
from = "n"
to = "n"
type = "number"
"#;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and `cargo test --benches` probes
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench data folder");
    let input = dir.join(format!("pace-{ROWS}.csv"));
    let mapping = dir.join("pace.toml");
    std::fs::write(&input, generate()).expect("write the input");
    std::fs::write(&mapping, MAPPING).expect("write the mapping");
    let emulator = Emulator::start();
    let run = import(&input, &mapping, &dir, &emulator.url);
    report(&run);
}

/// `ROWS` rows, one distinct key each.
fn generate() -> String {
    let mut csv = String::with_capacity(ROWS * 40);
    csv.push_str("email,name,n\n");
    for n in 0..ROWS {
        writeln!(csv, "person{n}@example.com,Person {n},{n}").expect("write to a string");
    }
    csv
}

/// What the import printed, with when each progress line came.
struct Run {
    /// Seconds since the start and rows upserted, per progress line.
    progress: Vec<(f64, u64)>,
    elapsed: f64,
    exit: Option<i32>,
    read: u64,
    upserted: u64,
    dead_lettered: u64,
    retries: u64,
    throttled: u64,
    /// The `-v` lines about the pace.
    pace_lines: Vec<String>,
}

fn import(input: &Path, mapping: &Path, dir: &Path, url: &str) -> Run {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .arg("import")
        .arg(input)
        .arg("--mapping")
        .arg(mapping)
        .arg("--dead-letter")
        .arg(dir.join("pace.dead-letter.ndjson"))
        .args(["--api-url", url, "--api-key", KEY])
        .args(["--progress", "plain", "-v"])
        .env_remove("LAUDSPEAKER_API_KEY")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the importer");
    let stderr = child.stderr.take().expect("piped");
    let mut run = Run {
        progress: Vec::new(),
        elapsed: 0.0,
        exit: None,
        read: 0,
        upserted: 0,
        dead_lettered: 0,
        retries: 0,
        throttled: 0,
        pace_lines: Vec::new(),
    };
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        run.take(&line, started.elapsed().as_secs_f64());
    }
    run.exit = child.wait().expect("wait for the importer").code();
    run.elapsed = started.elapsed().as_secs_f64();
    run
}

impl Run {
    fn take(&mut self, line: &str, at: f64) {
        if let Some(rest) = line.strip_prefix("progress: ") {
            if let Some(upserted) = number_before(rest, " upserted") {
                self.progress.push((at, upserted));
            }
        } else if line.contains("pace: ") {
            let text = line.split("pace: ").nth(1).unwrap_or(line);
            self.pace_lines.push(format!("{at:6.1} s  {text}"));
        } else {
            let count = |label: &str| {
                let rest = line.strip_prefix(label)?;
                rest.split_whitespace().next()?.parse().ok()
            };
            let fields = [
                ("rows read", &mut self.read),
                ("upserted", &mut self.upserted),
                ("dead-lettered", &mut self.dead_lettered),
                ("retries", &mut self.retries),
                ("answered 429", &mut self.throttled),
            ];
            for (label, field) in fields {
                if let Some(value) = count(label) {
                    *field = value;
                }
            }
        }
    }
}

/// The number just before `marker` in `text`: "12 rows, 34 upserted" → 34.
fn number_before(text: &str, marker: &str) -> Option<u64> {
    let head = &text[..text.find(marker)?];
    head.rsplit(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn report(run: &Run) {
    println!("adaptive pace against `emulator --throttle {THROTTLE}`, {ROWS} rows, no --rate");
    for line in &run.pace_lines {
        println!("  {line}");
    }
    println!(
        "exit {:?}; {} read, {} upserted, {} dead-lettered, {} retries, {:.1} s",
        run.exit, run.read, run.upserted, run.dead_lettered, run.retries, run.elapsed
    );
    let settled_from = run
        .progress
        .iter()
        .find(|(at, _)| *at >= SETTLING.as_secs_f64());
    let low = THROTTLE_PER_SECOND * (1.0 - RATE_TOLERANCE);
    let high = THROTTLE_PER_SECOND * (1.0 + RATE_TOLERANCE);
    match settled_from {
        Some(&(from, upserted)) => {
            let rate = (run.upserted - upserted) as f64 / (run.elapsed - from);
            let verdict = verdict((low..=high).contains(&rate));
            println!(
                "settled rate (after {from:.0} s)  {rate:8.1} rows/s   \
                 target {low:.0} to {high:.0}  {verdict}"
            );
        }
        None => println!("settled rate: the run ended before {SETTLING:?}; no figure"),
    }
    // Every attempt is one request: each row's first, plus every retry.
    let requests = run.read + run.retries;
    let share = run.throttled as f64 / requests.max(1) as f64;
    let verdict = verdict(share < MAX_THROTTLED_SHARE);
    println!(
        "answered 429               {:8.2} % ({} of {requests})   target under {:.0} %  {verdict}",
        share * 100.0,
        run.throttled,
        MAX_THROTTLED_SHARE * 100.0
    );
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// The emulator as a separate process on 127.0.0.1, throttling.
struct Emulator {
    child: std::process::Child,
    url: String,
}

impl Emulator {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args(["emulator", "--listen", "127.0.0.1:0", "--api-key", KEY])
            .args(["--throttle", THROTTLE, "--no-request-log"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the emulator");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("listening line");
        let url = line.trim().trim_start_matches("listening on ").to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "emulator said {line:?}"
        );
        Emulator { child, url }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
