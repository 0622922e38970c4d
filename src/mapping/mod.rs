//! The mapping file: which source field becomes which Laudspeaker attribute,
//! with which conversion. Loaded in two steps: the TOML file is parsed and
//! checked on its own ([`Mapping::load`]), then bound to the real CSV header
//! ([`Mapping::bind_header`]) before any request is sent. Every problem is
//! reported at once, each with its line in the mapping file.
//!
//! INTERFACE STUB: the owner of this module replaces the bodies below.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::convert::Conversion;

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
    pub delimiter: u8,
    /// `None`: UTF-8 (or what a UTF-16 byte order mark says).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub unmapped: Unmapped,
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
    pub to: String,
    pub conversion: Conversion,
    pub on_empty: OnEmpty,
    pub line: usize,
}

/// A mapping file, parsed and checked on its own.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub path: PathBuf,
    pub source: Source,
    pub primary_key: PrimaryKey,
    pub properties: Vec<Property>,
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

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn load(_path: &Path) -> Result<Mapping, MappingErrors> {
        unimplemented!()
    }

    /// Checks mapping text; `path` is only used in messages.
    pub fn parse(_text: &str, _path: &Path) -> Result<Mapping, MappingErrors> {
        unimplemented!()
    }

    /// Resolves every mapped column against the real CSV header.
    pub fn bind_header(&self, _header: &[&str]) -> Result<CsvBinding, MappingErrors> {
        unimplemented!()
    }
}

/// Whether Laudspeaker accepts `name` as an attribute name; the reason if not.
pub fn check_attribute_name(_name: &str) -> Result<(), String> {
    unimplemented!()
}
