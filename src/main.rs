//! The `laudspeaker-import` binary: parses the command line, runs the
//! command, and turns its outcome into one message and one exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use laudspeaker_import::cli::{Cli, Command, LogFormat, MappingCommand};
use laudspeaker_import::failure::Failure;
use laudspeaker_import::{check, demo, emulator, import, init};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = match &cli.command {
        Command::Import(args) => args.sync.log_format == LogFormat::Json,
        _ => false,
    };
    laudspeaker_import::console::configure(json, cli.quiet);
    init_tracing(cli.verbose, cli.quiet, json);
    let result = match &cli.command {
        Command::Import(args) => import::run(args, cli.quiet),
        Command::Demo(args) => demo::run(args, cli.quiet),
        Command::Emulator(args) => run_emulator(args.clone()),
        Command::Mapping(MappingCommand::Init(args)) => init::run(args),
        Command::Check(args) => check::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            laudspeaker_import::say!("{failure}");
            ExitCode::from(failure.code)
        }
    }
}

fn run_emulator(args: emulator::EmulatorArgs) -> Result<u8, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::before_sending(format!("cannot start the runtime: {e}")))?;
    runtime
        .block_on(emulator::run(args))
        .map(|()| 0)
        .map_err(|e| Failure::before_sending(format!("emulator: {e:#}")))
}

/// The HTTP and TLS crates, whose own log lines stop at `debug` whatever
/// the verbosity or `RUST_LOG`: their trace lines describe frames and
/// buffers, the level where a header or body could ever be printed, and
/// nothing this tool writes may carry the API key.
const HTTP_STACK: [&str; 7] = [
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "rustls",
    "tokio_rustls",
    "hyper_rustls",
];

/// Diagnostics go to standard error, behind -v; `RUST_LOG` overrides, but
/// never past the cap on [`HTTP_STACK`]. `json`: one JSON object a line,
/// its fields beside the message.
fn init_tracing(verbose: u8, quiet: bool, json: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Only when something asks for trace: a cap at debug would otherwise
    // raise these crates above a quieter level.
    if filter.max_level_hint() == Some(tracing::level_filters::LevelFilter::TRACE) {
        for target in HTTP_STACK {
            let cap = format!("{target}=debug")
                .parse()
                .expect("a crate name and a level make a valid directive");
            filter = filter.add_directive(cap);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && !json)
        // A closed or full stderr must not end the run (its own report of
        // the failure would go to the same stderr and panic).
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}
