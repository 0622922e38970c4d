//! Input files: turning bytes into records that know where they came from.
//!
//! Every reader yields records with the line where they start (1-based,
//! blank lines counted) and their original bytes, so that any record can be
//! dead-lettered exactly as it was. Readers stream through a fixed buffer
//! that only grows for a single record larger than it.

pub mod buffer;
pub mod compress;
pub mod csv;
pub mod decode;
pub mod ndjson;
pub mod utf16;

use std::path::Path;

use crate::mapping::Format;

/// The format an input file is read as: the mapping's `[source] format`,
/// else the file's extension (under any `.gz` or `.zst`).
pub fn detect_format(declared: Option<Format>, path: &Path) -> Option<Format> {
    if declared.is_some() {
        return declared;
    }
    let plain = compress::without_extension(path);
    let name = plain.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".csv") || name.ends_with(".tsv") || name.ends_with(".txt") {
        Some(Format::Csv)
    } else if name.ends_with(".ndjson") || name.ends_with(".jsonl") || name.ends_with(".json") {
        Some(Format::Ndjson)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_format_wins_over_extension() {
        let path = Path::new("export.csv");
        assert_eq!(
            detect_format(Some(Format::Ndjson), path),
            Some(Format::Ndjson)
        );
    }

    #[test]
    fn extension_decides_when_nothing_is_declared() {
        assert_eq!(detect_format(None, Path::new("a/B.CSV")), Some(Format::Csv));
        assert_eq!(
            detect_format(None, Path::new("x.jsonl")),
            Some(Format::Ndjson)
        );
        assert_eq!(detect_format(None, Path::new("x.parquet")), None);
        let zst = detect_format(None, Path::new("x.ndjson.zst"));
        assert_eq!(zst, Some(Format::Ndjson));
        assert_eq!(detect_format(None, Path::new("-")), None);
    }
}
