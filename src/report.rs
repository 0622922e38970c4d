//! The run report (`--report FILE`): one JSON document written at the end
//! of every import that got as far as reading its input, whether it
//! completed, was stopped by the error budget or a fatal answer, or was
//! interrupted. It is what a scheduler reads instead of parsing the
//! summary.
//!
//! It is written to a temporary file beside the target, synced, then
//! renamed over it, so a reader sees the previous report or the new one,
//! never half of one. Owner-only: it names files and counts, and the
//! stop message may quote a server's answer.
//!
//! Fields (all always present, `null` where not applicable):
//!
//! | field | meaning |
//! | --- | --- |
//! | `report` | always `"laudspeaker-import"`, then `version` (1) and `tool` |
//! | `inputs`, `mapping` | the files imported and the mapping used |
//! | `dry_run`, `full` | how the run was asked to run |
//! | `started`, `ended` | RFC 3339, UTC; `duration_s` in seconds |
//! | `counts` | `read` = `upserted` + `skipped_unchanged` + `skipped_blank` + `dead_lettered` + `not_sent` + `already_done` (finished by an earlier, resumed run); `dead_lettered_by_kind`; `sent_with_dropped_properties` |
//! | `retries` | `total` and by cause: `throttled`, `server_error`, `timeout`, `connection` |
//! | `answers_429` | 429 answers received, retried or not |
//! | `rows_per_second` | records read per second of the run |
//! | `exit` | `code` and `meaning`; `stopped_because` says why a run stopped early |
//! | `files` | `dead_letters` and `checkpoints` left at the end (lists), `state`, `ledger` paths |

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::failure::code;
use crate::stats::Stats;
use crate::summary::Summary;

/// Report format version; bumped when a field changes meaning.
pub const VERSION: u32 = 1;

/// Everything the report says, gathered at the end of the run.
#[derive(Debug, Clone)]
pub struct Report {
    pub inputs: Vec<PathBuf>,
    pub mapping: PathBuf,
    pub dry_run: bool,
    pub full: bool,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub elapsed: Duration,
    pub summary: Summary,
    pub retries: Retries,
    pub answers_429: u64,
    /// Dead letters by kind, in the order each kind first appeared.
    pub dead_lettered_by_kind: Vec<(String, u64)>,
    pub exit_code: u8,
    /// The message of the failure that stopped the run, if one did.
    pub stopped_because: Option<String>,
    /// The dead-letter files left at the end (one per input at most).
    pub dead_letters: Vec<PathBuf>,
    /// The checkpoints kept at the end: a rerun continues from them.
    pub checkpoints: Vec<PathBuf>,
    pub state: Option<PathBuf>,
    pub ledger: Option<PathBuf>,
}

/// Retries by cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retries {
    pub throttled: u64,
    pub server_error: u64,
    pub timeout: u64,
    pub connection: u64,
}

impl Retries {
    pub fn from_stats(stats: &Stats) -> Self {
        Retries {
            throttled: Stats::get(&stats.retries_throttled),
            server_error: Stats::get(&stats.retries_server_error),
            timeout: Stats::get(&stats.retries_timeout),
            connection: Stats::get(&stats.retries_connection),
        }
    }

    fn total(self) -> u64 {
        self.throttled + self.server_error + self.timeout + self.connection
    }
}

/// What an exit code means, in the words of the README's table.
pub fn exit_meaning(exit: u8) -> &'static str {
    match exit {
        code::OK => "every record upserted, skipped as unchanged or blank (or valid, in a dry run)",
        code::PARTIAL => "the input was read to the end and some records were dead-lettered",
        code::BEFORE_SENDING => "stopped before sending anything",
        code::DURING_RUN => "stopped during the run",
        code::INTERRUPTED => "interrupted by a signal",
        code::OUT_OF_TIME => "stopped at the --max-runtime deadline; a rerun continues",
        _ => "unknown",
    }
}

impl Report {
    /// The report as one JSON object, fields in a fixed order.
    pub fn to_json(&self) -> Value {
        let counts = &self.summary;
        let by_kind: serde_json::Map<String, Value> = self
            .dead_lettered_by_kind
            .iter()
            .map(|(kind, count)| (kind.clone(), (*count).into()))
            .collect();
        let path = |path: &Option<PathBuf>| path.as_ref().map(|p| p.display().to_string());
        json!({
            "report": "laudspeaker-import",
            "version": VERSION,
            "tool": concat!("laudspeaker-import ", env!("CARGO_PKG_VERSION")),
            "inputs": shown(&self.inputs),
            "mapping": self.mapping.display().to_string(),
            "dry_run": self.dry_run,
            "full": self.full,
            "started": rfc3339(self.started),
            "ended": rfc3339(self.ended),
            "duration_s": round3(self.elapsed.as_secs_f64()),
            "counts": {
                "read": counts.read,
                "upserted": counts.upserted,
                "skipped_unchanged": counts.skipped_unchanged,
                "skipped_blank": counts.skipped_blank,
                "dead_lettered": counts.dead_lettered,
                "dead_lettered_by_kind": by_kind,
                "not_sent": counts.not_sent,
                "already_done": counts.already_done,
                "sent_with_dropped_properties": counts.rows_with_dropped,
            },
            "retries": {
                "total": self.retries.total(),
                "throttled": self.retries.throttled,
                "server_error": self.retries.server_error,
                "timeout": self.retries.timeout,
                "connection": self.retries.connection,
            },
            "answers_429": self.answers_429,
            "rows_per_second": round3(counts.rows_per_second()),
            "exit": {
                "code": self.exit_code,
                "meaning": exit_meaning(self.exit_code),
            },
            "stopped_because": self.stopped_because,
            "files": {
                "dead_letters": shown(&self.dead_letters),
                "checkpoints": shown(&self.checkpoints),
                "state": path(&self.state),
                "ledger": path(&self.ledger),
            },
        })
    }

    /// Writes the report to `path` atomically (temporary file, sync,
    /// rename), owner-only.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_vec_pretty(&self.to_json())?;
        text.push(b'\n');
        let temporary = temporary_beside(path);
        let written = (|| {
            let mut file = crate::dead_letter::owner_only().open(&temporary)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }
}

/// `.<name>.<pid>.tmp` in the target's folder: the rename stays on one
/// file system, and two runs never share a temporary file.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn shown(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let started = DateTime::parse_from_rfc3339("2026-12-04T02:00:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        Report {
            inputs: vec![PathBuf::from("in.csv")],
            mapping: PathBuf::from("m.toml"),
            dry_run: false,
            full: false,
            started,
            ended: started + chrono::Duration::milliseconds(2500),
            elapsed: Duration::from_millis(2500),
            summary: Summary {
                read: 10,
                upserted: 5,
                dead_lettered: 2,
                skipped_blank: 1,
                skipped_unchanged: 1,
                not_sent: 1,
                already_done: 0,
                rows_with_dropped: 0,
                properties_dropped: 0,
                throttled: 2,
                retries: 3,
                elapsed: Duration::from_millis(2500),
                dry_run: false,
            },
            retries: Retries {
                throttled: 2,
                server_error: 1,
                timeout: 0,
                connection: 0,
            },
            answers_429: 2,
            dead_lettered_by_kind: vec![("value".into(), 1), ("http".into(), 1)],
            exit_code: 1,
            stopped_because: None,
            dead_letters: vec![PathBuf::from("in.dead-letter.ndjson")],
            checkpoints: Vec::new(),
            state: Some(PathBuf::from("state.redb")),
            ledger: None,
        }
    }

    #[test]
    fn the_report_holds_every_field_in_a_fixed_order() {
        let value = sample().to_json();
        let keys: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(|k| &**k)
            .collect();
        assert_eq!(
            keys,
            [
                "report",
                "version",
                "tool",
                "inputs",
                "mapping",
                "dry_run",
                "full",
                "started",
                "ended",
                "duration_s",
                "counts",
                "retries",
                "answers_429",
                "rows_per_second",
                "exit",
                "stopped_because",
                "files"
            ]
        );
        assert_eq!(value["started"], "2026-12-04T02:00:00.000Z");
        assert_eq!(value["ended"], "2026-12-04T02:00:02.500Z");
        assert_eq!(value["duration_s"], 2.5);
        assert_eq!(value["rows_per_second"], 4.0);
        assert_eq!(
            value["counts"],
            json!({"read": 10, "upserted": 5, "skipped_unchanged": 1, "skipped_blank": 1,
                   "dead_lettered": 2, "dead_lettered_by_kind": {"value": 1, "http": 1},
                   "not_sent": 1, "already_done": 0, "sent_with_dropped_properties": 0})
        );
        assert_eq!(value["retries"]["total"], 3);
        assert_eq!(value["exit"]["code"], 1);
        assert_eq!(value["files"]["checkpoints"], json!([]));
        assert_eq!(
            value["files"]["dead_letters"],
            json!(["in.dead-letter.ndjson"])
        );
        assert_eq!(value["files"]["state"], "state.redb");
    }

    #[test]
    fn the_report_replaces_the_old_one_whole_and_owner_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old").expect("write");
        sample().write(&path).expect("written");
        let text = std::fs::read_to_string(&path).expect("read");
        let value: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(value["report"], "laudspeaker-import");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert_eq!(left.len(), 1, "no temporary file left");
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
}
