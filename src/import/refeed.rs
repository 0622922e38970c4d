//! A dead-letter file as input: its preamble says how the original file was
//! read (format, header, delimiter, encoding), so each entry's record is
//! parsed again exactly as it was the first time, through the same mapping.
//!
//! An entry's `text`, when present, is what a person edits and wins;
//! otherwise `raw` (or `raw_base64`) holds the original bytes.

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
    lines: NdjsonReader<Source>,
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
    let mut refeed = Refeed {
        lines,
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
    })
}

impl Refeed {
    pub fn read_all(
        &mut self,
        builder: &mut BodyBuilder,
        visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<()> {
        let mut scratch = Scratch::default();
        loop {
            let Some(line) = self.lines.next_line()? else {
                return Ok(());
            };
            let flow = if line.blank {
                visit(Item::Blank)
            } else {
                match record_of(line.raw, &self.codec) {
                    Err(rejection) => visit(Item::Rejected {
                        line: line.line,
                        raw: line.raw,
                        rejection,
                        source_line: None,
                    }),
                    Ok(record) => {
                        visit_entry(line.line, &record, self.csv, &mut scratch, builder, visit)
                    }
                }
            };
            if flow.is_break() {
                return Ok(());
            }
            progress(self.lines.bytes_consumed());
        }
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
fn record_of<'a>(entry: &[u8], codec: &RecordCodec) -> Result<Record<'a>, Rejection> {
    let structure = |reason: &str| Rejection {
        kind: RejectKind::Structure,
        reason: reason.into(),
    };
    let value: Value = serde_json::from_slice(entry)
        .map_err(|_| structure("not a dead-letter entry: invalid JSON"))?;
    let source_line = value
        .get("source_line")
        .or(value.get("line"))
        .and_then(Value::as_u64);
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
/// line, and its own line in the original file as `source_line`.
fn visit_entry(
    line: u64,
    record: &Record<'_>,
    csv: Option<u8>,
    scratch: &mut Scratch,
    builder: &mut BodyBuilder,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some(delimiter) = csv else {
        return visit(source::json_item(
            line,
            &record.bytes,
            record.text,
            record.source_line,
            builder,
        ));
    };
    let mut reader = CsvReader::new(&record.bytes[..], delimiter);
    let mut seen = false;
    while let Ok(Some(parsed)) = reader.next_record() {
        seen = true;
        let source_line = record.source_line.map(|first| first + parsed.line - 1);
        let built = source::csv_item(&parsed, record.text, scratch, builder);
        visit(source::item(line, parsed.raw, source_line, built))?;
    }
    if seen {
        return ControlFlow::Continue(());
    }
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
