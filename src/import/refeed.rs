//! A dead-letter file as input: its preamble says how the original file was
//! read (format, header, delimiter, encoding), so each entry's record is
//! parsed again exactly as it was the first time, through the same mapping.
//!
//! An entry's `text`, when present, is what a person edits and wins;
//! otherwise `raw` (or `raw_base64`) holds the original bytes.
//!
//! Entries are written in the order rows failed, which is not file order
//! when requests run in parallel; they are sent again in the order of the
//! original file, so the last row of a customer still wins. That means the
//! whole dead-letter file is read before the first request: its size, not
//! the original input's, bounds the memory a re-import takes.

use std::borrow::Cow;
use std::io;
use std::ops::ControlFlow;

use base64::Engine;
use serde_json::Value;

use super::source::{self, Input, Item, Reader, Source};
use crate::dead_letter::Preamble;
use crate::failure::Failure;
use crate::input::csv::{CsvReader, Scratch};
use crate::input::decode::{FieldText, RecordCodec};
use crate::input::ndjson::NdjsonReader;
use crate::mapping::Mapping;
use crate::transform::{BodyBuilder, RejectKind, Rejection};

/// Reads the entries of a dead-letter file.
pub struct Refeed {
    /// Entries in the order of their rows in the original file.
    entries: Vec<Stored>,
    /// Bytes of the dead-letter file, reported as progress at the end.
    bytes: u64,
    /// The CSV delimiter when the original records are CSV.
    csv: Option<u8>,
    codec: RecordCodec,
}

/// Opens a dead-letter file whose preamble (`original`, consumed from
/// `file`) describes the input it came from.
pub fn open(
    file: Source,
    original: &Value,
    mapping: &Mapping,
    max_body_bytes: usize,
    shown: &str,
) -> Result<Input, Failure> {
    let text_of = |key: &str| original.get(key).and_then(Value::as_str);
    let label = text_of("encoding").unwrap_or("utf-8");
    let codec = encoding_rs::Encoding::for_label(label.as_bytes())
        .and_then(RecordCodec::for_encoding)
        .ok_or_else(|| {
            Failure::before_sending(format!("{shown}:1: unknown encoding `{label}` in preamble"))
        })?;
    let mut preamble = Preamble {
        input: shown.to_string(),
        mapping: mapping.path.display().to_string(),
        format: "ndjson",
        delimiter: None,
        encoding: codec.encoding.name(),
        header: None,
    };
    // The preamble was consumed: entries start on line 2.
    let mut lines = NdjsonReader::new(file);
    lines.skip_lines(1);
    let entries = in_original_order(&mut lines)
        .map_err(|e| Failure::before_sending(format!("cannot read {shown}: {e}")))?;
    let mut refeed = Refeed {
        entries,
        bytes: lines.bytes_consumed(),
        csv: None,
        codec,
    };
    let builder = if text_of("format") == Some("csv") {
        let delimiter = text_of("delimiter")
            .and_then(|d| d.bytes().next())
            .unwrap_or(b',');
        let header_line = text_of("header").unwrap_or_default().to_string();
        let source: Source = Box::new(io::Cursor::new(header_line.clone().into_bytes()));
        let header = source::read_header(
            &mut CsvReader::new(source, delimiter),
            FieldText::Utf8,
            false,
            shown,
        )?;
        preamble.format = "csv";
        preamble.delimiter = Some(delimiter as char);
        preamble.header = Some(header_line);
        refeed.csv = Some(delimiter);
        source::bind(mapping, &header.fields, max_body_bytes, shown)?
    } else {
        BodyBuilder::for_ndjson(mapping, max_body_bytes)
    };
    Ok(Input {
        reader: Reader::Refeed(refeed),
        builder,
        preamble,
        codec,
        compressed: None,
    })
}

/// One line of the dead-letter file, kept until it is sent again.
struct Stored {
    /// Line in the dead-letter file.
    line: u64,
    /// The line holds only white space.
    blank: bool,
    bytes: Vec<u8>,
    /// The entry, parsed once; `None` when the line is not JSON.
    entry: Option<Value>,
}

/// An entry's line in the original input: `source_line`, else `line`.
fn original_line(entry: &Value) -> Option<u64> {
    entry
        .get("source_line")
        .or(entry.get("line"))
        .and_then(Value::as_u64)
}

/// Reads every entry and orders them by their line in the original file
/// (`source_line`, else `line`); unreadable entries come first, where they
/// are refused, and ties keep their order.
fn in_original_order(lines: &mut NdjsonReader<Source>) -> io::Result<Vec<Stored>> {
    let mut entries = Vec::new();
    while let Some(line) = lines.next_line()? {
        let entry = serde_json::from_slice::<Value>(line.raw).ok();
        let order = entry.as_ref().and_then(original_line);
        let stored = Stored {
            line: line.line,
            blank: line.blank,
            bytes: line.raw.to_vec(),
            entry,
        };
        entries.push((order.unwrap_or(0), stored));
    }
    entries.sort_by_key(|(order, _)| *order);
    Ok(entries.into_iter().map(|(_, stored)| stored).collect())
}

impl Refeed {
    pub fn read_all(
        &mut self,
        builder: &mut BodyBuilder,
        visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<()> {
        let mut scratch = Scratch::default();
        for entry in &self.entries {
            let flow = if entry.blank {
                visit(Item::Blank)
            } else {
                match record_of(entry.entry.as_ref(), &self.codec) {
                    Err(rejection) => visit(Item::Rejected {
                        line: entry.line,
                        raw: &entry.bytes,
                        rejection,
                        source_line: None,
                    }),
                    Ok(record) => {
                        visit_entry(entry.line, &record, self.csv, &mut scratch, builder, visit)
                    }
                }
            };
            if flow.is_break() {
                return Ok(());
            }
        }
        progress(self.bytes);
        Ok(())
    }
}

/// One entry's record, ready to parse.
struct Record<'a> {
    /// Bytes in the parser's encoding.
    bytes: Cow<'a, [u8]>,
    text: FieldText,
    source_line: Option<u64>,
}

/// The record held by a dead-letter entry: its edited `text` if any,
/// else its original bytes brought into the parser's encoding.
fn record_of<'a>(entry: Option<&Value>, codec: &RecordCodec) -> Result<Record<'a>, Rejection> {
    let structure = |reason: &str| Rejection {
        kind: RejectKind::Structure,
        reason: reason.into(),
    };
    let value = entry.ok_or_else(|| structure("not a dead-letter entry: invalid JSON"))?;
    let source_line = original_line(value);
    if let Some(text) = value.get("text").and_then(Value::as_str) {
        let bytes = in_file_encoding(text, codec)?;
        return Ok(Record {
            bytes,
            text: codec.text,
            source_line,
        });
    }
    let raw = match value.get("raw").and_then(Value::as_str) {
        Some(raw) => raw.as_bytes().to_vec(),
        None => {
            let encoded = value.get("raw_base64").and_then(Value::as_str);
            let encoded = encoded.ok_or_else(|| structure("dead-letter entry without `raw`"))?;
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| structure("dead-letter entry with invalid `raw_base64`"))?
        }
    };
    let bytes = Cow::Owned(codec.parseable(&raw).into_owned());
    Ok(Record {
        bytes,
        text: codec.text,
        source_line,
    })
}

/// An edited `text` in the bytes the parser expects for this file, so its
/// record is read (and dead-lettered again) like the file's own.
fn in_file_encoding<'a>(text: &str, codec: &RecordCodec) -> Result<Cow<'a, [u8]>, Rejection> {
    let FieldText::Legacy(encoding) = codec.text else {
        return Ok(Cow::Owned(text.as_bytes().to_vec()));
    };
    let (bytes, _, unmappable) = encoding.encode(text);
    if unmappable {
        return Err(Rejection {
            kind: RejectKind::Encoding,
            reason: format!("`text` holds characters {} cannot encode", encoding.name()),
        });
    }
    Ok(Cow::Owned(bytes.into_owned()))
}

/// Parses an entry's record as the original format and builds its body.
/// A CSV entry whose text now holds several records (a stray quote fixed,
/// say) yields each of them, so none is dropped; each keeps the entry's
/// line and `source_line` (an edited text has no line of its own in the
/// original file, and sorting by it keeps them together, in order).
fn visit_entry(
    line: u64,
    record: &Record<'_>,
    csv: Option<u8>,
    scratch: &mut Scratch,
    builder: &mut BodyBuilder,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some(delimiter) = csv else {
        return visit_json_lines(line, record, builder, visit);
    };
    let mut reader = CsvReader::new(&record.bytes[..], delimiter);
    let mut seen = false;
    while let Ok(Some(parsed)) = reader.next_record() {
        seen = true;
        let source_line = record.source_line;
        builder.at_line(line);
        let built = source::csv_item(&parsed, record.text, scratch, builder);
        visit(source::item(line, parsed.raw, source_line, built))?;
    }
    if seen {
        return ControlFlow::Continue(());
    }
    no_record(line, record, visit)
}

/// An NDJSON entry: one record per non-blank line of its (fixed) text.
fn visit_json_lines(
    line: u64,
    record: &Record<'_>,
    builder: &mut BodyBuilder,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let mut seen = false;
    for text in record.bytes.split(|&b| b == b'\n') {
        if text.trim_ascii().is_empty() {
            continue;
        }
        seen = true;
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let source_line = record.source_line;
        visit(source::json_item(
            line,
            text,
            record.text,
            source_line,
            builder,
        ))?;
    }
    if seen {
        return ControlFlow::Continue(());
    }
    no_record(line, record, visit)
}

/// The refusal of an entry whose text holds no record at all.
fn no_record(
    line: u64,
    record: &Record<'_>,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let rejection = Rejection {
        kind: RejectKind::Structure,
        reason: "the entry holds no record".into(),
    };
    visit(Item::Rejected {
        line,
        raw: &record.bytes,
        rejection,
        source_line: record.source_line,
    })
}
