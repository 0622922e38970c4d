//! Measuring a child process the way `/usr/bin/time -v` does: wall time,
//! user + system CPU time and peak resident memory.
//!
//! The crate forbids `unsafe`, so `wait4` is not called here: the importer
//! runs under GNU time (`/usr/bin/time -f`), which calls it and writes the
//! figures to a file. A process still running (the emulator) is read from
//! `/proc/PID/stat` and `/proc/PID/status` instead.

use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const GNU_TIME: &str = "/usr/bin/time";

/// What one run of a child cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub wall: Duration,
    /// User + system CPU time; `None` when GNU time is missing.
    pub cpu: Option<Duration>,
    /// Peak resident set size in bytes; `None` when GNU time is missing.
    pub peak_rss: Option<u64>,
}

/// Runs `program args` to its end; its standard error is discarded and
/// standard output inherited.
pub fn run(program: &Path, args: &[String], scratch: &Path) -> (ExitStatus, Usage) {
    let report = scratch.join("time.out");
    let _ = std::fs::remove_file(&report);
    let timed = Path::new(GNU_TIME).exists();
    let mut command = if timed {
        let mut command = Command::new(GNU_TIME);
        command
            .args(["-f", "%U %S %M", "-o"])
            .arg(&report)
            .arg(program);
        command
    } else {
        Command::new(program)
    };
    command.args(args).stderr(Stdio::null());
    let started = Instant::now();
    let status = command.status().expect("run the measured program");
    let wall = started.elapsed();
    let (cpu, peak_rss) = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| parse_time_report(&text))
        .map_or((None, None), |(cpu, rss)| (Some(cpu), Some(rss)));
    let usage = Usage {
        wall,
        cpu,
        peak_rss,
    };
    (status, usage)
}

/// `%U %S %M` as GNU time writes them (the last line; a killed child adds
/// a line before it).
fn parse_time_report(text: &str) -> Option<(Duration, u64)> {
    let line = text.lines().last()?;
    let mut parts = line.split_whitespace();
    let user: f64 = parts.next()?.parse().ok()?;
    let system: f64 = parts.next()?.parse().ok()?;
    let rss_kb: u64 = parts.next()?.parse().ok()?;
    Some((Duration::from_secs_f64(user + system), rss_kb * 1024))
}

/// User + system CPU time a running process has used so far.
pub fn cpu_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14 and stime 15.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / clock_ticks()))
}

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`).
fn clock_ticks() -> f64 {
    let asked = Command::new("getconf").arg("CLK_TCK").output().ok();
    asked
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU time of this process so far.
pub fn own_cpu() -> Option<Duration> {
    cpu_of(std::process::id())
}
