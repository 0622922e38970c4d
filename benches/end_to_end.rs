//! End-to-end benchmark: generates a deterministic synthetic CRM export,
//! then measures a bare `csv` crate read of it, the importer's dry run, and
//! a full import into the emulator, and prints one table.
//!
//! Run with `cargo bench --bench end_to_end` (rows: `BENCH_ROWS`, default
//! 1,000,000). Figures depend on the machine; the table says which.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_laudspeaker-import");
const KEY: &str = "bench-key";

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and `cargo test --benches` probes
    }
    let rows: usize = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench data folder");
    let input = dir.join(format!("crm-{rows}.csv"));
    let mapping = dir.join("crm.toml");
    if !input.exists() {
        generate(&input, rows).expect("generate the synthetic export");
    }
    std::fs::write(&mapping, MAPPING).expect("write the mapping");
    let size = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
    println!(
        "synthetic export: {rows} rows, {:.1} MB, {}",
        size as f64 / 1e6,
        input.display()
    );
    println!("{:<44} {:>10} {:>14}", "scenario", "seconds", "rows/s");
    let bare = bare_csv_read(&input);
    report("bare csv crate read", bare, rows);
    let dry = timed(|| run_import(&input, &mapping, &dir, None, &[]));
    report("importer --dry-run", dry, rows);
    println!(
        "  dry run / bare read: {:.2}x",
        dry.as_secs_f64() / bare.as_secs_f64()
    );
    let emulator = Emulator::start();
    let live = timed(|| {
        run_import(
            &input,
            &mapping,
            &dir,
            Some(&emulator.url),
            &["--concurrency", "64"],
        )
    });
    report("import into emulator (concurrency 64)", live, rows);
    // The checkpoint writes one short entry per record; this shows its cost.
    let unjournaled = timed(|| {
        run_import(
            &input,
            &mapping,
            &dir,
            Some(&emulator.url),
            &["--concurrency", "64", "--no-checkpoint"],
        )
    });
    report("  the same, --no-checkpoint", unjournaled, rows);
}

fn report(name: &str, elapsed: Duration, rows: usize) {
    let secs = elapsed.as_secs_f64();
    println!("{name:<44} {secs:>10.2} {:>14.0}", rows as f64 / secs);
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

fn bare_csv_read(input: &Path) -> Duration {
    timed(|| {
        let mut reader = csv::Reader::from_path(input).expect("open");
        let mut record = csv::ByteRecord::new();
        let mut fields = 0usize;
        while reader.read_byte_record(&mut record).expect("read") {
            fields += record.len();
        }
        assert!(fields > 0);
    })
}

fn run_import(input: &Path, mapping: &Path, dir: &Path, url: Option<&str>, extra: &[&str]) {
    let mut command = Command::new(BIN);
    command
        .arg("import")
        .arg(input)
        .arg("--mapping")
        .arg(mapping)
        .arg("--dead-letter")
        .arg(dir.join("bench.dead-letter.ndjson"))
        .args(["--progress", "none", "--quiet"])
        .args(extra)
        .env_remove("LAUDSPEAKER_API_KEY")
        .stderr(Stdio::null());
    match url {
        Some(url) => command.args(["--api-url", url, "--api-key", KEY]),
        None => command.arg("--dry-run"),
    };
    let status = command.status().expect("run the importer");
    assert_eq!(status.code(), Some(0), "the benchmark import must succeed");
}

/// The emulator as a separate process on 127.0.0.1, without request log.
struct Emulator {
    child: std::process::Child,
    url: String,
}

impl Emulator {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args([
                "emulator",
                "--listen",
                "127.0.0.1:0",
                "--api-key",
                KEY,
                "--no-request-log",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the emulator");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("listening line");
        let url = line.trim().trim_start_matches("listening on ").to_string();
        Emulator { child, url }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MAPPING: &str = r#"
[source]
format = "csv"

[primary_key]
from = "email"
type = "email"
lowercase = true
attribute = "email"

[[property]]
from = "first_name"
to = "firstName"

[[property]]
from = "last_name"
to = "lastName"

[[property]]
from = "phone"
to = "phone"

[[property]]
from = "stage"
to = "stage"

[[property]]
from = "signup_date"
to = "signupDate"
type = "date"

[[property]]
from = "last_seen"
to = "lastSeen"
type = "date"
format = "%d/%m/%Y"

[[property]]
from = "revenue"
to = "revenue"
type = "number"

[[property]]
from = "vip"
to = "vip"
type = "boolean"

[[property]]
from = "tags"
to = "tags"
type = "array"
separator = ";"

[[property]]
from = "city"
to = "city"

[[property]]
from = "zip"
to = "zip"
"#;

/// A deterministic export: 12 columns of mixed types, the same bytes on
/// every machine.
fn generate(path: &Path, rows: usize) -> std::io::Result<()> {
    const FIRST: [&str; 8] = [
        "Ana", "Jürgen", "Zoë", "Søren", "Chloé", "Ítalo", "Wen", "Łukasz",
    ];
    const LAST: [&str; 6] = [
        "Almeida",
        "Müller",
        "O'Brien",
        "Nakamura",
        "Øvergaard",
        "Dvořák",
    ];
    const STAGE: [&str; 5] = [
        "lead",
        "subscriber",
        "opportunity",
        "customer",
        "evangelist",
    ];
    const CITY: [&str; 4] = ["\"Berlin, Mitte\"", "Lisboa", "\"Paris, 11e\"", "Kraków"];
    const TAGS: [&str; 4] = ["vip;newsletter", "newsletter", "", "webinar;beta;vip"];
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(
        out,
        "email,first_name,last_name,phone,stage,signup_date,last_seen,revenue,vip,tags,city,zip"
    )?;
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..rows {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let r = state;
        writeln!(
            out,
            concat!(
                "user{}@example.com,{},{},+1 555 {:07},{},20{:02}-{:02}-{:02},",
                "{:02}/{:02}/2024,{}.{:02},{},{},{},{:05}"
            ),
            i,
            FIRST[(r % 8) as usize],
            LAST[(r >> 8) as usize % 6],
            r % 10_000_000,
            STAGE[(r >> 16) as usize % 5],
            10 + (r >> 20) % 14,
            1 + (r >> 24) % 12,
            1 + (r >> 28) % 28,
            1 + (r >> 32) % 28,
            1 + (r >> 36) % 12,
            (r >> 40) % 100_000,
            (r >> 44) % 100,
            if (r >> 50) % 2 == 0 { "true" } else { "no" },
            TAGS[(r >> 52) as usize % 4],
            CITY[(r >> 56) as usize % 4],
            (r >> 12) % 100_000,
        )?;
    }
    out.flush()
}
