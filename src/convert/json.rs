//! Strict JSON: reading exactly one JSON value with no repeated object key,
//! and writing JSON values back out unchanged.
//!
//! serde_json does the parsing; a visitor of our own builds the
//! [`Value`] so that a repeated key is refused instead of overwriting the
//! first one. Numbers keep their exact source text (serde_json's
//! `arbitrary_precision`).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::{ConvertError, JsonError};

/// The key under which serde_json's `arbitrary_precision` hands a number to
/// a visitor, as a one-entry map whose value is the number's text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Parses exactly one JSON value, refusing repeated object keys at any level
/// and any text after the value. Numbers keep their exact source text.
pub fn parse_strict_json(text: &[u8]) -> Result<Value, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let value = StrictValue
        .deserialize(&mut deserializer)
        .map_err(|error| parse_error(text, &error))?;
    match deserializer.end() {
        Ok(()) => Ok(value),
        Err(error) => Err(trailing_error(text, &error)),
    }
}

/// Appends `value` as compact JSON; numbers keep their source text.
pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, value)
        .expect("a Value has string keys and a Vec cannot fail to grow");
}

/// Refuses a value holding U+0000 in any string or key: a NUL is never sent.
pub(crate) fn refuse_nul_inside(value: &Value) -> Result<(), ConvertError> {
    let has_nul = |s: &str| memchr::memchr(0, s.as_bytes()).is_some();
    let found = match value {
        Value::String(s) => has_nul(s),
        Value::Array(items) => return items.iter().try_for_each(refuse_nul_inside),
        Value::Object(map) => {
            if map.keys().any(|key| has_nul(key)) {
                true
            } else {
                return map.values().try_for_each(refuse_nul_inside);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    };
    if found {
        Err(ConvertError(
            "NUL character (\\u0000) inside the JSON value".to_string(),
        ))
    } else {
        Ok(())
    }
}

/// Builds a [`Value`], refusing repeated keys.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let Some(first) = access.next_key::<String>()? else {
            return Ok(Value::Object(Map::new()));
        };
        if first == NUMBER_TOKEN {
            let text: String = access.next_value()?;
            let number = text.parse::<Number>().map_err(A::Error::custom)?;
            return Ok(Value::Number(number));
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            let value = access.next_value_seed(StrictValue)?;
            map.insert(key, value);
            match access.next_key::<String>()? {
                Some(next) if map.contains_key(&next) => {
                    return Err(A::Error::custom(format_args!("key `{next}` repeated")));
                }
                Some(next) => key = next,
                None => return Ok(Value::Object(map)),
            }
        }
    }
}

/// The 1-based byte column in `text` of serde_json's line and column.
fn column_of(text: &[u8], line: usize, column: usize) -> usize {
    let line_start = memchr::memchr_iter(b'\n', text)
        .nth(line.saturating_sub(2))
        .map_or(0, |newline| newline + 1);
    let start = if line <= 1 { 0 } else { line_start };
    (start + column).max(1)
}

/// serde_json's message without its " at line L column C" suffix.
fn bare_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(end) => message[..end].to_string(),
        None => message,
    }
}

fn parse_error(text: &[u8], error: &serde_json::Error) -> JsonError {
    let column = column_of(text, error.line(), error.column());
    let message = match error.classify() {
        serde_json::error::Category::Eof => {
            format!(
                "truncated JSON: unexpected end of input ({})",
                bare_message(error)
            )
        }
        _ => format!("invalid JSON: {}", bare_message(error)),
    };
    JsonError { column, message }
}

/// Words for text after a complete value: a second value, or other text.
fn trailing_error(text: &[u8], error: &serde_json::Error) -> JsonError {
    let column = column_of(text, error.line(), error.column());
    let rest = text.get(column - 1..).unwrap_or_default();
    let starts_value = matches!(rest.first(), Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9'))
        || [&b"true"[..], b"false", b"null"]
            .iter()
            .any(|word| rest.starts_with(word));
    let message = if starts_value {
        "more than one JSON value (text after the JSON value)"
    } else {
        "text after the JSON value"
    };
    JsonError {
        column,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Value {
        parse_strict_json(text.as_bytes()).expect("valid JSON")
    }

    fn refused(text: &str) -> JsonError {
        parse_strict_json(text.as_bytes()).expect_err("refused")
    }

    fn round_trip(text: &str) -> String {
        let mut out = Vec::new();
        write_value(&parsed(text), &mut out);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn one_value_of_each_kind_is_read() {
        assert_eq!(parsed("null"), Value::Null);
        assert_eq!(parsed(" true "), Value::Bool(true));
        assert_eq!(parsed(r#""a\nb""#), Value::String("a\nb".into()));
        assert_eq!(parsed("[]"), Value::Array(vec![]));
        assert_eq!(parsed("{}"), Value::Object(Map::new()));
        assert_eq!(
            parsed(r#"{"a":[1,{"b":null}]}"#),
            serde_json::json!({"a": [1, {"b": null}]})
        );
    }

    #[test]
    fn numbers_keep_every_digit_of_their_source_text() {
        let text = "[1.50,-0,12345678901234567890123,0.000000000000000000001]";
        assert_eq!(round_trip(text), text);
        // serde_json spells every exponent `e+N` / `e-N`; the digits stay.
        assert_eq!(round_trip("[1E5,1e400,2E-07]"), "[1e+5,1e+400,2e-07]");
        match parsed("0.10") {
            Value::Number(n) => assert_eq!(n.as_str(), "0.10"),
            other => panic!("not a number: {other}"),
        }
    }

    #[test]
    fn key_order_and_nesting_are_kept() {
        let text = r#"{"z":1,"a":{"y":[true,"x"],"b":null}}"#;
        assert_eq!(round_trip(text), text);
    }

    #[test]
    fn repeated_keys_are_refused_at_every_level() {
        let top = refused(r#"{"a":1,"a":2}"#);
        assert_eq!(top.message, "invalid JSON: key `a` repeated");
        assert_eq!(top.column, 10);
        let nested = refused(r#"{"a":{"b":1,"c":{"d":1,"d":1}}}"#);
        assert_eq!(nested.message, "invalid JSON: key `d` repeated");
        let in_array = refused(r#"[{"k":1},{"k":1,"k":2}]"#);
        assert_eq!(in_array.message, "invalid JSON: key `k` repeated");
        let escaped = refused(r#"{"é":1,"\u00e9":2}"#);
        assert_eq!(escaped.message, "invalid JSON: key `é` repeated");
        parsed(r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#);
    }

    #[test]
    fn a_number_token_key_is_not_mistaken_for_a_repeat() {
        let text = r#"{"n":1,"m":[2,3]}"#;
        assert_eq!(round_trip(text), text);
    }

    #[test]
    fn case_text_after_the_value_is_refused() {
        let trailing = refused(r#"{"email":"m2@example.com","plan":"pro"} trailing"#);
        assert_eq!(trailing.message, "text after the JSON value");
        assert_eq!(trailing.column, 41);
        let second = refused(r#"{"email":"m3@example.com"}{"email":"m4@example.com"}"#);
        assert_eq!(
            second.message,
            "more than one JSON value (text after the JSON value)"
        );
        assert_eq!(second.column, 27);
        assert_eq!(
            refused("1 2").message,
            "more than one JSON value (text after the JSON value)"
        );
        assert_eq!(refused("[1] ,").message, "text after the JSON value");
        assert_eq!(refused("[1] nothing").message, "text after the JSON value");
        let null = refused("[1] null");
        assert_eq!(
            null.message,
            "more than one JSON value (text after the JSON value)"
        );
    }

    #[test]
    fn case_truncated_lines_are_refused() {
        let error = refused(r#"{"email":"m5@example.com","plan":"te"#);
        assert!(
            error
                .message
                .starts_with("truncated JSON: unexpected end of input"),
            "{error:?}"
        );
        assert!(refused("").message.starts_with("truncated JSON"));
        assert!(refused("   ").message.starts_with("truncated JSON"));
        assert!(refused(r#"{"a":[1,2"#)
            .message
            .starts_with("truncated JSON"));
    }

    #[test]
    fn case_trailing_comma_is_named() {
        let error = refused(r#"{"email":"m9@example.com","plan":"free",}"#);
        assert_eq!(error.message, "invalid JSON: trailing comma");
        assert_eq!(error.column, 41);
        assert_eq!(refused("[1,2,]").message, "invalid JSON: trailing comma");
    }

    #[test]
    fn other_syntax_errors_keep_the_parser_words() {
        assert_eq!(
            refused("{'a':1}").message,
            "invalid JSON: key must be a string"
        );
        assert_eq!(refused("[NaN]").message, "invalid JSON: expected value");
        assert_eq!(refused("[01]").message, "invalid JSON: invalid number");
        assert_eq!(
            refused("\"a\u{1}\"").message,
            "invalid JSON: control character (\\u0000-\\u001F) found while parsing a string"
        );
    }

    #[test]
    fn columns_count_bytes_on_the_line_of_the_fault() {
        assert_eq!(refused("{\n  \"a\": 1,\n  \"a\": 2\n}").column, 17);
        assert_eq!(refused("[1,\n]").column, 5);
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        let error = refused(&deep);
        assert!(error.message.contains("recursion limit"), "{error:?}");
    }

    #[test]
    fn nul_inside_values_is_found() {
        assert!(refuse_nul_inside(&parsed(r#"{"a":["x","\u0000"]}"#)).is_err());
        assert!(refuse_nul_inside(&parsed(r#"{"\u0000":1}"#)).is_err());
        assert!(refuse_nul_inside(&parsed(r#"{"a":["x",1,null,{"b":"c"}]}"#)).is_ok());
    }
}
