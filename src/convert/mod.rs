//! Conversion of one source value (a CSV cell or an NDJSON value) into the
//! JSON that Laudspeaker receives, by the rules of `shared/cases/README.md`.
//!
//! Conversions write JSON straight into the request body being built, so the
//! hot path allocates nothing per value. A refused value yields a
//! [`ConvertError`] that names the fault only; the caller adds the file,
//! line, column and value around it.
//!
//! One file per rule: `text` (string, and the JSON string escaper),
//! `number`, `boolean`, `email`, `date` (date and datetime, read by
//! `format`), `array` and `json` (strict JSON parsing).
//!
//! Decisions the rules leave open, taken here:
//! - U+0000 is never sent: a CSV cell holding it is refused whatever its
//!   type, and so is a JSON string holding it.
//! - A datetime read by a format without an offset and with no `timezone`
//!   is taken as UTC.
//! - Datetimes are sent to the second, as the import rules fix their form;
//!   a fraction of a second is cut off.
//! - `array`: a cell that yields no element is empty; `json`: a blank cell
//!   and the JSON `null` are empty.

mod array;
mod boolean;
mod date;
mod email;
mod format;
mod json;
mod number;
mod text;

pub use text::server_trim;

use serde_json::Value;

use array::write_array_text;
use boolean::{read_boolean, write_bool};
use date::{read_date, read_datetime, write_date, write_datetime};
use email::{email_key_into, write_email};
pub use json::parse_strict_json;
use json::{refuse_nul_inside, write_value};
use number::write_number;
pub use text::escape_json_str;
use text::{refuse_nul, string_key_into, write_string};

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
/// "column `x`, value `y`: ". Example: "not a number: decimal comma is not
/// accepted (the decimal mark is `.`)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError(pub String);

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConvertError {}

impl Conversion {
    /// Converts a CSV cell (already decoded to UTF-8) and appends its JSON.
    ///
    /// Nothing is appended when the value is empty or refused. A cell
    /// holding U+0000 is refused whatever the type.
    pub fn text_into(&self, text: &str, out: &mut Vec<u8>) -> Result<Converted, ConvertError> {
        refuse_nul(text)?;
        self.cell_into(text, out)
    }

    /// [`Conversion::text_into`] for a cell known to hold no U+0000: a
    /// cell of [`crate::input::csv::Fields`], whose record was checked
    /// whole, so the per-cell search (a fifth of a dry run) is not repeated.
    pub fn cell_into(&self, text: &str, out: &mut Vec<u8>) -> Result<Converted, ConvertError> {
        let written = match self.value_type {
            ValueType::String => write_string(text, self.trim, self.lowercase, out),
            ValueType::Number => write_number(text, out)?,
            ValueType::Boolean => read_boolean(text)?.map(|b| write_bool(b, out)).is_some(),
            ValueType::Email => write_email(text, self.lowercase, out)?,
            ValueType::Date => match read_date(text, self.format.as_deref())? {
                Some(day) => write_date(day, out).map(|()| true)?,
                None => false,
            },
            ValueType::Datetime => {
                match read_datetime(text, self.format.as_deref(), self.timezone)? {
                    Some(instant) => write_datetime(instant, out).map(|()| true)?,
                    None => false,
                }
            }
            ValueType::Array => write_array_text(text, &self.separator, self.lowercase, out),
            ValueType::Json => write_json_text(text, out)?,
        };
        Ok(converted(written))
    }

    /// Converts an NDJSON value (`Value::Null` for null or missing) and
    /// appends its JSON.
    ///
    /// JSON strings go through the same rules as CSV cells. A JSON number
    /// sent as a string keeps its source text, every digit of it
    /// (`lowercase` does not touch it; serde_json spells an exponent
    /// `e+N`); a JSON boolean sent as a string is `"true"` / `"false"`.
    /// `array` needs a JSON array and `json` takes anything; both are sent
    /// as they are, numbers with their source text.
    pub fn json_into(&self, value: &Value, out: &mut Vec<u8>) -> Result<Converted, ConvertError> {
        use ValueType as T;
        let written = match (self.value_type, value) {
            (_, Value::Null) => false,
            (T::Json, value) | (T::Array, value @ Value::Array(_)) => {
                refuse_nul_inside(value)?;
                write_value(value, out);
                true
            }
            (T::Array, other) => return Err(wrong_kind(T::Array, other)),
            (_, Value::String(text)) => return self.text_into(text, out),
            (T::String, Value::Number(number)) => {
                escape_json_str(number.as_str(), out);
                true
            }
            (T::String, Value::Bool(flag)) => {
                escape_json_str(if *flag { "true" } else { "false" }, out);
                true
            }
            (T::Number, Value::Number(number)) => write_number(number.as_str(), out)?,
            (T::Boolean, Value::Bool(flag)) => {
                write_bool(*flag, out);
                true
            }
            (T::Boolean, Value::Number(number)) => read_boolean(number.as_str())?
                .map(|b| write_bool(b, out))
                .is_some(),
            (value_type, other) => return Err(wrong_kind(value_type, other)),
        };
        Ok(converted(written))
    }

    /// Normalises a primary key from text (type string or email);
    /// `Ok(None)` when empty.
    ///
    /// A key of white space only is empty whether or not `trim` is set: the
    /// server trims keys, so such a key names nobody.
    pub fn key_from_text(&self, text: &str) -> Result<Option<String>, ConvertError> {
        let mut key = String::new();
        Ok(self.key_into(text, &mut key)?.then_some(key))
    }

    /// [`Conversion::key_from_text`] into a reused `key` (cleared first);
    /// `Ok(false)` when empty. Allocates only to lowercase non-ASCII text.
    pub fn key_into(&self, text: &str, key: &mut String) -> Result<bool, ConvertError> {
        key.clear();
        match self.value_type {
            ValueType::String => string_key_into(text, self.trim, self.lowercase, key),
            ValueType::Email => {
                refuse_nul(text)?;
                email_key_into(text, self.lowercase, key)
            }
            other => Err(ConvertError(format!(
                "a primary key must be of type string or email, not {}",
                other.name()
            ))),
        }
    }

    /// Normalises a primary key from an NDJSON value; a number gives its
    /// exact source text; `Ok(None)` when null, missing or empty.
    ///
    /// Booleans, arrays and objects are refused as keys, and so are numbers
    /// for type email.
    pub fn key_from_json(&self, value: &Value) -> Result<Option<String>, ConvertError> {
        match (self.value_type, value) {
            (_, Value::Null) => Ok(None),
            (_, Value::String(text)) => self.key_from_text(text),
            (ValueType::String, Value::Number(number)) => Ok(Some(number.as_str().to_string())),
            (ValueType::String, other) => Err(ConvertError(format!(
                "a primary key must be a JSON string or number, found {}",
                kind_of(other)
            ))),
            (value_type, other) => Err(wrong_kind(value_type, other)),
        }
    }

    /// Checks the options of this rule before any value is converted: the
    /// date or datetime format uses only specifiers the reader supports, and
    /// a datetime format gives a time of day (or seconds since the epoch).
    pub fn check(&self) -> Result<(), ConvertError> {
        let Some(format) = self.format.as_deref() else {
            return Ok(());
        };
        if !format::format_is_supported(format) {
            return Err(ConvertError(format!(
                "format `{format}` uses a specifier that is not supported"
            )));
        }
        let instant_counts = self.value_type == ValueType::Datetime;
        if !format::format_has_full_date(format, instant_counts) {
            return Err(ConvertError(format!(
                "format `{format}` does not give a whole date (year, month and day)"
            )));
        }
        if self.value_type == ValueType::Datetime && !format::format_has_time(format) {
            return Err(ConvertError(format!(
                "format `{format}` gives no time of day (hours and minutes), which a datetime needs"
            )));
        }
        Ok(())
    }
}

impl ValueType {
    /// The name the mapping file uses for this type.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
            ValueType::Email => "email",
            ValueType::Date => "date",
            ValueType::Datetime => "datetime",
            ValueType::Array => "array",
            ValueType::Json => "json",
        }
    }
}

fn converted(written: bool) -> Converted {
    if written {
        Converted::Written
    } else {
        Converted::Empty
    }
}

/// Converts a CSV cell of type `json`: one strict JSON value, sent compact.
/// A blank cell and the JSON `null` are empty, as a NDJSON `null` is.
fn write_json_text(text: &str, out: &mut Vec<u8>) -> Result<bool, ConvertError> {
    if text.trim().is_empty() {
        return Ok(false);
    }
    let value =
        parse_strict_json(text.as_bytes()).map_err(|error| ConvertError(error.to_string()))?;
    if value.is_null() {
        return Ok(false);
    }
    refuse_nul_inside(&value)?;
    write_value(&value, out);
    Ok(true)
}

/// Words for a JSON value of a kind the type cannot take.
fn wrong_kind(value_type: ValueType, value: &Value) -> ConvertError {
    let found = kind_of(value);
    let wanted = match value_type {
        ValueType::String => "a string, number or boolean",
        ValueType::Number => "a number",
        ValueType::Boolean => "a boolean",
        ValueType::Array => "a JSON array",
        ValueType::Json => "a JSON value",
        ValueType::Email | ValueType::Date | ValueType::Datetime => "a JSON string",
    };
    ConvertError(format!(
        "expected {wanted} for type {}, found {found}",
        value_type.name()
    ))
}

/// What kind of JSON value this is, in words ("a JSON array").
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a JSON boolean",
        Value::Number(_) => "a JSON number",
        Value::String(_) => "a JSON string",
        Value::Array(_) => "a JSON array",
        Value::Object(_) => "a JSON object",
    }
}

/// Why a JSON text was refused by [`parse_strict_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// 1-based column (byte) where the fault was found.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (column {})", self.message, self.column)
    }
}

impl std::error::Error for JsonError {}

#[cfg(test)]
mod tests;
