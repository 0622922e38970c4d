//! CSV records with their place and their original bytes.
//!
//! Parsing is csv-core's (RFC 4180 quoting, records ending at LF, CRLF or
//! CR, a quote inside an unquoted field kept as an ordinary character). This
//! file adds what the importer needs around it: the line where each record
//! starts, the record's bytes exactly as in the file, blank lines counted,
//! and a quoted field left open at the end of the file detected.

use std::io::{self, Read};

use memchr::{memchr, memchr2_iter};

use super::buffer::Buffer;
use super::decode::FieldText;

/// Streams CSV records from a byte source.
pub struct CsvReader<R> {
    buf: Buffer<R>,
    parser: csv_core::Reader,
    delimiter: u8,
    /// Unescaped field bytes of the record in progress.
    out: Vec<u8>,
    /// End offsets of its fields in `out`.
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    /// Line number of the next byte to parse.
    line: u64,
    /// The last byte of the previous record was a CR (its LF may follow).
    prev_cr: bool,
    /// Bytes handed out as records or skipped so far.
    consumed: u64,
    /// Blank lines after the last record.
    trailing_blank: u64,
}

/// One record, borrowed from the reader until the next call.
#[derive(Debug)]
pub struct CsvRecord<'a> {
    /// Line where the record starts (1-based).
    pub line: u64,
    /// The record's bytes without its line terminator.
    pub raw: &'a [u8],
    /// Blank lines skipped right before this record.
    pub blank_lines_before: u64,
    /// A quoted field was still open at the end of the file.
    pub unterminated_quote: bool,
    out: &'a [u8],
    ends: &'a [usize],
}

/// Why a field could not be read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    /// The field holds a NUL byte.
    Nul,
    /// The field's bytes are not valid in the file's encoding.
    Encoding,
}

/// Reusable storage for fields decoded from a legacy encoding.
#[derive(Debug, Default)]
pub struct Scratch {
    text: String,
    ends: Vec<usize>,
}

/// A record's fields as text. None holds U+0000: [`CsvRecord::fields`],
/// the only way to get one, refuses such a record.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    text: &'a str,
    ends: &'a [usize],
}

impl<'a> Fields<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, index: usize) -> &'a str {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.text[start..self.ends[index]]
    }
}

impl<'a> CsvRecord<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The fields as text, or the first field (0-based) that cannot be.
    pub fn fields<'s>(
        &'s self,
        text: FieldText,
        scratch: &'s mut Scratch,
    ) -> Result<Fields<'s>, (usize, FieldProblem)> {
        if let Some(at) = memchr(0, self.out) {
            return Err((self.field_at(at), FieldProblem::Nul));
        }
        match text {
            FieldText::Utf8 => self.utf8_fields(),
            FieldText::Legacy(_) => self.decoded_fields(text, scratch),
        }
    }

    fn utf8_fields(&self) -> Result<Fields<'a>, (usize, FieldProblem)> {
        match std::str::from_utf8(self.out) {
            Ok(text) if self.ends.iter().all(|&end| text.is_char_boundary(end)) => Ok(Fields {
                text,
                ends: self.ends,
            }),
            Ok(_) => Err((self.first_invalid_field(), FieldProblem::Encoding)),
            Err(e) => Err((self.field_at(e.valid_up_to()), FieldProblem::Encoding)),
        }
    }

    fn decoded_fields<'s>(
        &self,
        text: FieldText,
        scratch: &'s mut Scratch,
    ) -> Result<Fields<'s>, (usize, FieldProblem)> {
        scratch.text.clear();
        scratch.ends.clear();
        for index in 0..self.len() {
            let decoded = text.decode(self.field_bytes(index));
            let decoded = decoded.ok_or((index, FieldProblem::Encoding))?;
            scratch.text.push_str(&decoded);
            scratch.ends.push(scratch.text.len());
        }
        Ok(Fields {
            text: &scratch.text,
            ends: &scratch.ends,
        })
    }

    /// The record without its last `count` fields (at most all of them),
    /// its raw bytes cut at `raw_end`: a CSV dead-letter record without
    /// the columns that were added to it.
    pub fn without_last(&self, count: usize, raw_end: usize) -> CsvRecord<'a> {
        let kept = self.len().saturating_sub(count);
        let out_end = if kept == 0 { 0 } else { self.ends[kept - 1] };
        CsvRecord {
            line: self.line,
            raw: &self.raw[..raw_end.min(self.raw.len())],
            blank_lines_before: self.blank_lines_before,
            unterminated_quote: self.unterminated_quote,
            out: &self.out[..out_end],
            ends: &self.ends[..kept],
        }
    }

    /// The unescaped bytes of one field.
    pub fn field_bytes(&self, index: usize) -> &'a [u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.out[start..self.ends[index]]
    }

    /// The field holding byte `offset` of the unescaped output.
    fn field_at(&self, offset: usize) -> usize {
        self.ends
            .iter()
            .position(|&end| offset < end)
            .unwrap_or(self.len().saturating_sub(1))
    }

    fn first_invalid_field(&self) -> usize {
        (0..self.len())
            .find(|&i| std::str::from_utf8(self.field_bytes(i)).is_err())
            .unwrap_or(0)
    }
}

impl<R: Read> CsvReader<R> {
    pub fn new(source: R, delimiter: u8) -> Self {
        let parser = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        CsvReader {
            buf: Buffer::new(source),
            parser,
            delimiter,
            out: vec![0; 4096],
            ends: vec![0; 64],
            nout: 0,
            nend: 0,
            line: 1,
            prev_cr: false,
            consumed: 0,
            trailing_blank: 0,
        }
    }

    /// Bytes of the source consumed so far.
    pub fn bytes_consumed(&self) -> u64 {
        self.consumed
    }

    /// Blank lines between the last record and the end of the input, known
    /// once `next_record` has returned `None`.
    pub fn trailing_blank_lines(&self) -> u64 {
        self.trailing_blank
    }

    /// The next record, or `None` at the end of the input.
    pub fn next_record(&mut self) -> io::Result<Option<CsvRecord<'_>>> {
        let blank_lines_before = self.skip_line_breaks()?;
        if self.buf.at_eof() {
            self.trailing_blank += blank_lines_before;
            return Ok(None);
        }
        self.buf.start = self.buf.pos;
        self.nout = 0;
        self.nend = 0;
        let at_eof = self.parse_record()?;
        // `parse_record` may have moved the record to the buffer's front.
        let (start, end) = (self.buf.start, self.buf.pos);
        let consumed = self.buf.slice(start, end);
        let line = self.line;
        self.line += count_line_breaks(consumed);
        self.prev_cr = consumed.last() == Some(&b'\r');
        self.consumed += (end - start) as u64;
        let raw = if at_eof {
            consumed
        } else {
            &consumed[..consumed.len() - 1]
        };
        let unterminated_quote = at_eof && ends_inside_quotes(raw, self.delimiter);
        Ok(Some(CsvRecord {
            line,
            raw,
            blank_lines_before,
            unterminated_quote,
            out: &self.out[..self.nout],
            ends: &self.ends[..self.nend],
        }))
    }

    /// Skips line breaks before a record; returns how many blank lines they
    /// made (the LF of a CRLF that ended the previous record is not one).
    fn skip_line_breaks(&mut self) -> io::Result<u64> {
        let mut blank = 0;
        loop {
            let pending = self.buf.pending();
            let n = pending
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            for &byte in &pending[..n] {
                if !(byte == b'\n' && self.prev_cr) {
                    blank += 1;
                    self.line += 1;
                }
                self.prev_cr = byte == b'\r';
            }
            self.buf.pos += n;
            self.consumed += n as u64;
            if self.buf.pos < self.buf.end {
                return Ok(blank);
            }
            self.buf.start = self.buf.pos;
            if self.buf.fill()? == 0 {
                return Ok(blank);
            }
        }
    }

    /// Runs the parser to the end of one record. Returns true when the
    /// record was ended by the end of the input rather than a terminator.
    fn parse_record(&mut self) -> io::Result<bool> {
        use csv_core::ReadRecordResult as R;
        let mut at_eof = false;
        loop {
            let input = if at_eof { &[][..] } else { self.buf.pending() };
            let (result, nin, nout, nend) = self.parser.read_record(
                input,
                &mut self.out[self.nout..],
                &mut self.ends[self.nend..],
            );
            self.buf.pos += nin;
            self.nout += nout;
            self.nend += nend;
            match result {
                R::InputEmpty => at_eof = self.buf.fill()? == 0,
                R::OutputFull => self.out.resize(self.out.len() * 2, 0),
                R::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                R::Record => return Ok(at_eof),
                R::End => return Ok(true),
            }
        }
    }
}

/// Line breaks in `bytes`: each CR, and each LF not right after a CR.
fn count_line_breaks(bytes: &[u8]) -> u64 {
    let mut count = 0;
    for at in memchr2_iter(b'\r', b'\n', bytes) {
        if bytes[at] == b'\r' || at == 0 || bytes[at - 1] != b'\r' {
            count += 1;
        }
    }
    count
}

/// Whether a record read to the end of the file leaves a quoted field open.
fn ends_inside_quotes(raw: &[u8], delimiter: u8) -> bool {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    for &byte in raw {
        state = match state {
            State::FieldStart if byte == b'"' => State::Quoted,
            State::FieldStart | State::Unquoted if byte == delimiter => State::FieldStart,
            State::FieldStart | State::Unquoted => State::Unquoted,
            State::Quoted if byte == b'"' => State::QuoteInQuoted,
            State::Quoted => State::Quoted,
            State::QuoteInQuoted if byte == b'"' => State::Quoted,
            State::QuoteInQuoted if byte == delimiter => State::FieldStart,
            State::QuoteInQuoted => State::Unquoted,
        };
    }
    state == State::Quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, raw, fields, blank lines before, unterminated) of every record.
    type Seen = (u64, String, Vec<String>, u64, bool);

    fn read(input: &[u8]) -> Vec<Seen> {
        let mut reader = CsvReader::new(input, b',');
        let mut scratch = Scratch::default();
        let mut seen = Vec::new();
        while let Some(record) = reader.next_record().expect("in-memory read") {
            let fields = record
                .fields(FieldText::Utf8, &mut scratch)
                .expect("valid fields");
            let fields = (0..fields.len())
                .map(|i| fields.get(i).to_string())
                .collect();
            let raw = String::from_utf8(record.raw.to_vec()).expect("utf-8 test input");
            seen.push((
                record.line,
                raw,
                fields,
                record.blank_lines_before,
                record.unterminated_quote,
            ));
        }
        seen
    }

    fn rec(line: u64, raw: &str, fields: &[&str], blank: u64) -> Seen {
        (
            line,
            raw.to_string(),
            fields.iter().map(|f| f.to_string()).collect(),
            blank,
            false,
        )
    }

    #[test]
    fn crlf_records_without_final_newline_keep_every_row() {
        let seen = read(b"email,name\r\na@x.io,Ann\r\nb@x.io,Bo");
        assert_eq!(
            seen,
            vec![
                rec(1, "email,name", &["email", "name"], 0),
                rec(2, "a@x.io,Ann", &["a@x.io", "Ann"], 0),
                rec(3, "b@x.io,Bo", &["b@x.io", "Bo"], 0),
            ]
        );
    }

    #[test]
    fn quoted_newlines_span_lines_and_keep_raw_text() {
        let seen = read(b"k,n\n1,\"a\nb\"\n2,\"x\"\"y\"\n");
        assert_eq!(
            seen,
            vec![
                rec(1, "k,n", &["k", "n"], 0),
                rec(2, "1,\"a\nb\"", &["1", "a\nb"], 0),
                rec(4, "2,\"x\"\"y\"", &["2", "x\"y"], 0),
            ]
        );
    }

    #[test]
    fn blank_lines_are_counted_and_skipped() {
        let seen = read(b"k\r\n\r\n1\n\n\n2\r3\n");
        assert_eq!(
            seen,
            vec![
                rec(1, "k", &["k"], 0),
                rec(3, "1", &["1"], 1),
                rec(6, "2", &["2"], 2),
                { rec(7, "3", &["3"], 0) },
            ]
        );
    }

    #[test]
    fn blank_lines_after_the_last_record_are_counted() {
        let mut reader = CsvReader::new(&b"k\r\n1\r\n\r\n\n"[..], b',');
        while reader.next_record().expect("read").is_some() {}
        assert_eq!(reader.trailing_blank_lines(), 2);
    }

    #[test]
    fn open_quote_at_end_of_file_swallows_the_rest_and_is_flagged() {
        let seen = read(b"k,n\n1,\"open\n2,x\n3,y\n");
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].0, 2);
        assert_eq!(seen[1].1, "1,\"open\n2,x\n3,y\n");
        assert!(seen[1].4);
    }

    #[test]
    fn quote_inside_unquoted_field_is_literal() {
        let seen = read(b"a,b\nScreen is 6\" wide,z\n");
        assert_eq!(
            seen[1].2,
            vec!["Screen is 6\" wide".to_string(), "z".to_string()]
        );
        assert!(!seen[1].4);
    }

    #[test]
    fn nul_and_invalid_bytes_name_their_field() {
        let mut reader = CsvReader::new(&b"a,b,c\nx,y\x00z,w\nx,\xE9,w\n"[..], b',');
        let mut scratch = Scratch::default();
        reader.next_record().expect("read").expect("header");
        let record = reader.next_record().expect("read").expect("row");
        assert_eq!(
            record.fields(FieldText::Utf8, &mut scratch).unwrap_err(),
            (1, FieldProblem::Nul)
        );
        let record = reader.next_record().expect("read").expect("row");
        let error = record.fields(FieldText::Utf8, &mut scratch).unwrap_err();
        assert_eq!(error, (1, FieldProblem::Encoding));
    }

    #[test]
    fn records_larger_than_the_buffer_are_read_whole() {
        let big = "y".repeat(700_000);
        let input = format!("k,n\n1,\"{big}\"\n2,z\n");
        let seen = read(input.as_bytes());
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1].2[1].len(), 700_000);
        assert_eq!(seen[2], rec(3, "2,z", &["2", "z"], 0));
    }

    #[test]
    fn other_delimiters_split_fields() {
        let mut reader = CsvReader::new(&b"a;b\n\"x;y\";1,5\n"[..], b';');
        let mut scratch = Scratch::default();
        reader.next_record().expect("read").expect("header");
        let record = reader.next_record().expect("read").expect("row");
        let fields = record.fields(FieldText::Utf8, &mut scratch).expect("valid");
        assert_eq!((fields.get(0), fields.get(1)), ("x;y", "1,5"));
    }
}
