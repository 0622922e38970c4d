//! Warnings for what no single row shows: a mapping path no record holds,
//! and rows that a later re-import of the dead-letter file would undo.

mod common;

use common::{code, import, output_text};

/// A dry run of `input` (named `file`) with `mapping`: exit code and output.
fn dry_run(file: &str, input: &str, mapping: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let input_path = dir.path().join(file);
    let mapping_path = dir.path().join("m.toml");
    std::fs::write(&input_path, input).expect("write input");
    std::fs::write(&mapping_path, mapping).expect("write mapping");
    let dead_letter = dir.path().join("dl.ndjson");
    let output = import(&[
        input_path.to_str().expect("utf-8"),
        "--mapping",
        mapping_path.to_str().expect("utf-8"),
        "--dry-run",
        "--dead-letter",
        dead_letter.to_str().expect("utf-8"),
    ]);
    (code(&output), output_text(&output))
}

#[test]
fn a_key_path_that_no_record_holds_is_named() {
    let (code, text) = dry_run(
        "in.ndjson",
        concat!(
            "{\"traits\":{\"email\":\"a@x.com\",\"name\":\"Ann\"}}\n",
            "{\"traits\":{\"email\":\"b@x.com\"}}\n"
        ),
        concat!(
            "[primary_key]\nfrom = \"traits.email\"\n\n",
            "[[property]]\nfrom = \"traits.nmae\"\nto = \"name\"\n"
        ),
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("warning: key `traits.nmae` was in none of the 2 records"),
        "{text}"
    );
}

#[test]
fn rows_after_a_dead_lettered_row_of_the_same_customer_are_counted() {
    let (code, text) = dry_run(
        "in.csv",
        "email,age\nu1@x.com,old\nu2@x.com,2\nu1@x.com,3\nu1@x.com,4\n",
        concat!(
            "[primary_key]\nfrom = \"email\"\n\n",
            "[[property]]\nfrom = \"age\"\nto = \"age\"\ntype = \"number\"\n"
        ),
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("warning: 2 rows were accepted after an earlier row"),
        "{text}"
    );
}
