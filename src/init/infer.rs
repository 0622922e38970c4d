//! Type inference for `mapping init`: what each column's sampled values
//! say about its type, judged by the import's own conversion rules
//! ([`crate::convert`]), so a type chosen here converts every sampled value.
//!
//! The rules, most specific first: a column whose every non-empty value is
//! an email address is `email`; numbers are `number` unless one has a
//! leading zero, a `+` sign, or the column is named like a phone, postal
//! code or identifier; `true/false` and `yes/no` words are `boolean`; a
//! date or datetime needs one format that reads every value, and no second
//! format that reads them differently (03/04/2024 with no part above 12 is
//! day-first or month-first: text); everything else is `string`.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;

use crate::convert::{Conversion, ValueType};

use super::naming::snake_case;

/// Date formats tried, in order of preference. The day-first and
/// month-first spellings of one shape are tried together: when both read
/// every value, the column is ambiguous.
pub const DATE_FORMATS: [&str; 7] = [
    "%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y",
];

/// Datetime formats tried; `None` is RFC 3339 with an offset (the rule
/// without a format). Formats with no offset are read in UTC.
pub const DATETIME_FORMATS: [Option<&str>; 12] = [
    None,
    Some("%Y-%m-%dT%H:%M:%S%.f%z"),
    Some("%Y-%m-%d %H:%M:%S%.f %z"),
    Some("%Y-%m-%d %H:%M:%S"),
    Some("%Y-%m-%dT%H:%M:%S"),
    Some("%Y-%m-%d %H:%M:%S%.f"),
    Some("%Y-%m-%dT%H:%M:%S%.f"),
    Some("%Y-%m-%d %H:%M"),
    Some("%d/%m/%Y %H:%M:%S"),
    Some("%m/%d/%Y %H:%M:%S"),
    Some("%d/%m/%Y %H:%M"),
    Some("%m/%d/%Y %H:%M"),
];

/// Sample values are cut to this many characters in comments.
const SAMPLE_CHARS: usize = 40;

/// What was seen of one column (or NDJSON key path) in the sample.
#[derive(Debug, Default)]
pub struct ColumnStats {
    /// Rows that had this column (NDJSON: records, the key present or not).
    pub seen: u64,
    /// Values empty after trimming white space (NDJSON: null or missing).
    pub empty: u64,
    /// The first non-empty value, cut to a readable length.
    pub sample: Option<String>,
    numbers: Check,
    leading_zero: Option<String>,
    plus_sign: Option<String>,
    booleans: Check,
    emails: Check,
    dates: Vec<Check>,
    datetimes: Vec<Check>,
    kinds: Kinds,
    /// Digests of the trimmed, lowercased values while every one is
    /// distinct and none is empty; dropped at the first repeat.
    distinct: Option<HashSet<u64>>,
    repeated: bool,
    scratch: Vec<u8>,
}

/// How many non-empty values passed and failed one rule, and the first
/// that failed.
#[derive(Debug, Default, Clone)]
struct Check {
    passed: u64,
    failed: u64,
    example: Option<String>,
}

impl Check {
    fn note(&mut self, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }

    fn note_value(&mut self, ok: bool, value: &str) {
        self.note(ok);
        if !ok && self.example.is_none() {
            self.example = Some(shown(value));
        }
    }

    /// Most values passed, but not all.
    fn mostly(&self) -> bool {
        self.passed > self.failed && self.failed > 0
    }

    fn all(&self) -> bool {
        self.failed == 0 && self.passed > 0
    }

    /// Still worth trying: everything so far passed, or it matched some.
    fn alive(&self) -> bool {
        self.failed == 0 || self.passed > 0
    }
}

/// The JSON kinds of an NDJSON key path's values.
#[derive(Debug, Default, Clone, Copy)]
struct Kinds {
    strings: u64,
    numbers: u64,
    bools: u64,
    arrays: u64,
    objects: u64,
}

impl ColumnStats {
    pub fn new() -> Self {
        ColumnStats {
            dates: vec![Check::default(); DATE_FORMATS.len()],
            datetimes: vec![Check::default(); DATETIME_FORMATS.len()],
            distinct: Some(HashSet::new()),
            ..ColumnStats::default()
        }
    }

    /// Non-empty values seen.
    pub fn filled(&self) -> u64 {
        self.seen - self.empty
    }

    /// Non-empty values that are not email addresses, with the first one,
    /// when at least four in five are.
    pub fn mostly_emails(&self) -> Option<(u64, &str)> {
        let check = &self.emails;
        let mostly = check.passed >= 4 * check.failed && check.passed > 0;
        mostly.then(|| (check.failed, check.example.as_deref().unwrap_or("")))
    }

    /// Every sampled value was non-empty and distinct from the others.
    pub fn unique_and_filled(&self) -> bool {
        self.seen > 0 && self.empty == 0 && !self.repeated
    }

    /// Notes a CSV cell.
    pub fn observe_text(&mut self, text: &str) {
        self.seen += 1;
        self.text_value(text);
    }

    /// Notes an NDJSON value (`None`: the key is missing).
    pub fn observe_json(&mut self, value: Option<&Value>) {
        self.seen += 1;
        match value {
            None | Some(Value::Null) => self.note_empty(),
            Some(Value::String(text)) => {
                self.kinds.strings += 1;
                self.text_value(text);
            }
            Some(Value::Number(number)) => {
                self.kinds.numbers += 1;
                let ok = Conversion::new(ValueType::Number)
                    .json_into(&Value::Number(number.clone()), &mut self.scratch)
                    .is_ok();
                self.scratch.clear();
                self.numbers.note(ok);
                self.note_filled(number.as_str());
            }
            Some(Value::Bool(flag)) => {
                self.kinds.bools += 1;
                self.note_filled(if *flag { "true" } else { "false" });
            }
            Some(value @ Value::Array(_)) => {
                self.kinds.arrays += 1;
                self.note_filled(&value.to_string());
            }
            Some(value @ Value::Object(_)) => {
                self.kinds.objects += 1;
                self.note_filled(&value.to_string());
            }
        }
    }

    fn note_empty(&mut self) {
        self.empty += 1;
        self.distinct = None;
    }

    fn text_value(&mut self, text: &str) {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            self.note_empty();
            return;
        }
        self.note_filled(trimmed);
        let number = self.passes(ValueType::Number, None, text);
        self.numbers.note_value(number, trimmed);
        let digits = trimmed.trim_start_matches(['+', '-']);
        if digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.") {
            self.leading_zero.get_or_insert_with(|| shown(trimmed));
        }
        if trimmed.starts_with('+') {
            self.plus_sign.get_or_insert_with(|| shown(trimmed));
        }
        let word = trimmed.to_ascii_lowercase();
        self.booleans
            .note(matches!(word.as_str(), "true" | "false" | "yes" | "no"));
        let email = self.passes(ValueType::Email, None, text);
        self.emails.note_value(email, trimmed);
        self.check_calendar(text);
    }

    fn check_calendar(&mut self, text: &str) {
        for (i, format) in DATE_FORMATS.iter().enumerate() {
            if self.dates[i].alive() {
                let ok = self.passes(ValueType::Date, Some(format), text);
                self.dates[i].note(ok);
            }
        }
        for (i, format) in DATETIME_FORMATS.iter().enumerate() {
            if self.datetimes[i].alive() {
                let ok = self.passes(ValueType::Datetime, *format, text);
                self.datetimes[i].note(ok);
            }
        }
    }

    /// Whether the import's conversion of `value_type` takes `text`.
    fn passes(&mut self, value_type: ValueType, format: Option<&str>, text: &str) -> bool {
        let mut conversion = Conversion::new(value_type);
        conversion.format = format.map(str::to_string);
        let ok = conversion.text_into(text, &mut self.scratch).is_ok();
        self.scratch.clear();
        ok
    }

    fn note_filled(&mut self, text: &str) {
        if self.sample.is_none() {
            self.sample = Some(shown(text));
        }
        if let Some(distinct) = &mut self.distinct {
            let mut hasher = DefaultHasher::new();
            text.trim().to_lowercase().hash(&mut hasher);
            if !distinct.insert(hasher.finish()) {
                self.repeated = true;
                self.distinct = None;
            }
        }
    }
}

/// A value as a comment shows it: one line, at most [`SAMPLE_CHARS`].
pub fn shown(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= SAMPLE_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(SAMPLE_CHARS).collect();
    format!("{cut}…")
}

/// The type chosen for a column, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    pub value_type: ValueType,
    /// Date or datetime format; `None` for RFC 3339 datetimes and others.
    pub format: Option<&'static str>,
    /// `"UTC"` for a datetime format that carries no offset.
    pub timezone: Option<&'static str>,
    /// One sentence for the comment.
    pub why: String,
}

impl Inferred {
    fn plain(value_type: ValueType, why: impl Into<String>) -> Self {
        Inferred {
            value_type,
            format: None,
            timezone: None,
            why: why.into(),
        }
    }
}

/// The type of a column named `name` with these sampled values.
pub fn infer(name: &str, stats: &ColumnStats) -> Inferred {
    if stats.filled() == 0 {
        return Inferred::plain(
            ValueType::String,
            "empty in every sampled row: kept as text",
        );
    }
    let k = stats.kinds;
    if k.objects > 0 || (k.arrays > 0 && k.arrays < stats.filled()) {
        return Inferred::plain(ValueType::Json, "holds objects or mixed JSON: sent as JSON");
    }
    if k.arrays > 0 {
        return Inferred::plain(ValueType::Array, "every value is a JSON array");
    }
    if k.bools > 0 && k.bools == stats.filled() {
        return Inferred::plain(ValueType::Boolean, "every value is a JSON boolean");
    }
    if k.bools > 0 {
        return Inferred::plain(ValueType::String, "booleans mixed with other values: text");
    }
    if k.numbers > 0 && k.strings > 0 {
        return Inferred::plain(ValueType::String, "numbers and text mixed: kept as text");
    }
    if stats.emails.all() {
        return Inferred::plain(ValueType::Email, "every value is an email address");
    }
    if stats.numbers.all() {
        return number_or_text(name, stats);
    }
    if stats.booleans.all() {
        return Inferred::plain(ValueType::Boolean, "every value is true/false or yes/no");
    }
    calendar(stats).unwrap_or_else(|| text(stats))
}

/// Numbers are sent as numbers unless they are codes written with digits.
fn number_or_text(name: &str, stats: &ColumnStats) -> Inferred {
    if let Some(example) = &stats.leading_zero {
        let why = format!("digits with a leading zero (`{example}`): kept as text to keep it");
        return Inferred::plain(ValueType::String, why);
    }
    if let Some(example) = &stats.plus_sign {
        let why = format!("digits with a `+` (`{example}`), like a phone number: kept as text");
        return Inferred::plain(ValueType::String, why);
    }
    if let Some(kind) = code_like_name(name) {
        let why = format!("digits, but named like {kind}: kept as text, not a quantity");
        return Inferred::plain(ValueType::String, why);
    }
    Inferred::plain(ValueType::Number, "every value is a number")
}

/// What a column name says its digits are, when they are a code.
pub fn code_like_name(name: &str) -> Option<&'static str> {
    let snake = snake_case(name);
    let words: Vec<&str> = snake.split('_').collect();
    let has = |list: &[&str]| words.iter().any(|word| list.contains(word));
    if has(&["phone", "mobile", "fax", "tel", "telephone", "cell"]) {
        Some("a phone number")
    } else if has(&["zip", "zipcode", "postal", "postcode", "plz"]) {
        Some("a postal code")
    } else if is_id_like(name) {
        Some("an identifier")
    } else {
        None
    }
}

/// `id`, `customer_id`, `Customer Id`, `userUUID`, `_id.$oid`, `api_key`.
pub fn is_id_like(name: &str) -> bool {
    let snake = snake_case(name);
    let words: Vec<&str> = snake.split('_').collect();
    words
        .iter()
        .any(|word| matches!(*word, "id" | "uuid" | "guid" | "oid"))
        || words.last() == Some(&"key")
}

/// A date or datetime when exactly one reading fits every value.
fn calendar(stats: &ColumnStats) -> Option<Inferred> {
    let dates: Vec<&str> = DATE_FORMATS
        .iter()
        .zip(&stats.dates)
        .filter(|(_, check)| check.all())
        .map(|(format, _)| *format)
        .collect();
    match pick(&dates, "date") {
        Some(Ok(format)) => {
            return Some(Inferred {
                value_type: ValueType::Date,
                format: Some(format),
                timezone: None,
                why: format!("every value is a date written `{format}`"),
            })
        }
        Some(Err(text)) => return Some(text),
        None => {}
    }
    let datetimes: Vec<Option<&'static str>> = DATETIME_FORMATS
        .iter()
        .zip(&stats.datetimes)
        .filter(|(_, check)| check.all())
        .map(|(format, _)| *format)
        .collect();
    let spelled: Vec<&str> = datetimes.iter().map(|f| f.unwrap_or("RFC 3339")).collect();
    match pick(&spelled, "datetime")? {
        Ok(_) => Some(datetime(datetimes[0])),
        Err(text) => Some(text),
    }
}

fn datetime(format: Option<&'static str>) -> Inferred {
    let offset = match format {
        None => true,
        Some(format) => format.contains("%z"),
    };
    let why = match format {
        None => "every value is an RFC 3339 date and time with an offset".to_string(),
        Some(f) if offset => format!("every value is a date and time written `{f}`"),
        Some(f) => format!(
            "every value is a date and time written `{f}`, with no offset: read as UTC \
             (change `timezone` if they are local times)"
        ),
    };
    Inferred {
        value_type: ValueType::Datetime,
        format,
        timezone: (!offset).then_some("UTC"),
        why,
    }
}

/// The first format when the fitting ones agree; text with the reason when
/// a day-first and a month-first format both fit.
fn pick<'f>(fitting: &[&'f str], what: &str) -> Option<Result<&'f str, Inferred>> {
    let first = *fitting.first()?;
    let day_first = fitting.iter().find(|f| f.starts_with("%d"));
    let month_first = fitting.iter().find(|f| f.starts_with("%m"));
    if let (Some(day), Some(month)) = (day_first, month_first) {
        let why = format!(
            "ambiguous {what}s: every value reads both as `{day}` and as `{month}` (no day \
             above 12 in the sample): kept as text; set type = \"{what}\" and the format \
             if you know which"
        );
        return Some(Err(Inferred::plain(ValueType::String, why)));
    }
    Some(Ok(first))
}

/// Text, saying so when most values were numbers, or dates in one format.
fn text(stats: &ColumnStats) -> Inferred {
    if stats.numbers.mostly() {
        let example = stats.numbers.example.as_deref().unwrap_or("");
        let failed = stats.numbers.failed;
        let why = format!(
            "{} values are numbers but {failed} {} not (e.g. `{example}`): kept as text",
            stats.numbers.passed,
            is_are(failed)
        );
        return Inferred::plain(ValueType::String, why);
    }
    let date = DATE_FORMATS
        .iter()
        .zip(&stats.dates)
        .find(|(_, check)| check.mostly());
    if let Some((format, check)) = date {
        let why = format!(
            "{} values are dates written `{format}` but {} {} not: kept as text",
            check.passed,
            check.failed,
            is_are(check.failed)
        );
        return Inferred::plain(ValueType::String, why);
    }
    Inferred::plain(ValueType::String, "text")
}

fn is_are(n: u64) -> &'static str {
    if n == 1 {
        "is"
    } else {
        "are"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats_of(values: &[&str]) -> ColumnStats {
        let mut stats = ColumnStats::new();
        for value in values {
            stats.observe_text(value);
        }
        stats
    }

    fn type_of(name: &str, values: &[&str]) -> (ValueType, Option<&'static str>) {
        let inferred = infer(name, &stats_of(values));
        (inferred.value_type, inferred.format)
    }

    #[test]
    fn numbers_only_when_every_value_obeys_the_number_rule() {
        assert_eq!(
            type_of("score", &["1", "2.5", "-3", "", "6.0E7"]).0,
            ValueType::Number
        );
        assert_eq!(type_of("score", &["1", "1,5"]).0, ValueType::String);
        assert_eq!(type_of("score", &["1", "0x1A"]).0, ValueType::String);
        assert_eq!(type_of("big", &["9007199254740993"]).0, ValueType::String);
    }

    #[test]
    fn codes_written_in_digits_stay_text() {
        let zip = infer("zip", &stats_of(&["02134", "10001"]));
        assert_eq!(zip.value_type, ValueType::String);
        assert_eq!(
            zip.why,
            "digits with a leading zero (`02134`): kept as text to keep it"
        );
        assert_eq!(type_of("ref", &["00123"]).0, ValueType::String);
        assert_eq!(type_of("x", &["+4915112345"]).0, ValueType::String);
        assert_eq!(type_of("Phone", &["5551234"]).0, ValueType::String);
        assert_eq!(type_of("Customer Id", &["17", "18"]).0, ValueType::String);
        assert_eq!(type_of("Postal Code", &["12209"]).0, ValueType::String);
        assert_eq!(
            type_of("mobile", &["+1 (555) 010-999"]).0,
            ValueType::String
        );
        assert_eq!(type_of("ratio", &["0.5", "0"]).0, ValueType::Number);
    }

    #[test]
    fn booleans_only_for_word_pairs() {
        assert_eq!(type_of("vip", &["TRUE", "false", ""]).0, ValueType::Boolean);
        assert_eq!(type_of("vip", &["Yes", "No"]).0, ValueType::Boolean);
        assert_eq!(type_of("flag", &["0", "1"]).0, ValueType::Number);
        assert_eq!(type_of("flag", &["y", "n"]).0, ValueType::String);
    }

    #[test]
    fn emails_when_every_value_is_one() {
        assert_eq!(
            type_of("contact", &["a@example.com", " B@Example.org"]).0,
            ValueType::Email
        );
        assert_eq!(
            type_of("contact", &["a@example.com", "n/a"]).0,
            ValueType::String
        );
    }

    #[test]
    fn dates_with_one_unambiguous_format() {
        assert_eq!(
            type_of("born", &["2024-03-04", "1996-5-30"]),
            (ValueType::Date, Some("%Y-%m-%d"))
        );
        assert_eq!(
            type_of("born", &["03/04/2024", "25/12/2023"]),
            (ValueType::Date, Some("%d/%m/%Y"))
        );
        assert_eq!(
            type_of("born", &["03/04/2024", "12/25/2023"]),
            (ValueType::Date, Some("%m/%d/%Y"))
        );
    }

    #[test]
    fn day_month_ambiguity_is_text_with_the_reason() {
        let inferred = infer("born", &stats_of(&["03/04/2024", "11/12/2023"]));
        assert_eq!(inferred.value_type, ValueType::String);
        assert_eq!(
            inferred.why,
            "ambiguous dates: every value reads both as `%d/%m/%Y` and as `%m/%d/%Y` (no day \
             above 12 in the sample): kept as text; set type = \"date\" and the format if you \
             know which"
        );
    }

    #[test]
    fn datetimes_with_and_without_offsets() {
        let rfc = infer(
            "at",
            &stats_of(&["2024-01-02T03:04:05Z", "2024-01-02T03:04:05+02:00"]),
        );
        assert_eq!(
            (rfc.value_type, rfc.format, rfc.timezone),
            (ValueType::Datetime, None, None)
        );
        let local = infer(
            "at",
            &stats_of(&["2022-01-01 00:00:00", "2022-02-02 03:11:13"]),
        );
        assert_eq!(
            (local.value_type, local.format, local.timezone),
            (ValueType::Datetime, Some("%Y-%m-%d %H:%M:%S"), Some("UTC"))
        );
    }

    #[test]
    fn mixed_date_spellings_are_text() {
        let inferred = infer("at", &stats_of(&["2024-01-02", "2024-01-03", "Jan 4 2024"]));
        assert_eq!(inferred.value_type, ValueType::String);
        assert_eq!(
            inferred.why,
            "2 values are dates written `%Y-%m-%d` but 1 is not: kept as text"
        );
    }

    #[test]
    fn json_kinds_decide_for_ndjson() {
        let mut stats = ColumnStats::new();
        for value in [serde_json::json!(["a"]), serde_json::json!([])] {
            stats.observe_json(Some(&value));
        }
        stats.observe_json(None);
        assert_eq!(infer("tags", &stats).value_type, ValueType::Array);
        let mut stats = ColumnStats::new();
        stats.observe_json(Some(&serde_json::json!(3)));
        stats.observe_json(Some(&serde_json::json!("x")));
        assert_eq!(infer("n", &stats).value_type, ValueType::String);
        let mut stats = ColumnStats::new();
        stats.observe_json(Some(&serde_json::json!(true)));
        assert_eq!(infer("b", &stats).value_type, ValueType::Boolean);
    }

    #[test]
    fn uniqueness_is_tracked_until_a_repeat_or_an_empty() {
        assert!(stats_of(&["a", "b", "c"]).unique_and_filled());
        assert!(!stats_of(&["a", "b", "A"]).unique_and_filled());
        assert!(!stats_of(&["a", "", "c"]).unique_and_filled());
    }
}
