//! Where a run's checkpoint lives, how a run starts from it (afresh, or
//! after the records an interrupted run of the same command finished),
//! how it ends, and the --max-runtime deadline that stops a run to be
//! resumed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::checkpoint::{self, Done, Header, Identity, Journal, Resumed, MARK, VERSION};
use crate::cli::{DeadLetterFormat, ImportArgs};
use crate::dead_letter::{DeadLetters, Preamble};
use crate::failure::Failure;

use super::outputs::{refuse_foreign, refuse_taken};

/// The files a run starts with, and the records it may skip.
pub struct Start {
    pub dead_letters: DeadLetters,
    pub journal: Option<Journal>,
    /// Records final in an earlier run; empty when starting afresh.
    pub done: Done,
}

/// The checkpoint path of `input` in this run of `inputs` inputs, checked;
/// `None` for a dry run, with `--no-checkpoint`, for an input that is not a
/// regular file (a pipe cannot be read again), and with CSV dead letters.
///
/// A known shortcoming: CSV dead-letter files cannot be resumed (the
/// checkpoint keeps NDJSON ones only), so `--dead-letter-format csv` runs
/// keep no checkpoint and a rerun sends every row again.
pub fn plan(
    args: &ImportArgs,
    input: &Path,
    inputs: usize,
    dead_letter: &Path,
    emit: Option<&Path>,
) -> Result<Option<PathBuf>, Failure> {
    if args.dry_run || args.no_checkpoint {
        return Ok(None);
    }
    let regular = std::fs::metadata(input).is_ok_and(|meta| meta.is_file());
    let csv = args.dead_letter_format == DeadLetterFormat::Csv;
    let path = match &args.checkpoint {
        Some(_) if !regular => {
            return Err(Failure::before_sending(format!(
                "--checkpoint needs an input that can be read again, and {} is not a \
                 regular file",
                input.display()
            )))
        }
        Some(_) if csv => {
            return Err(Failure::before_sending(
                "--checkpoint cannot resume CSV dead letters (--dead-letter-format csv)",
            ))
        }
        Some(_) if inputs > 1 => {
            return Err(Failure::before_sending(format!(
                "--checkpoint names one file, but there are {inputs} inputs"
            ))
            .with_hint(
                "leave it out: each input then keeps its own checkpoint beside its \
                        dead-letter file",
            ))
        }
        Some(path) => path.clone(),
        None if !regular => return Ok(None),
        None if csv => {
            crate::notice!(
                "note: --dead-letter-format csv keeps no checkpoint: if this run is stopped, \
                 running it again sends every row again"
            );
            return Ok(None);
        }
        None => default_path(input, dead_letter),
    };
    let mut taken = vec![
        (input, "the input"),
        (args.mapping.as_path(), "the mapping"),
        (dead_letter, "the dead-letter file"),
    ];
    taken.extend(emit.map(|emit| (emit, "the --emit-requests file")));
    let sync = [
        (&args.sync.ledger, "the --ledger file"),
        (&args.sync.report, "the --report file"),
        (&args.sync.state, "the --state file"),
    ];
    taken.extend(
        sync.iter()
            .filter_map(|(path, what)| Some((path.as_deref()?, *what))),
    );
    refuse_taken(&path, "--checkpoint", &taken)?;
    refuse_foreign(&path, "--checkpoint", MARK)?;
    Ok(Some(path))
}

/// `<input stem>.checkpoint` beside the dead-letter file (beside the input
/// when the dead-letter file is a device such as /dev/stdout).
fn default_path(input: &Path, dead_letter: &Path) -> PathBuf {
    // `<stem>.checkpoint`, with any .gz or .zst left out of the stem.
    let beside_input = super::outputs::sibling(input, "checkpoint");
    let name = beside_input.file_name().unwrap_or_default();
    let device = std::fs::metadata(dead_letter).is_ok_and(|meta| !meta.is_file());
    if device {
        input.with_file_name(name)
    } else {
        dead_letter.with_file_name(name)
    }
}

/// Opens `input`'s NDJSON dead-letter file and its checkpoint at `path`: a
/// fresh run truncates both; a run resuming the checkpoint's run keeps the
/// records it finished. A changed input or mapping is refused (exit 2)
/// unless `--restart`.
pub fn start(
    args: &ImportArgs,
    input: &Path,
    path: &Path,
    dead_letter: &Path,
    preamble: &Preamble,
) -> Result<Start, Failure> {
    let identity = Identity::of(input, &args.mapping)
        .map_err(|e| Failure::before_sending(format!("cannot read {}: {e}", input.display())))?;
    let earlier = if args.restart {
        None
    } else {
        earlier_run(path, &identity, input, &args.mapping)?
    };
    let (resumed, dead_letters, kept) = match earlier {
        Some((header, header_len)) => resume(path, &header, header_len, dead_letter, preamble)?,
        None => (
            Resumed::default(),
            create_dead_letters(dead_letter, preamble)?,
            Kept::default(),
        ),
    };
    let header = Header {
        version: VERSION,
        input: input.display().to_string(),
        mapping: args.mapping.display().to_string(),
        dead_letter: dead_letter.display().to_string(),
        dead_letter_preamble: checkpoint::preamble_hash_of(dead_letter),
        dead_letter_kept: kept.bytes,
        dead_letter_kept_entries: kept.entries,
        created: chrono::Utc::now().to_rfc3339(),
        tool: concat!("laudspeaker-import ", env!("CARGO_PKG_VERSION")).into(),
        identity,
    };
    let journal = Journal::create(path, &header, &resumed.done).map_err(|e| {
        Failure::before_sending(format!(
            "cannot write the checkpoint {}: {e}",
            path.display()
        ))
    })?;
    Ok(Start {
        dead_letters,
        journal: Some(journal),
        done: resumed.done,
    })
}

/// The header of the checkpoint an earlier run left, if it is for this
/// input and mapping as they are now; an error if it is for them as they
/// were before a change.
fn earlier_run(
    path: &Path,
    identity: &Identity,
    input: &Path,
    mapping: &Path,
) -> Result<Option<(Header, u64)>, Failure> {
    let restart_hint = "run the same command with --restart to start over (every record is \
                        sent again), or put back the files that run read";
    let header = checkpoint::read_header(path).map_err(|e| {
        Failure::before_sending(format!(
            "cannot read the checkpoint {}: {e}",
            path.display()
        ))
        .with_hint(restart_hint)
    })?;
    let Some((header, header_len)) = header else {
        return Ok(None);
    };
    let changes = identity.input_changes(&header.identity);
    if !changes.is_empty() {
        return Err(Failure::before_sending(format!(
            "{} changed since the interrupted run recorded in {} ({}); refusing to resume",
            input.display(),
            path.display(),
            changes.join(", ")
        ))
        .with_hint(restart_hint));
    }
    if identity.mapping_hash != header.identity.mapping_hash {
        return Err(Failure::before_sending(format!(
            "the mapping {} changed since the interrupted run recorded in {}; refusing to resume",
            mapping.display(),
            path.display()
        ))
        .with_hint(restart_hint));
    }
    Ok(Some((header, header_len)))
}

/// The part of the dead-letter file a resumed run keeps.
#[derive(Debug, Default, Clone, Copy)]
struct Kept {
    bytes: u64,
    entries: u64,
}

/// Reads what the earlier run finished and reopens its dead-letter file,
/// cut back to the entries the checkpoint accounts for.
fn resume(
    path: &Path,
    header: &Header,
    header_len: u64,
    dead_letter: &Path,
    preamble: &Preamble,
) -> Result<(Resumed, DeadLetters, Kept), Failure> {
    let unreadable = |e: std::io::Error| {
        Failure::before_sending(format!(
            "cannot read the checkpoint {}: {e}",
            path.display()
        ))
    };
    let found = checkpoint::inspect_dead_letter(dead_letter);
    if checkpoint::loses_dead_letters(header, found.as_ref()) {
        return Err(Failure::before_sending(format!(
            "the dead-letter file {} is not the one the interrupted run recorded in {} wrote \
             (it was removed, replaced or cut); resuming would lose {} rejected rows",
            dead_letter.display(),
            path.display(),
            header.dead_letter_kept_entries
        ))
        .with_hint(
            "put that file back, or run the same command with --restart to start over \
             (every record is sent again)",
        ));
    }
    let resumed = checkpoint::load(path, header, header_len, found.as_ref()).map_err(unreadable)?;
    let mut kept = Kept::default();
    let dead_letters = match (&found, resumed.dead_letter_keep) {
        (Some(found), Some(keep)) => {
            let cannot = |e: std::io::Error| {
                Failure::before_sending(format!(
                    "cannot reopen the dead-letter file {}: {e}",
                    dead_letter.display()
                ))
            };
            let entries =
                checkpoint::count_lines(dead_letter, found.preamble_end, keep).map_err(cannot)?;
            kept = Kept {
                bytes: keep,
                entries,
            };
            DeadLetters::reopen(dead_letter, keep, entries).map_err(cannot)?
        }
        _ => create_dead_letters(dead_letter, preamble)?,
    };
    crate::say!(
        "resuming from {}: {} records finished in an earlier run are skipped; those in \
         flight when it stopped are sent again",
        path.display(),
        resumed.done.count()
    );
    Ok((resumed, dead_letters, kept))
}

fn create_dead_letters(path: &Path, preamble: &Preamble) -> Result<DeadLetters, Failure> {
    DeadLetters::create(path, preamble).map_err(|e| {
        Failure::before_sending(format!(
            "cannot create the dead-letter file {}: {e}",
            path.display()
        ))
    })
}

/// At the --max-runtime deadline, stops the run like a first signal.
pub async fn deadline(limit: Duration, cancel: CancellationToken, out_of_time: Arc<AtomicBool>) {
    tokio::time::sleep(limit).await;
    if cancel.is_cancelled() {
        return;
    }
    out_of_time.store(true, Ordering::Relaxed);
    cancel.cancel();
    crate::say!(
        "--max-runtime {} reached: finishing requests in flight",
        humantime::format_duration(limit)
    );
}

/// Removes the checkpoint of a complete run (a rerun starts afresh);
/// keeps and syncs that of a stopped one, and says how to continue.
pub fn close_checkpoint(checkpoint: Journal, complete: bool) {
    let path = checkpoint.path().to_path_buf();
    match checkpoint.finish(complete) {
        Ok(()) if complete => {}
        Ok(()) => crate::say!(
            "the checkpoint {} records what is done: run the same command again to continue",
            path.display()
        ),
        Err(e) => crate::say!(
            "warning: cannot close the checkpoint {}: {e}",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_deadline_stops_the_run_at_its_time_and_not_after_a_signal() {
        let hour = Duration::from_secs(3600);
        let cancel = CancellationToken::new();
        let out_of_time = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(deadline(hour, cancel.clone(), out_of_time.clone()));
        tokio::time::sleep(hour - Duration::from_millis(1)).await;
        assert!(!cancel.is_cancelled());
        task.await.expect("the deadline task");
        assert!(cancel.is_cancelled() && out_of_time.load(Ordering::Relaxed));

        let signalled = CancellationToken::new();
        signalled.cancel();
        let out_of_time = Arc::new(AtomicBool::new(false));
        deadline(hour, signalled, out_of_time.clone()).await;
        assert!(!out_of_time.load(Ordering::Relaxed), "a signal came first");
    }
}
