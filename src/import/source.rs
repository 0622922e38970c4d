//! Opening the input: format, encoding, header, and the mapping bound to
//! it; then reading it record by record into request bodies.
//!
//! A dead-letter file of an earlier run is an input too ([`super::refeed`]).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::convert::{kind_of, parse_strict_json};
use crate::dead_letter::Preamble;
use crate::dead_letter_csv::{added_columns_start, LINE_COLUMN, REASON_COLUMN};
use crate::failure::Failure;
use crate::input::compress::{without_extension, Compression, Counted};
use crate::input::csv::{CsvReader, CsvRecord, FieldProblem, Scratch};
use crate::input::decode::{self, FieldText, RecordCodec};
use crate::input::detect_format;
use crate::input::ndjson::NdjsonReader;
use crate::mapping::{Format, Mapping};
use crate::transform::{BodyBuilder, Built, Dropped, RejectKind, Rejection};

pub(super) type Source = Box<dyn Read + Send>;

/// What reading one record produced.
pub enum Item<'a> {
    /// A blank line, skipped.
    Blank,
    /// A request ready to send.
    Built {
        line: u64,
        key: &'a str,
        body: &'a [u8],
        /// Properties left out (`on_error = "drop_property"`).
        dropped: &'a [Dropped],
        raw: &'a [u8],
        /// The line in the original input, when re-importing dead letters.
        source_line: Option<u64>,
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
    pub(super) reader: Reader,
    pub(super) builder: BodyBuilder,
    pub preamble: Preamble,
    /// How this input's records map back to its bytes.
    pub codec: RecordCodec,
    /// Compressed bytes read so far, when the input is compressed: what
    /// progress is measured in, since the file's size is compressed too.
    pub(super) compressed: Option<Arc<AtomicU64>>,
}

pub(super) enum Reader {
    Csv {
        reader: Box<CsvReader<Source>>,
        text: FieldText,
        /// Blank lines before the header, reported with the records.
        leading_blank: u64,
        /// Set (to the delimiter) when the file is a CSV dead-letter file:
        /// each record's last two columns are `_line` and `_reason`.
        dead_letters: Option<u8>,
    },
    Ndjson {
        reader: NdjsonReader<Source>,
        text: FieldText,
    },
    /// A dead-letter file of an earlier run.
    Refeed(super::refeed::Refeed),
}

/// Opens `path` (`-`: standard input) and binds `mapping` to it; `format`
/// (from the command line) wins over the mapping's and the extension.
/// Fails (exit 2) when the input as a whole cannot be read as declared or
/// the mapping does not fit it.
pub fn open(
    path: &Path,
    mapping: &Mapping,
    format: Option<Format>,
    max_body_bytes: usize,
) -> Result<Input, Failure> {
    let stdin = is_stdin(path);
    let shown = if stdin {
        STDIN_SHOWN.to_string()
    } else {
        path.display().to_string()
    };
    let (mut file, compressed) = open_bytes(path, &shown)?;
    if let Some(preamble) = dead_letter_preamble(&mut file, &shown)? {
        let mut input =
            super::refeed::open(Box::new(file), &preamble, mapping, max_body_bytes, &shown)?;
        input.compressed = compressed;
        return Ok(input);
    }
    let format = format
        .or(mapping.source.format)
        .or_else(|| detect_format(None, path))
        .ok_or_else(|| unknown_format(stdin, &shown))?;
    mapping.check_format(format).map_err(|errors| {
        Failure::before_sending(format!("the mapping does not fit {shown}:\n{errors}"))
    })?;
    let mut input = open_records(file, path, &shown, mapping, format, max_body_bytes)?;
    input.compressed = compressed;
    Ok(input)
}

/// How standard input is named in messages and in the dead-letter preamble.
pub const STDIN_SHOWN: &str = "<stdin>";

/// Whether `path` means standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

fn unknown_format(stdin: bool, shown: &str) -> Failure {
    if stdin {
        Failure::before_sending("reading standard input (`-`) needs its format")
            .with_hint("pass --format csv or --format ndjson, or set `format` under [source]")
    } else {
        Failure::before_sending(format!("cannot tell the format of {shown}")).with_hint(
            "pass --format csv|ndjson, or set `format = \"csv\"` or `\"ndjson\"` under [source] \
             in the mapping",
        )
    }
}

/// The input's bytes, decompressed when they are gzip or zstd, and the
/// count of compressed bytes read (for progress) when they are.
fn open_bytes(
    path: &Path,
    shown: &str,
) -> Result<(BufReader<Source>, Option<Arc<AtomicU64>>), Failure> {
    let raw: Source = if is_stdin(path) {
        Box::new(io::stdin())
    } else {
        let file = File::open(path)
            .map_err(|e| Failure::before_sending(format!("cannot open input {shown}: {e}")))?;
        Box::new(file)
    };
    let count = Arc::new(AtomicU64::new(0));
    let mut peek = BufReader::new(Counted::new(raw, count.clone()));
    let head = peek
        .fill_buf()
        .map_err(|e| Failure::before_sending(format!("cannot read {shown}: {e}")))?;
    match Compression::detect(head) {
        None => {
            let plain: Source = Box::new(peek);
            Ok((BufReader::new(plain), None))
        }
        Some(kind) => {
            let decoded = kind.decoder(peek, count.clone());
            Ok((BufReader::new(decoded), Some(count)))
        }
    }
}

/// Opens the records of a CSV or NDJSON input.
fn open_records(
    file: BufReader<Source>,
    path: &Path,
    shown: &str,
    mapping: &Mapping,
    format: Format,
    max_body_bytes: usize,
) -> Result<Input, Failure> {
    let shown = shown.to_string();
    let read_error = |e: io::Error| Failure::before_sending(format!("cannot read {shown}: {e}"));
    let opened = decode::open(file, mapping.source.encoding).map_err(read_error)?;
    let codec = opened.codec;
    let mut preamble = Preamble {
        input: shown.clone(),
        mapping: mapping.path.display().to_string(),
        format: "ndjson",
        delimiter: None,
        encoding: codec.encoding.name(),
        header: None,
    };
    match format {
        Format::Csv => {
            let delimiter = delimiter_for(mapping, path);
            let mut reader = CsvReader::new(opened.reader, delimiter);
            let strict = mapping.source.unmapped == crate::mapping::Unmapped::Include;
            let header = read_header(&mut reader, codec.text, strict, &shown)?;
            refuse_other_delimiter(&header, delimiter, &shown)?;
            let added = added_columns(&header, delimiter);
            let fields = &header.fields[..header.fields.len() - usize::from(added.is_some()) * 2];
            let builder = bind(mapping, fields, max_body_bytes, &shown)?;
            preamble.format = "csv";
            preamble.delimiter = Some(delimiter as char);
            preamble.header = Some(match added {
                Some(end) => header.raw[..end].to_string(),
                None => header.raw,
            });
            let reader = Reader::Csv {
                reader: Box::new(reader),
                text: codec.text,
                leading_blank: header.blank_before,
                dead_letters: added.map(|_| delimiter),
            };
            Ok(Input {
                reader,
                builder,
                preamble,
                codec,
                compressed: None,
            })
        }
        Format::Ndjson => {
            refuse_whole_json(&opened.reader_head, &shown)?;
            let builder = BodyBuilder::for_ndjson(mapping, max_body_bytes);
            let reader = Reader::Ndjson {
                reader: NdjsonReader::new(opened.reader),
                text: codec.text,
            };
            Ok(Input {
                reader,
                builder,
                preamble,
                codec,
                compressed: None,
            })
        }
    }
}

/// The mapping's delimiter; a `.tsv` file without one is tab-separated.
fn delimiter_for(mapping: &Mapping, path: &Path) -> u8 {
    let tsv = without_extension(path)
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("tsv"));
    if tsv && mapping.locations.delimiter.is_none() {
        b'\t'
    } else {
        mapping.source.delimiter
    }
}

pub(super) struct Header {
    pub(super) fields: Vec<String>,
    raw: String,
    /// The line the header is on.
    line: u64,
    /// Blank lines before the header line.
    blank_before: u64,
}

/// Refuses a file that is one JSON document rather than one object a line:
/// an array or object pretty-printed over several lines, or a file that is
/// a single array. A first line that is a complete value among other lines
/// is only that line's problem, and is dead-lettered like any other.
pub(crate) fn refuse_whole_json(head: &[u8], shown: &str) -> Result<(), Failure> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return Ok(());
    };
    let whole_file_seen = head.len() < decode::HEAD_BYTES;
    let single_array = first.starts_with(b"[")
        && (parse_strict_json(first).is_err() || (whole_file_seen && lines.next().is_none()));
    if single_array {
        return Err(Failure::before_sending(format!(
            "{shown} holds a JSON array, not NDJSON (one JSON object per line)"
        ))
        .with_hint("convert it first, e.g. `jq -c '.[]' file.json > file.ndjson`"));
    }
    if first == b"{" {
        return Err(Failure::before_sending(format!(
            "{shown} holds pretty-printed JSON, not NDJSON (one JSON object per line)"
        ))
        .with_hint("convert it first, e.g. `jq -c . file.json > file.ndjson`"));
    }
    Ok(())
}

/// Reads the header line. A cell that is not valid text is fatal only when
/// `strict` (its name would be sent, with `unmapped = "include"`);
/// otherwise it is kept with replacement characters, so a mapping that
/// refers to it fails to bind with the header shown.
pub(super) fn read_header<R: Read>(
    reader: &mut CsvReader<R>,
    text: FieldText,
    strict: bool,
    shown: &str,
) -> Result<Header, Failure> {
    let record = reader
        .next_record()
        .map_err(|e| Failure::before_sending(format!("cannot read {shown}: {e}")))?
        .ok_or_else(|| Failure::before_sending(format!("{shown} is empty: no header line")))?;
    let mut scratch = Scratch::default();
    let fields = match record.fields(text, &mut scratch) {
        Ok(fields) => (0..fields.len())
            .map(|i| fields.get(i).to_string())
            .collect(),
        Err(_) if !strict => (0..record.len())
            .map(|i| {
                let bytes = record.field_bytes(i);
                text.decode(bytes).map_or_else(
                    || String::from_utf8_lossy(bytes).into_owned(),
                    Cow::into_owned,
                )
            })
            .collect(),
        Err((column, problem)) => {
            let what = match problem {
                FieldProblem::Nul => "a NUL byte",
                FieldProblem::Encoding => "bytes that are not valid text",
            };
            let message = format!(
                "{shown}:{}: the header holds {what} in column {}",
                record.line,
                column + 1
            );
            return Err(Failure::before_sending(message)
                .with_hint("check `encoding` under [source] in the mapping"));
        }
    };
    let raw = match text.decode(record.raw) {
        Some(raw) => raw.into_owned(),
        None => String::from_utf8_lossy(record.raw).into_owned(),
    };
    let blank_before = record.blank_lines_before;
    Ok(Header {
        fields,
        raw,
        line: record.line,
        blank_before,
    })
}

/// Binds the mapping to a CSV header; a failure names the delimiter the
/// file seems to use when the header came out as one column.
pub(super) fn bind(
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

/// Stops before sending when the header came out as one single column that
/// holds another common delimiter outside quotes: the file is almost
/// surely separated by that one, and reading on would send every row as
/// one long value (or reject them all).
fn refuse_other_delimiter(header: &Header, declared: u8, shown: &str) -> Result<(), Failure> {
    if header.fields.len() != 1 {
        return Ok(());
    }
    let Some(found) = other_delimiter(&header.raw, declared) else {
        return Ok(());
    };
    let (name, spelled) = delimiter_words(found);
    let (declared_name, _) = delimiter_words(declared);
    Err(Failure::before_sending(format!(
        "{shown}:{}: the header is one single column when read with the delimiter \
         {declared_name}, and it holds {name}: the file seems to use {name}",
        header.line
    ))
    .with_hint(format!(
        "set `delimiter = \"{spelled}\"` under [source] in the mapping"
    )))
}

/// The first common delimiter other than `declared` found outside double
/// quotes in the header line.
fn other_delimiter(raw: &str, declared: u8) -> Option<u8> {
    let mut quoted = false;
    let mut seen = [false; 4];
    const COMMON: [u8; 4] = [b',', b';', b'\t', b'|'];
    for byte in raw.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = COMMON.iter().position(|&d| d == byte && d != declared) {
                seen[i] = true;
            }
        }
    }
    COMMON
        .into_iter()
        .zip(seen)
        .find(|&(_, s)| s)
        .map(|(d, _)| d)
}

/// How a delimiter is named in a message, and spelled in TOML.
fn delimiter_words(delimiter: u8) -> (String, String) {
    match delimiter {
        b'\t' => ("a tab".to_string(), "\\t".to_string()),
        other => (format!("`{}`", other as char), (other as char).to_string()),
    }
}

fn delimiter_hint(header: &[String], declared: u8) -> Option<String> {
    let [only] = header else { return None };
    let found = other_delimiter(only, declared)?;
    let (_, spelled) = delimiter_words(found);
    Some(format!(
        "the header is one single column containing `{spelled}`: set `delimiter = \"{spelled}\"` \
         under [source] in the mapping"
    ))
}

/// The preamble when the file is a dead-letter file of an earlier run.
fn dead_letter_preamble(
    file: &mut BufReader<Source>,
    shown: &str,
) -> Result<Option<Value>, Failure> {
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

impl Input {
    /// Notes the customers of rows refused before sending in `ledger`, as
    /// rows of the run's input number `index`.
    pub fn set_ledger(&mut self, ledger: Arc<crate::supersede::Ledger>, index: usize) {
        self.builder.set_ledger(ledger, index);
    }

    /// Warnings about the mapping that only the whole input can show.
    pub fn warnings(&self) -> Vec<String> {
        self.builder.unseen_paths()
    }

    /// Reads every record, handing each outcome to `visit`, until the input
    /// ends or `visit` breaks. `progress` receives the bytes consumed (of
    /// the compressed file, when it is compressed).
    pub fn read_all(
        &mut self,
        visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<()> {
        let compressed = self.compressed.clone();
        let mut measured = |bytes: u64| match &compressed {
            Some(count) => progress(count.load(Ordering::Relaxed)),
            None => progress(bytes),
        };
        let progress: &mut dyn FnMut(u64) = &mut measured;
        let builder = &mut self.builder;
        match &mut self.reader {
            Reader::Csv {
                reader,
                text,
                leading_blank,
                dead_letters,
            } => {
                if visit_blanks(std::mem::take(leading_blank), visit).is_break() {
                    return Ok(());
                }
                read_csv(reader, *text, *dead_letters, builder, visit, progress)
            }
            Reader::Ndjson { reader, text } => read_ndjson(reader, *text, builder, visit, progress),
            Reader::Refeed(refeed) => refeed.read_all(builder, visit, progress),
        }
    }
}

fn read_csv(
    reader: &mut CsvReader<Source>,
    text: FieldText,
    dead_letters: Option<u8>,
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
        let (record, source_line) = match dead_letters {
            Some(delimiter) => without_added_columns(&record, delimiter),
            None => (record, None),
        };
        let (line, raw) = (record.line, record.raw);
        builder.at_line(record.line);
        let built = csv_item(&record, text, &mut scratch, builder);
        if visit(item(line, raw, source_line, built)).is_break() {
            return Ok(());
        }
        progress(reader.bytes_consumed());
    }
}

/// Where the header's added columns start, when its last two names are
/// those a CSV dead-letter file adds ([`crate::dead_letter_csv`]).
fn added_columns(header: &Header, delimiter: u8) -> Option<usize> {
    let [.., line, reason] = header.fields.as_slice() else {
        return None;
    };
    if line != LINE_COLUMN || reason != REASON_COLUMN || header.fields.len() < 3 {
        return None;
    }
    added_columns_start(header.raw.as_bytes(), delimiter)
}

/// A record of a CSV dead-letter file as the original record, with its
/// line in the original input (`_line`). A record that lacks the added
/// columns (a row a person typed in) is read as it is.
fn without_added_columns<'a>(
    record: &CsvRecord<'a>,
    delimiter: u8,
) -> (CsvRecord<'a>, Option<u64>) {
    let (Some(end), true) = (
        added_columns_start(record.raw, delimiter),
        record.len() >= 3,
    ) else {
        return (record.without_last(0, record.raw.len()), None);
    };
    let line = std::str::from_utf8(record.field_bytes(record.len() - 2))
        .ok()
        .and_then(|text| text.trim().parse().ok());
    (record.without_last(2, end), line)
}

/// Reports `count` skipped blank lines.
pub(super) fn visit_blanks(
    count: u64,
    visit: &mut dyn FnMut(Item<'_>) -> ControlFlow<()>,
) -> ControlFlow<()> {
    for _ in 0..count {
        visit(Item::Blank)?;
    }
    ControlFlow::Continue(())
}

/// One CSV record through the structure checks and the body builder.
pub(super) fn csv_item<'b>(
    record: &crate::input::csv::CsvRecord<'_>,
    text: FieldText,
    scratch: &mut Scratch,
    builder: &'b mut BodyBuilder,
) -> Result<Built<'b>, Rejection> {
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
    builder.csv(&fields)
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
    text: FieldText,
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
            json_item(line.line, line.raw, text, None, builder)
        };
        if visit(item).is_break() {
            return Ok(());
        }
        progress(reader.bytes_consumed());
    }
}

pub(super) fn json_item<'a>(
    line: u64,
    raw: &'a [u8],
    text: FieldText,
    source_line: Option<u64>,
    builder: &'a mut BodyBuilder,
) -> Item<'a> {
    builder.at_line(line);
    item(line, raw, source_line, json_record(raw, text, builder))
}

/// The item for a record's raw bytes and what building its body gave.
pub(super) fn item<'a>(
    line: u64,
    raw: &'a [u8],
    source_line: Option<u64>,
    built: Result<Built<'a>, Rejection>,
) -> Item<'a> {
    match built {
        Ok(built) => Item::Built {
            line,
            key: built.key,
            body: built.body,
            dropped: built.dropped,
            raw,
            source_line,
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
    text: FieldText,
    builder: &'b mut BodyBuilder,
) -> Result<Built<'b>, Rejection> {
    let structure = |reason: String| Rejection {
        kind: RejectKind::Structure,
        reason,
    };
    let Some(decoded) = text.decode(raw) else {
        let at = std::str::from_utf8(raw).map_or_else(|e| e.valid_up_to() + 1, |_| 1);
        let place = if text == FieldText::Utf8 {
            format!(" (column {at})")
        } else {
            String::new()
        };
        return Err(Rejection {
            kind: RejectKind::Encoding,
            reason: format!("the line is not valid {}{place}", text.name()),
        });
    };
    let value = parse_strict_json(decoded.as_bytes()).map_err(|e| {
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
    builder.json(object)
}
