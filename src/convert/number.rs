//! The `number` rule: strict decimal text in, valid JSON number text out.
//!
//! Accepted: `[+-]?(digits[.digits] | .digits)([eE][+-]?digits)?` with
//! surrounding white space ignored. Every digit is kept; only what JSON
//! forbids is rewritten (`+5` -> `5`, `.5` -> `0.5`, `007` -> `7`). A point
//! with no digit after it (`5.`) does not match the rule and is refused.
//! Integers beyond 2^53 - 1 and values beyond the range of a 64-bit float are
//! refused, because Laudspeaker's JavaScript server would change them.

use super::ConvertError;

/// 2^53 - 1, the largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: &str = "9007199254740991";

/// Integer digits below which no fraction can overflow a 64-bit float.
const SAFE_INTEGER_DIGITS: usize = 300;

/// A number split into the pieces the rule names.
#[derive(Debug, PartialEq, Eq)]
struct Parts<'a> {
    negative: bool,
    /// Digits before the point; empty for `.5`.
    integer: &'a str,
    /// Digits after the point, if there is a point.
    fraction: Option<&'a str>,
    /// The whole exponent, letter and sign included (`e+05`).
    exponent: Option<&'a str>,
}

/// Where the text stopped matching the rule.
#[derive(Debug, PartialEq, Eq)]
enum Fault {
    NoDigits,
    NoFractionDigits,
    NoExponentDigits,
    /// An unexpected character at this byte index.
    Unexpected(usize),
}

/// Writes a value of type `number`; an empty value writes nothing.
pub(crate) fn write_number(text: &str, out: &mut Vec<u8>) -> Result<bool, ConvertError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(false);
    }
    let parts = split(text).map_err(|fault| ConvertError(explain(text, fault)))?;
    check_exact(text, &parts)?;
    write_parts(&parts, out);
    Ok(true)
}

/// Splits `text` by the rule, or says where it stops matching.
fn split(text: &str) -> Result<Parts<'_>, Fault> {
    let bytes = text.as_bytes();
    let digits_from = |start: usize| {
        let count = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        start + count
    };
    let negative = bytes.first() == Some(&b'-');
    let mut at = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    let integer_end = digits_from(at);
    let integer = &text[at..integer_end];
    at = integer_end;
    let mut fraction = None;
    if bytes.get(at) == Some(&b'.') {
        let end = digits_from(at + 1);
        if end == at + 1 {
            return Err(match (integer.is_empty(), end < bytes.len()) {
                (false, _) => Fault::NoFractionDigits,
                (true, true) => Fault::Unexpected(end),
                (true, false) => Fault::NoDigits,
            });
        }
        fraction = Some(&text[at + 1..end]);
        at = end;
    }
    if integer.is_empty() && fraction.is_none() {
        return Err(if at < bytes.len() {
            Fault::Unexpected(at)
        } else {
            Fault::NoDigits
        });
    }
    let mut exponent = None;
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        let signed = at + 1 + usize::from(matches!(bytes.get(at + 1), Some(b'+' | b'-')));
        let end = digits_from(signed);
        if end == signed {
            return Err(Fault::NoExponentDigits);
        }
        exponent = Some(&text[at..end]);
        at = end;
    }
    if at != bytes.len() {
        return Err(Fault::Unexpected(at));
    }
    Ok(Parts {
        negative,
        integer,
        fraction,
        exponent,
    })
}

/// Refuses numbers that a JavaScript number would not hold as written.
fn check_exact(text: &str, parts: &Parts<'_>) -> Result<(), ConvertError> {
    let digits = parts.integer.trim_start_matches('0');
    let plain_integer = parts.fraction.is_none() && parts.exponent.is_none();
    let too_long = digits.len() > MAX_SAFE_INTEGER.len()
        || (digits.len() == MAX_SAFE_INTEGER.len() && digits > MAX_SAFE_INTEGER);
    if plain_integer && too_long {
        return Err(ConvertError(format!(
            "integer too large to keep exact (above 2^53 - 1 = {MAX_SAFE_INTEGER})"
        )));
    }
    if parts.exponent.is_some() || digits.len() > SAFE_INTEGER_DIGITS {
        let finite = text.parse::<f64>().is_ok_and(f64::is_finite);
        if !finite {
            return Err(ConvertError(
                "number out of range: too large for a 64-bit float".to_string(),
            ));
        }
    }
    Ok(())
}

/// Writes the parts as JSON number text, keeping every digit.
fn write_parts(parts: &Parts<'_>, out: &mut Vec<u8>) {
    if parts.negative {
        out.push(b'-');
    }
    let integer = parts.integer.trim_start_matches('0');
    out.extend_from_slice(if integer.is_empty() {
        b"0"
    } else {
        integer.as_bytes()
    });
    if let Some(fraction) = parts.fraction {
        out.push(b'.');
        out.extend_from_slice(fraction.as_bytes());
    }
    if let Some(exponent) = parts.exponent {
        out.extend_from_slice(exponent.as_bytes());
    }
}

/// Names what is wrong with text that does not match the rule.
fn explain(text: &str, fault: Fault) -> String {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    let why = if lower == "nan" {
        "NaN is not accepted".to_string()
    } else if lower == "inf" || lower == "infinity" {
        "Infinity is not accepted".to_string()
    } else if lower.starts_with("0x") {
        "hexadecimal is not accepted".to_string()
    } else if text.contains(',') && numeric_but_for(text, |c| c == ',') {
        explain_comma(text).to_string()
    } else if text.contains(char::is_whitespace) && numeric_but_for(text, char::is_whitespace) {
        "white space inside (thousands separators are not accepted)".to_string()
    } else {
        match fault {
            Fault::NoDigits => "no digits".to_string(),
            Fault::NoFractionDigits => "no digit after the decimal point".to_string(),
            Fault::NoExponentDigits => "no digit in the exponent".to_string(),
            Fault::Unexpected(at) => match text[at..].chars().next().unwrap_or(' ') {
                found if found.is_whitespace() => "unexpected white space".to_string(),
                found => format!("unexpected `{found}`"),
            },
        }
    };
    format!("not a number: {why}")
}

/// Tells a decimal comma (`12,5`) from a comma that may group thousands.
/// Whether `text` is made of number characters and `separator`s only, so a
/// hint about digit grouping fits; other text is told its first odd letter.
fn numeric_but_for(text: &str, separator: impl Fn(char) -> bool) -> bool {
    text.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-') || separator(c))
}

fn explain_comma(text: &str) -> &'static str {
    let mut groups = text.split(',');
    let _ = groups.next();
    let after: Vec<&str> = groups.collect();
    let grouped = after.iter().enumerate().all(|(i, group)| {
        let digits = if i + 1 == after.len() {
            group.split('.').next()
        } else {
            Some(*group)
        };
        digits.is_some_and(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
    });
    if grouped {
        "thousands separators and decimal commas are not accepted"
    } else {
        "decimal comma is not accepted (the decimal mark is `.`)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Result<Option<String>, String> {
        let mut out = Vec::new();
        match write_number(text, &mut out) {
            Ok(true) => Ok(Some(String::from_utf8(out).expect("ASCII digits"))),
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

    fn written(text: &str) -> String {
        number(text).expect("accepted").expect("not empty")
    }

    fn refused(text: &str) -> String {
        number(text).expect_err("refused")
    }

    #[test]
    fn case_values_are_accepted_as_written() {
        assert_eq!(written("42"), "42");
        assert_eq!(written(" -3.50 "), "-3.50");
        assert_eq!(written("1e3"), "1e3");
        assert_eq!(written("007"), "7");
        assert_eq!(written("9007199254740991"), "9007199254740991");
        assert_eq!(written("1234"), "1234");
        assert_eq!(written("99.90"), "99.90");
    }

    #[test]
    fn forms_json_forbids_are_rewritten_keeping_every_digit() {
        assert_eq!(written("+5"), "5");
        assert_eq!(written("+1.50"), "1.50");
        assert_eq!(written(".5"), "0.5");
        assert_eq!(written("-.5"), "-0.5");
        assert_eq!(written("+.25e-3"), "0.25e-3");
        assert_eq!(written("-007.010"), "-7.010");
        assert_eq!(written("000"), "0");
        assert_eq!(written("-0"), "-0");
        assert_eq!(written("+0.0"), "0.0");
        assert_eq!(written("1E5"), "1E5");
        assert_eq!(written("1e+05"), "1e+05");
        assert_eq!(written("00.5E-007"), "0.5E-007");
    }

    #[test]
    fn written_text_is_valid_json() {
        for text in [
            "+5", ".5", "007", "-0.0", "1E5", "1e+05", "-.5e-3", "0009.9",
        ] {
            let json = written(text);
            let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            assert!(value.is_number(), "{text} -> {json}");
        }
    }

    #[test]
    fn empty_and_blank_values_are_empty() {
        assert_eq!(number(""), Ok(None));
        assert_eq!(number("   "), Ok(None));
        assert_eq!(number("\t\u{a0}"), Ok(None));
    }

    #[test]
    fn surrounding_unicode_white_space_is_ignored() {
        assert_eq!(written("\u{a0}12\u{3000}"), "12");
        assert_eq!(written("\t-1\r\n"), "-1");
    }

    #[test]
    fn non_numbers_are_refused_naming_the_fault() {
        assert_eq!(refused("0x1A"), "not a number: hexadecimal is not accepted");
        assert_eq!(
            refused("-0X1f"),
            "not a number: hexadecimal is not accepted"
        );
        assert_eq!(
            refused("Infinity"),
            "not a number: Infinity is not accepted"
        );
        assert_eq!(refused("-inf"), "not a number: Infinity is not accepted");
        assert_eq!(refused("NaN"), "not a number: NaN is not accepted");
        assert_eq!(refused("nan"), "not a number: NaN is not accepted");
        assert_eq!(refused("abc"), "not a number: unexpected `a`");
        assert_eq!(refused("+"), "not a number: no digits");
        assert_eq!(refused("."), "not a number: no digits");
        assert_eq!(refused("-."), "not a number: no digits");
        assert_eq!(
            refused("5."),
            "not a number: no digit after the decimal point"
        );
        assert_eq!(refused("1e"), "not a number: no digit in the exponent");
        assert_eq!(refused("1e+"), "not a number: no digit in the exponent");
        assert_eq!(refused("1.2.3"), "not a number: unexpected `.`");
        assert_eq!(refused("--5"), "not a number: unexpected `-`");
        assert_eq!(refused(".x"), "not a number: unexpected `x`");
        assert_eq!(refused("5-"), "not a number: unexpected `-`");
        assert_eq!(refused("1'000"), "not a number: unexpected `'`");
        assert_eq!(refused("1_000"), "not a number: unexpected `_`");
        assert_eq!(refused("12€"), "not a number: unexpected `€`");
        assert_eq!(refused("e5"), "not a number: unexpected `e`");
    }

    #[test]
    fn commas_are_refused_as_decimal_comma_or_separator() {
        let separators = "not a number: thousands separators and decimal commas are not accepted";
        assert_eq!(refused("1,234"), separators);
        assert_eq!(refused("1,234,567.5"), separators);
        let decimal = "not a number: decimal comma is not accepted (the decimal mark is `.`)";
        assert_eq!(refused("12,5"), decimal);
        assert_eq!(refused("-0,50"), decimal);
        assert_eq!(refused(","), decimal);
    }

    #[test]
    fn inner_white_space_is_refused() {
        let inner = "not a number: white space inside (thousands separators are not accepted)";
        assert_eq!(refused("12 345"), inner);
        assert_eq!(refused("12\u{a0}345"), inner);
        assert_eq!(refused("- 5"), inner);
    }

    #[test]
    fn text_with_letters_is_told_its_first_odd_character_not_a_grouping_hint() {
        assert_eq!(refused("WA1 1DP"), "not a number: unexpected `W`");
        assert_eq!(refused("12 kg"), "not a number: unexpected white space");
        assert_eq!(refused("a,b"), "not a number: unexpected `a`");
    }

    #[test]
    fn integers_above_two_to_the_53_minus_one_are_refused() {
        let too_large = "integer too large to keep exact (above 2^53 - 1 = 9007199254740991)";
        assert_eq!(written("9007199254740991"), "9007199254740991");
        assert_eq!(written("-9007199254740991"), "-9007199254740991");
        assert_eq!(written("0009007199254740991"), "9007199254740991");
        assert_eq!(refused("9007199254740992"), too_large);
        assert_eq!(refused("9007199254740993"), too_large);
        assert_eq!(refused("-9007199254740992"), too_large);
        assert_eq!(refused("10000000000000000"), too_large);
        assert_eq!(refused("99999999999999999999999"), too_large);
    }

    #[test]
    fn the_integer_limit_leaves_fractions_and_exponents_alone() {
        assert_eq!(written("9007199254740993.0"), "9007199254740993.0");
        assert_eq!(written("9.007199254740993e15"), "9.007199254740993e15");
        assert_eq!(written("1e20"), "1e20");
    }

    #[test]
    fn values_beyond_a_64_bit_float_are_refused() {
        let range = "number out of range: too large for a 64-bit float";
        assert_eq!(refused("1e400"), range);
        assert_eq!(refused("-1E309"), range);
        assert_eq!(refused(&format!("{}.5", "9".repeat(400))), range);
        assert_eq!(written("1.7976931348623157e308"), "1.7976931348623157e308");
        assert_eq!(written("1e-400"), "1e-400");
    }

    #[test]
    fn split_names_each_part() {
        let parts = split("-01.50e+3").expect("valid");
        let expected = Parts {
            negative: true,
            integer: "01",
            fraction: Some("50"),
            exponent: Some("e+3"),
        };
        assert_eq!(parts, expected);
        assert_eq!(split("1x"), Err(Fault::Unexpected(1)));
    }
}
