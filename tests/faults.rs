//! Delivery under fire: the real importer against the real emulator
//! process with its command-line faults. Every record ends upserted, in
//! file order per customer, or is counted; an outage costs no record and
//! few requests; an outage longer than `--max-outage` stops the run with
//! exit 3 and everything flushed.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Map, Value};

use common::{code, dead_letters, import, output_text, Emulator, KEY};

const MAPPING: &str = r#"
[source]
format = "csv"

[primary_key]
from = "email"
type = "email"

[[property]]
from = "n"
to = "n"
type = "number"

[[property]]
from = "plan"
to = "plan"
"#;

/// A scratch folder with an input of `rows` rows over `keys` customers
/// (row `n` belongs to customer `n % keys`, so each customer's rows are
/// spread through the file), and the mapping.
struct Setup {
    dir: tempfile::TempDir,
    input: PathBuf,
    mapping: PathBuf,
    rows: u64,
    keys: u64,
}

impl Setup {
    fn new(rows: u64, keys: u64) -> Self {
        let dir = tempfile::tempdir().expect("a scratch folder");
        let input = dir.path().join("customers.csv");
        let mapping = dir.path().join("customers.toml");
        let mut text = String::from("email,n,plan\n");
        for n in 1..=rows {
            text.push_str(&format!("{},{n},{}\n", email(n % keys), plan(n)));
        }
        std::fs::write(&input, text).expect("write the input");
        std::fs::write(&mapping, MAPPING).expect("write the mapping");
        Setup {
            dir,
            input,
            mapping,
            rows,
            keys,
        }
    }

    fn dead_letter(&self) -> PathBuf {
        self.dir.path().join("dead-letter.ndjson")
    }

    /// Imports into `emulator` with `extra` options.
    fn import(&self, emulator: &Emulator, extra: &[&str]) -> Output {
        let mut args = vec![
            path(&self.input),
            "--mapping",
            path(&self.mapping),
            "--api-url",
            &emulator.url,
            "--api-key",
            KEY,
            "--progress",
            "none",
        ];
        let dead_letter = self.dead_letter();
        args.extend(["--dead-letter", path(&dead_letter)]);
        args.extend(extra);
        import(&args)
    }

    /// What the emulator must hold at the end: each customer's last row.
    fn expected(&self) -> Value {
        let mut customers = Map::new();
        for n in (self.rows - self.keys.min(self.rows) + 1)..=self.rows {
            customers.insert(email(n % self.keys), json!({"n": n, "plan": plan(n)}));
        }
        Value::Object(customers)
    }
}

fn email(key: u64) -> String {
    format!("c{key}@example.com")
}

fn plan(n: u64) -> String {
    format!("p{}", n % 7)
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// Sorts the emulator's customers by key, to compare as one value.
fn sorted(customers: Value) -> Value {
    let Value::Object(map) = customers else {
        panic!("customers is an object: {customers}");
    };
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(entries.into_iter().collect())
}

/// The summary line `name   N` of a run's output, as a number.
fn summary_count(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// Checks that every customer's applied upserts arrived in file order
/// (its rows' `n` strictly increasing); answers how many requests each
/// fault hit.
fn check_order_and_count_faults(requests: &[Value]) -> HashMap<String, u64> {
    let mut last_applied: HashMap<&str, u64> = HashMap::new();
    let mut faults = HashMap::new();
    for request in requests {
        if let Some(fault) = request.get("fault").and_then(Value::as_str) {
            *faults.entry(fault.to_owned()).or_insert(0) += 1;
            assert_eq!(request["applied"], json!(false), "{request}");
        }
        if request["applied"] != json!(true) {
            continue;
        }
        let key = request["body"]["primary_key"].as_str().expect("a key");
        let n = request["body"]["properties"]["n"].as_u64().expect("n");
        let before = last_applied.insert(key, n);
        assert!(
            before.is_none_or(|before| before < n),
            "{key}: row {n} applied after row {before:?}"
        );
    }
    faults
}

/// 10% 500s, 2% resets, 1% hangs and a throttle below the importer's
/// pace over `rows` rows, five per customer: every row is upserted, in
/// order, with no dead letter.
fn soak(rows: u64, throttle: &str) {
    let setup = Setup::new(rows, rows / 5);
    let emulator = Emulator::start_with(&[
        "--seed",
        "20261204",
        "--fail-rate",
        "10%",
        "--reset-rate",
        "2%",
        "--hang-rate",
        "1%",
        "--throttle",
        throttle,
    ]);
    let output = setup.import(
        &emulator,
        &[
            "--concurrency",
            "32",
            "--timeout",
            "1s",
            "--max-retries",
            "10",
        ],
    );
    let text = output_text(&output);
    assert_eq!(code(&output), 0, "{text}");
    assert_eq!(summary_count(&text, "upserted"), Some(rows), "{text}");
    assert!(dead_letters(&setup.dead_letter()).is_empty(), "{text}");
    assert_eq!(sorted(emulator.customers()), sorted(setup.expected()));
    let requests = emulator.requests();
    let faults = check_order_and_count_faults(&requests);
    for fault in ["fail", "reset", "hang", "throttle"] {
        assert!(
            faults.get(fault).is_some_and(|&n| n > 0),
            "no {fault}: {faults:?}"
        );
    }
    eprintln!(
        "soak of {rows} rows: {} requests, faults {faults:?}, importer said:\n{text}",
        requests.len()
    );
}

#[test]
fn soak_under_errors_resets_hangs_and_throttling_loses_nothing() {
    soak(3_000, "200/s");
}

/// The issue's full soak. Run it with
/// `cargo test --release --test faults -- --ignored --nocapture`.
#[test]
#[ignore = "100k rows: takes minutes; run by hand"]
fn soak_of_100k_rows() {
    soak(100_000, "250/s");
}

#[test]
fn a_short_outage_costs_no_record_and_few_requests() {
    let setup = Setup::new(3_000, 1_000);
    let emulator = Emulator::start_with(&["--outage", "2s..5s"]);
    let output = setup.import(&emulator, &["--rate", "500/s", "--timeout", "2s"]);
    let text = output_text(&output);
    assert_eq!(code(&output), 0, "{text}");
    assert!(
        text.contains("outage: 5 records in a row failed (last: HTTP 503)"),
        "{text}"
    );
    assert!(text.contains("outage over after"), "{text}");
    assert!(dead_letters(&setup.dead_letter()).is_empty(), "{text}");
    assert_eq!(sorted(emulator.customers()), sorted(setup.expected()));
    let requests = emulator.requests();
    check_order_and_count_faults(&requests);
    let during: Vec<f64> = requests
        .iter()
        .filter(|r| r.get("fault") == Some(&json!("outage")))
        .map(|r| r["received_ms"].as_f64().expect("a time"))
        .collect();
    // At most the requests in flight when it began (8), the failures that
    // declare it, and probes at most 4 s apart after 250 ms, 500 ms, 1 s...
    assert!(
        (5..=20).contains(&during.len()),
        "{} requests during the outage, at {during:?}",
        during.len()
    );
    eprintln!("3 s outage: {} requests at {during:?} ms", during.len());
}

#[test]
fn an_outage_longer_than_max_outage_stops_with_exit_3() {
    let setup = Setup::new(200, 200);
    // Two rows whose key is not an email are dead-lettered before sending.
    let mut text = std::fs::read_to_string(&setup.input).expect("the input");
    text = text.replacen("c1@example.com", "not-an-email", 1);
    text = text.replacen("c2@example.com", "also not one", 1);
    std::fs::write(&setup.input, text).expect("rewrite the input");
    let emulator = Emulator::start_with(&["--outage", "0s..1h"]);
    let output = setup.import(&emulator, &["--max-outage", "2s"]);
    let text = output_text(&output);
    assert_eq!(code(&output), 3, "{text}");
    assert!(
        text.contains("error: the server has not answered for 2s, longer than --max-outage 2s"),
        "{text}"
    );
    assert!(text.contains("run the same command again"), "{text}");
    assert_eq!(summary_count(&text, "rows read"), Some(200), "{text}");
    assert_eq!(summary_count(&text, "upserted"), Some(0), "{text}");
    assert_eq!(summary_count(&text, "dead-lettered"), Some(2), "{text}");
    assert_eq!(summary_count(&text, "not sent"), Some(198), "{text}");
    let lines: Vec<u64> = dead_letters(&setup.dead_letter())
        .iter()
        .map(|entry| entry["line"].as_u64().expect("a line"))
        .collect();
    assert_eq!(lines, [2, 3]);
    assert_eq!(emulator.customers(), json!({}));
}
