//! Per-column profile for `check`: each mapped column's value in every
//! record, converted on its own by the mapping's rule, to count empty
//! values and conversion failures (with the first examples and lines).
//!
//! The records come from the import's reader as their raw bytes (as the
//! parser read them); a CSV record is split again here with csv-core and a
//! reused buffer, an NDJSON line parsed again with the strict JSON parser.
//! Records that cannot be split into the header's fields, or whose bytes
//! are not text, are counted as not profiled: their dead-letter reason says
//! why.

use serde_json::Value;

use crate::convert::{parse_strict_json, Conversion, ConvertError, Converted};
use crate::failure::Failure;
use crate::import::source::Input;
use crate::input::decode::FieldText;
use crate::mapping::{Mapping, PropertySource};
use crate::transform::{lookup, shown_value};

use super::report::{ColumnReport, Example};

/// Conversion failures quoted per column.
const EXAMPLES: usize = 3;

/// Where the records' fields are.
enum Layout {
    Csv {
        splitter: Box<Splitter>,
        width: usize,
    },
    Ndjson,
}

/// One profiled column: the key or a property read from the input.
struct Column {
    /// Column index (CSV) or key path (NDJSON).
    index: usize,
    path: Vec<String>,
    conversion: Conversion,
    is_key: bool,
    report: ColumnReport,
}

pub struct Columns {
    layout: Layout,
    text: FieldText,
    columns: Vec<Column>,
    not_profiled: u64,
    scratch: Vec<u8>,
}

impl Columns {
    /// The columns of `mapping` as bound to the opened `input`.
    pub fn new(mapping: &Mapping, input: &Input) -> Result<Self, Failure> {
        let preamble = &input.preamble;
        let mut columns = Vec::new();
        let key = &mapping.primary_key;
        columns.push(column(
            &key.from,
            key.attribute.clone(),
            &key.conversion,
            true,
        ));
        for property in &mapping.properties {
            if let PropertySource::Field(from) = &property.source {
                let to = Some(property.to.clone());
                columns.push(column(from, to, &property.conversion, false));
            }
        }
        let layout = match (preamble.format, preamble.delimiter, &preamble.header) {
            ("csv", Some(delimiter), Some(header)) => {
                csv_layout(mapping, delimiter, header, &mut columns)?
            }
            _ => Layout::Ndjson,
        };
        Ok(Columns {
            layout,
            text: input.codec.text,
            columns,
            not_profiled: 0,
            scratch: Vec::new(),
        })
    }

    /// Profiles one record from its raw bytes.
    pub fn observe(&mut self, line: u64, raw: &[u8]) {
        let profiled = match &mut self.layout {
            Layout::Csv { splitter, width } => {
                let fields = splitter.split(raw);
                fields == *width
                    && csv_values(
                        splitter,
                        self.text,
                        line,
                        &mut self.columns,
                        &mut self.scratch,
                    )
            }
            Layout::Ndjson => {
                json_values(raw, self.text, line, &mut self.columns, &mut self.scratch)
            }
        };
        self.not_profiled += u64::from(!profiled);
    }

    pub fn not_profiled(&self) -> u64 {
        self.not_profiled
    }

    pub fn finish(self) -> Vec<ColumnReport> {
        self.columns
            .into_iter()
            .map(|column| column.report)
            .collect()
    }
}

fn column(from: &str, to: Option<String>, conversion: &Conversion, is_key: bool) -> Column {
    Column {
        index: 0,
        path: from.split('.').map(str::to_string).collect(),
        conversion: conversion.clone(),
        is_key,
        report: ColumnReport {
            from: from.to_string(),
            to,
            primary_key: is_key,
            value_type: conversion.value_type.name(),
            rows: 0,
            empty: 0,
            failures: 0,
            examples: Vec::new(),
        },
    }
}

/// Binds the columns to the header the import read (it bound already, so
/// this cannot fail unless the header line cannot be split again).
fn csv_layout(
    mapping: &Mapping,
    delimiter: char,
    header: &str,
    columns: &mut [Column],
) -> Result<Layout, Failure> {
    let mut splitter = Splitter::new(delimiter as u8);
    let width = splitter.split(header.as_bytes());
    let names: Vec<&str> = (0..width)
        .map(|i| std::str::from_utf8(splitter.field(i)).unwrap_or(""))
        .collect();
    let binding = mapping.bind_header(&names).map_err(|errors| {
        Failure::before_sending(format!("the mapping does not fit the header:\n{errors}"))
    })?;
    let mut indices = std::iter::once(Some(binding.key_column))
        .chain(binding.columns.iter().copied().filter(Option::is_some));
    for column in columns.iter_mut() {
        column.index = indices.next().flatten().unwrap_or(0);
    }
    Ok(Layout::Csv {
        splitter: Box::new(splitter),
        width,
    })
}

/// Profiles the split fields of one CSV record; false when a field is not
/// text in the file's encoding.
fn csv_values(
    splitter: &Splitter,
    text: FieldText,
    line: u64,
    columns: &mut [Column],
    scratch: &mut Vec<u8>,
) -> bool {
    for column in columns.iter() {
        if text.decode(splitter.field(column.index)).is_none() {
            return false;
        }
    }
    for column in columns.iter_mut() {
        let Some(value) = text.decode(splitter.field(column.index)) else {
            return false;
        };
        let result = match column.is_key {
            true => column
                .conversion
                .key_from_text(&value)
                .map(|key| key.is_some()),
            false => column
                .conversion
                .text_into(&value, scratch)
                .map(|converted| converted == Converted::Written),
        };
        scratch.clear();
        note(&mut column.report, line, &value, result);
    }
    true
}

/// Profiles one NDJSON line; false when it is not one JSON object.
fn json_values(
    raw: &[u8],
    text: FieldText,
    line: u64,
    columns: &mut [Column],
    scratch: &mut Vec<u8>,
) -> bool {
    let Some(decoded) = text.decode(raw) else {
        return false;
    };
    let Ok(Value::Object(object)) = parse_strict_json(decoded.as_bytes()) else {
        return false;
    };
    for column in columns.iter_mut() {
        let value = lookup(&object, &column.path).unwrap_or(&Value::Null);
        let result = match column.is_key {
            true => column
                .conversion
                .key_from_json(value)
                .map(|key| key.is_some()),
            false => column
                .conversion
                .json_into(value, scratch)
                .map(|converted| converted == Converted::Written),
        };
        scratch.clear();
        let shown = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        note(&mut column.report, line, &shown, result);
    }
    true
}

/// Counts one value: written (true), empty (false) or refused.
fn note(report: &mut ColumnReport, line: u64, value: &str, result: Result<bool, ConvertError>) {
    report.rows += 1;
    match result {
        Ok(true) => {}
        Ok(false) => report.empty += 1,
        Err(error) => {
            report.failures += 1;
            if report.examples.len() < EXAMPLES {
                report.examples.push(Example {
                    line,
                    value: shown_value(value).into_owned(),
                    reason: error.0,
                });
            }
        }
    }
}

/// Splits one CSV record's bytes into fields with csv-core, as the
/// import's reader does, into buffers reused from record to record.
struct Splitter {
    parser: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// Fields of the last record split.
    fields: usize,
}

impl Splitter {
    fn new(delimiter: u8) -> Self {
        Splitter {
            parser: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            fields: 0,
        }
    }

    /// Splits `raw` (one record without its line terminator); returns the
    /// number of fields.
    fn split(&mut self, raw: &[u8]) -> usize {
        use csv_core::ReadRecordResult as R;
        self.parser.reset();
        let (mut input, mut nout, mut nend) = (raw, 0, 0);
        loop {
            let (result, read, wrote, ended) =
                self.parser
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
            input = &input[read..];
            nout += wrote;
            nend += ended;
            match result {
                R::InputEmpty => {}
                R::OutputFull => self.out.resize(self.out.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::Record | R::End => break,
            }
        }
        self.fields = nend;
        nend
    }

    /// The unescaped bytes of field `index` of the last record split.
    fn field(&self, index: usize) -> &[u8] {
        if index >= self.fields {
            return &[];
        }
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.out[start..self.ends[index]]
    }
}
