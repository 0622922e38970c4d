//! The mapping file: which source field becomes which Laudspeaker attribute,
//! with which conversion. Loaded in two steps: the TOML file is parsed and
//! checked on its own ([`Mapping::load`]), then bound to the real CSV header
//! ([`Mapping::bind_header`]) before any request is sent. Every problem is
//! reported at once, each with its line in the mapping file.
//!
//! The file format is the one in `shared/cases/README.md`, plus:
//! `[[property]] value = <any TOML value>` (a constant, instead of `from`),
//! `[source] unmapped = "ignore" | "include"`, `[primary_key] attribute`
//! (the workspace's primary-key attribute), and `on_error = "reject_row" |
//! "drop_property"` on a `[[property]]` or as the default of all of them
//! under `[defaults]`. Submodules: `file` reads the
//! TOML with lines, `tables` checks each table, [`names`] holds the naming
//! rules, `options` the meaning of option values, `bind` the header binding.

mod bind;
mod file;
pub mod names;
mod options;
mod tables;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::convert::Conversion;

pub use names::{check_attribute_name, check_path, split_path, RESERVED};
pub use options::encoding as encoding_for_label;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnEmpty {
    /// Leave the attribute out of the request.
    Omit,
    /// Send `null`, which clears the attribute in Laudspeaker.
    Null,
}

/// What a value its conversion refuses does to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// The whole row goes to the dead-letter file, nothing of it is sent.
    #[default]
    RejectRow,
    /// The row is sent without that attribute; a warnings file says so.
    DropProperty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmapped {
    /// Columns the mapping does not mention are not sent.
    Ignore,
    /// They are sent under their own names (CSV as strings, NDJSON as is).
    Include,
}

/// The `[source]` table.
#[derive(Debug, Clone)]
pub struct Source {
    /// `None`: decided by the input file's extension.
    pub format: Option<Format>,
    /// Default `,`.
    pub delimiter: u8,
    /// `None`: no `encoding` key, so UTF-8 (or what a UTF-16 byte order mark
    /// says). Any label given explicitly, `"utf-8"` included, is `Some`.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Default [`Unmapped::Ignore`].
    pub unmapped: Unmapped,
}

impl Default for Source {
    /// The source of a mapping file with no `[source]` table.
    fn default() -> Self {
        Source {
            format: None,
            delimiter: b',',
            encoding: None,
            unmapped: Unmapped::Ignore,
        }
    }
}

/// The `[primary_key]` table.
#[derive(Debug, Clone)]
pub struct PrimaryKey {
    /// CSV header name, or NDJSON key path (`a.b`: key `b` inside `a`).
    pub from: String,
    /// Type string or email, with trim and lowercase.
    pub conversion: Conversion,
    /// The workspace's primary-key attribute: when set, always sent equal to
    /// the primary key.
    pub attribute: Option<String>,
    /// Line of the table in the mapping file.
    pub line: usize,
}

/// Where a property's value comes from.
#[derive(Debug, Clone)]
pub enum PropertySource {
    /// `from = "..."`: a CSV header name or NDJSON key path.
    Field(String),
    /// `value = ...`: the same constant for every record.
    Constant(serde_json::Value),
}

/// One `[[property]]` table.
#[derive(Debug, Clone)]
pub struct Property {
    pub source: PropertySource,
    /// Attribute name, checked by [`check_attribute_name`].
    pub to: String,
    /// For a constant: type json with no options (a constant takes none),
    /// so passing it through the conversion sends it unchanged.
    pub conversion: Conversion,
    /// Always [`OnEmpty::Omit`] for a constant.
    pub on_empty: OnEmpty,
    /// The property's own `on_error`, else `[defaults] on_error`, else
    /// [`OnError::RejectRow`]. A constant never fails.
    pub on_error: OnError,
    /// Line of the `[[property]]` header.
    pub line: usize,
}

/// A mapping file, parsed and checked on its own.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub path: PathBuf,
    pub source: Source,
    pub primary_key: PrimaryKey,
    pub properties: Vec<Property>,
    /// Where some keys are, for messages about the mapping found later.
    pub locations: Locations,
}

/// Lines (1-based) of keys that later checks point at.
#[derive(Debug, Clone, Default)]
pub struct Locations {
    /// `[primary_key] from`.
    pub key_from: usize,
    /// Each property's `from` or `value`, in mapping order.
    pub property_sources: Vec<usize>,
    /// `[source] delimiter`, when given.
    pub delimiter: Option<usize>,
    /// `[source] unmapped`, when given.
    pub unmapped: Option<usize>,
}

/// The mapping resolved against a CSV header: column indices (0-based).
#[derive(Debug, Clone)]
pub struct CsvBinding {
    pub key_column: usize,
    /// One entry per property, in mapping order; `None` for a constant.
    pub columns: Vec<Option<usize>>,
    /// Columns sent under their own names (`unmapped = "include"`), as
    /// (index, attribute name).
    pub unmapped: Vec<(usize, String)>,
}

/// One problem found in a mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// 1-based line in the mapping file, when the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

/// Every problem found in one mapping file.
#[derive(Debug, Clone)]
pub struct MappingErrors {
    pub path: PathBuf,
    pub errors: Vec<MappingError>,
}

impl fmt::Display for MappingErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match error.line {
                Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, error.message)?,
                None => write!(f, "{}: {}", self.path.display(), error.message)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for MappingErrors {}

impl MappingErrors {
    /// The errors of `path`, file-level ones first, then by line.
    fn sorted(path: &Path, mut errors: Vec<MappingError>) -> Self {
        errors.sort_by_key(|error| error.line);
        MappingErrors {
            path: path.to_path_buf(),
            errors,
        }
    }
}

impl Mapping {
    /// Reads and checks a mapping file (UTF-8; a leading BOM is ignored).
    pub fn load(path: &Path) -> Result<Mapping, MappingErrors> {
        let general = |message: String| {
            let error = MappingError {
                line: None,
                message,
            };
            MappingErrors::sorted(path, vec![error])
        };
        let bytes = std::fs::read(path)
            .map_err(|error| general(format!("cannot read the mapping file: {error}")))?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let text = std::str::from_utf8(bytes).map_err(|error| {
            let valid = &bytes[..error.valid_up_to()];
            let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
            let error = MappingError {
                line: Some(line),
                message: "the mapping file is not valid UTF-8".to_string(),
            };
            MappingErrors::sorted(path, vec![error])
        })?;
        Mapping::parse(text, path)
    }

    /// Checks mapping text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Mapping, MappingErrors> {
        tables::build(text, path).map_err(|errors| MappingErrors::sorted(path, errors))
    }

    /// Resolves every mapped column against the real CSV header (its byte
    /// order mark already removed). Every `from` must match exactly one
    /// header cell, case and spaces included.
    pub fn bind_header(&self, header: &[&str]) -> Result<CsvBinding, MappingErrors> {
        bind::bind(self, header)
            .map_err(|problems| MappingErrors::sorted(&self.path, problems.errors))
    }

    /// The checks that depend on the input format, for a mapping whose
    /// format is decided by the input's extension (`parse` already ran them
    /// when `[source] format` is set): NDJSON takes no `delimiter`, and its
    /// `from` values must be key paths without empty parts.
    pub fn check_format(&self, format: Format) -> Result<(), MappingErrors> {
        let mut problems = file::Problems::default();
        let key_from = (self.primary_key.from.as_str(), self.locations.key_from);
        let sources = self.properties.iter().zip(&self.locations.property_sources);
        let froms = sources.filter_map(|(property, &line)| match &property.source {
            PropertySource::Field(from) => Some((from.as_str(), line)),
            PropertySource::Constant(_) => None,
        });
        let froms = std::iter::once(key_from).chain(froms);
        tables::check_format(format, self.locations.delimiter, froms, &mut problems);
        match problems.errors.is_empty() {
            true => Ok(()),
            false => Err(MappingErrors::sorted(&self.path, problems.errors)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// The shared cases: beside the crate in the final tree, else /work/shared.
    fn cases_dir() -> PathBuf {
        let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cases");
        match beside.is_dir() {
            true => beside,
            false => PathBuf::from("/work/shared/cases"),
        }
    }

    /// The header cells of a case's CSV input (first line, simple quoting).
    fn case_header(case: &Path, delimiter: u8) -> Vec<String> {
        let bytes = std::fs::read(case.join("input.csv")).expect("every CSV case has input.csv");
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let line = bytes
            .split(|&byte| byte == b'\n')
            .next()
            .unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        line.trim_end_matches('\r')
            .split(char::from(delimiter))
            .map(|cell| cell.trim_matches('"').to_string())
            .collect()
    }

    #[test]
    fn every_case_mapping_loads_and_binds_as_its_case_expects() {
        let mut seen = 0;
        let entries = std::fs::read_dir(cases_dir()).expect("the shared cases are present");
        for entry in entries {
            let case = entry.expect("case folder is readable").path();
            let name = case
                .file_name()
                .map(|name| name.to_string_lossy().into_owned());
            let Some(name) = name.filter(|_| case.join("mapping.toml").is_file()) else {
                continue;
            };
            seen += 1;
            let loaded = Mapping::load(&case.join("mapping.toml"));
            if name == "mapping-unsafe-attribute-names" {
                let message = loaded.expect_err("unsafe names are refused").to_string();
                for attribute in ["\"address.city\"", "\"createdAt\"", "\"$source\""] {
                    assert!(message.contains(attribute), "{attribute} in {message}");
                }
                continue;
            }
            let mapping = loaded.unwrap_or_else(|errors| panic!("{name}: {errors}"));
            if mapping.source.format == Some(Format::Ndjson) {
                continue;
            }
            let header = case_header(&case, mapping.source.delimiter);
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            let bound = mapping.bind_header(&header);
            if name == "csv-duplicate-headers" {
                let message = bound.expect_err("ambiguous header is refused").to_string();
                assert!(message.contains("header \"Phone Number\" appears at columns 2 and 4"));
                continue;
            }
            bound.unwrap_or_else(|errors| panic!("{name}: {errors}"));
        }
        assert!(seen >= 23, "only {seen} cases found");
    }

    #[test]
    fn windows_1252_case_accepts_latin_1_labels() {
        for label in ["windows-1252", "latin-1", "iso-8859-1"] {
            let text = format!("[source]\nencoding = {label:?}\n[primary_key]\nfrom = \"e\"\n");
            let mapping = Mapping::parse(&text, Path::new("m.toml")).expect("label is known");
            assert_eq!(mapping.source.encoding, Some(encoding_rs::WINDOWS_1252));
        }
    }

    #[test]
    fn load_ignores_a_byte_order_mark() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"\xEF\xBB\xBF[primary_key]\nfrom = \"email\"\n")
            .expect("temp file is writable");
        let mapping = Mapping::load(file.path()).expect("mapping is valid");
        assert_eq!(mapping.primary_key.from, "email");
        assert_eq!(mapping.path, file.path());
    }

    #[test]
    fn load_refuses_text_that_is_not_utf_8_with_its_line() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"[primary_key]\nfrom = \"caf\xE9\"\n")
            .expect("temp file is writable");
        let errors = Mapping::load(file.path()).expect_err("not UTF-8");
        assert_eq!(
            errors.errors,
            vec![MappingError {
                line: Some(2),
                message: "the mapping file is not valid UTF-8".to_string()
            }]
        );
    }

    #[test]
    fn load_reports_a_missing_file_without_a_line() {
        let errors = Mapping::load(Path::new("/nonexistent/m.toml")).expect_err("no file");
        assert_eq!(errors.errors.len(), 1);
        assert_eq!(errors.errors[0].line, None);
        assert!(errors
            .to_string()
            .starts_with("/nonexistent/m.toml: cannot read the mapping file: "));
    }

    #[test]
    fn errors_are_printed_one_per_line_in_line_order() {
        let text = "[primary_key]\nfrom = \"e\"\n[[property]]\nfrom = \"a\"\nto = \"$a\"\n\
                    [extra]\n";
        let errors = Mapping::parse(text, Path::new("m.toml")).expect_err("two problems");
        assert_eq!(
            errors.to_string(),
            "m.toml:5: `to`: attribute name \"$a\" starts with '$', which Laudspeaker refuses; \
             rename it, e.g. to \"a\"\n\
             m.toml:6: unknown table `extra`; the mapping file has the tables [source], \
             [primary_key], [[property]] and [defaults]"
        );
    }
}
