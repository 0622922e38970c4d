//! End-to-end benchmark: generates a deterministic synthetic CRM export,
//! runs the importer on it in every scenario of the performance targets,
//! and prints one table with each figure, its target and PASS or MISS.
//!
//! `cargo bench --bench end_to_end` runs the full set (1,000,000 rows; a
//! few minutes); `BENCH_QUICK=1` (or `-- --quick`) a small one that shows
//! the table works, not the figures. `BENCH_ROWS=N` sets the main file's
//! rows. `-- --generate-only` writes the files and prints their paths, for
//! profiling by hand (see "Performance" in the README).
//!
//! Every figure comes from child processes measured like `/usr/bin/time -v`
//! ([`measure`]); the emulator runs as its own process ([`emulator`]); the
//! emulator-alone figure comes from [`load`].

mod emulator;
mod generate;
mod load;
mod measure;
mod table;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use emulator::Emulator;
use measure::Usage;
use table::{Table, Target};

const BIN: &str = env!("CARGO_BIN_EXE_laudspeaker-import");
const KEY: &str = "bench-key";

/// Sizes of one benchmark run.
struct Plan {
    rows: usize,
    /// The small import whose peak memory the full one is compared with.
    small_rows: usize,
    /// Rows of the 20 ms latency run (64 in flight: 3,200 rows/s at best).
    latency_rows: usize,
    /// Seconds of the `--rate 500/s` run.
    rate_seconds: usize,
    /// The emulator-alone load run.
    load_time: Duration,
    dir: PathBuf,
}

impl Plan {
    fn from_env() -> Self {
        let quick = std::env::var_os("BENCH_QUICK").is_some_and(|v| v != "0")
            || std::env::args().any(|a| a == "--quick");
        let rows = std::env::var("BENCH_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if quick { 50_000 } else { 1_000_000 });
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
        Plan {
            rows,
            small_rows: if quick { 2_000 } else { 10_000 },
            latency_rows: if quick { 6_400 } else { 64_000 },
            rate_seconds: if quick { 4 } else { 20 },
            load_time: Duration::from_secs(if quick { 2 } else { 5 }),
            dir,
        }
    }

    /// The export with `rows` records, generated unless already there.
    fn export(&self, rows: usize) -> PathBuf {
        let path = self.dir.join(format!("crm-v1-{rows}.csv"));
        if !path.exists() {
            let partial = self.dir.join(format!("crm-v1-{rows}.csv.partial"));
            generate::write_export(&partial, rows).expect("generate the synthetic export");
            std::fs::rename(&partial, &path).expect("finish the synthetic export");
        }
        path
    }

    fn mapping(&self) -> PathBuf {
        self.dir.join("crm.toml")
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and `cargo test --benches` probes
    }
    let plan = Plan::from_env();
    std::fs::create_dir_all(&plan.dir).expect("bench data folder");
    std::fs::write(plan.mapping(), generate::MAPPING).expect("write the mapping");
    let input = plan.export(plan.rows);
    if std::env::args().any(|a| a == "--generate-only") {
        println!("{}\n{}", input.display(), plan.mapping().display());
        return;
    }
    print_heading(&plan, &input);
    let mut table = Table::default();
    dry_run(&plan, &input, &mut table);
    let best = live_without_latency(&plan, &input, &mut table);
    with_latency(&plan, &mut table);
    rate_limited(&plan, &mut table);
    emulator_alone(&plan, best, &mut table);
    table.print();
}

fn print_heading(plan: &Plan, input: &Path) {
    let size = std::fs::metadata(input).map_or(0, |m| m.len());
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("model name"))?;
            Some(line.split_once(':')?.1.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    println!(
        "laudspeaker-import end-to-end benchmark, {} UTC",
        chrono::Utc::now().format("%Y-%m-%d %H:%M")
    );
    println!("machine: {cpus} CPUs, {model}");
    println!(
        "input: {} rows, {:.1} MB, 12 columns ({})",
        plan.rows,
        size as f64 / 1e6,
        input.display()
    );
}

/// The bare `csv` crate read, then the importer's dry run of the same file.
fn dry_run(plan: &Plan, input: &Path, table: &mut Table) {
    let (bare, bare_cpu) = bare_csv_read(input);
    let rows = plan.rows as f64;
    let bare_rate = rows / bare.as_secs_f64();
    table.row(
        "bare csv crate read",
        "rows/s",
        count(bare_rate),
        Target::Reference,
    );
    let (usage, ok) = import(plan, input, None, &[]);
    let rate = rows / usage.wall.as_secs_f64();
    let verdict = Target::AtLeast(1_000_000.0).judge(rate, ok);
    table.row("dry run", "rows/s", count(rate), verdict);
    let ratio = usage.wall.as_secs_f64() / bare.as_secs_f64();
    let verdict = Target::AtMost(3.0).judge(ratio, ok);
    table.row(
        "dry run",
        "time / bare read",
        format!("{ratio:.2}x"),
        verdict,
    );
    if let (Some(cpu), Some(bare_cpu)) = (usage.cpu, bare_cpu) {
        let ratio = cpu.as_secs_f64() / bare_cpu.as_secs_f64();
        let shown = format!("{ratio:.2}x");
        table.row("dry run", "CPU time / bare read", shown, Target::Reference);
    }
    table.usage_rows("dry run", &usage, plan.rows);
}

/// The full file into the emulator, no added latency, 64 in flight; and a
/// small import for the memory comparison. Returns the rows/s.
fn live_without_latency(plan: &Plan, input: &Path, table: &mut Table) -> f64 {
    let small_input = plan.export(plan.small_rows);
    let small = {
        let emulator = start_emulator(&["--no-request-log"]);
        import(
            plan,
            &small_input,
            Some(&emulator),
            &["--concurrency", "64"],
        )
    };
    let emulator = start_emulator(&["--no-request-log"]);
    let emulator_before = emulator.cpu();
    let (usage, ok) = import(plan, input, Some(&emulator), &["--concurrency", "64"]);
    let emulator_cpu = emulator
        .cpu()
        .zip(emulator_before)
        .map(|(after, before)| after.saturating_sub(before));
    drop(emulator);
    let name = "live, no latency, c=64";
    let rate = plan.rows as f64 / usage.wall.as_secs_f64();
    table.row(
        name,
        "rows/s",
        count(rate),
        Target::AtLeast(15_000.0).judge(rate, ok),
    );
    let per_row = |cpu: Duration| format!("{:.1} us", cpu.as_secs_f64() * 1e6 / plan.rows as f64);
    let importer = usage.cpu.map_or("n/a".to_string(), per_row);
    table.row(name, "importer CPU per row", importer, Target::Reference);
    let emulator = emulator_cpu.map_or("n/a".to_string(), per_row);
    table.row(name, "emulator CPU per row", emulator, Target::Reference);
    match (usage.peak_rss, small.0.peak_rss) {
        (Some(rss), Some(small_rss)) => {
            let mb = rss as f64 / 1e6;
            table.row(
                name,
                "peak RSS",
                format!("{mb:.1} MB"),
                Target::AtMost(50.0).judge(mb, ok),
            );
            let ratio = rss as f64 / small_rss as f64;
            let figure = format!("peak RSS / {}-row import", plan.small_rows);
            let verdict = Target::AtMost(1.3).judge(ratio, ok && small.1);
            table.row(name, &figure, format!("{ratio:.2}x"), verdict);
        }
        _ => table.note(name, "peak RSS: n/a (needs GNU time at /usr/bin/time)"),
    }
    rate
}

/// 20 ms added to every answer, 64 in flight: 3,200 rows/s at best.
fn with_latency(plan: &Plan, table: &mut Table) {
    let name = "live, --latency 20ms, c=64";
    let emulator = match Emulator::start(Path::new(BIN), &["--no-request-log", "--latency", "20ms"])
    {
        Ok(emulator) => emulator,
        Err(said) => {
            table.note(
                name,
                &format!("skipped: emulator has no --latency yet ({said})"),
            );
            return;
        }
    };
    let input = plan.export(plan.latency_rows);
    let (usage, ok) = import(plan, &input, Some(&emulator), &["--concurrency", "64"]);
    let rate = plan.latency_rows as f64 / usage.wall.as_secs_f64();
    let verdict = Target::AtLeast(0.95 * 3_200.0).judge(rate, ok);
    table.row(name, "rows/s", count(rate), verdict);
}

/// `--rate 500/s` for `rate_seconds`: the pace seen by the emulator.
fn rate_limited(plan: &Plan, table: &mut Table) {
    const RATE: f64 = 500.0;
    const BURST: usize = 1;
    let name = "live, --rate 500/s";
    let rows = RATE as usize * plan.rate_seconds;
    let input = plan.export(rows);
    let emulator = start_emulator(&["--no-request-bodies"]);
    let extra = ["--rate", "500/s", "--burst", "1", "--concurrency", "16"];
    let (_, ok) = import(plan, &input, Some(&emulator), &extra);
    let arrivals = match emulator.upsert_arrivals() {
        Ok(arrivals) if arrivals.len() > 1 => arrivals,
        Ok(_) => return table.note(name, "no upserts in the emulator's log"),
        Err(e) => return table.note(name, &format!("cannot read the request log: {e}")),
    };
    let span_s = (arrivals[arrivals.len() - 1] - arrivals[0]) / 1000.0;
    let achieved = (arrivals.len() - 1) as f64 / span_s;
    let verdict = Target::Within(RATE, 0.01).judge(achieved, ok);
    let shown = format!("{achieved:.1} ({:+.2}%)", (achieved - RATE) / RATE * 100.0);
    table.row(name, "rows/s at the emulator", shown, verdict);
    let busiest = busiest_second(&arrivals);
    let limit = RATE as usize + BURST;
    let verdict = Target::AtMost(limit as f64).judge(busiest as f64, ok);
    table.row(name, "busiest 1 s window", busiest.to_string(), verdict);
}

/// The most arrivals within any one-second window (sliding: every window
/// that starts at an arrival).
fn busiest_second(arrivals_ms: &[f64]) -> usize {
    let mut end = 0;
    let mut busiest = 0;
    for (start, &at) in arrivals_ms.iter().enumerate() {
        while end < arrivals_ms.len() && arrivals_ms[end] < at + 1000.0 {
            end += 1;
        }
        busiest = busiest.max(end - start);
    }
    busiest
}

/// The emulator driven by [`load`]: it must not be what caps a figure.
fn emulator_alone(plan: &Plan, importer_best: f64, table: &mut Table) {
    let name = "emulator alone, 64 connections";
    let emulator = start_emulator(&["--no-request-log"]);
    let before = emulator.cpu();
    let load = match load::drive(&emulator.url, 64, plan.load_time) {
        Ok(load) => load,
        Err(e) => return table.note(name, &format!("load generator failed: {e}")),
    };
    let rate = load.ok as f64 / load.elapsed.as_secs_f64();
    let verdict = Target::AtLeast(3.0 * importer_best).judge(rate, load.failed == 0);
    table.row(name, "requests/s", count(rate), verdict);
    if let (Some(after), Some(before)) = (emulator.cpu(), before) {
        let per = (after.saturating_sub(before)).as_secs_f64() * 1e6 / load.ok.max(1) as f64;
        table.row(
            name,
            "emulator CPU per request",
            format!("{per:.1} us"),
            Target::Reference,
        );
    }
}

fn start_emulator(extra: &[&str]) -> Emulator {
    Emulator::start(Path::new(BIN), extra).unwrap_or_else(|e| panic!("emulator: {e}"))
}

/// Runs one import (a dry run without an emulator); true when it exited 0.
fn import(plan: &Plan, input: &Path, to: Option<&Emulator>, extra: &[&str]) -> (Usage, bool) {
    let mut args: Vec<String> = vec!["import".into(), input.display().to_string()];
    args.push("--mapping".into());
    args.push(plan.mapping().display().to_string());
    args.push("--dead-letter".into());
    args.push(
        plan.dir
            .join("bench.dead-letter.ndjson")
            .display()
            .to_string(),
    );
    args.extend(["--progress", "none", "--quiet"].map(String::from));
    match to {
        Some(emulator) => {
            let api = ["--api-url", &emulator.url, "--api-key", KEY];
            args.extend(api.map(String::from));
        }
        None => args.push("--dry-run".into()),
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    let (status, usage) = measure::run(Path::new(BIN), &args, &plan.dir);
    if !status.success() {
        eprintln!(
            "warning: the import of {} ended with {status}",
            input.display()
        );
    }
    (usage, status.success())
}

/// Reads every record with the `csv` crate; (wall time, CPU time).
fn bare_csv_read(input: &Path) -> (Duration, Option<Duration>) {
    let cpu_before = measure::own_cpu();
    let started = Instant::now();
    let mut reader = csv::Reader::from_path(input).expect("open the export");
    let mut record = csv::ByteRecord::new();
    let mut fields = 0usize;
    while reader
        .read_byte_record(&mut record)
        .expect("read the export")
    {
        fields += record.len();
    }
    let wall = started.elapsed();
    assert!(fields > 0, "the export has records");
    let cpu = measure::own_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    (wall, cpu)
}

/// 1234567.8 as "1,234,568".
fn count(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut shown = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            shown.push(',');
        }
        shown.push(digit);
    }
    shown
}
