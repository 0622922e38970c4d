//! A local Laudspeaker stand-in for tests, benchmarks and rehearsals: the
//! customer endpoints with the real server's semantics, a request log, a
//! customer dump and scripted faults (`server.toml`).
//!
//! INTERFACE STUB: the owner of this module replaces the bodies below.

use std::net::SocketAddr;
use std::path::PathBuf;

/// `laudspeaker-import emulator` options.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Fault script in the `server.toml` language.
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// The only API key accepted.
    #[arg(long, env = "LAUDSPEAKER_EMULATOR_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// Runs the emulator until SIGINT or SIGTERM, after printing
/// `listening on http://ADDR` on standard output.
pub async fn run(_args: EmulatorArgs) -> anyhow::Result<()> {
    unimplemented!()
}

/// Emulator settings (stub).
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub api_key: Option<String>,
    pub script: Option<PathBuf>,
}

/// A running emulator (stub).
pub struct Running {
    pub addr: SocketAddr,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn customer_count(&self) -> usize {
        unimplemented!()
    }

    pub async fn shutdown(self) {}
}

/// Starts an emulator in this process (stub).
pub async fn spawn(_config: Config, _listen: SocketAddr) -> anyhow::Result<Running> {
    unimplemented!()
}
