//! The dead-letter file as CSV, for people who fix rows in a spreadsheet:
//! the input's header line, then each rejected record exactly as read (its
//! original bytes), with two columns appended: `_line`, where the record
//! starts in the input, and `_reason`. The file is in the input's encoding
//! and delimiter (UTF-16 input gives a UTF-16 file with its byte order
//! mark), so the same command and mapping import it again; the reader
//! recognises it by the last two names of its header
//! ([`crate::import`]'s source module strips them).

use crate::dead_letter::Entry;
use crate::input::decode::RecordCodec;

/// The name of the column holding each record's line in the input.
pub const LINE_COLUMN: &str = "_line";
/// The name of the column holding why the record was not delivered.
pub const REASON_COLUMN: &str = "_reason";

/// How the lines of a CSV dead-letter file are written.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    codec: RecordCodec,
    /// The delimiter in the file's encoding.
    delimiter: Vec<u8>,
    newline: Vec<u8>,
}

impl CsvLayout {
    pub fn new(codec: RecordCodec, delimiter: u8) -> Self {
        let delimiter = codec.encode_text(&char::from(delimiter).to_string());
        let newline = codec.encode_text("\n");
        CsvLayout {
            codec,
            delimiter,
            newline,
        }
    }

    /// The first bytes of the file: byte order mark, the input's header
    /// line (`header`, as text), and the two added names.
    pub fn header(&self, header: &str) -> Vec<u8> {
        let mut out = self.codec.byte_order_mark().to_vec();
        out.extend(self.codec.encode_text(header));
        for name in [LINE_COLUMN, REASON_COLUMN] {
            out.extend(&self.delimiter);
            out.extend(self.codec.encode_text(name));
        }
        out.extend(&self.newline);
        out
    }

    /// One entry: its `raw` bytes (already in the file's encoding), its
    /// line in the original input, and its reason, always quoted.
    pub fn line(&self, entry: &Entry<'_>) -> Vec<u8> {
        let mut out = entry.raw.to_vec();
        out.extend(&self.delimiter);
        let line = entry.source_line.unwrap_or(entry.line);
        out.extend(self.codec.encode_text(&line.to_string()));
        out.extend(&self.delimiter);
        let quoted = format!("\"{}\"", entry.reason.replace('"', "\"\""));
        out.extend(self.codec.encode_text(&quoted));
        out.extend(&self.newline);
        out
    }
}

/// Where, in a record read from a CSV dead-letter file, the two added
/// columns start: the byte offset in `raw` of the delimiter before the
/// second-to-last field, found by walking the record as the CSV reader
/// does (quotes open only at the start of a field; `""` inside quotes is
/// a quote). `None` when the record has fewer than three fields.
pub fn added_columns_start(raw: &[u8], delimiter: u8) -> Option<usize> {
    let mut delimiters = Vec::new();
    let mut quoted = false;
    let mut field_start = true;
    let mut at = 0;
    while at < raw.len() {
        let byte = raw[at];
        if quoted {
            if byte == b'"' {
                if raw.get(at + 1) == Some(&b'"') {
                    at += 1;
                } else {
                    quoted = false;
                }
            }
        } else if byte == delimiter {
            delimiters.push(at);
            field_start = true;
            at += 1;
            continue;
        } else if byte == b'"' && field_start {
            quoted = true;
        }
        field_start = false;
        at += 1;
    }
    let count = delimiters.len();
    (count >= 2).then(|| delimiters[count - 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8() -> RecordCodec {
        RecordCodec::for_encoding(encoding_rs::UTF_8).expect("utf-8 is supported")
    }

    #[test]
    fn records_keep_their_bytes_and_gain_line_and_quoted_reason() {
        let layout = CsvLayout::new(utf8(), b';');
        assert_eq!(layout.header("email;name"), b"email;name;_line;_reason\n");
        let entry = Entry {
            line: 7,
            reason: "column `n`, value `\"x\"`: not a number",
            raw: b"a@x.io;\"A; B\"",
            ..Entry::default()
        };
        assert_eq!(
            layout.line(&entry),
            b"a@x.io;\"A; B\";7;\"column `n`, value `\"\"x\"\"`: not a number\"\n"
        );
        let refed = Entry {
            source_line: Some(3),
            ..entry
        };
        assert!(layout.line(&refed).starts_with(b"a@x.io;\"A; B\";3;"));
    }

    #[test]
    fn utf16_files_get_their_mark_and_every_added_byte_in_utf16() {
        let codec = RecordCodec::for_encoding(encoding_rs::UTF_16LE).expect("supported");
        let layout = CsvLayout::new(codec, b',');
        assert_eq!(
            layout.header("e"),
            b"\xFF\xFEe\0,\0_\0l\0i\0n\0e\0,\0_\0r\0e\0a\0s\0o\0n\0\n\0"
        );
    }

    #[test]
    fn the_added_columns_are_found_after_quoted_delimiters() {
        let raw = b"a@x.io,\"B, \"\"C\"\"\",7,\"x, \"\"y\"\"\"";
        assert_eq!(added_columns_start(raw, b','), Some(17));
        assert_eq!(&raw[..17], b"a@x.io,\"B, \"\"C\"\"\"");
        // A quote inside an unquoted field is an ordinary character.
        let raw = b"5\" disk,n,3,\"r\"";
        assert_eq!(added_columns_start(raw, b','), Some(9));
        assert_eq!(added_columns_start(b"a,b", b','), None);
    }
}
