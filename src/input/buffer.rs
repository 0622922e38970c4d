//! A read buffer that keeps the bytes of the record being parsed in one
//! contiguous slice, so a finished record's original bytes can be borrowed
//! without copying.

use std::io::{self, Read};

const INITIAL_CAPACITY: usize = 256 * 1024;

/// Bytes read from a source but not yet handed out, plus the start of the
/// record in progress. Compacts (moves the unfinished record to the front)
/// before reading more, and doubles only when one record fills it.
pub struct Buffer<R> {
    source: R,
    data: Vec<u8>,
    /// Start of the record in progress.
    pub start: usize,
    /// Next byte to parse.
    pub pos: usize,
    /// End of valid data.
    pub end: usize,
    eof: bool,
}

impl<R: Read> Buffer<R> {
    pub fn new(source: R) -> Self {
        Buffer {
            source,
            data: vec![0; INITIAL_CAPACITY],
            start: 0,
            pos: 0,
            end: 0,
            eof: false,
        }
    }

    /// Unparsed bytes.
    pub fn pending(&self) -> &[u8] {
        &self.data[self.pos..self.end]
    }

    /// Bytes from `from` up to `to`, both absolute positions.
    pub fn slice(&self, from: usize, to: usize) -> &[u8] {
        &self.data[from..to]
    }

    pub fn at_eof(&self) -> bool {
        self.eof && self.pos == self.end
    }

    /// Reads more bytes, keeping `start..end`. Returns the number of bytes
    /// read; 0 means the source is exhausted.
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.eof {
            return Ok(0);
        }
        if self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.pos -= self.start;
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.data.len() {
            let doubled = self.data.len() * 2;
            self.data.resize(doubled, 0);
        }
        let n = loop {
            match self.source.read(&mut self.data[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.end += n;
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }
}
