//! Messages for people, on standard error. Writing one must never end a
//! run: a closed or full standard error loses the message, not the data.

/// `eprintln!` that ignores a failed write instead of panicking.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
