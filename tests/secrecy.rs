//! The API key never leaves the tool's memory except in the request header:
//! real imports at `-vvv` (success, wrong key, retries, a server echoing
//! the key, fatal stops, an interrupt, a dry run, https) and the emulator
//! itself write many bytes, and none of them holds the key, plainly or in
//! base64, with or without its header scheme. Files holding customer data
//! are readable by their owner only.

mod common;

use std::io::Read as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::Emulator;

/// Distinctive enough never to appear by chance.
const SECRET: &str = "lsk_Zq7Xw9pKv2_SECRET_tB4nM8";

/// Everything a test run wrote, gathered for the scan.
#[derive(Default)]
struct Written {
    /// (what, bytes): process outputs and answers of the emulator.
    outputs: Vec<(String, Vec<u8>)>,
}

impl Written {
    fn add(&mut self, what: &str, bytes: &[u8]) {
        self.outputs.push((what.to_owned(), bytes.to_vec()));
    }

    fn add_output(&mut self, what: &str, output: &Output) {
        self.add(&format!("{what} stdout"), &output.stdout);
        self.add(&format!("{what} stderr"), &output.stderr);
    }

    /// Adds every file under `dir`, recursively.
    fn add_dir(&mut self, dir: &Path) {
        for entry in std::fs::read_dir(dir).expect("read the output dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                self.add_dir(&path);
            } else {
                let bytes = std::fs::read(&path).expect("read an output file");
                self.add(&path.display().to_string(), &bytes);
            }
        }
    }

    /// Fails naming every place a form of the key was found.
    fn assert_no_secret(&self) {
        let needles = needles(SECRET);
        let mut found = Vec::new();
        for (what, bytes) in &self.outputs {
            for needle in &needles {
                if memchr::memmem::find(bytes, needle.as_bytes()).is_some() {
                    found.push(format!("{what}: {needle}"));
                }
            }
        }
        assert!(found.is_empty(), "the key leaked:\n{}", found.join("\n"));
    }

    fn total_bytes(&self) -> usize {
        self.outputs.iter().map(|(_, bytes)| bytes.len()).sum()
    }
}

/// The forms the key could be written in: as is, and the part of its
/// base64 (standard and URL-safe) that does not depend on what precedes
/// it, at each of the three alignments, alone and after the header scheme.
fn needles(key: &str) -> Vec<String> {
    let mut needles = vec![key.to_owned()];
    for text in [key.to_owned(), format!("Api-Key {key}")] {
        for pad in 0..3 {
            let bytes = format!("{}{text}", "x".repeat(pad));
            for engine in [
                &base64::engine::general_purpose::STANDARD,
                &base64::engine::general_purpose::URL_SAFE,
            ] {
                let encoded = engine.encode(bytes.as_bytes());
                // Skip the group the filler shares; drop the last group,
                // which depends on what follows.
                let start = if pad == 0 { 0 } else { 4 };
                needles.push(encoded[start..encoded.len() - 4].to_owned());
            }
        }
    }
    needles.sort();
    needles.dedup();
    needles
}

/// The test's own files (input, mapping, scripts): not scanned, since the
/// scripts that echo the key hold it.
struct Inputs {
    dir: tempfile::TempDir,
}

impl Inputs {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let inputs = Inputs { dir };
        inputs.write(
            "contacts.csv",
            "email,name,score\n\
             ana@example.com,Ana,12\n\
             not-an-email,Bad,3\n\
             echo@example.com,Echo,7\n\
             \n\
             bruno@example.com,Bruno,x\n",
        );
        inputs.write(
            "contacts.toml",
            "[source]\nformat = \"csv\"\n\n\
             [primary_key]\nfrom = \"email\"\ntype = \"email\"\n\n\
             [[property]]\nfrom = \"name\"\nto = \"name\"\n\n\
             [[property]]\nfrom = \"score\"\nto = \"score\"\ntype = \"number\"\n",
        );
        inputs.write("key.txt", &format!("{SECRET}\n"));
        inputs
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write an input");
        path.to_str().expect("utf-8").to_owned()
    }

    fn path(&self, name: &str) -> String {
        self.dir
            .path()
            .join(name)
            .to_str()
            .expect("utf-8")
            .to_owned()
    }
}

/// An emulator at -vvv accepting only `key`, its stderr in `out`.
fn emulator(out: &Path, name: &str, key: &str, extra: &[&str]) -> Emulator {
    let log = std::fs::File::create(out.join(format!("{name}.emulator.log"))).expect("log");
    let mut args = vec!["-vvv", "--listen", "127.0.0.1:0", "--api-key", key];
    args.extend_from_slice(extra);
    Emulator::start_exactly(&args, Stdio::from(log))
}

/// `import -vvv` with a clean environment; outputs under `out/name.*`.
fn importer(inputs: &Inputs, out: &Path, name: &str, extra: &[&str]) -> Command {
    let path = |suffix: &str| out.join(format!("{name}.{suffix}"));
    let mut command = Command::new(common::bin());
    command
        .args(["import", "-vvv", "--progress", "plain"])
        .arg(inputs.path("contacts.csv"))
        .args(["--mapping", &inputs.path("contacts.toml")])
        .arg("--dead-letter")
        .arg(path("dead-letter.ndjson"))
        .arg("--emit-requests")
        .arg(path("requests.ndjson"))
        .args(["--max-retries", "2", "--timeout", "5s"])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    command
}

fn run(written: &mut Written, name: &str, command: &mut Command) -> i32 {
    let output = command.output().expect("run the importer");
    written.add_output(name, &output);
    output.status.code().expect("exited, not killed")
}

#[test]
fn the_key_is_written_nowhere_at_the_most_verbose_level() {
    let inputs = Inputs::new();
    let out = tempfile::tempdir().expect("temp dir");
    let out = out.path();
    let mut written = Written::default();
    let echo = inputs.write(
        "echo.toml",
        &format!(
            "[[rule]]\nprimary_key = \"echo@example.com\"\nstatus = 400\n\
             body = '{{\"message\":\"bad header Authorization: Api-Key {SECRET}\"}}'\n"
        ),
    );
    let flaky = inputs.write("flaky.toml", "[[rule]]\nnth_request = 1\nstatus = 500\n");

    // Good key from the flag; a row refused with the key echoed back.
    let good = emulator(out, "good", SECRET, &["--script", &echo]);
    let code = run(
        &mut written,
        "good",
        &mut importer(
            &inputs,
            out,
            "good",
            &["--api-url", &good.url, "--api-key", SECRET],
        ),
    );
    assert_eq!(code, 1, "two rows are bad, one is refused");
    let letters = common::dead_letters(&out.join("good.dead-letter.ndjson"));
    let mut lines: Vec<u64> = letters
        .iter()
        .map(|l| l["line"].as_u64().expect("line"))
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, [3, 4, 6]);
    let echoed = letters.iter().find(|l| l["line"] == 4).expect("line 4");
    assert_eq!(
        echoed["reason"],
        "HTTP 400 after 1 attempt: bad header Authorization: Api-Key <redacted>"
    );
    written.add(
        "good requests",
        &serde_json::to_vec(&good.requests()).expect("json"),
    );

    // The key from the environment, a first answer of 500 then success.
    let retried = emulator(out, "retried", SECRET, &["--script", &flaky]);
    let code = run(
        &mut written,
        "retried",
        importer(&inputs, out, "retried", &["--api-url", &retried.url])
            .env("LAUDSPEAKER_API_KEY", SECRET),
    );
    assert_eq!(code, 1);
    assert_eq!(retried.requests()[0]["status"], 500);
    written.add(
        "retried requests",
        &serde_json::to_vec(&retried.requests()).expect("json"),
    );

    // A wrong key (from a file): the emulator expects another.
    let wrong = emulator(out, "wrong", "ls_some_other_key", &[]);
    let key_file = inputs.path("key.txt");
    let code = run(
        &mut written,
        "wrong",
        &mut importer(
            &inputs,
            out,
            "wrong",
            &["--api-url", &wrong.url, "--api-key-file", &key_file],
        ),
    );
    assert_eq!(code, 3);
    written.add(
        "wrong requests",
        &serde_json::to_vec(&wrong.requests()).expect("json"),
    );

    // A fatal stop: the workspace has no primary key.
    let unset = emulator(out, "unset", SECRET, &["--no-primary-key"]);
    let code = run(
        &mut written,
        "unset",
        &mut importer(
            &inputs,
            out,
            "unset",
            &["--api-url", &unset.url, "--api-key", SECRET],
        ),
    );
    assert_eq!(code, 3);

    // A dry run given a key it does not need.
    let code = run(
        &mut written,
        "dry",
        &mut importer(&inputs, out, "dry", &["--dry-run", "--api-key", SECRET]),
    );
    assert_eq!(code, 1);

    // Plain http to another host, refused.
    let code = run(
        &mut written,
        "refused",
        &mut importer(
            &inputs,
            out,
            "refused",
            &[
                "--api-url",
                "http://laudspeaker.invalid",
                "--api-key",
                SECRET,
            ],
        ),
    );
    assert_eq!(code, 2);

    interrupted_run(&inputs, out, &mut written);
    https_runs(&inputs, out, &mut written);

    drop((good, retried, wrong, unset));
    written.add_dir(out);
    // The scan must have had something to look at.
    assert!(
        written.outputs.len() >= 30,
        "{} outputs",
        written.outputs.len()
    );
    assert!(
        written.total_bytes() > 10_000,
        "{} bytes",
        written.total_bytes()
    );
    written.assert_no_secret();
}

/// A run stopped by SIGINT while its first request is held by the server.
fn interrupted_run(inputs: &Inputs, out: &Path, written: &mut Written) {
    let slow = inputs.write("slow.toml", "[[rule]]\ndelay_ms = 1500\n");
    let server = emulator(out, "interrupted", SECRET, &["--script", &slow]);
    let mut child = importer(inputs, out, "interrupted", &["--api-url", &server.url])
        .args(["--concurrency", "1"])
        .env("LAUDSPEAKER_API_KEY", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the importer");
    wait_for_a_request(&server, &mut child);
    // Through kill(1): the test crates forbid unsafe code like the crate.
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "SIGINT delivered");
    let output = child.wait_with_output().expect("wait for the importer");
    written.add_output("interrupted", &output);
    assert_eq!(output.status.code(), Some(130));
    written.add(
        "interrupted requests",
        &serde_json::to_vec(&server.requests()).expect("json"),
    );
}

/// Polls the emulator until the importer's first request has arrived.
fn wait_for_a_request(server: &Emulator, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.requests().is_empty() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut text = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut text);
            }
            panic!("the importer ended first ({status}): {text}");
        }
        assert!(Instant::now() < deadline, "no request arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Imports over https from an emulator whose certificate a private CA
/// signed: trusted with --ca-cert, refused without.
fn https_runs(inputs: &Inputs, out: &Path, written: &mut Written) {
    let pki = common::certs::private_ca(inputs.dir.path());
    let tls: [&str; 4] = [
        "--tls-cert",
        pki.server_cert.to_str().expect("utf-8"),
        "--tls-key",
        pki.server_key.to_str().expect("utf-8"),
    ];
    let server = emulator(out, "https", SECRET, &tls);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let ca: PathBuf = pki.ca_cert.clone();
    let ca = ca.to_str().expect("utf-8");
    let code = run(
        written,
        "https",
        importer(
            inputs,
            out,
            "https",
            &["--api-url", &server.url, "--ca-cert", ca],
        )
        .env("LAUDSPEAKER_API_KEY", SECRET),
    );
    assert_eq!(
        code, 1,
        "the bad rows are dead-lettered, the rest delivered"
    );
    let code = run(
        written,
        "untrusted",
        importer(inputs, out, "untrusted", &["--api-url", &server.url])
            .env("LAUDSPEAKER_API_KEY", SECRET),
    );
    assert_eq!(code, 3);
}

#[test]
fn the_needles_cover_the_key_inside_longer_base64() {
    let needles = needles("ls_key_12345");
    let header =
        base64::engine::general_purpose::STANDARD.encode("Authorization: Api-Key ls_key_12345\r\n");
    assert!(
        needles.iter().any(|n| header.contains(n.as_str())),
        "{header}"
    );
    let shifted = base64::engine::general_purpose::URL_SAFE.encode("ab ls_key_12345 and more");
    assert!(
        needles.iter().any(|n| shifted.contains(n.as_str())),
        "{shifted}"
    );
}

#[test]
fn files_holding_customer_data_are_readable_by_their_owner_only() {
    let inputs = Inputs::new();
    let out = tempfile::tempdir().expect("temp dir");
    let out = out.path();
    let mut written = Written::default();
    let code = run(
        &mut written,
        "dry",
        &mut importer(&inputs, out, "modes", &["--dry-run"]),
    );
    assert_eq!(code, 1);
    for name in ["modes.dead-letter.ndjson", "modes.requests.ndjson"] {
        let mode = std::fs::metadata(out.join(name))
            .expect("written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
    }
}
