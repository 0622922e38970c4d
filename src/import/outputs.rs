//! Where a run writes, checked before anything is written: never over the
//! input, the mapping or each other, never through a symbolic link, and
//! never over a file that is not a dead-letter file of an earlier run.

use std::path::{Path, PathBuf};

use crate::cli::ImportArgs;
use crate::failure::Failure;

/// The files a run writes.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub dead_letter: PathBuf,
    pub emit_requests: Option<PathBuf>,
}

/// Decides and checks the output paths of an import.
pub fn plan(args: &ImportArgs) -> Result<Outputs, Failure> {
    let dead_letter = match &args.dead_letter {
        Some(path) => path.clone(),
        None => default_dead_letter(&args.input, args.dry_run),
    };
    let mut taken = vec![
        (args.input.as_path(), "the input"),
        (args.mapping.as_path(), "the mapping"),
    ];
    refuse_taken(&dead_letter, "--dead-letter", &taken)?;
    refuse_foreign(&dead_letter, "--dead-letter", DEAD_LETTER_MARK)?;
    if let Some(emit) = &args.emit_requests {
        taken.push((dead_letter.as_path(), "the dead-letter file"));
        refuse_taken(emit, "--emit-requests", &taken)?;
        refuse_foreign(emit, "--emit-requests", EMITTED_MARK)?;
    }
    Ok(Outputs {
        dead_letter,
        emit_requests: args.emit_requests.clone(),
    })
}

/// Checks the files of a nightly sync: none lands on the input, the
/// mapping, the dead-letter file, the emitted requests or another of them;
/// the ledger and the report replace only a file this tool wrote. (The
/// state file is checked by its store, which refuses anything not a store.)
pub fn check_sync(args: &ImportArgs, dead_letter: &Path) -> Result<(), Failure> {
    let mut taken = vec![
        (args.input.as_path(), "the input"),
        (args.mapping.as_path(), "the mapping"),
        (dead_letter, "the dead-letter file"),
    ];
    if let Some(emit) = &args.emit_requests {
        taken.push((emit.as_path(), "the --emit-requests file"));
    }
    let files = [
        (&args.sync.state, "--state", None, "the --state file"),
        (
            &args.sync.ledger,
            "--ledger",
            Some(LEDGER_MARK),
            "the --ledger file",
        ),
        (
            &args.sync.report,
            "--report",
            Some(REPORT_MARK),
            "the --report file",
        ),
    ];
    for (path, flag, mark, what) in files {
        let Some(path) = path else { continue };
        refuse_taken(path, flag, &taken)?;
        if let Some(mark) = mark {
            refuse_foreign(path, flag, mark)?;
        }
        taken.push((path.as_path(), what));
    }
    Ok(())
}

/// How a --ledger file of an earlier run starts.
const LEDGER_MARK: &[u8] = b"{\"line\":";

/// How a --report file of an earlier run starts.
const REPORT_MARK: &[u8] = b"{\n  \"report\"";

/// `<input stem>.dead-letter.ndjson` beside the input; a dry run's is
/// `<input stem>.dry-run.dead-letter.ndjson`, so that checking a file never
/// replaces the rows an earlier live run could not deliver.
fn default_dead_letter(input: &Path, dry_run: bool) -> PathBuf {
    let stem = input.file_stem().unwrap_or_default().to_string_lossy();
    let run = if dry_run { ".dry-run" } else { "" };
    input.with_file_name(format!("{stem}{run}.dead-letter.ndjson"))
}

fn refuse_taken(path: &Path, flag: &str, taken: &[(&Path, &str)]) -> Result<(), Failure> {
    match taken.iter().find(|(other, _)| same_file(path, other)) {
        Some((_, what)) => Err(Failure::before_sending(format!(
            "{flag} {} is {what}; refusing to overwrite it",
            path.display()
        ))
        .with_hint(format!("pass another {flag} FILE"))),
        None => Ok(()),
    }
}

/// How a dead-letter file of an earlier run starts.
const DEAD_LETTER_MARK: &[u8] = b"{\"dead_letter\"";

/// How an --emit-requests file of an earlier run starts.
const EMITTED_MARK: &[u8] = b"{\"primary_key\"";

/// Refuses a link, and an existing non-empty regular file that does not
/// start with `mark` (so this tool did not write it): overwriting it would
/// destroy someone's data.
fn refuse_foreign(path: &Path, flag: &str, mark: &[u8]) -> Result<(), Failure> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let refuse = |why: &str| {
        Err(Failure::before_sending(format!(
            "{flag} {} {why}; refusing to overwrite it",
            path.display()
        ))
        .with_hint(format!(
            "pass another {flag} FILE, or remove that file first"
        )))
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link");
    }
    if meta.is_file() && meta.len() > 0 && !starts_with(path, mark) {
        return refuse("exists and was not written by laudspeaker-import");
    }
    Ok(())
}

fn starts_with(path: &Path, mark: &[u8]) -> bool {
    use std::io::Read;
    let mut head = vec![0u8; mark.len()];
    let read = std::fs::File::open(path).and_then(|mut file| file.read_exact(&mut head));
    read.is_ok() && head == mark
}

/// Whether two paths name one file: the same text, the same place once
/// `.`, `..` and links are resolved (also for a file not yet created), or
/// the same inode (hard links).
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    if let (Some(a), Some(b)) = (resolved(a), resolved(b)) {
        if a == b {
            return true;
        }
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            a.dev() == b.dev() && a.ino() == b.ino()
        }
        _ => false,
    }
}

/// The absolute, link-free place of `path`; for a file that does not exist
/// yet, its folder's place joined with its name.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(full) = path.canonicalize() {
        return Some(full);
    }
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    Some(folder.canonicalize().ok()?.join(path.file_name()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_never_land_on_the_input_or_mapping() {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("in.csv");
        let mapping = dir.path().join("m.toml");
        std::fs::write(&input, "email\n").expect("write");
        std::fs::write(&mapping, "").expect("write");
        let alias = dir.path().join(".").join("in.csv");
        assert!(refuse_taken(&alias, "--emit-requests", &[(&input, "the input")]).is_err());
        let other = dir.path().join("out.ndjson");
        assert!(refuse_taken(&other, "--emit-requests", &[(&input, "the input")]).is_ok());
        assert!(same_file(&mapping, &dir.path().join("m.toml")));
        let later = dir.path().join("later.ndjson");
        assert!(same_file(
            &later,
            &dir.path().join(".").join("later.ndjson")
        ));
        assert!(!same_file(&later, &dir.path().join("other.ndjson")));
    }

    #[test]
    fn a_foreign_file_or_link_is_not_overwritten_but_an_earlier_output_is() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mine = dir.path().join("notes.ndjson");
        std::fs::write(&mine, "IMPORTANT\n").expect("write");
        let dead_letter = DEAD_LETTER_MARK;
        assert!(refuse_foreign(&mine, "--dead-letter", dead_letter).is_err());
        assert!(refuse_foreign(&mine, "--emit-requests", EMITTED_MARK).is_err());
        let old = dir.path().join("old.dead-letter.ndjson");
        std::fs::write(&old, "{\"dead_letter\":{}}\n").expect("write");
        assert!(refuse_foreign(&old, "--dead-letter", dead_letter).is_ok());
        let emitted = dir.path().join("bodies.ndjson");
        std::fs::write(&emitted, "{\"primary_key\":\"a\"}\n").expect("write");
        assert!(refuse_foreign(&emitted, "--emit-requests", EMITTED_MARK).is_ok());
        let link = dir.path().join("link.ndjson");
        std::os::unix::fs::symlink(&old, &link).expect("symlink");
        assert!(refuse_foreign(&link, "--dead-letter", dead_letter).is_err());
        let new = dir.path().join("new.ndjson");
        assert!(refuse_foreign(&new, "--dead-letter", dead_letter).is_ok());
    }
}
