//! Messages for people, on standard error. Writing one must never end a
//! run: a closed or full standard error loses the message, not the data.
//!
//! With `--log-format json` every message becomes one JSON object a line,
//! shaped like the diagnostics tracing writes in that mode
//! (`timestamp`, `level`, `message`, `target`), so one parser reads both.
//! With `--quiet`, [`notice!`](crate::notice) messages (warnings) are
//! dropped; errors and the summary, written with [`say!`](crate::say),
//! always show.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

static JSON: AtomicBool = AtomicBool::new(false);
static QUIET: AtomicBool = AtomicBool::new(false);

/// Chooses the message format and verbosity, once, at start.
pub fn configure(json: bool, quiet: bool) {
    JSON.store(json, Ordering::Relaxed);
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether messages are JSON lines.
pub fn is_json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Whether only errors and the summary are shown.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes one message. In JSON its level is read from its prefix: `error:`
/// is ERROR, `warning:` is WARN, anything else INFO.
pub fn say(message: std::fmt::Arguments<'_>) {
    if !is_json() {
        let _ = writeln!(std::io::stderr(), "{message}");
        return;
    }
    let message = message.to_string();
    let level = if message.starts_with("error:") {
        "ERROR"
    } else if message.starts_with("warning:") {
        "WARN"
    } else {
        "INFO"
    };
    say_fields(level, &message, serde_json::Value::Null);
}

/// Writes one JSON object: `message` at `level`, with the members of
/// `fields` (an object) beside them. Used in JSON mode only.
pub fn say_fields(level: &str, message: &str, fields: serde_json::Value) {
    let mut object = serde_json::Map::new();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    object.insert("timestamp".into(), now.into());
    object.insert("level".into(), level.into());
    object.insert("message".into(), message.into());
    if let serde_json::Value::Object(fields) = fields {
        object.extend(fields);
    }
    object.insert("target".into(), "laudspeaker_import".into());
    let mut line = serde_json::Value::Object(object).to_string();
    line.push('\n');
    // One write per line, so lines from several threads never interleave.
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// `eprintln!` that ignores a failed write instead of panicking, and
/// follows `--log-format`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::say(format_args!($($arg)*))
    };
}

/// [`say!`] for messages `--quiet` hides (warnings, notes).
#[macro_export]
macro_rules! notice {
    ($($arg:tt)*) => {
        if !$crate::console::is_quiet() {
            $crate::console::say(format_args!($($arg)*))
        }
    };
}
