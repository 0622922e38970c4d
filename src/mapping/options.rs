//! The meaning of single option values: type names, enum words, the CSV
//! delimiter, encoding labels, strftime formats and time zones. Each parser
//! returns the value or a sentence saying what is wrong with it.

use chrono::format::{Item, StrftimeItems};
use encoding_rs::Encoding;

use super::file::closest;
use super::{Format, OnEmpty, OnError, Unmapped};
use crate::convert::ValueType;

/// Every `type` name, as written in the mapping file.
pub(super) const TYPES: [(&str, ValueType); 8] = [
    ("string", ValueType::String),
    ("number", ValueType::Number),
    ("boolean", ValueType::Boolean),
    ("email", ValueType::Email),
    ("date", ValueType::Date),
    ("datetime", ValueType::Datetime),
    ("array", ValueType::Array),
    ("json", ValueType::Json),
];

/// How the mapping file names a type.
pub(super) fn type_name(value_type: ValueType) -> &'static str {
    TYPES
        .iter()
        .find(|(_, known)| *known == value_type)
        .map_or("?", |(name, _)| name)
}

pub(super) fn value_type(word: &str) -> Result<ValueType, String> {
    one_of("type", word, &TYPES)
}

pub(super) fn on_empty(word: &str) -> Result<OnEmpty, String> {
    one_of(
        "on_empty",
        word,
        &[("omit", OnEmpty::Omit), ("null", OnEmpty::Null)],
    )
}

pub(super) fn on_error(word: &str) -> Result<OnError, String> {
    one_of(
        "on_error",
        word,
        &[
            ("reject_row", OnError::RejectRow),
            ("drop_property", OnError::DropProperty),
        ],
    )
}

pub(super) fn unmapped(word: &str) -> Result<Unmapped, String> {
    one_of(
        "unmapped",
        word,
        &[("ignore", Unmapped::Ignore), ("include", Unmapped::Include)],
    )
}

pub(super) fn format(word: &str) -> Result<Format, String> {
    one_of(
        "format",
        word,
        &[("csv", Format::Csv), ("ndjson", Format::Ndjson)],
    )
}

/// The value named `word` among `choices`, or a message listing them.
fn one_of<T: Copy>(key: &str, word: &str, choices: &[(&str, T)]) -> Result<T, String> {
    if let Some((_, value)) = choices.iter().find(|(name, _)| *name == word) {
        return Ok(*value);
    }
    let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
    let mut message = format!("`{key} = {word:?}` is not one of: {}", names.join(", "));
    if let Some(close) = closest(word, &names) {
        message.push_str(&format!(" (did you mean {close:?}?)"));
    }
    Err(message)
}

/// The CSV delimiter byte: one ASCII character, or one of the words
/// `tab`, `comma`, `semicolon`, `pipe` (`"\t"` also works, escaped or not).
pub(super) fn delimiter(text: &str) -> Result<u8, String> {
    let named = match text.to_ascii_lowercase().as_str() {
        "tab" | "\\t" => "\t",
        "comma" => ",",
        "semicolon" => ";",
        "pipe" => "|",
        _ => text,
    };
    let mut chars = named.chars();
    let (Some(only), None) = (chars.next(), chars.next()) else {
        return Err(format!(
            "`delimiter = {text:?}` must be one character \
             (or one of the words tab, comma, semicolon, pipe)"
        ));
    };
    if !only.is_ascii() {
        return Err(format!(
            "`delimiter = {text:?}` must be a single-byte (ASCII) character"
        ));
    }
    if matches!(only, '"' | '\r' | '\n') {
        return Err(format!(
            "`delimiter = {text:?}` cannot be a double quote or a line break"
        ));
    }
    Ok(only as u8)
}

/// The encoding a WHATWG label names (`latin-1` is taken as `latin1`).
pub fn encoding(label: &str) -> Result<&'static Encoding, String> {
    let found = Encoding::for_label(label.as_bytes())
        .or_else(|| Encoding::for_label(label.replace('-', "").as_bytes()));
    match found {
        Some(encoding) if encoding == encoding_rs::REPLACEMENT => Err(format!(
            "`encoding = {label:?}` names an encoding this importer cannot decode"
        )),
        Some(encoding) => Ok(encoding),
        None => Err(format!(
            "`encoding = {label:?}` is not a known encoding label; \
             use a WHATWG label such as \"utf-8\", \"windows-1252\" or \"utf-16le\""
        )),
    }
}

/// Checks a strftime-style `format`: every `%` item must be known, and
/// there must be at least one (a format without items matches only itself).
pub(super) fn strftime(format: &str) -> Result<(), String> {
    let mut has_item = false;
    for item in StrftimeItems::new(format) {
        match item {
            Item::Error => {
                return Err(format!(
                    "`format = {format:?}` has an unknown strftime item {:?}; \
                     use items such as %Y, %m, %d, %H, %M, %S",
                    first_bad_item(format)
                ))
            }
            Item::Numeric(..) | Item::Fixed(_) => has_item = true,
            _ => {}
        }
    }
    if has_item {
        return Ok(());
    }
    Err(format!(
        "`format = {format:?}` has no strftime item, so it matches only that exact text; \
         write it with items such as %d, %m, %Y (e.g. \"%d/%m/%Y\")"
    ))
}

/// The first `%` item of `format` that chrono does not know.
fn first_bad_item(format: &str) -> &str {
    let mut rest = format;
    while let Some(at) = rest.find('%') {
        let piece = &rest[at..];
        // An item is `%`, up to two modifier characters, then its letter.
        let known = piece
            .char_indices()
            .skip(1)
            .take(4)
            .map(|(offset, c)| offset + c.len_utf8())
            .find(|&end| StrftimeItems::new(&piece[..end]).all(|item| item != Item::Error));
        match known {
            Some(end) => rest = &piece[end..],
            None => {
                return piece
                    .char_indices()
                    .nth(2)
                    .map_or(piece, |(end, _)| &piece[..end])
            }
        }
    }
    format
}

/// The IANA time zone called `name`.
pub(super) fn timezone(name: &str) -> Result<chrono_tz::Tz, String> {
    if let Ok(zone) = name.parse::<chrono_tz::Tz>() {
        return Ok(zone);
    }
    let mut message = format!(
        "`timezone = {name:?}` is not a known IANA time zone; \
         use a name such as \"Europe/Berlin\" or \"UTC\""
    );
    let same_but_case = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(name));
    if let Some(zone) = same_but_case {
        message.push_str(&format!(" (did you mean {:?}?)", zone.name()));
    }
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_name_round_trips() {
        for (name, known) in TYPES {
            assert_eq!(value_type(name), Ok(known));
            assert_eq!(type_name(known), name);
        }
    }

    #[test]
    fn unknown_words_list_the_choices() {
        assert_eq!(
            value_type("strng"),
            Err(
                "`type = \"strng\"` is not one of: string, number, boolean, email, date, \
                 datetime, array, json (did you mean \"string\"?)"
                    .to_string()
            )
        );
        assert_eq!(
            on_empty("skip"),
            Err("`on_empty = \"skip\"` is not one of: omit, null".to_string())
        );
    }

    #[test]
    fn delimiter_accepts_one_ascii_character_or_a_word() {
        assert_eq!(delimiter(";"), Ok(b';'));
        assert_eq!(delimiter("\t"), Ok(b'\t'));
        assert_eq!(delimiter("\\t"), Ok(b'\t'));
        assert_eq!(delimiter("Tab"), Ok(b'\t'));
        assert_eq!(delimiter("pipe"), Ok(b'|'));
    }

    #[test]
    fn delimiter_refuses_bad_characters() {
        assert_eq!(
            delimiter(";;"),
            Err("`delimiter = \";;\"` must be one character \
                 (or one of the words tab, comma, semicolon, pipe)"
                .to_string())
        );
        assert_eq!(
            delimiter("§"),
            Err("`delimiter = \"§\"` must be a single-byte (ASCII) character".to_string())
        );
        assert_eq!(
            delimiter("\""),
            Err("`delimiter = \"\\\"\"` cannot be a double quote or a line break".to_string())
        );
        assert!(delimiter("\n").is_err());
        assert!(delimiter("").is_err());
    }

    #[test]
    fn latin_1_labels_mean_windows_1252() {
        for label in [
            "windows-1252",
            "latin-1",
            "latin1",
            "iso-8859-1",
            "ISO-8859-1",
        ] {
            assert_eq!(encoding(label), Ok(encoding_rs::WINDOWS_1252), "{label}");
        }
        assert_eq!(encoding("utf-8"), Ok(encoding_rs::UTF_8));
        assert_eq!(encoding("utf-16le"), Ok(encoding_rs::UTF_16LE));
    }

    #[test]
    fn unknown_and_undecodable_encodings_are_refused() {
        assert_eq!(
            encoding("ebcdic"),
            Err(
                "`encoding = \"ebcdic\"` is not a known encoding label; use a WHATWG label \
                 such as \"utf-8\", \"windows-1252\" or \"utf-16le\""
                    .to_string()
            )
        );
        assert_eq!(
            encoding("iso-2022-kr"),
            Err(
                "`encoding = \"iso-2022-kr\"` names an encoding this importer cannot decode"
                    .to_string()
            )
        );
    }

    #[test]
    fn strftime_formats_with_known_items_pass() {
        for format in [
            "%d/%m/%Y",
            "%Y-%m-%dT%H:%M:%S%.3f%:z",
            "%-d %b %Y",
            "100%% %Y",
        ] {
            assert_eq!(strftime(format), Ok(()), "{format}");
        }
    }

    #[test]
    fn strftime_names_the_unknown_item() {
        assert_eq!(
            strftime("%d/%K/%Y"),
            Err(
                "`format = \"%d/%K/%Y\"` has an unknown strftime item \"%K\"; \
                 use items such as %Y, %m, %d, %H, %M, %S"
                    .to_string()
            )
        );
        assert_eq!(first_bad_item("%Y-%"), "%");
    }

    #[test]
    fn strftime_without_items_is_refused() {
        assert_eq!(
            strftime("dd/mm/yyyy"),
            Err(
                "`format = \"dd/mm/yyyy\"` has no strftime item, so it matches only that \
                 exact text; write it with items such as %d, %m, %Y (e.g. \"%d/%m/%Y\")"
                    .to_string()
            )
        );
    }

    #[test]
    fn timezone_suggests_the_right_case() {
        assert_eq!(timezone("Europe/Berlin"), Ok(chrono_tz::Europe::Berlin));
        assert_eq!(
            timezone("europe/berlin"),
            Err(
                "`timezone = \"europe/berlin\"` is not a known IANA time zone; use a name \
                 such as \"Europe/Berlin\" or \"UTC\" (did you mean \"Europe/Berlin\"?)"
                    .to_string()
            )
        );
    }
}
