//! Reading the header and a sample of rows for `mapping init`, through the
//! import's own readers ([`crate::input`]): the same byte order mark and
//! UTF-16 handling, the same CSV parser, the same strict JSON parser. What
//! is seen here is what `import` will see with the mapping written.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use serde_json::{Map, Value};

use crate::convert::parse_strict_json;
use crate::failure::Failure;
use crate::input::csv::{CsvReader, Scratch};
use crate::input::decode::{self, FieldText, Opened};
use crate::input::ndjson::NdjsonReader;
use crate::mapping::Format;

use super::infer::ColumnStats;

/// An object under one key path with more distinct keys than this across
/// the sample has keys that are data (ids, dates), not names: it is mapped
/// whole, as JSON.
const MAX_CHILD_KEYS: usize = 32;

/// Rows of the sample that could not be used, listed at most this often.
const LISTED_SKIPS: usize = 5;

/// How to read the file, as found or as asked.
#[derive(Debug, Clone)]
pub struct Reading {
    pub format: Format,
    pub delimiter: u8,
    pub encoding: &'static Encoding,
    /// Why these settings, one comment line each.
    pub notes: Vec<String>,
}

/// What the sample showed.
#[derive(Debug)]
pub struct Sample {
    pub reading: Reading,
    /// CSV header names, or NDJSON key paths, in order of first sight.
    pub names: Vec<String>,
    pub columns: Vec<ColumnStats>,
    /// Records used (not counting skipped ones).
    pub records: u64,
    /// Records that could not be used, with the first few (line, why).
    pub skipped: u64,
    pub skips: Vec<(u64, String)>,
    /// The sample reached the end of the file.
    pub complete: bool,
}

/// What the command line fixed about the reading.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    pub format: Option<Format>,
    pub delimiter: Option<u8>,
    pub encoding: Option<&'static Encoding>,
    /// Records to read at most.
    pub limit: u64,
}

/// Reads the sample, deciding the delimiter and encoding when not asked.
pub fn read(path: &Path, asked: Asked) -> Result<Sample, Failure> {
    let shown = path.display().to_string();
    let format = crate::input::detect_format(asked.format, path).ok_or_else(|| {
        Failure::before_sending(format!("cannot tell the format of {shown}"))
            .with_hint("pass --format csv or --format ndjson")
    })?;
    let opened = open(path, asked.encoding)?;
    let encoding = opened.codec.encoding;
    let mut notes = Vec::new();
    if asked.encoding.is_none() && encoding != UTF_8 {
        notes.push(format!(
            "{}: the file starts with its byte order mark",
            encoding.name()
        ));
    }
    match format {
        Format::Ndjson => {
            crate::import::source::refuse_whole_json(&opened.reader_head, &shown)?;
            let reading = Reading {
                format,
                delimiter: b',',
                encoding,
                notes,
            };
            read_ndjson(path, reading, asked.limit)
        }
        Format::Csv => {
            let delimiter = match asked.delimiter {
                Some(delimiter) => delimiter,
                None => sniff_delimiter(path, asked.encoding, &mut notes)?,
            };
            let reading = Reading {
                format,
                delimiter,
                encoding,
                notes,
            };
            let sample = read_csv(path, reading.clone(), asked.limit)?;
            let legacy_fits = asked.encoding.is_none() && encoding == UTF_8;
            match sample {
                Err(line) if legacy_fits => retry_as_windows_1252(path, reading, line, asked),
                Err(line) => Err(not_text(&shown, line, encoding)),
                Ok(sample) => Ok(sample),
            }
        }
    }
}

/// A UTF-8 reading failed on bytes that are not UTF-8: Excel on Windows
/// writes windows-1252, which decodes every byte but five.
fn retry_as_windows_1252(
    path: &Path,
    mut reading: Reading,
    line: u64,
    asked: Asked,
) -> Result<Sample, Failure> {
    reading.encoding = WINDOWS_1252;
    reading.notes.push(format!(
        "windows-1252: line {line} is not valid UTF-8, and the sample reads as windows-1252 \
         (what Excel on Windows writes); check accented letters in an import"
    ));
    read_csv(path, reading, asked.limit)?
        .map_err(|line| not_text(&path.display().to_string(), line, WINDOWS_1252))
}

fn not_text(shown: &str, line: u64, encoding: &'static Encoding) -> Failure {
    Failure::before_sending(format!(
        "{shown}:{line}: bytes that are not valid {}",
        encoding.name()
    ))
    .with_hint("pass --encoding with the file's encoding, e.g. --encoding latin-1")
}

/// Opens the file for one reading pass.
///
/// Known shortcoming: this opens the file with [`decode::open`] itself
/// rather than through `import::source::open` (which needs a mapping), so
/// a compressed file is refused here, and `-` (stdin) is not read, even
/// where `import` reads them; sharing the opener with the import would fix
/// both.
fn open(path: &Path, encoding: Option<&'static Encoding>) -> Result<Opened, Failure> {
    let shown = path.display();
    let file = File::open(path)
        .map_err(|e| Failure::before_sending(format!("cannot open input {shown}: {e}")))?;
    let opened = decode::open(BufReader::new(file), encoding)
        .map_err(|e| Failure::before_sending(format!("cannot read {shown}: {e}")))?;
    if opened.reader_head.starts_with(&[0x1F, 0x8B])
        || opened.reader_head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD])
    {
        return Err(Failure::before_sending(format!("{shown} is compressed"))
            .with_hint("decompress it first, then run `mapping init` on the plain file"));
    }
    Ok(opened)
}

/// The delimiter of the four common ones that splits the header line into
/// the most fields (a `.tsv` file: tab); `,` when none splits it.
fn sniff_delimiter(
    path: &Path,
    encoding: Option<&'static Encoding>,
    notes: &mut Vec<String>,
) -> Result<u8, Failure> {
    let is_tsv = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("tsv"));
    if is_tsv {
        notes.push("tab: the file is named .tsv".into());
        return Ok(b'\t');
    }
    let mut best = (b',', 0);
    for candidate in [b',', b';', b'\t', b'|'] {
        let opened = open(path, encoding)?;
        let mut reader = CsvReader::new(opened.reader, candidate);
        let fields = match reader.next_record() {
            Ok(Some(record)) => record.len(),
            _ => 0,
        };
        if fields > best.1 {
            best = (candidate, fields);
        }
    }
    if best.0 != b',' {
        let shown = if best.0 == b'\t' {
            "tab".to_string()
        } else {
            (best.0 as char).to_string()
        };
        notes.push(format!(
            "`{shown}` splits the header into the most columns ({})",
            best.1
        ));
    }
    Ok(best.0)
}

/// Reads a CSV sample; `Err(line)` when a line is not valid in the
/// encoding (the caller may try another one).
fn read_csv(path: &Path, reading: Reading, limit: u64) -> Result<Result<Sample, u64>, Failure> {
    let shown = path.display().to_string();
    let opened = open(path, Some(reading.encoding))?;
    let text = opened.codec.text;
    let mut reader = CsvReader::new(opened.reader, reading.delimiter);
    let read_error =
        |e: std::io::Error| Failure::before_sending(format!("cannot read {shown}: {e}"));
    let mut scratch = Scratch::default();
    let names: Vec<String> = {
        let Some(header) = reader.next_record().map_err(read_error)? else {
            return Err(Failure::before_sending(format!(
                "{shown} is empty: no header line"
            )));
        };
        match header.fields(text, &mut scratch) {
            Ok(fields) => (0..fields.len())
                .map(|i| fields.get(i).to_string())
                .collect(),
            Err(_) if matches!(text, FieldText::Utf8) => return Ok(Err(header.line)),
            Err((column, _)) => {
                return Err(Failure::before_sending(format!(
                    "{shown}:{}: the header's column {} is not valid {}",
                    header.line,
                    column + 1,
                    text.name()
                )))
            }
        }
    };
    let mut sample = Sample::new(reading, names);
    while sample.records + sample.skipped < limit {
        let Some(record) = reader.next_record().map_err(read_error)? else {
            sample.complete = true;
            break;
        };
        let line = record.line;
        if record.unterminated_quote {
            sample.skip(line, "a quoted field is never closed".into());
            continue;
        }
        if record.len() != sample.names.len() {
            let why = format!(
                "{} fields where the header has {}",
                record.len(),
                sample.names.len()
            );
            sample.skip(line, why);
            continue;
        }
        match record.fields(text, &mut scratch) {
            Ok(fields) => {
                for (i, column) in sample.columns.iter_mut().enumerate() {
                    column.observe_text(fields.get(i));
                }
                sample.records += 1;
            }
            Err(_) if matches!(text, FieldText::Utf8) && !is_nul(&record, text) => {
                return Ok(Err(line))
            }
            Err((column, _)) => {
                sample.skip(line, format!("column {} is not valid text", column + 1));
            }
        }
    }
    // A sample that stopped at its limit may still have read every row.
    if !sample.complete && reader.next_record().map_err(read_error)?.is_none() {
        sample.complete = true;
    }
    Ok(Ok(sample))
}

/// Whether a record's fields fail on a NUL byte (a bad row, not a sign of
/// another encoding).
fn is_nul(record: &crate::input::csv::CsvRecord<'_>, text: FieldText) -> bool {
    let mut scratch = Scratch::default();
    matches!(
        record.fields(text, &mut scratch),
        Err((_, crate::input::csv::FieldProblem::Nul))
    )
}

impl Sample {
    fn new(reading: Reading, names: Vec<String>) -> Self {
        let columns = names.iter().map(|_| ColumnStats::new()).collect();
        Sample {
            reading,
            names,
            columns,
            records: 0,
            skipped: 0,
            skips: Vec::new(),
            complete: false,
        }
    }

    fn skip(&mut self, line: u64, why: String) {
        self.skipped += 1;
        if self.skips.len() < LISTED_SKIPS {
            self.skips.push((line, why));
        }
    }
}

/// Reads an NDJSON sample in two passes over the same lines: the first
/// finds the key paths (objects with data as keys are kept whole), the
/// second takes the values.
fn read_ndjson(path: &Path, reading: Reading, limit: u64) -> Result<Sample, Failure> {
    let mut shape = Shape::default();
    let mut first = Sample::new(reading.clone(), Vec::new());
    each_object(path, &reading, limit, &mut first, &mut |object| {
        shape.learn("", object)
    })?;
    shape.settle();
    let names = shape.paths();
    let mut sample = Sample::new(reading.clone(), names);
    for key in &shape.unaddressable {
        sample.reading.notes.push(format!(
            "key {key:?} cannot be named by a key path (empty, or holding a \".\"): not mapped"
        ));
    }
    let index: HashMap<String, usize> = sample
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), i))
        .collect();
    let columns = &mut sample.columns;
    let mut counted = Sample::new(reading.clone(), Vec::new());
    each_object(path, &reading, limit, &mut counted, &mut |object| {
        let mut found = vec![None; index.len()];
        collect(object, "", &shape.whole, &index, &mut found);
        for (column, value) in columns.iter_mut().zip(&found) {
            column.observe_json(*value);
        }
    })?;
    sample.records = counted.records;
    sample.skipped = counted.skipped;
    sample.skips = counted.skips;
    sample.complete = counted.complete;
    Ok(sample)
}

/// Calls `visit` with each JSON object of the first `limit` records;
/// lines that are not one object are counted as skipped in `sample`.
fn each_object(
    path: &Path,
    reading: &Reading,
    limit: u64,
    sample: &mut Sample,
    visit: &mut dyn FnMut(&Map<String, Value>),
) -> Result<(), Failure> {
    let shown = path.display().to_string();
    let opened = open(path, Some(reading.encoding))?;
    let text = opened.codec.text;
    let mut reader = NdjsonReader::new(opened.reader);
    while sample.records + sample.skipped < limit {
        let line = reader
            .next_line()
            .map_err(|e| Failure::before_sending(format!("cannot read {shown}: {e}")))?;
        let Some(line) = line else {
            sample.complete = true;
            break;
        };
        if line.blank {
            continue;
        }
        let parsed = text
            .decode(line.raw)
            .ok_or_else(|| format!("not valid {}", text.name()))
            .and_then(|decoded| {
                parse_strict_json(decoded.as_bytes()).map_err(|e| format!("invalid JSON: {e}"))
            });
        match parsed {
            Ok(Value::Object(object)) => {
                sample.records += 1;
                visit(&object);
            }
            Ok(_) => sample.skip(line.line, "not a JSON object".into()),
            Err(why) => sample.skip(line.line, why),
        }
    }
    // A sample that stopped at its limit may still have read every line.
    while !sample.complete {
        match reader.next_line() {
            Ok(Some(line)) if line.blank => {}
            Ok(None) => sample.complete = true,
            Ok(Some(_)) | Err(_) => break,
        }
    }
    Ok(())
}

/// The key paths of the sampled objects, in order of first sight.
#[derive(Debug, Default)]
struct Shape {
    order: Vec<String>,
    seen: HashSet<String>,
    /// Distinct child keys per object path (counted up to a bound).
    children: HashMap<String, HashSet<String>>,
    /// Object paths kept whole.
    whole: HashSet<String>,
    /// Keys no path can name (empty, or holding a `.`).
    unaddressable: Vec<String>,
    /// Paths that held a value other than an object in some record.
    leaves: HashSet<String>,
}

impl Shape {
    fn learn(&mut self, prefix: &str, object: &Map<String, Value>) {
        for (key, value) in object {
            let path = join(prefix, key);
            if key.is_empty() || key.contains('.') {
                if !self.unaddressable.contains(&path) {
                    self.unaddressable.push(path);
                }
                continue;
            }
            if !self.seen.contains(&path) {
                self.seen.insert(path.clone());
                self.order.push(path.clone());
            }
            if !matches!(value, Value::Object(_) | Value::Null) {
                self.leaves.insert(path.clone());
            }
            if let Value::Object(inner) = value {
                if self.whole.contains(&path) {
                    self.whole.insert(path);
                    continue;
                }
                let children = self.children.entry(path.clone()).or_default();
                children.extend(inner.keys().cloned());
                if children.len() > MAX_CHILD_KEYS || inner.is_empty() {
                    self.whole.insert(path);
                    continue;
                }
                self.learn(&path, inner);
            }
        }
    }

    /// A path that is an object in some records and a plain value in
    /// others is kept whole, so neither kind of value is lost.
    fn settle(&mut self) {
        for path in self.children.keys() {
            if self.leaves.contains(path) {
                self.whole.insert(path.clone());
            }
        }
    }

    /// Leaf paths: every path that is not an object walked into, nor
    /// inside an object kept whole.
    fn paths(&self) -> Vec<String> {
        self.order
            .iter()
            .filter(|path| {
                let walked = self.children.contains_key(*path) && !self.whole.contains(*path);
                !walked && !self.whole.iter().any(|whole| is_inside(path, whole))
            })
            .cloned()
            .collect()
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn is_inside(path: &str, parent: &str) -> bool {
    path.len() > parent.len() && path.starts_with(parent) && path.as_bytes()[parent.len()] == b'.'
}

/// Finds the value of every known path in one object.
fn collect<'v>(
    object: &'v Map<String, Value>,
    prefix: &str,
    whole: &HashSet<String>,
    index: &HashMap<String, usize>,
    found: &mut [Option<&'v Value>],
) {
    for (key, value) in object {
        let path = join(prefix, key);
        if let Some(&i) = index.get(&path) {
            found[i] = Some(value);
        }
        if let Value::Object(inner) = value {
            if !whole.contains(&path) {
                collect(inner, &path, whole, index, found);
            }
        }
    }
}
