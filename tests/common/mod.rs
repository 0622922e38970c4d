//! Helpers for tests that drive the real binary against the real emulator
//! process over loopback.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub mod certs;

pub const KEY: &str = "ls_test_key_9f8e7d";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_laudspeaker-import")
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the project.
pub fn shared() -> PathBuf {
    root().join("../shared")
}

/// An emulator process on 127.0.0.1, killed when dropped.
pub struct Emulator {
    child: Child,
    pub url: String,
    addr: String,
}

impl Emulator {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Self {
        let mut args = vec!["--listen", "127.0.0.1:0", "--api-key", KEY];
        args.extend_from_slice(extra);
        Self::start_exactly(&args, Stdio::inherit())
    }

    /// An emulator given exactly `args`, its standard error sent to `stderr`.
    pub fn start_exactly(args: &[&str], stderr: Stdio) -> Self {
        let mut child = Command::new(bin())
            .arg("emulator")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the emulator");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("read the listening line");
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .to_string();
        let addr = url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_string();
        Emulator { child, url, addr }
    }

    /// `GET /emulator/customers`.
    pub fn customers(&self) -> Value {
        self.get("/emulator/customers")
    }

    /// `GET /emulator/requests`.
    pub fn requests(&self) -> Vec<Value> {
        match self.get("/emulator/requests") {
            Value::Array(requests) => requests,
            other => panic!("requests is not an array: {other}"),
        }
    }

    /// A minimal HTTP/1.1 GET, enough for the emulator's own endpoints.
    fn get(&self, path: &str) -> Value {
        let mut stream = TcpStream::connect(&self.addr).expect("connect to the emulator");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .expect("send request");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read response");
        let text = String::from_utf8(response).expect("utf-8 response");
        let (head, body) = text.split_once("\r\n\r\n").expect("http response");
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad JSON from {path}: {e}"))
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `import` with the given arguments; environment cleaned of
/// LAUDSPEAKER_* and proxies so only what the test passes counts.
pub fn import(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("import")
        .args(args)
        .env_remove("LAUDSPEAKER_API_KEY")
        .env_remove("LAUDSPEAKER_API_URL")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .expect("run the importer")
}

/// stdout and stderr of a run, as text.
pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The dead-letter entries (preamble skipped) of a file, or none when the
/// file does not exist.
pub fn dead_letters(path: &Path) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let preamble: Value = serde_json::from_str(lines.next().expect("preamble")).expect("json");
    assert!(
        preamble.get("dead_letter").is_some(),
        "first line is the preamble"
    );
    lines
        .map(|l| serde_json::from_str(l).expect("json entry"))
        .collect()
}

pub fn code(output: &Output) -> i32 {
    output.status.code().expect("exited, not killed")
}
