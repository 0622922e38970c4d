//! `laudspeaker-import import`: the whole run, as the chain of its stages.
//!
//! The mapping is loaded and the input opened and checked before anything
//! is sent; then a reader thread turns records into request bodies while
//! delivery sends them; every record ends counted as upserted, dead-lettered
//! or skipped, and the summary says so.

mod inputs;
mod nightly;
mod outcome;
mod outputs;
mod refeed;
mod resume;
pub mod source;
mod spares;
mod warnings;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::checkpoint::Done;
use crate::cli::{DeadLetterFormat, ImportArgs};
use crate::convert::server_trim;
use crate::dead_letter::{DeadLetters, Preamble};
use crate::dead_letter_csv::CsvLayout;
use crate::deliver::{self, Job, Settings, Stop};
use crate::failure::{code, Failure};
use crate::input::decode::RecordCodec;
use crate::mapping::{Format, Mapping, OnError};
use crate::progress::Progress;
use crate::secret::ApiKey;
use crate::stats::Stats;
use crate::summary::Summary;
use crate::supersede::Ledger;
use crate::sync::state::{Filter, Verdict};
use crate::sync::Hooks;
use crate::transform::Dropped;
use outcome::{Recorder, Recorders};
use source::Item;
use warnings::Warnings;

/// Runs an import of every input; returns the exit code, or the failure
/// that ended it.
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
    let paths = inputs::expand(&args.inputs)?;
    let drops = mapping
        .properties
        .iter()
        .any(|property| property.on_error == OnError::DropProperty);
    let outputs = outputs::plan(args, &paths, drops)?;
    let opener = Opener {
        mapping: &mapping,
        format: args.format.map(Format::from),
        max_body_bytes: args.max_body_bytes,
    };
    let checked = check_inputs(&paths, &opener)?;
    if args.dead_letter_format == DeadLetterFormat::Csv {
        refuse_csv_dead_letters(&checked)?;
    }
    let (nightly, filter) = nightly::open(args, &paths, &outputs.dead_letters)?;
    let emit = open_emit(outputs.emit_requests.as_deref())?;
    let stats = Arc::new(Stats::default());
    // Fired by a signal, or by an output that can no longer be written.
    let cancel = CancellationToken::new();
    let warnings = drops.then_some(outputs.warnings.as_slice());
    let files = OutputFiles {
        dead_letters: &outputs.dead_letters,
        dead_letter_format: args.dead_letter_format,
        warnings,
        emit: outputs.emit_requests.as_deref(),
    };
    let mut pending = start_inputs(args, checked, &files, &stats, &cancel, &nightly.hooks)?;
    let recorders: Vec<Arc<Recorder>> = pending.iter().map(|p| p.recorder.clone()).collect();
    let checkpoints = recorders
        .iter()
        .filter_map(|r| r.checkpoint.as_ref().map(|j| j.path().to_path_buf()))
        .collect();
    let total_bytes = total_bytes(&paths);
    let progress = Progress::start(
        args.progress,
        quiet,
        stats.clone(),
        total_bytes,
        args.dry_run,
    );
    let controls = Controls {
        cancel,
        max_runtime: args.max_runtime,
        filter,
    };
    let outcome = pipeline(&mut pending, &opener, settings, &stats, emit, controls);
    progress.finish();
    for warning in pending.iter().flat_map(|p| &p.warnings) {
        crate::notice!("warning: {warning}; check the path in the mapping");
    }
    let dropped: Vec<Option<Warnings>> = pending.into_iter().map(|p| p.dropped).collect();
    let dropped = finish_warnings(dropped);
    let ended = finish(
        outcome,
        recorders,
        &stats,
        started,
        args,
        &paths,
        &nightly.hooks,
    );
    nightly.end(
        dropped.and(ended),
        &stats,
        started.elapsed(),
        args,
        &paths,
        nightly::Files {
            dead_letters: &outputs.dead_letters,
            checkpoints,
        },
    )
}

/// Opens inputs: the same mapping and options for every one.
struct Opener<'a> {
    mapping: &'a Mapping,
    format: Option<Format>,
    max_body_bytes: usize,
}

impl Opener<'_> {
    fn open(&self, path: &Path) -> Result<source::Input, Failure> {
        source::open(path, self.mapping, self.format, self.max_body_bytes)
    }
}

/// An input checked before anything is sent.
struct Checked {
    path: PathBuf,
    /// Kept open for standard input (it cannot be opened twice) and for a
    /// run of one input; other inputs are opened again when their turn
    /// comes, so that a run of many files holds one reader at a time.
    input: Option<source::Input>,
    preamble: Preamble,
    codec: RecordCodec,
}

/// Opens every input and binds the mapping to it, so that any input that
/// cannot be read as declared stops the run before the first request.
fn check_inputs(paths: &[PathBuf], opener: &Opener<'_>) -> Result<Vec<Checked>, Failure> {
    let keep_all = paths.len() == 1;
    let mut checked = Vec::with_capacity(paths.len());
    for path in paths {
        let input = opener.open(path)?;
        let preamble = input.preamble.clone();
        let codec = input.codec;
        let keep = keep_all || source::is_stdin(path);
        checked.push(Checked {
            path: path.clone(),
            input: keep.then_some(input),
            preamble,
            codec,
        });
    }
    Ok(checked)
}

/// `--dead-letter-format csv` writes CSV records: refused for an input
/// whose records are NDJSON (they have no header or columns to keep).
fn refuse_csv_dead_letters(checked: &[Checked]) -> Result<(), Failure> {
    match checked.iter().find(|c| c.preamble.format != "csv") {
        Some(ndjson) => Err(Failure::before_sending(format!(
            "--dead-letter-format csv needs CSV input, and {} holds NDJSON records",
            ndjson.preamble.input
        ))
        .with_hint("leave out --dead-letter-format (NDJSON dead letters keep any record)")),
        None => Ok(()),
    }
}

/// The files each input's outcomes go to.
struct OutputFiles<'a> {
    dead_letters: &'a [PathBuf],
    dead_letter_format: DeadLetterFormat,
    /// When the mapping can drop properties.
    warnings: Option<&'a [PathBuf]>,
    /// The --emit-requests file, which no checkpoint may take.
    emit: Option<&'a Path>,
}

/// Creates an input's dead-letter file in the format asked for.
fn create_dead_letters(
    path: &Path,
    checked: &Checked,
    format: DeadLetterFormat,
) -> std::io::Result<DeadLetters> {
    let preamble = &checked.preamble;
    match (format, preamble.delimiter, &preamble.header) {
        (DeadLetterFormat::Csv, Some(delimiter), Some(header)) => {
            // The delimiter came from one byte of the mapping or file name.
            let delimiter = u8::try_from(delimiter).unwrap_or(b',');
            let layout = CsvLayout::new(checked.codec, delimiter);
            DeadLetters::create_csv(path, layout, header)
        }
        _ => DeadLetters::create(path, preamble),
    }
}

/// An input of the run with its recorder, waiting for its turn.
struct Pending {
    path: PathBuf,
    input: Option<source::Input>,
    recorder: Arc<Recorder>,
    /// What reading it showed about the mapping.
    warnings: Vec<String>,
    /// Its warnings file, when the mapping lets properties be dropped.
    dropped: Option<Warnings>,
    /// Its records an earlier run of the same command finished.
    done: Done,
}

/// Creates each input's dead-letter file and recorder. A known shortcoming:
/// every dead-letter file stays open until the run ends (delivery may
/// still reject rows of an input the reader has left), so a run of more
/// inputs than the open-file limit allows (often 1024) fails here.
fn start_inputs(
    args: &ImportArgs,
    checked: Vec<Checked>,
    files: &OutputFiles<'_>,
    stats: &Arc<Stats>,
    cancel: &CancellationToken,
    sync: &Arc<Hooks>,
) -> Result<Vec<Pending>, Failure> {
    let ledger = Arc::new(Ledger::default());
    let count = checked.len();
    let mut pending: Vec<Pending> = Vec::with_capacity(checked.len());
    for (index, (checked, path)) in checked.into_iter().zip(files.dead_letters).enumerate() {
        let start = match start_input(args, &checked, path, files, count) {
            Ok(start) => start,
            Err(failure) => {
                // Leave no empty dead-letter file of the inputs before.
                drop_pending(pending);
                return Err(failure);
            }
        };
        let dropped = match files.warnings.and_then(|paths| paths.get(index)) {
            None => None,
            Some(path) => match Warnings::create(path) {
                Ok(file) => Some(file),
                Err(e) => {
                    drop_pending(pending);
                    return Err(Failure::before_sending(format!(
                        "cannot create the warnings file {}: {e}",
                        path.display()
                    )));
                }
            },
        };
        let mut recorder = Recorder::new(
            stats.clone(),
            index,
            start.dead_letters,
            checked.codec,
            ledger.clone(),
            cancel.clone(),
        );
        recorder.sync = sync.clone();
        pending.push(Pending {
            path: checked.path,
            input: checked.input,
            recorder: Arc::new(recorder.with_checkpoint(start.journal)),
            warnings: Vec::new(),
            dropped,
            done: start.done,
        });
    }
    Ok(pending)
}

/// Opens one input's dead-letter file, and its checkpoint when it keeps
/// one: resuming an interrupted run of the same command where it stopped.
fn start_input(
    args: &ImportArgs,
    checked: &Checked,
    dead_letter: &Path,
    files: &OutputFiles<'_>,
    inputs: usize,
) -> Result<resume::Start, Failure> {
    let checkpoint = resume::plan(args, &checked.path, inputs, dead_letter, files.emit)?;
    if let Some(checkpoint) = checkpoint {
        return resume::start(
            args,
            &checked.path,
            &checkpoint,
            dead_letter,
            &checked.preamble,
        );
    }
    let dead_letters = create_dead_letters(dead_letter, checked, files.dead_letter_format)
        .map_err(|e| {
            Failure::before_sending(format!(
                "cannot create the dead-letter file {}: {e}",
                dead_letter.display()
            ))
        })?;
    Ok(resume::Start {
        dead_letters,
        journal: None,
        done: Done::default(),
    })
}

/// Closes the dead-letter files of a run that never started (each holds
/// its preamble only, so it is removed).
fn drop_pending(pending: Vec<Pending>) {
    for p in pending {
        if let Ok(mut recorder) = Arc::try_unwrap(p.recorder) {
            if let Some(checkpoint) = recorder.checkpoint.take() {
                // Kept as it was: nothing was done in this run.
                resume::close_checkpoint(checkpoint, false);
            }
            let _ = recorder.into_dead_letters().finish();
        }
        if let Some(file) = p.dropped {
            let _ = file.finish();
        }
    }
}

/// Closes the warnings files (removing empty ones) and says where the
/// others are.
fn finish_warnings(files: Vec<Option<Warnings>>) -> Result<(), Failure> {
    let mut failed = Ok(());
    for file in files.into_iter().flatten() {
        let path = file.path().to_path_buf();
        match file.finish() {
            Ok(0) => {}
            Ok(n) => crate::notice!("{n} dropped properties are listed in {}", path.display()),
            Err(e) => {
                failed = Err(Failure::during_run(format!(
                    "closing the warnings file {}: {e}",
                    path.display()
                )))
            }
        }
    }
    failed
}

/// The bytes of all inputs, for the progress estimate; unknown when one is
/// standard input.
fn total_bytes(paths: &[PathBuf]) -> Option<u64> {
    paths
        .iter()
        .map(|path| {
            if source::is_stdin(path) {
                return None;
            }
            std::fs::metadata(path).map(|m| m.len()).ok()
        })
        .sum()
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
        adaptive_pace: args.pace == crate::cli::PaceMode::Adaptive,
        timeout: args.timeout,
        max_retries: args.max_retries,
        backoff_base: Duration::from_millis(250),
        backoff_cap: Duration::from_secs(30),
        max_outage: args.max_outage,
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
    /// Stopped cleanly at the --max-runtime deadline.
    OutOfTime,
}

/// What steers a run besides its inputs and settings.
struct Controls {
    /// Fired by a signal, the deadline, or an output that failed.
    cancel: CancellationToken,
    max_runtime: Option<Duration>,
    /// Skips records the server already holds (`--state`).
    filter: Option<Filter>,
}

/// Reads the inputs, one after another, on their own thread and delivers
/// (or, in a dry run, only counts) what they build, through one delivery:
/// rows of the same customer go out in the order of the inputs.
fn pipeline(
    pending: &mut [Pending],
    opener: &Opener<'_>,
    settings: Option<Settings>,
    stats: &Arc<Stats>,
    emit: Option<BufWriter<File>>,
    controls: Controls,
) -> Result<Ended, Failure> {
    let Controls {
        cancel,
        max_runtime,
        filter,
    } = controls;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::before_sending(format!("cannot start the runtime: {e}")))?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let recorders = pending
        .iter()
        .map(|p| Arc::downgrade(&p.recorder))
        .collect();
    runtime.spawn(watch_signals(
        cancel.clone(),
        interrupted.clone(),
        stats.clone(),
        recorders,
    ));
    let out_of_time = Arc::new(AtomicBool::new(false));
    if let Some(limit) = max_runtime {
        runtime.spawn(resume::deadline(limit, cancel.clone(), out_of_time.clone()));
    }
    let (tx, rx) = mpsc::channel::<Job>(1024);
    let dry_run = settings.is_none();
    let delivery = settings.map(|settings| {
        let recorders = pending.iter().map(|p| p.recorder.clone()).collect();
        let outcomes: Arc<dyn deliver::Outcomes> = Arc::new(Recorders(recorders));
        runtime.spawn(deliver::deliver(
            rx,
            settings,
            stats.clone(),
            outcomes,
            cancel.clone(),
        ))
    });
    let read_result = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reading = Reading {
                tx,
                emit,
                dry_run,
                cancel: &cancel,
                filter,
            };
            reading.all(pending, opener, stats)
        });
        reader
            .join()
            .unwrap_or_else(|_| Err(ReadFailure::Output("the reader thread panicked".into())))
    });
    if let Err(ReadFailure::Output(_)) = read_result {
        // An output could not be written: what is still queued must not
        // be sent as if all were well. (An input that ends in an error,
        // such as a cut gzip file, leaves whole rows before it: those
        // are delivered, then the run fails.)
        cancel.cancel();
    }
    let delivered = match delivery {
        Some(handle) => runtime.block_on(handle).unwrap_or(Err(Stop::Interrupted)),
        None => Ok(()),
    };
    runtime.shutdown_timeout(Duration::from_secs(1));
    read_result.map_err(|failure| match failure {
        ReadFailure::Input(message) | ReadFailure::Output(message) => Failure::during_run(message),
    })?;
    if interrupted.load(Ordering::Relaxed) {
        return Ok(Ended::Stopped(Stop::Interrupted));
    }
    if out_of_time.load(Ordering::Relaxed) {
        return Ok(Ended::OutOfTime);
    }
    Ok(match delivered {
        Ok(()) => Ended::Completed,
        Err(stop) => Ended::Stopped(stop),
    })
}

/// The first SIGINT, SIGTERM or SIGHUP stops the run gracefully: reading
/// stops, requests in flight get a grace period, files are closed, the
/// summary is printed. A second one exits at once, between whole writes of
/// the dead-letter files and the checkpoints (all unbuffered).
async fn watch_signals(
    cancel: CancellationToken,
    interrupted: Arc<AtomicBool>,
    stats: Arc<Stats>,
    recorders: Vec<Weak<Recorder>>,
) {
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
    // Held until the process ends: no entry is half written when it does.
    let recorders: Vec<Arc<Recorder>> = recorders.iter().filter_map(Weak::upgrade).collect();
    let _held: Vec<_> = recorders.iter().map(|recorder| recorder.hold()).collect();
    let (read, upserted, dead, blank, not_sent) = (
        Stats::get(&stats.read),
        Stats::get(&stats.upserted),
        Stats::get(&stats.dead_lettered),
        Stats::get(&stats.skipped_blank),
        Stats::get(&stats.not_sent),
    );
    let done = Stats::get(&stats.already_done);
    let unchanged = Stats::get(&stats.skipped_unchanged);
    let unknown = read.saturating_sub(upserted + dead + blank + not_sent + done + unchanged);
    crate::say!(
        "stopped at once: {read} rows read, {upserted} upserted, {dead} dead-lettered, \
         {blank} skipped blank, {not_sent} not sent, {unknown} queued or in flight with no \
         outcome recorded (an upsert is safe to send again)"
    );
    std::process::exit(i32::from(code::INTERRUPTED));
}

/// Why the reader stopped early.
enum ReadFailure {
    /// An input could not be read on (opened again, decompressed, read).
    Input(String),
    /// An output could not be written, or the reader failed.
    Output(String),
}

/// The reader thread's side of the run.
struct Reading<'a> {
    tx: mpsc::Sender<Job>,
    emit: Option<BufWriter<File>>,
    dry_run: bool,
    /// Fired by a signal, the deadline or an output that failed.
    cancel: &'a CancellationToken,
    /// Skips records the server already holds (`--state`).
    filter: Option<Filter>,
}

impl Reading<'_> {
    /// Reads every input in turn, until all are read or the run stops.
    fn all(
        &mut self,
        pending: &mut [Pending],
        opener: &Opener<'_>,
        stats: &Stats,
    ) -> Result<(), ReadFailure> {
        let mut done_bytes = 0;
        let mut result = Ok(());
        for (index, p) in pending.iter_mut().enumerate() {
            let mut input = match p.input.take() {
                Some(input) => input,
                None => match opener.open(&p.path) {
                    Ok(input) => input,
                    Err(failure) => {
                        result = Err(ReadFailure::Input(failure.message));
                        break;
                    }
                },
            };
            input.set_ledger(p.recorder.ledger.clone(), index);
            let read = self.one(
                &mut input,
                &p.recorder,
                p.dropped.as_mut(),
                (index, &p.done),
                done_bytes,
            );
            p.warnings = input.warnings();
            if let Err(e) = read {
                result = Err(e);
                break;
            }
            if self.stopped(&p.recorder) {
                break;
            }
            done_bytes += std::fs::metadata(&p.path).map_or(0, |m| m.len());
            stats.bytes_read.store(done_bytes, Ordering::Relaxed);
        }
        let flushed = self.flush_emit().map_err(ReadFailure::Output);
        result.and(flushed)
    }

    fn stopped(&self, recorder: &Recorder) -> bool {
        self.cancel.is_cancelled() || recorder.stopping() || (!self.dry_run && self.tx.is_closed())
    }

    fn flush_emit(&mut self) -> Result<(), String> {
        match self.emit.as_mut() {
            Some(writer) => writer
                .flush()
                .map_err(|e| format!("writing --emit-requests: {e}")),
            None => Ok(()),
        }
    }

    /// Reads one input: every record becomes a job, a dead letter or a
    /// blank, or is skipped when an earlier run finished it. `done_bytes`
    /// are the bytes of the inputs before it.
    fn one(
        &mut self,
        input: &mut source::Input,
        recorder: &Recorder,
        mut dropped_file: Option<&mut Warnings>,
        (index, done): (usize, &Done),
        done_bytes: u64,
    ) -> Result<(), ReadFailure> {
        let stats = &recorder.stats;
        // An output that failed: the run stops, since it no longer says
        // what was sent.
        let mut output_error = None;
        let (tx, emit, dry_run) = (&self.tx, &mut self.emit, self.dry_run);
        let filter = &mut self.filter;
        let cancel = self.cancel;
        // The record's number in reading order, blank lines included: what
        // the checkpoint records.
        let mut seq = 0;
        let mut visit = |item: Item<'_>| {
            if cancel.is_cancelled() || recorder.stopping() {
                return ControlFlow::Break(());
            }
            recorder.count(|stats| &stats.read);
            seq += 1;
            if done.contains(seq) {
                recorder.count(|stats| &stats.already_done);
                return ControlFlow::Continue(());
            }
            match item {
                Item::Blank => recorder.blank(seq),
                Item::Rejected {
                    line,
                    raw,
                    rejection,
                    source_line,
                } => recorder.rejected(seq, line, raw, &rejection, source_line),
                Item::Built {
                    line,
                    key,
                    body,
                    dropped,
                    raw,
                    source_line,
                } => {
                    match filter.as_mut().map(|f| f.check(server_trim(key), body)) {
                        None | Some(Ok(Verdict::Send)) => {}
                        Some(Ok(Verdict::Unchanged)) => {
                            recorder.unchanged(seq);
                            return ControlFlow::Continue(());
                        }
                        Some(Err(e)) => {
                            output_error = Some(format!("--state: {e}"));
                            Stats::bump(&stats.not_sent);
                            return ControlFlow::Break(());
                        }
                    }
                    let noted = match dropped_file.as_mut() {
                        Some(file) => note_dropped(file, recorder, line, source_line, dropped)
                            .map_err(|e| format!("writing the warnings file: {e}")),
                        None => Ok(()),
                    };
                    // Emitted only once noted: the file lists what is sent.
                    let emitted = noted.and_then(|()| match emit.as_mut() {
                        Some(writer) => writer
                            .write_all(body)
                            .and_then(|()| writer.write_all(b"\n"))
                            .map_err(|e| format!("writing --emit-requests: {e}")),
                        None => Ok(()),
                    });
                    if let Err(e) = emitted {
                        output_error = Some(e);
                        Stats::bump(&stats.not_sent);
                        return ControlFlow::Break(());
                    }
                    if dry_run {
                        recorder.count(|stats| &stats.upserted);
                        recorder.note_delivered(server_trim(key), line);
                        return ControlFlow::Continue(());
                    }
                    let spare = recorder.spares.take();
                    let mut job = spares::refill(spare, line, server_trim(key), body, raw);
                    (job.seq, job.input, job.source_line) = (seq, index, source_line);
                    if tx.blocking_send(job).is_err() {
                        // Delivery stopped (fatal error or interruption).
                        Stats::bump(&stats.not_sent);
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        };
        let mut progress = |bytes: u64| {
            stats
                .bytes_read
                .store(done_bytes + bytes, Ordering::Relaxed)
        };
        let read = input
            .read_all(&mut visit, &mut progress)
            .map_err(|e| ReadFailure::Input(format!("reading {}: {e}", input.preamble.input)));
        match output_error {
            Some(e) => Err(ReadFailure::Output(e)),
            None => read,
        }
    }
}

/// Notes the properties a row goes without (usually none) in the input's
/// warnings file and the counters.
fn note_dropped(
    file: &mut Warnings,
    recorder: &Recorder,
    line: u64,
    source_line: Option<u64>,
    dropped: &[Dropped],
) -> std::io::Result<()> {
    if dropped.is_empty() {
        return Ok(());
    }
    file.write(line, source_line, dropped)?;
    recorder.count(|stats| &stats.rows_with_dropped);
    for _ in dropped {
        recorder.count(|stats| &stats.properties_dropped);
    }
    Ok(())
}

/// Closes the files, prints the summary and decides the exit code.
fn finish(
    outcome: Result<Ended, Failure>,
    recorders: Vec<Arc<Recorder>>,
    stats: &Stats,
    started: Instant,
    args: &ImportArgs,
    paths: &[PathBuf],
    sync: &Hooks,
) -> Result<u8, Failure> {
    let several = recorders.len() > 1;
    let mut superseded = 0;
    let mut write_failed = false;
    let mut close_error = None;
    let mut entries = 0;
    let mut lines = Vec::new();
    let mut only_path = None;
    let complete = matches!(outcome, Ok(Ended::Completed));
    for (recorder, path) in recorders.into_iter().zip(paths) {
        let mut recorder = Arc::try_unwrap(recorder)
            .unwrap_or_else(|_| unreachable!("every task holding the recorder has ended"));
        if let Some(checkpoint) = recorder.checkpoint.take() {
            resume::close_checkpoint(checkpoint, complete);
        }
        write_failed |= recorder.write_failed.load(Ordering::Relaxed);
        superseded = recorder.ledger.superseded();
        let own = Summary::new(&recorder.own, started.elapsed(), args.dry_run);
        let dead_letters = recorder.into_dead_letters();
        let dead_letter_path = dead_letters.path().to_path_buf();
        match dead_letters.finish() {
            Ok(n) => entries += n,
            Err(e) => close_error = Some((dead_letter_path.clone(), e)),
        }
        if several {
            lines.push(own.input_line(path, &dead_letter_path));
        }
        only_path = Some(dead_letter_path);
    }
    let summary = Summary::new(stats, started.elapsed(), args.dry_run);
    for line in &lines {
        crate::say!("{line}");
    }
    let shown_path = if several { None } else { only_path };
    summary.print(shown_path.as_deref(), entries);
    if superseded > 0 {
        crate::notice!(
            "warning: {superseded} rows were accepted after an earlier row of the same customer \
             was dead-lettered; importing the dead-letter file later would put that older \
             row's values back over theirs (see \"The dead-letter workflow\" in the README)"
        );
    }
    if let Some((path, e)) = close_error {
        return Err(Failure::during_run(format!(
            "closing the dead-letter file {}: {e}",
            path.display()
        )));
    }
    if write_failed {
        return Err(Failure::during_run(
            "some rejected rows could not be written to the dead-letter file",
        ));
    }
    let outcome = outcome?;
    if let Some(reason) = sync.stopped() {
        return Err(Failure::during_run(reason.message()));
    }
    match outcome {
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
        Ended::OutOfTime => {
            crate::say!(
                "stopped at the --max-runtime deadline: {} rows were not sent",
                Stats::get(&stats.not_sent)
            );
            Ok(code::OUT_OF_TIME)
        }
        // Entries an earlier run wrote count too: the job is not clean.
        Ended::Completed if entries > 0 => Ok(code::PARTIAL),
        Ended::Completed => Ok(code::OK),
    }
}
