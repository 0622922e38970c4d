//! The `--state` store of changed-only syncs: for each primary key (as the
//! server sees it, trimmed), a digest of the request body last delivered
//! for it, so that a record the server already holds as it is is skipped.
//!
//! Why these choices:
//! - **redb**, not SQLite: pure Rust (no C compiler step in CI, where
//!   rusqlite's bundled SQLite is the slowest crate to build on two cores),
//!   ACID commits made durable with fsync, one writer and snapshot readers
//!   at once, which is exactly the reader-thread-plus-writer shape here.
//! - **The digest is XXH3-128 of the exact request body bytes**: the body is
//!   what the server applies, so equal bytes mean equal properties, with no
//!   second serialisation to keep in step. XXH3 hashes at memory speed; 128
//!   bits make a collision (a changed record wrongly skipped) negligible
//!   even over billions of rows. It is not a cryptographic hash: whoever
//!   could craft a collision already writes the input file.
//! - **Writes are batched** by a writer thread that commits every
//!   [`COMMIT_EVERY`] updates or [`COMMIT_AFTER`], whichever comes first
//!   (a commit per row would cost one fsync per row).
//!
//! What a crash loses: the updates of the last batch not yet committed.
//! Those are deliveries not recorded, so the next run sends those records
//! again (harmless: an upsert of the same values), and forgets not
//! recorded (see [`Filter::check`]). A crash never loses data, only the
//! knowledge that lets a record be skipped.

use std::collections::HashSet;
use std::fs::File;
use std::hash::BuildHasherDefault;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{Database, ReadOnlyTable, TableDefinition};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

/// Primary key → XXH3-128 of the body last delivered for it.
const DIGESTS: TableDefinition<&str, u128> = TableDefinition::new("delivered_digests");

/// Updates committed at most together.
pub const COMMIT_EVERY: usize = 10_000;

/// Time an update waits at most before it is committed.
pub const COMMIT_AFTER: Duration = Duration::from_millis(500);

/// Lookups between two refreshes of the reader's snapshot. An old snapshot
/// keeps the pages it sees from being reused, so holding one for a whole
/// run would let the file grow with every batch.
const SNAPSHOT_LOOKUPS: u32 = 65_536;

/// The digest of a request body.
pub fn digest(body: &[u8]) -> u128 {
    xxh3_128(body)
}

/// An open state file.
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens the state file, creating it (owner-only) when `create` is set.
    /// `Ok(None)`: the file does not exist and may not be created (a dry
    /// run), so nothing is known and nothing is skipped.
    pub fn open(path: &Path, create: bool) -> Result<Option<Self>, String> {
        let name = path.display();
        match std::fs::symlink_metadata(path) {
            Err(_) if !create => return Ok(None),
            Ok(meta) if meta.len() > 0 && !starts_with_magic(path) => {
                return Err(format!(
                    "{name} exists and is not a state file of laudspeaker-import; \
                     refusing to overwrite it"
                ))
            }
            _ => {}
        }
        let file = open_file(path, create).map_err(|e| format!("cannot open {name}: {e}"))?;
        let db = redb::Builder::new()
            .create_file(file)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => {
                    format!("{name} is in use by another run")
                }
                other => format!("{name} is not a state file of laudspeaker-import: {other}"),
            })?;
        let store = Store {
            db,
            path: path.to_path_buf(),
        };
        if create {
            store.ensure_table()?;
        }
        Ok(Some(store))
    }

    /// The table exists from the first run on, so readers can open it.
    fn ensure_table(&self) -> Result<(), String> {
        let fail = |e: &dyn std::fmt::Display| format!("writing {}: {e}", self.path.display());
        let txn = self.db.begin_write().map_err(|e| fail(&e))?;
        txn.open_table(DIGESTS).map_err(|e| fail(&e))?;
        txn.commit().map_err(|e| fail(&e))
    }

    /// The reader's side: decides which records to skip.
    pub fn filter(self: &std::sync::Arc<Self>, full: bool, updates: Option<Updates>) -> Filter {
        Filter {
            store: self.clone(),
            table: None,
            lookups: 0,
            seen: HashSet::default(),
            full,
            updates,
        }
    }

    /// Starts the writer thread; the store is written only through it.
    pub fn start_writer(self: &std::sync::Arc<Self>) -> Result<(Updates, Writer), String> {
        let (tx, rx) = mpsc::channel();
        let store = self.clone();
        let thread = std::thread::Builder::new()
            .name("state-writer".into())
            .spawn(move || write_batches(&store, &rx))
            .map_err(|e| format!("cannot start the state writer: {e}"))?;
        Ok((Updates(tx), Writer(thread)))
    }
}

/// Whether the file starts as every redb database does.
fn starts_with_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    let read = File::open(path).and_then(|mut file| file.read_exact(&mut head));
    read.is_ok() && &head == b"redb"
}

/// Read and write, created owner-only if absent, never through a link,
/// never truncated (it holds what earlier runs delivered).
fn open_file(path: &Path, create: bool) -> std::io::Result<File> {
    let mut options = crate::dead_letter::owner_only();
    options.read(true).truncate(false).create(create);
    let file = options.open(path)?;
    crate::dead_letter::restrict_to_owner(&file)?;
    Ok(file)
}

/// One change to the store.
enum Update {
    /// `key`'s body with this digest was delivered.
    Put(Box<str>, u128),
    /// What the server holds for `key` is no longer known.
    Forget(Box<str>),
}

/// Sends updates to the writer thread; cheap and never blocks.
#[derive(Clone)]
pub struct Updates(mpsc::Sender<Update>);

impl Updates {
    /// Called after a successful upsert only.
    pub fn delivered(&self, key: &str, body: &[u8]) {
        // A send fails only once the writer stopped on an error it has
        // already reported; the record is then simply not skipped next time.
        let _ = self.0.send(Update::Put(key.into(), digest(body)));
    }

    /// Called when a record is dead-lettered: it must be sent next time.
    pub fn failed(&self, key: &str) {
        let _ = self.0.send(Update::Forget(key.into()));
    }
}

/// The writer thread; joined at the end of the run.
pub struct Writer(JoinHandle<Result<u64, String>>);

impl Writer {
    /// Waits for the last commit, once every [`Updates`] is dropped.
    /// Returns the updates committed, or why the store stopped taking them.
    pub fn finish(self) -> Result<u64, String> {
        self.0
            .join()
            .unwrap_or_else(|_| Err("the state writer panicked".into()))
    }
}

/// Commits updates in batches until every sender is gone. After a failed
/// commit it stops: later updates are dropped, which only means those
/// records are sent again next time.
fn write_batches(store: &Store, rx: &mpsc::Receiver<Update>) -> Result<u64, String> {
    let fail = |e: &dyn std::fmt::Display| format!("writing {}: {e}", store.path.display());
    let mut committed = 0;
    while let Ok(first) = rx.recv() {
        let txn = store.db.begin_write().map_err(|e| fail(&e))?;
        let mut count = 0;
        {
            let mut table = txn.open_table(DIGESTS).map_err(|e| fail(&e))?;
            let deadline = Instant::now() + COMMIT_AFTER;
            let mut next = Some(first);
            while let Some(update) = next {
                match update {
                    Update::Put(key, digest) => table.insert(&*key, digest).map(drop),
                    Update::Forget(key) => table.remove(&*key).map(drop),
                }
                .map_err(|e| fail(&e))?;
                count += 1;
                let left = deadline.saturating_duration_since(Instant::now());
                next = match count < COMMIT_EVERY {
                    true => rx.recv_timeout(left).ok(),
                    false => None,
                };
            }
        }
        txn.commit().map_err(|e| fail(&e))?;
        committed += count as u64;
    }
    Ok(committed)
}

/// What to do with a built record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The server already holds exactly this body for this key.
    Unchanged,
    Send,
}

/// Keys seen in this run, by a 64-bit hash of the key: 8 bytes a key
/// rather than a copy of it. Two keys sharing a hash only make the second
/// one be sent, which is always safe.
type Seen = HashSet<u64, BuildHasherDefault<IdentityHasher>>;

/// The reader thread's view of the store.
pub struct Filter {
    store: std::sync::Arc<Store>,
    table: Option<ReadOnlyTable<&'static str, u128>>,
    lookups: u32,
    seen: Seen,
    /// `--full`: send everything, record it all the same.
    full: bool,
    /// `None` in a dry run: the store is read, never written.
    updates: Option<Updates>,
}

impl Filter {
    /// Whether the record for `key` with request body `body` must be sent.
    ///
    /// Only a key's first record in this run can be skipped: a later one
    /// follows a record of the same key that was sent, or skipped as equal
    /// to the stored digest, and comparing it with the stored digest would
    /// be wrong (key k stored as A; rows k=B then k=A: the second must be
    /// sent, or the server keeps B). Since the dispatcher delivers a key's
    /// records in file order, the digest stored last is that of the last
    /// row delivered, which is what the server holds.
    ///
    /// When a key with a stored digest is sent, its digest is forgotten
    /// first: if the request is then abandoned in flight (the server may or
    /// may not apply it), the next run must send the record again whatever
    /// the file holds by then.
    ///
    /// Known shortcoming: for a key with two rows in one run, when the
    /// first is delivered and the second abandoned in flight at a stop, the
    /// store keeps the first one's digest though the server may hold the
    /// second; a later run whose file reverts to exactly the first row's
    /// values would skip it. Tracking abandoned jobs in delivery would fix
    /// this.
    pub fn check(&mut self, key: &str, body: &[u8]) -> Result<Verdict, String> {
        if !self.seen.insert(xxh3_64(key.as_bytes())) {
            return Ok(Verdict::Send);
        }
        let stored = self.stored(key)?;
        if !self.full && stored == Some(digest(body)) {
            return Ok(Verdict::Unchanged);
        }
        if let (Some(_), Some(updates)) = (stored, &self.updates) {
            let _ = updates.0.send(Update::Forget(key.into()));
        }
        Ok(Verdict::Send)
    }

    /// The digest stored for `key` in a recent snapshot. Refreshing the
    /// snapshot is safe: the writer only changes keys already seen.
    fn stored(&mut self, key: &str) -> Result<Option<u128>, String> {
        let fail =
            |e: &dyn std::fmt::Display| format!("reading {}: {e}", self.store.path.display());
        self.lookups += 1;
        if self.lookups >= SNAPSHOT_LOOKUPS {
            self.lookups = 0;
            self.table = None;
        }
        if self.table.is_none() {
            let txn = self.store.db.begin_read().map_err(|e| fail(&e))?;
            self.table = match txn.open_table(DIGESTS) {
                Ok(table) => Some(table),
                // A dry run on a store no live run has written yet.
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(fail(&e)),
            };
        }
        let table = self.table.as_ref().expect("opened just above");
        let value = table.get(key).map_err(|e| fail(&e))?;
        Ok(value.map(|guard| guard.value()))
    }
}

/// The keys of [`Seen`] are already hashes.
#[derive(Default)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn open(path: &Path) -> Arc<Store> {
        Arc::new(Store::open(path, true).expect("opens").expect("created"))
    }

    #[test]
    fn a_delivered_body_is_skipped_next_time_and_a_changed_one_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.redb");
        {
            let store = open(&path);
            let (updates, writer) = store.start_writer().expect("writer");
            let mut filter = store.filter(false, Some(updates.clone()));
            assert_eq!(filter.check("a", b"{1}"), Ok(Verdict::Send));
            updates.delivered("a", b"{1}");
            updates.delivered("b", b"{2}");
            drop((updates, filter));
            assert_eq!(writer.finish(), Ok(2));
        }
        let store = open(&path);
        let mut filter = store.filter(false, None);
        assert_eq!(filter.check("a", b"{1}"), Ok(Verdict::Unchanged));
        assert_eq!(filter.check("b", b"{changed}"), Ok(Verdict::Send));
        assert_eq!(filter.check("c", b"{3}"), Ok(Verdict::Send));
        // A key's second record in a run is always sent.
        assert_eq!(filter.check("a", b"{1}"), Ok(Verdict::Send));
        let mut full = store.filter(true, None);
        assert_eq!(full.check("a", b"{1}"), Ok(Verdict::Send));
    }

    #[test]
    fn a_failed_record_is_forgotten_and_the_file_is_owner_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.redb");
        let store = open(&path);
        let (updates, writer) = store.start_writer().expect("writer");
        updates.delivered("a", b"{1}");
        updates.failed("a");
        drop(updates);
        assert_eq!(writer.finish(), Ok(2));
        let mut filter = store.filter(false, None);
        assert_eq!(filter.check("a", b"{1}"), Ok(Verdict::Send));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_dry_run_neither_creates_the_file_nor_refuses_a_missing_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("none.redb");
        assert!(matches!(Store::open(&path, false), Ok(None)));
        assert!(!path.exists());
    }

    #[test]
    fn a_file_that_is_not_a_store_is_refused_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "my notes, not a database\n").expect("write");
        let error = Store::open(&path, true).err().expect("refused");
        assert!(error.contains("is not a state file"), "{error}");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "my notes, not a database\n"
        );
    }
}
