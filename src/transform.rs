//! Turns one record into the upsert request body Laudspeaker receives, or
//! into the reason it cannot be sent.
//!
//! The body is written straight into one reused buffer: attribute names are
//! escaped once, up front, and each value is converted directly into place.

use std::sync::Arc;

use serde_json::Value;

use crate::convert::{escape_json_str, server_trim, Conversion, Converted};
use crate::input::csv::Fields;
use crate::mapping::{self, CsvBinding, Mapping, OnEmpty, OnError, PropertySource};
use crate::supersede::Ledger;

/// Why a record is not sent; becomes its dead-letter reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub kind: RejectKind,
    pub reason: String,
}

/// The family of a rejection, kept in the dead-letter entry for filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// The record's shape: field count, open quote, not a JSON object.
    Structure,
    /// Bytes that are not text: NUL, invalid encoding.
    Encoding,
    /// A value its conversion refused.
    Value,
    /// The primary key is empty or invalid.
    Key,
    /// The request body would be larger than the server accepts.
    Size,
}

impl RejectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectKind::Structure => "structure",
            RejectKind::Encoding => "encoding",
            RejectKind::Value => "value",
            RejectKind::Key => "primary_key",
            RejectKind::Size => "size",
        }
    }
}

fn reject(kind: RejectKind, reason: String) -> Rejection {
    Rejection { kind, reason }
}

/// Where one property's value comes from, resolved for the input format.
#[derive(Debug, Clone)]
enum Origin {
    Column(usize),
    Path(Vec<String>),
    /// Already-serialised JSON.
    Constant(Vec<u8>),
}

/// One attribute of the body, prepared once per run.
#[derive(Debug, Clone)]
struct Slot {
    /// `"name":` escaped, ready to copy.
    prefix: Vec<u8>,
    origin: Origin,
    conversion: Conversion,
    on_empty: OnEmpty,
    on_error: OnError,
    /// The source column or key path, for messages.
    from: String,
    /// The attribute name, for the warnings file.
    to: String,
}

/// A value refused by its conversion whose property says
/// `on_error = "drop_property"`: the row went without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The CSV column or NDJSON key path.
    pub column: String,
    pub attribute: String,
    /// The value as read (JSON text for NDJSON values).
    pub value: String,
    /// Why the conversion refused it.
    pub reason: String,
}

/// A successfully built request.
#[derive(Debug)]
pub struct Built<'a> {
    /// The primary key as sent.
    pub key: &'a str,
    pub body: &'a [u8],
    /// The properties left out of this body (usually none).
    pub dropped: &'a [Dropped],
}

/// Builds request bodies for one run.
pub struct BodyBuilder {
    key_origin: Origin,
    key_from: String,
    key_conversion: Conversion,
    /// `"attribute":` prefix when the mapping names the key attribute.
    key_attribute: Option<Vec<u8>>,
    slots: Vec<Slot>,
    /// NDJSON `unmapped = "include"`: top-level keys used by the mapping.
    used_top_keys: Option<Vec<String>>,
    header: Vec<String>,
    max_body_bytes: usize,
    /// NDJSON records seen, and for the key and each slot how many of them
    /// held its path: a path found in none is most likely a typo.
    json_records: u64,
    key_found: u64,
    /// Records built whole, and per slot how many of them held its path
    /// (counted on success only: a refused record stops before its later
    /// slots are looked at).
    built_records: u64,
    slot_found: Vec<u64>,
    /// The current record's slot lookups, committed when it is built.
    found_now: Vec<bool>,
    /// Line of the record being built, for the ledger.
    line: u64,
    /// The last record's key passed its checks (so a refusal names a
    /// customer).
    key_ok: bool,
    /// The run's ledger, and this input's place among the run's inputs.
    ledger: Option<(Arc<Ledger>, usize)>,
    key: String,
    body: Vec<u8>,
    /// The properties dropped from the current record.
    dropped: Vec<Dropped>,
}

fn prefix_for(name: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(name.len() + 3);
    escape_json_str(name, &mut prefix);
    prefix.push(b':');
    prefix
}

fn constant_json(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a serde_json::Value always serialises")
}

impl BodyBuilder {
    /// A builder for CSV records read against `binding`.
    pub fn for_csv(
        mapping: &Mapping,
        binding: &CsvBinding,
        header: &[String],
        max_body_bytes: usize,
    ) -> Self {
        let mut slots = Vec::new();
        for (property, column) in mapping.properties.iter().zip(&binding.columns) {
            let origin = match (&property.source, column) {
                (PropertySource::Constant(value), _) => Origin::Constant(constant_json(value)),
                (PropertySource::Field(_), Some(index)) => Origin::Column(*index),
                (PropertySource::Field(name), None) => unreachable!("unbound column {name}"),
            };
            slots.push(slot(property, origin));
        }
        for (index, name) in &binding.unmapped {
            let mut slot = Slot {
                prefix: prefix_for(name),
                origin: Origin::Column(*index),
                conversion: Conversion::new(crate::convert::ValueType::String),
                on_empty: OnEmpty::Omit,
                on_error: OnError::RejectRow,
                from: name.clone(),
                to: name.clone(),
            };
            slot.conversion.trim = false;
            slots.push(slot);
        }
        let mut builder = Self::new(mapping, Origin::Column(binding.key_column), slots);
        builder.header = header.to_vec();
        builder.max_body_bytes = max_body_bytes;
        builder
    }

    /// A builder for NDJSON objects.
    pub fn for_ndjson(mapping: &Mapping, max_body_bytes: usize) -> Self {
        let path = |from: &str| from.split('.').map(str::to_string).collect::<Vec<_>>();
        let slots = mapping
            .properties
            .iter()
            .map(|property| {
                let origin = match &property.source {
                    PropertySource::Constant(value) => Origin::Constant(constant_json(value)),
                    PropertySource::Field(from) => Origin::Path(path(from)),
                };
                slot(property, origin)
            })
            .collect();
        let key_origin = Origin::Path(path(&mapping.primary_key.from));
        let mut builder = Self::new(mapping, key_origin, slots);
        builder.max_body_bytes = max_body_bytes;
        if mapping.source.unmapped == mapping::Unmapped::Include {
            // Keys the mapping reads, and keys named like an attribute it
            // sets: the mapping's own value wins, and no body names an
            // attribute twice.
            let mut used = vec![first_segment(&mapping.primary_key.from)];
            used.extend(mapping.primary_key.attribute.clone());
            for property in &mapping.properties {
                if let PropertySource::Field(from) = &property.source {
                    used.push(first_segment(from));
                }
                used.push(property.to.clone());
            }
            builder.used_top_keys = Some(used);
        }
        builder
    }

    fn new(mapping: &Mapping, key_origin: Origin, slots: Vec<Slot>) -> Self {
        let slot_found = vec![0; slots.len()];
        let found_now = vec![false; slots.len()];
        BodyBuilder {
            key_origin,
            key_from: mapping.primary_key.from.clone(),
            key_conversion: mapping.primary_key.conversion.clone(),
            key_attribute: mapping.primary_key.attribute.as_deref().map(prefix_for),
            slots,
            used_top_keys: None,
            header: Vec::new(),
            max_body_bytes: usize::MAX,
            json_records: 0,
            key_found: 0,
            built_records: 0,
            slot_found,
            found_now,
            line: 0,
            key_ok: false,
            ledger: None,
            key: String::new(),
            body: Vec::with_capacity(1024),
            dropped: Vec::new(),
        }
    }

    /// Notes the customers of refused rows in `ledger`, as rows of the
    /// run's input number `input`.
    pub fn set_ledger(&mut self, ledger: Arc<Ledger>, input: usize) {
        self.ledger = Some((ledger, input));
    }

    /// Warnings for NDJSON key paths that no record held: a mapping typo
    /// would otherwise send every record without that attribute, silently.
    pub fn unseen_paths(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let n = self.json_records;
        if n > 0 && self.key_found == 0 {
            let from = &self.key_from;
            warnings.push(format!(
                "the primary key `{from}` was in none of the {n} records"
            ));
        }
        let n = self.built_records;
        for (slot, &found) in self.slots.iter().zip(&self.slot_found) {
            if n > 0 && found == 0 && matches!(slot.origin, Origin::Path(_)) {
                let from = &slot.from;
                warnings.push(format!("key `{from}` was in none of the {n} records built"));
            }
        }
        warnings
    }

    /// The CSV header name of a column (0-based).
    pub fn column_name(&self, column: usize) -> Option<&str> {
        self.header.get(column).map(String::as_str)
    }

    /// Sets the line of the record about to be built (for the ledger).
    pub fn at_line(&mut self, line: u64) {
        self.line = line;
    }

    /// Builds the body of one CSV record.
    pub fn csv(&mut self, fields: &Fields<'_>) -> Result<Built<'_>, Rejection> {
        self.key_ok = false;
        if let Err(rejection) = self.csv_body(fields) {
            return Err(self.noted(rejection));
        }
        Ok(self.built())
    }

    /// Builds the body of one NDJSON object.
    pub fn json(
        &mut self,
        object: &serde_json::Map<String, Value>,
    ) -> Result<Built<'_>, Rejection> {
        self.key_ok = false;
        if let Err(rejection) = self.json_body(object) {
            return Err(self.noted(rejection));
        }
        self.built_records += 1;
        for (total, &found) in self.slot_found.iter_mut().zip(&self.found_now) {
            *total += u64::from(found);
        }
        Ok(self.built())
    }

    /// Notes the customer of a refused row whose key was valid.
    fn noted(&self, rejection: Rejection) -> Rejection {
        if let (true, Some((ledger, input))) = (self.key_ok, &self.ledger) {
            let at = crate::supersede::position(*input, self.line);
            ledger.note_undelivered(server_trim(&self.key), at);
        }
        rejection
    }

    fn built(&self) -> Built<'_> {
        Built {
            key: &self.key,
            body: &self.body,
            dropped: &self.dropped,
        }
    }

    fn csv_body(&mut self, fields: &Fields<'_>) -> Result<(), Rejection> {
        if fields.len() != self.header.len() {
            let reason = format!(
                "{} field{} where the header has {}",
                fields.len(),
                if fields.len() == 1 { "" } else { "s" },
                self.header.len()
            );
            return Err(reject(RejectKind::Structure, reason));
        }
        self.dropped.clear();
        let Origin::Column(key_column) = self.key_origin else {
            unreachable!("CSV builders key on a column")
        };
        let key_text = fields.get(key_column);
        let key = self.key_conversion.key_into(key_text, &mut self.key);
        self.checked_key(key, Some(key_text), false)?;
        self.key_ok = true;
        self.start_body();
        let mut wrote_any = false;
        for slot in &self.slots {
            let mark = self.body.len();
            if wrote_any {
                self.body.push(b',');
            }
            self.body.extend_from_slice(&slot.prefix);
            let converted = match &slot.origin {
                Origin::Column(index) => {
                    let text = fields.get(*index);
                    match slot.conversion.cell_into(text, &mut self.body) {
                        Ok(converted) => converted,
                        Err(e) => {
                            drop_or_reject(slot, text, e.0, &mut self.dropped)?;
                            self.body.truncate(mark);
                            continue;
                        }
                    }
                }
                Origin::Constant(json) => {
                    self.body.extend_from_slice(json);
                    Converted::Written
                }
                Origin::Path(_) => unreachable!("CSV builders use columns"),
            };
            wrote_any |= finish_slot(&mut self.body, mark, converted, slot.on_empty);
        }
        self.finish_body(wrote_any)
    }

    fn json_body(&mut self, object: &serde_json::Map<String, Value>) -> Result<(), Rejection> {
        self.dropped.clear();
        let Origin::Path(key_path) = &self.key_origin else {
            unreachable!("NDJSON builders key on a path")
        };
        let found = lookup(object, key_path);
        self.json_records += 1;
        self.key_found += u64::from(found.is_some());
        let key = self
            .key_conversion
            .key_from_json(found.unwrap_or(&Value::Null))
            .map(|key| key.map(|key| self.key = key).is_some());
        let shown = found.map(|v| v.to_string());
        self.checked_key(key, shown.as_deref(), found.is_none())?;
        self.key_ok = true;
        self.start_body();
        let mut wrote_any = false;
        for (index, slot) in self.slots.iter().enumerate() {
            let mark = self.body.len();
            if wrote_any {
                self.body.push(b',');
            }
            self.body.extend_from_slice(&slot.prefix);
            let converted = match &slot.origin {
                Origin::Path(path) => {
                    let found = lookup(object, path);
                    self.found_now[index] = found.is_some();
                    let value = found.unwrap_or(&Value::Null);
                    match slot.conversion.json_into(value, &mut self.body) {
                        Ok(converted) => converted,
                        Err(e) => {
                            drop_or_reject(slot, &value.to_string(), e.0, &mut self.dropped)?;
                            self.body.truncate(mark);
                            continue;
                        }
                    }
                }
                Origin::Constant(json) => {
                    self.body.extend_from_slice(json);
                    Converted::Written
                }
                Origin::Column(_) => unreachable!("NDJSON builders use paths"),
            };
            wrote_any |= finish_slot(&mut self.body, mark, converted, slot.on_empty);
        }
        if let Some(used) = &self.used_top_keys {
            wrote_any |= write_unmapped(&mut self.body, object, used, wrote_any)?;
        }
        self.finish_body(wrote_any)
    }

    /// Nothing when the key (already in `self.key`) was found, or the
    /// rejection for an empty or invalid one.
    fn checked_key(
        &self,
        key: Result<bool, crate::convert::ConvertError>,
        shown: Option<&str>,
        missing: bool,
    ) -> Result<(), Rejection> {
        let from = &self.key_from;
        match key {
            Ok(true) => Ok(()),
            Ok(false) if missing => Err(reject(
                RejectKind::Key,
                format!("primary key `{from}` is missing from the record"),
            )),
            Ok(false) => {
                let what = match shown {
                    None | Some("null") => " (null)",
                    Some(_) => "",
                };
                let reason = format!("primary key `{from}` is empty{what}");
                Err(reject(RejectKind::Key, reason))
            }
            Err(e) => {
                let mut rejection = value_rejection(from, shown.unwrap_or(""), &e.0);
                rejection.kind = RejectKind::Key;
                rejection.reason = format!("primary key {}", rejection.reason);
                Err(rejection)
            }
        }
    }

    fn start_body(&mut self) {
        self.body.clear();
        self.body.extend_from_slice(b"{\"primary_key\":");
        escape_json_str(&self.key, &mut self.body);
        self.body.extend_from_slice(b",\"properties\":{");
    }

    fn finish_body(&mut self, wrote_any: bool) -> Result<(), Rejection> {
        if let Some(prefix) = &self.key_attribute {
            if wrote_any {
                self.body.push(b',');
            }
            self.body.extend_from_slice(prefix);
            // The server stores the key attribute as the key it matched,
            // which it trims: the copy must be trimmed the same way, or the
            // next import would not find this customer.
            escape_json_str(server_trim(&self.key), &mut self.body);
        }
        self.body.extend_from_slice(b"}}");
        if self.body.len() > self.max_body_bytes {
            let limit = self.max_body_bytes;
            let reason = format!(
                "request body would be {} bytes, which exceeds the server's limit of {limit} \
                 bytes ({}); the row was not sent",
                self.body.len(),
                in_kb(limit)
            );
            return Err(reject(RejectKind::Size, reason));
        }
        Ok(())
    }
}

/// A refused value: the row's rejection, or (`drop_property`) a note in
/// `dropped` and the row goes on without it.
fn drop_or_reject(
    slot: &Slot,
    value: &str,
    fault: String,
    dropped: &mut Vec<Dropped>,
) -> Result<(), Rejection> {
    match slot.on_error {
        OnError::RejectRow => Err(value_rejection(&slot.from, value, &fault)),
        OnError::DropProperty => {
            dropped.push(Dropped {
                column: slot.from.clone(),
                attribute: slot.to.clone(),
                value: value.to_string(),
                reason: fault,
            });
            Ok(())
        }
    }
}

fn slot(property: &mapping::Property, origin: Origin) -> Slot {
    let from = match &property.source {
        PropertySource::Field(from) => from.clone(),
        PropertySource::Constant(_) => format!("value of {}", property.to),
    };
    Slot {
        prefix: prefix_for(&property.to),
        origin,
        conversion: property.conversion.clone(),
        on_empty: property.on_empty,
        on_error: property.on_error,
        from,
        to: property.to.clone(),
    }
}

/// Applies `on_empty` to a slot just written from `mark`; returns whether
/// the slot stays in the body.
fn finish_slot(body: &mut Vec<u8>, mark: usize, converted: Converted, on_empty: OnEmpty) -> bool {
    match (converted, on_empty) {
        (Converted::Written, _) => true,
        (Converted::Empty, OnEmpty::Null) => {
            body.extend_from_slice(b"null");
            true
        }
        (Converted::Empty, OnEmpty::Omit) => {
            body.truncate(mark);
            false
        }
    }
}

/// Writes the top-level keys the mapping does not use, as they are.
fn write_unmapped(
    body: &mut Vec<u8>,
    object: &serde_json::Map<String, Value>,
    used: &[String],
    mut wrote_any: bool,
) -> Result<bool, Rejection> {
    let mut wrote = false;
    for (name, value) in object {
        if used.iter().any(|u| u == name) || value.is_null() {
            continue;
        }
        if let Err(why) = mapping::check_attribute_name(name) {
            let reason = format!("key `{name}` cannot be sent as an attribute: {why}");
            return Err(reject(RejectKind::Structure, reason));
        }
        if wrote_any {
            body.push(b',');
        }
        escape_json_str(name, body);
        body.push(b':');
        serde_json::to_writer(&mut *body, value).expect("writing to a Vec cannot fail");
        wrote_any = true;
        wrote = true;
    }
    Ok(wrote)
}

fn first_segment(path: &str) -> String {
    path.split('.').next().unwrap_or(path).to_string()
}

/// The value at a key path, `None` when any step is missing.
pub fn lookup<'v>(
    object: &'v serde_json::Map<String, Value>,
    path: &[String],
) -> Option<&'v Value> {
    let (first, rest) = path.split_first()?;
    let mut value = object.get(first)?;
    for step in rest {
        value = value.as_object()?.get(step)?;
    }
    Some(value)
}

/// "column `score`, value `0x1A`: not a number (hex is not accepted)".
fn value_rejection(column: &str, value: &str, fault: &str) -> Rejection {
    reject(
        RejectKind::Value,
        format!("column `{column}`, value `{}`: {fault}", shown_value(value)),
    )
}

/// "100 KB" for 102400, "1.5 KB" for 1536.
fn in_kb(bytes: usize) -> String {
    let kb = bytes as f64 / 1024.0;
    if bytes.is_multiple_of(1024) {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{kb:.1} KB")
    }
}

/// A value as quoted in a message: cut to a readable length.
pub fn shown_value(value: &str) -> std::borrow::Cow<'_, str> {
    const LIMIT: usize = 120;
    if value.chars().count() <= LIMIT {
        return value.into();
    }
    let cut: String = value.chars().take(LIMIT).collect();
    format!("{cut}… ({} characters in all)", value.chars().count()).into()
}
