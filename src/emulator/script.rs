//! The `server.toml` fault script: parsing it into checked [`Rule`]s (every
//! unknown key and wrong type is an error that names it and its line), and
//! deciding whether a rule matches a request.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use hyper::header::{HeaderName, HeaderValue};
use hyper::StatusCode;
use toml_edit::{Document, Item, TableLike};

/// The body size limit of Laudspeaker's JSON parser (100 KB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 102_400;

const TOP_KEYS: &[&str] = &["api_key", "max_body_bytes", "primary_key_set", "rule"];
const RULE_KEYS: &[&str] = &[
    "primary_key",
    "attempt",
    "nth_request",
    "for_ms",
    "status",
    "headers",
    "retry_after_date_in_s",
    "body",
    "delay_ms",
    "hang",
    "apply",
];

/// A checked fault script. `Script::default()` is the empty script: no key
/// of its own, the default body limit, a primary key set, no rule.
#[derive(Debug, Clone)]
pub struct Script {
    /// The only key accepted, unless `--api-key` names another.
    pub api_key: Option<crate::secret::ApiKey>,
    /// Bodies larger than this get 413 and are not applied.
    pub max_body_bytes: usize,
    /// `false`: the workspace has no primary key attribute chosen yet.
    pub primary_key_set: bool,
    /// Tried in this order; the first that matches decides the answer.
    pub rules: Vec<Rule>,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            api_key: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            primary_key_set: true,
            rules: Vec::new(),
        }
    }
}

/// One `[[rule]]`: when it matches (all given conditions hold) and how the
/// emulator answers then.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// 1-based position among the script's rules, for messages.
    pub number: usize,
    /// Matches the body's `primary_key` after trimming.
    pub primary_key: Option<String>,
    /// The Nth request carrying the request's own key (1-based).
    pub attempt: Option<u32>,
    /// The Nth request the emulator receives overall (1-based).
    pub nth_request: Option<u64>,
    /// With `nth_request`: every request arriving within this long after the
    /// Nth one arrived matches too.
    pub for_ms: Option<u64>,
    /// The status to answer; `None` keeps the emulator's own answer.
    pub status: Option<StatusCode>,
    /// Extra response headers, replacing any default of the same name.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// `Retry-After` as an HTTP date this many seconds after the answer.
    pub retry_after_date_in_s: Option<f64>,
    /// The response body; `None` keeps the emulator's own body when the
    /// status is the emulator's own, else a `{"statusCode","message"}` body.
    pub body: Option<String>,
    /// Wait this long before answering (the upsert is applied on arrival).
    pub delay: Duration,
    /// Never answer; the connection is closed after a while.
    pub hang: bool,
    /// Whether the request takes effect; `None` means the default.
    pub apply: Option<bool>,
}

/// What a request brings to rule matching.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// 1-based arrival number among all logged requests.
    pub seq: u64,
    /// Arrival time, microseconds since the emulator started.
    pub received_us: u64,
    /// The body's `primary_key`, trimmed, when it has one.
    pub key: Option<&'a str>,
    /// How many requests (this one included) carried `key` so far.
    pub attempt: Option<u32>,
}

impl Rule {
    /// Whether the request matches every condition of this rule.
    /// `window_start_us` is when request `nth_request` arrived, if it has.
    pub fn matches(&self, facts: &Facts<'_>, window_start_us: Option<u64>) -> bool {
        if let Some(wanted) = &self.primary_key {
            if facts.key != Some(wanted.as_str()) {
                return false;
            }
        }
        if self.attempt.is_some() && self.attempt != facts.attempt {
            return false;
        }
        match (self.nth_request, self.for_ms) {
            (Some(n), None) => facts.seq == n,
            (Some(n), Some(for_ms)) => {
                facts.seq == n
                    || facts.seq > n
                        && window_start_us.is_some_and(|start| {
                            facts.received_us < start.saturating_add(for_ms.saturating_mul(1000))
                        })
            }
            (None, _) => true,
        }
    }

    /// Whether a matching request takes effect: as the script says, else
    /// only when the answer is a success that is actually sent.
    pub fn applies(&self) -> bool {
        self.apply
            .unwrap_or(!self.hang && self.status.is_none_or(|s| s.is_success()))
    }
}

impl Script {
    /// Reads and checks a script file; errors name the file and the line.
    pub fn from_file(path: &Path) -> anyhow::Result<Script> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the script {}", path.display()))?;
        Script::parse(&text).with_context(|| format!("bad script {}", path.display()))
    }

    /// Parses script text.
    pub fn parse(text: &str) -> Result<Script, ScriptError> {
        let doc = Document::parse(text).map_err(|err| ScriptError {
            line: err.span().map(|span| line_of(text, span.start)),
            message: format!("not valid TOML: {}", err.message()),
        })?;
        let reader = Reader { text };
        reader.script(doc.as_table())
    }

    /// Whether any rule counts attempts, so requests per key must be counted.
    pub fn counts_attempts(&self) -> bool {
        self.rules.iter().any(|rule| rule.attempt.is_some())
    }
}

/// A script that cannot be used, with the line at fault when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ScriptError {}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Turns the parsed TOML into a [`Script`], keeping the source text so that
/// every error can say where it is.
struct Reader<'t> {
    text: &'t str,
}

type Parsed<T> = Result<T, ScriptError>;

impl Reader<'_> {
    fn error(&self, span: Option<std::ops::Range<usize>>, message: String) -> ScriptError {
        ScriptError {
            line: span.map(|s| line_of(self.text, s.start)),
            message,
        }
    }

    fn script(&self, table: &dyn TableLike) -> Parsed<Script> {
        self.reject_unknown(table, TOP_KEYS, "the script")?;
        let mut script = Script::default();
        if let Some(item) = table.get("api_key") {
            let key = self.string(item, "api_key")?;
            if key.is_empty() {
                return Err(self.error(item.span(), "`api_key` is empty".into()));
            }
            script.api_key = Some(crate::secret::ApiKey::new(key));
        }
        if let Some(item) = table.get("max_body_bytes") {
            let bytes = self.integer(item, "max_body_bytes", 0)?;
            script.max_body_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        if let Some(item) = table.get("primary_key_set") {
            script.primary_key_set = self.boolean(item, "primary_key_set")?;
        }
        if let Some(item) = table.get("rule") {
            script.rules = self.rules(item)?;
        }
        Ok(script)
    }

    fn rules(&self, item: &Item) -> Parsed<Vec<Rule>> {
        let Some(tables) = item.as_array_of_tables() else {
            let message = "`rule` must be an array of tables: write each as [[rule]]";
            return Err(self.error(item.span(), message.into()));
        };
        let rules = tables.iter().enumerate();
        rules
            .map(|(index, table)| self.rule(index + 1, table))
            .collect()
    }

    fn rule(&self, number: usize, table: &dyn TableLike) -> Parsed<Rule> {
        let place = format!("[[rule]] {number}");
        self.reject_unknown(table, RULE_KEYS, &place)?;
        let mut rule = Rule {
            number,
            ..Rule::default()
        };
        let field = |key: &str| table.get(key);
        if let Some(item) = field("primary_key") {
            rule.primary_key = Some(self.string(item, "primary_key")?.trim().to_owned());
        }
        if let Some(item) = field("attempt") {
            let attempt = self.integer(item, "attempt", 1)?;
            rule.attempt = Some(u32::try_from(attempt).unwrap_or(u32::MAX));
        }
        if let Some(item) = field("nth_request") {
            rule.nth_request = Some(self.integer(item, "nth_request", 1)?);
        }
        if let Some(item) = field("for_ms") {
            if rule.nth_request.is_none() {
                let message = format!("{place}: `for_ms` needs `nth_request`");
                return Err(self.error(item.span(), message));
            }
            rule.for_ms = Some(self.integer(item, "for_ms", 0)?);
        }
        if let Some(item) = field("status") {
            rule.status = Some(self.status(item)?);
        }
        if let Some(item) = field("headers") {
            rule.headers = self.headers(item)?;
        }
        if let Some(item) = field("retry_after_date_in_s") {
            rule.retry_after_date_in_s = Some(self.seconds(item)?);
        }
        if let Some(item) = field("body") {
            rule.body = Some(self.string(item, "body")?.to_owned());
        }
        if let Some(item) = field("delay_ms") {
            rule.delay = Duration::from_millis(self.integer(item, "delay_ms", 0)?);
        }
        if let Some(item) = field("hang") {
            rule.hang = self.boolean(item, "hang")?;
        }
        if let Some(item) = field("apply") {
            rule.apply = Some(self.boolean(item, "apply")?);
        }
        Ok(rule)
    }

    fn reject_unknown(&self, table: &dyn TableLike, known: &[&str], place: &str) -> Parsed<()> {
        for (key, _) in table.iter() {
            if !known.contains(&key) {
                let span = table.get_key_value(key).and_then(|(k, _)| k.span());
                let message = format!(
                    "unknown key `{key}` in {place}; known keys: {}",
                    known.join(", ")
                );
                return Err(self.error(span, message));
            }
        }
        Ok(())
    }

    fn wrong_type(&self, item: &Item, key: &str, wanted: &str) -> ScriptError {
        let found = item.type_name();
        self.error(
            item.span(),
            format!("`{key}` must be {wanted}, not {found}"),
        )
    }

    fn string<'i>(&self, item: &'i Item, key: &str) -> Parsed<&'i str> {
        item.as_str()
            .ok_or_else(|| self.wrong_type(item, key, "a string"))
    }

    fn boolean(&self, item: &Item, key: &str) -> Parsed<bool> {
        item.as_bool()
            .ok_or_else(|| self.wrong_type(item, key, "true or false"))
    }

    /// A whole number no smaller than `min`.
    fn integer(&self, item: &Item, key: &str, min: u64) -> Parsed<u64> {
        let wanted = format!("a whole number of at least {min}");
        let value = item
            .as_integer()
            .ok_or_else(|| self.wrong_type(item, key, &wanted))?;
        match u64::try_from(value) {
            Ok(value) if value >= min => Ok(value),
            _ => Err(self.error(
                item.span(),
                format!("`{key}` must be {wanted}, not {value}"),
            )),
        }
    }

    fn seconds(&self, item: &Item) -> Parsed<f64> {
        let key = "retry_after_date_in_s";
        let value = match (item.as_integer(), item.as_float()) {
            (Some(whole), _) => whole as f64,
            (None, Some(float)) if float.is_finite() => float,
            _ => return Err(self.wrong_type(item, key, "a number of seconds")),
        };
        // Keeps the date inside what an HTTP date can say (about 30 years).
        if value.abs() > 1e9 {
            return Err(self.error(item.span(), format!("`{key}` is out of range: {value}")));
        }
        Ok(value)
    }

    fn status(&self, item: &Item) -> Parsed<StatusCode> {
        let wanted = "an HTTP status from 200 to 599";
        let code = self.integer(item, "status", 0)?;
        match u16::try_from(code).ok().filter(|c| (200..=599).contains(c)) {
            Some(code) => StatusCode::from_u16(code)
                .map_err(|_| self.error(item.span(), format!("`status` must be {wanted}"))),
            None => Err(self.error(
                item.span(),
                format!("`status` must be {wanted}, not {code}"),
            )),
        }
    }

    fn headers(&self, item: &Item) -> Parsed<Vec<(HeaderName, HeaderValue)>> {
        let table = item
            .as_table_like()
            .ok_or_else(|| self.wrong_type(item, "headers", "a table of strings"))?;
        let mut headers = Vec::new();
        for (name, value) in table.iter() {
            let text = self.string(value, &format!("headers.{name}"))?;
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                self.error(value.span(), format!("`{name}` is not a valid header name"))
            })?;
            let value = HeaderValue::from_str(text).map_err(|_| {
                self.error(
                    value.span(),
                    format!("the value of header `{name}` is not valid"),
                )
            })?;
            headers.push((name, value));
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(seq: u64, received_us: u64, key: Option<&str>, attempt: Option<u32>) -> Facts<'_> {
        Facts {
            seq,
            received_us,
            key,
            attempt,
        }
    }

    #[test]
    fn parses_every_rule_key() {
        let text = r#"
api_key = "ls_test_key"
max_body_bytes = 2048
primary_key_set = false

[[rule]]
primary_key = " x@example.com "
attempt = 2
status = 429
headers = { "Retry-After" = "2" }
retry_after_date_in_s = -3
body = '{"statusCode":429}'
delay_ms = 250
hang = false
apply = true

[[rule]]
nth_request = 10
for_ms = 3000
hang = true
"#;
        let script = Script::parse(text).expect("the script is valid");
        assert_eq!(
            script.api_key.as_ref().map(|k| k.expose()),
            Some("ls_test_key")
        );
        assert_eq!(script.max_body_bytes, 2048);
        assert!(!script.primary_key_set);
        assert_eq!(script.rules.len(), 2);
        let first = &script.rules[0];
        assert_eq!(first.number, 1);
        assert_eq!(first.primary_key.as_deref(), Some("x@example.com"));
        assert_eq!(first.attempt, Some(2));
        assert_eq!(first.status, Some(StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(first.headers.len(), 1);
        assert_eq!(first.headers[0].0, "retry-after");
        assert_eq!(first.headers[0].1, "2");
        assert_eq!(first.retry_after_date_in_s, Some(-3.0));
        assert_eq!(first.body.as_deref(), Some(r#"{"statusCode":429}"#));
        assert_eq!(first.delay, Duration::from_millis(250));
        assert_eq!(first.apply, Some(true));
        let second = &script.rules[1];
        assert_eq!((second.nth_request, second.for_ms), (Some(10), Some(3000)));
        assert!(second.hang);
        assert!(script.counts_attempts());
    }

    #[test]
    fn empty_script_has_the_defaults() {
        let script = Script::parse("").expect("an empty script is valid");
        assert!(script.api_key.is_none());
        assert_eq!(script.max_body_bytes, 102_400);
        assert!(script.primary_key_set);
        assert!(script.rules.is_empty());
        assert!(!script.counts_attempts());
    }

    #[test]
    fn unknown_rule_key_is_named_with_its_line() {
        let text = "api_key = \"k\"\n\n[[rule]]\nstatus = 500\nstatuss = 503\n";
        let err = Script::parse(text).expect_err("statuss is not a key");
        assert_eq!(err.line, Some(5));
        assert!(
            err.message
                .starts_with("unknown key `statuss` in [[rule]] 1;"),
            "{err}"
        );
    }

    #[test]
    fn unknown_top_level_key_is_named() {
        let err = Script::parse("[[rules]]\nstatus = 500\n").expect_err("rules is not a key");
        assert_eq!(err.line, Some(1));
        assert!(
            err.message
                .starts_with("unknown key `rules` in the script;"),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_and_ranges_are_refused() {
        let cases = [
            (
                "[[rule]]\nstatus = \"429\"\n",
                "`status` must be a whole number of at least 0, not string",
            ),
            (
                "[[rule]]\nstatus = 99\n",
                "`status` must be an HTTP status from 200 to 599, not 99",
            ),
            (
                "[[rule]]\nattempt = 0\n",
                "`attempt` must be a whole number of at least 1, not 0",
            ),
            (
                "[[rule]]\nfor_ms = 10\n",
                "[[rule]] 1: `for_ms` needs `nth_request`",
            ),
            (
                "[[rule]]\nhang = 1\n",
                "`hang` must be true or false, not integer",
            ),
            (
                "[[rule]]\nheaders = { \"Bad Name\" = \"x\" }\n",
                "`Bad Name` is not a valid header name",
            ),
            (
                "[[rule]]\nheaders = { \"X\" = 1 }\n",
                "`headers.X` must be a string, not integer",
            ),
            (
                "rule = 1\n",
                "`rule` must be an array of tables: write each as [[rule]]",
            ),
            (
                "max_body_bytes = -1\n",
                "`max_body_bytes` must be a whole number of at least 0, not -1",
            ),
        ];
        for (text, message) in cases {
            let err = Script::parse(text).expect_err(text);
            assert_eq!(err.message, message, "for {text:?}");
        }
    }

    #[test]
    fn invalid_toml_reports_a_line() {
        let err = Script::parse("api_key = \"k\"\nstatus = \n").expect_err("not TOML");
        assert_eq!(err.line, Some(2));
        assert!(err.message.starts_with("not valid TOML"), "{err}");
    }

    #[test]
    fn rule_matches_key_and_attempt() {
        let rule = Rule {
            primary_key: Some("r3@example.com".into()),
            attempt: Some(1),
            ..Rule::default()
        };
        assert!(rule.matches(&facts(4, 0, Some("r3@example.com"), Some(1)), None));
        assert!(!rule.matches(&facts(5, 0, Some("r3@example.com"), Some(2)), None));
        assert!(!rule.matches(&facts(4, 0, Some("r4@example.com"), Some(1)), None));
        assert!(!rule.matches(&facts(4, 0, None, None), None));
    }

    #[test]
    fn attempt_without_key_matches_each_keys_nth_request() {
        let rule = Rule {
            attempt: Some(1),
            ..Rule::default()
        };
        assert!(rule.matches(&facts(1, 0, Some("a"), Some(1)), None));
        assert!(rule.matches(&facts(2, 0, Some("b"), Some(1)), None));
        assert!(!rule.matches(&facts(3, 0, Some("a"), Some(2)), None));
    }

    #[test]
    fn nth_request_alone_matches_that_request_only() {
        let rule = Rule {
            nth_request: Some(3),
            ..Rule::default()
        };
        assert!(!rule.matches(&facts(2, 0, None, None), None));
        assert!(rule.matches(&facts(3, 0, None, None), None));
        assert!(!rule.matches(&facts(4, 0, None, None), None));
    }

    #[test]
    fn nth_request_with_for_ms_holds_for_the_window() {
        let rule = Rule {
            nth_request: Some(3),
            for_ms: Some(1000),
            ..Rule::default()
        };
        let start = Some(5_000_000);
        assert!(rule.matches(&facts(3, 5_000_000, None, None), start));
        assert!(!rule.matches(&facts(4, 5_000_001, None, None), None));
        assert!(rule.matches(&facts(9, 5_999_999, None, None), start));
        assert!(!rule.matches(&facts(10, 6_000_000, None, None), start));
        assert!(!rule.matches(&facts(2, 5_000_000, None, None), start));
    }

    #[test]
    fn nth_request_with_zero_for_ms_still_matches_that_request() {
        let rule = Rule {
            nth_request: Some(2),
            for_ms: Some(0),
            ..Rule::default()
        };
        assert!(rule.matches(&facts(2, 100, None, None), Some(100)));
        assert!(!rule.matches(&facts(3, 100, None, None), Some(100)));
    }

    #[test]
    fn apply_defaults_to_success_answers_that_are_sent() {
        let status = |code| Some(StatusCode::from_u16(code).expect("valid code"));
        assert!(Rule::default().applies());
        assert!(Rule {
            status: status(200),
            ..Rule::default()
        }
        .applies());
        assert!(!Rule {
            status: status(429),
            ..Rule::default()
        }
        .applies());
        assert!(!Rule {
            hang: true,
            ..Rule::default()
        }
        .applies());
        assert!(Rule {
            hang: true,
            apply: Some(true),
            ..Rule::default()
        }
        .applies());
        assert!(!Rule {
            status: status(200),
            apply: Some(false),
            ..Rule::default()
        }
        .applies());
    }

    #[test]
    fn every_case_script_parses() {
        // The shared cases sit beside the project root, or beside its worktree folder.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let places = [
            root.join("../shared/cases"),
            root.join("../../shared/cases"),
        ];
        let Some(folders) = places
            .iter()
            .find_map(|place| std::fs::read_dir(place).ok())
        else {
            return;
        };
        for folder in folders.flatten() {
            for file in std::fs::read_dir(folder.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = file.file_name().to_string_lossy().into_owned();
                if name.starts_with("server") && name.ends_with(".toml") {
                    Script::from_file(&file.path()).expect("case scripts are valid");
                }
            }
        }
    }
}
