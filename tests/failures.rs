//! Failures that are not about one row stop the run with one message and
//! the contract's exit code; bad mappings stop it before anything is sent.

mod common;

use common::{code, dead_letters, import, output_text, Emulator, KEY};

fn fixture(name: &str) -> String {
    common::root()
        .join("fixtures")
        .join(name)
        .to_str()
        .expect("utf-8")
        .to_string()
}

/// Imports the HubSpot fixture into `url` with `key` and `concurrency`.
fn import_hubspot(
    url: &str,
    key: &str,
    dl: &std::path::Path,
    concurrency: &str,
) -> std::process::Output {
    import(&[
        &fixture("hubspot-contacts.csv"),
        "--mapping",
        &fixture("hubspot-contacts.toml"),
        "--api-url",
        url,
        "--api-key",
        key,
        "--dead-letter",
        dl.to_str().expect("utf-8"),
        "--concurrency",
        concurrency,
    ])
}

#[test]
fn a_wrong_key_stops_at_once_with_exit_3_and_no_dead_letters() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let dl = dir.path().join("dl.ndjson");
    let output = import_hubspot(&emulator.url, "wrong-key-123", &dl, "2");
    let text = output_text(&output);
    assert_eq!(code(&output), 3, "{text}");
    assert!(text.contains("401"), "{text}");
    assert!(text.contains("hint:"), "{text}");
    assert!(
        !text.contains("wrong-key-123"),
        "the key is never printed: {text}"
    );
    assert_eq!(text.matches("error:").count(), 1, "one message: {text}");
    assert!(emulator.requests().len() <= 2, "stopped at once");
    assert!(dead_letters(&dl).is_empty());
}

#[test]
fn a_workspace_without_primary_key_stops_with_exit_3() {
    let emulator = Emulator::start_with(&["--no-primary-key"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let dl = dir.path().join("dl.ndjson");
    let output = import_hubspot(&emulator.url, KEY, &dl, "1");
    let text = output_text(&output);
    assert_eq!(code(&output), 3, "{text}");
    assert!(text.to_lowercase().contains("primary key"), "{text}");
    assert_eq!(emulator.requests().len(), 1);
    assert!(dead_letters(&dl).is_empty());
}

#[test]
fn every_mapping_problem_is_reported_at_once_before_sending() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let mapping = dir.path().join("bad.toml");
    std::fs::write(
        &mapping,
        "[source]\nformat = \"csv\"\n\n[primary_key]\nfrom = \"Email\"\n\n\
         [[property]]\nfrom = \"City\"\nto = \"address.city\"\n\n\
         [[property]]\nfrom = \"Nope\"\nto = \"nope\"\ncolour = \"red\"\n",
    )
    .expect("write mapping");
    let output = import(&[
        &fixture("hubspot-contacts.csv"),
        "--mapping",
        mapping.to_str().expect("utf-8"),
        "--api-url",
        &emulator.url,
        "--api-key",
        KEY,
        "--dead-letter",
        dir.path().join("dl.ndjson").to_str().expect("utf-8"),
    ]);
    let text = output_text(&output);
    assert_eq!(code(&output), 2, "{text}");
    assert!(
        text.contains("bad.toml:9:") && text.contains("address.city"),
        "{text}"
    );
    assert!(
        text.contains("bad.toml:14:") && text.contains("colour"),
        "{text}"
    );
    assert!(emulator.requests().is_empty());
}

#[test]
fn plain_http_to_another_host_is_refused_before_sending() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = import(&[
        &fixture("hubspot-contacts.csv"),
        "--mapping",
        &fixture("hubspot-contacts.toml"),
        "--api-url",
        "http://laudspeaker.invalid/api",
        "--api-key",
        KEY,
        "--dead-letter",
        dir.path().join("dl.ndjson").to_str().expect("utf-8"),
    ]);
    let text = output_text(&output);
    assert_eq!(code(&output), 2, "{text}");
    assert!(text.contains("plain http"), "{text}");
    assert!(!text.contains(KEY), "{text}");
}

#[test]
fn a_web_page_answering_200_is_not_taken_for_the_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("server.toml");
    std::fs::write(
        &script,
        "[[rule]]\nstatus = 200\nbody = '<!doctype html><html></html>'\napply = false\n",
    )
    .expect("write script");
    let emulator = Emulator::start_with(&["--script", script.to_str().expect("utf-8")]);
    let dl = dir.path().join("dl.ndjson");
    let output = import_hubspot(&emulator.url, KEY, &dl, "1");
    let text = output_text(&output);
    assert_eq!(code(&output), 3, "{text}");
    assert!(text.contains("not JSON"), "{text}");
    assert_eq!(emulator.requests().len(), 1);
}
