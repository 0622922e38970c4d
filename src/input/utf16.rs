//! UTF-16 input, read as UTF-8 without losing a byte.
//!
//! Records are parsed as UTF-8, so a UTF-16 file is transcoded as it
//! streams. A lone surrogate (malformed UTF-16) is written in its
//! generalised UTF-8 form (three bytes that UTF-8 forbids): the record
//! holding it then fails validation and is dead-lettered, and because the
//! mapping is reversible, [`to_utf16`] gives the dead-letter file the
//! record's original bytes back. A dangling last byte of an odd-length
//! file cannot be kept this way; it becomes 0xFF and is lost from `raw`.

use std::io::{self, Read};

/// Byte order of a UTF-16 stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    fn unit(self, pair: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(pair),
            Endian::Big => u16::from_be_bytes(pair),
        }
    }

    fn bytes(self, unit: u16) -> [u8; 2] {
        match self {
            Endian::Little => unit.to_le_bytes(),
            Endian::Big => unit.to_be_bytes(),
        }
    }
}

/// Marks a dangling odd byte: never valid in UTF-8.
const DANGLING: u8 = 0xFF;

/// Decodes UTF-16 units into generalised UTF-8, keeping state across
/// calls: a high surrogate whose partner has not arrived yet.
#[derive(Debug)]
struct Decoder {
    endian: Endian,
    high: Option<u16>,
}

impl Decoder {
    /// Decodes whole units of `input`; returns how many bytes it used.
    fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> usize {
        let used = input.len() & !1;
        for pair in input[..used].chunks_exact(2) {
            let unit = self.endian.unit([pair[0], pair[1]]);
            self.unit(unit, out);
        }
        used
    }

    fn unit(&mut self, unit: u16, out: &mut Vec<u8>) {
        match (self.high.take(), unit) {
            (Some(high), 0xDC00..=0xDFFF) => {
                let code =
                    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                push_code_point(code, out);
            }
            (Some(high), _) => {
                push_code_point(u32::from(high), out);
                self.unit(unit, out);
            }
            (None, 0xD800..=0xDBFF) => self.high = Some(unit),
            (None, _) => push_code_point(u32::from(unit), out),
        }
    }

    /// Ends the input: a waiting high surrogate and an odd byte are flushed.
    fn finish(&mut self, odd_byte: bool, out: &mut Vec<u8>) {
        if let Some(high) = self.high.take() {
            push_code_point(u32::from(high), out);
        }
        if odd_byte {
            out.push(DANGLING);
        }
    }
}

/// UTF-8 encoding of any code point, surrogates included.
fn push_code_point(code: u32, out: &mut Vec<u8>) {
    // Surrogates are not `char`s, so the encoding is written out by hand.
    match code {
        0..=0x7F => out.push(code as u8),
        0x80..=0x7FF => {
            out.extend_from_slice(&[0xC0 | (code >> 6) as u8, 0x80 | (code & 0x3F) as u8])
        }
        0x800..=0xFFFF => out.extend_from_slice(&[
            0xE0 | (code >> 12) as u8,
            0x80 | ((code >> 6) & 0x3F) as u8,
            0x80 | (code & 0x3F) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xF0 | (code >> 18) as u8,
            0x80 | ((code >> 12) & 0x3F) as u8,
            0x80 | ((code >> 6) & 0x3F) as u8,
            0x80 | (code & 0x3F) as u8,
        ]),
    }
}

/// Decodes a whole UTF-16 text (a dead-letter record) into generalised UTF-8.
pub fn from_utf16(bytes: &[u8], endian: Endian) -> Vec<u8> {
    let mut decoder = Decoder { endian, high: None };
    let mut out = Vec::with_capacity(bytes.len());
    let used = decoder.decode(bytes, &mut out);
    decoder.finish(used < bytes.len(), &mut out);
    out
}

/// The UTF-16 bytes a transcoded record came from: the inverse of the
/// reader's transcoding (a dangling odd byte excepted).
pub fn to_utf16(utf8: &[u8], endian: Endian) -> Vec<u8> {
    let mut out = Vec::with_capacity(utf8.len() * 2);
    let mut at = 0;
    while at < utf8.len() {
        let (code, len) = code_point_at(&utf8[at..]);
        at += len;
        let Some(code) = code else { continue };
        if code >= 0x10000 {
            let high = 0xD800 + ((code - 0x10000) >> 10) as u16;
            let low = 0xDC00 + ((code - 0x10000) & 0x3FF) as u16;
            out.extend_from_slice(&endian.bytes(high));
            out.extend_from_slice(&endian.bytes(low));
        } else {
            out.extend_from_slice(&endian.bytes(code as u16));
        }
    }
    out
}

/// The code point at the start of `bytes` and its length; `None` for a
/// byte that starts no sequence (the dangling marker).
fn code_point_at(bytes: &[u8]) -> (Option<u32>, usize) {
    let first = bytes[0];
    let (len, initial) = match first {
        0x00..=0x7F => return (Some(u32::from(first)), 1),
        0xC0..=0xDF => (2, u32::from(first & 0x1F)),
        0xE0..=0xEF => (3, u32::from(first & 0x0F)),
        0xF0..=0xF7 => (4, u32::from(first & 0x07)),
        _ => return (None, 1),
    };
    let Some(tail) = bytes.get(1..len) else {
        return (None, bytes.len());
    };
    let code = tail
        .iter()
        .fold(initial, |code, &b| (code << 6) | u32::from(b & 0x3F));
    (Some(code), len)
}

/// Streams a UTF-16 source as generalised UTF-8.
pub struct Utf16Reader<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    /// Undecoded input: at most one odd byte carried to the next read.
    carry: usize,
    output: Vec<u8>,
    out_pos: usize,
    done: bool,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, endian: Endian) -> Self {
        Utf16Reader {
            inner,
            decoder: Decoder { endian, high: None },
            input: vec![0; 64 * 1024],
            carry: 0,
            output: Vec::with_capacity(96 * 1024),
            out_pos: 0,
            done: false,
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.output.clear();
        self.out_pos = 0;
        let n = loop {
            match self.inner.read(&mut self.input[self.carry..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        let available = self.carry + n;
        if n == 0 {
            self.decoder.finish(self.carry == 1, &mut self.output);
            self.done = true;
            return Ok(());
        }
        let used = self
            .decoder
            .decode(&self.input[..available], &mut self.output);
        self.input.copy_within(used..available, 0);
        self.carry = available - used;
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.output.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.output.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(text: &[u16]) -> Vec<u8> {
        text.iter().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn read_all(bytes: Vec<u8>, endian: Endian) -> Vec<u8> {
        let mut out = Vec::new();
        Utf16Reader::new(&bytes[..], endian)
            .read_to_end(&mut out)
            .expect("in memory");
        out
    }

    #[test]
    fn text_and_surrogate_pairs_become_utf8() {
        let units: Vec<u16> = "a,é\n😀".encode_utf16().collect();
        assert_eq!(read_all(le(&units), Endian::Little), "a,é\n😀".as_bytes());
        let be: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(read_all(be, Endian::Big), "a,é\n😀".as_bytes());
    }

    #[test]
    fn a_lone_surrogate_fails_utf8_and_round_trips_to_its_bytes() {
        let original = le(&[0x54, 0xD800, 0x73, 0xDC00]);
        let utf8 = read_all(original.clone(), Endian::Little);
        assert!(std::str::from_utf8(&utf8).is_err());
        assert_eq!(to_utf16(&utf8, Endian::Little), original);
        assert_eq!(from_utf16(&original, Endian::Little), utf8);
    }

    #[test]
    fn valid_text_round_trips_in_both_byte_orders() {
        for endian in [Endian::Little, Endian::Big] {
            let text = "Zoë,\"x\"\r\n漢字 😀";
            let bytes: Vec<u8> = text.encode_utf16().flat_map(|u| endian.bytes(u)).collect();
            assert_eq!(from_utf16(&bytes, endian), text.as_bytes());
            assert_eq!(to_utf16(text.as_bytes(), endian), bytes);
        }
    }

    #[test]
    fn an_odd_last_byte_is_marked_invalid() {
        let mut bytes = le(&[0x61]);
        bytes.push(0x62);
        assert_eq!(read_all(bytes, Endian::Little), vec![b'a', DANGLING]);
    }

    #[test]
    fn units_split_across_reads_are_joined() {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let units: Vec<u16> = "héllo 😀 wörld".encode_utf16().collect();
        let bytes = le(&units);
        let mut out = Vec::new();
        Utf16Reader::new(Trickle(&bytes), Endian::Little)
            .read_to_end(&mut out)
            .expect("read");
        assert_eq!(out, "héllo 😀 wörld".as_bytes());
    }
}
