//! The dead-letter workflow: rejected rows land with their line and reason,
//! and the same file, fixed, goes back in with the same mapping.

mod common;

use common::{code, dead_letters, import, output_text, Emulator, KEY};

fn live_args<'a>(input: &'a str, mapping: &'a str, url: &'a str, dl: &'a str) -> Vec<&'a str> {
    vec![
        input,
        "--mapping",
        mapping,
        "--api-url",
        url,
        "--api-key",
        KEY,
        "--dead-letter",
        dl,
    ]
}

#[test]
fn rejected_rows_can_be_fixed_and_fed_back_in() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = common::root();
    let input = root.join("fixtures/mailchimp-audience.csv");
    let mapping = root.join("fixtures/mailchimp-audience.toml");
    let (input, mapping) = (
        input.to_str().expect("utf-8"),
        mapping.to_str().expect("utf-8"),
    );
    let first_dl = dir.path().join("first.ndjson");
    let first_dl = first_dl.to_str().expect("utf-8");

    let output = import(&live_args(input, mapping, &emulator.url, first_dl));
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let entries = dead_letters(std::path::Path::new(first_dl));
    let lines: Vec<u64> = entries
        .iter()
        .map(|e| e["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, vec![8, 17]);
    let reason = entries[0]["reason"].as_str().expect("reason");
    assert!(reason.contains("Email Address") && reason.contains("not-an-email.example.org"));
    let reason = entries[1]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("MEMBER_RATING") && reason.contains("five"),
        "{reason}"
    );
    assert!(entries[0]["raw"]
        .as_str()
        .expect("raw")
        .starts_with("not-an-email.example.org,Elif"));
    assert_eq!(emulator.customers().as_object().expect("object").len(), 22);

    // Fix the data in the dead-letter file itself and import it again.
    let fixed = std::fs::read_to_string(first_dl)
        .expect("dead letters")
        .replace("not-an-email.example.org", "elif6@example.org")
        .replace(",five,", ",5,");
    let fixed_path = dir.path().join("fixed.ndjson");
    std::fs::write(&fixed_path, fixed).expect("write fixed file");
    let second_dl = dir.path().join("second.ndjson");
    let output = import(&live_args(
        fixed_path.to_str().expect("utf-8"),
        mapping,
        &emulator.url,
        second_dl.to_str().expect("utf-8"),
    ));
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    assert!(!second_dl.exists(), "no dead letters the second time");
    let customers = emulator.customers();
    assert_eq!(customers.as_object().expect("object").len(), 24);
    assert_eq!(customers["elif6@example.org"]["firstName"], "Elif");
    assert!(customers["elif6@example.org"].get("tags").is_none());
    assert_eq!(customers["ximena15@example.org"]["memberRating"], 5);
}

#[test]
fn a_fixed_entry_that_now_holds_several_records_imports_each_of_them() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("people.csv");
    std::fs::write(
        &input,
        "email,name\na@x.com,\"Ann\nb@x.com,Bob\nc@x.com,Cy\n",
    )
    .expect("write");
    let mapping = dir.path().join("people.toml");
    std::fs::write(
        &mapping,
        concat!(
            "[primary_key]\nfrom = \"email\"\ntype = \"email\"\n\n",
            "[[property]]\nfrom = \"name\"\nto = \"name\"\n"
        ),
    )
    .expect("write");
    let first_dl = dir.path().join("first.ndjson");
    let (input, mapping) = (
        input.to_str().expect("utf-8"),
        mapping.to_str().expect("utf-8"),
    );
    let output = import(&live_args(
        input,
        mapping,
        &emulator.url,
        first_dl.to_str().expect("utf-8"),
    ));
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let entries = dead_letters(&first_dl);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["line"], 2);
    assert_eq!(
        entries[0]["raw"],
        "a@x.com,\"Ann\nb@x.com,Bob\nc@x.com,Cy\n"
    );

    // Remove the stray quote: the entry now holds three records.
    let fixed = std::fs::read_to_string(&first_dl)
        .expect("read")
        .replace("\\\"Ann", "Ann");
    let fixed_path = dir.path().join("fixed.ndjson");
    std::fs::write(&fixed_path, fixed).expect("write");
    let second_dl = dir.path().join("second.ndjson");
    let output = import(&live_args(
        fixed_path.to_str().expect("utf-8"),
        mapping,
        &emulator.url,
        second_dl.to_str().expect("utf-8"),
    ));
    let text = output_text(&output);
    assert_eq!(code(&output), 0, "{text}");
    assert!(text.contains("rows read                3"), "{text}");
    let customers = emulator.customers();
    assert_eq!(customers["a@x.com"]["name"], "Ann");
    assert_eq!(customers["b@x.com"]["name"], "Bob");
    assert_eq!(customers["c@x.com"]["name"], "Cy");
}

#[test]
fn a_re_import_sends_entries_in_the_original_file_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dead_letters = dir.path().join("in.dead-letter.ndjson");
    std::fs::write(
        &dead_letters,
        concat!(
            "{\"dead_letter\":{\"format\":\"csv\",\"delimiter\":\",\",\"encoding\":\"utf-8\",",
            "\"header\":\"id,n\"}}\n",
            "{\"line\":3,\"reason\":\"HTTP 503\",\"raw\":\"X,3\"}\n",
            "{\"line\":2,\"reason\":\"HTTP 503\",\"raw\":\"X,1\"}\n",
            "{\"line\":4,\"reason\":\"fixed\",\"raw\":\"{\\\"id\\\":1}\",\"text\":\"Y,4\"}\n"
        ),
    )
    .expect("write");
    let mapping = dir.path().join("m.toml");
    let toml = "[primary_key]\nfrom = \"id\"\n\n[[property]]\nfrom = \"n\"\nto = \"n\"\n";
    std::fs::write(&mapping, toml).expect("write");
    let emitted = dir.path().join("bodies.ndjson");
    let output = import(&[
        dead_letters.to_str().expect("utf-8"),
        "--mapping",
        mapping.to_str().expect("utf-8"),
        "--dry-run",
        "--dead-letter",
        dir.path().join("again.ndjson").to_str().expect("utf-8"),
        "--emit-requests",
        emitted.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    assert_eq!(
        std::fs::read_to_string(&emitted).expect("bodies"),
        concat!(
            "{\"primary_key\":\"X\",\"properties\":{\"n\":\"1\"}}\n",
            "{\"primary_key\":\"X\",\"properties\":{\"n\":\"3\"}}\n",
            "{\"primary_key\":\"Y\",\"properties\":{\"n\":\"4\"}}\n"
        )
    );
}

#[test]
fn a_utf16_file_keeps_its_bytes_in_dead_letters_and_takes_edited_text_back() {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("temp dir");
    let utf16 =
        |text: &str| -> Vec<u8> { text.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(utf16("email,name\r\na@x.com,Ann\r\nbad,Bö\r\n"));
    let input = dir.path().join("people.csv");
    std::fs::write(&input, bytes).expect("write");
    let mapping = dir.path().join("people.toml");
    let toml = "[primary_key]\nfrom = \"email\"\ntype = \"email\"\n\n\
                [[property]]\nfrom = \"name\"\nto = \"name\"\n";
    std::fs::write(&mapping, toml).expect("write");
    let first = dir.path().join("first.ndjson");
    let run = |input: &std::path::Path, dl: &std::path::Path, emit: &std::path::Path| {
        import(&[
            input.to_str().expect("utf-8"),
            "--mapping",
            mapping.to_str().expect("utf-8"),
            "--dry-run",
            "--dead-letter",
            dl.to_str().expect("utf-8"),
            "--emit-requests",
            emit.to_str().expect("utf-8"),
        ])
    };
    let output = run(&input, &first, &dir.path().join("one.ndjson"));
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let entries = dead_letters(&first);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["line"], 3);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(entries[0]["raw_base64"].as_str().expect("base64"))
        .expect("valid base64");
    assert_eq!(raw, utf16("bad,Bö"));
    assert_eq!(entries[0]["text"], "bad,Bö");

    let fixed = std::fs::read_to_string(&first)
        .expect("read")
        .replace("\"bad,Bö\"", "\"bo@x.com,Bö\"");
    let fixed_path = dir.path().join("fixed.ndjson");
    std::fs::write(&fixed_path, fixed).expect("write");
    let emitted = dir.path().join("two.ndjson");
    let output = run(&fixed_path, &dir.path().join("second.ndjson"), &emitted);
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    assert_eq!(
        std::fs::read_to_string(&emitted).expect("bodies"),
        "{\"primary_key\":\"bo@x.com\",\"properties\":{\"name\":\"Bö\"}}\n"
    );
}

/// Runs an import of `input` with `mapping` and CSV dead letters.
fn csv_dead_letter_run(input: &std::path::Path, mapping: &str, url: &str) -> std::process::Output {
    let input = input.to_str().expect("utf-8");
    let mut args = vec![
        input,
        "--mapping",
        mapping,
        "--api-url",
        url,
        "--api-key",
        KEY,
    ];
    args.extend(["--dead-letter-format", "csv", "--progress", "none"]);
    import(&args)
}

#[test]
fn csv_dead_letters_keep_the_rows_as_read_and_go_back_in_with_their_lines() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mapping = dir.path().join("people.toml");
    std::fs::write(
        &mapping,
        "[source]\ndelimiter = \";\"\n[primary_key]\nfrom = \"email\"\ntype = \"email\"\n\
         [[property]]\nfrom = \"name\"\nto = \"name\"\n\
         [[property]]\nfrom = \"n\"\nto = \"n\"\ntype = \"number\"\n",
    )
    .expect("write mapping");
    let mapping = mapping.to_str().expect("utf-8");
    let input = dir.path().join("people.csv");
    std::fs::write(
        &input,
        "email;name;n\r\na@example.com;\"Smith; Ann\";1\r\nb@example.com;Bob;two\r\n\
         c@example.com;\"Cé \"\"Q\"\"\";x3\r\nd@example.com;Dee;4\r\n",
    )
    .expect("write input");

    let output = csv_dead_letter_run(&input, mapping, &emulator.url);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let dead_letter = dir.path().join("people.dead-letter.csv");
    let written = std::fs::read_to_string(&dead_letter).expect("the CSV dead letters");
    assert_eq!(
        written,
        "email;name;n;_line;_reason\n\
         b@example.com;Bob;two;3;\"column `n`, value `two`: not a number: unexpected `t`\"\n\
         c@example.com;\"Cé \"\"Q\"\"\";x3;4;\"column `n`, value `x3`: not a number: unexpected \
         `x`\"\n"
    );

    // Fix one cell; the other row is still bad and keeps its first line.
    std::fs::write(&dead_letter, written.replace(";two;", ";2;")).expect("fix a cell");
    let output = csv_dead_letter_run(&dead_letter, mapping, &emulator.url);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let again = dir.path().join("people.dead-letter.dead-letter.csv");
    assert_eq!(
        std::fs::read_to_string(&again).expect("the second CSV dead letters"),
        "email;name;n;_line;_reason\n\
         c@example.com;\"Cé \"\"Q\"\"\";x3;4;\"column `n`, value `x3`: not a number: unexpected \
         `x`\"\n"
    );
    std::fs::write(
        &again,
        std::fs::read_to_string(&again)
            .expect("read")
            .replace(";x3;", ";3;"),
    )
    .expect("fix the last cell");
    let output = csv_dead_letter_run(&again, mapping, &emulator.url);
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    assert_eq!(
        emulator.customers(),
        serde_json::json!({
            "a@example.com": {"name": "Smith; Ann", "n": 1},
            "b@example.com": {"name": "Bob", "n": 2},
            "c@example.com": {"name": "Cé \"Q\"", "n": 3},
            "d@example.com": {"name": "Dee", "n": 4},
        })
    );
    // The `_line` and `_reason` columns were never sent.
    for request in emulator.requests() {
        let properties = request["body"]["properties"]
            .as_object()
            .expect("properties");
        assert!(
            properties.keys().all(|k| k == "name" || k == "n"),
            "{request}"
        );
    }
}

#[test]
fn csv_dead_letters_are_refused_for_ndjson_input_and_written_in_utf16_for_utf16() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mapping = dir.path().join("m.toml");
    std::fs::write(
        &mapping,
        "[primary_key]\nfrom = \"email\"\n[[property]]\nfrom = \"n\"\nto = \"n\"\n\
         type = \"number\"\n",
    )
    .expect("write mapping");
    let mapping = mapping.to_str().expect("utf-8");
    let ndjson = dir.path().join("in.ndjson");
    std::fs::write(&ndjson, "{\"email\":\"a@example.com\",\"n\":1}\n").expect("write");
    let output = csv_dead_letter_run(&ndjson, mapping, &emulator.url);
    assert_eq!(code(&output), 2);
    assert!(output_text(&output).contains(&format!(
        "error: --dead-letter-format csv needs CSV input, and {} holds NDJSON records",
        ndjson.display()
    )));

    let utf16 = |text: &str| -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    };
    let input = dir.path().join("wide.csv");
    std::fs::write(&input, utf16("email,n\nå@example.com,x\n")).expect("write");
    let output = csv_dead_letter_run(&input, mapping, &emulator.url);
    assert_eq!(code(&output), 1, "{}", output_text(&output));
    let dead_letter = dir.path().join("wide.dead-letter.csv");
    let expected = "email,n,_line,_reason\nå@example.com,x,2,\"column `n`, value `x`: not a \
                    number: unexpected `x`\"\n";
    assert_eq!(
        std::fs::read(&dead_letter).expect("the CSV dead letters"),
        utf16(expected)
    );
    std::fs::write(&dead_letter, utf16(&expected.replace(",x,", ",7,"))).expect("fix");
    let output = csv_dead_letter_run(&dead_letter, mapping, &emulator.url);
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    assert_eq!(
        emulator.customers(),
        serde_json::json!({"å@example.com": {"n": 7}})
    );
}
