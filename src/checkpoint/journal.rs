//! The checkpoint file's format: one header line (JSON, naming the input,
//! the mapping, the dead-letter file and their identity), then one entry
//! per record that reached its final outcome, appended as it happens.
//!
//! An entry is a short text line that ends with a checksum of itself:
//!
//! ```text
//! u 1041 8f3c2a10          record 1041 upserted
//! d 1042 52311 0b9e77d4    record 1042 dead-lettered; the dead-letter file
//!                          was 52311 bytes long once its entry was written
//! b 1043 c1d2e3f4          record 1043 a blank line
//! r 1 1040 77e0a1b2        records 1 to 1040 final in an earlier run
//! ```
//!
//! A resumed run rewrites the file at its start (header, then one `r`
//! entry per range of records already final), so it does not grow from
//! one run to the next.
//!
//! Every entry is one `write` on an unbuffered file, so a killed process
//! leaves whole entries only; power lost in the middle of a write can leave
//! a torn or garbled tail, which the checksum and the line end give away.
//! Reading stops at the first entry that is not whole and sound; what
//! follows it is dropped, and those records are done again.

use std::fs::File;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::done::Done;
use super::identity::{fnv1a, Identity};

/// The format version written in the header.
pub const VERSION: u32 = 1;

/// How a checkpoint file starts; also what tells it apart from other files.
pub const MARK: &[u8] = b"{\"checkpoint\"";

/// The header line: `{"checkpoint": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    pub input: String,
    pub mapping: String,
    pub dead_letter: String,
    /// Hash of the dead-letter file's preamble line: tells that file apart
    /// from another dead-letter file put at the same path.
    pub dead_letter_preamble: String,
    /// Bytes of the dead-letter file, and entries in them, that belong to
    /// records of the `r` entries: a resumed run must find them there,
    /// since an `r` entry does not say which of its records were rejected.
    pub dead_letter_kept: u64,
    pub dead_letter_kept_entries: u64,
    pub created: String,
    pub tool: String,
    #[serde(flatten)]
    pub identity: Identity,
}

#[derive(Serialize, Deserialize)]
struct HeaderLine {
    checkpoint: Header,
}

impl Header {
    pub fn to_line(&self) -> io::Result<Vec<u8>> {
        let wrapped = HeaderLine {
            checkpoint: self.clone(),
        };
        let mut line = serde_json::to_vec(&wrapped)?;
        line.push(b'\n');
        Ok(line)
    }

    pub fn from_line(line: &[u8]) -> Result<Header, String> {
        serde_json::from_slice::<HeaderLine>(line)
            .map(|wrapped| wrapped.checkpoint)
            .map_err(|e| e.to_string())
    }
}

/// A record's final outcome, as the checkpoint keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Upserted,
    /// Written to the dead-letter file, which then ended at this byte.
    DeadLettered {
        dead_letter_end: u64,
    },
    Blank,
    /// Records from the entry's `seq` to `last` were final in an earlier
    /// run (written when a resumed run rewrites the file).
    Earlier {
        last: u64,
    },
}

/// One entry: record number (1-based, in reading order) and outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub outcome: Outcome,
}

/// Longest entry: two 20-digit numbers, a checksum, separators.
const ENTRY_MAX: usize = 64;

impl Entry {
    /// The entry's line, written into `buffer` (no allocation).
    fn encode<'b>(&self, buffer: &'b mut [u8; ENTRY_MAX]) -> &'b [u8] {
        let mut cursor = io::Cursor::new(&mut buffer[..]);
        let written = match self.outcome {
            Outcome::Upserted => write!(cursor, "u {}", self.seq),
            Outcome::DeadLettered { dead_letter_end } => {
                write!(cursor, "d {} {dead_letter_end}", self.seq)
            }
            Outcome::Blank => write!(cursor, "b {}", self.seq),
            Outcome::Earlier { last } => write!(cursor, "r {} {last}", self.seq),
        };
        written.expect("an entry is shorter than ENTRY_MAX");
        let body = usize::try_from(cursor.position()).expect("at most ENTRY_MAX");
        let sum = checksum(&cursor.get_ref()[..body]);
        writeln!(cursor, " {sum:08x}").expect("an entry is shorter than ENTRY_MAX");
        let end = usize::try_from(cursor.position()).expect("at most ENTRY_MAX");
        &buffer[..end]
    }

    /// Reads one line (without its `\n`); `None` unless whole and sound.
    fn decode(line: &[u8]) -> Option<Entry> {
        let split = line.iter().rposition(|&b| b == b' ')?;
        let (body, sum) = (&line[..split], &line[split + 1..]);
        let sum = u32::from_str_radix(std::str::from_utf8(sum).ok()?, 16).ok()?;
        if sum != checksum(body) {
            return None;
        }
        let mut fields = std::str::from_utf8(body).ok()?.split(' ');
        let kind = fields.next()?;
        let seq: u64 = fields.next()?.parse().ok()?;
        let outcome = match kind {
            "u" => Outcome::Upserted,
            "b" => Outcome::Blank,
            "d" => Outcome::DeadLettered {
                dead_letter_end: fields.next()?.parse().ok()?,
            },
            "r" => Outcome::Earlier {
                last: fields.next()?.parse().ok()?,
            },
            _ => return None,
        };
        if fields.next().is_some() || seq == 0 {
            return None;
        }
        Some(Entry { seq, outcome })
    }
}

/// 32 bits of FNV-1a: enough to catch a torn or garbled line.
fn checksum(bytes: &[u8]) -> u32 {
    let hash = fnv1a(bytes);
    (hash ^ (hash >> 32)) as u32
}

/// Reads the entries after the header (which ends at byte `start`), handing
/// each to `visit`, up to the first that is not whole and sound. Returns
/// where the sound entries end.
pub fn read_entries(
    mut reader: impl BufRead,
    start: u64,
    mut visit: impl FnMut(Entry),
) -> io::Result<u64> {
    let mut end = start;
    let mut line = Vec::with_capacity(ENTRY_MAX);
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        let Some(whole) = line.strip_suffix(b"\n") else {
            // End of file, or a last entry cut short.
            return Ok(end);
        };
        let Some(entry) = Entry::decode(whole) else {
            return Ok(end);
        };
        visit(entry);
        end += read as u64;
    }
}

/// The checkpoint file open for appending entries, shared by the reader
/// thread and delivery tasks.
pub struct Journal {
    path: PathBuf,
    writer: Mutex<Writer>,
}

struct Writer {
    /// Unbuffered: every entry is one whole `write`.
    file: File,
    /// A write failed: no more entries (one after a torn one would be lost
    /// anyway, since reading stops at the torn one).
    broken: bool,
}

impl Journal {
    /// Takes `file`, positioned at its end, for appending.
    fn new(path: &Path, file: File) -> Self {
        Journal {
            path: path.to_path_buf(),
            writer: Mutex::new(Writer {
                file,
                broken: false,
            }),
        }
    }

    /// Writes a new checkpoint file holding `header` and, as `r` entries,
    /// the records of `done`, and puts it in place of the one at `path` in
    /// one step (a temporary file beside it, synced, then renamed), so a
    /// crash leaves the old file or the new one, never a mix.
    pub fn create(path: &Path, header: &Header, done: &Done) -> io::Result<Self> {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".new");
        let temporary = path.with_file_name(name);
        let mut file = crate::dead_letter::owner_only().open(&temporary)?;
        let mut text = header.to_line()?;
        let mut buffer = [0u8; ENTRY_MAX];
        for (first, last) in done.ranges() {
            let entry = Entry {
                seq: first,
                outcome: Outcome::Earlier { last },
            };
            text.extend_from_slice(entry.encode(&mut buffer));
        }
        file.write_all(&text)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        Ok(Journal::new(path, file))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that record `seq` is final. A failure is told once and then
    /// the checkpoint takes no more entries: the run goes on (nothing is
    /// lost), but a rerun after a crash sends again what came after.
    pub fn record(&self, seq: u64, outcome: Outcome) {
        let mut buffer = [0u8; ENTRY_MAX];
        let line = Entry { seq, outcome }.encode(&mut buffer);
        let mut writer = self.lock();
        if writer.broken {
            return;
        }
        if let Err(error) = writer.file.write_all(line) {
            writer.broken = true;
            crate::say!(
                "warning: cannot write the checkpoint {}: {error}; the run goes on, but a \
                 rerun after a crash will send again what came after this point",
                self.path.display()
            );
        }
    }

    /// Holds the file so no entry is being written until the guard drops:
    /// taken before exiting at once.
    pub fn hold(&self) -> impl Sized + '_ {
        self.lock()
    }

    /// Ends the checkpoint: removed when the run is complete (a rerun then
    /// starts afresh), otherwise synced to disk for the next run.
    pub fn finish(self, complete: bool) -> io::Result<()> {
        let writer = self.writer.into_inner().unwrap_or_else(|e| e.into_inner());
        if complete {
            drop(writer.file);
            return std::fs::remove_file(&self.path);
        }
        writer.file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(entry: Entry) -> Vec<u8> {
        let mut buffer = [0u8; ENTRY_MAX];
        entry.encode(&mut buffer).to_vec()
    }

    #[test]
    fn entries_read_back_as_written() {
        let entries = [
            Entry {
                seq: 1041,
                outcome: Outcome::Upserted,
            },
            Entry {
                seq: u64::MAX,
                outcome: Outcome::DeadLettered {
                    dead_letter_end: u64::MAX,
                },
            },
            Entry {
                seq: 3,
                outcome: Outcome::Blank,
            },
            Entry {
                seq: 1,
                outcome: Outcome::Earlier { last: 1040 },
            },
        ];
        let text: Vec<u8> = entries.iter().flat_map(|&e| line(e)).collect();
        let mut read = Vec::new();
        let end = read_entries(&text[..], 100, |e| read.push(e)).expect("read");
        assert_eq!(read, entries);
        assert_eq!(end, 100 + text.len() as u64);
        let first = String::from_utf8(line(entries[0])).expect("text");
        assert!(
            first.starts_with("u 1041 ") && first.ends_with('\n'),
            "{first}"
        );
    }

    #[test]
    fn reading_stops_at_a_torn_or_garbled_entry() {
        let good = line(Entry {
            seq: 1,
            outcome: Outcome::Upserted,
        });
        let next = line(Entry {
            seq: 2,
            outcome: Outcome::Upserted,
        });
        for cut in 1..next.len() {
            let mut text = good.clone();
            text.extend_from_slice(&next[..next.len() - cut]);
            let mut read = Vec::new();
            let end = read_entries(&text[..], 0, |e| read.push(e.seq)).expect("read");
            assert_eq!((read.as_slice(), end), (&[1][..], good.len() as u64));
        }
        let mut garbled = next.clone();
        garbled[2] = b'7';
        let mut zeros = vec![0u8; 40];
        zeros.push(b'\n');
        for tail in [garbled, zeros] {
            let text = [good.clone(), tail, good.clone()].concat();
            let mut read = Vec::new();
            let end = read_entries(&text[..], 0, |e| read.push(e.seq)).expect("read");
            assert_eq!((read.as_slice(), end), (&[1][..], good.len() as u64));
        }
    }
}
