//! Conversion of one source value (a CSV cell or an NDJSON value) into the
//! JSON that Laudspeaker receives, by the rules of `shared/cases/README.md`.
//!
//! Conversions write JSON straight into the request body being built, so the
//! hot path allocates nothing per value. A refused value yields a
//! [`ConvertError`] that names the fault only; the caller adds the file,
//! line, column and value around it.
//!
//! INTERFACE STUB: the owner of this module replaces the bodies below.

use serde_json::Value;

/// The `type` of a property in the mapping file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Number,
    Boolean,
    Email,
    Date,
    Datetime,
    Array,
    Json,
}

/// One property's conversion rule, as the mapping file declares it.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub value_type: ValueType,
    pub trim: bool,
    pub lowercase: bool,
    /// strftime-style format, date and datetime only.
    pub format: Option<String>,
    /// Zone of datetimes that carry no offset.
    pub timezone: Option<chrono_tz::Tz>,
    /// Separator of array elements in a CSV cell.
    pub separator: String,
}

impl Conversion {
    /// A rule with every option at its default.
    pub fn new(value_type: ValueType) -> Self {
        Conversion {
            value_type,
            trim: false,
            lowercase: false,
            format: None,
            timezone: None,
            separator: ",".to_string(),
        }
    }
}

/// What a successful conversion did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converted {
    /// The JSON value was appended to the output.
    Written,
    /// The value is empty; nothing was written (the caller applies `on_empty`).
    Empty,
}

/// Why a value was refused, in words a person reads after
/// "column `x`, value `y`: ". Example: "not a number (decimal comma)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError(pub String);

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Conversion {
    /// Converts a CSV cell (already decoded to UTF-8) and appends its JSON.
    pub fn text_into(&self, _text: &str, _out: &mut Vec<u8>) -> Result<Converted, ConvertError> {
        unimplemented!()
    }

    /// Converts an NDJSON value (`Value::Null` for null or missing) and
    /// appends its JSON.
    pub fn json_into(&self, _value: &Value, _out: &mut Vec<u8>) -> Result<Converted, ConvertError> {
        unimplemented!()
    }

    /// Normalises a primary key from text (type string or email);
    /// `Ok(None)` when empty.
    pub fn key_from_text(&self, _text: &str) -> Result<Option<String>, ConvertError> {
        unimplemented!()
    }

    /// Normalises a primary key from an NDJSON value; a number gives its
    /// exact source text; `Ok(None)` when null, missing or empty.
    pub fn key_from_json(&self, _value: &Value) -> Result<Option<String>, ConvertError> {
        unimplemented!()
    }
}

/// Why a JSON text was refused by [`parse_strict_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// 1-based column (byte) where the fault was found.
    pub column: usize,
    pub message: String,
}

/// Parses exactly one JSON value, refusing repeated object keys at any level
/// and any text after the value. Numbers keep their exact source text.
pub fn parse_strict_json(_text: &[u8]) -> Result<Value, JsonError> {
    unimplemented!()
}

/// Appends `s` as a quoted JSON string.
pub fn escape_json_str(_s: &str, _out: &mut Vec<u8>) {
    unimplemented!()
}
