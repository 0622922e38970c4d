//! `on_error`: a refused value rejects its row (the default), or, with
//! `drop_property`, the row is sent without it and the warnings file says
//! what was left out. Exact bodies, exact warnings, exact counts.

mod common;

use common::{code, dead_letters, import, output_text, Emulator, KEY};
use serde_json::{json, Value};

const MAPPING: &str = r#"[source]
format = "csv"

[defaults]
on_error = "drop_property"

[primary_key]
from = "email"
type = "email"

[[property]]
from = "name"
to = "name"

[[property]]
from = "age"
to = "age"
type = "number"

[[property]]
from = "since"
to = "since"
type = "date"
on_error = "reject_row"
"#;

const ROWS: &str = "email,name,age,since\n\
a@example.com,A,30,2024-01-02\n\
b@example.com,B,old,2024-01-03\n\
c@example.com,C,40,yesterday\n\
not-an-email,D,50,2024-01-04\n\
e@example.com,E,x,2024-13-01\n";

#[test]
fn dropped_properties_are_left_out_and_listed() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("people.csv");
    let mapping = dir.path().join("people.toml");
    std::fs::write(&input, ROWS).expect("write input");
    std::fs::write(&mapping, MAPPING).expect("write mapping");
    let text = |p: &std::path::Path| p.to_str().expect("utf-8").to_string();
    let output = import(&[
        &text(&input),
        "--mapping",
        &text(&mapping),
        "--api-url",
        &emulator.url,
        "--api-key",
        KEY,
        "--progress",
        "none",
        "--concurrency",
        "1",
    ]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let bodies: Vec<Value> = emulator
        .requests()
        .into_iter()
        .map(|request| request["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({"primary_key": "a@example.com",
                   "properties": {"name": "A", "age": 30, "since": "2024-01-02"}}),
            json!({"primary_key": "b@example.com",
                   "properties": {"name": "B", "since": "2024-01-03"}}),
        ]
    );
    let warnings = std::fs::read_to_string(dir.path().join("people.warnings.ndjson"))
        .expect("the warnings file");
    assert_eq!(
        warnings,
        "{\"line\":3,\"column\":\"age\",\"attribute\":\"age\",\"value\":\"old\",\
         \"reason\":\"not a number: unexpected `o`\"}\n"
    );
    let dead: Vec<u64> = dead_letters(&dir.path().join("people.dead-letter.ndjson"))
        .iter()
        .map(|entry| entry["line"].as_u64().expect("line"))
        .collect();
    // A bad key and a reject_row value reject their rows; so does a row
    // whose dropped value comes with a rejected one.
    assert_eq!(dead, [4, 5, 6]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("sent with drops          1  (1 properties dropped; see the warnings file)"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!(
        "1 dropped properties are listed in {}",
        dir.path().join("people.warnings.ndjson").display()
    )));
}

#[test]
fn without_drops_no_warnings_file_and_an_unknown_choice_is_a_mapping_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("people.csv");
    std::fs::write(&input, "email,age\na@example.com,30\n").expect("write input");
    let mapping = dir.path().join("people.toml");
    let text = |p: &std::path::Path| p.to_str().expect("utf-8").to_string();
    let bad = MAPPING.replace("on_error = \"reject_row\"", "on_error = \"skip\"");
    std::fs::write(&mapping, bad).expect("write mapping");
    let output = import(&[&text(&input), "--mapping", &text(&mapping), "--dry-run"]);
    assert_eq!(code(&output), 2);
    assert!(
        output_text(&output).contains(
            "people.toml:24: `on_error = \"skip\"` is not one of: reject_row, drop_property"
        ),
        "{}",
        output_text(&output)
    );
    // The default mapping never creates a warnings file, even with drops
    // that would have happened.
    let plain = "[primary_key]\nfrom = \"email\"\n[[property]]\nfrom = \"age\"\nto = \"age\"\n\
                 type = \"number\"\n";
    std::fs::write(&mapping, plain).expect("write mapping");
    std::fs::write(&input, "email,age\na@example.com,old\n").expect("write input");
    let output = import(&[&text(&input), "--mapping", &text(&mapping), "--dry-run"]);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    assert!(!dir.path().join("people.dry-run.warnings.ndjson").exists());
    assert!(!dir.path().join("people.warnings.ndjson").exists());
}
