//! The API key, kept in a type that never prints its value.

use std::fmt;

/// A workspace API key. `Display` and `Debug` print a placeholder; the real
/// value is only reachable through [`ApiKey::expose`], so it cannot leak into
/// a log line, an error chain or a report by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(value: impl Into<String>) -> Self {
        ApiKey(value.into())
    }

    /// The key itself, for the one place that needs it: the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// For the command line: `--api-key` is held as an `ApiKey` from the
/// moment it is parsed, so printing the parsed arguments shows no key.
impl From<String> for ApiKey {
    fn from(value: String) -> Self {
        ApiKey(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_debug_hide_the_value() {
        let key = ApiKey::new("ls_secret_123");
        assert_eq!(format!("{key}"), "<redacted>");
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        assert_eq!(key.expose(), "ls_secret_123");
    }
}
