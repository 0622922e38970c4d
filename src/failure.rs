//! Failures that end a run, each with its exit code, and how they are shown.

use std::fmt;

/// Exit codes, as `shared/tools/CONTRACT.md` fixes them.
pub mod code {
    /// Every record upserted (or valid, in a dry run).
    pub const OK: u8 = 0;
    /// The input was read to the end and some records were dead-lettered.
    pub const PARTIAL: u8 = 1;
    /// Stopped before sending anything: usage, mapping, unreadable file.
    pub const BEFORE_SENDING: u8 = 2;
    /// Stopped during the run: authentication, workspace set-up.
    pub const DURING_RUN: u8 = 3;
    /// Interrupted by a signal.
    pub const INTERRUPTED: u8 = 130;
    /// Stopped cleanly at the `--max-runtime` deadline, checkpointed: the
    /// same command run again continues. 75 is `EX_TEMPFAIL` of sysexits.h,
    /// "a temporary failure; try again later".
    pub const OUT_OF_TIME: u8 = 75;
}

/// A run-ending failure: what went wrong, and what to do about it.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    /// A problem found before anything was sent (exit 2).
    pub fn before_sending(message: impl Into<String>) -> Self {
        Failure {
            code: code::BEFORE_SENDING,
            message: message.into(),
            hint: None,
        }
    }

    /// A problem that stopped a run under way (exit 3).
    pub fn during_run(message: impl Into<String>) -> Self {
        Failure {
            code: code::DURING_RUN,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    /// `error: ...` then an optional `hint: ...` line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines = self.message.lines();
        write!(f, "error: {}", lines.next().unwrap_or_default())?;
        for line in lines {
            write!(f, "\n  {line}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}
