//! A local Laudspeaker stand-in for tests, benchmarks and rehearsals: the
//! customer endpoints with the real server's semantics, a request log, a
//! customer dump and scripted faults (`server.toml`).
//!
//! The parts: [`script`] reads and matches fault rules, [`faults`] decides
//! the command line's random and timed faults, [`store`] keeps customers,
//! [`log`] records requests, `server` speaks HTTP. This file holds the
//! settings, starting and stopping.
//!
//! A customer request is answered in this order: it is numbered and
//! logged on arrival (so `nth_request` counts every request but the
//! `/emulator/...` ones), its body is read, a wrong or missing key gets 401
//! and a body over `max_body_bytes` gets 413 (neither reaches the rules nor
//! counts as an attempt), then the first matching rule decides the answer;
//! with no rule matching, the emulator answers as Laudspeaker does. A
//! request a rule applies takes effect on arrival, before any delay.
//!
//! The command line's faults come before all of that: each customer
//! request's fault is decided when it arrives (see [`faults`]), and a
//! faulted request is answered (or dropped) by its fault whatever its key
//! or body, without taking effect. Latency alone delays the answer and
//! lets the request take effect, on arrival like a scripted delay.

pub mod faults;
pub mod log;
pub mod script;
mod server;
pub mod store;
mod tls;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cli::Rate;
pub use faults::Faults;
use faults::{Latency, Probability, Window};
pub use log::Keep;
pub use script::{Rule, Script, ScriptError};

/// `laudspeaker-import emulator` options.
#[derive(Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Fault script in the `server.toml` language.
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// The only API key accepted (overrides the script's `api_key`); with
    /// neither, any non-empty key is accepted.
    #[arg(long, env = "LAUDSPEAKER_EMULATOR_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Emulate a workspace with no primary key attribute chosen: every
    /// upsert gets 400 "Primary key has not been set".
    #[arg(long)]
    pub no_primary_key: bool,
    /// Keep request bodies out of the request log (saves memory on long
    /// benchmarks; `body` is then null).
    #[arg(long)]
    pub no_request_bodies: bool,
    /// Keep no request log at all (`/emulator/requests` answers `[]`).
    #[arg(long)]
    pub no_request_log: bool,

    /// Seed of the random faults: the same seed and the same request order
    /// give the same faults [default: random, printed on standard error].
    #[arg(long, value_name = "N", help_heading = "Faults")]
    pub seed: Option<u64>,
    /// Answer this share of customer requests 500, e.g. 0.1 or 10%.
    #[arg(long, value_name = "P", help_heading = "Faults")]
    pub fail_rate: Option<Probability>,
    /// Answer 429 with `Retry-After` (whole seconds, at least 1) past a
    /// token bucket of N requests per second (or /m, /h) that holds one
    /// second's worth, e.g. 200/s.
    #[arg(long, value_name = "N/s", help_heading = "Faults")]
    pub throttle: Option<Rate>,
    /// Wait before answering: fixed (20ms) or uniform in a range
    /// (5ms..50ms); the request still takes effect on arrival.
    #[arg(long, value_name = "D|D1..D2", help_heading = "Faults")]
    pub latency: Option<Latency>,
    /// Close the connection without an answer for this share of customer
    /// requests, e.g. 2%.
    #[arg(long, value_name = "P", help_heading = "Faults")]
    pub reset_rate: Option<Probability>,
    /// Never answer this share of customer requests (the connection is
    /// held until the client gives up), e.g. 1%.
    #[arg(long, value_name = "P", help_heading = "Faults")]
    pub hang_rate: Option<Probability>,
    /// Answer every customer request 503 in this window after the start,
    /// e.g. 10s..40s.
    #[arg(long, value_name = "START..END", help_heading = "Faults")]
    pub outage: Option<Window>,
    /// Serve https with this certificate chain (PEM; needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl fmt::Debug for EmulatorArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorArgs")
            .field("listen", &self.listen)
            .field("script", &self.script)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("no_primary_key", &self.no_primary_key)
            .field("no_request_bodies", &self.no_request_bodies)
            .field("no_request_log", &self.no_request_log)
            .field("seed", &self.seed)
            .field("fail_rate", &self.fail_rate)
            .field("throttle", &self.throttle)
            .field("latency", &self.latency)
            .field("reset_rate", &self.reset_rate)
            .field("hang_rate", &self.hang_rate)
            .field("outage", &self.outage)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .finish()
    }
}

/// Checked emulator settings. `Config::default()` accepts any non-empty
/// key, has no rules and logs everything.
#[derive(Clone)]
pub struct Config {
    /// The only key accepted; `None` accepts any non-empty key.
    pub api_key: Option<String>,
    /// Rules and body limit (its `api_key` and `primary_key_set` are
    /// already folded into the fields here).
    pub script: Script,
    /// `false`: upserts and reads get 400 "Primary key has not been set".
    pub primary_key_set: bool,
    /// Keep a request log at all.
    pub record_requests: bool,
    /// Keep request bodies in the log.
    pub record_bodies: bool,
    /// How long a `hang` rule or `--hang-rate` holds a request before
    /// closing the connection.
    pub hang_for: Duration,
    /// The command line's faults.
    pub faults: Faults,
    /// Serve https with this identity; `None`: plain http.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("script", &self.script)
            .field("primary_key_set", &self.primary_key_set)
            .field("record_requests", &self.record_requests)
            .field("record_bodies", &self.record_bodies)
            .field("hang_for", &self.hang_for)
            .field("faults", &self.faults)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_key: None,
            script: Script::default(),
            primary_key_set: true,
            record_requests: true,
            record_bodies: true,
            hang_for: Duration::from_secs(60),
            faults: Faults::default(),
            tls: None,
        }
    }
}

impl Config {
    /// Reads the script (if any) and folds the flags over it.
    pub fn from_args(args: &EmulatorArgs) -> anyhow::Result<Config> {
        let script = match &args.script {
            Some(path) => Script::from_file(path)?,
            None => Script::default(),
        };
        let api_key = match &args.api_key {
            Some(key) if key.trim().is_empty() => anyhow::bail!("--api-key is empty"),
            Some(key) => Some(key.trim().to_owned()),
            None => script.api_key.as_ref().map(|key| key.expose().to_owned()),
        };
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            _ => None,
        };
        Ok(Config {
            api_key,
            tls,
            primary_key_set: script.primary_key_set && !args.no_primary_key,
            record_requests: !args.no_request_log,
            record_bodies: !args.no_request_bodies,
            script,
            faults: faults_from_args(args)?,
            ..Config::default()
        })
    }

    /// A config that accepts only `key`.
    pub fn with_api_key(key: &str) -> Config {
        Config {
            api_key: Some(key.to_owned()),
            ..Config::default()
        }
    }

    fn keep(&self) -> Keep {
        match (self.record_requests, self.record_bodies) {
            (false, _) => Keep::Nothing,
            (true, false) => Keep::NoBodies,
            (true, true) => Keep::Everything,
        }
    }
}

/// The faults the flags ask for, with the seed drawn (and printed) when
/// random faults are asked for without one.
fn faults_from_args(args: &EmulatorArgs) -> anyhow::Result<Faults> {
    let rate = |rate: Option<Probability>| rate.unwrap_or_default();
    let mut faults = Faults {
        seed: args.seed.unwrap_or(0),
        fail_rate: rate(args.fail_rate),
        reset_rate: rate(args.reset_rate),
        hang_rate: rate(args.hang_rate),
        throttle: args.throttle,
        latency: args.latency,
        outage: args.outage,
    };
    faults.check().map_err(anyhow::Error::msg)?;
    if args.seed.is_none() && faults.draws() {
        faults.seed = rand::random();
        crate::say!(
            "emulator: random faults use seed {0} (--seed {0} repeats them)",
            faults.seed
        );
    }
    Ok(faults)
}

/// A running emulator. Dropping it stops it too (without waiting).
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// `https` when serving TLS, else `http`.
    scheme: &'static str,
    shared: Arc<server::Shared>,
    stop: CancellationToken,
    accepting: Option<JoinHandle<()>>,
}

impl Running {
    /// `http://ADDR` (or `https://`), the base URL to give an importer.
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting, closes every connection and waits for the listener
    /// to be released.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(accepting) = self.accepting.take() {
            // A panicked accept loop has nothing left to stop.
            let _ = accepting.await;
        }
    }

    /// The stored customers: trimmed primary key to attribute object, in
    /// creation order (what `GET /emulator/customers` answers).
    pub fn customers(&self) -> serde_json::Map<String, serde_json::Value> {
        self.shared.store.dump()
    }

    /// The request log as JSON (what `GET /emulator/requests` answers).
    pub fn requests_json(&self) -> Vec<u8> {
        self.shared.log.to_json()
    }

    /// How many customers are stored.
    pub async fn customer_count(&self) -> usize {
        self.shared.store.len()
    }

    /// How many requests arrived (other than `/emulator/...` ones).
    pub fn request_count(&self) -> u64 {
        self.shared.log.count()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Binds `listen` and serves in the background until shut down.
pub async fn spawn(config: Config, listen: SocketAddr) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let tls = config.tls.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let shared = Arc::new(server::Shared::new(config));
    let stop = CancellationToken::new();
    let accepting = tokio::spawn(server::accept_loop(
        listener,
        shared.clone(),
        stop.clone(),
        tls,
    ));
    Ok(Running {
        addr,
        scheme,
        shared,
        stop,
        accepting: Some(accepting),
    })
}

/// Runs the emulator until SIGINT or SIGTERM, after printing
/// `listening on http://ADDR` (or `https://`) on standard output.
pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let config = Config::from_args(&args)?;
    let running = spawn(config, args.listen).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", running.base_url())
        .and_then(|()| stdout.flush())
        .context("cannot write to standard output")?;
    drop(stdout);
    stop_signal().await?;
    running.shutdown().await;
    Ok(())
}

/// Waits for SIGINT or SIGTERM.
async fn stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.context("cannot watch SIGINT")?,
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot watch Ctrl-C")?;
    Ok(())
}
