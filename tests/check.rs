//! `check FILE --mapping M`: the profile's exact values on a bundled
//! fixture, its JSON form, and its verdict equal to a dry run's on every
//! fixture and every shared case that needs no server.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{bin, code, dead_letters, import, output_text, root, shared};
use serde_json::Value;

fn check(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("check")
        .args(args)
        .output()
        .expect("run check")
}

const MAILCHIMP_TABLE: &str = "\
check fixtures/mailchimp-audience.csv with fixtures/mailchimp-audience.toml

rows read                       24
would be sent                   22  one upsert request each
would be dead-lettered           2  primary_key 1, value 1
skipped blank                    0

column         attribute            type           empty  failures
Email Address  (primary key) email  email         0 (0%)         1
First Name     firstName            string        0 (0%)         0
Last Name      lastName             string        0 (0%)         0
Address        address              string     8 (33.3%)         0
Phone Number   phone                string    12 (50.0%)         0
Birthday       birthday             string     6 (25.0%)         0
MEMBER_RATING  memberRating         number        0 (0%)         1
OPTIN_TIME     optedInAt            datetime      0 (0%)         0
TIMEZONE       timezone             string        0 (0%)         0
TAGS           tags                 array      4 (16.7%)         0

conversion failures (first examples):
  Email Address  line 8: `not-an-email.example.org`: not an email address: no `@`
  MEMBER_RATING  line 17: `five`: not a number: unexpected `f`

duplicate primary keys: none
";

#[test]
fn mailchimp_fixture_profile_names_its_two_bad_rows() {
    let out = Command::new(bin())
        .current_dir(root())
        .args(["check", "fixtures/mailchimp-audience.csv"])
        .args(["--mapping", "fixtures/mailchimp-audience.toml"])
        .output()
        .expect("run check");
    assert_eq!(String::from_utf8_lossy(&out.stdout), MAILCHIMP_TABLE);
    assert_eq!(code(&out), 1);
}

#[test]
fn json_profile_carries_the_same_values() {
    let csv = root().join("fixtures/mailchimp-audience.csv");
    let toml = root().join("fixtures/mailchimp-audience.toml");
    let out = check(&[path(&csv), "-m", path(&toml), "--json"]);
    assert_eq!(code(&out), 1);
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["rows_read"], 24);
    assert_eq!(report["requests"], 22);
    assert_eq!(report["dead_lettered"], 2);
    assert_eq!(
        report["dead_lettered_by_kind"],
        serde_json::json!({"primary_key": 1, "value": 1})
    );
    let key = &report["columns"][0];
    assert_eq!(
        key,
        &serde_json::json!({
            "from": "Email Address", "to": "email", "primary_key": true, "type": "email",
            "rows": 24, "empty": 0, "failures": 1,
            "examples": [{"line": 8, "value": "not-an-email.example.org",
                          "reason": "not an email address: no `@`"}]
        })
    );
    let rating = &report["columns"][6];
    assert_eq!(rating["from"], "MEMBER_RATING");
    assert_eq!(rating["examples"][0]["line"], 17);
    assert_eq!(
        report["duplicate_keys"],
        serde_json::json!({"keys": 0, "extra_rows": 0, "top": [],
                           "tracked_limit": 10_000_000, "complete": true})
    );
}

#[test]
fn duplicate_keys_are_counted_as_the_server_compares_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("d.csv");
    std::fs::write(
        &csv,
        "email,n\na@x.io,1\nb@x.io,2\n A@X.IO,3\na@x.io,4\nb@x.io,5\nc@x.io,6\n",
    )
    .expect("write");
    let toml = dir.path().join("d.toml");
    let mapping = "[primary_key]\nfrom = \"email\"\ntype = \"email\"\nlowercase = true\n";
    std::fs::write(&toml, mapping).expect("write");
    let out = check(&[path(&csv), "-m", path(&toml), "--json"]);
    assert_eq!(code(&out), 0, "{}", output_text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(
        report["duplicate_keys"],
        serde_json::json!({"keys": 2, "extra_rows": 3,
                           "top": [{"key": "a@x.io", "rows": 3}, {"key": "b@x.io", "rows": 2}],
                           "tracked_limit": 10_000_000, "complete": true})
    );
}

#[test]
fn a_bad_mapping_is_exit_2() {
    let csv = root().join("fixtures/mailchimp-audience.csv");
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = dir.path().join("bad.toml");
    std::fs::write(&toml, "[primary_key]\nfrom = \"Nope\"\n").expect("write");
    let out = check(&[path(&csv), "-m", path(&toml)]);
    assert_eq!(code(&out), 2);
    assert!(output_text(&out).contains("column \"Nope\" is not in the CSV header"));
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// check's dead-letter count and exit code against `import --dry-run`.
fn same_verdict(input: &Path, mapping: &Path) {
    let dir = tempfile::tempdir().expect("temp dir");
    let dead = dir.path().join("dead.ndjson");
    let dry = import(&[
        path(input),
        "--mapping",
        path(mapping),
        "--dry-run",
        "--dead-letter",
        path(&dead),
        "-q",
    ]);
    let profiled = check(&[path(input), "-m", path(mapping), "--json"]);
    assert_eq!(code(&profiled), code(&dry), "{}", input.display());
    if code(&dry) == 2 {
        return;
    }
    let report: Value = serde_json::from_slice(&profiled.stdout).expect("one JSON object");
    let entries = dead_letters(&dead);
    assert_eq!(
        report["dead_lettered"],
        entries.len(),
        "{}",
        input.display()
    );
    for entry in &entries {
        let kind = entry["kind"].as_str().expect("kind");
        assert!(report["dead_lettered_by_kind"][kind].as_u64() >= Some(1));
    }
}

#[test]
fn verdicts_equal_the_dry_runs_on_fixtures_and_shared_cases() {
    for name in [
        "hubspot-contacts.csv",
        "mailchimp-audience.csv",
        "segment-identify.ndjson",
    ] {
        let input = root().join("fixtures").join(name);
        same_verdict(&input, &input.with_extension("toml"));
    }
    let mut cases = 0;
    for entry in std::fs::read_dir(shared().join("cases")).expect("the shared cases") {
        let case = entry.expect("readable entry").path();
        if !case.join("mapping.toml").is_file() || case.join("server.toml").is_file() {
            continue;
        }
        let input = ["input.csv", "input.ndjson"]
            .map(|name| case.join(name))
            .into_iter()
            .find(|input| input.is_file())
            .expect("every case has an input");
        same_verdict(&input, &case.join("mapping.toml"));
        cases += 1;
    }
    assert!(cases >= 18, "only {cases} cases");
}
