//! What a checkpoint belongs to: the input file as it was (size,
//! modification time, a hash of its first block) and the mapping file's
//! hash. A resumed run must read the same records in the same order, so any
//! change to either is refused.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// Bytes at the start of the input that are hashed.
pub const HEAD_BYTES: usize = 64 * 1024;

/// The input and mapping a checkpoint was written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub input_size: u64,
    /// Modification time, nanoseconds since 1970.
    pub input_modified_ns: i64,
    /// FNV-1a hash of the first [`HEAD_BYTES`], in hex.
    pub input_head: String,
    /// FNV-1a hash of the whole mapping file, in hex.
    pub mapping_hash: String,
}

impl Identity {
    /// The identity of `input` and `mapping` as they are now.
    pub fn of(input: &Path, mapping: &Path) -> io::Result<Self> {
        let mut file = File::open(input)?;
        let meta = file.metadata()?;
        let modified = meta.modified()?;
        let since = match modified.duration_since(UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
            Err(before) => -i128::try_from(before.duration().as_nanos()).unwrap_or(i128::MAX),
        };
        let mut head = Vec::with_capacity(HEAD_BYTES);
        file.by_ref()
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut head)?;
        Ok(Identity {
            input_size: meta.len(),
            input_modified_ns: i64::try_from(since).unwrap_or(i64::MAX),
            input_head: hex(fnv1a(&head)),
            mapping_hash: hex(fnv1a(&std::fs::read(mapping)?)),
        })
    }

    /// What differs about the input from `then`, for a person; empty when
    /// nothing does.
    pub fn input_changes(&self, then: &Identity) -> Vec<String> {
        let mut changes = Vec::new();
        if self.input_size != then.input_size {
            changes.push(format!(
                "size {} -> {} bytes",
                then.input_size, self.input_size
            ));
        }
        if self.input_modified_ns != then.input_modified_ns {
            changes.push("modification time differs".to_string());
        }
        if self.input_head != then.input_head {
            changes.push(format!("first {} KiB differ", HEAD_BYTES / 1024));
        }
        changes
    }
}

/// FNV-1a, 64 bits: a fast hash for spotting changes (not for adversaries).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

pub fn hex(hash: u64) -> String {
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_its_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn a_changed_input_is_told_apart_by_size_time_or_head() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (input, mapping) = (dir.path().join("in.csv"), dir.path().join("m.toml"));
        std::fs::write(&input, "email\na@x.test\n").expect("write");
        std::fs::write(&mapping, "[primary_key]\n").expect("write");
        let then = Identity::of(&input, &mapping).expect("identity");
        assert!(then.input_changes(&then).is_empty());
        let mut now = then.clone();
        now.input_size += 4;
        now.input_head = hex(1);
        assert_eq!(
            now.input_changes(&then),
            ["size 15 -> 19 bytes", "first 64 KiB differ"]
        );
    }
}
