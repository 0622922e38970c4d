//! Text values: the `string` rule (optional trim and lowercase) and the JSON
//! string escaper every other rule uses to write text into a request body.
//!
//! Values are escaped straight into the output buffer; a copy is made only
//! to lowercase text that is not plain ASCII.

use super::ConvertError;

/// What a byte turns into inside a JSON string: 0 for itself, `u` for a
/// `\u00XX` escape, any other letter for a two-character escape.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` to `out` as a quoted JSON string.
///
/// Only `"`, `\` and the control characters below U+0020 are escaped; every
/// other character, ASCII or not, is copied as UTF-8.
pub fn escape_json_str(s: &str, out: &mut Vec<u8>) {
    let mut rest = s.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    while let Some(at) = first_escape(rest) {
        out.extend_from_slice(&rest[..at]);
        let byte = rest[at];
        match ESCAPE[byte as usize] {
            b'u' => {
                let digits = [HEX[(byte >> 4) as usize], HEX[(byte & 0xf) as usize]];
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&digits);
            }
            escape => out.extend_from_slice(&[b'\\', escape]),
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// Index of the first byte that needs an escape.
///
/// Eight bytes are tested at a time, since most text needs no escape and
/// values can be long (free-text notes).
fn first_escape(bytes: &[u8]) -> Option<usize> {
    let needs_escape = |byte: &u8| ESCAPE[*byte as usize] != 0;
    let chunks = bytes.chunks_exact(8);
    let tail = bytes.len() - chunks.remainder().len();
    for (index, chunk) in chunks.enumerate() {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8 bytes"));
        if word_needs_escape(word) {
            if let Some(at) = chunk.iter().position(needs_escape) {
                return Some(index * 8 + at);
            }
        }
    }
    bytes[tail..]
        .iter()
        .position(needs_escape)
        .map(|at| tail + at)
}

/// Whether any of eight bytes is below 0x20, `"` or `\`.
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v;
    (below_space | zero_in(quote) | zero_in(backslash)) & HIGH != 0
}

/// Appends `s` lowercased, as a quoted JSON string.
pub(crate) fn escape_json_str_lower(s: &str, out: &mut Vec<u8>) {
    if s.is_ascii() {
        // Escapes are lowercase already, so lowercasing what was written
        // lowercases exactly the text.
        let start = out.len();
        escape_json_str(s, out);
        out[start..].make_ascii_lowercase();
    } else {
        escape_json_str(&s.to_lowercase(), out);
    }
}

/// Refuses text holding U+0000: such a value is a damaged record, and
/// dropping the NUL silently would change data without telling anyone.
pub(crate) fn refuse_nul(text: &str) -> Result<(), ConvertError> {
    match memchr::memchr(0, text.as_bytes()) {
        Some(_) => Err(ConvertError(
            "NUL byte (U+0000) inside the value".to_string(),
        )),
        None => Ok(()),
    }
}

/// The `string` rule's text: trimmed when `trim` is set; `None` when empty.
pub(crate) fn string_text(text: &str, trim: bool) -> Option<&str> {
    let text = if trim { text.trim() } else { text };
    (!text.is_empty()).then_some(text)
}

/// Writes a value of type `string`; an empty value writes nothing.
/// The caller has refused U+0000 already.
pub(crate) fn write_string(text: &str, trim: bool, lowercase: bool, out: &mut Vec<u8>) -> bool {
    let Some(text) = string_text(text, trim) else {
        return false;
    };
    if lowercase {
        escape_json_str_lower(text, out);
    } else {
        escape_json_str(text, out);
    }
    true
}

/// The `string` rule's text as an owned key; `None` when empty.
/// `s` without the white space Laudspeaker's server trims off a primary
/// key: JavaScript's `String.prototype.trim`, which (unlike Rust's `trim`)
/// removes U+FEFF and keeps U+0085.
pub fn server_trim(s: &str) -> &str {
    s.trim_matches(is_js_white_space)
}

fn is_js_white_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

#[cfg(test)]
pub(crate) fn string_key(
    text: &str,
    trim: bool,
    lowercase: bool,
) -> Result<Option<String>, ConvertError> {
    let mut key = String::new();
    Ok(string_key_into(text, trim, lowercase, &mut key)?.then_some(key))
}

/// Appends the `string` rule's key to `key`; false when empty.
pub(crate) fn string_key_into(
    text: &str,
    trim: bool,
    lowercase: bool,
    key: &mut String,
) -> Result<bool, ConvertError> {
    refuse_nul(text)?;
    // The server trims keys itself, so a key of white space only names nobody.
    if server_trim(text).is_empty() {
        return Ok(false);
    }
    let text = string_text(text, trim).unwrap_or_default();
    push_key(text, lowercase, key);
    Ok(true)
}

/// Appends `text` to `key`, lowercased when asked.
pub(crate) fn push_key(text: &str, lowercase: bool, key: &mut String) {
    if !lowercase {
        key.push_str(text);
    } else if text.is_ascii() {
        let start = key.len();
        key.push_str(text);
        key[start..].make_ascii_lowercase();
    } else {
        // Full Unicode rules (a final sigma depends on its neighbours).
        key.push_str(&text.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        escape_json_str(s, &mut out);
        String::from_utf8(out).expect("escaping keeps UTF-8")
    }

    fn string(text: &str, trim: bool, lowercase: bool) -> Result<Option<String>, ConvertError> {
        let mut out = b"prefix:".to_vec();
        let written = write_string(text, trim, lowercase, &mut out);
        let out = String::from_utf8(out).expect("UTF-8 in, UTF-8 out");
        let body = out.strip_prefix("prefix:").expect("prefix kept");
        assert_eq!(written, !body.is_empty());
        Ok(written.then(|| body.to_string()))
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_characters() {
        assert_eq!(escaped(""), r#""""#);
        assert_eq!(escaped("plain"), r#""plain""#);
        assert_eq!(escaped(r#"Bo "Bobby" Lee"#), r#""Bo \"Bobby\" Lee""#);
        assert_eq!(escaped(r"C:\dir"), r#""C:\\dir""#);
        assert_eq!(escaped("a\nb\r\tc"), r#""a\nb\r\tc""#);
        assert_eq!(escaped("\u{8}\u{c}"), r#""\b\f""#);
        assert_eq!(escaped("\u{1}\u{1f}\u{0}"), r#""\u0001\u001f\u0000""#);
        assert_eq!(escaped("\u{7f}"), "\"\u{7f}\"");
    }

    #[test]
    fn escapes_are_found_at_every_position_of_long_text() {
        for special in ['"', '\\', '\u{0}', '\n', '\u{1f}'] {
            for at in 0..20 {
                let mut text: String = "abcdefghijklmnopqrstu".chars().take(20).collect();
                text.insert(at, special);
                let back: String = serde_json::from_str(&escaped(&text)).expect("valid JSON");
                assert_eq!(back, text);
                assert_eq!(first_escape(text.as_bytes()), Some(at));
            }
        }
        assert_eq!(
            first_escape(" !#~\u{7f}é€ plain text of some length".as_bytes()),
            None
        );
        for byte in 0..=255u8 {
            let word = u64::from_le_bytes([b'a', b'a', b'a', byte, b'a', b'a', b'a', b'a']);
            assert_eq!(
                word_needs_escape(word),
                ESCAPE[byte as usize] != 0,
                "{byte}"
            );
        }
    }

    #[test]
    fn copies_non_ascii_text_unchanged() {
        assert_eq!(escaped("Söhne €"), "\"Söhne €\"");
        assert_eq!(escaped("\u{2028}"), "\"\u{2028}\"");
        assert_eq!(escaped("日本\"語"), "\"日本\\\"語\"");
    }

    #[test]
    fn escaped_text_reads_back_as_the_same_string() {
        let samples = [
            "",
            "a\"b\\c",
            "\u{0}\u{1}\u{1f} \u{7f}",
            "tab\there",
            "€\n日本",
        ];
        for sample in samples {
            let back: String = serde_json::from_str(&escaped(sample)).expect("valid JSON");
            assert_eq!(back, sample);
        }
    }

    #[test]
    fn string_is_sent_byte_for_byte_without_options() {
        assert_eq!(string("02134", false, false), Ok(Some(r#""02134""#.into())));
        assert_eq!(string("TRUE", false, false), Ok(Some(r#""TRUE""#.into())));
        assert_eq!(string("null", false, false), Ok(Some(r#""null""#.into())));
        assert_eq!(
            string("  Vandelay ", false, false),
            Ok(Some(r#""  Vandelay ""#.into()))
        );
        let note = "Line one\nLine two\n";
        assert_eq!(
            string(note, false, false),
            Ok(Some(r#""Line one\nLine two\n""#.into()))
        );
    }

    #[test]
    fn string_trims_and_lowercases_when_asked() {
        assert_eq!(
            string("  Vandelay ", true, false),
            Ok(Some(r#""Vandelay""#.into()))
        );
        assert_eq!(
            string("\u{a0}Acme\u{3000}", true, false),
            Ok(Some(r#""Acme""#.into()))
        );
        assert_eq!(
            string(" ÉCOLE Ω ", true, true),
            Ok(Some(r#""école ω""#.into()))
        );
        assert_eq!(
            string("A\u{1F}B", false, true),
            Ok(Some(r#""a\u001fb""#.into()))
        );
    }

    #[test]
    fn string_is_empty_only_when_nothing_is_left() {
        assert_eq!(string("", false, false), Ok(None));
        assert_eq!(string("", true, true), Ok(None));
        assert_eq!(string("   ", true, false), Ok(None));
        assert_eq!(string("   ", false, false), Ok(Some(r#""   ""#.into())));
    }

    #[test]
    fn text_with_a_nul_byte_is_refused() {
        let err = refuse_nul("Qu\u{0}inn").expect_err("NUL refused");
        assert!(err.0.contains("NUL byte"), "{err}");
    }

    #[test]
    fn the_server_trim_is_javascripts() {
        assert_eq!(server_trim("\u{feff} k0\u{3000}"), "k0");
        assert_eq!(server_trim("\u{85}k\u{85}"), "\u{85}k\u{85}");
        assert_eq!(string_key("\u{feff}", false, false), Ok(None));
    }

    #[test]
    fn string_key_is_normalised_and_empty_when_blank() {
        assert_eq!(string_key("00042", false, false), Ok(Some("00042".into())));
        assert_eq!(string_key(" AbC ", true, true), Ok(Some("abc".into())));
        assert_eq!(string_key(" AbC ", false, false), Ok(Some(" AbC ".into())));
        assert_eq!(string_key("", false, false), Ok(None));
        assert_eq!(string_key(" \t", false, false), Ok(None));
        assert!(string_key("a\u{0}", false, false).is_err());
    }
}
