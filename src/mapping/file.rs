//! Reading the mapping file's TOML: where each key and table is (1-based
//! lines), typed access to keys that records every problem and carries on,
//! and the translation of TOML values into JSON for constant properties.

use std::ops::Range;

use toml_edit::{Item, Key, TableLike, Value};

use super::MappingError;

/// Turns byte offsets into the mapping text into 1-based lines and columns.
pub(super) struct LineIndex {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> Self {
        let breaks = text.match_indices('\n').map(|(at, _)| at + 1);
        LineIndex {
            starts: std::iter::once(0).chain(breaks).collect(),
        }
    }

    /// 1-based line holding byte `offset`.
    pub(super) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }

    /// 1-based column, in characters, of byte `offset` in `text`.
    pub(super) fn column(&self, text: &str, offset: usize) -> usize {
        let start = self.starts[self.line(offset) - 1];
        let end = offset.min(text.len());
        text.get(start..end)
            .map_or(end - start, |s| s.chars().count())
            + 1
    }

    pub(super) fn line_of_span(&self, span: Option<Range<usize>>) -> Option<usize> {
        span.map(|span| self.line(span.start))
    }
}

/// Every problem found so far; checks push here and carry on.
#[derive(Default)]
pub(super) struct Problems {
    pub(super) errors: Vec<MappingError>,
}

impl Problems {
    /// A problem at a 1-based line of the mapping file.
    pub(super) fn at(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(MappingError {
            line: Some(line),
            message: message.into(),
        });
    }

    /// A problem of the whole file, with no line of its own.
    pub(super) fn general(&mut self, message: impl Into<String>) {
        self.errors.push(MappingError {
            line: None,
            message: message.into(),
        });
    }
}

/// A key's value and the line of the key.
#[derive(Clone, Copy)]
pub(super) struct Located<T> {
    pub(super) value: T,
    pub(super) line: usize,
}

/// One table of the mapping file (`[source]`, one `[[property]]`, ...).
pub(super) struct Section<'a> {
    /// How messages name the table, e.g. `[source]`.
    pub(super) name: &'static str,
    /// Line of the table header (or of its first key when it has none).
    pub(super) line: usize,
    table: &'a dyn TableLike,
    lines: &'a LineIndex,
}

impl<'a> Section<'a> {
    /// `line`: the table's header, or the key that made it.
    pub(super) fn new(
        name: &'static str,
        table: &'a dyn TableLike,
        line: usize,
        lines: &'a LineIndex,
    ) -> Self {
        Section {
            name,
            line,
            table,
            lines,
        }
    }

    /// Reports every key that is not in `allowed`.
    pub(super) fn check_keys(&self, allowed: &[&str], problems: &mut Problems) {
        for (key, _) in self.table.iter() {
            if allowed.contains(&key) {
                continue;
            }
            let mut message = format!(
                "unknown key `{key}` in {}; allowed keys: {}",
                self.name,
                allowed.join(", ")
            );
            if let Some(close) = closest(key, allowed) {
                message.push_str(&format!(" (did you mean `{close}`?)"));
            }
            problems.at(self.key_line(key), message);
        }
    }

    /// Line of `key`, or of the table when the key has no position.
    pub(super) fn key_line(&self, key: &str) -> usize {
        let key: Option<&Key> = self.table.key(key);
        key.and_then(|key| self.lines.line_of_span(key.span()))
            .unwrap_or(self.line)
    }

    /// The item under `key`, with the key's line.
    pub(super) fn item(&self, key: &str) -> Option<Located<&'a Item>> {
        let item = self.table.get(key)?;
        Some(Located {
            value: item,
            line: self.key_line(key),
        })
    }

    /// A string key; a value of another type is reported.
    pub(super) fn string(&self, key: &str, problems: &mut Problems) -> Option<Located<&'a str>> {
        let item = self.item(key)?;
        match item.value.as_str() {
            Some(text) => Some(Located {
                value: text,
                line: item.line,
            }),
            None => {
                let found = describe(item.value);
                problems.at(
                    item.line,
                    format!("`{key}` must be a string, found {found}"),
                );
                None
            }
        }
    }

    /// A boolean key, `false` when absent; a value of another type is
    /// reported.
    pub(super) fn flag(&self, key: &str, problems: &mut Problems) -> bool {
        let Some(item) = self.item(key) else {
            return false;
        };
        item.value.as_bool().unwrap_or_else(|| {
            let found = describe(item.value);
            problems.at(
                item.line,
                format!("`{key}` must be true or false, found {found}"),
            );
            false
        })
    }

    /// Whether the table sets `key`.
    pub(super) fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }
}

/// What kind of TOML value an item is, for messages ("a string").
pub(super) fn describe(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(value) => match value {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::InlineTable(_) => "an inline table",
        },
    }
}

/// The allowed word nearest to `word` when it is a likely typo of it.
pub(super) fn closest<'w>(word: &str, allowed: &[&'w str]) -> Option<&'w str> {
    let word = word.to_lowercase();
    allowed
        .iter()
        .map(|candidate| (edit_distance(&word, &candidate.to_lowercase()), *candidate))
        .filter(|(distance, candidate)| *distance <= 2 && *distance < candidate.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance in characters; inputs are short key names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// The JSON form of a constant `value`: date-times become their TOML text.
pub(super) fn item_to_json(item: &Item) -> Result<serde_json::Value, String> {
    match item {
        Item::None => Ok(serde_json::Value::Null),
        Item::Value(value) => value_to_json(value),
        Item::Table(table) => table_to_json(table),
        Item::ArrayOfTables(tables) => tables
            .iter()
            .map(|table| table_to_json(table))
            .collect::<Result<_, _>>()
            .map(serde_json::Value::Array),
    }
}

fn table_to_json(table: &dyn TableLike) -> Result<serde_json::Value, String> {
    let mut object = serde_json::Map::new();
    for (key, item) in table.iter() {
        object.insert(key.to_string(), item_to_json(item)?);
    }
    Ok(serde_json::Value::Object(object))
}

fn value_to_json(value: &Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as Json;
    Ok(match value {
        Value::String(text) => Json::String(text.value().clone()),
        Value::Integer(number) => Json::Number((*number.value()).into()),
        Value::Float(number) => match serde_json::Number::from_f64(*number.value()) {
            Some(number) => Json::Number(number),
            None => return Err(format!("{} cannot be sent as JSON", number.value())),
        },
        Value::Boolean(flag) => Json::Bool(*flag.value()),
        Value::Datetime(datetime) => Json::String(datetime.value().to_string()),
        Value::Array(array) => {
            Json::Array(array.iter().map(value_to_json).collect::<Result<_, _>>()?)
        }
        Value::InlineTable(table) => table_to_json(table)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_lines_from_one() {
        let text = "a = 1\nb = 2\n\nc = 3";
        let lines = LineIndex::new(text);
        assert_eq!(lines.line(0), 1);
        assert_eq!(lines.line(5), 1);
        assert_eq!(lines.line(6), 2);
        assert_eq!(lines.line(12), 3);
        assert_eq!(lines.line(13), 4);
        assert_eq!(lines.column(text, 15), 3);
    }

    #[test]
    fn closest_suggests_near_typos_only() {
        let allowed = ["format", "delimiter", "encoding"];
        assert_eq!(closest("delimeter", &allowed), Some("delimiter"));
        assert_eq!(closest("Format", &allowed), Some("format"));
        assert_eq!(closest("colour", &allowed), None);
    }

    #[test]
    fn constants_become_json_with_datetimes_as_text() {
        let text = "v = [1, 2.5, true, \"x\", 1979-05-27T07:32:00Z, { a = 1979-05-27 }]";
        let document = toml_edit::Document::parse(text).expect("test text is valid TOML");
        let json = item_to_json(&document["v"]).expect("every value is representable");
        assert_eq!(
            json.to_string(),
            r#"[1,2.5,true,"x","1979-05-27T07:32:00Z",{"a":"1979-05-27"}]"#
        );
    }

    #[test]
    fn constants_refuse_nan() {
        let document = toml_edit::Document::parse("v = nan").expect("test text is valid TOML");
        assert_eq!(
            item_to_json(&document["v"]),
            Err("NaN cannot be sent as JSON".to_string())
        );
    }
}
