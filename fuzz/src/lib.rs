//! The check the fuzz target runs on every input: bytes are written to a
//! file, opened with a fixed mapping exactly as `import` opens its input,
//! and read to the end through the body builder.
//!
//! What must hold for any bytes: nothing panics; opening either fails with
//! a message or gives a reader; every record read is built, rejected or a
//! blank line; record lines never go back; every built body is one JSON
//! object holding the key it was built for, within the body limit.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use laudspeaker_import::import::source::{self, Item};
use laudspeaker_import::mapping::Mapping;

/// The body limit the builder is given (small, so the limit is exercised).
pub const MAX_BODY_BYTES: usize = 4096;

/// The properties every mapping holds: one of each type, so each
/// conversion sees hostile text. `{n}` is the number column's path.
const PROPERTIES: &str = r#"
[primary_key]
from = "email"
type = "email"
lowercase = true
trim = true

[[property]]
from = "name"
to = "name"

[[property]]
from = "{n}"
to = "n"
type = "number"

[[property]]
from = "b"
to = "b"
type = "boolean"
on_empty = "null"

[[property]]
from = "d"
to = "d"
type = "date"
format = "%d/%m/%Y"

[[property]]
from = "t"
to = "t"
type = "datetime"
format = "%Y-%m-%d %H:%M"
timezone = "America/New_York"

[[property]]
from = "tags"
to = "tags"
type = "array"

[[property]]
from = "j"
to = "j"
type = "json"
"#;

/// The input kinds the first byte picks from: format, encoding, file name.
const KINDS: [(&str, &str, &str); 4] = [
    ("csv", "utf-8", "input.csv"),
    ("csv", "windows-1252", "input.csv"),
    ("ndjson", "utf-8", "input.ndjson"),
    ("ndjson", "utf-16le", "input.ndjson"),
];

fn mappings() -> &'static [Mapping] {
    static MAPPINGS: OnceLock<Vec<Mapping>> = OnceLock::new();
    MAPPINGS.get_or_init(|| {
        KINDS
            .iter()
            .map(|&(format, encoding, _)| mapping(format, encoding))
            .collect()
    })
}

fn mapping(format: &str, encoding: &str) -> Mapping {
    let n = if format == "csv" { "n" } else { "a.n" };
    let text = format!(
        "[source]\nformat = \"{format}\"\nencoding = \"{encoding}\"\n{}",
        PROPERTIES.replace("{n}", n)
    );
    Mapping::parse(&text, Path::new("fuzz.toml"))
        .unwrap_or_else(|errors| panic!("the fixed {format} mapping is valid: {errors}"))
}

/// A directory of this process's own for the input file.
fn work_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("laudspeaker-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("the temp dir is writable");
        dir
    })
}

/// Runs one input through the reader and the body builder; panics when an
/// invariant breaks.
pub fn check(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let index = usize::from(selector) % KINDS.len();
    let path = work_dir().join(KINDS[index].2);
    std::fs::write(&path, bytes).expect("the temp dir is writable");
    let Ok(mut input) = source::open(&path, &mappings()[index], None, MAX_BODY_BYTES) else {
        // Refused as a whole, with a message: the exit-2 path.
        return;
    };
    let mut last_line = 0;
    let mut visit = |item: Item<'_>| {
        match item {
            Item::Blank => {}
            Item::Built {
                line, key, body, ..
            } => {
                assert!(line >= last_line, "line {line} after {last_line}");
                last_line = line;
                check_body(key, body);
            }
            Item::Rejected {
                line, rejection, ..
            } => {
                assert!(line >= last_line, "line {line} after {last_line}");
                last_line = line;
                assert!(!rejection.reason.is_empty(), "a rejection without a reason");
            }
        }
        ControlFlow::Continue(())
    };
    // An I/O error is reported by the run, not a defect of the reader.
    let _ = input.read_all(&mut visit, &mut |_| {});
}

fn check_body(key: &str, body: &[u8]) {
    assert!(!key.is_empty(), "built with an empty key");
    assert!(
        body.len() <= MAX_BODY_BYTES,
        "body over the limit: {}",
        body.len()
    );
    // The tool sends nesting of any depth (the server's parser takes it),
    // so serde_json's limit of 128 levels must not count here.
    let mut reader = serde_json::Deserializer::from_slice(body);
    reader.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut reader)
        .and_then(|value: serde_json::Value| reader.end().map(|()| value))
        .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(body)));
    let object = value.as_object().expect("the body is a JSON object");
    assert_eq!(
        object.get("primary_key").and_then(|k| k.as_str()),
        Some(key),
        "the body's key differs from the key reported"
    );
}
