//! Tests of the public conversion surface, built from the shared cases'
//! inputs and expected outputs, plus loops over odd inputs that must never
//! panic or write invalid JSON.

use serde_json::{json, Value};

use super::*;

fn rule(value_type: ValueType) -> Conversion {
    Conversion::new(value_type)
}

fn with_format(value_type: ValueType, format: &str) -> Conversion {
    Conversion {
        format: Some(format.to_string()),
        ..rule(value_type)
    }
}

fn lowercased(value_type: ValueType) -> Conversion {
    Conversion {
        lowercase: true,
        ..rule(value_type)
    }
}

/// The JSON text a CSV cell converts to; `None` when empty; the reason when
/// refused. Checks that nothing but the value is appended.
fn text(conversion: &Conversion, cell: &str) -> Result<Option<String>, String> {
    let mut out = b"{\"before\":1,\"v\":".to_vec();
    let start = out.len();
    let result = conversion.text_into(cell, &mut out);
    finish(result, out, start)
}

fn json_value(conversion: &Conversion, value: &Value) -> Result<Option<String>, String> {
    let mut out = b"[".to_vec();
    let result = conversion.json_into(value, &mut out);
    finish(result, out, 1)
}

fn finish(
    result: Result<Converted, ConvertError>,
    out: Vec<u8>,
    start: usize,
) -> Result<Option<String>, String> {
    let written = String::from_utf8(out[start..].to_vec()).expect("output stays UTF-8");
    match result {
        Ok(Converted::Written) => {
            let parsed: Result<Value, _> = serde_json::from_str(&written);
            assert!(parsed.is_ok(), "invalid JSON written: {written}");
            Ok(Some(written))
        }
        Ok(Converted::Empty) => {
            assert_eq!(written, "", "nothing written for an empty value");
            Ok(None)
        }
        Err(err) => {
            assert_eq!(written, "", "nothing written for a refused value");
            Err(err.0)
        }
    }
}

fn some(json: &str) -> Result<Option<String>, String> {
    Ok(Some(json.to_string()))
}

fn assert_refused_with(result: Result<Option<String>, String>, words: &str) {
    match result {
        Err(reason) => assert!(reason.contains(words), "`{reason}` lacks `{words}`"),
        Ok(value) => panic!("accepted as {value:?}, expected a refusal naming `{words}`"),
    }
}

#[test]
fn case_csv_number_strictness() {
    let number = rule(ValueType::Number);
    assert_eq!(text(&number, "42"), some("42"));
    assert_eq!(text(&number, " -3.50 "), some("-3.50"));
    assert_eq!(text(&number, "1e3"), some("1e3"));
    assert_eq!(text(&number, "007"), some("7"));
    assert_refused_with(text(&number, "0x1A"), "hexadecimal");
    assert_refused_with(text(&number, "Infinity"), "Infinity");
    assert_refused_with(text(&number, "NaN"), "NaN");
    assert_refused_with(text(&number, "1,234"), "thousands separators");
    assert_refused_with(text(&number, "12 345"), "white space inside");
    assert_refused_with(text(&number, "9007199254740993"), "too large to keep exact");
    assert_refused_with(text(&number, "9007199254740993"), "9007199254740991");
    assert_eq!(text(&number, ""), Ok(None));
    assert_eq!(text(&number, "9007199254740991"), some("9007199254740991"));
}

#[test]
fn case_csv_semicolon_delimiter_numbers() {
    let number = rule(ValueType::Number);
    assert_eq!(text(&number, "1234"), some("1234"));
    assert_eq!(text(&number, "99.90"), some("99.90"));
    assert_refused_with(text(&number, "12,5"), "decimal comma");
}

#[test]
fn case_csv_boolean_spellings() {
    let boolean = rule(ValueType::Boolean);
    for cell in ["TRUE", "yes", "Y", "1", " t "] {
        assert_eq!(text(&boolean, cell), some("true"), "{cell}");
    }
    for cell in ["False", "no", "0"] {
        assert_eq!(text(&boolean, cell), some("false"), "{cell}");
    }
    assert_eq!(text(&boolean, ""), Ok(None));
    for cell in ["maybe", "2", "oui"] {
        assert_refused_with(text(&boolean, cell), "not a boolean");
    }
}

#[test]
fn case_csv_date_formats() {
    let signup = with_format(ValueType::Date, "%d/%m/%Y");
    let birthday = rule(ValueType::Date);
    assert_eq!(text(&signup, "03/04/2021"), some(r#""2021-04-03""#));
    assert_eq!(text(&birthday, "1990-12-01"), some(r#""1990-12-01""#));
    assert_eq!(text(&signup, "15/04/2021"), some(r#""2021-04-15""#));
    assert_eq!(text(&signup, "1/2/2021"), some(r#""2021-02-01""#));
    assert_refused_with(text(&signup, "04/15/2021"), "no month 15");
    assert_refused_with(
        text(&signup, "2021-04-03"),
        "not in the declared format %d/%m/%Y",
    );
    assert_refused_with(text(&signup, "31/02/2021"), "no such date");
    assert_refused_with(text(&birthday, "1985-02-29"), "no such date");
    let not_iso = "not ISO YYYY-MM-DD and no format declared";
    assert_refused_with(text(&birthday, "12/01/1990"), not_iso);
    assert_eq!(text(&signup, ""), Ok(None));
    assert_eq!(text(&birthday, ""), Ok(None));
}

#[test]
fn case_csv_email_normalisation() {
    let email = lowercased(ValueType::Email);
    let key = |cell: &str| email.key_from_text(cell);
    assert_eq!(
        key("  Ana.Lima@Example.COM "),
        Ok(Some("ana.lima@example.com".into()))
    );
    assert_eq!(
        text(&email, "  Ana.Lima@Example.COM "),
        some(r#""ana.lima@example.com""#)
    );
    assert_eq!(
        key("bruno@example.com\u{a0} "),
        Ok(Some("bruno@example.com".into()))
    );
    assert_eq!(
        text(&email, "bruno@example.com\u{a0} "),
        some(r#""bruno@example.com""#)
    );
    assert_eq!(
        key("\tcarla@EXAMPLE.org"),
        Ok(Some("carla@example.org".into()))
    );
    assert!(key("dario at example.com").is_err());
    let two = key("elsa@example.com; fred@example.com").expect_err("refused");
    assert!(two.0.contains("white space"), "{two}");
    let at = key("gina@@example.com").expect_err("refused");
    assert!(at.0.contains("`@`"), "{at}");
    let dot = key("hugo@example").expect_err("refused");
    assert!(dot.0.contains("domain has no dot"), "{dot}");
    assert_eq!(key(""), Ok(None));
}

#[test]
fn case_csv_no_type_guessing() {
    let string = rule(ValueType::String);
    for cell in [
        "02134",
        "+15550100123",
        "1E5",
        "TRUE",
        "null",
        "00501",
        "0x1F",
        "no",
        "NaN",
    ] {
        assert_eq!(text(&string, cell), some(&format!("\"{cell}\"")));
    }
    assert_eq!(
        text(&string, "0044 20 7946 0000"),
        some(r#""0044 20 7946 0000""#)
    );
    assert_eq!(string.key_from_text("00042"), Ok(Some("00042".into())));
    assert_eq!(
        text(&rule(ValueType::Email), "amy@example.com"),
        some(r#""amy@example.com""#)
    );
}

#[test]
fn case_csv_empty_cells() {
    let plain = rule(ValueType::String);
    let trimmed = Conversion {
        trim: true,
        ..rule(ValueType::String)
    };
    assert_eq!(text(&plain, ""), Ok(None));
    assert_eq!(text(&trimmed, ""), Ok(None));
    assert_eq!(text(&trimmed, "   "), Ok(None));
    assert_eq!(text(&trimmed, "  Vandelay "), some(r#""Vandelay""#));
    assert_eq!(text(&trimmed, "+4911111"), some(r#""+4911111""#));
}

#[test]
fn case_csv_nul_bytes_are_refused_for_every_type() {
    let types = [
        ValueType::String,
        ValueType::Number,
        ValueType::Boolean,
        ValueType::Email,
        ValueType::Date,
        ValueType::Datetime,
        ValueType::Array,
        ValueType::Json,
    ];
    for value_type in types {
        assert_refused_with(text(&rule(value_type), "Qu\u{0}inn"), "NUL");
        assert_refused_with(text(&rule(value_type), "\u{0}\u{0}"), "NUL");
    }
    assert!(rule(ValueType::String).key_from_text("a\u{0}").is_err());
    assert!(rule(ValueType::Email).key_from_text("a\u{0}@b.c").is_err());
}

#[test]
fn case_duplicate_keys_normalise_to_one_key() {
    let email = lowercased(ValueType::Email);
    for cell in ["u1@example.com", "U1@Example.com", " u1@example.com "] {
        assert_eq!(email.key_from_text(cell), Ok(Some("u1@example.com".into())));
    }
    assert_eq!(text(&rule(ValueType::Number), "25"), some("25"));
    assert_eq!(
        text(&rule(ValueType::Date), "2024-01-31"),
        some(r#""2024-01-31""#)
    );
}

#[test]
fn case_quoted_newlines_are_kept_in_strings() {
    let string = rule(ValueType::String);
    assert_eq!(
        text(&string, "Line one\nLine two\n"),
        some(r#""Line one\nLine two\n""#)
    );
    assert_eq!(
        text(&string, r#"Bo "Bobby" Lee"#),
        some(r#""Bo \"Bobby\" Lee""#)
    );
}

#[test]
fn case_ndjson_malformed_lines() {
    let good = parse_strict_json(br#"{"email":"m1@example.com","plan":"free"}"#);
    assert_eq!(good, Ok(json!({"email": "m1@example.com", "plan": "free"})));
    let refused = |line: &str| {
        parse_strict_json(line.as_bytes())
            .expect_err("refused")
            .message
    };
    let trailing = refused(r#"{"email":"m2@example.com","plan":"pro"} trailing"#);
    assert!(trailing.contains("text after the JSON value"), "{trailing}");
    let two = refused(r#"{"email":"m3@example.com","plan":"pro"}{"email":"m4@example.com"}"#);
    assert!(two.contains("more than one JSON value"), "{two}");
    let truncated = refused(r#"{"email":"m5@example.com","plan":"te"#);
    assert!(truncated.contains("truncated"), "{truncated}");
    let comma = refused(r#"{"email":"m9@example.com","plan":"free",}"#);
    assert!(comma.contains("trailing comma"), "{comma}");
    let email = rule(ValueType::Email);
    assert_eq!(email.key_from_json(&Value::Null), Ok(None));
    let array = parse_strict_json(br#"["m6@example.com","free"]"#).expect("valid JSON");
    assert!(array.is_array());
}

#[test]
fn case_ndjson_blank_lines_values() {
    let line = parse_strict_json(b"{\"email\":\"k1@example.com\",\"plan\":\"free\"}\r")
        .expect("CR is white space");
    let plan = rule(ValueType::String);
    assert_eq!(json_value(&plan, &line["plan"]), some(r#""free""#));
    let key = rule(ValueType::Email).key_from_json(&line["email"]);
    assert_eq!(key, Ok(Some("k1@example.com".into())));
}

#[test]
fn json_strings_follow_the_text_rules() {
    let trimmed = Conversion {
        trim: true,
        lowercase: true,
        ..rule(ValueType::String)
    };
    assert_eq!(json_value(&trimmed, &json!(" MiXed ")), some(r#""mixed""#));
    assert_eq!(json_value(&trimmed, &json!("   ")), Ok(None));
    assert_eq!(json_value(&rule(ValueType::String), &json!("")), Ok(None));
    assert_eq!(
        json_value(&rule(ValueType::Number), &json!(" +1.50 ")),
        some("1.50")
    );
    assert_eq!(
        json_value(&rule(ValueType::Boolean), &json!("Yes")),
        some("true")
    );
    let email = lowercased(ValueType::Email);
    assert_eq!(json_value(&email, &json!(" A@B.CO ")), some(r#""a@b.co""#));
    let date = with_format(ValueType::Date, "%d/%m/%Y");
    assert_eq!(
        json_value(&date, &json!("3/4/2021")),
        some(r#""2021-04-03""#)
    );
    let datetime = rule(ValueType::Datetime);
    let instant = json_value(&datetime, &json!("2024-03-01T10:00:00+01:00"));
    assert_eq!(instant, some(r#""2024-03-01T09:00:00Z""#));
    assert_refused_with(
        json_value(&rule(ValueType::String), &json!("a\u{0}b")),
        "NUL",
    );
}

#[test]
fn json_null_is_empty_for_every_type() {
    let types = [
        ValueType::String,
        ValueType::Number,
        ValueType::Boolean,
        ValueType::Email,
        ValueType::Date,
        ValueType::Datetime,
        ValueType::Array,
        ValueType::Json,
    ];
    for value_type in types {
        assert_eq!(json_value(&rule(value_type), &Value::Null), Ok(None));
    }
}

#[test]
fn json_numbers_sent_as_strings_keep_their_source_text() {
    let string = lowercased(ValueType::String);
    let line = parse_strict_json(br#"{"a":0.10,"b":12345678901234567890,"c":-0,"d":1E5}"#)
        .expect("valid JSON");
    assert_eq!(json_value(&string, &line["a"]), some(r#""0.10""#));
    assert_eq!(
        json_value(&string, &line["b"]),
        some(r#""12345678901234567890""#)
    );
    assert_eq!(json_value(&string, &line["c"]), some(r#""-0""#));
    // The exponent keeps its spelling: the exact source text.
    assert_eq!(json_value(&string, &line["d"]), some(r#""1E5""#));
    assert_eq!(json_value(&string, &json!(true)), some(r#""true""#));
    assert_eq!(json_value(&string, &json!(false)), some(r#""false""#));
    assert_refused_with(json_value(&string, &json!({"a": 1})), "found a JSON object");
    assert_refused_with(json_value(&string, &json!([1])), "found a JSON array");
}

#[test]
fn json_numbers_for_number_keep_the_integer_limit() {
    let number = rule(ValueType::Number);
    let line = parse_strict_json(br#"[9007199254740991,9007199254740992,1.5e3,1e400,-0.0]"#)
        .expect("valid JSON");
    assert_eq!(json_value(&number, &line[0]), some("9007199254740991"));
    assert_refused_with(json_value(&number, &line[1]), "too large to keep exact");
    assert_eq!(json_value(&number, &line[2]), some("1.5e3"));
    assert_refused_with(json_value(&number, &line[3]), "out of range");
    assert_eq!(json_value(&number, &line[4]), some("-0.0"));
    assert_refused_with(json_value(&number, &json!(true)), "found a JSON boolean");
    assert_refused_with(json_value(&number, &json!([1])), "found a JSON array");
}

#[test]
fn json_booleans_accept_bools_spellings_and_zero_or_one() {
    let boolean = rule(ValueType::Boolean);
    assert_eq!(json_value(&boolean, &json!(true)), some("true"));
    assert_eq!(json_value(&boolean, &json!(false)), some("false"));
    assert_eq!(json_value(&boolean, &json!(1)), some("true"));
    assert_eq!(json_value(&boolean, &json!(0)), some("false"));
    assert_eq!(json_value(&boolean, &json!(" n ")), some("false"));
    assert_refused_with(json_value(&boolean, &json!(2)), "not a boolean");
    assert_refused_with(json_value(&boolean, &json!(1.0)), "not a boolean");
    assert_refused_with(json_value(&boolean, &json!({})), "found a JSON object");
}

#[test]
fn json_strings_are_needed_for_email_and_dates() {
    for value_type in [ValueType::Email, ValueType::Date, ValueType::Datetime] {
        let conversion = rule(value_type);
        assert_refused_with(
            json_value(&conversion, &json!(20240101)),
            "found a JSON number",
        );
        assert_refused_with(
            json_value(&conversion, &json!(true)),
            "expected a JSON string",
        );
    }
}

#[test]
fn json_arrays_and_values_pass_through_unchanged() {
    let array = rule(ValueType::Array);
    let line = parse_strict_json(br#"{"tags":["a",1.50,{"b":null}],"obj":{"z":1,"a":[true]}}"#)
        .expect("valid JSON");
    assert_eq!(
        json_value(&array, &line["tags"]),
        some(r#"["a",1.50,{"b":null}]"#)
    );
    assert_eq!(json_value(&array, &json!([])), some("[]"));
    assert_refused_with(json_value(&array, &json!("a,b")), "expected a JSON array");
    let any = rule(ValueType::Json);
    assert_eq!(
        json_value(&any, &line["obj"]),
        some(r#"{"z":1,"a":[true]}"#)
    );
    assert_eq!(json_value(&any, &json!("text")), some(r#""text""#));
    assert_eq!(json_value(&any, &json!(false)), some("false"));
    assert_refused_with(json_value(&any, &json!({"a": ["\u{0}"]})), "NUL");
}

#[test]
fn csv_arrays_are_split_on_the_separator() {
    let array = Conversion {
        separator: ";".into(),
        ..rule(ValueType::Array)
    };
    assert_eq!(text(&array, "vip; beta ;;"), some(r#"["vip","beta"]"#));
    assert_eq!(text(&array, " ; "), Ok(None));
    assert_eq!(text(&rule(ValueType::Array), "a, b"), some(r#"["a","b"]"#));
}

#[test]
fn csv_json_cells_are_parsed_strictly() {
    let any = rule(ValueType::Json);
    assert_eq!(
        text(&any, r#" {"a": [1, 2.50], "b": {"c": "d"}} "#),
        some(r#"{"a":[1,2.50],"b":{"c":"d"}}"#)
    );
    assert_eq!(text(&any, "42"), some("42"));
    assert_eq!(text(&any, r#""x""#), some(r#""x""#));
    assert_eq!(text(&any, ""), Ok(None));
    assert_eq!(text(&any, " \t "), Ok(None));
    assert_eq!(text(&any, "null"), Ok(None));
    assert_refused_with(text(&any, r#"{"a":1,"a":2}"#), "key `a` repeated");
    assert_refused_with(text(&any, r#"{"a":1} x"#), "text after the JSON value");
    assert_refused_with(text(&any, r#"{"a":1,}"#), "trailing comma");
    assert_refused_with(text(&any, r#"{"a":"#), "truncated");
    assert_refused_with(text(&any, r#"["\u0000"]"#), "NUL");
    assert_refused_with(text(&any, "x"), "invalid JSON: expected value (column 1)");
    assert_refused_with(text(&any, "nope"), "(column 2)");
}

#[test]
fn csv_datetimes_use_format_and_timezone() {
    let berlin = Conversion {
        format: Some("%d.%m.%Y %H:%M".into()),
        timezone: Some(chrono_tz::Europe::Berlin),
        ..rule(ValueType::Datetime)
    };
    assert_eq!(
        text(&berlin, "31.03.2024 03:30"),
        some(r#""2024-03-31T01:30:00Z""#)
    );
    assert_refused_with(text(&berlin, "31.03.2024 02:30"), "daylight-saving");
    assert_refused_with(text(&berlin, "27.10.2024 02:30"), "occurs twice");
    let utc = with_format(ValueType::Datetime, "%d.%m.%Y %H:%M");
    assert_eq!(
        text(&utc, "31.03.2024 02:30"),
        some(r#""2024-03-31T02:30:00Z""#)
    );
    let iso = rule(ValueType::Datetime);
    assert_eq!(
        text(&iso, "2024-03-31T02:30:00.250+02:00"),
        some(r#""2024-03-31T00:30:00Z""#)
    );
    assert_refused_with(text(&iso, "2024-03-31T02:30:00"), "no UTC offset");
}

#[test]
fn keys_from_json_take_strings_and_numbers_for_string_keys() {
    let string = Conversion {
        trim: true,
        ..rule(ValueType::String)
    };
    let line = parse_strict_json(br#"{"id":00042}"#);
    assert!(line.is_err(), "leading zeros are not JSON");
    let line = parse_strict_json(br#"{"id":42,"big":123456789012345678901,"s":" x "}"#)
        .expect("valid JSON");
    assert_eq!(string.key_from_json(&line["id"]), Ok(Some("42".into())));
    assert_eq!(
        string.key_from_json(&line["big"]),
        Ok(Some("123456789012345678901".into()))
    );
    assert_eq!(string.key_from_json(&line["s"]), Ok(Some("x".into())));
    assert_eq!(string.key_from_json(&line["missing"]), Ok(None));
    assert_eq!(string.key_from_json(&json!("  ")), Ok(None));
    let boolean = string.key_from_json(&json!(true)).expect_err("refused");
    let words = "a primary key must be a JSON string or number, found a JSON boolean";
    assert_eq!(boolean.0, words);
    assert!(string.key_from_json(&json!({"a": 1})).is_err());
    let email = lowercased(ValueType::Email);
    assert_eq!(
        email.key_from_json(&json!(" X@Y.Z ")),
        Ok(Some("x@y.z".into()))
    );
    assert!(email.key_from_json(&json!(42)).is_err());
    assert!(email.key_from_json(&json!("x@y")).is_err());
}

#[test]
fn keys_of_other_types_are_refused() {
    let number = rule(ValueType::Number);
    let err = number.key_from_text("42").expect_err("refused");
    assert_eq!(
        err.0,
        "a primary key must be of type string or email, not number"
    );
}

#[test]
fn check_refuses_unusable_formats() {
    assert_eq!(rule(ValueType::Date).check(), Ok(()));
    assert_eq!(with_format(ValueType::Date, "%d/%m/%Y").check(), Ok(()));
    assert_eq!(
        with_format(ValueType::Datetime, "%d/%m/%Y %H:%M").check(),
        Ok(())
    );
    assert!(with_format(ValueType::Date, "%d/%m/%Y %Z").check().is_err());
    assert!(with_format(ValueType::Date, "%Q").check().is_err());
    let no_time = with_format(ValueType::Datetime, "%d/%m/%Y").check();
    let expected =
        "format `%d/%m/%Y` gives no time of day (hours and minutes), which a datetime needs";
    assert_eq!(no_time, Err(ConvertError(expected.into())));
}

#[test]
fn escape_json_str_is_public_and_quotes() {
    let mut out = Vec::new();
    escape_json_str("first\"Name", &mut out);
    assert_eq!(out, br#""first\"Name""#);
}

/// A small deterministic generator: no crate needed for odd inputs.
struct Odd(u64);

impl Odd {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn text(&mut self, alphabet: &[char], max_len: u64) -> String {
        let len = self.next() % (max_len + 1);
        (0..len)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize])
            .collect()
    }
}

const ODD_CHARS: &[char] = &[
    '0', '1', '2', '9', '.', '+', '-', 'e', 'E', ',', ' ', '\u{a0}', '\u{3000}', '@', 'x', 'T',
    ':', '/', 'Z', '"', '\\', '{', '}', '[', ']', '\0', '\t', '\n', 'é', '€', '𝄞', 'n', 'u', 'l',
];

const ALL_TYPES: [ValueType; 8] = [
    ValueType::String,
    ValueType::Number,
    ValueType::Boolean,
    ValueType::Email,
    ValueType::Date,
    ValueType::Datetime,
    ValueType::Array,
    ValueType::Json,
];

fn odd_conversions() -> Vec<Conversion> {
    let mut rules: Vec<Conversion> = ALL_TYPES.iter().map(|t| rule(*t)).collect();
    for value_type in ALL_TYPES {
        rules.push(Conversion {
            trim: true,
            lowercase: true,
            separator: String::new(),
            ..rule(value_type)
        });
    }
    for format in [
        "%d/%m/%Y",
        "%Y%m%d%H%M%S",
        "%e %b %Y %I:%M %p %z",
        "%s",
        "%.f%j",
        "%Z",
    ] {
        for value_type in [ValueType::Date, ValueType::Datetime] {
            rules.push(Conversion {
                timezone: Some(chrono_tz::Europe::Berlin),
                ..with_format(value_type, format)
            });
        }
    }
    rules
}

#[test]
fn odd_cells_never_panic_nor_write_invalid_json() {
    let rules = odd_conversions();
    let mut odd = Odd(7);
    for _ in 0..3000 {
        let cell = odd.text(ODD_CHARS, 14);
        for conversion in &rules {
            // `text` checks the JSON written and that a refusal writes nothing.
            let _ = text(conversion, &cell);
            let _ = json_value(conversion, &Value::String(cell.clone()));
            if matches!(conversion.value_type, ValueType::String | ValueType::Email) {
                let _ = conversion.key_from_text(&cell);
            }
        }
    }
}

#[test]
fn odd_number_and_date_shaped_cells_never_panic() {
    let digits = &[
        '0', '1', '5', '9', '-', '+', '.', 'e', ':', 'T', 'Z', '/', ' ',
    ];
    let rules = odd_conversions();
    let mut odd = Odd(11);
    for _ in 0..4000 {
        let cell = odd.text(digits, 26);
        for conversion in &rules {
            let _ = text(conversion, &cell);
        }
    }
}

#[test]
fn odd_json_texts_never_panic_and_round_trip() {
    let json_chars = &[
        '{', '}', '[', ']', '"', ':', ',', ' ', '1', '0', '-', '.', 'e', 'E', '+', 't', 'r', 'u',
        'e', 'n', 'l', 'a', '\\', 'u', '\n', '\u{0}', 'é',
    ];
    let mut odd = Odd(3);
    for _ in 0..20_000 {
        let text = odd.text(json_chars, 16);
        if let Ok(value) = parse_strict_json(text.as_bytes()) {
            let mut out = Vec::new();
            json::write_value(&value, &mut out);
            assert_eq!(parse_strict_json(&out), Ok(value), "{text}");
        } else if let Err(err) = parse_strict_json(text.as_bytes()) {
            assert!(err.column >= 1, "{text}: {err}");
            assert!(!err.message.is_empty());
        }
    }
    let bytes: Vec<u8> = (0..=255u8).collect();
    for window in bytes.windows(5) {
        let _ = parse_strict_json(window);
    }
}

#[test]
fn odd_json_values_never_panic() {
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5),
        json!(""),
        json!(" "),
        json!([]),
        json!({}),
        json!([null, [], {}]),
        json!({"a": {"b": [1, "x"]}}),
        json!(u64::MAX),
        json!(i64::MIN),
    ];
    for conversion in odd_conversions() {
        for value in &values {
            let _ = json_value(&conversion, value);
            let _ = conversion.key_from_json(value);
        }
    }
}
