//! Strict JSON: reading exactly one JSON value with no repeated object key,
//! and writing JSON values back out unchanged.
//!
//! The reader is our own: serde_json refuses nothing it can overwrite (a
//! repeated key keeps the last value) and respells number exponents (`1E5`
//! becomes `1e+5`), while a record must be refused on a repeated key and a
//! number sent as text must keep its source spelling. The values it builds
//! are serde_json's, so the rest of the pipeline writes them as usual.

use serde_json::{Map, Number, Value};

use super::{ConvertError, JsonError};

/// Deepest nesting read; deeper input is refused rather than risking the
/// stack (each level is one call frame here and in `Value`'s drop).
const MAX_DEPTH: usize = 512;

/// Parses exactly one JSON value, refusing repeated object keys at any level
/// and any text after the value. Numbers keep their exact source text.
pub fn parse_strict_json(text: &[u8]) -> Result<Value, JsonError> {
    let mut reader = Reader {
        text,
        pos: 0,
        depth: 0,
    };
    let value = reader.value()?;
    reader.skip_white_space();
    if reader.pos < text.len() {
        return Err(trailing_error(text, reader.pos));
    }
    Ok(value)
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

/// A cursor over the text being read.
struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_white_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// An error at the current byte.
    fn invalid(&self, what: &str) -> JsonError {
        JsonError {
            column: self.pos + 1,
            message: format!("invalid JSON: {what}"),
        }
    }

    fn truncated(&self, while_reading: &str) -> JsonError {
        JsonError {
            column: self.pos.max(1),
            message: format!(
                "truncated JSON: unexpected end of input (EOF while parsing {while_reading})"
            ),
        }
    }

    fn value(&mut self) -> Result<Value, JsonError> {
        self.skip_white_space();
        match self.peek() {
            None => Err(self.truncated("a value")),
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(_) => Err(self.invalid("expected value")),
        }
    }

    /// Reads an object or array one level deeper, within `MAX_DEPTH`.
    fn nested(
        &mut self,
        read: fn(&mut Self) -> Result<Value, JsonError>,
    ) -> Result<Value, JsonError> {
        if self.depth == MAX_DEPTH {
            return Err(self.invalid(&format!(
                "recursion limit exceeded (more than {MAX_DEPTH} levels of nesting)"
            )));
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    /// `true`, `false` or `null`; a misspelling is reported where it starts.
    fn word(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        for &expected in word.as_bytes() {
            match self.peek() {
                Some(byte) if byte == expected => self.pos += 1,
                Some(_) => return Err(self.invalid("expected value")),
                None => return Err(self.truncated("a value")),
            }
        }
        Ok(value)
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut map = Map::new();
        self.skip_white_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_white_space();
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') if !map.is_empty() => return Err(self.invalid("trailing comma")),
                Some(_) => return Err(self.invalid("key must be a string")),
                None => return Err(self.truncated("an object")),
            }
            let key = self.string()?;
            if map.contains_key(&key) {
                let at = self.pos;
                return Err(JsonError {
                    column: at,
                    message: format!("invalid JSON: key `{key}` repeated"),
                });
            }
            self.skip_white_space();
            match self.peek() {
                Some(b':') => self.pos += 1,
                Some(_) => return Err(self.invalid("expected `:`")),
                None => return Err(self.truncated("an object")),
            }
            let value = self.value()?;
            map.insert(key, value);
            self.skip_white_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                Some(_) => return Err(self.invalid("expected `,` or `}`")),
                None => return Err(self.truncated("an object")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_white_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_white_space();
            if self.peek() == Some(b']') && !items.is_empty() {
                return Err(self.invalid("trailing comma"));
            }
            items.push(self.value()?);
            self.skip_white_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                Some(_) => return Err(self.invalid("expected `,` or `]`")),
                None => return Err(self.truncated("a list")),
            }
        }
    }

    /// A number, kept exactly as written once its grammar is checked.
    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.invalid("invalid number"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => return Err(self.invalid("invalid number")),
            None => return Err(self.truncated("a number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let source = std::str::from_utf8(&self.text[start..self.pos])
            .expect("a number is ASCII")
            .to_string();
        Ok(Value::Number(exact_number(source)))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => Err(self.invalid("invalid number")),
            None => Err(self.truncated("a number")),
        }
    }

    /// A string, escapes resolved; the cursor ends after its closing quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(stop) = memchr::memchr2(b'"', b'\\', rest) else {
                self.pos = self.text.len();
                return Err(self.truncated("a string"));
            };
            let chunk = &rest[..stop];
            if let Some(at) = chunk.iter().position(|&b| b < 0x20) {
                self.pos += at;
                return Err(self
                    .invalid("control character (\\u0000-\\u001F) found while parsing a string"));
            }
            let chunk = std::str::from_utf8(chunk).map_err(|e| JsonError {
                column: self.pos + e.valid_up_to() + 1,
                message: "invalid JSON: invalid UTF-8 in a string".to_string(),
            })?;
            out.push_str(chunk);
            self.pos += stop + 1;
            if rest[stop] == b'"' {
                return Ok(out);
            }
            self.escape(&mut out)?;
        }
    }

    /// The escape after a backslash (already consumed).
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let Some(byte) = self.peek() else {
            return Err(self.truncated("a string"));
        };
        self.pos += 1;
        let c = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape()?,
            _ => {
                self.pos -= 1;
                return Err(self.invalid("invalid escape"));
            }
        };
        out.push(c);
        Ok(())
    }

    /// `\uXXXX`, with a surrogate pair read as one character.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        if !(0xD800..0xDC00).contains(&first) {
            return char::from_u32(u32::from(first))
                .ok_or_else(|| self.invalid("lone trailing surrogate in hex escape"));
        }
        if self.text.get(self.pos..self.pos + 2) != Some(b"\\u") {
            return Err(self.invalid("lone leading surrogate in hex escape"));
        }
        self.pos += 2;
        let second = self.hex4()?;
        if !(0xDC00..0xE000).contains(&second) {
            return Err(self.invalid("lone leading surrogate in hex escape"));
        }
        let code = 0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
        Ok(char::from_u32(code).expect("a surrogate pair is a valid character"))
    }

    fn hex4(&mut self) -> Result<u16, JsonError> {
        let Some(digits) = self.text.get(self.pos..self.pos + 4) else {
            self.pos = self.text.len();
            return Err(self.truncated("a string"));
        };
        let digits = std::str::from_utf8(digits).ok();
        let value = digits.and_then(|d| u16::from_str_radix(d, 16).ok());
        let value = value.ok_or_else(|| self.invalid("invalid escape"))?;
        self.pos += 4;
        Ok(value)
    }
}

/// A number holding exactly `source`, which `Reader::number` has checked
/// against the JSON grammar.
fn exact_number(source: String) -> Number {
    // serde_json offers no public constructor that keeps a number's
    // spelling; this one is hidden but stable under `arbitrary_precision`,
    // and a test below fails if it ever respells.
    Number::from_string_unchecked(source)
}

/// Words for text after a complete value: a second value, or other text.
fn trailing_error(text: &[u8], at: usize) -> JsonError {
    let rest = &text[at..];
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
        column: at + 1,
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
        // Exponents keep their spelling too.
        assert_eq!(
            round_trip("[1E5,1e400,2E-07,3e+2]"),
            "[1E5,1e400,2E-07,3e+2]"
        );
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
    fn nesting_up_to_the_limit_is_read() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_strict_json(deep.as_bytes()).is_ok());
        let deeper = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(refused(&deeper).message.contains("recursion limit"));
    }

    #[test]
    fn escapes_and_surrogate_pairs_are_resolved() {
        assert_eq!(
            parsed(r#""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#),
            Value::String("\"\\/\u{8}\u{c}\n\r\té😀".into())
        );
        assert!(refused(r#""\ud83d""#)
            .message
            .contains("lone leading surrogate"));
        assert!(refused(r#""\ude00""#)
            .message
            .contains("lone trailing surrogate"));
        assert_eq!(refused(r#""\x""#).message, "invalid JSON: invalid escape");
        assert!(refused(r#""\u12""#).message.starts_with("truncated JSON"));
    }

    #[test]
    fn number_text_is_kept_by_serde_json_as_given() {
        // Guards the one hidden serde_json constructor this reader uses.
        for text in ["1E5", "-0.0", "2e-07", "12345678901234567890123"] {
            match parsed(text) {
                Value::Number(n) => assert_eq!(n.to_string(), text),
                other => panic!("not a number: {other}"),
            }
        }
        assert_eq!(
            refused("1.").message,
            "truncated JSON: unexpected end of input (EOF while parsing a number)"
        );
        assert_eq!(refused("-x").message, "invalid JSON: invalid number");
        assert_eq!(
            refused("1e+").message,
            "truncated JSON: unexpected end of input (EOF while parsing a number)"
        );
    }

    #[test]
    fn nul_inside_values_is_found() {
        assert!(refuse_nul_inside(&parsed(r#"{"a":["x","\u0000"]}"#)).is_err());
        assert!(refuse_nul_inside(&parsed(r#"{"\u0000":1}"#)).is_err());
        assert!(refuse_nul_inside(&parsed(r#"{"a":["x",1,null,{"b":"c"}]}"#)).is_ok());
    }
}
