//! `laudspeaker-import demo`: the main job end to end on a bundled fixture,
//! through real HTTP into an emulator started in this process, so a new
//! user sees a whole run with no account and no network.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cli::{DemoArgs, ImportArgs, PaceMode, ProgressMode};
use crate::emulator;
use crate::failure::Failure;

const DEMO_KEY: &str = "demo-key";

/// Starts the emulator, imports the fixture into it, prints what it holds.
pub fn run(args: &DemoArgs, quiet: bool) -> Result<u8, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Failure::before_sending(format!("cannot start the runtime: {e}")))?;
    let config = emulator::Config {
        api_key: Some(DEMO_KEY.into()),
        ..emulator::Config::default()
    };
    let listen: SocketAddr = ([127, 0, 0, 1], 0).into();
    let running = runtime
        .block_on(emulator::spawn(config, listen))
        .map_err(|e| Failure::before_sending(format!("cannot start the emulator: {e}")))?;
    let base_url = running.base_url();
    crate::say!("emulator listening on {base_url}");
    let scratch = scratch_dir()?;
    let dead_letter = scratch.join(format!(
        "{}.dead-letter.ndjson",
        args.fixture
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
    ));
    let import = import_args(args, &base_url, dead_letter.clone());
    crate::say!(
        "importing {} with mapping {}",
        args.fixture.display(),
        import.mapping.display()
    );
    let code = crate::import::run(&import, quiet)?;
    let customers = runtime.block_on(running.customer_count());
    crate::say!("the emulator now holds {customers} customers");
    if dead_letter.exists() {
        crate::say!("rejected rows are in {}", dead_letter.display());
    } else {
        let _ = std::fs::remove_dir(&scratch);
    }
    runtime.block_on(running.shutdown());
    Ok(code)
}

/// A fresh folder of this run's own for the demo's dead-letter file, so
/// nothing already in the temporary folder is written over or followed.
fn scratch_dir() -> Result<PathBuf, Failure> {
    let dir =
        std::env::temp_dir().join(format!("laudspeaker-import-demo-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&dir)
        .map_err(|e| Failure::before_sending(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

fn import_args(args: &DemoArgs, base_url: &str, dead_letter: PathBuf) -> ImportArgs {
    ImportArgs {
        inputs: vec![args.fixture.clone()],
        mapping: args.fixture.with_extension("toml"),
        dry_run: false,
        format: None,
        emit_requests: None,
        dead_letter: Some(dead_letter),
        dead_letter_format: crate::cli::DeadLetterFormat::Ndjson,
        progress: ProgressMode::Auto,
        api_url: base_url.to_string(),
        api_key: Some(crate::secret::ApiKey::new(DEMO_KEY)),
        api_key_file: None,
        allow_insecure_http: false,
        ca_cert: None,
        concurrency: 8,
        rate: None,
        burst: 1,
        pace: PaceMode::Adaptive,
        timeout: std::time::Duration::from_secs(10),
        max_retries: 5,
        max_body_bytes: 102_400,
        // A demo is never resumed.
        checkpoint: None,
        no_checkpoint: true,
        restart: false,
        max_runtime: None,
        sync: Default::default(),
        max_outage: std::time::Duration::from_secs(600),
    }
}
