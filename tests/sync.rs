//! Nightly syncs, run as a scheduler would: the real binary against the
//! emulator process, run after run on the same files. `--state` skips what
//! the server already holds, `--report` says what happened, `--max-errors`
//! stops a run that goes wrong, `--ledger` lists the successes and
//! `--log-format json` makes every message a JSON line.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{code, dead_letters, import, output_text, Emulator, KEY};
use serde_json::{json, Value};

const MAPPING: &str = "[source]\nformat = \"csv\"\n\n[primary_key]\nfrom = \"email\"\n\n\
    [[property]]\nfrom = \"name\"\nto = \"firstName\"\n\n\
    [[property]]\nfrom = \"age\"\nto = \"age\"\ntype = \"number\"\n";

/// A working folder with a mapping, an input, and the sync's files.
struct Sync {
    dir: tempfile::TempDir,
}

impl Sync {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("m.toml"), MAPPING).expect("write mapping");
        Sync { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn text(&self, name: &str) -> String {
        self.path(name).to_str().expect("utf-8").to_string()
    }

    /// Writes `in.csv` from rows of (email, name, age).
    fn write_input(&self, rows: &[(String, String, String)]) {
        let mut text = String::from("email,name,age\n");
        for (email, name, age) in rows {
            text.push_str(&format!("{email},{name},{age}\n"));
        }
        std::fs::write(self.path("in.csv"), text).expect("write input");
    }

    /// Imports `in.csv` with --state and --report, plus `extra`.
    fn run(&self, emulator: &Emulator, extra: &[&str]) -> Output {
        let (input, mapping, dl) = (
            self.text("in.csv"),
            self.text("m.toml"),
            self.text("dl.ndjson"),
        );
        let (state, report) = (self.text("state.redb"), self.text("report.json"));
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
            "--state",
            &state,
            "--report",
            &report,
        ];
        args.extend_from_slice(extra);
        import(&args)
    }

    fn report(&self) -> Value {
        let text = std::fs::read_to_string(self.path("report.json")).expect("report written");
        serde_json::from_str(&text).expect("report is JSON")
    }
}

/// `count` customers u1..u<count>, aged 20 + i % 50.
fn customers(count: usize) -> Vec<(String, String, String)> {
    (1..=count)
        .map(|i| {
            (
                format!("u{i}@example.com"),
                format!("Name{i}"),
                (20 + i % 50).to_string(),
            )
        })
        .collect()
}

/// The primary keys of the requests the emulator received from `from` on.
fn keys_sent(emulator: &Emulator, from: usize) -> Vec<String> {
    emulator.requests()[from..]
        .iter()
        .map(|request| {
            request["body"]["primary_key"]
                .as_str()
                .expect("key")
                .to_string()
        })
        .collect()
}

/// The report's counts, checked to add up.
fn counts(report: &Value) -> Value {
    let counts = &report["counts"];
    let part = |name: &str| counts[name].as_u64().expect("count");
    assert_eq!(
        part("read"),
        part("upserted")
            + part("skipped_unchanged")
            + part("skipped_blank")
            + part("dead_lettered")
            + part("not_sent"),
        "read = upserted + skipped + dead-lettered + not sent: {counts}"
    );
    counts.clone()
}

fn script(sync: &Sync, rules: &str) -> Emulator {
    std::fs::write(sync.path("server.toml"), rules).expect("write script");
    Emulator::start_with(&["--script", &sync.text("server.toml")])
}

#[test]
fn an_unchanged_file_sends_nothing_and_a_changed_row_only_itself() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    let mut rows = customers(200);
    sync.write_input(&rows);

    let first = sync.run(&emulator, &[]);
    assert_eq!(code(&first), 0, "{}", output_text(&first));
    assert_eq!(emulator.requests().len(), 200);

    let second = sync.run(&emulator, &[]);
    assert_eq!(code(&second), 0, "{}", output_text(&second));
    assert_eq!(
        emulator.requests().len(),
        200,
        "nothing sent the second time"
    );
    let report = sync.report();
    assert_eq!(
        counts(&report),
        json!({"read": 200, "upserted": 0, "skipped_unchanged": 200, "skipped_blank": 0,
               "dead_lettered": 0, "dead_lettered_by_kind": {}, "not_sent": 0,
               "already_done": 0, "sent_with_dropped_properties": 0})
    );
    assert!(output_text(&second).contains("skipped unchanged      200\n"));

    // 1% of the rows change: exactly those are sent.
    rows[16].1 = "Changed".into();
    rows[149].2 = "99".into();
    sync.write_input(&rows);
    let third = sync.run(&emulator, &[]);
    assert_eq!(code(&third), 0, "{}", output_text(&third));
    let sent: BTreeSet<String> = keys_sent(&emulator, 200).into_iter().collect();
    assert_eq!(
        sent,
        BTreeSet::from([
            "u17@example.com".to_string(),
            "u150@example.com".to_string()
        ])
    );
    assert_eq!(emulator.requests().len(), 202);
    assert_eq!(sync.report()["counts"]["skipped_unchanged"], 198);
    let customers = emulator.customers();
    assert_eq!(customers["u17@example.com"]["firstName"], "Changed");
    assert_eq!(customers["u150@example.com"]["age"], 99);

    // --full sends everything once more, and still records it.
    let full = sync.run(&emulator, &["--full"]);
    assert_eq!(code(&full), 0, "{}", output_text(&full));
    assert_eq!(emulator.requests().len(), 402);
    assert_eq!(sync.report()["full"], true);
    let after = sync.run(&emulator, &[]);
    assert_eq!(code(&after), 0, "{}", output_text(&after));
    assert_eq!(emulator.requests().len(), 402);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["state.redb", "report.json"] {
            let mode = std::fs::metadata(sync.path(name))
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
}

#[test]
fn records_that_failed_are_sent_again_next_time() {
    let sync = Sync::new();
    // u3 is refused once (400), u5 fails once (500, no retry), u7 is
    // accepted, then refused when it changes, then accepted.
    let emulator = script(
        &sync,
        "[[rule]]\nprimary_key = \"u3@example.com\"\nattempt = 1\nstatus = 400\n\n\
         [[rule]]\nprimary_key = \"u5@example.com\"\nattempt = 1\nstatus = 500\n\n\
         [[rule]]\nprimary_key = \"u7@example.com\"\nattempt = 2\nstatus = 400\n",
    );
    let original = customers(10);
    sync.write_input(&original);
    let first = sync.run(&emulator, &["--max-retries", "0"]);
    assert_eq!(code(&first), 1, "{}", output_text(&first));
    // Dead letters of HTTP failures come in the order the answers did.
    let lines: BTreeSet<u64> = dead_letters(&sync.path("dl.ndjson"))
        .iter()
        .map(|entry| entry["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, BTreeSet::from([4, 6]));

    let second = sync.run(&emulator, &["--max-retries", "0"]);
    assert_eq!(code(&second), 0, "{}", output_text(&second));
    let sent: BTreeSet<String> = keys_sent(&emulator, 10).into_iter().collect();
    assert_eq!(
        sent,
        BTreeSet::from(["u3@example.com".to_string(), "u5@example.com".to_string()])
    );

    // u7 changes and is refused: the state forgets it, so going back to
    // the values delivered before sends it again rather than skipping it.
    let mut changed = original.clone();
    changed[6].1 = "Changed".into();
    sync.write_input(&changed);
    let third = sync.run(&emulator, &["--max-retries", "0"]);
    assert_eq!(code(&third), 1, "{}", output_text(&third));
    assert_eq!(keys_sent(&emulator, 12), ["u7@example.com"]);
    sync.write_input(&original);
    let fourth = sync.run(&emulator, &["--max-retries", "0"]);
    assert_eq!(code(&fourth), 0, "{}", output_text(&fourth));
    assert_eq!(keys_sent(&emulator, 13), ["u7@example.com"]);
    assert_eq!(emulator.customers()["u7@example.com"]["firstName"], "Name7");
}

#[test]
fn a_key_with_two_rows_keeps_the_last_delivered_digest() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    let row = |name: &str| {
        (
            "k@example.com".to_string(),
            name.to_string(),
            "30".to_string(),
        )
    };
    sync.write_input(&[row("First"), row("Second")]);
    let first = sync.run(&emulator, &[]);
    assert_eq!(code(&first), 0, "{}", output_text(&first));
    assert_eq!(emulator.customers()["k@example.com"]["firstName"], "Second");

    // Both rows are sent again, in order: skipping the first would need
    // to know the last. The server ends with the last row's values.
    let again = sync.run(&emulator, &[]);
    assert_eq!(code(&again), 0, "{}", output_text(&again));
    let names: Vec<Value> = emulator.requests()[2..]
        .iter()
        .map(|request| request["body"]["properties"]["firstName"].clone())
        .collect();
    assert_eq!(names, [json!("First"), json!("Second")]);
    assert_eq!(emulator.customers()["k@example.com"]["firstName"], "Second");

    // What is stored is the last row's digest: a file holding only it
    // sends nothing, one holding only the first row sends it.
    sync.write_input(&[row("Second")]);
    let last = sync.run(&emulator, &[]);
    assert_eq!(code(&last), 0, "{}", output_text(&last));
    assert_eq!(emulator.requests().len(), 4);
    sync.write_input(&[row("First")]);
    let back = sync.run(&emulator, &[]);
    assert_eq!(code(&back), 0, "{}", output_text(&back));
    assert_eq!(emulator.requests().len(), 5);
    assert_eq!(emulator.customers()["k@example.com"]["firstName"], "First");
}

#[test]
fn a_dry_run_reports_what_would_be_skipped_and_writes_no_state() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    let mut rows = customers(20);
    sync.write_input(&rows);
    let (input, mapping) = (sync.text("in.csv"), sync.text("m.toml"));
    let dry = |state: &str| {
        import(&[
            &input,
            "--mapping",
            &mapping,
            "--dry-run",
            "--state",
            state,
            "--report",
            &sync.text("report.json"),
        ])
    };
    let never = sync.text("never.redb");
    let output = dry(&never);
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    assert!(
        !sync.path("never.redb").exists(),
        "a dry run creates no state"
    );
    assert_eq!(sync.report()["counts"]["upserted"], 20);

    let live = sync.run(&emulator, &[]);
    assert_eq!(code(&live), 0, "{}", output_text(&live));
    let before = std::fs::read(sync.path("state.redb")).expect("state");
    rows[0].1 = "Changed".into();
    sync.write_input(&rows);
    let output = dry(&sync.text("state.redb"));
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    let report = sync.report();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["counts"]["upserted"], 1);
    assert_eq!(report["counts"]["skipped_unchanged"], 19);
    assert_eq!(
        std::fs::read(sync.path("state.redb")).expect("state"),
        before
    );
    assert_eq!(emulator.requests().len(), 20);
}

#[test]
fn the_report_holds_exact_counts_kinds_exit_and_files() {
    let sync = Sync::new();
    let emulator = script(
        &sync,
        "[[rule]]\nprimary_key = \"u4@example.com\"\nstatus = 422\n\n\
         [[rule]]\nprimary_key = \"u5@example.com\"\nattempt = 1\nstatus = 429\n\
         headers = { \"Retry-After\" = \"0\" }\n",
    );
    let mut text = String::from("email,name,age\n");
    for i in 1..=6 {
        text.push_str(&format!("u{i}@example.com,Name{i},{}\n", 30 + i));
    }
    text.push('\n');
    text.push_str("u7@example.com,Name7,old\n");
    std::fs::write(sync.path("in.csv"), text).expect("write input");
    let output = sync.run(&emulator, &[]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let report = sync.report();
    assert_eq!(report["report"], "laudspeaker-import");
    assert_eq!(report["version"], 1);
    assert_eq!(report["inputs"], json!([sync.text("in.csv")]));
    assert_eq!(report["mapping"], sync.text("m.toml"));
    assert_eq!(
        (report["dry_run"].clone(), report["full"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(
        counts(&report),
        json!({"read": 8, "upserted": 5, "skipped_unchanged": 0, "skipped_blank": 1,
               "dead_lettered": 2, "dead_lettered_by_kind": {"value": 1, "http": 1},
               "not_sent": 0,
               "already_done": 0, "sent_with_dropped_properties": 0})
    );
    assert_eq!(
        report["retries"],
        json!({"total": 1, "throttled": 1, "server_error": 0, "timeout": 0, "connection": 0})
    );
    assert_eq!(report["answers_429"], 1);
    assert_eq!(
        report["exit"],
        json!({"code": 1, "meaning":
            "the input was read to the end and some records were dead-lettered"})
    );
    assert_eq!(report["stopped_because"], Value::Null);
    assert_eq!(
        report["files"],
        json!({"dead_letters": [sync.text("dl.ndjson")], "checkpoints": [],
               "state": sync.text("state.redb"), "ledger": null})
    );
    let started = report["started"].as_str().expect("started");
    let ended = report["ended"].as_str().expect("ended");
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).expect("RFC 3339");
    assert!(parse(started) <= parse(ended), "{started} {ended}");
    assert!(report["duration_s"].as_f64().expect("duration") >= 0.0);
    assert!(report["rows_per_second"].as_f64().expect("rate") > 0.0);

    // The next run skips the five delivered, retries the two that failed.
    let output = sync.run(&emulator, &[]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    assert_eq!(
        counts(&sync.report()),
        json!({"read": 8, "upserted": 0, "skipped_unchanged": 5, "skipped_blank": 1,
               "dead_lettered": 2, "dead_lettered_by_kind": {"value": 1, "http": 1},
               "not_sent": 0,
               "already_done": 0, "sent_with_dropped_properties": 0})
    );
}

#[test]
fn a_fatal_stop_still_writes_the_report() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    sync.write_input(&customers(3));
    let (input, mapping) = (sync.text("in.csv"), sync.text("m.toml"));
    let report = sync.text("report.json");
    let output = import(&[
        &input,
        "--mapping",
        &mapping,
        "--api-url",
        &emulator.url,
        "--api-key",
        "wrong-key",
        "--dead-letter",
        &sync.text("dl.ndjson"),
        "--report",
        &report,
        "--concurrency",
        "1",
    ]);
    assert_eq!(code(&output), 3, "{}", output_text(&output));
    let report = sync.report();
    assert_eq!(report["exit"]["code"], 3);
    assert_eq!(report["exit"]["meaning"], "stopped during the run");
    let because = report["stopped_because"].as_str().expect("a reason");
    assert!(because.contains("401"), "{because}");
    assert_eq!(report["counts"]["upserted"], 0);
    counts(&report);
}

/// Rows where every `bad`-th one has an age that is not a number.
fn with_bad_ages(count: usize, bad: usize) -> Vec<(String, String, String)> {
    let mut rows = customers(count);
    for (i, row) in rows.iter_mut().enumerate() {
        if (i + 1) % bad == 0 {
            row.2 = "unknown".into();
        }
    }
    rows
}

#[test]
fn the_error_budget_stops_the_run_with_exit_3_and_says_why() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    sync.write_input(&with_bad_ages(50, 1));
    let output = sync.run(&emulator, &["--max-errors", "2"]);
    let text = output_text(&output);
    assert_eq!(code(&output), 3, "{text}");
    assert!(text.contains("error: stopped: more than 2 of the records read were dead-lettered"));
    let report = sync.report();
    assert_eq!(
        counts(&report),
        json!({"read": 3, "upserted": 0, "skipped_unchanged": 0, "skipped_blank": 0,
               "dead_lettered": 3, "dead_lettered_by_kind": {"value": 3}, "not_sent": 0,
               "already_done": 0, "sent_with_dropped_properties": 0})
    );
    assert_eq!(report["exit"]["code"], 3);
    assert_eq!(
        report["stopped_because"],
        "stopped: more than 2 of the records read were dead-lettered (--max-errors 2)"
    );
    assert_eq!(dead_letters(&sync.path("dl.ndjson")).len(), 3);
    assert!(emulator.requests().is_empty());
}

#[test]
fn a_percentage_budget_waits_for_a_hundred_rows_then_stops() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    // Every 5th row is bad: 20%, over a 10% budget from the 100th row on.
    sync.write_input(&with_bad_ages(300, 5));
    let output = sync.run(&emulator, &["--max-errors", "10%"]);
    assert_eq!(code(&output), 3, "{}", output_text(&output));
    let counts = counts(&sync.report());
    assert_eq!(counts["read"], 100);
    assert_eq!(counts["dead_lettered"], 20);
    let upserted = counts["upserted"].as_u64().expect("count");
    assert_eq!(upserted + counts["not_sent"].as_u64().expect("count"), 80);
    assert_eq!(emulator.requests().len() as u64, upserted);

    // Within the budget, the run ends normally (started over: the stopped
    // run's checkpoint would otherwise make this run continue it).
    let output = sync.run(&emulator, &["--max-errors", "25%", "--restart"]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    assert_eq!(sync.report()["counts"]["dead_lettered"], 60);
}

#[test]
fn the_ledger_lists_each_upsert_with_the_id_the_server_returned() {
    let sync = Sync::new();
    let emulator = script(
        &sync,
        "[[rule]]\nprimary_key = \"u1@example.com\"\nstatus = 200\nbody = '{\"id\":\"cust-1\"}'\n\n\
         [[rule]]\nprimary_key = \"u3@example.com\"\nstatus = 201\nbody = '{\"id\": 3}'\n\n\
         [[rule]]\nprimary_key = \"u4@example.com\"\nstatus = 200\nbody = '{\"ok\":true}'\n",
    );
    let mut rows = customers(4);
    rows[1].2 = "bad".into();
    rows[3].0 = "  u4@example.com ".into();
    sync.write_input(&rows);
    let ledger = sync.text("ledger.ndjson");
    let output = sync.run(&emulator, &["--ledger", &ledger, "--concurrency", "1"]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    assert_eq!(
        std::fs::read_to_string(&ledger).expect("ledger"),
        "{\"line\":2,\"primary_key\":\"u1@example.com\",\"customer_id\":\"cust-1\"}\n\
         {\"line\":4,\"primary_key\":\"u3@example.com\",\"customer_id\":\"3\"}\n\
         {\"line\":5,\"primary_key\":\"u4@example.com\",\"customer_id\":null}\n"
    );
    assert_eq!(sync.report()["files"]["ledger"], ledger);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ledger)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A file this tool did not write is never replaced by the ledger.
    let notes = sync.path("notes.txt");
    std::fs::write(&notes, "keep me\n").expect("write");
    let output = sync.run(&emulator, &["--ledger", notes.to_str().expect("utf-8")]);
    assert_eq!(code(&output), 2, "{}", output_text(&output));
    assert_eq!(std::fs::read_to_string(&notes).expect("notes"), "keep me\n");
}

#[test]
fn json_logs_are_one_object_a_line_with_the_summary_as_fields() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    sync.write_input(&with_bad_ages(10, 4));
    let output = sync.run(&emulator, &["--log-format", "json", "-v"]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .collect();
    assert!(lines
        .iter()
        .all(|line| line["level"].is_string() && line["timestamp"].is_string()));
    let summary: Vec<&Value> = lines.iter().filter(|l| l["message"] == "summary").collect();
    assert_eq!(summary.len(), 1, "{stderr}");
    assert_eq!(
        (summary[0]["read"].clone(), summary[0]["upserted"].clone()),
        (json!(10), json!(8))
    );
    assert_eq!(summary[0]["dead_lettered"], 2);
    assert_eq!(summary[0]["adds_up"], true);

    // --quiet: only errors and the summary.
    let output = sync.run(&emulator, &["--log-format", "json", "--quiet"]);
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    let messages: Vec<String> = stderr
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("json")["message"].to_string())
        .collect();
    assert_eq!(messages, ["\"summary\""], "{stderr}");
}

#[test]
fn state_report_and_ledger_never_land_on_the_input() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    sync.write_input(&customers(2));
    let input = sync.text("in.csv");
    for flag in ["--ledger", "--report"] {
        let output = sync.run(&emulator, &[flag, &input]);
        assert_eq!(code(&output), 2, "{}", output_text(&output));
    }
    let notes = sync.path("notes.txt");
    std::fs::write(&notes, "keep me\n").expect("write");
    let (mapping, dl) = (sync.text("m.toml"), sync.text("dl.ndjson"));
    let output = import(&[
        &input,
        "--mapping",
        &mapping,
        "--api-url",
        &emulator.url,
        "--api-key",
        KEY,
        "--dead-letter",
        &dl,
        "--state",
        notes.to_str().expect("utf-8"),
    ]);
    let text = output_text(&output);
    assert_eq!(code(&output), 2, "{text}");
    assert!(text.contains("is not a state file"), "{text}");
    assert_eq!(std::fs::read_to_string(&notes).expect("notes"), "keep me\n");
    assert!(emulator.requests().is_empty());
    assert!(!Path::new(&input).with_file_name("state.redb").exists());
}

#[test]
fn a_failure_after_a_delivery_of_the_same_key_forgets_the_key() {
    let sync = Sync::new();
    // The second request for k fails with a 500 that the server applied
    // all the same: what it holds is unknown, so the key must be sent.
    let emulator = script(
        &sync,
        "[[rule]]\nprimary_key = \"k@example.com\"\nattempt = 2\nstatus = 500\napply = true\n",
    );
    let row = |name: &str| {
        (
            "k@example.com".to_string(),
            name.to_string(),
            "30".to_string(),
        )
    };
    sync.write_input(&[row("First"), row("Second")]);
    let first = sync.run(&emulator, &["--max-retries", "0"]);
    assert_eq!(code(&first), 1, "{}", output_text(&first));
    assert_eq!(emulator.customers()["k@example.com"]["firstName"], "Second");
    sync.write_input(&[row("First")]);
    let second = sync.run(&emulator, &["--max-retries", "0"]);
    assert_eq!(code(&second), 0, "{}", output_text(&second));
    assert_eq!(emulator.requests().len(), 3);
    assert_eq!(emulator.customers()["k@example.com"]["firstName"], "First");
}

#[test]
fn a_record_abandoned_in_flight_is_sent_next_time_whatever_it_holds() {
    let sync = Sync::new();
    // k's second request is applied and never answered; the run is then
    // stopped by the error budget (x refused, 300 ms later), so k's
    // outcome is unknown.
    let emulator = script(
        &sync,
        "[[rule]]\nprimary_key = \"k@example.com\"\nattempt = 2\nhang = true\napply = true\n\n\
         [[rule]]\nprimary_key = \"x@example.com\"\nstatus = 400\ndelay_ms = 300\n",
    );
    let row = |name: &str, age: &str| ("k@example.com".to_string(), name.into(), age.into());
    sync.write_input(&[row("First", "30")]);
    let first = sync.run(&emulator, &[]);
    assert_eq!(code(&first), 0, "{}", output_text(&first));
    let refused = (
        "x@example.com".to_string(),
        "X".to_string(),
        "1".to_string(),
    );
    sync.write_input(&[row("Second", "30"), refused]);
    let stopped = sync.run(
        &emulator,
        &["--max-errors", "0", "--timeout", "1s", "--max-retries", "1"],
    );
    assert_eq!(code(&stopped), 3, "{}", output_text(&stopped));
    assert_eq!(sync.report()["counts"]["not_sent"], 1);
    assert_eq!(emulator.customers()["k@example.com"]["firstName"], "Second");
    // The file goes back to what was delivered first: it is sent again
    // (--restart: the stopped run's checkpoint was for the other file).
    sync.write_input(&[row("First", "30")]);
    let again = sync.run(&emulator, &["--restart"]);
    assert_eq!(code(&again), 0, "{}", output_text(&again));
    assert_eq!(emulator.requests().len(), 4);
    assert_eq!(emulator.customers()["k@example.com"]["firstName"], "First");
}

#[test]
fn quiet_keeps_errors_and_the_summary_and_drops_warnings() {
    let sync = Sync::new();
    let emulator = Emulator::start();
    // k's first row is refused and its second accepted: a warning.
    let k = |age: &str| {
        (
            "k@example.com".to_string(),
            "K".to_string(),
            age.to_string(),
        )
    };
    sync.write_input(&[k("old"), k("30")]);
    let loud = sync.run(&emulator, &[]);
    assert_eq!(code(&loud), 1, "{}", output_text(&loud));
    let warning = "warning: 1 rows were accepted after an earlier row";
    assert!(
        output_text(&loud).contains(warning),
        "{}",
        output_text(&loud)
    );
    let quiet = sync.run(&emulator, &["--quiet", "--full"]);
    let text = output_text(&quiet);
    assert_eq!(code(&quiet), 1, "{text}");
    assert!(!text.contains("warning:"), "{text}");
    assert!(text.starts_with("rows read                2\n"), "{text}");
}
