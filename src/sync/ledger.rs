//! The success ledger (`--ledger FILE`): one NDJSON line per upserted
//! record, for audits:
//!
//! ```text
//! {"line":7,"primary_key":"ada@example.com","customer_id":"6f1c…"}
//! ```
//!
//! `line` is where the record starts in the input (as in the dead-letter
//! file), `primary_key` the key as the server saw it (trimmed), and
//! `customer_id` the id the server answered with (`null` if its answer
//! named none). A record re-imported from a dead-letter file also carries
//! `source_line`, its line in the file it first came from. NDJSON rather
//! than CSV because keys may hold commas, quotes and line breaks, and JSON
//! escapes them one well-known way.
//!
//! Lines are in the order the server confirmed them, not file order. Each
//! line is written whole with one write, unbuffered, so a killed run keeps
//! every line already confirmed. The file holds personal data: owner-only.
//!
//! An existing ledger is appended to, never replaced: a rerun that resumes a
//! stopped run continues it, so no confirmed upsert drops out of the audit.
//! A record sent again after a crash is listed again.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The open ledger, shared by the delivery tasks.
pub struct SuccessLedger {
    path: PathBuf,
    file: Mutex<Writer>,
}

struct Writer {
    file: File,
    /// Reused for every line: no allocation per record once warm.
    line: Vec<u8>,
    broken: bool,
}

/// One confirmed upsert.
#[derive(Debug, Clone, Copy)]
pub struct Success<'a> {
    pub line: u64,
    pub source_line: Option<u64>,
    pub primary_key: &'a str,
    pub customer_id: Option<&'a str>,
}

impl SuccessLedger {
    /// Opens the file for appending (creating it), owner-only, never
    /// through a link.
    pub fn create(path: &Path) -> io::Result<Self> {
        let mut options = crate::dead_letter::owner_only();
        options.truncate(false).append(true);
        let file = options.open(path)?;
        crate::dead_letter::restrict_to_owner(&file)?;
        let writer = Writer {
            file,
            line: Vec::with_capacity(256),
            broken: false,
        };
        Ok(SuccessLedger {
            path: path.to_path_buf(),
            file: Mutex::new(writer),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line. After a failed write the ledger takes no more, so
    /// it never holds a torn line followed by whole ones.
    pub fn write(&self, success: &Success<'_>) -> io::Result<()> {
        let mut writer = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if writer.broken {
            return Err(io::Error::other("an earlier write failed"));
        }
        let Writer { file, line, broken } = &mut *writer;
        line.clear();
        encode(success, line)?;
        let written = file.write_all(line);
        *broken = written.is_err();
        written
    }
}

fn encode(success: &Success<'_>, out: &mut Vec<u8>) -> io::Result<()> {
    write!(out, "{{\"line\":{}", success.line)?;
    if let Some(source_line) = success.source_line {
        write!(out, ",\"source_line\":{source_line}")?;
    }
    out.extend_from_slice(b",\"primary_key\":");
    serde_json::to_writer(&mut *out, success.primary_key)?;
    out.extend_from_slice(b",\"customer_id\":");
    serde_json::to_writer(&mut *out, &success.customer_id)?;
    out.extend_from_slice(b"}\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_success_is_one_json_line_with_escaped_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ledger.ndjson");
        let ledger = SuccessLedger::create(&path).expect("created");
        let first = Success {
            line: 2,
            source_line: None,
            primary_key: "a\"b,c",
            customer_id: Some("id-1"),
        };
        ledger.write(&first).expect("written");
        let second = Success {
            line: 3,
            source_line: Some(9),
            primary_key: "d",
            customer_id: None,
        };
        ledger.write(&second).expect("written");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "{\"line\":2,\"primary_key\":\"a\\\"b,c\",\"customer_id\":\"id-1\"}\n\
             {\"line\":3,\"source_line\":9,\"primary_key\":\"d\",\"customer_id\":null}\n"
        );
    }

    #[test]
    fn a_second_run_appends_to_the_ledger_an_earlier_run_left() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ledger.ndjson");
        let success = |line| Success {
            line,
            source_line: None,
            primary_key: "k",
            customer_id: None,
        };
        let first = SuccessLedger::create(&path).expect("created");
        first.write(&success(2)).expect("written");
        drop(first);
        let second = SuccessLedger::create(&path).expect("reopened");
        second.write(&success(3)).expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "{\"line\":2,\"primary_key\":\"k\",\"customer_id\":null}\n\
             {\"line\":3,\"primary_key\":\"k\",\"customer_id\":null}\n"
        );
    }
}
