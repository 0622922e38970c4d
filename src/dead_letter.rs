//! The dead-letter file: every record that was not delivered, with its line,
//! its original bytes and the reason, as NDJSON that can be fed back in.
//!
//! The first line is a preamble describing the input (format, header,
//! delimiter, encoding), which is what lets the file be imported again with
//! the same mapping. Each entry is flushed as it is written, so a killed run
//! loses nothing already rejected. The file holds personal data and is
//! created readable by its owner only. With `--dead-letter-format csv` the
//! same entries are written as CSV instead ([`crate::dead_letter_csv`]).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use serde_json::{json, Map, Value};

use crate::dead_letter_csv::CsvLayout;

/// What the preamble says about the input.
#[derive(Debug, Clone)]
pub struct Preamble {
    pub input: String,
    pub mapping: String,
    /// "csv" or "ndjson".
    pub format: &'static str,
    pub delimiter: Option<char>,
    /// The input file's encoding: what the `raw` bytes are in.
    pub encoding: &'static str,
    /// The CSV header line as read (original text).
    pub header: Option<String>,
}

impl Preamble {
    fn to_json(&self) -> Value {
        let mut inner = Map::new();
        inner.insert("input".into(), self.input.clone().into());
        inner.insert("mapping".into(), self.mapping.clone().into());
        inner.insert("format".into(), self.format.into());
        if let Some(delimiter) = self.delimiter {
            inner.insert("delimiter".into(), delimiter.to_string().into());
        }
        inner.insert("encoding".into(), self.encoding.into());
        if let Some(header) = &self.header {
            inner.insert("header".into(), header.clone().into());
        }
        inner.insert("created".into(), chrono::Utc::now().to_rfc3339().into());
        inner.insert(
            "tool".into(),
            concat!("laudspeaker-import ", env!("CARGO_PKG_VERSION")).into(),
        );
        json!({ "dead_letter": inner })
    }
}

/// One rejected record.
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    /// Where the record starts in the input (1-based).
    pub line: u64,
    pub reason: &'a str,
    /// The record's original bytes, without line terminator.
    pub raw: &'a [u8],
    /// The record as text, when `raw` is not UTF-8 text: what a person
    /// edits before importing the file again.
    pub text: Option<&'a str>,
    /// Write `raw` as base64 even if it happens to be valid UTF-8.
    pub binary: bool,
    /// "structure", "value", "http", ...
    pub kind: &'a str,
    pub status: Option<u16>,
    pub attempts: Option<u32>,
    /// When re-importing a dead-letter file: the line in the original input.
    pub source_line: Option<u64>,
}

/// The open dead-letter file, shared by the reader and delivery tasks.
pub struct DeadLetters {
    path: PathBuf,
    state: Mutex<State>,
    /// Set when the file is CSV ([`crate::dead_letter_csv`]), not NDJSON.
    csv: Option<CsvLayout>,
}

/// The file and what is known to be in it.
struct State {
    /// Written without a buffer: every entry goes to the file whole, or the
    /// file is cut back to the last whole entry.
    file: File,
    /// Bytes of whole lines in the file.
    length: u64,
    entries: u64,
    /// A write failed: the file holds what it held before, and takes no more.
    broken: bool,
}

impl DeadLetters {
    /// Creates (or truncates) the file, owner-only, and writes the preamble.
    /// A symbolic link at `path` is refused, not followed.
    pub fn create(path: &Path, preamble: &Preamble) -> io::Result<Self> {
        let mut line = serde_json::to_vec(&preamble.to_json())?;
        line.push(b'\n');
        Self::start(path, &line, None)
    }

    /// Creates (or truncates) a CSV dead-letter file, owner-only, and
    /// writes `header` (the input's header line) with the added names.
    pub fn create_csv(path: &Path, layout: CsvLayout, header: &str) -> io::Result<Self> {
        let line = layout.header(header);
        Self::start(path, &line, Some(layout))
    }

    fn start(path: &Path, line: &[u8], csv: Option<CsvLayout>) -> io::Result<Self> {
        let mut file = owner_only().open(path)?;
        restrict_to_owner(&file)?;
        file.write_all(line)?;
        let state = State {
            file,
            length: line.len() as u64,
            entries: 0,
            broken: false,
        };
        Ok(DeadLetters {
            path: path.to_path_buf(),
            state: Mutex::new(state),
            csv,
        })
    }

    /// Reopens the file an interrupted run left, keeping its first `keep`
    /// bytes (the preamble and `entries` whole entries) and cutting what
    /// follows; new entries go after them. Synced before returning, so a
    /// checkpoint written afterwards never counts on bytes not on disk.
    pub fn reopen(path: &Path, keep: u64, entries: u64) -> io::Result<Self> {
        let mut options = OpenOptions::new();
        options.append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(libc::O_NOFOLLOW);
        }
        let file = options.open(path)?;
        restrict_to_owner(&file)?;
        file.set_len(keep)?;
        file.sync_all()?;
        let state = State {
            file,
            length: keep,
            entries,
            broken: false,
        };
        Ok(DeadLetters {
            path: path.to_path_buf(),
            state: Mutex::new(state),
            csv: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Holds the file so no entry is being written until the guard drops:
    /// taken before exiting at once.
    pub fn hold(&self) -> impl Sized + '_ {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends one entry, whole. After a failed write (disk full, size
    /// limit) the file is cut back to its last whole entry and refuses
    /// further entries, so it stays valid NDJSON.
    pub fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        self.write_then(entry, |_| ())
    }

    /// Appends one entry like [`DeadLetters::write`], then, still holding
    /// the file, calls `then` with the file's length: what is done there
    /// is ordered with the entries exactly as they are in the file.
    pub fn write_then(&self, entry: &Entry<'_>, then: impl FnOnce(u64)) -> io::Result<()> {
        let line = match &self.csv {
            Some(layout) => layout.line(entry),
            None => {
                let mut line = serde_json::to_vec(&entry_json(entry))?;
                line.push(b'\n');
                line
            }
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.broken {
            return Err(io::Error::other(
                "the dead-letter file could not be written earlier",
            ));
        }
        match state.file.write_all(&line) {
            Ok(()) => {
                state.length += line.len() as u64;
                state.entries += 1;
                then(state.length);
                Ok(())
            }
            Err(error) => {
                state.broken = true;
                let length = state.length;
                if state.file.metadata().is_ok_and(|m| m.is_file()) {
                    let _ = state.file.set_len(length);
                }
                Err(error)
            }
        }
    }

    /// Syncs the file; removes it when it holds no entry, so that its
    /// presence after a run always means something was rejected.
    pub fn finish(self) -> io::Result<u64> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        // Only a regular file can be synced and is worth removing; a
        // device such as /dev/stdout is neither.
        if state.file.metadata()?.is_file() {
            state.file.sync_all()?;
            drop(state.file);
            if state.entries == 0 {
                std::fs::remove_file(&self.path)?;
            }
        }
        Ok(state.entries)
    }
}

/// Options that create or truncate a file readable by its owner only, and
/// refuse to follow a symbolic link.
pub fn owner_only() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// An existing file keeps its old mode when reopened: narrow it too.
pub fn restrict_to_owner(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file.metadata()?.is_file() {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

fn entry_json(entry: &Entry<'_>) -> Value {
    let mut object = Map::new();
    object.insert("line".into(), entry.line.into());
    object.insert("reason".into(), entry.reason.into());
    match std::str::from_utf8(entry.raw) {
        Ok(text) if !entry.binary => object.insert("raw".into(), text.into()),
        _ => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(entry.raw);
            object.insert("raw_base64".into(), encoded.into())
        }
    };
    if let Some(text) = entry.text {
        object.insert("text".into(), text.into());
    }
    object.insert("kind".into(), entry.kind.into());
    if let Some(status) = entry.status {
        object.insert("status".into(), status.into());
    }
    if let Some(attempts) = entry.attempts {
        object.insert("attempts".into(), attempts.into());
    }
    if let Some(source_line) = entry.source_line {
        object.insert("source_line".into(), source_line.into());
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preamble() -> Preamble {
        Preamble {
            input: "in.csv".into(),
            mapping: "m.toml".into(),
            format: "csv",
            delimiter: Some(','),
            encoding: "utf-8",
            header: Some("email,name".into()),
        }
    }

    #[test]
    fn entries_follow_the_preamble_with_raw_or_base64() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("dl.ndjson");
        let letters = DeadLetters::create(&path, &preamble()).expect("create");
        let entry = Entry {
            line: 7,
            reason: "bad",
            raw: b"a,b",
            kind: "value",
            ..Entry::default()
        };
        letters.write(&entry).expect("write");
        let binary = Entry {
            line: 9,
            reason: "enc",
            raw: b"\xE9",
            kind: "encoding",
            ..entry
        };
        letters.write(&binary).expect("write");
        assert_eq!(letters.finish().expect("finish"), 2);
        let text = std::fs::read_to_string(&path).expect("read back");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines[0]["dead_letter"]["header"], "email,name");
        assert_eq!(
            lines[1],
            json!({"line": 7, "reason": "bad", "raw": "a,b", "kind": "value"})
        );
        assert_eq!(lines[2]["raw_base64"], "6Q==");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_existing_file_is_narrowed_to_its_owner_and_a_link_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("dl.ndjson");
        std::fs::write(&path, "old").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let letters = DeadLetters::create(&path, &preamble()).expect("create");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(letters);
        let link = dir.path().join("link.ndjson");
        std::os::unix::fs::symlink(&path, &link).expect("symlink");
        assert!(DeadLetters::create(&link, &preamble()).is_err());
    }

    #[test]
    fn a_file_without_entries_is_removed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("dl.ndjson");
        let letters = DeadLetters::create(&path, &preamble()).expect("create");
        assert_eq!(letters.finish().expect("finish"), 0);
        assert!(!path.exists());
    }
}
