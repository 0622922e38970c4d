//! Resuming: a run killed (SIGKILL), stopped (SIGTERM) or out of time
//! (--max-runtime) continues when the same command runs again, losing no
//! record and sending again at most the records that were in flight.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use common::{code, dead_letters, output_text, Emulator, KEY};

const MAPPING: &str = "[source]\nformat = \"csv\"\n\n\
    [primary_key]\nfrom = \"email\"\ntype = \"email\"\n\n\
    [[property]]\nfrom = \"name\"\nto = \"name\"\n\n\
    [[property]]\nfrom = \"n\"\nto = \"n\"\ntype = \"number\"\n";

/// A CSV input of `rows` records, some of which cannot be sent.
struct Input {
    dir: tempfile::TempDir,
    rows: u64,
    /// Every 100th row has no valid email (dead-lettered, never sent).
    with_bad_rows: bool,
}

impl Input {
    fn new(rows: u64, with_bad_rows: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = Input {
            dir,
            rows,
            with_bad_rows,
        };
        let mut text = String::from("email,name,n\n");
        for n in 1..=rows {
            match input.key(n) {
                Some(key) => text.push_str(&format!("{key},Name {n},{n}\n")),
                None => text.push_str(&format!("bad-{n},Name {n},{n}\n")),
            }
        }
        std::fs::write(input.csv(), text).expect("write the input");
        std::fs::write(input.mapping(), MAPPING).expect("write the mapping");
        input
    }

    /// Row `n`'s primary key; every 20th row updates the customer of the
    /// row 7 before it, so the order of same-key rows matters.
    fn key(&self, n: u64) -> Option<String> {
        if self.with_bad_rows && n.is_multiple_of(100) {
            return None;
        }
        let customer = if n.is_multiple_of(20) && self.key(n - 7).is_some() {
            n - 7
        } else {
            n
        };
        Some(format!("c{customer}@example.test"))
    }

    fn csv(&self) -> PathBuf {
        self.dir.path().join("customers.csv")
    }

    fn mapping(&self) -> PathBuf {
        self.dir.path().join("customers.toml")
    }

    fn dead_letter(&self) -> PathBuf {
        self.dir.path().join("customers.dead-letter.ndjson")
    }

    fn checkpoint(&self) -> PathBuf {
        self.dir.path().join("customers.checkpoint")
    }

    /// The customers once every row is imported: the last row of each key.
    fn expected(&self) -> Value {
        let mut customers = Map::new();
        for n in 1..=self.rows {
            if let Some(key) = self.key(n) {
                customers.insert(key, json!({"name": format!("Name {n}"), "n": n}));
            }
        }
        Value::Object(customers)
    }

    /// Rows that reach the server.
    fn sendable(&self) -> u64 {
        (1..=self.rows).filter(|&n| self.key(n).is_some()).count() as u64
    }

    /// The dead-letter lines of the bad rows (the header is line 1).
    fn bad_lines(&self) -> Vec<u64> {
        (1..=self.rows)
            .filter(|&n| self.key(n).is_none())
            .map(|n| n + 1)
            .collect()
    }

    /// The import command, with `extra` arguments.
    fn command(&self, url: &str, concurrency: u16, extra: &[&str]) -> Command {
        let mut command = Command::new(common::bin());
        command
            .arg("import")
            .arg(self.csv())
            .arg("--mapping")
            .arg(self.mapping())
            .args(["--api-url", url, "--api-key", KEY, "--progress", "none"])
            .args(["--concurrency", &concurrency.to_string()])
            .args(extra)
            .env_remove("LAUDSPEAKER_API_KEY")
            .env_remove("LAUDSPEAKER_API_URL")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY");
        command
    }

    fn run(&self, url: &str, concurrency: u16, extra: &[&str]) -> Output {
        self.command(url, concurrency, extra)
            .output()
            .expect("run the importer")
    }

    fn spawn(&self, url: &str, concurrency: u16) -> Child {
        self.spawn_with(url, concurrency, &[])
    }

    fn spawn_with(&self, url: &str, concurrency: u16, extra: &[&str]) -> Child {
        self.command(url, concurrency, extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the importer")
    }
}

/// How many requests each record (by its `n`) got, over all runs so far.
fn sends_per_record(emulator: &Emulator) -> HashMap<u64, u64> {
    let mut sends = HashMap::new();
    for request in emulator.requests() {
        let n = request["body"]["properties"]["n"]
            .as_u64()
            .expect("every body carries n");
        *sends.entry(n).or_insert(0) += 1;
    }
    sends
}

/// Records sent more than once, over all runs so far.
fn sent_again(sends: &HashMap<u64, u64>) -> usize {
    sends.values().filter(|&&count| count > 1).count()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

/// Waits until `child` has exited or the checkpoint reached `bytes`;
/// false when the child exited first.
fn wait_for_checkpoint(child: &mut Child, checkpoint: &Path, bytes: u64) -> bool {
    loop {
        if child.try_wait().expect("poll the importer").is_some() {
            return false;
        }
        if size(checkpoint) >= bytes {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Bytes of one checkpoint entry of an upserted record ("u 12345 89abcdef\n").
const ENTRY_BYTES: u64 = 17;

#[test]
fn killed_at_random_points_the_import_resumes_to_the_exact_state() {
    const CONCURRENCY: u16 = 16;
    const KILLS: usize = 3;
    let seed: u64 = std::env::var("RESUME_TEST_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("seed {seed} (set RESUME_TEST_SEED={seed} to run this again)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let emulator = Emulator::start();
    let input = Input::new(50_000, true);
    // Records sent again because of each kill, seen once the next run ran.
    let mut resent_before = 0;
    let mut check_resent = |kill: usize| {
        let resent = sent_again(&sends_per_record(&emulator));
        eprintln!("kill {kill}: {} records sent again", resent - resent_before);
        assert!(
            resent - resent_before <= usize::from(CONCURRENCY),
            "kill {kill}: {} records sent again, more than the {CONCURRENCY} in flight",
            resent - resent_before
        );
        resent_before = resent;
    };
    for kill in 1..=KILLS {
        let mut child = input.spawn(&emulator.url, CONCURRENCY);
        // Each run rewrites the checkpoint short, then appends an entry per
        // record: kill after a random number of records of this run.
        let records: u64 = rng.random_range(1_000..12_000);
        let at = 600 + records * ENTRY_BYTES;
        let reached = wait_for_checkpoint(&mut child, &input.checkpoint(), at);
        assert!(
            reached,
            "run {kill} ended before its kill point ({records} records)"
        );
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        eprintln!("run {kill} killed after ~{records} records");
        if kill > 1 {
            check_resent(kill - 1);
        }
    }
    let last = input.run(&emulator.url, CONCURRENCY, &[]);
    check_resent(KILLS);
    let text = output_text(&last);
    assert_eq!(code(&last), 1, "{text}");
    assert!(text.contains("(in an earlier run)"), "{text}");
    assert!(!input.checkpoint().exists(), "a complete run removes it");
    assert_eq!(emulator.customers(), input.expected());
    let sends = sends_per_record(&emulator);
    assert_eq!(
        sends.len() as u64,
        input.sendable(),
        "every record was sent"
    );
    assert!(sent_again(&sends) <= KILLS * usize::from(CONCURRENCY));
    let lines: Vec<u64> = dead_letters(&input.dead_letter())
        .iter()
        .map(|entry| entry["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, input.bad_lines(), "each bad row once, in order");
}

/// An emulator that answers every request after `delay_ms`.
fn slow_emulator(dir: &Path, delay_ms: u32) -> Emulator {
    scripted_emulator(dir, &format!("[[rule]]\ndelay_ms = {delay_ms}\n"))
}

fn scripted_emulator(dir: &Path, rules: &str) -> Emulator {
    let script = dir.join("server.toml");
    let text = format!("api_key = \"{KEY}\"\n\n{rules}");
    std::fs::write(&script, text).expect("write the script");
    Emulator::start_with(&["--script", script.to_str().expect("utf-8")])
}

#[test]
fn sigterm_stops_with_130_and_the_rerun_sends_each_remaining_record_once() {
    let input = Input::new(2_000, true);
    let emulator = slow_emulator(input.dir.path(), 4);
    let report_path = input.dir.path().join("report.json");
    let report_arg = report_path.to_str().expect("UTF-8 path");
    let mut child = input.spawn_with(&emulator.url, 4, &["--report", report_arg]);
    assert!(wait_for_checkpoint(
        &mut child,
        &input.checkpoint(),
        600 + 200 * ENTRY_BYTES
    ));
    let pid = child.id().to_string();
    let signal = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(signal.expect("run kill").success());
    let status = child.wait().expect("reap");
    assert_eq!(status.code(), Some(130));
    assert!(input.checkpoint().exists());
    let stopped_at = emulator.requests().len();
    assert!(stopped_at < 1_900, "stopped early: {stopped_at} requests");
    let report = read_report(&report_path);
    assert_eq!(report["exit"]["code"], 130);
    assert_eq!(report["exit"]["meaning"], "interrupted by a signal");
    let counts = &report["counts"];
    assert_eq!(counts_add_up(counts), counts["read"].as_u64());
    assert_eq!(counts["upserted"].as_u64(), Some(stopped_at as u64));
    let checkpoint = input.checkpoint().display().to_string();
    assert_eq!(report["files"]["checkpoints"], json!([checkpoint]));

    let rerun = input.run(&emulator.url, 4, &["--report", report_arg]);
    let text = output_text(&rerun);
    assert_eq!(code(&rerun), 1, "{text}");
    let report = read_report(&report_path);
    let counts = &report["counts"];
    assert_eq!(counts_add_up(counts), counts["read"].as_u64());
    assert_eq!(counts["read"].as_u64(), Some(2_000));
    assert_eq!(report["files"]["checkpoints"], json!([]));
    assert_eq!(emulator.customers(), input.expected());
    let sends = sends_per_record(&emulator);
    assert_eq!(sends.len() as u64, input.sendable());
    // Requests in flight finished before the stop and were recorded.
    assert_eq!(sent_again(&sends), 0, "{text}");
    let lines: Vec<u64> = dead_letters(&input.dead_letter())
        .iter()
        .map(|entry| entry["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, input.bad_lines());
}

fn read_report(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("the report is written");
    serde_json::from_str(&text).expect("the report is JSON")
}

/// The sum of a report's outcome counts, which must equal `read`.
fn counts_add_up(counts: &Value) -> Option<u64> {
    let parts = [
        "upserted",
        "skipped_unchanged",
        "skipped_blank",
        "dead_lettered",
        "not_sent",
        "already_done",
    ];
    parts.iter().map(|part| counts[*part].as_u64()).sum()
}

/// Runs against a slow emulator until --max-runtime stops the run.
fn run_out_of_time(input: &Input, emulator: &Emulator) {
    let output = input.run(&emulator.url, 2, &["--max-runtime", "1s"]);
    let text = output_text(&output);
    assert_eq!(code(&output), 75, "{text}");
    let told = format!(
        "the checkpoint {} records what is done: run the same command again to continue\n",
        input.checkpoint().display()
    );
    assert!(text.contains(&told), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(input.checkpoint())
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "it names the input: owner only");
    assert!(
        text.contains("stopped at the --max-runtime deadline: "),
        "{text}"
    );
    assert!(input.checkpoint().exists());
}

#[test]
fn a_deadline_stop_resumes_and_a_torn_last_entry_sends_one_record_again() {
    let input = Input::new(400, false);
    let emulator = slow_emulator(input.dir.path(), 20);
    run_out_of_time(&input, &emulator);
    let first = emulator.requests().len();
    assert!(first > 0 && first < 400, "{first} requests");
    let checkpoint = std::fs::OpenOptions::new()
        .write(true)
        .open(input.checkpoint())
        .expect("open the checkpoint");
    checkpoint
        .set_len(size(&input.checkpoint()) - 3)
        .expect("tear its last entry");
    drop(checkpoint);

    let rerun = input.run(&emulator.url, 8, &[]);
    let text = output_text(&rerun);
    assert_eq!(code(&rerun), 0, "{text}");
    assert!(
        text.contains(&format!("already done    {:>10}", first - 1)),
        "{text}"
    );
    assert_eq!(emulator.customers(), input.expected());
    let sends = sends_per_record(&emulator);
    assert_eq!(sends.len(), 400);
    assert_eq!(sent_again(&sends), 1, "the torn entry's record only");
    assert!(!input.checkpoint().exists());
}

#[test]
fn a_changed_input_or_mapping_is_refused_until_restart() {
    let input = Input::new(300, false);
    let emulator = slow_emulator(input.dir.path(), 20);
    run_out_of_time(&input, &emulator);
    let sent = emulator.requests().len();
    let before = size(&input.csv());
    let modified = std::fs::metadata(input.csv())
        .and_then(|meta| meta.modified())
        .expect("mtime");
    let mut text = std::fs::read_to_string(input.csv()).expect("read");
    text.push_str("late@example.test,Late,301\n");
    std::fs::write(input.csv(), &text).expect("append a row");

    let refused = input.run(&emulator.url, 8, &[]);
    assert_eq!(code(&refused), 2);
    let expected = format!(
        "error: {} changed since the interrupted run recorded in {} (size {before} -> {} \
         bytes, modification time differs, first 64 KiB differ); refusing to resume\n\
         hint: run the same command with --restart to start over (every record is sent \
         again), or put back the files that run read\n",
        input.csv().display(),
        input.checkpoint().display(),
        before + 27
    );
    assert_eq!(String::from_utf8_lossy(&refused.stderr), expected);
    assert_eq!(emulator.requests().len(), sent, "nothing sent");

    // The file put back as it was, but the mapping changed.
    std::fs::write(input.csv(), &text[..text.len() - 27]).expect("put the file back");
    let file = std::fs::File::options()
        .write(true)
        .open(input.csv())
        .expect("open");
    file.set_modified(modified).expect("put the time back");
    drop(file);
    std::fs::write(input.mapping(), format!("{MAPPING}\n")).expect("change the mapping");
    let refused = input.run(&emulator.url, 8, &[]);
    let shown = output_text(&refused);
    assert_eq!(code(&refused), 2, "{shown}");
    let expected = format!(
        "error: the mapping {} changed since the interrupted run recorded in {}; refusing \
         to resume\n",
        input.mapping().display(),
        input.checkpoint().display()
    );
    assert!(shown.starts_with(&expected), "{shown}");
    assert_eq!(emulator.requests().len(), sent, "nothing sent");

    std::fs::write(input.csv(), &text).expect("the longer file again");
    let restarted = input.run(&emulator.url, 8, &["--restart"]);
    let shown = output_text(&restarted);
    assert_eq!(code(&restarted), 0, "{shown}");
    assert!(!shown.contains("already done"), "{shown}");
    assert_eq!(emulator.requests().len(), sent + 301, "every row again");
    assert!(!input.checkpoint().exists());
}

#[test]
fn a_second_signal_exits_at_once_leaving_files_a_rerun_resumes_from() {
    use std::io::{BufRead, BufReader};
    let input = Input::new(300, true);
    // The first request for row 30 hangs: the first signal's wait for the
    // requests in flight lasts until the grace time ends.
    let emulator = scripted_emulator(
        input.dir.path(),
        "[[rule]]\nprimary_key = \"c30@example.test\"\nattempt = 1\ndelay_ms = 60000\n\n\
         [[rule]]\ndelay_ms = 5\n",
    );
    let mut child = input
        .command(&emulator.url, 4, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the importer");
    assert!(wait_for_checkpoint(
        &mut child,
        &input.checkpoint(),
        600 + 60 * ENTRY_BYTES
    ));
    let pid = child.id().to_string();
    let term = || {
        let signal = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(signal.expect("run kill").success());
    };
    term();
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut said = String::new();
    while !said.contains("interrupted: finishing requests in flight") {
        let read = stderr.read_line(&mut said).expect("read stderr");
        assert!(read > 0, "the importer ended first: {said}");
    }
    term();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("read stderr");
    let status = child.wait().expect("reap");
    assert_eq!(status.code(), Some(130), "{said}{rest}");
    assert!(rest.contains("stopped at once: "), "{said}{rest}");
    // Every file is whole: the dead letters parse, the checkpoint resumes.
    assert!(dead_letters(&input.dead_letter()).len() <= input.bad_lines().len());
    let rerun = input.run(&emulator.url, 4, &[]);
    assert_eq!(code(&rerun), 1, "{}", output_text(&rerun));
    assert_eq!(emulator.customers(), input.expected());
    let sends = sends_per_record(&emulator);
    assert_eq!(sends.len() as u64, input.sendable());
    assert!(
        sent_again(&sends) <= 4,
        "only the requests abandoned in flight"
    );
    let lines: Vec<u64> = dead_letters(&input.dead_letter())
        .iter()
        .map(|entry| entry["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, input.bad_lines());
}

#[test]
fn a_foreign_file_or_link_is_never_a_checkpoint_and_a_pipe_or_dry_run_keeps_none() {
    use std::io::{BufRead, BufReader};
    let input = Input::new(30, false);
    let emulator = Emulator::start();
    let notes = input.dir.path().join("notes.txt");
    std::fs::write(&notes, "IMPORTANT\n").expect("write");
    let notes_arg = notes.to_str().expect("utf-8");
    let refused = input.run(&emulator.url, 2, &["--checkpoint", notes_arg]);
    assert_eq!(code(&refused), 2);
    let expected = format!(
        "error: --checkpoint {notes_arg} exists and was not written by laudspeaker-import; \
         refusing to overwrite it\n"
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).starts_with(&expected),
        "{}",
        output_text(&refused)
    );
    std::os::unix::fs::symlink(&notes, input.checkpoint()).expect("symlink");
    let refused = input.run(&emulator.url, 2, &[]);
    assert_eq!(code(&refused), 2, "{}", output_text(&refused));
    assert!(output_text(&refused).contains("is a symbolic link"));
    let mapping = input.mapping();
    let on_mapping = input.run(
        &emulator.url,
        2,
        &["--checkpoint", mapping.to_str().expect("utf-8")],
    );
    assert_eq!(code(&on_mapping), 2);
    assert!(output_text(&on_mapping).contains("is the mapping; refusing to overwrite it"));
    assert_eq!(
        std::fs::read_to_string(&notes).expect("read"),
        "IMPORTANT\n"
    );
    assert!(emulator.requests().is_empty());
    std::fs::remove_file(input.checkpoint()).expect("remove the link");

    // A dry run keeps none, and an input read from a pipe keeps none.
    let dry = input.run(&emulator.url, 2, &["--dry-run", "--checkpoint", "x"]);
    assert_eq!(code(&dry), 2, "{}", output_text(&dry));
    let mut command = Command::new(common::bin());
    let dead_letter = input.dir.path().join("piped.dead-letter.ndjson");
    command
        .args(["import", "/dev/stdin", "--mapping"])
        .arg(input.mapping())
        .arg("--dead-letter")
        .arg(&dead_letter)
        .args(["--api-url", &emulator.url, "--api-key", KEY])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut piped = command.spawn().expect("start the importer");
    let text = std::fs::read(input.csv()).expect("read");
    let mut stdin = piped.stdin.take().expect("piped stdin");
    std::io::Write::write_all(&mut stdin, &text).expect("write to the pipe");
    while emulator.requests().len() < 30 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = piped.id().to_string();
    let signal = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(signal.expect("run kill").success());
    // The pipe stays open until the signal is taken: the run stopped, not
    // ended.
    let mut stderr = BufReader::new(piped.stderr.take().expect("piped stderr"));
    let mut said = String::new();
    while !said.contains("interrupted: finishing requests in flight") {
        let read = stderr.read_line(&mut said).expect("read stderr");
        assert!(read > 0, "the importer ended first: {said}");
    }
    drop(stdin);
    let status = piped.wait().expect("reap");
    assert_eq!(status.code(), Some(130), "{said}");
    let left: Vec<_> = std::fs::read_dir(input.dir.path())
        .expect("list")
        .map(|entry| entry.expect("entry").file_name())
        .filter(|name| name.to_string_lossy().contains("checkpoint"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn dead_letters_survive_several_resumes_and_losing_their_file_is_refused() {
    let input = Input::new(400, true);
    let emulator = slow_emulator(input.dir.path(), 20);
    // The reader runs ahead of the slow server: the 4 bad rows are
    // dead-lettered in the first run; the second run rejects none.
    run_out_of_time(&input, &emulator);
    run_out_of_time(&input, &emulator);
    assert_eq!(dead_letters(&input.dead_letter()).len(), 4);
    let away = input.dir.path().join("moved.ndjson");
    std::fs::rename(input.dead_letter(), &away).expect("move the dead letters away");
    let sent = emulator.requests().len();
    let refused = input.run(&emulator.url, 8, &[]);
    let expected = format!(
        "error: the dead-letter file {} is not the one the interrupted run recorded in {} \
         wrote (it was removed, replaced or cut); resuming would lose 4 rejected rows\n",
        input.dead_letter().display(),
        input.checkpoint().display()
    );
    assert_eq!(code(&refused), 2, "{}", output_text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).starts_with(&expected),
        "{}",
        output_text(&refused)
    );
    assert_eq!(emulator.requests().len(), sent, "nothing sent");

    std::fs::rename(&away, input.dead_letter()).expect("put it back");
    let last = input.run(&emulator.url, 8, &[]);
    assert_eq!(code(&last), 1, "{}", output_text(&last));
    assert_eq!(emulator.customers(), input.expected());
    let lines: Vec<u64> = dead_letters(&input.dead_letter())
        .iter()
        .map(|entry| entry["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, input.bad_lines());
    assert_eq!(sent_again(&sends_per_record(&emulator)), 0);
}
