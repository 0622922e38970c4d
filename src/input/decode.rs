//! Text encodings: byte order marks, and the encoding of each field.
//!
//! UTF-8 input is parsed as it is. An ASCII-compatible encoding declared in
//! the mapping (windows-1252, ISO-8859-x, ...) is parsed as bytes and each
//! field is decoded on its own, so the original bytes stay available for the
//! dead-letter file. UTF-16 is not ASCII-compatible: it is transcoded as a
//! stream before parsing ([`super::utf16`]), reversibly, so the dead-letter
//! file still gets the record's original bytes. Malformed input is never
//! repaired: the record holding it is refused.

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Read};

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

use super::utf16::{self, Endian, Utf16Reader};

/// How the fields of the parsed byte stream are turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldText {
    /// The stream is UTF-8; fields are validated, never repaired.
    Utf8,
    /// An ASCII-compatible encoding; fields are decoded one by one.
    Legacy(&'static Encoding),
}

impl FieldText {
    /// The field as text, or `None` when its bytes are not valid in the
    /// encoding.
    pub fn decode<'a>(&self, bytes: &'a [u8]) -> Option<Cow<'a, str>> {
        match self {
            FieldText::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            FieldText::Legacy(encoding) => {
                encoding.decode_without_bom_handling_and_without_replacement(bytes)
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            FieldText::Utf8 => "utf-8",
            FieldText::Legacy(encoding) => encoding.name(),
        }
    }
}

/// How records read from a file relate to its bytes: how their fields
/// become text, and how their original bytes are recovered for the
/// dead-letter file (and read again from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordCodec {
    /// The file's encoding.
    pub encoding: &'static Encoding,
    /// How parsed fields become text.
    pub text: FieldText,
    /// Set when the file was transcoded from UTF-16 before parsing.
    utf16: Option<Endian>,
}

impl RecordCodec {
    /// The codec for a file in `encoding`; `None` for an encoding records
    /// cannot be parsed in (stateful ones such as ISO-2022-JP).
    pub fn for_encoding(encoding: &'static Encoding) -> Option<Self> {
        let (text, utf16) = if encoding == UTF_8 {
            (FieldText::Utf8, None)
        } else if encoding == UTF_16LE {
            (FieldText::Utf8, Some(Endian::Little))
        } else if encoding == UTF_16BE {
            (FieldText::Utf8, Some(Endian::Big))
        } else if encoding.is_ascii_compatible() {
            (FieldText::Legacy(encoding), None)
        } else {
            return None;
        };
        Some(RecordCodec {
            encoding,
            text,
            utf16,
        })
    }

    /// The bytes for the dead-letter file (exactly as in the input), the
    /// record as readable text when those bytes are not plain UTF-8 text,
    /// and whether the bytes must be written as base64 even when they
    /// happen to be valid UTF-8 (UTF-16 text, whose ASCII holds NULs).
    pub fn dead_letter<'a>(&self, parsed: &'a [u8]) -> (Cow<'a, [u8]>, Option<Cow<'a, str>>, bool) {
        match (self.utf16, self.text) {
            (Some(endian), _) => {
                let text = std::str::from_utf8(parsed).ok().map(Cow::Borrowed);
                (Cow::Owned(utf16::to_utf16(parsed, endian)), text, true)
            }
            (None, FieldText::Legacy(_)) if !parsed.is_ascii() => {
                (Cow::Borrowed(parsed), self.text.decode(parsed), false)
            }
            (None, _) => (Cow::Borrowed(parsed), None, false),
        }
    }

    /// `text` in the file's encoding, for text this tool adds to a file in
    /// that encoding (a CSV dead-letter file's extra columns). A character
    /// a legacy encoding cannot hold becomes an HTML numeric reference
    /// (`&#8211;`), which is what encoding_rs does and what spreadsheets
    /// show readably.
    pub fn encode_text(&self, text: &str) -> Vec<u8> {
        match (self.utf16, self.text) {
            (Some(endian), _) => utf16::to_utf16(text.as_bytes(), endian),
            (None, FieldText::Legacy(encoding)) => encoding.encode(text).0.into_owned(),
            (None, FieldText::Utf8) => text.as_bytes().to_vec(),
        }
    }

    /// The byte order mark a file in this encoding starts with: UTF-16
    /// needs one to be recognised; others go without.
    pub fn byte_order_mark(&self) -> &'static [u8] {
        match self.utf16 {
            Some(Endian::Little) => b"\xFF\xFE",
            Some(Endian::Big) => b"\xFE\xFF",
            None => b"",
        }
    }

    /// Bytes from a dead-letter `raw` as the parser reads them.
    pub fn parseable<'a>(&self, raw: &'a [u8]) -> Cow<'a, [u8]> {
        match self.utf16 {
            Some(endian) => Cow::Owned(utf16::from_utf16(raw, endian)),
            None => Cow::Borrowed(raw),
        }
    }
}

/// Bytes of the file's head kept in [`Opened::reader_head`]; a shorter head
/// is the whole file.
pub const HEAD_BYTES: usize = 64 * 1024;

/// A source with its byte order mark removed, ready to parse.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub codec: RecordCodec,
    /// The first bytes of the file after any byte order mark (raw, not
    /// transcoded), for sniffing the shape of the content.
    pub reader_head: Vec<u8>,
}

/// Removes a byte order mark and sets up decoding. A UTF-16 mark decides
/// the encoding when `declared` is `None` (or says UTF-8 / UTF-16).
pub fn open<R: Read + Send + 'static>(
    source: R,
    declared: Option<&'static Encoding>,
) -> io::Result<Opened> {
    let mut reader = BufReader::with_capacity(HEAD_BYTES, source);
    let head = fill_at_least(&mut reader, 3)?;
    let (bom, bom_len) = match Encoding::for_bom(&head) {
        Some((encoding, len)) => (Some(encoding), len),
        None => (None, 0),
    };
    let encoding = match (declared, bom) {
        (Some(d), Some(b)) if d == UTF_8 || d == UTF_16LE || d == UTF_16BE => b,
        (Some(d), Some(b)) if b == UTF_8 => d,
        (Some(d), _) => d,
        (None, Some(b)) => b,
        (None, None) => UTF_8,
    };
    let strip = if bom == Some(encoding) { bom_len } else { 0 };
    reader.consume(strip);
    let reader_head = reader.fill_buf()?.to_vec();
    let codec = RecordCodec::for_encoding(encoding).ok_or_else(|| {
        let message = format!("{} input is not supported", encoding.name());
        io::Error::new(io::ErrorKind::InvalidInput, message)
    })?;
    let reader: Box<dyn Read + Send> = match codec.utf16 {
        Some(endian) => Box::new(Utf16Reader::new(reader, endian)),
        None => Box::new(reader),
    };
    Ok(Opened {
        reader,
        codec,
        reader_head,
    })
}

/// The first `n` bytes (fewer at end of input), without consuming them.
fn fill_at_least<R: Read>(reader: &mut BufReader<R>, n: usize) -> io::Result<Vec<u8>> {
    let buffered = reader.fill_buf()?;
    if buffered.len() >= n || buffered.is_empty() {
        return Ok(buffered.iter().take(n).copied().collect());
    }
    // A short first read: take what there is; a BOM split across reads is
    // not worth more machinery for files this small.
    Ok(buffered.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &'static [u8], declared: Option<&'static Encoding>) -> (Vec<u8>, FieldText) {
        let mut opened = open(bytes, declared).expect("in-memory read");
        let mut out = Vec::new();
        opened.reader.read_to_end(&mut out).expect("in-memory read");
        (out, opened.codec.text)
    }

    #[test]
    fn utf8_bom_is_removed() {
        let (out, text) = read_all(b"\xEF\xBB\xBF\"email\"\r\n", None);
        assert_eq!(out, b"\"email\"\r\n");
        assert_eq!(text, FieldText::Utf8);
    }

    #[test]
    fn utf16le_bom_decides_and_is_transcoded() {
        let (out, text) = read_all(b"\xFF\xFEa\x00,\x00\xE9\x00\n\x00", None);
        assert_eq!(out, "a,é\n".as_bytes());
        assert_eq!(text, FieldText::Utf8);
    }

    #[test]
    fn utf16be_bom_decides_and_is_transcoded() {
        let (out, _) = read_all(b"\xFE\xFF\x00a\x00,\x00b", None);
        assert_eq!(out, b"a,b");
    }

    #[test]
    fn malformed_utf16_becomes_invalid_utf8() {
        // A lone high surrogate.
        let (out, _) = read_all(b"\xFF\xFEa\x00\x00\xD8b\x00", None);
        assert!(std::str::from_utf8(&out).is_err());
        assert_eq!(out[0], b'a');
    }

    #[test]
    fn windows_1252_fields_decode_without_repair() {
        let (_, text) = read_all(b"x", Encoding::for_label(b"windows-1252"));
        assert_eq!(text.decode(b"Caf\xE9 \x80").as_deref(), Some("Café €"));
        assert_eq!(FieldText::Utf8.decode(b"Caf\xE9"), None);
    }
}
