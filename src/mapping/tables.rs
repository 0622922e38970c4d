//! Turning the parsed TOML document into a checked [`Mapping`]: each table
//! read against its allowed keys, then the checks that span tables
//! (attribute names, attributes set twice, NDJSON key paths).

use std::collections::HashMap;
use std::path::Path;

use toml_edit::{Document, Item, Table, TomlError, Value};

use super::file::{describe, item_to_json, LineIndex, Located, Problems, Section};
use super::names::{check_attribute_name, check_path};
use super::options::{self, type_name};
use super::{
    Format, Locations, Mapping, MappingError, OnEmpty, OnError, PrimaryKey, Property,
    PropertySource, Source, Unmapped,
};
use crate::convert::{Conversion, ValueType};

const TABLES: [&str; 4] = ["source", "primary_key", "property", "defaults"];
const DEFAULTS_KEYS: [&str; 1] = ["on_error"];
const SOURCE_KEYS: [&str; 4] = ["format", "delimiter", "encoding", "unmapped"];
const KEY_KEYS: [&str; 5] = ["from", "type", "trim", "lowercase", "attribute"];
const PROPERTY_KEYS: [&str; 11] = [
    "on_error",
    "from",
    "value",
    "to",
    "type",
    "trim",
    "lowercase",
    "on_empty",
    "format",
    "timezone",
    "separator",
];
/// Property keys that shape a conversion, so mean nothing for a constant.
const CONVERSION_KEYS: [&str; 8] = [
    "on_error",
    "type",
    "trim",
    "lowercase",
    "on_empty",
    "format",
    "timezone",
    "separator",
];

/// Parses and checks mapping text; on failure, every problem found.
pub(super) fn build(text: &str, path: &Path) -> Result<Mapping, Vec<MappingError>> {
    let lines = LineIndex::new(text);
    let document = Document::parse(text).map_err(|error| vec![syntax(&error, text, &lines)])?;
    let root = document.as_table();
    let mut problems = Problems::default();
    check_top_level(root, &lines, &mut problems);

    let mut locations = Locations::default();
    let source = match section(root, "source", "[source]", &lines, &mut problems) {
        Some(table) => read_source(&table, &mut locations, &mut problems),
        None => Source::default(),
    };
    let primary_key = match section(root, "primary_key", "[primary_key]", &lines, &mut problems) {
        Some(table) => read_primary_key(&table, &mut locations, &mut problems),
        None => {
            problems.general(
                "the mapping has no [primary_key] table; add one with `from` naming the \
                 column or key that holds each record's primary key",
            );
            None
        }
    };
    let on_error = match section(root, "defaults", "[defaults]", &lines, &mut problems) {
        Some(table) => read_defaults(&table, &mut problems),
        None => OnError::RejectRow,
    };
    let drafts: Vec<Draft> = property_sections(root, &lines, &mut problems)
        .iter()
        .filter_map(|table| read_property(table, on_error, &mut problems))
        .collect();
    check_targets(&drafts, primary_key.as_ref(), &mut problems);
    if let Some(format) = source.format {
        let key = primary_key.as_ref().map(|(key, _)| key);
        check_draft_format(format, key, &locations, &drafts, &mut problems);
    }

    let (Some((primary_key, _)), true) = (primary_key, problems.errors.is_empty()) else {
        return Err(problems.errors);
    };
    locations.property_sources = drafts.iter().map(|draft| draft.source_line).collect();
    Ok(Mapping {
        path: path.to_path_buf(),
        source,
        primary_key,
        properties: drafts.into_iter().map(|draft| draft.property).collect(),
        locations,
    })
}

/// [`check_format`] on the tables as read, before the mapping is built.
fn check_draft_format(
    format: Format,
    key: Option<&PrimaryKey>,
    locations: &Locations,
    drafts: &[Draft],
    problems: &mut Problems,
) {
    let key_from = key.map(|key| (key.from.as_str(), locations.key_from));
    let froms = key_from
        .into_iter()
        .chain(drafts.iter().filter_map(Draft::from));
    check_format(format, locations.delimiter, froms, problems);
}

/// Problems that depend on the input format: NDJSON has no delimiter, and
/// its `from` values (given with their lines) must be usable key paths.
pub(super) fn check_format<'a>(
    format: Format,
    delimiter_line: Option<usize>,
    froms: impl Iterator<Item = (&'a str, usize)>,
    problems: &mut Problems,
) {
    if format == Format::Csv {
        return;
    }
    if let Some(line) = delimiter_line {
        problems.at(line, "`delimiter` applies to CSV input only, not to NDJSON");
    }
    for (from, line) in froms {
        if let Err(message) = check_path(from) {
            problems.at(line, format!("`from`: {message}"));
        }
    }
}

/// The TOML syntax error, at its line and column.
fn syntax(error: &TomlError, text: &str, lines: &LineIndex) -> MappingError {
    let message = error.message().trim();
    match error.span() {
        Some(span) => MappingError {
            line: Some(lines.line(span.start)),
            message: format!(
                "TOML syntax error at column {}: {message}",
                lines.column(text, span.start)
            ),
        },
        None => MappingError {
            line: None,
            message: format!("TOML syntax error: {message}"),
        },
    }
}

/// Reports top-level keys and tables that are not part of the format.
fn check_top_level(root: &Table, lines: &LineIndex, problems: &mut Problems) {
    for (key, item) in root.iter() {
        if TABLES.contains(&key) {
            continue;
        }
        let line = root_line(root, key, lines);
        let what = match item.is_table_like() || item.is_array_of_tables() {
            true => "table",
            false => "key",
        };
        let mut message = format!(
            "unknown {what} `{key}`; the mapping file has the tables [source], \
             [primary_key], [[property]] and [defaults]"
        );
        if let Some(close) = super::file::closest(key, &TABLES) {
            message.push_str(&format!(" (did you mean `{close}`?)"));
        }
        problems.at(line, message);
    }
}

/// Line where the top-level `key` is: its table header, or the key itself.
fn root_line(root: &Table, key: &str, lines: &LineIndex) -> usize {
    let Some((key, item)) = root.get_key_value(key) else {
        return 1;
    };
    lines
        .line_of_span(item.span())
        .or_else(|| lines.line_of_span(key.span()))
        .unwrap_or(1)
}

/// The top-level table `key`, if present and a table.
fn section<'a>(
    root: &'a Table,
    key: &str,
    name: &'static str,
    lines: &'a LineIndex,
    problems: &mut Problems,
) -> Option<Section<'a>> {
    let item = root.get(key)?;
    let line = root_line(root, key, lines);
    match item.as_table_like() {
        Some(table) => Some(Section::new(name, table, line, lines)),
        None => {
            let found = describe(item);
            problems.at(
                line,
                format!("`{key}` must be a table, written {name}; found {found}"),
            );
            None
        }
    }
}

/// Every `[[property]]` table (or inline table in a `property` array).
fn property_sections<'a>(
    root: &'a Table,
    lines: &'a LineIndex,
    problems: &mut Problems,
) -> Vec<Section<'a>> {
    let Some(item) = root.get("property") else {
        return Vec::new();
    };
    let line = root_line(root, "property", lines);
    let name = "[[property]]";
    let own_line = |span| lines.line_of_span(span).unwrap_or(line);
    match item {
        Item::ArrayOfTables(tables) => tables
            .iter()
            .map(|table| Section::new(name, table, own_line(table.span()), lines))
            .collect(),
        Item::Value(Value::Array(values)) => values
            .iter()
            .filter_map(|value| match value.as_inline_table() {
                Some(table) => Some(Section::new(name, table, own_line(value.span()), lines)),
                None => {
                    let line = own_line(value.span());
                    problems.at(line, "each element of `property` must be a table");
                    None
                }
            })
            .collect(),
        other => {
            let found = describe(other);
            problems.at(
                line,
                format!(
                    "`property` must be an array of tables, one [[property]] per \
                     attribute; found {found}"
                ),
            );
            Vec::new()
        }
    }
}

/// The value of a string key turned into `T` by `parse`; problems reported.
fn parsed<T>(
    located: Option<Located<&str>>,
    parse: impl FnOnce(&str) -> Result<T, String>,
    problems: &mut Problems,
) -> Option<T> {
    let located = located?;
    parse(located.value)
        .map_err(|message| problems.at(located.line, message))
        .ok()
}

fn read_source(table: &Section, locations: &mut Locations, problems: &mut Problems) -> Source {
    table.check_keys(&SOURCE_KEYS, problems);
    let format = parsed(table.string("format", problems), options::format, problems);
    let delimiter = table.string("delimiter", problems);
    locations.delimiter = delimiter.map(|located| located.line);
    let unmapped = table.string("unmapped", problems);
    locations.unmapped = unmapped.map(|located| located.line);
    let encoding = table.string("encoding", problems);
    Source {
        format,
        delimiter: parsed(delimiter, options::delimiter, problems).unwrap_or(b','),
        encoding: parsed(encoding, options::encoding, problems),
        unmapped: parsed(unmapped, options::unmapped, problems).unwrap_or(Unmapped::Ignore),
    }
}

/// The primary key, with the line of its `attribute` when set.
fn read_primary_key(
    table: &Section,
    locations: &mut Locations,
    problems: &mut Problems,
) -> Option<(PrimaryKey, Option<usize>)> {
    table.check_keys(&KEY_KEYS, problems);
    let value_type = parsed(table.string("type", problems), key_type, problems);
    let trim = table.flag("trim", problems);
    let lowercase = table.flag("lowercase", problems);
    let attribute = table.string("attribute", problems);
    if let Some(name) = attribute {
        if let Err(message) = check_attribute_name(name.value) {
            problems.at(name.line, format!("`attribute`: {message}"));
        }
    }
    let from = required_from(table, problems, "the column or key holding the primary key")?;
    locations.key_from = from.line;
    let conversion = Conversion {
        trim,
        lowercase,
        ..Conversion::new(value_type.unwrap_or(ValueType::String))
    };
    let key = PrimaryKey {
        from: from.value.to_string(),
        conversion,
        attribute: attribute.map(|name| name.value.to_string()),
        line: table.line,
    };
    Some((key, attribute.map(|name| name.line)))
}

fn key_type(word: &str) -> Result<ValueType, String> {
    match options::value_type(word)? {
        value_type @ (ValueType::String | ValueType::Email) => Ok(value_type),
        other => Err(format!(
            "the primary key's `type` must be \"string\" or \"email\", not {:?} \
             (Laudspeaker compares primary keys as strings)",
            type_name(other)
        )),
    }
}

/// The `from` key: required and not empty.
fn required_from<'a>(
    table: &Section<'a>,
    problems: &mut Problems,
    what: &str,
) -> Option<Located<&'a str>> {
    if !table.has("from") {
        problems.at(table.line, format!("{} needs `from`: {what}", table.name));
        return None;
    }
    let from = table.string("from", problems)?;
    if from.value.is_empty() {
        problems.at(from.line, format!("`from` is empty; it must name {what}"));
        return None;
    }
    Some(from)
}

/// A property as read, with the lines later checks point at.
struct Draft {
    property: Property,
    /// Line of `from` or `value`.
    source_line: usize,
    /// Line of `to`.
    to_line: usize,
}

impl Draft {
    /// The `from` of a property read from the input, with its line.
    fn from(&self) -> Option<(&str, usize)> {
        match &self.property.source {
            PropertySource::Field(from) => Some((from.as_str(), self.source_line)),
            PropertySource::Constant(_) => None,
        }
    }
}

/// The `[defaults]` table: what a property says nothing about.
fn read_defaults(table: &Section, problems: &mut Problems) -> OnError {
    table.check_keys(&DEFAULTS_KEYS, problems);
    let on_error = table.string("on_error", problems);
    parsed(on_error, options::on_error, problems).unwrap_or_default()
}

/// A `[[property]]` table; `on_error` is the default of the mapping.
fn read_property(table: &Section, on_error: OnError, problems: &mut Problems) -> Option<Draft> {
    table.check_keys(&PROPERTY_KEYS, problems);
    let to = table.string("to", problems);
    if !table.has("to") {
        let message = "[[property]] needs `to`: the Laudspeaker attribute to set";
        problems.at(table.line, message);
    }
    let source = read_property_source(table, problems);
    let conversion = match table.has("value") {
        true => {
            refuse_conversion_keys(table, problems);
            Some((Conversion::new(ValueType::Json), OnEmpty::Omit))
        }
        false => read_conversion(table, problems),
    };
    let own = table.string("on_error", problems);
    let on_error = parsed(own, options::on_error, problems).unwrap_or(on_error);
    let ((source, source_line), (conversion, on_empty), to) = (source?, conversion?, to?);
    Some(Draft {
        property: Property {
            source,
            to: to.value.to_string(),
            conversion,
            on_empty,
            on_error,
            line: table.line,
        },
        source_line,
        to_line: to.line,
    })
}

/// Exactly one of `from` and `value`, with its line.
fn read_property_source(
    table: &Section,
    problems: &mut Problems,
) -> Option<(PropertySource, usize)> {
    let Some(value) = table.item("value") else {
        let what = "the column or key to read, or else `value`, a constant";
        let from = required_from(table, problems, what)?;
        return Some((PropertySource::Field(from.value.to_string()), from.line));
    };
    if table.has("from") {
        let message = "a property takes `from` (read from the input) or `value` (a constant), \
                       not both";
        problems.at(value.line, message);
        return None;
    }
    match item_to_json(value.value) {
        Ok(json) => Some((PropertySource::Constant(json), value.line)),
        Err(message) => {
            problems.at(value.line, format!("`value`: {message}"));
            None
        }
    }
}

fn refuse_conversion_keys(table: &Section, problems: &mut Problems) {
    for key in CONVERSION_KEYS.iter().filter(|key| table.has(key)) {
        let message =
            format!("`{key}` does not apply to a constant `value`, which is sent as written");
        problems.at(table.key_line(key), message);
    }
}

/// The conversion of a property read from the input, and its `on_empty`.
fn read_conversion(table: &Section, problems: &mut Problems) -> Option<(Conversion, OnEmpty)> {
    let value_type = match table.string("type", problems) {
        Some(word) => parsed(Some(word), options::value_type, problems),
        None if table.has("type") => None,
        None => Some(ValueType::String),
    };
    let mut conversion = Conversion::new(value_type.unwrap_or(ValueType::String));
    conversion.trim = table.flag("trim", problems);
    conversion.lowercase = table.flag("lowercase", problems);
    let on_empty = table.string("on_empty", problems);
    let on_empty = parsed(on_empty, options::on_empty, problems).unwrap_or(OnEmpty::Omit);
    // With an unknown type, its options cannot be judged.
    let value_type = value_type?;
    check_lowercase(table, &conversion, problems);
    read_format(table, value_type, &mut conversion, problems);
    read_timezone(table, value_type, &mut conversion, problems);
    read_separator(table, value_type, &mut conversion, problems);
    Some((conversion, on_empty))
}

fn check_lowercase(table: &Section, conversion: &Conversion, problems: &mut Problems) {
    let applies = matches!(
        conversion.value_type,
        ValueType::String | ValueType::Email | ValueType::Array
    );
    if conversion.lowercase && !applies {
        let name = type_name(conversion.value_type);
        problems.at(
            table.key_line("lowercase"),
            format!("`lowercase` applies to types string, email and array only, not {name}"),
        );
    }
}

/// The option `key` when it applies to `value_type`; reported (and `None`)
/// when the type ignores it.
fn option_for<'t>(
    table: &Section<'t>,
    key: &str,
    value_type: ValueType,
    applies: &[ValueType],
    problems: &mut Problems,
) -> Option<Located<&'t str>> {
    let option = table.string(key, problems)?;
    if applies.contains(&value_type) {
        return Some(option);
    }
    let types: Vec<&str> = applies.iter().map(|&t| type_name(t)).collect();
    let (noun, list) = match types.as_slice() {
        [one] => ("type", (*one).to_string()),
        [init @ .., last] => ("types", format!("{} and {last}", init.join(", "))),
        [] => ("types", String::new()),
    };
    let name = type_name(value_type);
    problems.at(
        option.line,
        format!("`{key}` applies to {noun} {list} only, not {name}"),
    );
    None
}

fn read_format(
    table: &Section,
    value_type: ValueType,
    conversion: &mut Conversion,
    problems: &mut Problems,
) {
    let dates = [ValueType::Date, ValueType::Datetime];
    let Some(format) = option_for(table, "format", value_type, &dates, problems) else {
        return;
    };
    conversion.format =
        parsed(Some(format), options::strftime, problems).map(|()| format.value.to_string());
    if conversion.format.is_some() {
        // A format that can never give a whole date fails every row: say so
        // once, here, rather than once per row.
        if let Err(fault) = conversion.check() {
            problems.at(format.line, format!("`format`: {fault}"));
        }
    }
}

fn read_timezone(
    table: &Section,
    value_type: ValueType,
    conversion: &mut Conversion,
    problems: &mut Problems,
) {
    let datetime = [ValueType::Datetime];
    let Some(zone) = option_for(table, "timezone", value_type, &datetime, problems) else {
        return;
    };
    if !table.has("format") {
        let message = "`timezone` has no effect without `format`: without one, datetimes \
                       must be RFC 3339 and carry their own offset";
        problems.at(zone.line, message);
    } else {
        conversion.timezone = parsed(Some(zone), options::timezone, problems);
    }
}

fn read_separator(
    table: &Section,
    value_type: ValueType,
    conversion: &mut Conversion,
    problems: &mut Problems,
) {
    let array = [ValueType::Array];
    let Some(separator) = option_for(table, "separator", value_type, &array, problems) else {
        return;
    };
    if separator.value.is_empty() {
        problems.at(
            separator.line,
            "`separator` is empty; array elements need one",
        );
    } else {
        conversion.separator = separator.value.to_string();
    }
}

/// Attribute names: usable, set by one property only, and not the
/// primary-key attribute (which is always sent from the key).
fn check_targets(
    drafts: &[Draft],
    primary_key: Option<&(PrimaryKey, Option<usize>)>,
    problems: &mut Problems,
) {
    let key_attribute =
        primary_key.and_then(|(key, line)| Some((key.attribute.as_deref()?, *line)));
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    for draft in drafts {
        let to = draft.property.to.as_str();
        if let Err(message) = check_attribute_name(to) {
            problems.at(draft.to_line, format!("`to`: {message}"));
        }
        if let Some(&first) = first_line.get(to) {
            let message = format!(
                "attribute {to:?} is set by two properties, at lines {first} and {}; \
                 keep one of them",
                draft.to_line
            );
            problems.at(draft.to_line, message);
        } else {
            first_line.insert(to, draft.to_line);
        }
        if let Some((attribute, line)) = key_attribute.filter(|(name, _)| *name == to) {
            let place = line.map_or(String::new(), |line| format!(" (line {line})"));
            let message = format!(
                "attribute {attribute:?} is the workspace's primary-key attribute, named in \
                 [primary_key] `attribute`{place}; it is always sent equal to the primary key, \
                 so no property may set it"
            );
            problems.at(draft.to_line, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::super::{Format, Mapping, OnEmpty, PropertySource, Unmapped};
    use crate::convert::ValueType;

    fn parse(text: &str) -> Mapping {
        match Mapping::parse(text, Path::new("m.toml")) {
            Ok(mapping) => mapping,
            Err(errors) => panic!("mapping refused:\n{errors}"),
        }
    }

    /// Every error as (line, message).
    fn errors(text: &str) -> Vec<(Option<usize>, String)> {
        match Mapping::parse(text, Path::new("m.toml")) {
            Ok(_) => panic!("mapping accepted"),
            Err(errors) => errors
                .errors
                .into_iter()
                .map(|error| (error.line, error.message))
                .collect(),
        }
    }

    fn at(line: usize, message: &str) -> (Option<usize>, String) {
        (Some(line), message.to_string())
    }

    const KEY: &str = "[primary_key]\nfrom = \"email\"\n";

    #[test]
    fn on_error_comes_from_the_property_else_the_defaults() {
        use super::super::OnError;
        let text = format!(
            "[defaults]\non_error = \"drop_property\"\n{KEY}\
             [[property]]\nfrom = \"a\"\nto = \"a\"\n\
             [[property]]\nfrom = \"b\"\nto = \"b\"\non_error = \"reject_row\"\n"
        );
        let choices: Vec<OnError> = parse(&text).properties.iter().map(|p| p.on_error).collect();
        assert_eq!(choices, [OnError::DropProperty, OnError::RejectRow]);
        let plain = format!("{KEY}[[property]]\nfrom = \"a\"\nto = \"a\"\n");
        assert_eq!(parse(&plain).properties[0].on_error, OnError::RejectRow);
        let constant =
            format!("{KEY}[[property]]\nvalue = 1\nto = \"a\"\non_error = \"drop_property\"\n");
        assert_eq!(
            errors(&constant),
            [at(
                6,
                "`on_error` does not apply to a constant `value`, which is sent as written"
            )]
        );
        let unknown = "[defaults]\non_error = \"ignore\"\nother = 1\n".to_string() + KEY;
        assert_eq!(
            errors(&unknown),
            [
                at(
                    2,
                    "`on_error = \"ignore\"` is not one of: reject_row, drop_property"
                ),
                at(
                    3,
                    "unknown key `other` in [defaults]; allowed keys: on_error"
                ),
            ]
        );
    }

    #[test]
    fn minimal_mapping_takes_every_default() {
        let mapping = parse(KEY);
        assert_eq!(mapping.source.format, None);
        assert_eq!(mapping.source.delimiter, b',');
        assert_eq!(mapping.source.encoding, None);
        assert_eq!(mapping.source.unmapped, Unmapped::Ignore);
        assert_eq!(mapping.primary_key.from, "email");
        assert_eq!(mapping.primary_key.line, 1);
        assert_eq!(mapping.primary_key.conversion.value_type, ValueType::String);
        assert!(!mapping.primary_key.conversion.trim);
        assert_eq!(mapping.primary_key.attribute, None);
        assert_eq!(mapping.locations.key_from, 2);
        assert!(mapping.properties.is_empty());
    }

    #[test]
    fn every_option_is_read() {
        let mapping = parse(
            r#"
[source]
format = "csv"
delimiter = "\t"
encoding = "latin-1"
unmapped = "include"

[primary_key]
from = "Email"
type = "email"
trim = true
lowercase = true
attribute = "email"

[[property]]
from = "signup"
to = "signedUpAt"
type = "datetime"
format = "%d/%m/%Y %H:%M"
timezone = "Europe/Berlin"
on_empty = "null"
trim = true

[[property]]
from = "tags"
to = "tags"
type = "array"
separator = ";"
lowercase = true
"#,
        );
        assert_eq!(mapping.source.format, Some(Format::Csv));
        assert_eq!(mapping.source.delimiter, b'\t');
        assert_eq!(mapping.source.encoding, Some(encoding_rs::WINDOWS_1252));
        assert_eq!(mapping.source.unmapped, Unmapped::Include);
        let key = &mapping.primary_key;
        assert_eq!(key.conversion.value_type, ValueType::Email);
        assert!(key.conversion.trim && key.conversion.lowercase);
        assert_eq!(key.attribute.as_deref(), Some("email"));
        assert_eq!(key.line, 8);
        let signup = &mapping.properties[0];
        assert!(matches!(&signup.source, PropertySource::Field(from) if from == "signup"));
        assert_eq!(signup.to, "signedUpAt");
        assert_eq!(signup.line, 15);
        assert_eq!(signup.on_empty, OnEmpty::Null);
        assert_eq!(signup.conversion.value_type, ValueType::Datetime);
        assert_eq!(signup.conversion.format.as_deref(), Some("%d/%m/%Y %H:%M"));
        assert_eq!(signup.conversion.timezone, Some(chrono_tz::Europe::Berlin));
        assert!(signup.conversion.trim);
        let tags = &mapping.properties[1];
        assert_eq!(tags.conversion.separator, ";");
        assert!(tags.conversion.lowercase);
        assert_eq!(tags.on_empty, OnEmpty::Omit);
        assert_eq!(mapping.locations.property_sources, vec![16, 25]);
        assert_eq!(mapping.locations.delimiter, Some(4));
        assert_eq!(mapping.locations.unmapped, Some(6));
    }

    #[test]
    fn a_format_that_never_gives_a_whole_date_is_refused_once_here() {
        let text = format!(
            "{KEY}[[property]]\nfrom = \"d\"\nto = \"day\"\ntype = \"date\"\nformat = \"%H:%M\"\n\n\
             [[property]]\nfrom = \"t\"\nto = \"at\"\ntype = \"datetime\"\nformat = \"%Y-%m-%d\"\n"
        );
        assert_eq!(
            errors(&text),
            vec![
                at(
                    7,
                    "`format`: format `%H:%M` does not give a whole date (year, month and day)"
                ),
                at(
                    13,
                    "`format`: format `%Y-%m-%d` gives no time of day (hours and minutes), which a datetime needs"
                ),
            ]
        );
    }

    #[test]
    fn utf_8_label_is_kept_as_declared() {
        let mapping = parse(&format!("[source]\nencoding = \"utf-8\"\n{KEY}"));
        assert_eq!(mapping.source.encoding, Some(encoding_rs::UTF_8));
    }

    #[test]
    fn constant_values_become_json() {
        let mapping = parse(&format!(
            "{KEY}[[property]]\nto = \"source\"\nvalue = \"crm-export\"\n\
             [[property]]\nto = \"importedAt\"\nvalue = 2024-05-01T10:00:00Z\n\
             [[property]]\nto = \"meta\"\nvalue = {{ batch = 7, ok = true }}\n"
        ));
        let constants: Vec<_> = mapping
            .properties
            .iter()
            .map(|property| match &property.source {
                PropertySource::Constant(value) => value.clone(),
                PropertySource::Field(from) => panic!("field {from}"),
            })
            .collect();
        assert_eq!(
            constants,
            vec![
                json!("crm-export"),
                json!("2024-05-01T10:00:00Z"),
                json!({"batch": 7, "ok": true})
            ]
        );
        assert_eq!(mapping.properties[0].conversion.value_type, ValueType::Json);
        assert_eq!(mapping.locations.property_sources, vec![5, 8, 11]);
    }

    #[test]
    fn inline_tables_are_accepted() {
        let mapping = parse(
            "source = { format = \"ndjson\" }\nprimary_key = { from = \"user.email\" }\n\
             property = [\n  { from = \"plan\", to = \"plan\" },\n\
             { value = 1, to = \"v\" },\n]\n",
        );
        assert_eq!(mapping.source.format, Some(Format::Ndjson));
        assert_eq!(mapping.primary_key.from, "user.email");
        assert_eq!(mapping.properties.len(), 2);
        assert_eq!(mapping.properties[1].line, 5);
        assert_eq!(mapping.locations.property_sources, vec![4, 5]);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = r#"[source]
format = "xml"
delimeter = ";"

[primary_key]
from = "email"
type = "number"

[[property]]
from = "a"
type = "strng"

[[property]]
from = "b"
to = "b"
type = "date"
format = "dd/mm/yyyy"
trim = "yes"

[[property]]
from = "c"
to = "c"
type = "datetime"
format = "%Y-%m-%d %H:%M"
timezone = "Mars/Olympus"

[[property]]
from = "d"
to = "d"
type = "number"
separator = ";"
lowercase = true

[mystery]
"#;
        assert_eq!(
            errors(text),
            vec![
                at(2, "`format = \"xml\"` is not one of: csv, ndjson"),
                at(
                    3,
                    "unknown key `delimeter` in [source]; allowed keys: format, delimiter, \
                     encoding, unmapped (did you mean `delimiter`?)"
                ),
                at(
                    7,
                    "the primary key's `type` must be \"string\" or \"email\", not \"number\" \
                     (Laudspeaker compares primary keys as strings)"
                ),
                at(
                    9,
                    "[[property]] needs `to`: the Laudspeaker attribute to set"
                ),
                at(
                    11,
                    "`type = \"strng\"` is not one of: string, number, boolean, email, date, \
                     datetime, array, json (did you mean \"string\"?)"
                ),
                at(
                    17,
                    "`format = \"dd/mm/yyyy\"` has no strftime item, so it matches only that \
                     exact text; write it with items such as %d, %m, %Y (e.g. \"%d/%m/%Y\")"
                ),
                at(18, "`trim` must be true or false, found a string"),
                at(
                    25,
                    "`timezone = \"Mars/Olympus\"` is not a known IANA time zone; use a name \
                     such as \"Europe/Berlin\" or \"UTC\""
                ),
                at(31, "`separator` applies to type array only, not number"),
                at(
                    32,
                    "`lowercase` applies to types string, email and array only, not number"
                ),
                at(
                    34,
                    "unknown table `mystery`; the mapping file has the tables [source], \
                     [primary_key], [[property]] and [defaults]"
                ),
            ]
        );
    }

    #[test]
    fn unsafe_attribute_names_are_all_reported() {
        let text = r#"[primary_key]
from = "email"

[[property]]
from = "city"
to = "address.city"

[[property]]
from = "created"
to = "createdAt"
type = "date"

[[property]]
from = "source"
to = "$source"
"#;
        assert_eq!(
            errors(text),
            vec![
                at(
                    6,
                    "`to`: attribute name \"address.city\" contains \".\" (Laudspeaker would \
                     store \"city\" inside an object \"address\"); rename it, e.g. to \
                     \"addressCity\""
                ),
                at(
                    10,
                    "`to`: attribute name \"createdAt\" is reserved by Laudspeaker for its own \
                     field; rename it, e.g. to \"sourceCreatedAt\""
                ),
                at(
                    15,
                    "`to`: attribute name \"$source\" starts with '$', which Laudspeaker \
                     refuses; rename it, e.g. to \"source\""
                ),
            ]
        );
    }

    #[test]
    fn an_attribute_set_twice_names_both_lines() {
        let text = format!(
            "{KEY}[[property]]\nfrom = \"work\"\nto = \"phone\"\n\
             [[property]]\nfrom = \"mobile\"\nto = \"phone\"\n"
        );
        assert_eq!(
            errors(&text),
            vec![at(
                8,
                "attribute \"phone\" is set by two properties, at lines 5 and 8; keep one of them"
            )]
        );
    }

    #[test]
    fn the_primary_key_attribute_cannot_be_a_property() {
        let text = "[primary_key]\nfrom = \"Email\"\nattribute = \"email\"\n\
                    [[property]]\nfrom = \"Email\"\nto = \"email\"\n";
        assert_eq!(
            errors(text),
            vec![at(
                6,
                "attribute \"email\" is the workspace's primary-key attribute, named in \
                 [primary_key] `attribute` (line 3); it is always sent equal to the primary \
                 key, so no property may set it"
            )]
        );
    }

    #[test]
    fn the_primary_key_attribute_must_be_a_usable_name() {
        let text = "[primary_key]\nfrom = \"id\"\nattribute = \"_id\"\n";
        assert_eq!(
            errors(text),
            vec![at(
                3,
                "`attribute`: attribute name \"_id\" is reserved by Laudspeaker for its own \
                 field; rename it, e.g. to \"sourceId\""
            )]
        );
    }

    #[test]
    fn required_keys_are_reported_at_their_table() {
        let text = "[source]\nformat = \"csv\"\n\n[primary_key]\ntype = \"email\"\n\n\
                    [[property]]\nto = \"plan\"\n";
        assert_eq!(
            errors(text),
            vec![
                at(
                    4,
                    "[primary_key] needs `from`: the column or key holding the primary key"
                ),
                at(
                    7,
                    "[[property]] needs `from`: the column or key to read, or else `value`, \
                     a constant"
                ),
            ]
        );
    }

    #[test]
    fn a_missing_primary_key_table_is_reported() {
        assert_eq!(
            errors("[[property]]\nfrom = \"a\"\nto = \"a\"\n"),
            vec![(
                None,
                "the mapping has no [primary_key] table; add one with `from` naming the \
                 column or key that holds each record's primary key"
                    .to_string()
            )]
        );
    }

    #[test]
    fn from_and_value_exclude_each_other() {
        let text = format!("{KEY}[[property]]\nfrom = \"a\"\nvalue = 1\nto = \"a\"\n");
        assert_eq!(
            errors(&text),
            vec![at(
                5,
                "a property takes `from` (read from the input) or `value` (a constant), \
                 not both"
            )]
        );
    }

    #[test]
    fn a_constant_takes_no_conversion_options() {
        let text = format!("{KEY}[[property]]\nvalue = \"x\"\nto = \"a\"\ntype = \"string\"\n");
        assert_eq!(
            errors(&text),
            vec![at(
                6,
                "`type` does not apply to a constant `value`, which is sent as written"
            )]
        );
    }

    #[test]
    fn empty_from_is_refused() {
        assert_eq!(
            errors("[primary_key]\nfrom = \"\"\n"),
            vec![at(
                2,
                "`from` is empty; it must name the column or key holding the primary key"
            )]
        );
    }

    #[test]
    fn a_single_property_table_is_refused() {
        let text = format!("{KEY}[property]\nfrom = \"a\"\nto = \"a\"\n");
        assert_eq!(
            errors(&text),
            vec![at(
                3,
                "`property` must be an array of tables, one [[property]] per attribute; \
                 found a table"
            )]
        );
    }

    #[test]
    fn timezone_needs_a_format() {
        let text = format!(
            "{KEY}[[property]]\nfrom = \"t\"\nto = \"t\"\ntype = \"datetime\"\n\
             timezone = \"UTC\"\n"
        );
        assert_eq!(
            errors(&text),
            vec![at(
                7,
                "`timezone` has no effect without `format`: without one, datetimes must be \
                 RFC 3339 and carry their own offset"
            )]
        );
    }

    #[test]
    fn format_is_for_dates_only() {
        let text = format!("{KEY}[[property]]\nfrom = \"t\"\nto = \"t\"\nformat = \"%Y\"\n");
        assert_eq!(
            errors(&text),
            vec![at(
                6,
                "`format` applies to types date and datetime only, not string"
            )]
        );
    }

    #[test]
    fn ndjson_refuses_delimiter_and_empty_path_parts() {
        let text = "[source]\nformat = \"ndjson\"\ndelimiter = \";\"\n\n\
                    [primary_key]\nfrom = \"user..email\"\n";
        assert_eq!(
            errors(text),
            vec![
                at(3, "`delimiter` applies to CSV input only, not to NDJSON"),
                at(
                    6,
                    "`from`: \"user..email\" is not a usable NDJSON key path: it has an empty \
                     part; write key names joined by \".\" (\"a.b\" = key \"b\" inside object \
                     \"a\")"
                ),
            ]
        );
    }

    #[test]
    fn format_checks_run_later_when_the_format_comes_from_the_extension() {
        let mapping = parse("[source]\ndelimiter = \";\"\n[primary_key]\nfrom = \"a.\"\n");
        assert!(mapping.check_format(Format::Csv).is_ok());
        let refused = mapping
            .check_format(Format::Ndjson)
            .expect_err("ndjson is refused");
        let lines: Vec<_> = refused.errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![Some(2), Some(4)]);
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let found = errors("[primary_key]\nfrom = \"email\nto = 1\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, Some(2));
        assert!(
            found[0].1.starts_with("TOML syntax error at column "),
            "{}",
            found[0].1
        );
    }

    #[test]
    fn errors_print_as_path_line_message() {
        let refused = Mapping::parse("[primary_key]\nfrom = 3\n", Path::new("dir/m.toml"))
            .expect_err("from must be a string");
        assert_eq!(
            refused.to_string(),
            "dir/m.toml:2: `from` must be a string, found an integer"
        );
    }
}
