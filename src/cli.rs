//! The command line: what a person types, parsed and checked.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::emulator::EmulatorArgs;
use crate::sync::budget::MaxErrors;

/// Move customer records from CSV and NDJSON files into Laudspeaker.
///
/// Each row becomes one upsert (primary key plus properties) through a
/// mapping file; rows that cannot be delivered go, with their reason, to a
/// dead-letter file that can be fed back in after fixing the data.
#[derive(Debug, Parser)]
#[command(name = "laudspeaker-import", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More diagnostics on standard error (-v, -vv, -vvv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors and the final summary.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import CSV or NDJSON files (plain, gzip or zstd), or dead-letter files, into Laudspeaker.
    #[command(after_help = IMPORT_EXAMPLES)]
    Import(Box<ImportArgs>),
    /// Run a local Laudspeaker stand-in for tests and rehearsals.
    Emulator(EmulatorArgs),
    /// Import a bundled fixture into an in-process emulator, end to end.
    Demo(DemoArgs),
    /// Write a mapping file for an export (`mapping init FILE`).
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Profile a file as a mapping reads it, without sending anything.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
}

const IMPORT_EXAMPLES: &str = "\
Examples:
  Check a file without sending anything:
    laudspeaker-import import contacts.csv --mapping contacts.toml --dry-run
  Import into a workspace (key from the environment):
    LAUDSPEAKER_API_KEY=... laudspeaker-import import contacts.csv -m contacts.toml
  Retry what was rejected, after fixing it:
    laudspeaker-import import contacts.dead-letter.ndjson -m contacts.toml
  Several files, compressed or not, in one run:
    laudspeaker-import import 'exports/*.csv.gz' -m contacts.toml --dead-letter rejected/
  From a pipe:
    gunzip -c contacts.csv.gz | laudspeaker-import import - --format csv -m contacts.toml

  Nightly: send only what changed, stop past 1% errors, leave a report:
    laudspeaker-import import contacts.csv -m contacts.toml --state contacts.state \\
      --max-errors 1% --report report.json --log-format json";

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The files to import, one after another: CSV, TSV or NDJSON, plain or
    /// gzip/zstd-compressed, or dead-letter files of an earlier run. `-`
    /// reads standard input (needs --format); a quoted pattern such as
    /// 'exports/*.csv' is expanded here, in sorted order.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Mapping file (TOML): which column becomes which attribute.
    #[arg(short, long, help_heading = "Input")]
    pub mapping: PathBuf,

    /// Check and convert every row, send nothing.
    #[arg(long, help_heading = "Input")]
    pub dry_run: bool,

    /// Read every input as this format, whatever its name says (required
    /// for `-` unless the mapping sets `format` under [source]).
    #[arg(long, value_enum, help_heading = "Input")]
    pub format: Option<InputFormat>,

    /// Write every request body that is (or would be) sent, one per line.
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    pub emit_requests: Option<PathBuf>,

    /// Where rejected rows go [default: INPUT's name with .dead-letter.ndjson
    /// beside it; stdin.dead-letter.ndjson here for `-`]. With several
    /// inputs, a directory that receives each input's default name.
    #[arg(long, value_name = "FILE|DIR", help_heading = "Output")]
    pub dead_letter: Option<PathBuf>,

    /// ndjson: one JSON entry per rejected row, after a preamble. csv (CSV
    /// inputs only): the input's header and rejected rows as read, in its
    /// delimiter and encoding, plus _line and _reason columns; the same
    /// command imports it again [default name: INPUT's with .dead-letter.csv].
    #[arg(long, value_enum, default_value_t = DeadLetterFormat::Ndjson, value_name = "FORMAT",
          help_heading = "Output")]
    pub dead_letter_format: DeadLetterFormat,

    /// Progress display: a bar on a terminal, periodic lines otherwise.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto, help_heading = "Output")]
    pub progress: ProgressMode,

    /// Base URL of the Laudspeaker API; requests go to <URL>/customers/upsert.
    #[arg(
        long,
        env = "LAUDSPEAKER_API_URL",
        default_value = "https://app.laudspeaker.com/api",
        help_heading = "Connection"
    )]
    pub api_url: String,

    /// API key of the workspace (prefer the environment variable: a flag is
    /// visible to other users in the process list).
    #[arg(
        long,
        env = "LAUDSPEAKER_API_KEY",
        hide_env_values = true,
        help_heading = "Connection"
    )]
    pub api_key: Option<crate::secret::ApiKey>,

    /// Read the API key from this file (first line).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "api_key",
        help_heading = "Connection"
    )]
    pub api_key_file: Option<PathBuf>,

    /// Send the key over plain http to a host other than this machine.
    #[arg(long, help_heading = "Connection")]
    pub allow_insecure_http: bool,

    /// Also trust the certificate authorities in this PEM file (one or more
    /// certificates): for a self-hosted server behind a private CA.
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub ca_cert: Option<PathBuf>,

    /// Requests in flight at most.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024),
          help_heading = "Delivery")]
    pub concurrency: u16,

    /// Request rate ceiling shared by all workers, e.g. 100/s or 3000/m
    /// [default: no ceiling; the concurrency bounds the pace].
    #[arg(long, value_name = "N/s", help_heading = "Delivery")]
    pub rate: Option<Rate>,

    /// Requests the rate limiter lets through at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..),
          help_heading = "Delivery")]
    pub burst: u32,

    /// How the request rate is found. `adaptive`: slow down on 429s and on
    /// rising latency, speed up again while answers are healthy, never above
    /// --rate (without it, start unlimited). `fixed`: keep to --rate (or no
    /// limit) whatever the server answers.
    #[arg(long, value_enum, default_value_t = PaceMode::Adaptive, help_heading = "Delivery")]
    pub pace: PaceMode,

    /// Time limit of one request, e.g. 30s or 500ms.
    #[arg(long, default_value = "30s", value_parser = parse_duration, help_heading = "Delivery")]
    pub timeout: Duration,

    /// Retries after the first attempt for 429, 5xx, timeouts, broken connections.
    #[arg(long, default_value_t = 5, help_heading = "Delivery")]
    pub max_retries: u32,

    /// Largest request body sent; larger rows are dead-lettered unsent.
    #[arg(long, default_value_t = 102_400, value_parser = parse_body_limit,
          help_heading = "Delivery")]
    pub max_body_bytes: usize,

    /// Records which rows are done, so that the same command run again after
    /// a crash or a stop continues where it stopped [default: INPUT's name
    /// with .checkpoint, beside the dead-letter file; none for a pipe].
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "dry_run",
        help_heading = "Resume"
    )]
    pub checkpoint: Option<PathBuf>,

    /// Keep no checkpoint: running the command again sends every row again.
    #[arg(long, conflicts_with_all = ["checkpoint", "restart"], help_heading = "Resume")]
    pub no_checkpoint: bool,

    /// Start over, ignoring the checkpoint an earlier run left (needed once
    /// the input or mapping changed).
    #[arg(long, help_heading = "Resume")]
    pub restart: bool,

    /// Stop cleanly after this long (e.g. 6h, 90m): requests in flight
    /// finish, the checkpoint is kept, the exit code is 75, and the same
    /// command run again continues.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration,
          help_heading = "Resume")]
    pub max_runtime: Option<Duration>,
    /// How long the server may stay unreachable (every request failing
    /// with a broken connection, a timeout, 502, 503 or 504) before the run
    /// stops with exit 3; meanwhile requests are held and one probe at a
    /// time checks whether it is back.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration,
          help_heading = "Delivery")]
    pub max_outage: Duration,

    #[command(flatten)]
    pub sync: SyncArgs,
}

/// Options for scheduled syncs: what to skip, what to report.
#[derive(Debug, Clone, Default, Args)]
pub struct SyncArgs {
    /// Changed-only sync: remember what each customer was last sent in this
    /// file (created owner-only) and skip records the server already holds.
    #[arg(long, value_name = "FILE", help_heading = "Sync and reporting")]
    pub state: Option<PathBuf>,

    /// Send every record this once, ignoring --state (which is still updated).
    #[arg(long, requires = "state", help_heading = "Sync and reporting")]
    pub full: bool,

    /// Write a JSON report of the run to FILE at the end (also when stopped).
    #[arg(long, value_name = "FILE", help_heading = "Sync and reporting")]
    pub report: Option<PathBuf>,

    /// Stop (exit 3) once more than N records, or N% of those read (from
    /// 100 records on), were dead-lettered.
    #[arg(long, value_name = "N|N%", help_heading = "Sync and reporting")]
    pub max_errors: Option<MaxErrors>,

    /// Write one NDJSON line per upserted record to FILE: line, primary key,
    /// customer id returned.
    #[arg(long, value_name = "FILE", help_heading = "Sync and reporting")]
    pub ledger: Option<PathBuf>,

    /// How messages on standard error look: text, or one JSON object a line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text,
          help_heading = "Sync and reporting")]
    pub log_format: LogFormat,
}

/// The shape of messages on standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The fixture to import (a CSV or NDJSON file with a .toml mapping beside it).
    #[arg(long, default_value = "fixtures/hubspot-contacts.csv")]
    pub fixture: PathBuf,
}

/// What `mapping` can do.
#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Write a complete mapping for FILE from its header and a sample of its
    /// rows: attribute names, types, primary key, each choice explained in a
    /// comment. Review it, then run `check` and `import --dry-run` with it.
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
}

const INIT_EXAMPLES: &str = "\
Examples:
  laudspeaker-import mapping init contacts.csv -o contacts.toml
  laudspeaker-import mapping init export.csv --primary-key \"Customer Id\" --whole-file";

const CHECK_EXAMPLES: &str = "\
Examples:
  laudspeaker-import check contacts.csv --mapping contacts.toml
  laudspeaker-import check contacts.csv -m contacts.toml --json > profile.json
Exit status: 0 no row would be dead-lettered, 1 some would, 2 bad mapping or input.";

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// The export to describe: CSV (also .tsv) or NDJSON.
    pub input: PathBuf,

    /// The column (NDJSON: key path) that identifies a customer
    /// [default: guessed: a unique email column, else a unique id column].
    #[arg(long, value_name = "COLUMN", help_heading = "Mapping init")]
    pub primary_key: Option<String>,

    /// Rows read to infer types and the key.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..), help_heading = "Mapping init")]
    pub sample: u64,

    /// Read every row instead of a sample (slower; surer types).
    #[arg(long, conflicts_with = "sample", help_heading = "Mapping init")]
    pub whole_file: bool,

    /// The file's format [default: from its extension].
    #[arg(long, value_enum, help_heading = "Mapping init")]
    pub format: Option<InputFormat>,

    /// CSV field delimiter, one character (`\t` for tab)
    /// [default: whichever of , ; tab | splits the header most].
    #[arg(long, value_name = "C", value_parser = parse_delimiter, help_heading = "Mapping init")]
    pub delimiter: Option<u8>,

    /// Text encoding, any WHATWG label such as windows-1252
    /// [default: UTF-8, or what a byte order mark says; windows-1252 when
    /// the sample is not valid UTF-8].
    #[arg(long, value_name = "LABEL", help_heading = "Mapping init")]
    pub encoding: Option<String>,

    /// Write the mapping here [default: standard output].
    #[arg(short, long, value_name = "FILE", help_heading = "Mapping init")]
    pub output: Option<PathBuf>,

    /// Replace the --output file if it exists.
    #[arg(long, requires = "output", help_heading = "Mapping init")]
    pub force: bool,
}

/// The formats `--format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    Csv,
    Ndjson,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The file to profile, read exactly as `import` reads it.
    pub input: PathBuf,

    /// Mapping file (TOML).
    #[arg(short, long, help_heading = "Check")]
    pub mapping: PathBuf,

    /// Print the profile as one JSON object instead of a table.
    #[arg(long, help_heading = "Check")]
    pub json: bool,

    /// Duplicate primary keys listed, most repeated first.
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Check")]
    pub top: usize,

    /// Largest request body, as in `import`; larger rows would be dead-lettered.
    #[arg(long, default_value_t = 102_400, value_parser = parse_body_limit,
          help_heading = "Check")]
    pub max_body_bytes: usize,
}

/// One delimiter byte: a single ASCII character, or `\t` for tab.
fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "\\t" | "\t" | "tab" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(format!(
            "`{text}` is not one ASCII character (use \\t for tab)"
        )),
    }
}

impl From<InputFormat> for crate::mapping::Format {
    fn from(format: InputFormat) -> Self {
        match format {
            InputFormat::Csv => crate::mapping::Format::Csv,
            InputFormat::Ndjson => crate::mapping::Format::Ndjson,
        }
    }
}

/// The formats `--dead-letter-format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeadLetterFormat {
    Ndjson,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    Auto,
    Bar,
    Plain,
    None,
}

/// How the request rate is found (`--pace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaceMode {
    Adaptive,
    Fixed,
}

/// A request rate: `N/s`, `N/m` (or `N/min`), or a bare `N` per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub per: Duration,
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (count, unit) = text.split_once('/').unwrap_or((text, "s"));
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            other => return Err(format!("unknown rate unit `{other}`: use /s, /m or /h")),
        };
        let count: u32 = count.trim().parse().map_err(|_| {
            format!("`{text}` is not a rate: write a whole number per unit, e.g. 100/s")
        })?;
        let count = NonZeroU32::new(count).ok_or("a rate must be above zero")?;
        Ok(Rate { count, per })
    }
}

impl Rate {
    /// The governor quota for this rate with `burst` requests at once.
    pub fn quota(&self, burst: u32) -> governor::Quota {
        let period = self.per / self.count.get();
        let period = period.max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        governor::Quota::with_period(period)
            .expect("period is at least one nanosecond")
            .allow_burst(burst)
    }
}

/// A body limit: below 256 bytes no customer fits, so it is a typo.
fn parse_body_limit(text: &str) -> Result<usize, String> {
    let limit: usize = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of bytes"))?;
    if limit < 256 {
        return Err("must be at least 256 bytes".into());
    }
    Ok(limit)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration =
        humantime::parse_duration(text).map_err(|e| format!("{e} (try 30s or 500ms)"))?;
    if duration.is_zero() {
        return Err("must be above zero".into());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_per_second_and_per_minute() {
        let rate: Rate = "500/s".parse().expect("valid");
        assert_eq!((rate.count.get(), rate.per), (500, Duration::from_secs(1)));
        let rate: Rate = "3000/m".parse().expect("valid");
        assert_eq!(
            (rate.count.get(), rate.per),
            (3000, Duration::from_secs(60))
        );
        let rate: Rate = "20".parse().expect("valid");
        assert_eq!(rate.per, Duration::from_secs(1));
        assert!("0/s".parse::<Rate>().is_err());
        assert!("ten/s".parse::<Rate>().is_err());
        assert!("5/week".parse::<Rate>().is_err());
    }

    #[test]
    fn durations_accept_seconds_and_milliseconds() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn parsed_arguments_print_no_key() {
        let args = "x import in.csv -m m.toml --api-key k_123".split(' ');
        let cli = Cli::parse_from(args);
        let shown = format!("{cli:?}");
        assert!(shown.contains("ApiKey(<redacted>)"), "{shown}");
        assert!(!shown.contains("k_123"), "{shown}");
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
