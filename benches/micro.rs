//! Micro-benchmarks of the hot path, through the library API: the readers
//! (records/s over an in-memory copy of the synthetic export), each
//! conversion type, and request-body building.
//!
//! `cargo bench --bench micro`. divan, not criterion: it builds in a
//! fraction of the time with few dependencies, and its allocation profiler
//! (the global allocator below) prints allocations per iteration, a figure
//! that does not depend on how busy the machine is.

use std::hint::black_box;
use std::path::Path;
use std::sync::LazyLock;

use divan::counter::{BytesCount, ItemsCount};
use divan::{AllocProfiler, Bencher};
use laudspeaker_import::convert::{parse_strict_json, Conversion, ValueType};
use laudspeaker_import::input::csv::{CsvReader, Scratch};
use laudspeaker_import::input::decode::FieldText;
use laudspeaker_import::input::ndjson::NdjsonReader;
use laudspeaker_import::mapping::Mapping;
use laudspeaker_import::transform::BodyBuilder;

#[allow(dead_code)] // the file writer is the end-to-end benchmark's
#[path = "end_to_end/generate.rs"]
mod generate;

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

/// Rows of the in-memory export.
const ROWS: usize = 10_000;

static CSV: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut data = Vec::new();
    generate::write_rows(&mut data, ROWS).expect("writing to memory cannot fail");
    data
});

/// The same records as NDJSON, one object per line, every value a string.
static NDJSON: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut reader = csv::Reader::from_reader(&CSV[..]);
    let header = reader.headers().expect("the export has a header").clone();
    let mut data = Vec::new();
    for record in reader.records() {
        let record = record.expect("the export is valid CSV");
        let object: serde_json::Map<String, serde_json::Value> = header
            .iter()
            .zip(record.iter())
            .map(|(name, value)| (name.to_string(), value.into()))
            .collect();
        serde_json::to_writer(&mut data, &object).expect("writing to memory cannot fail");
        data.push(b'\n');
    }
    data
});

fn main() {
    divan::main();
}

/// CSV records split into fields and checked as UTF-8 text.
#[divan::bench]
fn read_csv(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(ROWS))
        .counter(BytesCount::of_slice(&CSV[..]))
        .bench(|| {
            let mut reader = CsvReader::new(&CSV[..], b',');
            let mut scratch = Scratch::default();
            let mut fields = 0;
            while let Some(record) = reader.next_record().expect("in-memory read") {
                let text = record.fields(FieldText::Utf8, &mut scratch);
                fields += text.expect("valid UTF-8").len();
            }
            fields
        });
}

/// The `csv` crate's read of the same bytes: the ceiling to compare with.
#[divan::bench]
fn read_csv_bare_csv_crate(bencher: Bencher) {
    bencher.counter(ItemsCount::new(ROWS)).bench(|| {
        let mut reader = csv::Reader::from_reader(&CSV[..]);
        let mut record = csv::ByteRecord::new();
        let mut fields = 0;
        while reader
            .read_byte_record(&mut record)
            .expect("in-memory read")
        {
            fields += record.len();
        }
        fields
    });
}

/// NDJSON lines split and parsed as strict JSON (what the importer does
/// with each line before building its body).
#[divan::bench]
fn read_ndjson(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(ROWS))
        .counter(BytesCount::of_slice(&NDJSON[..]))
        .bench(|| {
            let mut reader = NdjsonReader::new(&NDJSON[..]);
            let mut objects = 0;
            while let Some(line) = reader.next_line().expect("in-memory read") {
                objects += usize::from(parse_strict_json(line.raw).is_ok());
            }
            objects
        });
}

/// A conversion rule and cells typical of a CRM export.
fn case(name: &str) -> (Conversion, &'static [&'static str]) {
    let rule = |value_type| Conversion::new(value_type);
    match name {
        "string" => (
            rule(ValueType::String),
            &["Jürgen", "O'Brien", "+1 555 0123456"],
        ),
        "number" => (rule(ValueType::Number), &["12345.67", "-0.5", "007", "1e3"]),
        "boolean" => (rule(ValueType::Boolean), &["true", "no", "Y", "0"]),
        "email" => {
            let rule = Conversion {
                lowercase: true,
                ..rule(ValueType::Email)
            };
            (rule, &["User17@Example.com", " ana.lima@example.org "])
        }
        "date" => (rule(ValueType::Date), &["2015-03-07", "2023-12-31"]),
        "date_with_format" => {
            let rule = Conversion {
                format: Some("%d/%m/%Y".to_string()),
                ..rule(ValueType::Date)
            };
            (rule, &["07/03/2024", "31/12/2023"])
        }
        "datetime" => (
            rule(ValueType::Datetime),
            &["2024-11-02T10:20:30Z", "2024-11-02 10:20:30.5+02:00"],
        ),
        "array" => {
            let rule = Conversion {
                separator: ";".to_string(),
                ..rule(ValueType::Array)
            };
            (rule, &["vip;newsletter", "webinar; beta ;vip", ""])
        }
        "json" => (
            rule(ValueType::Json),
            &[r#"{"plan":"pro","seats":[1,2,{"x":null}]}"#],
        ),
        other => unreachable!("no conversion case {other}"),
    }
}

const TYPES: [&str; 9] = [
    "string",
    "number",
    "boolean",
    "email",
    "date",
    "date_with_format",
    "datetime",
    "array",
    "json",
];

/// One CSV cell converted and written into a body, per type.
#[divan::bench(args = TYPES)]
fn convert(bencher: Bencher, name: &str) {
    let (rule, cells) = case(name);
    let mut out = Vec::with_capacity(4096);
    bencher
        .counter(ItemsCount::new(cells.len()))
        .bench_local(|| {
            out.clear();
            for cell in cells {
                let converted = rule.text_into(black_box(cell), &mut out);
                black_box(converted.expect("a valid sample cell"));
            }
            out.len()
        });
}

/// A builder for the synthetic export's mapping and header.
fn builder() -> BodyBuilder {
    let mapping = Mapping::parse(generate::MAPPING, Path::new("crm.toml"))
        .expect("the benchmark mapping is valid");
    let header: Vec<String> = generate::HEADER.split(',').map(String::from).collect();
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    let binding = mapping
        .bind_header(&names)
        .expect("the mapping fits the header");
    BodyBuilder::for_csv(&mapping, &binding, &header, 102_400)
}

/// One request body built from one row of twelve fields.
#[divan::bench]
fn build_body(bencher: Bencher) {
    let mut builder = builder();
    let mut reader = CsvReader::new(&CSV[..], b',');
    let _header = reader.next_record().expect("in-memory read");
    let record = reader
        .next_record()
        .expect("in-memory read")
        .expect("a first row");
    let mut scratch = Scratch::default();
    let fields = record
        .fields(FieldText::Utf8, &mut scratch)
        .expect("valid UTF-8");
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        let built = builder.csv(black_box(&fields)).expect("a valid row");
        built.body.len()
    });
}

/// Read and build every row: the dry run's work without the process.
#[divan::bench]
fn read_and_build(bencher: Bencher) {
    let mut builder = builder();
    bencher.counter(ItemsCount::new(ROWS)).bench_local(|| {
        let mut reader = CsvReader::new(&CSV[..], b',');
        let mut scratch = Scratch::default();
        let _header = reader.next_record().expect("in-memory read");
        let mut bytes = 0;
        while let Some(record) = reader.next_record().expect("in-memory read") {
            let fields = record
                .fields(FieldText::Utf8, &mut scratch)
                .expect("valid UTF-8");
            bytes += builder.csv(&fields).map_or(0, |built| built.body.len());
        }
        bytes
    });
}
