//! The bundled fixtures imported into the emulator, compared value for
//! value with what the files say.

mod common;

use common::{code, dead_letters, import, output_text, Emulator, KEY};
use serde_json::{json, Value};

fn run_fixture(emulator: &Emulator, name: &str, dir: &std::path::Path) -> std::process::Output {
    let root = common::root();
    let input = root.join(format!("fixtures/{name}"));
    let mapping = input.with_extension("toml");
    let dead_letter = dir.join("dl.ndjson");
    import(&[
        input.to_str().expect("utf-8 path"),
        "--mapping",
        mapping.to_str().expect("utf-8 path"),
        "--api-url",
        &emulator.url,
        "--api-key",
        KEY,
        "--dead-letter",
        dead_letter.to_str().expect("utf-8 path"),
        "--concurrency",
        "4",
    ])
}

fn customer<'a>(customers: &'a Value, key: &str) -> &'a Value {
    customers
        .get(key)
        .unwrap_or_else(|| panic!("no customer {key}"))
}

#[test]
fn hubspot_contacts_arrive_with_every_value_converted() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run_fixture(&emulator, "hubspot-contacts.csv", dir.path());
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    let customers = emulator.customers();
    assert_eq!(customers.as_object().expect("object").len(), 40);
    let bruno = customer(&customers, "bruno.hakansson1@example.com");
    assert_eq!(
        bruno,
        &json!({
            "email": "bruno.hakansson1@example.com",
            "hubspotId": "90001",
            "firstName": "Bruno",
            "lastName": "Håkansson",
            "lifecycleStage": "lead",
            "hubspotCreatedAt": "2023-02-02T06:07:00Z",
            "lastActivity": "2024-02-02",
            "annualRevenue": 520.37,
            "employees": 308,
            "emailOptOut": true,
            "city": "München",
            "postalCode": "07104",
            "company": "Umbrella \"Bio\" Corp",
            "importSource": "hubspot-export"
        })
    );
    // Upper-case key lowercased; empty company cleared (null removes it).
    let dmitri = customer(&customers, "dmitri.vasquez3@example.com");
    assert_eq!(dmitri["email"], "dmitri.vasquez3@example.com");
    assert_eq!(dmitri["phone"], "+1 (555) 745-2013");
    assert_eq!(dmitri["hubspotCreatedAt"], "2023-04-04T07:21:00Z");
    assert!(dmitri.get("company").is_none());
    assert!(dmitri.get("employees").is_none());
    // Padded key trimmed by the email rule; quoted comma kept.
    let fatima = customer(&customers, "fatima.jansen5@example.com");
    assert_eq!(fatima["company"], "Acme, Inc.");
    assert_eq!(fatima["emailOptOut"], false);
    assert_eq!(fatima["city"], "Malmö");
    assert!(dead_letters(&dir.path().join("dl.ndjson")).is_empty());
}

#[test]
fn segment_identify_traits_nest_and_keep_their_types() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run_fixture(&emulator, "segment-identify.ndjson", dir.path());
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    let customers = emulator.customers();
    assert_eq!(customers.as_object().expect("object").len(), 30);
    let ana = customer(&customers, "ana.seg0@example.net");
    assert_eq!(
        ana,
        &json!({
            "email": "ana.seg0@example.net",
            "segmentUserId": "usr_1000",
            "name": "Ana Almeida",
            "company": {"name": "Acme", "employees": 403},
            "companySize": 403,
            "logins": 226,
            "signedUpAt": "2020-12-31T22:15:00Z",
            "betaTester": true
        })
    );
    let text = output_text(&output);
    assert!(text.contains("skipped blank"), "{text}");
}

#[test]
fn a_dry_run_sends_nothing_and_emits_the_exact_bodies() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = common::root();
    let emitted = dir.path().join("bodies.ndjson");
    let output = import(&[
        root.join("fixtures/hubspot-contacts.csv")
            .to_str()
            .expect("utf-8"),
        "--mapping",
        root.join("fixtures/hubspot-contacts.toml")
            .to_str()
            .expect("utf-8"),
        "--dead-letter",
        dir.path().join("dl.ndjson").to_str().expect("utf-8"),
        "--dry-run",
        "--emit-requests",
        emitted.to_str().expect("utf-8"),
    ]);
    assert_eq!(code(&output), 0, "{}", output_text(&output));
    assert!(emulator.requests().is_empty());
    let text = std::fs::read_to_string(&emitted).expect("emitted bodies");
    let bodies: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(bodies.len(), 40);
    assert_eq!(
        bodies[0],
        json!({"primary_key": "ana.almeida0@example.com", "properties": {
            "hubspotId": "90000", "firstName": "Ana", "lastName": "Almeida",
            "lifecycleStage": "subscriber", "hubspotCreatedAt": "2023-01-01T05:00:00Z",
            "emailOptOut": true, "city": "Lisboa", "postalCode": "02186", "company": null,
            "importSource": "hubspot-export", "email": "ana.almeida0@example.com"}})
    );
}
