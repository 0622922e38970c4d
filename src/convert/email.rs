//! The `email` rule: one plausible address, normalised the same way on every
//! import so that it can serve as a primary key.
//!
//! Surrounding Unicode white space (tab, U+00A0, U+3000, ...) is removed.
//! What is left must hold exactly one `@` with something before it, no white
//! space or control character anywhere, and a domain with at least one dot
//! and no empty label. This is a shape check, not full RFC 5322 validation:
//! its aim is to refuse values that are clearly not one address.

use super::text::{escape_json_str, escape_json_str_lower, push_key};
use super::ConvertError;

/// Checks an address; returns it trimmed, or `None` when empty.
pub(crate) fn check_email(text: &str) -> Result<Option<&str>, ConvertError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    fault(text).map_or(Ok(Some(text)), |why| {
        Err(ConvertError(format!("not an email address: {why}")))
    })
}

/// Writes a value of type `email`; an empty value writes nothing.
pub(crate) fn write_email(
    text: &str,
    lowercase: bool,
    out: &mut Vec<u8>,
) -> Result<bool, ConvertError> {
    let Some(address) = check_email(text)? else {
        return Ok(false);
    };
    if lowercase {
        escape_json_str_lower(address, out);
    } else {
        escape_json_str(address, out);
    }
    Ok(true)
}

/// The normalised address as an owned key; `None` when empty.
#[cfg(test)]
pub(crate) fn email_key(text: &str, lowercase: bool) -> Result<Option<String>, ConvertError> {
    let mut key = String::new();
    Ok(email_key_into(text, lowercase, &mut key)?.then_some(key))
}

/// Appends the normalised address to `key`; false when empty.
pub(crate) fn email_key_into(
    text: &str,
    lowercase: bool,
    key: &mut String,
) -> Result<bool, ConvertError> {
    let Some(address) = check_email(text)? else {
        return Ok(false);
    };
    push_key(address, lowercase, key);
    Ok(true)
}

/// Names the first thing that keeps a trimmed value from being one address.
///
/// Works on bytes: `@` and `.` are ASCII, and bytes of a multi-byte
/// character are never ASCII, so no character needs decoding unless a byte
/// outside printable ASCII is present.
fn fault(address: &str) -> Option<String> {
    let printable_ascii = address.bytes().all(|b| (0x21..0x7f).contains(&b));
    if !printable_ascii {
        if let Some(fault) = character_fault(address) {
            return Some(fault);
        }
    }
    let bytes = address.as_bytes();
    let (local, domain) = match bytes.iter().filter(|&&b| b == b'@').count() {
        0 => return Some("no `@`".to_string()),
        1 => address.split_once('@')?,
        _ => return Some("two or more `@` (exactly one is allowed)".to_string()),
    };
    if local.is_empty() {
        return Some("nothing before the `@`".to_string());
    }
    if domain.is_empty() {
        return Some("no domain after the `@`".to_string());
    }
    let domain = domain.as_bytes();
    if !domain.contains(&b'.') {
        return Some("domain has no dot".to_string());
    }
    let empty_label = domain.starts_with(b".")
        || domain.ends_with(b".")
        || domain.windows(2).any(|pair| pair == b"..");
    if empty_label {
        return Some("domain has an empty label (a dot at either end or two dots)".to_string());
    }
    None
}

/// White space or a control character inside the address, named.
fn character_fault(address: &str) -> Option<String> {
    for c in address.chars() {
        if c.is_whitespace() {
            return Some("white space inside".to_string());
        }
        if c.is_control() {
            let name = if c == '\0' {
                "NUL byte"
            } else {
                "control character"
            };
            return Some(format!("{name} U+{:04X} inside", u32::from(c)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str, lowercase: bool) -> Result<Option<String>, String> {
        let mut out = Vec::new();
        match write_email(text, lowercase, &mut out) {
            Ok(true) => Ok(Some(String::from_utf8(out).expect("UTF-8 in, UTF-8 out"))),
            Ok(false) => {
                assert!(out.is_empty());
                Ok(None)
            }
            Err(err) => {
                assert!(out.is_empty(), "nothing written on error");
                Err(err.0)
            }
        }
    }

    fn refused(text: &str) -> String {
        email(text, false).expect_err("refused")
    }

    #[test]
    fn case_addresses_are_trimmed_and_lowercased() {
        let ana = email("  Ana.Lima@Example.COM ", true);
        assert_eq!(ana, Ok(Some(r#""ana.lima@example.com""#.into())));
        let bruno = email("bruno@example.com\u{a0} ", true);
        assert_eq!(bruno, Ok(Some(r#""bruno@example.com""#.into())));
        let carla = email("\tcarla@EXAMPLE.org", true);
        assert_eq!(carla, Ok(Some(r#""carla@example.org""#.into())));
        let amy = email("amy@example.com", false);
        assert_eq!(amy, Ok(Some(r#""amy@example.com""#.into())));
    }

    #[test]
    fn case_is_kept_unless_lowercase_is_asked() {
        let kept = email(" Ana.Lima@Example.COM", false);
        assert_eq!(kept, Ok(Some(r#""Ana.Lima@Example.COM""#.into())));
        let unicode = email("ÉLODIE@EXAMPLE.FR", true);
        assert_eq!(unicode, Ok(Some(r#""élodie@example.fr""#.into())));
    }

    #[test]
    fn any_unicode_white_space_around_is_removed() {
        let wrapped = "\u{3000}\u{a0}\t\r\n x@example.com \u{2003}\u{202f}\u{85}";
        assert_eq!(email(wrapped, false), Ok(Some(r#""x@example.com""#.into())));
    }

    #[test]
    fn empty_and_blank_values_are_empty() {
        assert_eq!(email("", false), Ok(None));
        assert_eq!(email(" \u{a0}\t", true), Ok(None));
    }

    #[test]
    fn case_garbage_is_refused_naming_the_fault() {
        assert_eq!(
            refused("dario at example.com"),
            "not an email address: white space inside"
        );
        let two = "elsa@example.com; fred@example.com";
        assert_eq!(refused(two), "not an email address: white space inside");
        let at = "not an email address: two or more `@` (exactly one is allowed)";
        assert_eq!(refused("gina@@example.com"), at);
        assert_eq!(
            refused("hugo@example"),
            "not an email address: domain has no dot"
        );
    }

    #[test]
    fn other_shapes_are_refused_naming_the_fault() {
        assert_eq!(refused("example.com"), "not an email address: no `@`");
        assert_eq!(
            refused("a@b@c.com"),
            "not an email address: two or more `@` (exactly one is allowed)"
        );
        assert_eq!(
            refused("@example.com"),
            "not an email address: nothing before the `@`"
        );
        assert_eq!(
            refused("joe@"),
            "not an email address: no domain after the `@`"
        );
        let label =
            "not an email address: domain has an empty label (a dot at either end or two dots)";
        assert_eq!(refused("joe@.example.com"), label);
        assert_eq!(refused("joe@example.com."), label);
        assert_eq!(refused("joe@example..com"), label);
        assert_eq!(
            refused("joe@exa\u{a0}mple.com"),
            "not an email address: white space inside"
        );
        assert_eq!(
            refused("jo\u{1}e@example.com"),
            "not an email address: control character U+0001 inside"
        );
        assert_eq!(
            refused("jo\u{0}e@example.com"),
            "not an email address: NUL byte U+0000 inside"
        );
    }

    #[test]
    fn email_key_is_the_normalised_address() {
        assert_eq!(
            email_key(" U1@Example.com ", true),
            Ok(Some("u1@example.com".into()))
        );
        assert_eq!(
            email_key(" U1@Example.com ", false),
            Ok(Some("U1@Example.com".into()))
        );
        assert_eq!(email_key("\u{a0}", true), Ok(None));
        assert!(email_key("hugo@example", true).is_err());
    }
}
