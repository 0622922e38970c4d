//! NDJSON lines with their place and their original bytes.

use std::io::{self, Read};

use memchr::memchr;

use super::buffer::Buffer;

/// Streams the lines of an NDJSON source.
pub struct NdjsonReader<R> {
    buf: Buffer<R>,
    line: u64,
    consumed: u64,
}

/// One line, borrowed from the reader until the next call.
#[derive(Debug, PartialEq, Eq)]
pub struct NdjsonLine<'a> {
    pub line: u64,
    /// The line without its terminator (LF or CRLF).
    pub raw: &'a [u8],
    /// The line holds only white space.
    pub blank: bool,
}

impl<R: Read> NdjsonReader<R> {
    pub fn new(source: R) -> Self {
        NdjsonReader {
            buf: Buffer::new(source),
            line: 0,
            consumed: 0,
        }
    }

    /// Counts `n` lines as already read (consumed before this reader).
    pub fn skip_lines(&mut self, n: u64) {
        self.line += n;
    }

    pub fn bytes_consumed(&self) -> u64 {
        self.consumed
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<NdjsonLine<'_>>> {
        self.buf.start = self.buf.pos;
        // Bytes after `start` already searched for a line feed; relative,
        // because `fill` may move the line to the front of the buffer.
        let mut searched = 0;
        let (end, next) = loop {
            let from = self.buf.start + searched;
            if let Some(at) = memchr(b'\n', self.buf.slice(from, self.buf.end)) {
                break (from + at, from + at + 1);
            }
            searched = self.buf.end - self.buf.start;
            if self.buf.fill()? == 0 {
                if self.buf.start == self.buf.end {
                    return Ok(None);
                }
                break (self.buf.end, self.buf.end);
            }
        };
        let start = self.buf.start;
        self.buf.pos = next;
        self.consumed += (next - start) as u64;
        self.line += 1;
        let mut raw = self.buf.slice(start, end);
        if raw.last() == Some(&b'\r') {
            raw = &raw[..raw.len() - 1];
        }
        let blank = raw.iter().all(|b| b.is_ascii_whitespace());
        Ok(Some(NdjsonLine {
            line: self.line,
            raw,
            blank,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<(u64, String, bool)> {
        let mut reader = NdjsonReader::new(input);
        let mut out = Vec::new();
        while let Some(line) = reader.next_line().expect("in-memory read") {
            let raw = String::from_utf8(line.raw.to_vec()).expect("utf-8");
            out.push((line.line, raw, line.blank));
        }
        out
    }

    #[test]
    fn blank_lines_crlf_and_missing_final_newline() {
        let seen = lines(b"{\"a\":1}\r\n\r\n{\"a\":2}\n \t\n{\"a\":3}");
        assert_eq!(
            seen,
            vec![
                (1, "{\"a\":1}".to_string(), false),
                (2, String::new(), true),
                (3, "{\"a\":2}".to_string(), false),
                (4, " \t".to_string(), true),
                (5, "{\"a\":3}".to_string(), false),
            ]
        );
    }

    #[test]
    fn lines_longer_than_the_buffer_are_read_whole() {
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(600_000));
        let input = format!("{long}\n{{}}\n");
        let seen = lines(input.as_bytes());
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].1.len(), long.len());
        assert_eq!(seen[1], (2, "{}".to_string(), false));
    }
}
