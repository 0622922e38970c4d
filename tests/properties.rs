//! Property tests over hostile input, through the library API: arbitrary
//! bytes never panic the readers, every record of a file ends built,
//! rejected or blank with its line, conversions are total, and what
//! should round-trip does (a number keeps its spelling, text comes back
//! as it went in, UTF-16 gives back its bytes).

use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

use laudspeaker_import::convert::{Conversion, Converted, ValueType};
use laudspeaker_import::import::source::{self, Item};
use laudspeaker_import::input::csv::CsvReader;
use laudspeaker_import::input::ndjson::NdjsonReader;
use laudspeaker_import::input::utf16::{from_utf16, to_utf16, Endian, Utf16Reader};
use laudspeaker_import::mapping::Mapping;
use proptest::prelude::*;

const TYPES: [ValueType; 8] = [
    ValueType::String,
    ValueType::Number,
    ValueType::Boolean,
    ValueType::Email,
    ValueType::Date,
    ValueType::Datetime,
    ValueType::Array,
    ValueType::Json,
];

/// Hands the reader its input a few bytes at a time, as a pipe might.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// Bytes rich in what readers trip over: quotes, separators, line breaks,
/// NUL, invalid UTF-8, braces. Drawn as plain bytes and then mapped (most
/// of them onto those few), which keeps generation cheap.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    const TRICKY: &[u8] = b"\",\n\r\0\xff\xc3\xa9{}:";
    prop::collection::vec(any::<u8>(), 0..600).prop_map(|bytes| {
        bytes
            .into_iter()
            .map(|b| match TRICKY.get(usize::from(b) % 16) {
                Some(&tricky) if b < 160 => tricky,
                _ => b,
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn csv_records_keep_rising_lines_and_consume_every_byte(
        bytes in hostile_bytes(),
        step in 1usize..64,
    ) {
        let mut reader = CsvReader::new(Trickle { bytes: &bytes, step }, b',');
        let mut last = 0;
        while let Some(record) = reader.next_record().expect("reading memory cannot fail") {
            prop_assert!(record.line > last, "line {} after {}", record.line, last);
            last = record.line;
            prop_assert!(memchr::memmem::find(&bytes, record.raw).is_some());
        }
        prop_assert_eq!(reader.bytes_consumed(), bytes.len() as u64);
    }

    #[test]
    fn ndjson_lines_are_numbered_one_by_one_and_rebuild_the_input(
        bytes in hostile_bytes(),
        step in 1usize..64,
    ) {
        let mut reader = NdjsonReader::new(Trickle { bytes: &bytes, step });
        let mut expected = bytes.split(|&b| b == b'\n').collect::<Vec<_>>();
        if bytes.ends_with(b"\n") || bytes.is_empty() {
            expected.pop();
        }
        let mut count = 0;
        while let Some(line) = reader.next_line().expect("reading memory cannot fail") {
            let want = expected[count];
            let want = want.strip_suffix(b"\r").unwrap_or(want);
            count += 1;
            prop_assert_eq!(line.line, count as u64);
            prop_assert_eq!(line.raw, want);
            prop_assert_eq!(line.blank, want.iter().all(u8::is_ascii_whitespace));
        }
        prop_assert_eq!(count, expected.len());
    }

    #[test]
    fn utf16_transcoding_gives_back_every_byte_of_an_even_input(
        units in prop::collection::vec(any::<u16>(), 0..300),
        big in any::<bool>(),
        step in 1usize..16,
    ) {
        let endian = if big { Endian::Big } else { Endian::Little };
        let bytes: Vec<u8> = units
            .iter()
            .flat_map(|&u| if big { u.to_be_bytes() } else { u.to_le_bytes() })
            .collect();
        let utf8 = from_utf16(&bytes, endian);
        prop_assert_eq!(to_utf16(&utf8, endian), bytes.clone());
        let mut streamed = Vec::new();
        Utf16Reader::new(Trickle { bytes: &bytes, step }, endian)
            .read_to_end(&mut streamed)
            .expect("reading memory cannot fail");
        prop_assert_eq!(streamed, utf8);
    }

    #[test]
    fn conversions_are_total_and_write_json_or_nothing(
        text in any::<String>(),
        index in 0..TYPES.len(),
        trim in any::<bool>(),
        lowercase in any::<bool>(),
    ) {
        let mut conversion = Conversion::new(TYPES[index]);
        conversion.trim = trim;
        conversion.lowercase = lowercase;
        let mut out = b"[".to_vec();
        match conversion.text_into(&text, &mut out) {
            Ok(Converted::Written) => {
                out.push(b']');
                let value: serde_json::Value = serde_json::from_slice(&out)
                    .map_err(|e| TestCaseError::fail(format!("{e}: {out:?}")))?;
                prop_assert_eq!(value.as_array().map(Vec::len), Some(1));
            }
            Ok(Converted::Empty) => prop_assert_eq!(out, b"[".to_vec()),
            Err(reason) => {
                prop_assert!(!reason.0.is_empty());
                prop_assert_eq!(out, b"[".to_vec());
            }
        }
        // Keys too: a reason or a key, never a panic.
        let _ = conversion.key_from_text(&text);
    }

    #[test]
    fn a_number_that_converts_keeps_its_spelling(
        negative in any::<bool>(),
        integer in "[1-9][0-9]{0,14}|0",
        fraction in proptest::option::of("[0-9]{1,20}"),
        exponent in proptest::option::of("[eE][+-]?[1-9][0-9]?"),
    ) {
        let mut text = format!("{}{integer}", if negative { "-" } else { "" });
        if let Some(fraction) = fraction {
            text.push('.');
            text.push_str(&fraction);
        }
        if let Some(exponent) = exponent {
            text.push_str(&exponent);
        }
        let mut out = Vec::new();
        let converted = Conversion::new(ValueType::Number).text_into(&text, &mut out);
        prop_assert_eq!(converted, Ok(Converted::Written));
        prop_assert_eq!(String::from_utf8(out).expect("ASCII"), text);
    }

    #[test]
    fn text_comes_back_exactly_as_it_went_in(text in "[^\u{0}]*") {
        let mut out = Vec::new();
        let converted = Conversion::new(ValueType::String).text_into(&text, &mut out);
        if text.is_empty() {
            prop_assert_eq!(converted, Ok(Converted::Empty));
        } else {
            prop_assert_eq!(converted, Ok(Converted::Written));
            let back: String = serde_json::from_slice(&out).expect("a JSON string");
            prop_assert_eq!(back, text);
        }
    }

    #[test]
    fn a_valid_day_becomes_its_iso_date(year in 1000i32..=9999, month in 1u32..=12, day in 1u32..=28) {
        let mut conversion = Conversion::new(ValueType::Date);
        conversion.format = Some("%d/%m/%Y".into());
        let mut out = Vec::new();
        let text = format!("{day:02}/{month:02}/{year}");
        prop_assert_eq!(conversion.text_into(&text, &mut out), Ok(Converted::Written));
        prop_assert_eq!(
            String::from_utf8(out).expect("ASCII"),
            format!("\"{year:04}-{month:02}-{day:02}\"")
        );
    }

    #[test]
    fn every_row_of_a_file_ends_built_rejected_or_blank(rows in prop::collection::vec(row(), 0..40)) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rows.csv");
        let mut text = String::from("email,score\n");
        for row in &rows {
            text.push_str(&row.text());
            text.push('\n');
        }
        std::fs::write(&path, &text).expect("write the input");
        let outcomes = read_file(&path);
        let expected: Vec<(u64, Outcome)> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| (i as u64 + 2, row.outcome()))
            .collect();
        prop_assert_eq!(outcomes, expected);
    }
}

/// One generated CSV row and what must become of it.
#[derive(Debug, Clone)]
enum Row {
    Good(String, u32),
    BadEmail(String),
    BadNumber(String),
    Blank,
}

fn row() -> impl Strategy<Value = Row> {
    prop_oneof![
        ("[a-z]{1,8}", any::<u32>()).prop_map(|(name, n)| Row::Good(name, n)),
        "[a-z]{1,8}".prop_map(Row::BadEmail),
        "[a-z][a-z ,\"]{0,7}".prop_map(Row::BadNumber),
        Just(Row::Blank),
    ]
}

impl Row {
    fn text(&self) -> String {
        match self {
            Row::Good(name, n) => format!("{name}@example.com,{n}"),
            Row::BadEmail(name) => format!("{name},1"),
            Row::BadNumber(junk) => format!("x@example.com,\"{}\"", junk.replace('"', "\"\"")),
            Row::Blank => String::new(),
        }
    }

    fn outcome(&self) -> Outcome {
        match self {
            Row::Good(name, n) => Outcome::Built(format!(
                r#"{{"primary_key":"{name}@example.com","properties":{{"score":{n}}}}}"#
            )),
            Row::BadEmail(_) | Row::BadNumber(_) => Outcome::Rejected,
            Row::Blank => Outcome::Blank,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Built(String),
    Rejected,
    Blank,
}

const ROWS_MAPPING: &str = "[source]\nformat = \"csv\"\n\n\
    [primary_key]\nfrom = \"email\"\ntype = \"email\"\n\n\
    [[property]]\nfrom = \"score\"\nto = \"score\"\ntype = \"number\"\n";

/// Every record of `path` with its line; blank lines get the line after
/// the previous record's.
fn read_file(path: &Path) -> Vec<(u64, Outcome)> {
    let mapping = Mapping::parse(ROWS_MAPPING, Path::new("rows.toml")).expect("valid mapping");
    let Ok(mut input) = source::open(path, &mapping, None, 102_400) else {
        panic!("the generated file opens");
    };
    let mut outcomes = Vec::new();
    let mut next_line = 2;
    let mut visit = |item: Item<'_>| {
        let (line, outcome) = match item {
            Item::Blank => (next_line, Outcome::Blank),
            Item::Built { line, body, .. } => (
                line,
                Outcome::Built(String::from_utf8(body.to_vec()).expect("UTF-8 body")),
            ),
            Item::Rejected { line, .. } => (line, Outcome::Rejected),
        };
        next_line = line + 1;
        outcomes.push((line, outcome));
        ControlFlow::Continue(())
    };
    input
        .read_all(&mut visit, &mut |_| {})
        .expect("reading a file");
    outcomes
}
