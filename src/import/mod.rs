//! `laudspeaker-import import`: the whole run, as the chain of its stages.
//!
//! The mapping is loaded and the input opened and checked before anything
//! is sent; then a reader thread turns records into request bodies while
//! delivery sends them; every record ends counted as upserted, dead-lettered
//! or skipped, and the summary says so.

mod outcome;
mod outputs;
mod refeed;
pub mod source;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cli::ImportArgs;
use crate::convert::server_trim;
use crate::dead_letter::DeadLetters;
use crate::deliver::{self, Job, Settings, Stop};
use crate::failure::{code, Failure};
use crate::mapping::Mapping;
use crate::progress::Progress;
use crate::secret::ApiKey;
use crate::stats::Stats;
use crate::summary::Summary;
use outcome::Recorder;
use source::Item;

/// Runs an import; returns the exit code, or the failure that ended it.
pub fn run(args: &ImportArgs, quiet: bool) -> Result<u8, Failure> {
    let started = Instant::now();
    let mapping = Mapping::load(&args.mapping).map_err(|errors| {
        Failure::before_sending(format!("the mapping file has problems:\n{errors}"))
    })?;
    let settings = if args.dry_run {
        None
    } else {
        Some(settings(args)?)
    };
    let mut input = source::open(&args.input, &mapping, args.max_body_bytes)?;
    let outputs = outputs::plan(args)?;
    let dead_letter_path = outputs.dead_letter;
    let dead_letters = DeadLetters::create(&dead_letter_path, &input.preamble).map_err(|e| {
        Failure::before_sending(format!(
            "cannot create the dead-letter file {}: {e}",
            dead_letter_path.display()
        ))
    })?;
    let emit = open_emit(outputs.emit_requests.as_deref())?;
    let stats = Arc::new(Stats::default());
    // Fired by a signal, or by an output that can no longer be written.
    let cancel = CancellationToken::new();
    let recorder = Arc::new(Recorder::new(
        stats.clone(),
        dead_letters,
        input.codec,
        cancel.clone(),
    ));
    input.set_ledger(recorder.ledger.clone());
    let total_bytes = std::fs::metadata(&args.input).map(|m| m.len()).ok();
    let progress = Progress::start(
        args.progress,
        quiet,
        stats.clone(),
        total_bytes,
        args.dry_run,
    );
    let outcome = pipeline(&mut input, settings, recorder.clone(), emit, cancel);
    progress.finish();
    for warning in input.warnings() {
        crate::say!("warning: {warning}; check the path in the mapping");
    }
    finish(outcome, recorder, started, args, &dead_letter_path)
}

/// Delivery settings from the command line, checked.
fn settings(args: &ImportArgs) -> Result<Settings, Failure> {
    let api_key = api_key(args)?;
    let base = args.api_url.trim_end_matches('/');
    let url = reqwest::Url::parse(&format!("{base}/customers/upsert")).map_err(|e| {
        Failure::before_sending(format!(
            "--api-url `{}` is not a valid URL: {e}",
            args.api_url
        ))
    })?;
    check_transport(&url, args.allow_insecure_http)?;
    let ca_certs = match &args.ca_cert {
        Some(path) => crate::deliver::load_ca_certs(path).map_err(Failure::before_sending)?,
        None => Vec::new(),
    };
    Ok(Settings {
        upsert_url: url,
        api_key,
        concurrency: usize::from(args.concurrency),
        rate: args.rate.map(|rate| rate.quota(args.burst)),
        timeout: args.timeout,
        max_retries: args.max_retries,
        backoff_base: Duration::from_millis(250),
        backoff_cap: Duration::from_secs(30),
        ca_certs,
    })
}

fn api_key(args: &ImportArgs) -> Result<ApiKey, Failure> {
    let (key, source) = match (&args.api_key, &args.api_key_file) {
        (Some(key), _) => (key.expose().trim().to_string(), "--api-key".to_string()),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::before_sending(format!("cannot read {}: {e}", path.display()))
            })?;
            let first = text.lines().next().unwrap_or_default().trim().to_string();
            (first, path.display().to_string())
        }
        (None, None) => {
            return Err(Failure::before_sending("no API key given")
                .with_hint("set LAUDSPEAKER_API_KEY, or pass --api-key-file FILE (or --dry-run)"))
        }
    };
    if key.is_empty() {
        return Err(Failure::before_sending(format!(
            "the API key from {source} is empty"
        )));
    }
    // Never quote the key: say only what is wrong with it.
    if key.chars().any(char::is_control) {
        return Err(Failure::before_sending(format!(
            "the API key from {source} holds a control character (a line break?)"
        )));
    }
    Ok(ApiKey::new(key))
}

/// The key is never sent in clear text beyond this machine unless asked.
fn check_transport(url: &reqwest::Url, allow_insecure: bool) -> Result<(), Failure> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure || is_loopback(url) => Ok(()),
        "http" => Err(Failure::before_sending(format!(
            "refusing to send the API key over plain http to {}",
            url.host_str().unwrap_or("?")
        ))
        .with_hint("use https, or pass --allow-insecure-http if this network is trusted")),
        other => Err(Failure::before_sending(format!(
            "--api-url must be http or https, not `{other}`"
        ))),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Opens the --emit-requests file: owner-only (it holds customer data), and
/// never through a link.
fn open_emit(path: Option<&Path>) -> Result<Option<BufWriter<File>>, Failure> {
    let Some(path) = path else { return Ok(None) };
    let file = crate::dead_letter::owner_only()
        .open(path)
        .map_err(|e| Failure::before_sending(format!("cannot create {}: {e}", path.display())))?;
    Ok(Some(BufWriter::new(file)))
}

/// How the pipeline ended.
enum Ended {
    Completed,
    Stopped(Stop),
}

/// Reads the input on its own thread and delivers (or, in a dry run,
/// only counts) what it builds.
fn pipeline(
    input: &mut source::Input,
    settings: Option<Settings>,
    recorder: Arc<Recorder>,
    emit: Option<BufWriter<File>>,
    cancel: CancellationToken,
) -> Result<Ended, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::before_sending(format!("cannot start the runtime: {e}")))?;
    let interrupted = Arc::new(AtomicBool::new(false));
    runtime.spawn(watch_signals(
        cancel.clone(),
        interrupted.clone(),
        recorder.stats.clone(),
    ));
    let (tx, rx) = mpsc::channel::<Job>(1024);
    let dry_run = settings.is_none();
    let delivery = settings.map(|settings| {
        let outcomes: Arc<dyn deliver::Outcomes> = recorder.clone();
        let stats = recorder.stats.clone();
        runtime.spawn(deliver::deliver(
            rx,
            settings,
            stats,
            outcomes,
            cancel.clone(),
        ))
    });
    let read_result = std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_input(input, &recorder, tx, emit, dry_run, &interrupted));
        reader
            .join()
            .unwrap_or_else(|_| Err("the reader thread panicked".to_string()))
    });
    if read_result.is_err() {
        // The reader failed (an unreadable input, an unwritable output):
        // what is still queued must not be sent as if all were well.
        cancel.cancel();
    }
    let delivered = match delivery {
        Some(handle) => runtime.block_on(handle).unwrap_or(Err(Stop::Interrupted)),
        None => Ok(()),
    };
    runtime.shutdown_timeout(Duration::from_secs(1));
    read_result.map_err(Failure::during_run)?;
    if interrupted.load(Ordering::Relaxed) {
        return Ok(Ended::Stopped(Stop::Interrupted));
    }
    Ok(match delivered {
        Ok(()) => Ended::Completed,
        Err(stop) => Ended::Stopped(stop),
    })
}

/// The first SIGINT, SIGTERM or SIGHUP stops the run gracefully: reading
/// stops, requests in flight get a grace period, files are closed, the
/// summary is printed. A second one exits at once; every dead letter
/// already written was flushed as it was written.
async fn watch_signals(cancel: CancellationToken, interrupted: Arc<AtomicBool>, stats: Arc<Stats>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return;
    };
    for round in 0..2 {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        if round == 0 {
            interrupted.store(true, Ordering::Relaxed);
            cancel.cancel();
            crate::say!("interrupted: finishing requests in flight (signal again to stop at once)");
        }
    }
    let (read, upserted, dead, blank, not_sent) = (
        Stats::get(&stats.read),
        Stats::get(&stats.upserted),
        Stats::get(&stats.dead_lettered),
        Stats::get(&stats.skipped_blank),
        Stats::get(&stats.not_sent),
    );
    let unknown = read.saturating_sub(upserted + dead + blank + not_sent);
    crate::say!(
        "stopped at once: {read} rows read, {upserted} upserted, {dead} dead-lettered, \
         {blank} skipped blank, {not_sent} not sent, {unknown} queued or in flight with no \
         outcome recorded (an upsert is safe to send again)"
    );
    std::process::exit(i32::from(code::INTERRUPTED));
}

/// The reader thread: every record becomes a job, a dead letter or a blank.
fn read_input(
    input: &mut source::Input,
    recorder: &Recorder,
    tx: mpsc::Sender<Job>,
    mut emit: Option<BufWriter<File>>,
    dry_run: bool,
    interrupted: &AtomicBool,
) -> Result<(), String> {
    let stats = &recorder.stats;
    let mut emit_error = None;
    let mut visit = |item: Item<'_>| {
        if interrupted.load(Ordering::Relaxed) || recorder.write_failed.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        Stats::bump(&stats.read);
        match item {
            Item::Blank => Stats::bump(&stats.skipped_blank),
            Item::Rejected {
                line,
                raw,
                rejection,
                source_line,
            } => recorder.rejected(line, raw, &rejection, source_line),
            Item::Built {
                line,
                key,
                body,
                raw,
                source_line,
            } => {
                if let Some(writer) = emit.as_mut() {
                    if let Err(e) = writer
                        .write_all(body)
                        .and_then(|()| writer.write_all(b"\n"))
                    {
                        // The file no longer says what was sent: stop.
                        emit_error = Some(e);
                        Stats::bump(&stats.not_sent);
                        return ControlFlow::Break(());
                    }
                }
                if dry_run {
                    Stats::bump(&stats.upserted);
                    recorder.ledger.note_delivered(server_trim(key), line);
                    return ControlFlow::Continue(());
                }
                let job = Job {
                    line,
                    key: server_trim(key).into(),
                    body: body.to_vec(),
                    raw: raw.to_vec(),
                    source_line,
                };
                if tx.blocking_send(job).is_err() {
                    // Delivery stopped (fatal error or interruption).
                    Stats::bump(&stats.not_sent);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    };
    let mut progress = |bytes: u64| stats.bytes_read.store(bytes, Ordering::Relaxed);
    let read = input
        .read_all(&mut visit, &mut progress)
        .map_err(|e| format!("reading the input: {e}"));
    drop(tx);
    if let Some(mut writer) = emit {
        writer
            .flush()
            .map_err(|e| format!("writing --emit-requests: {e}"))?;
    }
    if let Some(e) = emit_error {
        return Err(format!("writing --emit-requests: {e}"));
    }
    read
}

/// Closes the files, prints the summary and decides the exit code.
fn finish(
    outcome: Result<Ended, Failure>,
    recorder: Arc<Recorder>,
    started: Instant,
    args: &ImportArgs,
    dead_letter_path: &Path,
) -> Result<u8, Failure> {
    let recorder = Arc::try_unwrap(recorder)
        .unwrap_or_else(|_| unreachable!("every task holding the recorder has ended"));
    let write_failed = recorder.write_failed.load(Ordering::Relaxed);
    let stats = recorder.stats.clone();
    let superseded = recorder.ledger.superseded();
    let dead_letters = recorder.into_dead_letters().finish();
    let summary = Summary::new(&stats, started.elapsed(), args.dry_run);
    summary.print(
        dead_letter_path,
        dead_letters.as_ref().ok().copied().unwrap_or(0),
    );
    if superseded > 0 {
        crate::say!(
            "warning: {superseded} rows were accepted after an earlier row of the same customer \
             was dead-lettered; importing the dead-letter file later would put that older \
             row's values back over theirs (see \"The dead-letter workflow\" in the README)"
        );
    }
    if let Err(e) = dead_letters {
        return Err(Failure::during_run(format!(
            "closing the dead-letter file: {e}"
        )));
    }
    if write_failed {
        return Err(Failure::during_run(
            "some rejected rows could not be written to the dead-letter file",
        ));
    }
    match outcome? {
        Ended::Stopped(Stop::Fatal { message, hint }) => {
            Err(Failure::during_run(message).with_hint(hint))
        }
        Ended::Stopped(Stop::Interrupted) => {
            crate::say!(
                "interrupted: {} rows were not sent",
                Stats::get(&stats.not_sent)
            );
            Ok(code::INTERRUPTED)
        }
        Ended::Completed if Stats::get(&stats.dead_lettered) > 0 => Ok(code::PARTIAL),
        Ended::Completed => Ok(code::OK),
    }
}
