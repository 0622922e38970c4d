//! Text encodings: byte order marks, and the encoding of each field.
//!
//! UTF-8 input is parsed as it is. An ASCII-compatible encoding declared in
//! the mapping (windows-1252, ISO-8859-x, ...) is parsed as bytes and each
//! field is decoded on its own, so the original bytes stay available for the
//! dead-letter file. UTF-16 is not ASCII-compatible: it is transcoded to
//! UTF-8 as a stream before parsing, and malformed sequences become a byte
//! that is invalid UTF-8, so the record holding them is refused rather than
//! repaired.

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Read};

use encoding_rs::{DecoderResult, Encoding, UTF_16BE, UTF_16LE, UTF_8};

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

/// A source with its byte order mark removed, ready to parse.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub text: FieldText,
    /// The encoding the file is read in, for messages and the preamble.
    pub encoding: &'static Encoding,
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
    let mut reader = BufReader::with_capacity(64 * 1024, source);
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
    let (reader, text): (Box<dyn Read + Send>, FieldText) = if encoding == UTF_8 {
        (Box::new(reader), FieldText::Utf8)
    } else if encoding.is_ascii_compatible() {
        (Box::new(reader), FieldText::Legacy(encoding))
    } else {
        (Box::new(Transcoder::new(reader, encoding)), FieldText::Utf8)
    };
    Ok(Opened {
        reader,
        text,
        encoding,
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

/// Byte written for a malformed input sequence: never valid in UTF-8.
const INVALID_UTF8: u8 = 0xFF;

/// Streams a non-ASCII-compatible encoding (UTF-16) as UTF-8.
struct Transcoder<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    input_done: bool,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    finished: bool,
}

impl<R: Read> Transcoder<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        Transcoder {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 64 * 1024],
            in_start: 0,
            in_end: 0,
            input_done: false,
            output: vec![0; 64 * 1024],
            out_start: 0,
            out_end: 0,
            finished: false,
        }
    }

    fn refill_input(&mut self) -> io::Result<()> {
        self.input.copy_within(self.in_start..self.in_end, 0);
        self.in_end -= self.in_start;
        self.in_start = 0;
        let n = self.inner.read(&mut self.input[self.in_end..])?;
        self.in_end += n;
        self.input_done = n == 0;
        Ok(())
    }

    /// Decodes the next stretch of input into `output`.
    fn decode_more(&mut self) -> io::Result<()> {
        if !self.input_done {
            self.refill_input()?;
        }
        let last = self.input_done;
        let src = &self.input[self.in_start..self.in_end];
        // One byte stays spare for the marker of a malformed sequence.
        let room = self.output.len() - 1;
        let (result, read, written) =
            self.decoder
                .decode_to_utf8_without_replacement(src, &mut self.output[..room], last);
        self.in_start += read;
        self.out_start = 0;
        self.out_end = written;
        match result {
            DecoderResult::Malformed(_, _) => {
                self.output[written] = INVALID_UTF8;
                self.out_end += 1;
            }
            DecoderResult::InputEmpty if last => self.finished = true,
            DecoderResult::InputEmpty | DecoderResult::OutputFull => {}
        }
        Ok(())
    }
}

impl<R: Read> Read for Transcoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.out_start == self.out_end {
            if self.finished {
                return Ok(0);
            }
            self.decode_more()?;
        }
        let n = out.len().min(self.out_end - self.out_start);
        out[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &'static [u8], declared: Option<&'static Encoding>) -> (Vec<u8>, FieldText) {
        let mut opened = open(bytes, declared).expect("in-memory read");
        let mut out = Vec::new();
        opened.reader.read_to_end(&mut out).expect("in-memory read");
        (out, opened.text)
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
