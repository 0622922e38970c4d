//! Where a run writes, checked before anything is written: never over the
//! input, the mapping or each other, never through a symbolic link, and
//! never over a file that is not a dead-letter file of an earlier run.

use std::path::{Path, PathBuf};

use super::source::is_stdin;
use crate::cli::{DeadLetterFormat, ImportArgs};
use crate::failure::Failure;
use crate::input::compress::without_extension;

/// The files a run writes.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// One dead-letter file per input, in the order of the inputs.
    pub dead_letters: Vec<PathBuf>,
    /// One warnings file per input, beside its dead-letter file; written
    /// only when the mapping lets a property be dropped.
    pub warnings: Vec<PathBuf>,
    pub emit_requests: Option<PathBuf>,
}

/// Decides and checks the output paths of an import of `inputs`.
/// `warnings`: whether the warnings files will be written.
pub fn plan(args: &ImportArgs, inputs: &[PathBuf], warnings: bool) -> Result<Outputs, Failure> {
    let dead_letters = dead_letter_paths(args, inputs)?;
    let run = if args.dry_run { "dry-run." } else { "" };
    let warning_paths: Vec<PathBuf> = inputs
        .iter()
        .zip(&dead_letters)
        .map(|(input, dead_letter)| {
            let named = sibling(input, &format!("{run}warnings.ndjson"));
            dead_letter.with_file_name(named.file_name().unwrap_or_default())
        })
        .collect();
    let mut taken: Vec<(&Path, &str)> = inputs
        .iter()
        .filter(|input| !is_stdin(input))
        .map(|input| (input.as_path(), "an input"))
        .collect();
    taken.push((args.mapping.as_path(), "the mapping"));
    let is_ours: fn(&Path) -> bool = match args.dead_letter_format {
        DeadLetterFormat::Ndjson => |path| starts_with(path, DEAD_LETTER_MARK),
        DeadLetterFormat::Csv => is_csv_dead_letter,
    };
    for dead_letter in &dead_letters {
        refuse_taken(dead_letter, "--dead-letter", &taken)?;
        refuse_unless(dead_letter, "--dead-letter", is_ours)?;
        taken.push((
            dead_letter.as_path(),
            "the dead-letter file of another input",
        ));
    }
    for path in warning_paths.iter().filter(|_| warnings) {
        refuse_taken(path, "the warnings file", &taken)?;
        refuse_foreign(path, "the warnings file", super::warnings::MARK)?;
        taken.push((path.as_path(), "the warnings file of another input"));
    }
    if let Some(emit) = &args.emit_requests {
        refuse_taken(emit, "--emit-requests", &taken)?;
        refuse_foreign(emit, "--emit-requests", EMITTED_MARK)?;
    }
    Ok(Outputs {
        dead_letters,
        warnings: warning_paths,
        emit_requests: args.emit_requests.clone(),
    })
}

/// Each input's dead-letter file: `--dead-letter` for a single input;
/// with several, `--dead-letter` must be a directory, which then receives
/// each input's default name (a directory works for one input too).
fn dead_letter_paths(args: &ImportArgs, inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let format = args.dead_letter_format;
    let named = |input: &PathBuf| default_dead_letter(input, args.dry_run, format);
    match &args.dead_letter {
        Some(dir) if dir.is_dir() => Ok(inputs
            .iter()
            .map(|input| dir.join(named(input).file_name().unwrap_or_default()))
            .collect()),
        Some(file) if inputs.len() == 1 => Ok(vec![file.clone()]),
        Some(file) => Err(Failure::before_sending(format!(
            "--dead-letter {} names one file, but there are {} inputs",
            file.display(),
            inputs.len()
        ))
        .with_hint("pass an existing directory: each input's dead letters go there by name")),
        None => Ok(inputs.iter().map(named).collect()),
    }
}

/// Checks the files of a nightly sync: none lands on the input, the
/// mapping, the dead-letter file, the emitted requests or another of them;
/// the ledger and the report replace only a file this tool wrote. (The
/// state file is checked by its store, which refuses anything not a store.)
pub fn check_sync(
    args: &ImportArgs,
    inputs: &[PathBuf],
    dead_letters: &[PathBuf],
) -> Result<(), Failure> {
    let mut taken = vec![(args.mapping.as_path(), "the mapping")];
    taken.extend(inputs.iter().map(|input| (input.as_path(), "an input")));
    taken.extend(
        dead_letters
            .iter()
            .map(|file| (file.as_path(), "a dead-letter file")),
    );
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

/// `<input stem>.dead-letter.ndjson` (or `.csv`) beside the input (under
/// any `.gz` or `.zst`); `stdin.dead-letter.ndjson` in the current
/// directory for `-`. A dry run's is `<stem>.dry-run.dead-letter.ndjson`,
/// so that checking a file never replaces the rows an earlier live run
/// could not deliver.
pub fn default_dead_letter(input: &Path, dry_run: bool, format: DeadLetterFormat) -> PathBuf {
    let run = if dry_run { "dry-run." } else { "" };
    let extension = match format {
        DeadLetterFormat::Ndjson => "ndjson",
        DeadLetterFormat::Csv => "csv",
    };
    sibling(input, &format!("{run}dead-letter.{extension}"))
}

/// `<input stem>.<suffix>` beside the input, or in the current directory
/// for standard input.
pub fn sibling(input: &Path, suffix: &str) -> PathBuf {
    if is_stdin(input) {
        return PathBuf::from(format!("stdin.{suffix}"));
    }
    let plain = without_extension(input);
    let stem = plain.file_stem().unwrap_or_default().to_string_lossy();
    input.with_file_name(format!("{stem}.{suffix}"))
}

pub(super) fn refuse_taken(
    path: &Path,
    flag: &str,
    taken: &[(&Path, &str)],
) -> Result<(), Failure> {
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
pub(super) fn refuse_foreign(path: &Path, flag: &str, mark: &[u8]) -> Result<(), Failure> {
    refuse_unless(path, flag, |path| starts_with(path, mark))
}

/// Refuses a link, and an existing non-empty regular file that `is_ours`
/// does not recognise.
fn refuse_unless(path: &Path, flag: &str, is_ours: impl Fn(&Path) -> bool) -> Result<(), Failure> {
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
    if meta.is_file() && meta.len() > 0 && !is_ours(path) {
        return refuse("exists and was not written by laudspeaker-import");
    }
    Ok(())
}

/// Whether the file's first line (in UTF-8, or UTF-16 by its mark) ends
/// with the two names a CSV dead-letter file adds to the header.
fn is_csv_dead_letter(path: &Path) -> bool {
    use crate::dead_letter_csv::{LINE_COLUMN, REASON_COLUMN};
    use std::io::Read;
    let mut head = Vec::new();
    let read =
        std::fs::File::open(path).and_then(|file| file.take(64 * 1024).read_to_end(&mut head));
    if read.is_err() {
        return false;
    }
    let encoding = encoding_rs::Encoding::for_bom(&head).map_or(encoding_rs::UTF_8, |(e, _)| e);
    let (text, _) = encoding.decode_with_bom_removal(&head);
    let first = text.lines().next().unwrap_or_default();
    let Some(rest) = first.trim_end_matches('\r').strip_suffix(REASON_COLUMN) else {
        return false;
    };
    // One delimiter between the two names.
    let mut before = rest.chars();
    before.next_back();
    before.as_str().ends_with(LINE_COLUMN)
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
pub(super) fn same_file(a: &Path, b: &Path) -> bool {
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
