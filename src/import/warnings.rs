//! The warnings file of an input: one line per property left out of a row
//! that was sent anyway (`on_error = "drop_property"`), saying where, what
//! and why, so the values can be fixed and sent again.
//!
//! It is created only when the mapping lets some property be dropped,
//! readable by its owner only (it holds customer data), and removed at
//! the end when nothing was dropped.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::transform::Dropped;

/// How a warnings file of an earlier run starts (its first entry).
pub const MARK: &[u8] = b"{\"line\"";

/// An open warnings file.
pub struct Warnings {
    path: PathBuf,
    file: BufWriter<File>,
    entries: u64,
}

impl Warnings {
    /// Creates (or truncates) the file, owner-only, never through a link.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = crate::dead_letter::owner_only().open(path)?;
        Ok(Warnings {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
            entries: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One line per dropped property of the row on `line` (and, for a
    /// re-fed dead letter, `source_line` of the original input).
    pub fn write(
        &mut self,
        line: u64,
        source_line: Option<u64>,
        dropped: &[Dropped],
    ) -> io::Result<()> {
        for one in dropped {
            let mut entry = Map::new();
            entry.insert("line".into(), line.into());
            if let Some(source_line) = source_line {
                entry.insert("source_line".into(), source_line.into());
            }
            entry.insert("column".into(), one.column.clone().into());
            entry.insert("attribute".into(), one.attribute.clone().into());
            entry.insert("value".into(), one.value.clone().into());
            entry.insert("reason".into(), one.reason.clone().into());
            let mut text = serde_json::to_vec(&Value::Object(entry))?;
            text.push(b'\n');
            self.file.write_all(&text)?;
            self.entries += 1;
        }
        Ok(())
    }

    /// Flushes and syncs the file; removes it when it holds nothing.
    /// Returns the entries written.
    pub fn finish(self) -> io::Result<u64> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        if self.entries == 0 {
            drop(file);
            std::fs::remove_file(&self.path)?;
            return Ok(0);
        }
        file.sync_all()?;
        Ok(self.entries)
    }
}
