//! Warnings for what no single row shows: a mapping path no record holds,
//! and rows that a later re-import of the dead-letter file would undo.

mod common;

use common::{code, import, output_text};

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_string()
}

#[test]
fn a_key_path_that_no_record_holds_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = write(
        dir.path(),
        "in.ndjson",
        "{\"traits\":{\"email\":\"a@x.com\",\"name\":\"Ann\"}}\n{\"traits\":{\"email\":\"b@x.com\"}}\n",
    );
    let mapping = write(
        dir.path(),
        "m.toml",
        "[primary_key]\nfrom = \"traits.email\"\n\n[[property]]\nfrom = \"traits.nmae\"\nto = \"name\"\n",
    );
    let dl = dir.path().join("dl.ndjson");
    let output = import(&[
        &input,
        "--mapping",
        &mapping,
        "--dry-run",
        "--dead-letter",
        dl.to_str().expect("utf-8"),
    ]);
    let text = output_text(&output);
    assert_eq!(code(&output), 0, "{text}");
    assert!(
        text.contains("warning: key `traits.nmae` was in none of the 2 records"),
        "{text}"
    );
}

#[test]
fn rows_after_a_dead_lettered_row_of_the_same_customer_are_counted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = write(
        dir.path(),
        "in.csv",
        "email,age\nu1@x.com,old\nu2@x.com,2\nu1@x.com,3\nu1@x.com,4\n",
    );
    let mapping = write(
        dir.path(),
        "m.toml",
        "[primary_key]\nfrom = \"email\"\n\n[[property]]\nfrom = \"age\"\nto = \"age\"\ntype = \"number\"\n",
    );
    let dl = dir.path().join("dl.ndjson");
    let output = import(&[
        &input,
        "--mapping",
        &mapping,
        "--dry-run",
        "--dead-letter",
        dl.to_str().expect("utf-8"),
    ]);
    let text = output_text(&output);
    assert_eq!(code(&output), 1, "{text}");
    assert!(
        text.contains("warning: 2 rows were accepted after an earlier row"),
        "{text}"
    );
}
