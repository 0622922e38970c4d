//! Inputs as people bring them: other encodings and delimiters, gzip and
//! zstd, standard input, several files in one run. Every input is written
//! here by the test; each import goes into a real emulator over loopback
//! and the stored customers are compared value for value.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{code, dead_letters, import, output_text, Emulator, KEY};
use serde_json::{json, Value};

/// A folder with the test's inputs and mappings, and an emulator.
struct Bench {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Self {
        Bench {
            emulator: Emulator::start(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write a test file");
        path
    }

    fn path(&self, name: &str) -> String {
        text(&self.dir.path().join(name))
    }

    /// Imports `inputs` with `mapping` into the emulator; `extra` is added.
    fn import(&self, inputs: &[&str], mapping: &str, extra: &[&str]) -> Output {
        let mapping = self.path(mapping);
        let mut args: Vec<&str> = inputs.to_vec();
        args.extend([
            "--mapping",
            &mapping,
            "--api-url",
            &self.emulator.url,
            "--api-key",
            KEY,
            "--progress",
            "none",
        ]);
        args.extend(extra);
        import(&args)
    }

    fn customers(&self) -> Value {
        self.emulator.customers()
    }
}

fn text(path: &Path) -> String {
    path.to_str().expect("utf-8 temp path").to_string()
}

/// A mapping of `email` (key), `name` and `n` (a number).
fn mapping(source: &str) -> String {
    format!(
        "[source]\n{source}\n\n[primary_key]\nfrom = \"email\"\ntype = \"email\"\n\n\
         [[property]]\nfrom = \"name\"\nto = \"name\"\n\n\
         [[property]]\nfrom = \"n\"\nto = \"n\"\ntype = \"number\"\n"
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in text.encode_utf16() {
        let pair = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        bytes.extend(pair);
    }
    bytes
}

/// The summary count named `label` ("rows read", "upserted", ...).
fn count(output: &Output, label: &str) -> u64 {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|line| line.starts_with(label))
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{stderr}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count on {line:?}"))
}

#[test]
fn legacy_encodings_and_utf16_import_value_for_value() {
    let bench = Bench::new();
    // Excel's "CSV (semicolon)" in Windows-1252, CRLF line ends.
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(
        "email;name;n\r\nzoe@example.com;Zoë Müller – “Café”;1\r\nal@example.com;Ålborg;2\r\n",
    );
    bench.write("excel.csv", &cp1252);
    let m = mapping("encoding = \"windows-1252\"\ndelimiter = \";\"");
    bench.write("excel.toml", m.as_bytes());
    // UTF-16 LE and BE, decided by their byte order marks alone.
    let body = "email,name,n\nle@example.com,Łódź ☃,3\n";
    bench.write("le.csv", &utf16(body, false));
    let body = "email,name,n\nbe@example.com,日本語,4\n";
    bench.write("be.csv", &utf16(body, true));
    bench.write("plain.toml", mapping("format = \"csv\"").as_bytes());
    // A label that is neither UTF nor windows-1252.
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("email,name,n\nsj@example.com,山田太郎,5\n");
    bench.write("sjis.csv", &sjis);
    bench.write("sjis.toml", mapping("encoding = \"shift_jis\"").as_bytes());
    let (latin2, _, _) = encoding_rs::ISO_8859_2.encode("email,name,n\npl@example.com,Żółć,6\n");
    bench.write("latin2.csv", &latin2);
    bench.write(
        "latin2.toml",
        mapping("encoding = \"iso-8859-2\"").as_bytes(),
    );

    for (input, mapping) in [
        ("excel.csv", "excel.toml"),
        ("le.csv", "plain.toml"),
        ("be.csv", "plain.toml"),
        ("sjis.csv", "sjis.toml"),
        ("latin2.csv", "latin2.toml"),
    ] {
        let output = bench.import(&[&bench.path(input)], mapping, &[]);
        assert_eq!(code(&output), 0, "{input}: {}", output_text(&output));
    }
    assert_eq!(
        bench.customers(),
        json!({
            "zoe@example.com": {"name": "Zoë Müller – “Café”", "n": 1},
            "al@example.com": {"name": "Ålborg", "n": 2},
            "le@example.com": {"name": "Łódź ☃", "n": 3},
            "be@example.com": {"name": "日本語", "n": 4},
            "sj@example.com": {"name": "山田太郎", "n": 5},
            "pl@example.com": {"name": "Żółć", "n": 6},
        })
    );
}

#[test]
fn tab_pipe_and_compressed_inputs_import_value_for_value() {
    let bench = Bench::new();
    bench.write("tabs.tsv", b"email\tname\tn\nt@example.com\tTab, Inc\t1\n");
    bench.write("pipes.csv", b"email|name|n\np@example.com|Pipe; Co|2\n");
    bench.write("pipes.toml", mapping("delimiter = \"|\"").as_bytes());
    bench.write("plain.toml", mapping("encoding = \"utf-8\"").as_bytes());
    bench.write("gz.csv.gz", &gzip(b"email,name,n\ng@example.com,Gzip,3\n"));
    bench.write(
        "tabs2.tsv.gz",
        &gzip(b"email\tname\tn\ngt@example.com\tGzipped tabs\t4\n"),
    );
    let ndjson = b"{\"email\":\"z@example.com\",\"name\":\"Zstd\",\"n\":5}\n";
    bench.write("z.ndjson.zst", &zstd(ndjson));
    // Compressed, but named as plain: the magic bytes decide.
    bench.write(
        "hidden.csv",
        &gzip(b"email,name,n\nh@example.com,Hidden,6\n"),
    );

    for (input, mapping) in [
        ("tabs.tsv", "plain.toml"),
        ("pipes.csv", "pipes.toml"),
        ("gz.csv.gz", "plain.toml"),
        ("tabs2.tsv.gz", "plain.toml"),
        ("z.ndjson.zst", "plain.toml"),
        ("hidden.csv", "plain.toml"),
    ] {
        let output = bench.import(&[&bench.path(input)], mapping, &[]);
        assert_eq!(code(&output), 0, "{input}: {}", output_text(&output));
        assert_eq!(count(&output, "rows read"), 1, "{input}");
    }
    assert_eq!(
        bench.customers(),
        json!({
            "t@example.com": {"name": "Tab, Inc", "n": 1},
            "p@example.com": {"name": "Pipe; Co", "n": 2},
            "g@example.com": {"name": "Gzip", "n": 3},
            "gt@example.com": {"name": "Gzipped tabs", "n": 4},
            "z@example.com": {"name": "Zstd", "n": 5},
            "h@example.com": {"name": "Hidden", "n": 6},
        })
    );
}

#[test]
fn a_header_in_another_delimiter_stops_before_sending() {
    let bench = Bench::new();
    bench.write("semi.csv", b"email;name;n\na@example.com;A;1\n");
    bench.write("plain.toml", mapping("delimiter = \",\"").as_bytes());
    let output = bench.import(&[&bench.path("semi.csv")], "plain.toml", &[]);
    assert_eq!(code(&output), 2, "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!(
        "error: {}:1: the header is one single column when read with the delimiter `,`, \
         and it holds `;`: the file seems to use `;`\nhint: set `delimiter = \";\"` under \
         [source] in the mapping\n",
        bench.path("semi.csv")
    );
    assert_eq!(stderr, expected);
    assert!(bench.emulator.requests().is_empty());
    // A tab-separated file read as CSV says so too.
    bench.write("tabs.csv", b"email\tname\tn\na@example.com\tA\t1\n");
    let output = bench.import(&[&bench.path("tabs.csv")], "plain.toml", &[]);
    assert_eq!(code(&output), 2);
    assert!(output_text(&output).contains("the file seems to use a tab"));
    // One real column with a comma inside quotes is not a stop.
    bench.write("one.csv", b"\"email, work\"\na@example.com\n");
    let m = "[source]\ndelimiter = \";\"\n[primary_key]\nfrom = \"email, work\"\n";
    bench.write("one.toml", m.as_bytes());
    let output = bench.import(&[&bench.path("one.csv")], "one.toml", &[]);
    assert_eq!(code(&output), 0, "{}", output_text(&output));
}

#[test]
fn a_cut_gzip_file_stops_naming_the_file_with_earlier_rows_handled() {
    let bench = Bench::new();
    let mut rows = String::from("email,name,n\n");
    for i in 0..3000 {
        rows.push_str(&format!("c{i}@example.com,Customer {i},{i}\n"));
    }
    let whole = gzip(rows.as_bytes());
    let cut = &whole[..whole.len() / 2];
    let input = bench.write("cut.csv.gz", cut);
    bench.write("plain.toml", mapping("format = \"csv\"").as_bytes());
    let output = bench.import(&[&text(&input)], "plain.toml", &[]);
    assert_eq!(code(&output), 3, "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = format!(
        "error: reading {}: the gzip data is cut short or damaged after {} compressed bytes (",
        text(&input),
        cut.len()
    );
    assert!(stderr.contains(&message), "{stderr}");
    // The rows before the cut were read and delivered, and say so.
    let read = count(&output, "rows read");
    let upserted = count(&output, "upserted");
    assert!(read > 0 && read < 3000, "{stderr}");
    assert_eq!(upserted, read);
    let stored = bench.customers();
    assert_eq!(stored.as_object().expect("object").len() as u64, upserted);
    assert_eq!(
        stored["c0@example.com"],
        json!({"name": "Customer 0", "n": 0})
    );
}

#[test]
fn dead_letters_of_a_compressed_input_hold_the_rows_and_go_back_in() {
    let bench = Bench::new();
    let input = bench.write(
        "in.csv.gz",
        &gzip(b"email,name,n\na@example.com,A,1\nb@example.com,B,two\n"),
    );
    bench.write("plain.toml", mapping("format = \"csv\"").as_bytes());
    let output = bench.import(&[&text(&input)], "plain.toml", &[]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    // Named after the file under its .gz, beside it.
    let dead_letter = bench.dir.path().join("in.dead-letter.ndjson");
    let entries = dead_letters(&dead_letter);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["line"], 3);
    assert_eq!(entries[0]["raw"], "b@example.com,B,two");
    let fixed = std::fs::read_to_string(&dead_letter)
        .expect("dead letters")
        .replace("B,two", "B,2");
    let fixed_path = bench.write("fixed.ndjson", fixed.as_bytes());
    let output = bench.import(&[&text(&fixed_path)], "plain.toml", &[]);
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    assert_eq!(
        bench.customers(),
        json!({"a@example.com": {"name": "A", "n": 1}, "b@example.com": {"name": "B", "n": 2}})
    );
}

/// Runs `import -` with `stdin` fed to it, in `dir`.
fn import_stdin(bench: &Bench, stdin: &[u8], extra: &[&str]) -> Output {
    let mapping = bench.path("plain.toml");
    let mut child = Command::new(common::bin())
        .current_dir(bench.dir.path())
        .args(["import", "-", "--mapping", &mapping, "--api-url"])
        .args([&bench.emulator.url, "--api-key", KEY, "--progress", "none"])
        .args(extra)
        .env_remove("LAUDSPEAKER_API_KEY")
        .env_remove("LAUDSPEAKER_API_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the importer");
    let mut pipe = child.stdin.take().expect("piped stdin");
    // The importer may stop before reading everything: a broken pipe is
    // then expected.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().expect("wait for the importer")
}

#[test]
fn standard_input_needs_a_format_and_dead_letters_land_here() {
    let bench = Bench::new();
    bench.write("plain.toml", mapping("encoding = \"utf-8\"").as_bytes());
    let rows = b"email,name,n\na@example.com,A,1\nb@example.com,B,x\n";
    let output = import_stdin(&bench, rows, &[]);
    assert_eq!(code(&output), 2);
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: reading standard input (`-`) needs its format\nhint: pass --format csv or \
         --format ndjson, or set `format` under [source]\n"
    );
    let output = import_stdin(&bench, &gzip(rows), &["--format", "csv"]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let entries = dead_letters(&bench.dir.path().join("stdin.dead-letter.ndjson"));
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["line"], 3);
    assert_eq!(entries[0]["raw"], "b@example.com,B,x");
    assert_eq!(
        bench.customers(),
        json!({"a@example.com": {"name": "A", "n": 1}})
    );
}

#[test]
fn several_inputs_share_one_run_in_order_with_a_dead_letter_file_each() {
    let bench = Bench::new();
    std::fs::create_dir(bench.dir.path().join("exports")).expect("mkdir");
    std::fs::create_dir(bench.dir.path().join("rejected")).expect("mkdir");
    bench.write(
        "exports/1.csv",
        b"email,name,n\nsame@example.com,First,1\nbad@example.com,Bad,x\n",
    );
    bench.write(
        "exports/2.csv.gz",
        &gzip(b"email,name,n\nsame@example.com,Second,2\nother@example.com,O,3\n"),
    );
    bench.write(
        "exports/3.csv",
        b"email,name,n\n\nsame@example.com,Third,y\n",
    );
    bench.write("plain.toml", mapping("format = \"csv\"").as_bytes());
    let pattern = bench.path("exports/*.csv*");
    let rejected = bench.path("rejected");

    // A pattern that matches nothing, and one file for several inputs,
    // stop before anything is sent.
    let none = bench.path("exports/*.ndjson");
    let output = bench.import(&[&pattern, &none], "plain.toml", &[]);
    assert_eq!(code(&output), 2);
    assert!(output_text(&output).contains(&format!("error: no file matches `{none}`")));
    let one_file = bench.path("all.ndjson");
    let output = bench.import(&[&pattern], "plain.toml", &["--dead-letter", &one_file]);
    assert_eq!(code(&output), 2);
    assert!(output_text(&output).contains("names one file, but there are 3 inputs"));
    assert!(bench.emulator.requests().is_empty());

    let output = bench.import(&[&pattern], "plain.toml", &["--dead-letter", &rejected]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = |name: &str, counts: &str| format!("{}: {counts}", bench.path(name));
    let dead = |name: &str| bench.path(&format!("rejected/{name}.dead-letter.ndjson"));
    for expected in [
        line(
            "exports/1.csv",
            &format!(
                "2 read, 1 upserted, 1 dead-lettered, 0 skipped blank -> {}",
                dead("1")
            ),
        ),
        line(
            "exports/2.csv.gz",
            "2 read, 2 upserted, 0 dead-lettered, 0 skipped blank",
        ),
        line(
            "exports/3.csv",
            &format!(
                "2 read, 0 upserted, 1 dead-lettered, 1 skipped blank -> {}",
                dead("3")
            ),
        ),
    ] {
        assert!(
            stderr.lines().any(|l| l == expected),
            "{expected}\n{stderr}"
        );
    }
    assert_eq!(count(&output, "rows read"), 6);
    assert_eq!(count(&output, "upserted"), 3);
    assert_eq!(count(&output, "dead-lettered"), 2);
    assert_eq!(count(&output, "skipped blank"), 1);
    let first = dead_letters(Path::new(&dead("1")));
    assert_eq!((first.len(), &first[0]["line"]), (1, &json!(3)));
    let third = dead_letters(Path::new(&dead("3")));
    assert_eq!((third.len(), &third[0]["line"]), (1, &json!(3)));
    assert!(!Path::new(&dead("2")).exists());
    // The later file's row of the same customer came last.
    assert_eq!(
        bench.customers(),
        json!({
            "same@example.com": {"name": "Second", "n": 2},
            "other@example.com": {"name": "O", "n": 3},
        })
    );
    let order: Vec<Value> = bench
        .emulator
        .requests()
        .iter()
        .filter(|r| r["body"]["primary_key"] == "same@example.com")
        .map(|r| r["body"]["properties"]["name"].clone())
        .collect();
    assert_eq!(order, [json!("First"), json!("Second")]);
}
