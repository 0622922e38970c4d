//! `mapping init` on every real export in `../shared/real/` (read from
//! there, never copied): the mapping it writes loads, binds to the file,
//! explains its choices, and imports the file with no dead letters but the
//! rows that really are bad, named here per file with their reason.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bin, code, dead_letters, import, output_text, Emulator, KEY};
use laudspeaker_import::import::source;
use laudspeaker_import::mapping::Mapping;

fn real() -> PathBuf {
    common::shared().join("real")
}

/// Every data file under `../shared/real/`, sorted.
fn real_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(real()).expect("the real exports are present") {
        let dir = dir.expect("readable entry").path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).expect("readable folder") {
            let file = file.expect("readable entry").path();
            let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "csv" | "json" | "jsonl") {
                files.push(file);
            }
        }
    }
    files.sort();
    files
}

fn init(args: &[&str]) -> Output {
    Command::new(bin())
        .args(["mapping", "init"])
        .args(args)
        .output()
        .expect("run mapping init")
}

/// The file's path below `real/`, e.g. `mautic/fakeleaddata.csv`.
fn short(file: &Path) -> String {
    file.strip_prefix(real())
        .expect("under real/")
        .display()
        .to_string()
}

/// The rows of each real export that are bad whatever the mapping: (line,
/// dead-letter kind, reason). Files not listed import with none.
fn really_bad(file: &str) -> Vec<(u64, &'static str, String)> {
    let structure = |line, reason: &str| (line, "structure", reason.to_string());
    let empty_key = |line| {
        (
            line,
            "primary_key",
            "primary key `email` is empty".to_string(),
        )
    };
    match file {
        // A trailing comma gives both rows a second field the header lacks.
        "ghost-member-fixtures/members-duplicate-emails.csv" => vec![
            structure(2, "2 fields where the header has 1"),
            structure(3, "2 fields where the header has 1"),
        ],
        "ghost-member-fixtures/members-ragged-row.csv" => {
            vec![structure(2, "1 field where the header has 3")]
        }
        // Contact rows with 3 fields under a 9-column header.
        "salesforce-lwc-recipes/Accounts-Contacts.csv" => (8..=15)
            .map(|line| structure(line, "3 fields where the header has 9"))
            .collect(),
        // Four lead rows with no email at all.
        "mautic/fakeleaddata.csv" => (52..=55).map(empty_key).collect(),
        // Email keys whose domain has no dot.
        "ravelin-customers/customers.jsonl" => [
            (33, "9es7t@u6n7x"),
            (63, "hj8maoy@1jcfcxs7"),
            (109, "3fooiar@6eph"),
            (152, "1yf0@jedyz63t"),
        ]
        .into_iter()
        .map(|(line, email)| {
            let reason = format!(
                "primary key column `customer.customerEmail`, value `\"{email}\"`: not an \
                 email address: domain has no dot"
            );
            (line, "primary_key", reason)
        })
        .collect(),
        _ => Vec::new(),
    }
}

/// Shopify's export has no reliable key: 211 rows have no email and six
/// emails lost their `@`; those 217 rows are checked by count and lines.
const SHOPIFY: &str = "shopify-dummy-semicolon/shopify_customers.csv";
const SHOPIFY_TYPO_LINES: [u64; 6] = [95, 126, 144, 145, 146, 182];

#[test]
fn init_writes_a_mapping_that_imports_every_real_export() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = real_files();
    assert!(files.len() >= 46, "only {} real files", files.len());
    for file in &files {
        let name = short(file);
        let mapping = dir.path().join(format!("{}.toml", name.replace('/', "__")));
        let written = init(&[file.to_str().expect("utf-8 path"), "-o", path(&mapping)]);
        if let Some(refusal) = not_ndjson(&name) {
            assert_eq!(code(&written), 2, "{name}");
            assert!(output_text(&written).contains(refusal), "{name}");
            continue;
        }
        assert_eq!(code(&written), 0, "{name}: {}", output_text(&written));
        check_loads_and_binds(file, &mapping);
        check_comments(&name, &mapping);
        let dead = dir.path().join("dead.ndjson");
        let run = import(&[
            path(file),
            "--mapping",
            path(&mapping),
            "--dry-run",
            "--dead-letter",
            path(&dead),
            "-q",
        ]);
        let entries = dead_letters(&dead);
        let _ = std::fs::remove_file(&dead);
        let found: Vec<(u64, String, String)> = entries
            .iter()
            .map(|e| {
                let line = e["line"].as_u64().expect("line");
                let kind = e["kind"].as_str().expect("kind").to_string();
                (
                    line,
                    kind,
                    e["reason"].as_str().expect("reason").to_string(),
                )
            })
            .collect();
        if name == SHOPIFY {
            let empty = found
                .iter()
                .filter(|f| f.2 == "primary key `email` is empty");
            assert_eq!(empty.count(), 211);
            let typos: Vec<u64> = found
                .iter()
                .filter(|f| f.2.ends_with("not an email address: no `@`"))
                .map(|f| f.0)
                .collect();
            assert_eq!(typos, SHOPIFY_TYPO_LINES);
            assert_eq!(found.len(), 217);
            assert_eq!(code(&run), 1);
            continue;
        }
        let expected: Vec<(u64, String, String)> = really_bad(&name)
            .into_iter()
            .map(|(line, kind, reason)| (line, kind.to_string(), reason))
            .collect();
        assert_eq!(found, expected, "{name}");
        let exit = if expected.is_empty() { 0 } else { 1 };
        assert_eq!(code(&run), exit, "{name}: {}", output_text(&run));
    }
}

/// Files that hold one JSON document, not NDJSON: refused as `import`
/// refuses them, with the conversion to run.
fn not_ndjson(name: &str) -> Option<&'static str> {
    match name {
        "dummyjson-users/users.json" => Some("holds a JSON array, not NDJSON"),
        "salesforce-lwc-recipes/Contacts.json" => Some("holds pretty-printed JSON, not NDJSON"),
        _ => None,
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The mapping passes the mapping checks as written, and binds to the file.
fn check_loads_and_binds(file: &Path, mapping: &Path) {
    let loaded = Mapping::load(mapping).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    if let Err(failure) = source::open(file, &loaded, None, 102_400) {
        panic!("{} does not bind: {failure}", file.display());
    }
}

/// Every table is explained: a comment saying why, then what was seen.
fn check_comments(name: &str, mapping: &Path) {
    let text = std::fs::read_to_string(mapping).expect("mapping written");
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("from = ") {
            assert!(lines[i - 1].starts_with("# seen: "), "{name}: {line}");
            assert!(lines[i - 2].starts_with('#'), "{name}: {line}");
        }
    }
    assert!(text.contains("\nencoding = "), "{name}: encoding written");
}

/// The mapping `init` writes for a real file, as text.
fn mapping_for(file: &str) -> String {
    let out = init(&[path(&real().join(file))]);
    assert_eq!(code(&out), 0, "{}", output_text(&out));
    String::from_utf8(out.stdout).expect("utf-8 mapping")
}

/// The table of the property read from `from`: its lines up to a blank.
fn table_of<'t>(mapping: &'t str, from: &str) -> Vec<&'t str> {
    let needle = format!("from = \"{from}\"");
    let start = mapping
        .find(&needle)
        .unwrap_or_else(|| panic!("no {needle}"));
    mapping[start..]
        .lines()
        .take_while(|line| !line.is_empty())
        .collect()
}

#[test]
fn telco_types_keep_codes_as_text_and_yes_no_as_booleans() {
    let mapping = mapping_for("telco-churn/WA_Fn-UseC_-Telco-Customer-Churn.csv");
    assert!(mapping.contains(
        "[primary_key]\n# \"customerID\": no email column is filled and distinct in every \
         sampled row; this is the\n# first column named like an identifier whose sampled \
         values all are\n# seen: never empty, e.g. \"7590-VHVEG\"\nfrom = \"customerID\"\n\
         type = \"string\"\n"
    ));
    assert_eq!(
        table_of(&mapping, "SeniorCitizen"),
        [
            "from = \"SeniorCitizen\"",
            "to = \"senior_citizen\"",
            "type = \"number\""
        ]
    );
    assert_eq!(
        table_of(&mapping, "Partner"),
        [
            "from = \"Partner\"",
            "to = \"partner\"",
            "type = \"boolean\""
        ]
    );
    // " " in 11 rows is empty for a number, so the column stays a number.
    assert_eq!(
        table_of(&mapping, "TotalCharges"),
        [
            "from = \"TotalCharges\"",
            "to = \"total_charges\"",
            "type = \"number\""
        ]
    );
    assert!(mapping
        .contains("# seen: 0.2% empty (11 of 7043), e.g. \"29.85\"\nfrom = \"TotalCharges\""));
}

#[test]
fn semicolons_and_windows_1252_are_found_and_said() {
    let shopify = mapping_for(SHOPIFY);
    assert!(shopify.contains(
        "[source]\n# `;` splits the header into the most columns (10)\nformat = \"csv\"\n\
         delimiter = \";\"\nencoding = \"utf-8\"\n"
    ));
    let salesforce = mapping_for("salesforce-dataloader/accountData.csv");
    assert!(salesforce.contains("\ndelimiter = \",\"\nencoding = \"windows-1252\"\n"));
    assert!(salesforce.contains("# windows-1252: line 72 is not valid UTF-8"));
}

#[test]
fn northwind_postal_codes_and_phones_stay_text() {
    let mapping = mapping_for("northwind/customers.csv");
    assert_eq!(
        table_of(&mapping, "postal_code")[..3],
        [
            "from = \"postal_code\"",
            "to = \"postal_code\"",
            "type = \"string\""
        ]
    );
    assert!(mapping.contains(
        "# \"postal_code\": 66 values are numbers but 24 are not (e.g. `WA1 1DP`): kept as text\n"
    ));
    assert!(mapping.contains("from = \"customer_id\"\ntype = \"string\"\n"));
}

#[test]
fn nested_ndjson_becomes_key_paths_and_dynamic_objects_stay_whole() {
    let mapping = mapping_for("mongodb-sample-analytics/customers.json");
    assert!(mapping.contains("from = \"_id.$oid\"\ntype = \"string\"\n"));
    assert_eq!(
        table_of(&mapping, "tier_and_details"),
        [
            "from = \"tier_and_details\"",
            "to = \"tier_and_details\"",
            "type = \"json\""
        ]
    );
    assert_eq!(
        table_of(&mapping, "accounts"),
        [
            "from = \"accounts\"",
            "to = \"accounts\"",
            "type = \"array\""
        ]
    );
}

#[test]
fn a_live_import_of_a_real_export_stores_what_the_file_says() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = real().join("northwind/customers.csv");
    let mapping = dir.path().join("northwind.toml");
    let written = init(&[path(&file), "-o", path(&mapping)]);
    assert_eq!(code(&written), 0, "{}", output_text(&written));
    let emulator = Emulator::start();
    let dead = dir.path().join("dead.ndjson");
    let run = import(&[
        path(&file),
        "--mapping",
        path(&mapping),
        "--api-url",
        &emulator.url,
        "--api-key",
        KEY,
        "--dead-letter",
        path(&dead),
        "-q",
    ]);
    assert_eq!(code(&run), 0, "{}", output_text(&run));
    let customers = emulator.customers();
    let customers = customers.as_object().expect("an object");
    assert_eq!(customers.len(), 91);
    let anatr = &customers["ANATR"];
    assert_eq!(anatr["postal_code"], "05021");
    assert_eq!(anatr["city"], "México D.F.");
    assert_eq!(anatr["phone"], "(5) 555-4729");
    assert_eq!(anatr["customer_id"], "ANATR");
    assert_eq!(customers["ALFKI"]["address"], "Obere Str. 57");
    assert_eq!(customers["ALFKI"].get("region"), None);
}

#[test]
fn init_never_replaces_a_file_without_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("m.toml");
    std::fs::write(&out, "keep me").expect("write");
    let file = path(&real().join("laudspeaker-fixtures/example.csv")).to_string();
    let refused = init(&[&file, "-o", path(&out)]);
    assert_eq!(code(&refused), 2);
    assert!(output_text(&refused).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "keep me");
    let forced = init(&[&file, "-o", path(&out), "--force"]);
    assert_eq!(code(&forced), 0, "{}", output_text(&forced));
    assert!(std::fs::read_to_string(&out)
        .expect("read")
        .starts_with("# Mapping for example.csv"));
}

/// The README's "Bringing your export" round, step by step (the emulator
/// on a free port instead of 3001).
#[test]
fn the_readme_round_trip_works_as_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = common::root().join("fixtures/mailchimp-audience.csv");
    let toml = dir.path().join("audience.toml");
    assert_eq!(code(&init(&[path(&csv), "-o", path(&toml)])), 0);
    let written = std::fs::read_to_string(&toml).expect("mapping written");
    let rating = "from = \"MEMBER_RATING\"\nto = \"member_rating\"\ntype = \"string\"";
    assert!(written.contains(rating));
    let edited = written.replace(rating, &rating.replace("\"string\"", "\"number\""));
    std::fs::write(&toml, edited).expect("edit the mapping");
    let checked = Command::new(bin())
        .args(["check", path(&csv), "--mapping", path(&toml)])
        .output()
        .expect("run check");
    assert_eq!(code(&checked), 1);
    let table = String::from_utf8_lossy(&checked.stdout).into_owned();
    assert!(table.contains("would be dead-lettered           2  primary_key 1, value 1\n"));
    let emulator = Emulator::start();
    let dead = dir.path().join("audience.dead-letter.ndjson");
    let live = |input: &Path| {
        import(&[
            path(input),
            "--mapping",
            path(&toml),
            "--api-url",
            &emulator.url,
            "--api-key",
            KEY,
            "--dead-letter",
            path(&dead),
            "-q",
        ])
    };
    assert_eq!(code(&live(&csv)), 1);
    let lines: Vec<u64> = dead_letters(&dead)
        .iter()
        .map(|entry| entry["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [8, 17]);
    let text = std::fs::read_to_string(&dead).expect("dead letters");
    let fixed = text
        .replace("not-an-email.example.org", "elif6@example.org")
        .replace(",five,", ",5,");
    let refeed = dir.path().join("fixed.ndjson");
    std::fs::write(&refeed, fixed).expect("write the fixed file");
    assert_eq!(code(&live(&refeed)), 0);
    let customers = emulator.customers();
    assert_eq!(customers.as_object().expect("an object").len(), 24);
    assert_eq!(customers["ximena15@example.org"]["member_rating"], 5);
    assert_eq!(customers["elif6@example.org"]["first_name"], "Elif");
}

/// Writes `bytes` as `name` in `dir` and runs `mapping init` on it with
/// `args`; returns the mapping text (after checking it imports `name`
/// with `dead` dead letters in a dry run).
fn init_generated(dir: &Path, name: &str, bytes: &[u8], args: &[&str], dead: usize) -> String {
    let input = dir.join(name);
    std::fs::write(&input, bytes).expect("write the input");
    let mapping = dir.join(format!("{name}.toml"));
    let mut all = vec![path(&input), "-o", path(&mapping), "--force"];
    all.extend_from_slice(args);
    let out = init(&all);
    assert_eq!(code(&out), 0, "{name}: {}", output_text(&out));
    check_loads_and_binds(&input, &mapping);
    let letters = dir.join(format!("{name}.dead.ndjson"));
    let run = import(&[
        path(&input),
        "--mapping",
        path(&mapping),
        "--dry-run",
        "--dead-letter",
        path(&letters),
        "-q",
    ]);
    assert_eq!(
        dead_letters(&letters).len(),
        dead,
        "{name}: {}",
        output_text(&run)
    );
    std::fs::read_to_string(&mapping).expect("mapping written")
}

#[test]
fn repeated_and_empty_header_names_are_left_out_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = b"Email,Phone,,Phone,Name\na@x.io,1,z,2,Ann\nb@x.io,3,y,4,Bob\n";
    let mapping = init_generated(dir.path(), "dup.csv", csv, &[], 0);
    assert!(mapping.contains("# column 3 has no name in the header: not mapped"));
    assert!(mapping.contains("# column 4 \"Phone\" shares its name with another column"));
    assert!(!mapping.contains("from = \"Phone\""));
    let named = init_generated(dir.path(), "dup.csv", csv, &["--primary-key", "Name"], 0);
    assert!(named.contains("# \"Name\": chosen with --primary-key\n"));
    assert!(named.contains("from = \"Name\"\ntype = \"string\"\n"));
}

#[test]
fn delimiter_encoding_and_sample_size_can_be_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tabbed = b"id\tscore\n1\t10\n2\t20\n3\tabc\n";
    let mapping = init_generated(dir.path(), "t.txt", tabbed, &["--delimiter", "\\t"], 0);
    assert!(mapping.contains("\ndelimiter = \"\\t\"\n"));
    assert!(mapping.contains("# \"score\": 2 values are numbers but 1 is not (e.g. `abc`)"));
    // Two sampled rows say number; the third row is then a bad value.
    let sampled = init_generated(dir.path(), "t.txt", tabbed, &["--sample", "2"], 1);
    assert!(sampled.contains("# from the first 2 rows."));
    assert!(sampled.contains("from = \"score\"\nto = \"score\"\ntype = \"number\"\n"));
    let latin = b"email,city\nz@x.io,K\xf6ln\n";
    let mapping = init_generated(dir.path(), "l.csv", latin, &["--encoding", "latin-1"], 0);
    assert!(mapping.contains("\nencoding = \"windows-1252\"\n"));
    assert!(mapping.contains("e.g. \"Köln\""));
}

#[test]
fn an_ndjson_key_that_is_sometimes_an_object_is_sent_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = b"{\"id\":\"a\",\"plan\":{\"tier\":1}}\n{\"id\":\"b\",\"plan\":5}\n";
    let mapping = init_generated(dir.path(), "p.ndjson", lines, &[], 0);
    assert!(mapping.contains("from = \"plan\"\nto = \"plan\"\ntype = \"json\"\n"));
    assert!(!mapping.contains("plan.tier"));
}
