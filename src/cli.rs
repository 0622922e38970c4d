//! The command line: what a person types, parsed and checked.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::emulator::EmulatorArgs;

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
    /// Import a CSV or NDJSON file (or a dead-letter file) into Laudspeaker.
    #[command(after_help = IMPORT_EXAMPLES)]
    Import(ImportArgs),
    /// Run a local Laudspeaker stand-in for tests and rehearsals.
    Emulator(EmulatorArgs),
    /// Import a bundled fixture into an in-process emulator, end to end.
    Demo(DemoArgs),
}

const IMPORT_EXAMPLES: &str = "\
Examples:
  Check a file without sending anything:
    laudspeaker-import import contacts.csv --mapping contacts.toml --dry-run
  Import into a workspace (key from the environment):
    LAUDSPEAKER_API_KEY=... laudspeaker-import import contacts.csv -m contacts.toml
  Retry what was rejected, after fixing it:
    laudspeaker-import import contacts.dead-letter.ndjson -m contacts.toml";

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file to import: CSV, NDJSON, or a dead-letter file of an earlier run.
    pub input: PathBuf,

    /// Mapping file (TOML): which column becomes which attribute.
    #[arg(short, long, help_heading = "Input")]
    pub mapping: PathBuf,

    /// Check and convert every row, send nothing.
    #[arg(long, help_heading = "Input")]
    pub dry_run: bool,

    /// Write every request body that is (or would be) sent, one per line.
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    pub emit_requests: Option<PathBuf>,

    /// Where rejected rows go [default: INPUT's name with .dead-letter.ndjson].
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub dead_letter: Option<PathBuf>,

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
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The fixture to import (a CSV or NDJSON file with a .toml mapping beside it).
    #[arg(long, default_value = "fixtures/hubspot-contacts.csv")]
    pub fixture: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    Auto,
    Bar,
    Plain,
    None,
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
