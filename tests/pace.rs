//! The adaptive pace against the emulator: a moment of 429s is survived,
//! slowed for, counted and logged; `--pace fixed` logs no pace.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::{code, dead_letters, import, output_text, Emulator, KEY};

const ROWS: usize = 300;

const MAPPING: &str = r#"
[source]
format = "csv"

[primary_key]
from = "email"
type = "email"
attribute = "email"

[[property]]
from = "n"
to = "n"
type = "number"
"#;

/// A script answering 429 (no `Retry-After`) to request 40 and every
/// request arriving in the 150 ms after it.
const SCRIPT: &str = "[[rule]]\nnth_request = 40\nfor_ms = 150\nstatus = 429\n";

fn write_input(dir: &Path) {
    let mut csv = String::from("email,n\n");
    for n in 0..ROWS {
        writeln!(csv, "p{n}@example.com,{n}").expect("write to a string");
    }
    std::fs::write(dir.join("in.csv"), csv).expect("write input");
    std::fs::write(dir.join("in.toml"), MAPPING).expect("write mapping");
    std::fs::write(dir.join("server.toml"), SCRIPT).expect("write script");
}

/// Imports `in.csv` at -v with `extra` options; returns the output.
fn run(dir: &Path, emulator: &Emulator, extra: &[&str]) -> std::process::Output {
    let path = |name: &str| dir.join(name).to_str().expect("utf-8").to_string();
    let (input, mapping, dl) = (path("in.csv"), path("in.toml"), path("dl.ndjson"));
    let mut args = vec![
        input.as_str(),
        "--mapping",
        &mapping,
        "--api-url",
        &emulator.url,
        "--api-key",
        KEY,
        "--dead-letter",
        &dl,
        "--concurrency",
        "4",
        "--progress",
        "none",
        "-v",
    ];
    args.extend_from_slice(extra);
    import(&args)
}

/// The 429 answers in the emulator's request log.
fn logged_429s(emulator: &Emulator) -> usize {
    let requests = emulator.requests();
    requests.iter().filter(|r| r["status"] == 429).count()
}

/// The count on the summary's `answered 429` line (0 without one).
fn summary_429s(text: &str) -> usize {
    let line = text.lines().find(|l| l.starts_with("answered 429"));
    line.map_or(0, |l| {
        let count = l.trim_start_matches("answered 429").trim();
        count.parse().expect("a count")
    })
}

#[test]
fn throttled_moment_is_survived_counted_and_logged_with_the_new_pace() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_input(dir.path());
    let script = dir.path().join("server.toml");
    let emulator = Emulator::start_with(&["--script", script.to_str().expect("utf-8")]);
    let output = run(dir.path(), &emulator, &[]);
    let text = output_text(&output);
    assert_eq!(code(&output), 0, "{text}");
    let customers = emulator.customers();
    assert_eq!(customers.as_object().map(|c| c.len()), Some(ROWS));
    assert_eq!(customers["p299@example.com"]["n"], 299);
    let throttled = logged_429s(&emulator);
    assert!(throttled >= 1, "request 40 is always answered 429");
    assert_eq!(summary_429s(&text), throttled, "{text}");
    assert!(
        text.contains("pace: the server throttled (429); now at most "),
        "{text}"
    );
    assert!(dead_letters(&dir.path().join("dl.ndjson")).is_empty());
}

#[test]
fn fixed_pace_counts_429s_but_never_changes_pace() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_input(dir.path());
    let script = dir.path().join("server.toml");
    let emulator = Emulator::start_with(&["--script", script.to_str().expect("utf-8")]);
    let output = run(dir.path(), &emulator, &["--pace", "fixed"]);
    let text = output_text(&output);
    assert_eq!(code(&output), 0, "{text}");
    let throttled = logged_429s(&emulator);
    assert!(throttled >= 1, "request 40 is always answered 429");
    assert_eq!(summary_429s(&text), throttled, "{text}");
    assert!(!text.contains("pace:"), "{text}");
}
