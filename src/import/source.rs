//! Opening the input: format, encoding, header, and the mapping bound to
//! it; then reading it record by record into request bodies.
//!
//! A dead-letter file of an earlier run is an input too: its preamble says
//! how its records were read, so each is parsed again exactly as before.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use base64::Engine;
use serde_json::Value;

use crate::convert::parse_strict_json;
use crate::dead_letter::Preamble;
use crate::failure::Failure;
use crate::input::csv::{CsvReader, FieldProblem, Scratch};
use crate::input::decode::{self, FieldText};
use crate::input::detect_format;
use crate::input::ndjson::NdjsonReader;
use crate::mapping::{Format, Mapping};
use crate::transform::{BodyBuilder, RejectKind, Rejection};

type Source = Box<dyn Read + Send>;

/// What reading one record produced.
pub enum Item<'a> {
    /// A blank line, skipped.
    Blank,
    /// A request ready to send.
    Built {
        line: u64,
        key: &'a str,
        body: &'a [u8],
        raw: &'a [u8],
    },
    /// A record that cannot be sent.
    Rejected {
        line: u64,
        raw: &'a [u8],
        rejection: Rejection,
        source_line: Option<u64>,
    },
}

/// An input opened, checked against the mapping, ready to read.
pub struct Input {
    reader: Reader,
    builder: BodyBuilder,
    pub preamble: Preamble,
}

enum Reader {
    Csv {
        reader: Box<CsvReader<Source>>,
        text: FieldText,
        /// Blank lines before the header, reported with the records.
        leading_blank: u64,
    },
    Ndjson(NdjsonReader<Source>),
    /// A dead-letter file; `csv` is set when its records are CSV.
    Refeed {
        lines: NdjsonReader<Source>,
        csv: Option<(u8, FieldText)>,
    },
}

/// Opens `path` and binds `mapping` to it. Fails (exit 2) when the file as
/// a whole cannot be read as declared or the mapping does not fit it.
pub fn open(path: &Path, mapping: &Mapping, max_body_bytes: usize) -> Result<Input, Failure> {
    let shown = path.display().to_string();
    let file = File::open(path)
        .map_err(|e| Failure::before_sending(format!("cannot open input {shown}: {e}")))?;
    let mut file = BufReader::new(file);
    if let Some(preamble) = dead_letter_preamble(&mut file, &shown)? {
        return open_refeed(Box::new(file), preamble, mapping, max_body_bytes, &shown);
    }
    let format = detect_format(mapping.source.format, path).ok_or_else(|| {
        Failure::before_sending(format!("cannot tell the format of {shown}"))
            .with_hint("set `format = \"csv\"` or `\"ndjson\"` under [source] in the mapping")
    })?;
    mapping.check_format(format).map_err(|errors| {
        Failure::before_sending(format!("the mapping does not fit {shown}:\n{errors}"))
    })?;
    let read_error = |e: io::Error| Failure::before_sending(format!("cannot read {shown}: {e}"));
    let opened = decode::open(file, mapping.source.encoding).map_err(read_error)?;
    let mut preamble = Preamble {
        input: shown.clone(),
        mapping: mapping.path.display().to_string(),
        format: "ndjson",
        delimiter: None,
        encoding: opened.text.name(),
        file_encoding: Some(opened.encoding.name())
            .filter(|name| !name.eq_ignore_ascii_case(opened.text.name())),
        header: None,
    };
    match format {
        Format::Csv => {
            let delimiter = mapping.source.delimiter;
            let mut reader = CsvReader::new(opened.reader, delimiter);
            let header = read_header(&mut reader, opened.text, &shown)?;
            let builder = bind(mapping, &header.fields, max_body_bytes, &shown)?;
            preamble.format = "csv";
            preamble.delimiter = Some(delimiter as char);
            preamble.header = Some(header.raw);
            let reader = Reader::Csv {
                reader: Box::new(reader),
                text: opened.text,
                leading_blank: header.blank_before,
            };
            Ok(Input {
                reader,
                builder,
                preamble,
            })
        }
        Format::Ndjson => {
            refuse_whole_json(&opened.reader_head, &shown)?;
            let builder = BodyBuilder::for_ndjson(mapping, max_body_bytes);
            let reader = Reader::Ndjson(NdjsonReader::new(opened.reader));
            Ok(Input {
                reader,
                builder,
                preamble,
            })
        }
    }
}

struct Header {
    fields: Vec<String>,
    raw: String,
    /// Blank lines before the header line.
    blank_before: u64,
}

/// Refuses a file that is one JSON document rather than one object a line:
/// a JSON array, or an object pretty-printed over several lines.
fn refuse_whole_json(head: &[u8], shown: &str) -> Result<(), Failure> {
    let first_line = head
        .split(|&b| b == b'\n')
        .find(|l| !l.trim_ascii().is_empty());
    let Some(first_line) = first_line.map(<[u8]>::trim_ascii) else {
        return Ok(());
    };
    if first_line.starts_with(b"[") {
        return Err(Failure::before_sending(format!(
            "{shown} holds a JSON array, not NDJSON (one JSON object per line)"
        ))
        .with_hint("convert it first, e.g. `jq -c '.[]' file.json > file.ndjson`"));
    }
    if first_line == b"{" {
        return Err(Failure::before_sending(format!(
            "{shown} holds pretty-printed JSON, not NDJSON (one JSON object per line)"
        ))
        .with_hint("convert it first, e.g. `jq -c . file.json > file.ndjson`"));
    }
    Ok(())
}

fn read_header<R: Read>(
    reader: &mut CsvReader<R>,
    text: FieldText,
    shown: &str,
) -> Result<Header, Failure> {
    let record = reader
        .next_record()
        .map_err(|e| Failure::before_sending(format!("cannot read {shown}: {e}")))?
        .ok_or_else(|| Failure::before_sending(format!("{shown} is empty: no header line")))?;
    let mut scratch = Scratch::default();
    let fields = record
        .fields(text, &mut scratch)
        .map_err(|(column, problem)| {
            let what = match problem {
                FieldProblem::Nul => "a NUL byte",
                FieldProblem::Encoding => "bytes that are not valid text",
            };
            Failure::before_sending(format!(
                "{shown}:{}: the header holds {what} in column {}",
                record.line,
                column + 1
            ))
            .with_hint("check `encoding` under [source] in the mapping")
        })?;
    let fields = (0..fields.len())
        .map(|i| fields.get(i).to_string())
        .collect();
    let raw = match text.decode(record.raw) {
        Some(raw) => raw.into_owned(),
        None => String::from_utf8_lossy(record.raw).into_owned(),
    };
    let blank_before = record.blank_lines_before;
    Ok(Header {
        fields,
        raw,
        blank_before,
    })
}

/// Binds the mapping to a CSV header; a failure names the delimiter the
/// file seems to use when the header came out as one column.
fn bind(
    mapping: &Mapping,
    header: &[String],
    max_body_bytes: usize,
    shown: &str,
) -> Result<BodyBuilder, Failure> {
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    match mapping.bind_header(&names) {
        Ok(binding) => Ok(BodyBuilder::for_csv(
            mapping,
            &binding,
            header,
            max_body_bytes,
        )),
        Err(errors) => {
            let mut failure = Failure::before_sending(format!(
                "the mapping does not fit the header of {shown}\n{errors}"
            ));
            if let Some(hint) = delimiter_hint(header, mapping.source.delimiter) {
                failure = failure.with_hint(hint);
            }
            Err(failure)
        }
    }
}

fn delimiter_hint(header: &[String], declared: u8) -> Option<String> {
    let [only] = header else { return None };
    let found = [b',', b';', b'\t', b'|']
        .into_iter()
        .find(|&d| d != declared && only.as_bytes().contains(&d))?;
    let shown = if found == b'\t' {
        "\\t".to_string()
    } else {
        (found as char).to_string()
    };
    Some(format!(
        "the header is one single column containing `{shown}`: set `delimiter = \"{shown}\"` \
         under [source] in the mapping"
    ))
}

/// The preamble when the file is a dead-letter file of an earlier run.
fn dead_letter_preamble(file: &mut BufReader<File>, shown: &str) -> Result<Option<Value>, Failure> {
    let head = file
        .fill_buf()
        .map_err(|e| Failure::before_sending(format!("cannot read {shown}: {e}")))?;
    if !head.starts_with(b"{\"dead_letter\"") {
        return Ok(None);
    }
    let mut first = String::new();
    file.read_line(&mut first)
        .map_err(|e| Failure::before_sending(format!("cannot read {shown}: {e}")))?;
    let value: Value = serde_json::from_str(first.trim_end()).map_err(|e| {
        Failure::before_sending(format!("{shown}:1: unreadable dead-letter preamble: {e}"))
    })?;
    Ok(Some(value["dead_letter"].clone()))
}

fn open_refeed(
    file: Source,
    original: Value,
    mapping: &Mapping,
    max_body_bytes: usize,
    shown: &str,
) -> Result<Input, Failure> {
    let text_of = |key: &str| {
        original
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let encoding = text_of("encoding").unwrap_or_else(|| "utf-8".into());
    let encoding =
        encoding_rs::Encoding::for_label(encoding.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    let text = if encoding == encoding_rs::UTF_8 {
        FieldText::Utf8
    } else {
        FieldText::Legacy(encoding)
    };
    let mut preamble = Preamble {
        input: shown.to_string(),
        mapping: mapping.path.display().to_string(),
        format: "ndjson",
        delimiter: None,
        encoding: text.name(),
        file_encoding: None,
        header: None,
    };
    // The first line (the preamble) was consumed: entries start on line 2.
    let mut lines = NdjsonReader::new(file);
    lines.skip_lines(1);
    if text_of("format").as_deref() == Some("csv") {
        let delimiter = text_of("delimiter")
            .and_then(|d| d.bytes().next())
            .unwrap_or(b',');
        let header_line = text_of("header").unwrap_or_default();
        let source: Source = Box::new(io::Cursor::new(header_line.clone().into_bytes()));
        let mut header_reader = CsvReader::new(source, delimiter);
        let header = read_header(&mut header_reader, FieldText::Utf8, shown)?;
        let builder = bind(mapping, &header.fields, max_body_bytes, shown)?;
        preamble.format = "csv";
        preamble.delimiter = Some(delimiter as char);
        preamble.header = Some(header_line);
        let reader = Reader::Refeed {
            lines,
            csv: Some((delimiter, text)),
        };
        return Ok(Input {
            reader,
            builder,
            preamble,
        });
    }
    let builder = BodyBuilder::for_ndjson(mapping, max_body_bytes);
    Ok(Input {
        reader: Reader::Refeed { lines, csv: None },
        builder,
        preamble,
    })
}

impl Input {
    /// Reads every record, handing each outcome to `visit`, until the input
    /// ends or `visit` breaks. `progress` receives the bytes consumed.
    pub fn read_all(
        &mut self,
        visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<()> {
        let builder = &mut self.builder;
        match &mut self.reader {
            Reader::Csv {
                reader,
                text,
                leading_blank,
            } => {
                if visit_blanks(std::mem::take(leading_blank), visit).is_break() {
                    return Ok(());
                }
                read_csv(reader, *text, builder, visit, progress)
            }
            Reader::Ndjson(reader) => read_ndjson(reader, builder, visit, progress),
            Reader::Refeed { lines, csv } => read_refeed(lines, *csv, builder, visit, progress),
        }
    }
}

fn read_csv(
    reader: &mut CsvReader<Source>,
    text: FieldText,
    builder: &mut BodyBuilder,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    let mut scratch = Scratch::default();
    loop {
        let Some(record) = reader.next_record()? else {
            // The input ends here whether or not the visitor stops.
            let _ = visit_blanks(reader.trailing_blank_lines(), visit);
            return Ok(());
        };
        if visit_blanks(record.blank_lines_before, visit).is_break() {
            return Ok(());
        }
        let (line, raw) = (record.line, record.raw);
        let built = csv_item(&record, text, &mut scratch, builder);
        if visit(item(line, raw, None, built)).is_break() {
            return Ok(());
        }
        progress(reader.bytes_consumed());
    }
}

/// Reports `count` skipped blank lines.
fn visit_blanks(count: u64, visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>) -> ControlFlow<()> {
    for _ in 0..count {
        visit(Item::Blank)?;
    }
    ControlFlow::Continue(())
}

/// One CSV record through the structure checks and the body builder.
fn csv_item<'b>(
    record: &crate::input::csv::CsvRecord<'_>,
    text: FieldText,
    scratch: &mut Scratch,
    builder: &'b mut BodyBuilder,
) -> Result<(&'b str, &'b [u8]), Rejection> {
    if record.unterminated_quote {
        let reason = format!(
            "unterminated quoted field: the quote opened in the record starting on line {} is \
             never closed before the end of the file",
            record.line
        );
        return Err(Rejection {
            kind: RejectKind::Structure,
            reason,
        });
    }
    let fields = record.fields(text, scratch).map_err(|(column, problem)| {
        field_rejection(builder.column_name(column), column, problem, text)
    })?;
    let built = builder.csv(&fields)?;
    Ok((built.key, built.body))
}

fn field_rejection(
    name: Option<&str>,
    column: usize,
    problem: FieldProblem,
    text: FieldText,
) -> Rejection {
    let column = match name {
        Some(name) => format!("column `{name}` (column {})", column + 1),
        None => format!("column {}", column + 1),
    };
    match problem {
        FieldProblem::Nul => Rejection {
            kind: RejectKind::Encoding,
            reason: format!("NUL byte (0x00) in {column}; the row was not sent"),
        },
        FieldProblem::Encoding => Rejection {
            kind: RejectKind::Encoding,
            reason: format!("bytes that are not valid {} in {column}", text.name()),
        },
    }
}

fn read_ndjson(
    reader: &mut NdjsonReader<Source>,
    builder: &mut BodyBuilder,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    loop {
        let Some(line) = reader.next_line()? else {
            return Ok(());
        };
        let item = if line.blank {
            Item::Blank
        } else {
            json_item(line.line, line.raw, None, builder)
        };
        if visit(item).is_break() {
            return Ok(());
        }
        progress(reader.bytes_consumed());
    }
}

fn json_item<'a>(
    line: u64,
    raw: &'a [u8],
    source_line: Option<u64>,
    builder: &'a mut BodyBuilder,
) -> Item<'a> {
    item(line, raw, source_line, json_record(raw, builder))
}

/// The item for a record's raw bytes and what building its body gave.
fn item<'a>(
    line: u64,
    raw: &'a [u8],
    source_line: Option<u64>,
    built: Result<(&'a str, &'a [u8]), Rejection>,
) -> Item<'a> {
    match built {
        Ok((key, body)) => Item::Built {
            line,
            key,
            body,
            raw,
        },
        Err(rejection) => Item::Rejected {
            line,
            raw,
            rejection,
            source_line,
        },
    }
}

fn json_record<'b>(
    raw: &[u8],
    builder: &'b mut BodyBuilder,
) -> Result<(&'b str, &'b [u8]), Rejection> {
    let structure = |reason: String| Rejection {
        kind: RejectKind::Structure,
        reason,
    };
    if std::str::from_utf8(raw).is_err() {
        return Err(Rejection {
            kind: RejectKind::Encoding,
            reason: "the line is not valid UTF-8".into(),
        });
    }
    let value = parse_strict_json(raw).map_err(|e| {
        structure(format!(
            "invalid JSON at column {}: {}",
            e.column, e.message
        ))
    })?;
    let Value::Object(object) = &value else {
        return Err(structure(format!(
            "not a JSON object: the line holds {}",
            kind_of(&value)
        )));
    };
    let built = builder.json(object)?;
    Ok((built.key, built.body))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn read_refeed(
    lines: &mut NdjsonReader<Source>,
    csv: Option<(u8, FieldText)>,
    builder: &mut BodyBuilder,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    let mut scratch = Scratch::default();
    loop {
        let Some(line) = lines.next_line()? else {
            return Ok(());
        };
        let (number, entry) = (line.line, line.raw);
        let flow = if line.blank {
            visit(Item::Blank)
        } else {
            match entry_raw(entry) {
                Err(rejection) => visit(Item::Rejected {
                    line: number,
                    raw: entry,
                    rejection,
                    source_line: None,
                }),
                Ok((raw, source_line)) => {
                    refeed_item(number, &raw, source_line, csv, &mut scratch, builder, visit)
                }
            }
        };
        if flow.is_break() {
            return Ok(());
        }
        progress(lines.bytes_consumed());
    }
}

/// The original record bytes and line of one dead-letter entry.
fn entry_raw(entry: &[u8]) -> Result<(Vec<u8>, Option<u64>), Rejection> {
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
    if let Some(raw) = value.get("raw").and_then(Value::as_str) {
        return Ok((raw.as_bytes().to_vec(), source_line));
    }
    let encoded = value.get("raw_base64").and_then(Value::as_str);
    let encoded = encoded.ok_or_else(|| structure("dead-letter entry without `raw`"))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| structure("dead-letter entry with invalid `raw_base64`"))?;
    Ok((raw, source_line))
}

fn refeed_item(
    line: u64,
    raw: &[u8],
    source_line: Option<u64>,
    csv: Option<(u8, FieldText)>,
    scratch: &mut Scratch,
    builder: &mut BodyBuilder,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Some((delimiter, text)) = csv else {
        return visit(json_item(line, raw, source_line, builder));
    };
    let mut reader = CsvReader::new(raw, delimiter);
    let result = match reader.next_record() {
        Ok(Some(record)) if record.line == 1 => csv_item(&record, text, scratch, builder),
        _ => Err(Rejection {
            kind: RejectKind::Structure,
            reason: "empty record".into(),
        }),
    };
    visit(item(line, raw, source_line, result))
}
