//! `laudspeaker-import check FILE --mapping M`: a profile of a file as the
//! mapping reads it, with nothing sent.
//!
//! The file is opened and read by the import's own code
//! ([`crate::import::source`]): every record goes through the same body
//! builder as in `import --dry-run`, so the rows this says would be
//! dead-lettered are exactly the rows a dry run dead-letters. Beside that
//! verdict, each mapped column's values are converted one by one
//! ([`columns`]) to count empty values and conversion failures per column
//! (a row refused for its first bad value may hold more), and the keys of
//! the rows that would be sent are counted for duplicates ([`duplicates`]).

mod columns;
mod duplicates;
mod report;

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use crate::cli::CheckArgs;
use crate::convert::server_trim;
use crate::failure::{code, Failure};
use crate::import::source::{self, Item};
use crate::mapping::Mapping;

pub use report::{ColumnReport, Duplicates, Example, Report};

/// Runs `check`: 0 when no row would be dead-lettered, 1 when some would.
pub fn run(args: &CheckArgs) -> Result<u8, Failure> {
    let report = profile(args)?;
    let text = match args.json {
        true => report.to_json() + "\n",
        false => report.table(),
    };
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::before_sending(format!("writing the profile: {e}")))?;
    Ok(match report.dead_lettered {
        0 => code::OK,
        _ => code::PARTIAL,
    })
}

/// Reads the whole input as `import --dry-run` would, and profiles it.
pub fn profile(args: &CheckArgs) -> Result<Report, Failure> {
    let mapping = Mapping::load(&args.mapping).map_err(|errors| {
        Failure::before_sending(format!("the mapping file has problems:\n{errors}"))
    })?;
    let mut input = source::open(&args.input, &mapping, None, args.max_body_bytes)?;
    let mut columns = columns::Columns::new(&mapping, &input)?;
    let mut keys = duplicates::Counter::new(duplicates::TRACKED_KEYS);
    let mut counts = Counts::default();
    let mut visit = |item: Item<'_>| {
        counts.rows_read += 1;
        match item {
            Item::Blank => counts.blank_lines += 1,
            Item::Built { line, key, raw, .. } => {
                counts.requests += 1;
                keys.add(server_trim(key));
                columns.observe(line, raw);
            }
            Item::Rejected {
                line,
                raw,
                rejection,
                ..
            } => {
                counts.dead_lettered += 1;
                *counts.by_kind.entry(rejection.kind.as_str()).or_default() += 1;
                columns.observe(line, raw);
            }
        }
        ControlFlow::Continue(())
    };
    input
        .read_all(&mut visit, &mut |_| {})
        .map_err(|e| Failure::before_sending(format!("reading {}: {e}", args.input.display())))?;
    Ok(Report {
        input: args.input.display().to_string(),
        mapping: args.mapping.display().to_string(),
        rows_read: counts.rows_read,
        blank_lines: counts.blank_lines,
        requests: counts.requests,
        dead_lettered: counts.dead_lettered,
        dead_lettered_by_kind: counts.by_kind,
        rows_not_profiled: columns.not_profiled(),
        columns: columns.finish(),
        duplicate_keys: keys.finish(args.top),
    })
}

/// The verdict counts, as the import's summary would give them.
#[derive(Default)]
struct Counts {
    rows_read: u64,
    blank_lines: u64,
    requests: u64,
    dead_lettered: u64,
    by_kind: BTreeMap<&'static str, u64>,
}
