//! Resuming a run: the checkpoint file records every record that reached
//! its final outcome (upserted, dead-lettered, skipped blank), so that
//! running the same command again after a crash, `kill -9`, power loss or
//! Ctrl-C skips those records and sends only the rest.
//!
//! Records are numbered in reading order (blank lines included); a number
//! names the same record in every run because the input and the mapping
//! must be unchanged ([`identity`]). [`journal`] is the file format,
//! [`done`] the set of final records kept in memory while resuming.
//!
//! A dead-lettered record is journaled after its dead-letter entry is
//! written, with the dead-letter file's length at that point; resuming
//! keeps the dead-letter file up to the last entry the checkpoint accounts
//! for and cuts what follows (records the crash caught between the two
//! writes, which are done again), so no entry is lost or written twice.

mod done;
mod identity;
mod journal;

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

pub use done::Done;
pub use identity::Identity;
pub use journal::{Header, Journal, Outcome, MARK, VERSION};

/// A dead-letter file as found when resuming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterFile {
    /// Hash of its preamble line (which holds its creation time).
    pub preamble_hash: String,
    /// Where its first entry starts.
    pub preamble_end: u64,
    /// Where its last whole line ends: a torn last entry is not counted.
    pub whole: u64,
}

/// What an earlier run left: the records final, and how much of the
/// dead-letter file to keep.
#[derive(Debug, Default)]
pub struct Resumed {
    pub done: Done,
    /// Bytes of the dead-letter file that belong to records in `done`;
    /// `None` when that file is not the one the checkpoint was written
    /// with (its dead-lettered records are then done again).
    pub dead_letter_keep: Option<u64>,
}

/// Opens a file for reading without following a symbolic link.
fn open_plain(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// The header of the checkpoint at `path` and where it ends; `None` when
/// there is no checkpoint, or only a header cut short while being created
/// (nothing was recorded after it).
pub fn read_header(path: &Path) -> Result<Option<(Header, u64)>, String> {
    let file = match open_plain(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut line = Vec::new();
    BufReader::new(file)
        .read_until(b'\n', &mut line)
        .map_err(|e| e.to_string())?;
    if line.last() != Some(&b'\n') {
        return Ok(None);
    }
    let header = Header::from_line(&line)?;
    if header.version != VERSION {
        return Err(format!(
            "it is of format version {}, this tool writes version {VERSION}",
            header.version
        ));
    }
    Ok(Some((header, line.len() as u64)))
}

/// Reads the entries of the checkpoint at `path` after its header. A
/// dead-lettered record counts as final only if `dead_letter` is the file
/// the checkpoint was written with and holds its entry whole.
pub fn load(
    path: &Path,
    header: &Header,
    header_len: u64,
    dead_letter: Option<&DeadLetterFile>,
) -> io::Result<Resumed> {
    let dead_letter = dead_letter.filter(|file| is_the_same(file, header));
    let mut resumed = Resumed {
        dead_letter_keep: dead_letter.map(|file| file.preamble_end.max(header.dead_letter_kept)),
        ..Resumed::default()
    };
    let mut file = open_plain(path)?;
    file.seek(SeekFrom::Start(header_len))?;
    journal::read_entries(BufReader::new(file), header_len, |entry| {
        match entry.outcome {
            Outcome::Upserted | Outcome::Blank => resumed.done.insert(entry.seq),
            Outcome::Earlier { last } => resumed.done.insert_range(entry.seq, last),
            Outcome::DeadLettered { dead_letter_end } => match &mut resumed.dead_letter_keep {
                Some(keep) if dead_letter_end <= dead_letter.map_or(0, |file| file.whole) => {
                    *keep = (*keep).max(dead_letter_end);
                    resumed.done.insert(entry.seq);
                }
                // Its entry is not in the file: do the record again.
                _ => {}
            },
        }
    })?;
    Ok(resumed)
}

/// Whether `file` is the dead-letter file the checkpoint was written with,
/// holding at least the entries the checkpoint's `r` entries count on.
fn is_the_same(file: &DeadLetterFile, header: &Header) -> bool {
    file.preamble_hash == header.dead_letter_preamble && file.whole >= header.dead_letter_kept
}

/// Whether resuming would lose dead-letter entries of an earlier run: the
/// checkpoint counts them as done in `r` entries, and `file` (the
/// dead-letter file found) is not the one that holds them.
pub fn loses_dead_letters(header: &Header, file: Option<&DeadLetterFile>) -> bool {
    header.dead_letter_kept_entries > 0 && !file.is_some_and(|file| is_the_same(file, header))
}

/// Looks at the dead-letter file at `path`; `None` when there is none, or
/// it is not a regular file, or it does not start with a whole preamble.
pub fn inspect_dead_letter(path: &Path) -> Option<DeadLetterFile> {
    let file = open_plain(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut reader = BufReader::new(file);
    let mut preamble = Vec::new();
    reader.read_until(b'\n', &mut preamble).ok()?;
    if !preamble.starts_with(b"{\"dead_letter\"") || preamble.last() != Some(&b'\n') {
        return None;
    }
    let preamble_end = preamble.len() as u64;
    let mut whole = preamble_end;
    let mut position = preamble_end;
    loop {
        let chunk = reader.fill_buf().ok()?;
        if chunk.is_empty() {
            break;
        }
        if let Some(last) = memchr::memrchr(b'\n', chunk) {
            whole = position + last as u64 + 1;
        }
        let length = chunk.len();
        position += length as u64;
        reader.consume(length);
    }
    Some(DeadLetterFile {
        preamble_hash: preamble_hash(&preamble),
        preamble_end,
        whole,
    })
}

/// The hash the header keeps of a dead-letter file's preamble line.
pub fn preamble_hash(line: &[u8]) -> String {
    identity::hex(identity::fnv1a(line))
}

/// The hash of the preamble of the dead-letter file at `path`, or an empty
/// text when it cannot be read (not a regular file): such a file is never
/// kept by a resumed run.
pub fn preamble_hash_of(path: &Path) -> String {
    inspect_dead_letter(path).map_or_else(String::new, |file| file.preamble_hash)
}

/// Lines (entries) in the bytes `from..to` of the file at `path`.
pub fn count_lines(path: &Path, from: u64, to: u64) -> io::Result<u64> {
    let mut file = open_plain(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut reader = BufReader::new(file.take(to.saturating_sub(from)));
    let mut count = 0;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(count);
        }
        count += memchr::memchr_iter(b'\n', chunk).count() as u64;
        let length = chunk.len();
        reader.consume(length);
    }
}

#[cfg(test)]
mod tests;
