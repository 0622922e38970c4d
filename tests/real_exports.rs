//! Real third-party exports (`../shared/real`, each folder described by its
//! SOURCE.md) imported into the emulator over loopback with the mappings in
//! `fixtures/real-mappings/`.
//!
//! For every file: the exit code; a summary whose counts add up to the
//! records in the file; exactly one customer per distinct primary key among
//! the rows upserted (the keys read here from the file itself, not from the
//! importer); the exact dead-letter entries when some rows are genuinely
//! bad; and a few customers compared value for value with what the file
//! says, the expected values written out by hand.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{code, dead_letters, import, output_text, Emulator, KEY};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use serde_json::{json, Map, Value};

/// The real exports; in CI the crate sits beside `shared/`.
const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/real/");

// ---------------------------------------------------------------------------
// Running an import

/// One emulator and a folder for dead-letter files; several imports may go
/// into the same workspace.
struct Workspace {
    emulator: Emulator,
    dir: tempfile::TempDir,
}

/// What one import printed and rejected.
struct Run {
    output: Output,
    counts: Counts,
    dead: Vec<Value>,
}

/// The counts of the summary printed on stderr.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    read: u64,
    upserted: u64,
    dead_lettered: u64,
    skipped_blank: u64,
}

impl Workspace {
    fn new() -> Self {
        Workspace {
            emulator: Emulator::start(),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Imports `file` (under `shared/real`) with `fixtures/real-mappings/<mapping>.toml`.
    fn import(&self, file: &str, mapping: &str) -> Run {
        self.import_with(file, &mapping_path(mapping))
    }

    /// Imports `file` (under `shared/real`) with the mapping file `mapping`.
    fn import_with(&self, file: &str, mapping: &Path) -> Run {
        let input = format!("{REAL}{file}");
        let dead_letter = self
            .dir
            .path()
            .join(format!("{}.dead-letter.ndjson", file.replace('/', "_")));
        let output = import(&[
            &input,
            "--mapping",
            utf8(mapping),
            "--api-url",
            &self.emulator.url,
            "--api-key",
            KEY,
            "--dead-letter",
            utf8(&dead_letter),
            "--concurrency",
            "16",
            "--progress",
            "none",
        ]);
        let counts = summary(&output);
        let mut dead = dead_letters(&dead_letter);
        dead.sort_by_key(|entry| entry["line"].as_u64());
        Run {
            output,
            counts,
            dead,
        }
    }

    /// What the emulator stores: primary key -> attributes.
    fn customers(&self) -> Map<String, Value> {
        match self.emulator.customers() {
            Value::Object(customers) => customers,
            other => panic!("customers is not an object: {other}"),
        }
    }
}

fn mapping_path(name: &str) -> PathBuf {
    common::root().join(format!("fixtures/real-mappings/{name}.toml"))
}

/// A variant of mapping `name`, written into the workspace: `line` (the
/// whole line) replaced by `with`.
fn mapping_variant(workspace: &Workspace, name: &str, line: &str, with: &str) -> PathBuf {
    let text = std::fs::read_to_string(mapping_path(name)).expect("read the mapping");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&line), "{name} has no line {line:?}");
    let changed: Vec<&str> = lines
        .into_iter()
        .map(|l| if l == line { with } else { l })
        .collect();
    let path = workspace.dir.path().join(format!("{name}-variant.toml"));
    std::fs::write(&path, changed.join("\n")).expect("write the mapping variant");
    path
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Reads the summary lines `rows read`, `upserted`, `dead-lettered` and
/// `skipped blank` from stderr.
fn summary(output: &Output) -> Counts {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let count = |label: &str| {
        stderr
            .lines()
            .find_map(|line| line.strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("no `{label}` count in the summary:\n{stderr}"))
    };
    Counts {
        read: count("rows read"),
        upserted: count("upserted"),
        dead_lettered: count("dead-lettered"),
        skipped_blank: count("skipped blank"),
    }
}

// ---------------------------------------------------------------------------
// Checks

/// Exit 0, every record upserted, nothing dead-lettered.
fn assert_all_upserted(run: &Run, records: u64) {
    let text = output_text(&run.output);
    assert_eq!(code(&run.output), 0, "{text}");
    assert_eq!(
        run.counts,
        Counts {
            read: records,
            upserted: records,
            dead_lettered: 0,
            skipped_blank: 0
        },
        "{text}"
    );
    assert!(run.dead.is_empty(), "{:#?}", run.dead);
}

/// Exit 1, `dead` records dead-lettered and every other one upserted.
fn assert_partly_dead_lettered(run: &Run, records: u64, dead: u64) {
    let text = output_text(&run.output);
    assert_eq!(code(&run.output), 1, "{text}");
    assert_eq!(
        run.counts,
        Counts {
            read: records,
            upserted: records - dead,
            dead_lettered: dead,
            skipped_blank: 0
        },
        "{text}"
    );
    let c = &run.counts;
    assert_eq!(c.read, c.upserted + c.dead_lettered + c.skipped_blank);
    assert_eq!(run.dead.len() as u64, dead, "{:#?}", run.dead);
}

/// One dead-letter entry: where, what was in the file, and a reason that
/// names each of `names` (the column, the value or the fault).
fn assert_dead_letter(entry: &Value, line: u64, raw: &str, names: &[&str]) {
    assert_eq!(entry["line"], line, "{entry:#}");
    assert_eq!(entry["raw"], raw, "{entry:#}");
    let reason = entry["reason"].as_str().expect("a reason");
    for name in names {
        assert!(reason.contains(name), "{reason:?} does not name {name:?}");
    }
}

/// The emulator holds exactly one customer per key of `keys`.
fn assert_customers_are(customers: &Map<String, Value>, keys: &BTreeSet<String>) {
    let held: BTreeSet<&String> = customers.keys().collect();
    assert_eq!(customers.len(), keys.len());
    assert!(
        held.iter().copied().eq(keys.iter()),
        "stored keys differ from the file's"
    );
}

/// The customer `key` has exactly the attributes `expected`.
fn assert_customer(customers: &Map<String, Value>, key: &str, expected: Value) {
    let actual = customers
        .get(key)
        .unwrap_or_else(|| panic!("no customer {key:?}"));
    assert!(
        same(actual, &expected),
        "customer {key:?}\n  holds    {actual}\n  expected {expected}"
    );
}

/// JSON equality with numbers compared by value: the importer sends a
/// number with the digits of its source (`6.0E7`, `0.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------
// Reading the files independently of the importer

/// The file decoded as UTF-8, or as UTF-16 when it starts with that BOM;
/// a BOM is removed.
fn text(file: &str) -> String {
    text_in(file, UTF_8)
}

fn text_in(file: &str, encoding: &'static Encoding) -> String {
    let bytes = std::fs::read(format!("{REAL}{file}")).expect("read the real export");
    let (text, _, malformed) = encoding.decode(&bytes);
    assert!(!malformed, "{file} is not valid {}", encoding.name());
    text.into_owned()
}

/// Column `name` of a CSV text: each record's line and cell.
fn column(text: &str, delimiter: u8, name: &str) -> Vec<(u64, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let index = headers
        .iter()
        .position(|header| header == name)
        .unwrap_or_else(|| panic!("no column {name:?} in {headers:?}"));
    reader
        .records()
        .map(|record| {
            let record = record.expect("a well-formed record");
            let line = record.position().expect("a position").line();
            (line, record[index].to_string())
        })
        .collect()
}

/// The primary keys of a string column, as they are.
fn ids(cells: &[(u64, String)]) -> BTreeSet<String> {
    cells.iter().map(|(_, cell)| cell.clone()).collect()
}

/// The primary keys of an email column: trimmed, lower-cased, empty ones
/// left out (they are never upserted).
fn emails(cells: &[(u64, String)]) -> BTreeSet<String> {
    cells
        .iter()
        .map(|(_, cell)| cell.trim().to_lowercase())
        .filter(|key| !key.is_empty())
        .collect()
}

/// The JSON objects of an NDJSON text.
fn ndjson(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

/// The value at a dotted key path (`customer.customerEmail`).
fn at<'a>(object: &'a Value, path: &str) -> &'a Value {
    object
        .pointer(&format!("/{}", path.replace('.', "/")))
        .unwrap_or(&Value::Null)
}

/// Line `number` (1-based) of a text, without its line terminator.
fn line(text: &str, number: u64) -> &str {
    text.lines()
        .nth(number as usize - 1)
        .expect("the line exists")
}

// ---------------------------------------------------------------------------
// datablist (Faker) customers and people

#[test]
fn datablist_customers_1000_with_a_utf8_bom_arrive_whole() {
    let file = "datablist-customers/customers-1000.csv";
    let workspace = Workspace::new();
    // `Index`, mapped, is the first header: behind the BOM in the file.
    let run = workspace.import(file, "datablist-customers");
    assert_all_upserted(&run, 1000);
    let customers = workspace.customers();
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "Customer Id")));
    assert_customer(
        &customers,
        "dE014d010c7ab0c",
        json!({
            "customerId": "dE014d010c7ab0c", "datablistIndex": 1,
            "firstName": "Andrew", "lastName": "Goodman", "company": "Stewart-Flynn",
            "city": "Rowlandberg", "country": "Macao",
            "phone": "846-790-4623x4715", "phone2": "(422)787-2331x71127",
            "email": "marieyates@gomez-spencer.info", "subscribedOn": "2021-07-26",
            "website": "http://www.shea.biz/"
        }),
    );
    assert_customer(
        &customers,
        "2B54172c8b65eC3",
        json!({
            "customerId": "2B54172c8b65eC3", "datablistIndex": 2,
            "firstName": "Alvin", "lastName": "Lane", "company": "Terry, Proctor and Lawrence",
            "city": "Bethside", "country": "Papua New Guinea",
            "phone": "124-597-8652x05682", "phone2": "321.441.0588x6218",
            "email": "alexandra86@mccoy.com", "subscribedOn": "2021-06-24",
            "website": "http://www.pena-cole.com/"
        }),
    );
    assert_customer(
        &customers,
        "51732B5b2328015",
        json!({
            "customerId": "51732B5b2328015", "datablistIndex": 1000,
            "firstName": "Dominic", "lastName": "Duran", "company": "Durham LLC",
            "city": "East Wendy", "country": "British Indian Ocean Territory (Chagos Archipelago)",
            "phone": "+1-278-758-4331", "phone2": "814-860-0941x057",
            "email": "owarner@velasquez.info", "subscribedOn": "2021-12-09",
            "website": "http://www.cox.com/"
        }),
    );
}

#[test]
fn customers_10000_then_their_excel_resave_update_the_same_10000_customers() {
    let pristine = "datablist-customers/customers-10000.csv";
    let resaved = "datablist-customers-excel-resaved/customers-10000.csv";
    let workspace = Workspace::new();
    let run = workspace.import(pristine, "datablist-customers");
    assert_all_upserted(&run, 10_000);
    let customers = workspace.customers();
    let keys = ids(&column(&text(pristine), b',', "Customer Id"));
    assert_customers_are(&customers, &keys);
    let heather = json!({
        "customerId": "EB54EF1154C3A78", "datablistIndex": 1,
        "firstName": "Heather", "lastName": "Callahan", "company": "Mosley-David",
        "city": "Lake Jeffborough", "country": "Norway",
        "phone": "043-797-5229", "phone2": "915.112.1727",
        "email": "urangel@espinoza-francis.net", "subscribedOn": "2020-08-26",
        "website": "http://www.escobar.org/"
    });
    assert_customer(&customers, "EB54EF1154C3A78", heather.clone());
    assert_customer(
        &customers,
        "10dAcafEBbA5FcA",
        json!({
            "customerId": "10dAcafEBbA5FcA", "datablistIndex": 2,
            "firstName": "Kristina", "lastName": "Ferrell", "company": "Horn, Shepard and Watson",
            "city": "Aaronville", "country": "Andorra",
            "phone": "932-062-1802", "phone2": "(209)172-7124x3651",
            "email": "xreese@hall-donovan.com", "subscribedOn": "2020-04-27",
            "website": "https://tyler-pugh.info/"
        }),
    );
    assert_customer(
        &customers,
        "9903e8fF4D8Ff0F",
        json!({
            "customerId": "9903e8fF4D8Ff0F", "datablistIndex": 10000,
            "firstName": "Melissa", "lastName": "Montgomery", "company": "Burns-Holden",
            "city": "Sparkstown", "country": "Tunisia",
            "phone": "+1-889-682-9490x65400", "phone2": "423.632.2539x98740",
            "email": "ngallagher@martinez.com", "subscribedOn": "2020-06-27",
            "website": "http://nixon.net/"
        }),
    );

    // The same customers again, mangled by Excel: updated, not duplicated.
    let run = workspace.import(resaved, "datablist-customers-excel");
    assert_all_upserted(&run, 10_000);
    let customers = workspace.customers();
    assert_eq!(ids(&column(&text(resaved), b',', "Customer Id")), keys);
    assert_customers_are(&customers, &keys);
    // 8/26/2020 read by its format is the date the pristine file says.
    assert_customer(&customers, "EB54EF1154C3A78", heather);
    // +1-313-882-4167 was evaluated by Excel as a sum: -5361, kept as text.
    assert_customer(
        &customers,
        "E1CDEaC63fDd5aA",
        json!({
            "customerId": "E1CDEaC63fDd5aA", "datablistIndex": 6,
            "firstName": "Trevor", "lastName": "Lee", "company": "Maddox Group",
            "city": "Lake Madelineburgh", "country": "Senegal",
            "phone": "+1-134-348-0265x9132", "phone2": "-5361",
            "email": "briangriffin@chang.org", "subscribedOn": "2021-08-13",
            "website": "https://www.roberts.com/"
        }),
    );
    // 0676998498 lost its leading zero in Excel.
    assert_customer(
        &customers,
        "eB6f6648A7A0BD1",
        json!({
            "customerId": "eB6f6648A7A0BD1", "datablistIndex": 546,
            "firstName": "Carrie", "lastName": "Nielsen", "company": "Ingram, Brady and Simpson",
            "city": "Rebekahmouth", "country": "South Georgia and the South Sandwich Islands",
            "phone": "676998498", "phone2": "001-775-546-6228",
            "email": "pkelly@lindsey-barr.info", "subscribedOn": "2020-07-17",
            "website": "https://flynn.org/"
        }),
    );
}

#[test]
fn datablist_people_keep_their_ids_and_birth_dates() {
    let file = "datablist-customers/people-1000.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "datablist-people");
    assert_all_upserted(&run, 1000);
    let customers = workspace.customers();
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "User Id")));
    assert_customer(
        &customers,
        "8717bbf45cCDbEe",
        json!({
            "userId": "8717bbf45cCDbEe", "datablistIndex": 1,
            "firstName": "Shelia", "lastName": "Mahoney", "sex": "Male",
            "email": "pwarner@example.org", "phone": "857.139.8239",
            "birthDate": "2014-01-27", "jobTitle": "Probation officer"
        }),
    );
    assert_customer(
        &customers,
        "3d5AD30A4cD38ed",
        json!({
            "userId": "3d5AD30A4cD38ed", "datablistIndex": 2,
            "firstName": "Jo", "lastName": "Rivers", "sex": "Female",
            "email": "fergusonkatherine@example.net", "phone": "+1-950-759-8687",
            "birthDate": "1931-07-26", "jobTitle": "Dancer"
        }),
    );
    assert_customer(
        &customers,
        "8b756f6231DDC6e",
        json!({
            "userId": "8b756f6231DDC6e", "datablistIndex": 1000,
            "firstName": "Lee", "lastName": "Tran", "sex": "Female",
            "email": "deannablack@example.org", "phone": "079.752.5424x67259",
            "birthDate": "1947-01-24", "jobTitle": "Nurse, learning disability"
        }),
    );
}

// ---------------------------------------------------------------------------
// CRM and marketing-tool exports

#[test]
fn hubspot_labelled_contacts_arrive_with_sparse_columns_left_out() {
    let file = "hubspot-dummy/hubspot_contacts.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "hubspot-dummy");
    assert_all_upserted(&run, 950);
    let customers = workspace.customers();
    assert_customers_are(&customers, &emails(&column(&text(file), b',', "Email")));
    assert_customer(
        &customers,
        "anna72@example.net",
        json!({
            "email": "anna72@example.net",
            "hubspotContactId": "CONT-03a4142c-188d-4855-ae0e-951b7f32137e",
            "firstName": "Francisco", "lastName": "Small",
            "phone": "416-810-9897x752", "mobilePhone": "(376)694-9481x10051",
            "jobTitle": "Youth worker", "lifecycleStage": "Lead", "leadStatus": "In Progress",
            "hubspotCreatedOn": "2024-08-18", "hubspotModifiedOn": "2025-01-28",
            "ownerEmail": "dwight.schrute@example.com", "leadSource": "Direct Traffic",
            "website": "https://wallace.com/", "street": "64642 Brianna Forges",
            "city": "Kevinborough", "state": "GU", "postalCode": "06652", "country": "Ghana",
            "companyDomain": "freeman.net"
        }),
    );
    // Lead status, website and company domain are empty: not sent at all.
    assert_customer(
        &customers,
        "sherry54@example.net",
        json!({
            "email": "sherry54@example.net",
            "hubspotContactId": "CONT-41eb4c68-19f7-400e-8c25-7d9497da7111",
            "firstName": "Laura", "lastName": "Smith",
            "phone": "913.249.5790", "mobilePhone": "808-988-6965x92622",
            "jobTitle": "Dealer", "lifecycleStage": "Other",
            "hubspotCreatedOn": "2022-05-12", "hubspotModifiedOn": "2025-03-14",
            "ownerEmail": "michael.scott@example.com", "leadSource": "Other Campaigns",
            "street": "6303 Avery Lane", "city": "West Crystaltown", "state": "AL",
            "postalCode": "44313", "country": "Tokelau"
        }),
    );
}

#[test]
fn laudspeakers_own_sample_file_arrives_whole() {
    let file = "laudspeaker-fixtures/example.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "laudspeaker-example");
    assert_all_upserted(&run, 10);
    let customers = workspace.customers();
    assert_customers_are(&customers, &emails(&column(&text(file), b',', "email")));
    assert_customer(
        &customers,
        "emcdougle0@about.me",
        json!({
            "email": "emcdougle0@about.me", "exampleRow": 1,
            "firstName": "Erika", "lastName": "McDougle", "phone": "889-278-2322",
            "gender": "Female", "ipAddress": "80.52.25.231"
        }),
    );
    assert_customer(
        &customers,
        "gmendenhall7@princeton.edu",
        json!({
            "email": "gmendenhall7@princeton.edu", "exampleRow": 8,
            "firstName": "Gav", "lastName": "Mendenhall", "phone": "255-191-6177",
            "gender": "Male", "ipAddress": "210.211.154.87"
        }),
    );
}

#[test]
fn laudspeaker_correctness_fixture_keeps_booleans_numbers_and_dates_typed() {
    let file = "laudspeaker-fixtures/correctness_testing.csv";
    let workspace = Workspace::new();
    // No final line break after the last record: it is read all the same.
    let run = workspace.import(file, "laudspeaker-correctness");
    assert_all_upserted(&run, 41);
    let customers = workspace.customers();
    assert_customers_are(&customers, &emails(&column(&text(file), b',', "email")));
    assert_customer(
        &customers,
        "testing+1@laudspeaker.com",
        json!({
            "email": "testing+1@laudspeaker.com", "userId": 492, "name": "Bose",
            "memberRegisteredAt": "2019-10-19T17:11:20Z", "isDeleted": false,
            "recentApplicationDate": "2019-12-12", "applicationsLast3Months": 0,
            "recentRepaymentAmount": 578000, "recentRepaymentCount": 1,
            "incomeType": "EMPLOYED", "ownsCar": true, "creditScore": 785,
            "creditScoreDate": "2021-12-15", "creditScoreChange": 0,
            "billOrgNames": "[]", "source": "A", "revolvingAmount": 0
        }),
    );
    assert_customer(
        &customers,
        "testing+18@laudspeaker.com",
        json!({
            "email": "testing+18@laudspeaker.com", "userId": 384, "name": "Tae-Hyun",
            "memberRegisteredAt": "2022-02-03T06:18:33Z", "isDeleted": true,
            "recentApplicationDate": "2022-05-18", "applicationsLast3Months": 2,
            "recentRepaymentAmount": 35884, "recentRepaymentCount": 2,
            "incomeType": "EMPLOYED", "ownsCar": false, "creditScore": 605,
            "creditScoreDate": "2022-05-23", "creditScoreChange": 0,
            "billOrgNames": "[a]", "source": "C", "revolvingAmount": 0
        }),
    );
    // The one row with an empty name: the attribute is left out.
    assert_customer(
        &customers,
        "testing+69@laudspeaker.com",
        json!({
            "email": "testing+69@laudspeaker.com", "userId": 967,
            "memberRegisteredAt": "2022-05-07T14:24:45Z", "isDeleted": true,
            "recentApplicationDate": "2022-08-12", "applicationsLast3Months": 6,
            "recentRepaymentAmount": 26398, "recentRepaymentCount": 3,
            "incomeType": "FREELANCER", "ownsCar": false, "creditScore": 615,
            "creditScoreDate": "2022-08-12", "creditScoreChange": 0,
            "billOrgNames": "[]", "source": "B", "revolvingAmount": 0
        }),
    );
}

#[test]
fn laudspeaker_segment_fixture_trims_the_padded_phone_and_leaves_empty_ones_out() {
    let file = "laudspeaker-fixtures/3-customers-for-segemnt.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "laudspeaker-3-customers");
    assert_all_upserted(&run, 3);
    let customers = workspace.customers();
    assert_customers_are(&customers, &emails(&column(&text(file), b',', "email")));
    assert_customer(
        &customers,
        "ilighton0@deviantart.com",
        json!({
            "email": "ilighton0@deviantart.com", "fixtureRow": 1, "firstName": "Igor",
            "lastName": "Lighton", "gender": "Male", "ipAddress": "106.156.20.3",
            "phone": "+18327156365"
        }),
    );
    assert_customer(
        &customers,
        "lkleimt2@nifty.com",
        json!({
            "email": "lkleimt2@nifty.com", "fixtureRow": 3, "firstName": "Leif",
            "lastName": "Kleimt", "gender": "Non-binary", "ipAddress": "36.69.203.134"
        }),
    );
}

#[test]
fn laudspeaker_empty_fixture_imports_no_customer() {
    let file = "laudspeaker-fixtures/empty-customers-for-segemnt.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "laudspeaker-empty");
    let text = output_text(&run.output);
    assert_eq!(code(&run.output), 0, "{text}");
    assert_eq!(run.counts.upserted, 0, "{text}");
    assert_eq!(run.counts.dead_lettered, 0, "{text}");
    assert!(run.dead.is_empty());
    assert!(workspace.customers().is_empty());
    assert!(workspace.emulator.requests().is_empty());
}

#[test]

fn laudspeaker_empty_fixture_counts_its_blank_line_as_read_and_skipped() {
    let file = "laudspeaker-fixtures/empty-customers-for-segemnt.csv";
    let workspace = Workspace::new();
    // Line 2 is a blank line (`...ip_address\n\n`). A blank line in the
    // middle of a CSV file, and one at the end of an NDJSON file, count as
    // read and skipped; here the summary says 0 and 0.
    let run = workspace.import(file, "laudspeaker-empty");
    assert_eq!(code(&run.output), 0, "{}", output_text(&run.output));
    assert_eq!(
        run.counts,
        Counts {
            read: 1,
            upserted: 0,
            dead_lettered: 0,
            skipped_blank: 1
        },
        "{}",
        output_text(&run.output)
    );
}

#[test]
fn salesforce_accounts_in_windows_1252_arrive_with_their_accents() {
    let file = "salesforce-dataloader/accountData.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "salesforce-accounts");
    assert_all_upserted(&run, 423);
    let customers = workspace.customers();
    let keys = ids(&column(&text_in(file, WINDOWS_1252), b',', "ID"));
    assert_customers_are(&customers, &keys);
    // Byte 0xBA is `º` in Windows-1252.
    assert_customer(
        &customers,
        "001x0000002xLDJAA2",
        json!({
            "salesforceId": "001x0000002xLDJAA2", "isDeleted": false,
            "companyName": "Recall Information Management, S. A.",
            "billingStreet": "00045844 c/ San Romualdo, 26 5º", "billingCity": "MADRID",
            "billingPostalCode": "28037", "billingCountry": "ES",
            "salesforceOwnerId": "005x0000000fNSiAAM",
            "salesforceCreatedAt": "2006-04-15T03:23:15Z",
            "salesforceModifiedAt": "2006-04-15T03:28:54Z", "oracleId": "4-206126"
        }),
    );
    // Byte 0xE9 is `é`.
    assert_customer(
        &customers,
        "001x0000002xLDgAAM",
        json!({
            "salesforceId": "001x0000002xLDgAAM", "isDeleted": false,
            "companyName": "Crédito Inmobiliario Terras",
            "billingStreet": "00049124 ALEJANDRO DUMAS 103-PH, POLANCO",
            "billingCity": "MEXICO", "billingState": "DISTRITO FEDERAL",
            "billingPostalCode": "11560", "billingCountry": "MX",
            "salesforceOwnerId": "005x0000000fNSiAAM",
            "salesforceCreatedAt": "2006-04-15T03:23:28Z",
            "salesforceModifiedAt": "2006-04-15T03:28:55Z", "oracleId": "4-206491"
        }),
    );
    // Revenue in scientific notation; no Oracle id in this row.
    assert_customer(
        &customers,
        "001x0000002lBtoAAE",
        json!({
            "salesforceId": "001x0000002lBtoAAE", "isDeleted": false,
            "companyName": "Acme", "accountType": "Prospect",
            "billingStreet": "1350 Charleston Rd.", "billingCity": "New York",
            "billingState": "NY", "billingPostalCode": "31345", "billingCountry": "USA",
            "shippingStreet": "1350 Charleston Rd.", "shippingCity": "New York",
            "shippingState": "NY", "shippingPostalCode": "31345", "shippingCountry": "USA",
            "phone": "(212) 961-7500", "fax": "(212) 961-7300",
            "website": "http://www.acme.com/", "industry": "Manufacturing",
            "annualRevenue": 84_800_000_000_u64, "employees": 68000, "ownership": "Public",
            "tickerSymbol": "ACC",
            "description": "Acme Inc. (NYSE: ACME) is one of America's largest and \
                best-performing multi-industry companies. Headquartered in  New York, Acme \
                ranks 164th on the FORTUNE 500 list of largest U.S. companies.",
            "rating": "Warm", "salesforceOwnerId": "005x0000000fNSiAAM",
            "salesforceCreatedAt": "2005-11-22T19:36:11Z",
            "salesforceModifiedAt": "2005-11-22T19:36:11Z"
        }),
    );
}

#[test]
fn salesforce_bom_table_reads_the_same_in_utf8_utf16le_and_utf16be() {
    for file in [
        "salesforce-dataloader/csvtext_BOM_UTF16LE.csv",
        "salesforce-dataloader/csvtext_BOM_UTF16BE.csv",
        "salesforce-dataloader/csvtext_BOM_UTF8.csv",
    ] {
        let workspace = Workspace::new();
        let run = workspace.import(file, "salesforce-csvtext-bom");
        assert_all_upserted(&run, 2);
        let customers = workspace.customers();
        assert_customers_are(&customers, &ids(&column(&text(file), b',', "column1")));
        assert_customer(
            &customers,
            "row1-1",
            json!({"column2": "row1-2", "column3": "row1-3"}),
        );
        assert_customer(
            &customers,
            "row2-1",
            json!({"column2": "row2-2", "column3": "row2-3"}),
        );
    }
}

#[test]
fn salesforce_accounts_read_without_their_encoding_dead_letter_only_the_accented_rows() {
    let file = "salesforce-dataloader/accountData.csv";
    let workspace = Workspace::new();
    let mapping = mapping_variant(
        &workspace,
        "salesforce-accounts",
        "encoding = \"windows-1252\"",
        "",
    );
    let run = workspace.import_with(file, &mapping);
    // Read as UTF-8 (the default), the four rows holding a Windows-1252 byte
    // (0xBA `º`, 0xE9 `é`) are not text: nothing is guessed or replaced.
    assert_partly_dead_lettered(&run, 423, 4);
    let bytes = std::fs::read(format!("{REAL}{file}")).expect("read the real export");
    let raw_lines: Vec<&[u8]> = bytes.split(|byte| *byte == b'\n').collect();
    let bad = [
        (72, "`BILLINGSTREET`"),
        (87, "`NAME`"),
        (361, "`BILLINGSTREET`"),
        (375, "`NAME`"),
    ];
    for (entry, (number, column)) in run.dead.iter().zip(bad) {
        assert_eq!(entry["line"], number, "{entry:#}");
        assert_eq!(entry["kind"], "encoding", "{entry:#}");
        let raw = STANDARD.encode(raw_lines[number as usize - 1]);
        assert_eq!(entry["raw_base64"], raw.as_str(), "{entry:#}");
        let reason = entry["reason"].as_str().expect("a reason");
        assert!(
            reason.contains(column) && reason.contains("utf-8"),
            "{reason}"
        );
    }
    let customers = workspace.customers();
    let lines: Vec<u64> = bad.iter().map(|(line, _)| *line).collect();
    let upserted: Vec<(u64, String)> = column(&text_in(file, WINDOWS_1252), b',', "ID")
        .into_iter()
        .filter(|(line, _)| !lines.contains(line))
        .collect();
    assert_customers_are(&customers, &ids(&upserted));
    assert_customer(
        &customers,
        "001x0000002xLCVAA2",
        json!({
            "salesforceId": "001x0000002xLCVAA2", "isDeleted": false,
            "companyName": "Gravity Investments",
            "billingStreet": "00045742 150 Palmer Drive", "billingCity": "FORT COLLINS",
            "billingState": "CO", "billingPostalCode": "80525", "billingCountry": "US",
            "salesforceOwnerId": "005x0000000fNSiAAM",
            "salesforceCreatedAt": "2006-04-15T03:23:15Z",
            "salesforceModifiedAt": "2006-04-15T03:28:53Z", "oracleId": "4-203974"
        }),
    );
}

#[test]
fn salesforce_key_wrapped_in_ideographic_spaces_is_one_customer_under_the_trimmed_key() {
    let file = "salesforce-dataloader/upsertAccountSmallTemplate.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "salesforce-upsert-template");
    assert_all_upserted(&run, 10);
    let customers = workspace.customers();
    let keys: BTreeSet<String> = column(&text(file), b',', "ORACLE_ID__C")
        .iter()
        .map(|(_, cell)| cell.trim().to_string())
        .collect();
    assert!(keys.contains("1-000000"));
    assert_customers_are(&customers, &keys);
    assert_customer(
        &customers,
        "1-000001",
        json!({
            "oracleId": "1-000001", "name": "account Upsert #1", "accountType": "Account",
            "phone": "415-555-0001", "accountNumber": "ACCT_1",
            "website": "http://www.accountUpsert1.com", "annualRevenue": 1000
        }),
    );
    assert_customer(
        &customers,
        "1-000009",
        json!({
            "oracleId": "1-000009", "name": "account Upsert #9", "accountType": "Account",
            "phone": "415-555-0009", "accountNumber": "ACCT_9",
            "website": "http://www.accountUpsert9.com", "annualRevenue": 9000
        }),
    );
}

#[test]

fn salesforce_key_wrapped_in_ideographic_spaces_sets_the_key_attribute_trimmed() {
    let file = "salesforce-dataloader/upsertAccountSmallTemplate.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "salesforce-upsert-template");
    assert_all_upserted(&run, 10);
    // Laudspeaker finds the customer by its primary-key attribute equal to
    // the trimmed key. Stored as "　 　1-000000　 　", the attribute no longer
    // equals "1-000000", and the next import of this file creates a second
    // customer: the copy must be the key as the server matches it.
    assert_customer(
        &workspace.customers(),
        "1-000000",
        json!({
            "oracleId": "1-000000", "name": "account Upsert #0", "accountType": "Account",
            "phone": "415-555-0000", "accountNumber": "ACCT_0",
            "website": "http://www.accountUpsert0.com", "annualRevenue": 0
        }),
    );
}

#[test]
fn salesforce_task_email_wrapped_in_unicode_spaces_is_trimmed_by_the_email_rule() {
    let file = "salesforce-dataloader/insertTaskWithContactAsWhoCsv.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "salesforce-task-email");
    assert_all_upserted(&run, 1);
    let customers = workspace.customers();
    let keys = emails(&column(&text(file), b',', "Who:Contact-email"));
    assert_customers_are(&customers, &keys);
    assert_customer(
        &customers,
        "contactfor@polymorphicmappingoftask.com",
        json!({
            "email": "contactfor@polymorphicmappingoftask.com",
            "taskSubject": "testPolymorphicLookup"
        }),
    );
}

#[test]
fn mautic_demo_leads_without_an_email_are_dead_lettered() {
    let file = "mautic/fakeleaddata.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "mautic-fakeleads");
    // The last four rows are anonymous visitors: address and IP, no email,
    // so nothing to key a customer on.
    assert_partly_dead_lettered(&run, 54, 4);
    let source = text(file);
    for (entry, number) in run.dead.iter().zip(52..=55) {
        assert_dead_letter(entry, number, line(&source, number), &["`email`", "empty"]);
        assert_eq!(entry["kind"], "primary_key");
    }
    let customers = workspace.customers();
    assert_customers_are(&customers, &emails(&column(&source, b',', "email")));
    // PennyKMoore@dayrep.com: one customer under the lower-cased address.
    assert_customer(
        &customers,
        "pennykmoore@dayrep.com",
        json!({
            "email": "pennykmoore@dayrep.com", "title": "Mrs.",
            "firstName": "Penny", "lastName": "Moore", "city": "HEWELSFIELD COMMON",
            "address": "88 Clasper Way", "postalCode": "GL15 1XD",
            "country": "United Kingdom", "phone": "070 7086 0753",
            "company": "Williams Bros.", "website": "WikiFire.co.uk",
            "facebook": "PennyKMoore", "twitter": "PennyKMoore",
            "ipAddress": "44.242.120.158", "points": 100
        }),
    );
    assert_customer(
        &customers,
        "anniearicharson@armyspy.com",
        json!({
            "email": "anniearicharson@armyspy.com", "title": "Ms.",
            "firstName": "Annie", "lastName": "Richarson", "city": "Adrian",
            "address": "40 Amethyst Drive", "state": "MI", "postalCode": "49221",
            "country": "United States", "phone": "517-266-4755",
            "company": "Bodega Club", "website": "GolfCleaners.com",
            "facebook": "AnnieARicharson", "twitter": "AnnieARicharson",
            "ipAddress": "179.68.77.113", "points": 0
        }),
    );
}

#[test]
fn mautic_contacts_with_a_space_after_each_comma_are_trimmed() {
    let file = "mautic/10contacts.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "mautic-10contacts");
    assert_all_upserted(&run, 10);
    let customers = workspace.customers();
    assert_customers_are(&customers, &emails(&column(&text(file), b',', "email")));
    assert_customer(
        &customers,
        "ariel@example.com",
        json!({
            "email": "ariel@example.com", "firstName": "Ariel", "lastName": "N.",
            "company": "Enterprise Example Organization", "country": "Switzerland"
        }),
    );
    // The last record, with no line break after it.
    assert_customer(
        &customers,
        "andrewvflanagan@dayrep.com",
        json!({
            "email": "andrewvflanagan@dayrep.com", "firstName": "Andrew",
            "lastName": "Flanagan", "company": "William Wanamaker & Sons",
            "country": "United Kingdom"
        }),
    );
}

#[test]
fn telco_churn_customers_keyed_by_customer_id_keep_typed_flags() {
    let file = "telco-churn/WA_Fn-UseC_-Telco-Customer-Churn.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "telco-churn");
    assert_all_upserted(&run, 7043);
    let customers = workspace.customers();
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "customerID")));
    assert_customer(
        &customers,
        "7590-VHVEG",
        json!({
            "customerId": "7590-VHVEG", "gender": "Female", "seniorCitizen": false,
            "hasPartner": true, "hasDependents": false, "tenureMonths": 1,
            "phoneService": false, "multipleLines": "No phone service",
            "internetService": "DSL", "onlineSecurity": "No", "onlineBackup": "Yes",
            "deviceProtection": "No", "techSupport": "No", "streamingTv": "No",
            "streamingMovies": "No", "contract": "Month-to-month", "paperlessBilling": true,
            "paymentMethod": "Electronic check", "monthlyCharges": 29.85,
            "totalCharges": 29.85, "churned": false
        }),
    );
    // TotalCharges is a single space for a customer of tenure 0: left out.
    assert_customer(
        &customers,
        "4472-LVYGI",
        json!({
            "customerId": "4472-LVYGI", "gender": "Female", "seniorCitizen": false,
            "hasPartner": true, "hasDependents": true, "tenureMonths": 0,
            "phoneService": false, "multipleLines": "No phone service",
            "internetService": "DSL", "onlineSecurity": "Yes", "onlineBackup": "No",
            "deviceProtection": "Yes", "techSupport": "Yes", "streamingTv": "Yes",
            "streamingMovies": "No", "contract": "Two year", "paperlessBilling": true,
            "paymentMethod": "Bank transfer (automatic)", "monthlyCharges": 52.55,
            "churned": false
        }),
    );
    assert_customer(
        &customers,
        "7495-OOKFY",
        json!({
            "customerId": "7495-OOKFY", "gender": "Female", "seniorCitizen": true,
            "hasPartner": true, "hasDependents": false, "tenureMonths": 8,
            "phoneService": true, "multipleLines": "Yes",
            "internetService": "Fiber optic", "onlineSecurity": "No", "onlineBackup": "Yes",
            "deviceProtection": "No", "techSupport": "No", "streamingTv": "No",
            "streamingMovies": "No", "contract": "Month-to-month", "paperlessBilling": true,
            "paymentMethod": "Credit card (automatic)", "monthlyCharges": 80.65,
            "totalCharges": 633.3, "churned": true
        }),
    );
}

#[test]
fn northwind_customers_keep_international_text_and_postcodes() {
    let file = "northwind/customers.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "northwind");
    assert_all_upserted(&run, 91);
    let customers = workspace.customers();
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "customer_id")));
    assert_customer(
        &customers,
        "ANATR",
        json!({
            "customerId": "ANATR", "companyName": "Ana Trujillo Emparedados y helados",
            "contactName": "Ana Trujillo", "contactTitle": "Owner",
            "address": "Avda. de la Constitución 2222", "city": "México D.F.",
            "postalCode": "05021", "country": "Mexico",
            "phone": "(5) 555-4729", "fax": "(5) 555-3745"
        }),
    );
    assert_customer(
        &customers,
        "BERGS",
        json!({
            "customerId": "BERGS", "companyName": "Berglunds snabbköp",
            "contactName": "Christina Berglund", "contactTitle": "Order Administrator",
            "address": "Berguvsvägen  8", "city": "Luleå", "postalCode": "S-958 22",
            "country": "Sweden", "phone": "0921-12 34 65", "fax": "0921-12 34 67"
        }),
    );
    assert_customer(
        &customers,
        "BOLID",
        json!({
            "customerId": "BOLID", "companyName": "Bólido Comidas preparadas",
            "contactName": "Martín Sommer", "contactTitle": "Owner",
            "address": "C/ Araquil, 67", "city": "Madrid", "postalCode": "28023",
            "country": "Spain", "phone": "(91) 555 22 82", "fax": "(91) 555 91 99"
        }),
    );
}

#[test]

fn northwind_postcodes_typed_as_numbers_are_refused_naming_the_first_stray_character() {
    let file = "northwind/customers.csv";
    let workspace = Workspace::new();
    // A plausible mistake: postcodes typed as numbers. Every postcode that
    // is not all digits is refused, and the reason must point at what makes
    // it no number: `WA1 1DP` starts with a letter, it is not 1,000-style
    // grouping (today: "white space inside (thousands separators are not
    // accepted)").
    let mapping = mapping_variant(
        &workspace,
        "northwind",
        "to = \"postalCode\"           # 05021, S-958 22, WA1 1DP: text",
        "to = \"postalCode\"\ntype = \"number\"",
    );
    let run = workspace.import_with(file, &mapping);
    let source = text(file);
    let refused: Vec<(u64, String)> = column(&source, b',', "postal_code")
        .into_iter()
        .filter(|(_, code)| !code.is_empty() && !code.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(refused.len(), 24);
    assert_partly_dead_lettered(&run, 91, 24);
    for (entry, (number, code)) in run.dead.iter().zip(&refused) {
        let stray = code
            .chars()
            .find(|c| !c.is_ascii_digit())
            .expect("a non-digit");
        let stray = format!("`{stray}`");
        assert_dead_letter(
            entry,
            *number,
            line(&source, *number),
            &["`postal_code`", code, &stray],
        );
        let reason = entry["reason"].as_str().expect("a reason");
        assert!(!reason.contains("thousands"), "{reason}");
    }
}

// ---------------------------------------------------------------------------
// Fivetran warehouse seeds (vendor API field names)

#[test]
fn mailchimp_member_of_two_lists_is_one_customer_and_the_later_row_wins() {
    let file = "fivetran-mailchimp/member.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "fivetran-mailchimp");
    assert_all_upserted(&run, 9);
    let customers = workspace.customers();
    let keys = emails(&column(&text(file), b',', "email_address"));
    assert_eq!(keys.len(), 8);
    assert_customers_are(&customers, &keys);
    assert_customer(
        &customers,
        "dylan+testing2@example.co",
        json!({
            "email": "dylan+testing2@example.co",
            "mailchimpMemberId": "4956ae6c75ac652fd9a32c7c5ed8083a",
            "mailchimpListId": "8e423a4180", "fivetranSyncedAt": "2020-04-21T14:59:10Z",
            "countryCode": "CA", "dstOffset": 0, "emailType": "html", "gmtOffset": 0,
            "optInIp": "76.64.79.89", "signupIp": "76.64.79.89", "language": "en",
            "mailchimpChangedAt": "2020-04-21T14:52:45Z",
            "latitude": 43.67, "longitude": -79.38, "memberRating": 2,
            "status": "subscribed", "optedInAt": "2020-04-21T14:52:45Z",
            "signedUpAt": "2020-04-21T14:52:25Z", "mailchimpTimezone": "America/Toronto",
            "mailchimpUniqueEmailId": "24037f9b6b", "vip": false
        }),
    );
    assert_customer(
        &customers,
        "me@example.com",
        json!({
            "email": "me@example.com",
            "mailchimpMemberId": "09be851d30b8958f7de29f22e8bed310",
            "mailchimpListId": "8e423a4179", "fivetranSyncedAt": "2020-04-14T21:27:39Z",
            "countryCode": "DE", "dstOffset": 0, "emailClient": "Gmail", "emailType": "html",
            "gmtOffset": 0, "optInIp": "87.191.200.152", "signupIp": "87.191.200.152",
            "language": "de", "mailchimpChangedAt": "2019-11-26T23:55:32Z",
            "latitude": 52.5124, "longitude": 13.3247, "memberRating": 3,
            "firstName": "Me", "status": "subscribed", "optedInAt": "2019-11-07T10:05:46Z",
            "signedUpAt": "2019-11-07T10:03:37Z", "mailchimpUniqueEmailId": "5d2a19dce4",
            "vip": false
        }),
    );
    // `timezone` holds New York area codes here, kept as text.
    assert_customer(
        &customers,
        "abraham@example.com",
        json!({
            "email": "abraham@example.com",
            "mailchimpMemberId": "001ab89f92fa8197d3f426cc6987b997",
            "mailchimpListId": "8e423a4179", "fivetranSyncedAt": "2020-04-14T21:27:39Z",
            "countryCode": "US", "dstOffset": 0, "emailClient": "Gmail", "emailType": "html",
            "gmtOffset": 0, "optInIp": "158.106.201.190", "signupIp": "158.106.201.190",
            "language": "en", "mailchimpChangedAt": "2019-11-26T23:55:40Z",
            "latitude": 40.7452, "longitude": -73.9808, "memberRating": 3,
            "firstName": "Abraham", "status": "subscribed",
            "optedInAt": "2019-11-07T14:56:34Z", "signedUpAt": "2019-11-07T14:56:18Z",
            "mailchimpTimezone": "212/332/646/917", "mailchimpUniqueEmailId": "e12b12e655",
            "vip": false
        }),
    );
}

#[test]
fn klaviyo_profiles_with_a_bom_and_three_timestamp_styles_arrive_typed() {
    let file = "fivetran-klaviyo/person.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "fivetran-klaviyo");
    assert_all_upserted(&run, 2);
    let customers = workspace.customers();
    assert_customers_are(&customers, &emails(&column(&text(file), b',', "EMAIL")));
    // The latitude 421.6117 is impossible, but it is a number.
    assert_customer(
        &customers,
        "nobody@hotmail.com",
        json!({
            "email": "nobody@hotmail.com", "klaviyoId": "01F35SYVPX6MS88ARK37864GJX",
            "klaviyoUpdatedAt": "2021-04-13T14:44:06Z",
            "klaviyoCreatedAt": "2021-04-13T14:25:27Z", "fivetranDeleted": false,
            "timezone": "America/New_York", "region": "New York",
            "longitude": -12.0851, "latitude": 421.6117, "phone": "+15165555555",
            "country": "United States", "city": "Brooklyn", "klaviyoObject": "person",
            "fivetranSyncedAt": "2021-04-14T07:47:10Z", "consentFormId": "X2GkGj",
            "signupSource": "Redesign - Mobile Email + SMS", "consentMethod": "Klaviyo Form",
            "consentFormVersion": "190980", "phoneRegion": "US",
            "lastEventAt": "2023-07-18T12:43:52Z"
        }),
    );
    assert_customer(
        &customers,
        "mrgoogle@gmail.com",
        json!({
            "email": "mrgoogle@gmail.com", "klaviyoId": "01F366M1ZERT4HM2Z9R2V9G7BY",
            "klaviyoUpdatedAt": "2021-04-13T18:09:10Z",
            "klaviyoCreatedAt": "2021-04-13T18:06:44Z", "fivetranDeleted": false,
            "firstName": "MArio", "lastName": "Lopez", "address": "1600 Penn",
            "timezone": "America/Chicago", "region": "Kansas", "phone": "+15165555555",
            "country": "United States", "postalCode": "64224", "city": "Jefferson City",
            "klaviyoObject": "person", "acceptsMarketing": false, "shopifyTags": [],
            "fivetranSyncedAt": "2021-04-14T07:47:45Z",
            "expectedNextOrderOn": "2021-05-16", "firstPurchaseOn": "2021-04-13",
            "lastEventAt": "2023-09-08T09:19:46Z"
        }),
    );
}

#[test]
fn stripe_customers_without_email_are_keyed_by_their_stripe_id() {
    let file = "fivetran-stripe/customer_data.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "fivetran-stripe");
    assert_all_upserted(&run, 12);
    let customers = workspace.customers();
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "id")));
    assert_customer(
        &customers,
        "cus_ImVzJQmSlYHjZL",
        json!({
            "stripeCustomerId": "cus_ImVzJQmSlYHjZL",
            "fivetranSyncedAt": "2021-01-24T20:21:16Z", "accountBalance": 0, "balance": 0,
            "stripeCreatedAt": "2021-01-18T12:35:30Z", "delinquent": false,
            "invoicePrefix": "8311D827", "isDeleted": false, "livemode": true,
            "nameHash": "a0d47e7c5acc1069de81fd0ac370d10f", "taxExempt": "none"
        }),
    );
    // The last record (no line break after it): deleted, with a bank account.
    assert_customer(
        &customers,
        "cus_IuKuZJLG9mNRn2",
        json!({
            "stripeCustomerId": "cus_IuKuZJLG9mNRn2",
            "fivetranSyncedAt": "2021-02-08T14:21:18Z", "accountBalance": 0, "balance": 0,
            "bankAccountId": "ab5568", "stripeCreatedAt": "2021-02-08T09:40:39Z",
            "delinquent": false, "invoicePrefix": "94FA9348", "isDeleted": true,
            "livemode": true, "nameHash": "37a6259cc0c1dae299a7866489dff0bd",
            "taxExempt": "none"
        }),
    );
}

#[test]
fn hubspot_contacts_synced_by_fivetran_are_keyed_by_vid_with_merged_vids_as_arrays() {
    let file = "fivetran-hubspot/contact_data.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "fivetran-hubspot");
    assert_all_upserted(&run, 22);
    let customers = workspace.customers();
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "id")));
    assert_customer(
        &customers,
        "78971951",
        json!({
            "hubspotId": "78971951", "deleted": false,
            "fivetranSyncedAt": "2021-04-02T11:16:05Z",
            "emailHash": "fcb67ef339b691956cc85fa12be6490c",
            "secondEmailHash": "261d3936e165a33b3f31e5fdd0e3121d",
            "company": "SampleCompany",
            "firstNameHash": "db320f93ead463e1a2faee198cd9a122",
            "lastNameHash": "22370ea245fce0b355938327d41bd1e4",
            "hubspotCreatedAt": "2021-04-01T17:32:47Z", "annualRevenue": 111111,
            "mergedVids": ["76340251:1661707291575", "46897301:1661707931852",
                           "76226001:1661696530403"]
        }),
    );
    // The last record, after which the file has no line break.
    assert_customer(
        &customers,
        "39893151",
        json!({
            "hubspotId": "39893151", "deleted": false,
            "fivetranSyncedAt": "2021-04-02T11:22:27Z",
            "emailHash": "d547e990ecd4e5e327b41f98cb8f3f4d",
            "secondEmailHash": "bc16a8351419c08a72f2169f4d2ade21",
            "firstNameHash": "6fa95b1427af77b3d769ae9cb853382f",
            "lastNameHash": "f55fbaaca148300ac11f7752528cae3d",
            "hubspotCreatedAt": "2020-08-17T02:50:12Z", "annualRevenue": 111111
        }),
    );
}

#[test]
fn intercom_contacts_synced_by_fivetran_are_keyed_by_external_id() {
    let file = "fivetran-intercom/contact_history_data.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "fivetran-intercom");
    assert_all_upserted(&run, 9);
    let customers = workspace.customers();
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "external_id")));
    assert_customer(
        &customers,
        "38562efa-c962-428b-a77a-6321b5370d73",
        json!({
            "externalId": "38562efa-c962-428b-a77a-6321b5370d73",
            "intercomId": "5f19187f9c0ca3ba4e5f85a4", "role": "lead",
            "intercomWorkspace": "otyeqd9q", "emailHash": "XgyqsB0TWiMCtrwGLrqt0g==",
            "nameHash": "zIM/kdIwgY0S3mi8OSjMHg==",
            "intercomCreatedAt": "2020-07-23T04:56:31Z",
            "intercomUpdatedAt": "2020-07-23T13:43:42Z",
            "lastContactedAt": "2020-07-23T05:45:04Z", "active": true,
            "hasHardBounced": false, "markedEmailAsSpam": false,
            "unsubscribedFromEmails": false
        }),
    );
    assert_customer(
        &customers,
        "72343fbe-4f9f-492b-8772-38f89f543cf4",
        json!({
            "externalId": "72343fbe-4f9f-492b-8772-38f89f543cf4",
            "intercomId": "5f569df7ad3fcefe03350117", "role": "lead",
            "intercomWorkspace": "otyeqd9q", "emailHash": "SYU2ezEg3mW8vyVnchVcrA==",
            "nameHash": "oSDDQHjs6nuZZw/zpfDwqw==",
            "intercomCreatedAt": "2020-09-07T20:54:15Z",
            "intercomUpdatedAt": "2020-09-07T22:07:39Z",
            "lastContactedAt": "2020-09-07T21:00:26Z",
            "lastEmailOpenedAt": "2020-09-07T22:07:39Z",
            "lastEmailClickedAt": "2020-09-07T22:07:39Z", "active": true,
            "hasHardBounced": false, "markedEmailAsSpam": false,
            "unsubscribedFromEmails": false
        }),
    );
}

#[test]
fn ghost_member_list_keeps_flags_labels_and_an_iso_timestamp() {
    let file = "ghost-member-fixtures/valid-members-import.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "ghost-members");
    assert_all_upserted(&run, 2);
    let customers = workspace.customers();
    assert_customers_are(&customers, &emails(&column(&text(file), b',', "email")));
    assert_customer(
        &customers,
        "jbloggs@example.com",
        json!({"email": "jbloggs@example.com", "name": "joe", "subscribedToEmails": true}),
    );
    assert_customer(
        &customers,
        "test@example.com",
        json!({
            "email": "test@example.com", "name": "test", "note": "test note",
            "subscribedToEmails": false, "labels": ["test-label"],
            "memberCreatedAt": "1991-10-02T20:30:31Z"
        }),
    );
}

#[test]
fn zendesk_users_sharing_one_email_stay_ten_customers() {
    let file = "fivetran-zendesk/user_data.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "fivetran-zendesk");
    assert_all_upserted(&run, 10);
    let customers = workspace.customers();
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "id")));
    let url = "https://fivetran1813.zendesk.com/api/v2/users/";
    assert_customer(
        &customers,
        "403969141094",
        json!({
            "zendeskUserId": "403969141094", "active": true, "chatOnly": false,
            "zendeskCreatedAt": "2020-02-26T22:34:41Z", "email": "example@email.com",
            "lastLoginAt": "2023-02-26T22:55:12Z", "locale": "en-US", "localeId": 1,
            "moderator": false, "name": "John Doe", "onlyPrivateComments": false,
            "organizationId": "370319212353", "restrictedAgent": true, "role": "admin",
            "shared": false, "sharedAgent": false, "suspended": false,
            "ticketRestriction": "requested", "timeZone": "Pacific Time (US & Canada)",
            "twoFactorAuth": false, "zendeskUpdatedAt": "2020-02-26T22:34:41Z",
            "zendeskUrl": format!("{url}403969141094.json"), "zendeskVerified": true
        }),
    );
    // No organization: the attribute is left out.
    assert_customer(
        &customers,
        "403969371634",
        json!({
            "zendeskUserId": "403969371634", "active": true, "chatOnly": false,
            "zendeskCreatedAt": "2020-02-26T22:41:37Z", "email": "example@email.com",
            "lastLoginAt": "2023-02-26T22:55:12Z", "locale": "en-US", "localeId": 1,
            "moderator": false, "name": "John Doe", "onlyPrivateComments": false,
            "restrictedAgent": true, "role": "end-user",
            "shared": false, "sharedAgent": false, "suspended": false,
            "ticketRestriction": "requested", "timeZone": "Pacific Time (US & Canada)",
            "twoFactorAuth": false, "zendeskUpdatedAt": "2020-02-26T22:41:37Z",
            "zendeskUrl": format!("{url}403969371634.json"), "zendeskVerified": true
        }),
    );
}

#[test]
fn shopify_customers_with_padded_timestamps_arrive_in_utc() {
    let file = "fivetran-shopify/shopify_customer_data.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "fivetran-shopify");
    assert_all_upserted(&run, 3);
    let customers = workspace.customers();
    // `id` is the first header, right behind the BOM.
    assert_customers_are(&customers, &ids(&column(&text(file), b',', "id")));
    assert_customer(
        &customers,
        "3588998496353",
        json!({
            "shopifyCustomerId": "3588998496353",
            "firstNameHash": "29e00d3659d1c5e75f99e892f0c1a1f1",
            "lastNameHash": "3f0e6a46fb84eb1e6f5f00d86aa53b1b",
            "emailHash": "ab0bf25ab8b2a6b78af26a141dd6f455", "accountState": "disabled",
            "ordersCount": 0, "totalSpent": 0,
            "shopifyCreatedAt": "2020-09-11T13:26:15Z",
            "shopifyUpdatedAt": "2020-09-11T13:26:15Z", "acceptsMarketing": false,
            "taxExempt": false, "verifiedEmail": true, "defaultAddressId": "3951726461025",
            "fivetranSyncedAt": "2020-09-12T00:14:04Z"
        }),
    );
    assert_customer(
        &customers,
        "3589760876641",
        json!({
            "shopifyCustomerId": "3589760876641",
            "firstNameHash": "f0962b7a185488ecb752cedac1038349",
            "lastNameHash": "aa35cb67c26e64bb81a1bf3f17e858ba",
            "emailHash": "021cb20b5c78751fc7ddc091b6b69b3e", "accountState": "invited",
            "ordersCount": 1, "totalSpent": 2.8,
            "shopifyCreatedAt": "2020-09-11T19:35:42Z",
            "shopifyUpdatedAt": "2020-09-11T19:41:04Z", "acceptsMarketing": true,
            "taxExempt": false, "verifiedEmail": true, "defaultAddressId": "3952669655137",
            "fivetranSyncedAt": "2020-09-12T00:14:04Z"
        }),
    );
    assert_customer(
        &customers,
        "3584045351009",
        json!({
            "shopifyCustomerId": "3584045351009",
            "firstNameHash": "d3bae70c9d49bb7cb5a74cdd0eae7fc4",
            "lastNameHash": "0dd89cff60965dff8f9ea2bc952a5474",
            "emailHash": "dce90c7b4e52e045e5975836aff49cf1", "accountState": "disabled",
            "ordersCount": 2, "totalSpent": 9.18,
            "shopifyCreatedAt": "2020-09-09T22:57:44Z",
            "shopifyUpdatedAt": "2020-09-09T23:01:55Z", "acceptsMarketing": false,
            "taxExempt": false, "verifiedEmail": true, "defaultAddressId": "3946055729249",
            "fivetranSyncedAt": "2020-09-10T00:13:59Z"
        }),
    );
}

// ---------------------------------------------------------------------------
// A deliberately dirty file

/// The rows of shopify_customers.csv whose email cannot be a key although
/// the cell is not empty: the `@` or the dots were lost in the dummy data.
const SHOPIFY_DUMMY_BAD_EMAILS: [(u64, &str); 6] = [
    (95, "nicholasdyerdayrepcom"),
    (126, "telfordlangloisrhytacom"),
    (144, "abigailmarsdeneinrotcom"),
    (145, "adamfraserdayrepcom"),
    (146, "aidanosullivanarmyspycom"),
    (182, "christinecharronsuperrito.com"),
];

#[test]
fn dirty_semicolon_customer_list_dead_letters_every_row_it_cannot_key() {
    let file = "shopify-dummy-semicolon/shopify_customers.csv";
    let workspace = Workspace::new();
    let run = workspace.import(file, "shopify-dummy-semicolon");
    let source = text(file);
    let cells = column(&source, b';', "email");
    let empty: Vec<u64> = cells
        .iter()
        .filter(|(_, cell)| cell.trim().is_empty())
        .map(|(line, _)| *line)
        .collect();
    assert_eq!(empty.len(), 211);
    // Dead-lettered: 211 rows with no email, 6 whose email has lost its `@`
    // (christinecharronsuperrito.com) and one valid row whose birth date
    // 02/20/30 has a two-digit year: 1930 or 2030 cannot be told.
    assert_partly_dead_lettered(&run, 300, 218);
    let mut expected: Vec<(u64, Vec<&str>)> = empty
        .iter()
        .map(|line| (*line, vec!["`email`", "empty"]))
        .collect();
    for (line, value) in SHOPIFY_DUMMY_BAD_EMAILS {
        expected.push((line, vec!["`email`", value, "no `@`"]));
    }
    expected.push((64, vec!["`birth_date`", "02/20/30", "%m/%d/%Y"]));
    expected.sort();
    assert_eq!(run.dead.len(), expected.len());
    for (entry, (number, names)) in run.dead.iter().zip(&expected) {
        assert_dead_letter(entry, *number, line(&source, *number), names);
    }

    let customers = workspace.customers();
    let dead: BTreeSet<u64> = expected.iter().map(|(line, _)| *line).collect();
    let upserted: Vec<(u64, String)> = cells
        .into_iter()
        .filter(|(line, _)| !dead.contains(line))
        .collect();
    assert_eq!(upserted.len(), 82);
    assert_customers_are(&customers, &emails(&upserted));
    assert_customer(
        &customers,
        "abigailbyrne@fleckens.hu",
        json!({
            "email": "abigailbyrne@fleckens.hu", "signedUpAt": "2019-10-17T08:18:49Z",
            "address": "29 prospect hill", "city": "drayton", "country": "GB",
            "phone": "07974322099", "fullName": "Byrne Abigail", "industry": "Health Care",
            "birthDate": "1938-03-13"
        }),
    );
    // Empty cells written both as `""` and as nothing: both left out.
    assert_customer(
        &customers,
        "alphonsinelaliberte@superrito.com",
        json!({
            "email": "alphonsinelaliberte@superrito.com",
            "signedUpAt": "2019-10-11T07:55:42Z", "city": "saint-leu", "country": "FR",
            "fullName": "Alphonsine Laliberté", "industry": "Information Technology",
            "birthDate": "1997-10-21"
        }),
    );
    assert_customer(
        &customers,
        "bencollier@teleworm.us",
        json!({
            "email": "bencollier@teleworm.us", "signedUpAt": "2020-01-23T13:26:49Z",
            "address": "51 sloe lane", "city": "crow", "country": "GB",
            "phone": "07012495421", "fullName": "Ben Collier",
            "industry": "Information Technology", "birthDate": "1976-10-24"
        }),
    );
}

// ---------------------------------------------------------------------------
// NDJSON

#[test]
fn streaming_users_ndjson_keyed_by_numeric_user_id_arrive_whole() {
    let file = "yoeo-users-streams/users.jsonl";
    let workspace = Workspace::new();
    let run = workspace.import(file, "yoeo-users");
    assert_all_upserted(&run, 12_345);
    let customers = workspace.customers();
    let keys: BTreeSet<String> = ndjson(&text(file))
        .iter()
        .map(|user| user["user_id"].to_string())
        .collect();
    assert_customers_are(&customers, &keys);
    assert_customer(
        &customers,
        "11643",
        json!({
            "userId": "11643", "username": "dayle", "language": "ar", "country": "MA",
            "email": "fake.dayle@gmail.com", "consent": true,
            "registeredAtMs": 1_561_248_000_000_u64
        }),
    );
    assert_customer(
        &customers,
        "345",
        json!({
            "userId": "345", "username": "donna", "language": "fr", "country": "GB",
            "email": "fake.donna@yahoo.com", "consent": false,
            "registeredAtMs": 1_559_347_200_000_u64
        }),
    );
    assert_customer(
        &customers,
        "1",
        json!({
            "userId": "1", "username": "kathy", "language": "en", "country": "FR",
            "email": "fake.kathy@gmail.com", "consent": true,
            "registeredAtMs": 1_561_766_400_000_u64
        }),
    );
}

#[test]
fn ravelin_profiles_keep_nested_arrays_and_reject_dotless_email_domains() {
    let file = "ravelin-customers/customers.jsonl";
    let workspace = Workspace::new();
    let run = workspace.import(file, "ravelin-customers");
    let source = text(file);
    // Four fraudulent profiles carry addresses whose domain has no dot
    // (9es7t@u6n7x): not deliverable, so the email rule refuses them and
    // with them the row.
    assert_partly_dead_lettered(&run, 168, 4);
    let bad = [
        (33, "9es7t@u6n7x"),
        (63, "hj8maoy@1jcfcxs7"),
        (109, "3fooiar@6eph"),
        (152, "1yf0@jedyz63t"),
    ];
    for (entry, (number, email)) in run.dead.iter().zip(bad) {
        let names = ["`customer.customerEmail`", email, "domain has no dot"];
        assert_dead_letter(entry, number, line(&source, number), &names);
    }

    let customers = workspace.customers();
    let records = ndjson(&source);
    let keys: BTreeSet<String> = records
        .iter()
        .filter(|record| {
            let email = at(record, "customer.customerEmail").as_str();
            !bad.iter().any(|(_, bad)| email == Some(bad))
        })
        .map(|record| {
            at(record, "customer.customerDevice")
                .as_str()
                .expect("a device")
                .into()
        })
        .collect();
    assert_eq!(keys.len(), 164);
    assert_customers_are(&customers, &keys);
    assert_customer(
        &customers,
        "nf0i429dh2h2fmf287ec",
        json!({
            "deviceId": "nf0i429dh2h2fmf287ec", "email": "gsimpson@cox.org",
            "phone": "+23(4)1428642270", "ipAddress": "20.34.8.37",
            "billingAddress": "32514 Freeman Court\nPort Waltermouth, SC 34012",
            "firstSeenAt": "2023-01-31T11:13:00Z", "fraudulent": false,
            "orders": [], "paymentMethods": [], "transactions": []
        }),
    );
    let address = "238 Reeves Villages\nLeslieton, SD 12318-4476";
    assert_customer(
        &customers,
        "qx6nhdabeaj329zdri0o",
        json!({
            "deviceId": "qx6nhdabeaj329zdri0o", "email": "psantiago@nelson.net",
            "phone": "885.682.0863", "ipAddress": "81.13.103.118",
            "billingAddress": address, "firstSeenAt": "2023-01-15T08:12:00Z",
            "fraudulent": false,
            "orders": [{
                "orderId": "f5vg4r", "orderAmount": 31, "orderState": "fulfilled",
                "orderShippingAddress": address, "loggedAt": "2023-01-15T08:49:00+00:00"
            }],
            "paymentMethods": [{
                "paymentMethodId": "yngba9iss", "paymentMethodRegistrationFailure": false,
                "paymentMethodType": "paypal", "paymentMethodProvider": "JCB 16 digit",
                "paymentMethodIssuer": "Rose Bancshares", "loggedAt": "2023-01-15T08:16:00+00:00"
            }],
            "transactions": [{
                "transactionId": "6p2l2jxb", "orderId": "f5vg4r",
                "paymentMethodId": "yngba9iss", "transactionAmount": 31,
                "transactionFailed": false, "loggedAt": "2023-01-15T08:53:17+00:00"
            }]
        }),
    );
}

#[test]
fn mongoexport_ndjson_in_a_json_file_is_keyed_by_object_id() {
    let file = "mongodb-sample-analytics/customers.json";
    let workspace = Workspace::new();
    let run = workspace.import(file, "mongodb-customers");
    assert_all_upserted(&run, 500);
    let customers = workspace.customers();
    let keys: BTreeSet<String> = ndjson(&text(file))
        .iter()
        .map(|record| at(record, "_id.$oid").as_str().expect("an $oid").into())
        .collect();
    assert_customers_are(&customers, &keys);
    // The only document with `active`; dynamic keys kept in the nested object.
    assert_customer(
        &customers,
        "5ca4bbcea2dd94ee58162a68",
        json!({
            "mongoId": "5ca4bbcea2dd94ee58162a68", "username": "fmiller",
            "name": "Elizabeth Ray", "address": "9286 Bethany Glens\nVasqueztown, CO 22939",
            "birthdateMs": 226_117_231_000_u64, "email": "arroyocolton@gmail.com",
            "active": true,
            "tierAndDetails": {
                "0df078f33aa74a2e9696e0520c1a828a": {
                    "tier": "Bronze", "id": "0df078f33aa74a2e9696e0520c1a828a",
                    "active": true, "benefits": ["sports tickets"]
                },
                "699456451cc24f028d2aa99d7534c219": {
                    "tier": "Bronze", "benefits": ["24 hour dedicated line", "concierge services"],
                    "active": true, "id": "699456451cc24f028d2aa99d7534c219"
                }
            }
        }),
    );
    assert_customer(
        &customers,
        "5ca4bbcea2dd94ee58162a6a",
        json!({
            "mongoId": "5ca4bbcea2dd94ee58162a6a", "username": "hillrachel",
            "name": "Katherine David",
            "address": "55711 Janet Plaza Apt. 865\nChristinachester, CT 62716",
            "birthdateMs": 582_848_134_000_u64, "email": "timothy78@hotmail.com",
            "tierAndDetails": {}
        }),
    );
    // Born before 1970: a negative number of milliseconds.
    assert_customer(
        &customers,
        "5ca4bbcea2dd94ee58162a6e",
        json!({
            "mongoId": "5ca4bbcea2dd94ee58162a6e", "username": "hmyers",
            "name": "Dana Clarke", "address": "50047 Smith Point Suite 162\nWilkinsstad, PA 04106",
            "birthdateMs": -16_752_040_000_i64, "email": "vcarter@hotmail.com",
            "tierAndDetails": {
                "4c207e65857742f89d8155139b24c0f0": {
                    "tier": "Silver", "benefits": ["car rental insurance", "travel insurance"],
                    "active": true, "id": "4c207e65857742f89d8155139b24c0f0"
                },
                "c04ee1d7093449148a3cc3bbca398529": {
                    "tier": "Platinum",
                    "benefits": ["24 hour dedicated line", "dedicated account representative"],
                    "active": true, "id": "c04ee1d7093449148a3cc3bbca398529"
                },
                "1e64a51089c54d08911baf77be6b3713": {
                    "tier": "Gold",
                    "benefits": ["concert tickets", "dedicated account representative"],
                    "active": true, "id": "1e64a51089c54d08911baf77be6b3713"
                }
            }
        }),
    );
}
