//! The `boolean` rule: the spellings CRM exports use for yes and no.
//!
//! Case-insensitive, surrounding white space ignored: `true t yes y 1` are
//! true and `false f no n 0` are false. Anything else is refused rather than
//! guessed, so `2`, `maybe` or `oui` never silently become a value.

use super::ConvertError;

const TRUE_SPELLINGS: [&str; 5] = ["true", "t", "yes", "y", "1"];
const FALSE_SPELLINGS: [&str; 5] = ["false", "f", "no", "n", "0"];

/// Reads a boolean spelling; `Ok(None)` when the value is empty.
pub(crate) fn read_boolean(text: &str) -> Result<Option<bool>, ConvertError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let is = |spelling: &&str| spelling.eq_ignore_ascii_case(text);
    if TRUE_SPELLINGS.iter().any(is) {
        Ok(Some(true))
    } else if FALSE_SPELLINGS.iter().any(is) {
        Ok(Some(false))
    } else {
        Err(ConvertError(
            "not a boolean (accepted: true t yes y 1 / false f no n 0)".to_string(),
        ))
    }
}

/// Appends `true` or `false`.
pub(crate) fn write_bool(value: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_spellings_give_the_expected_values() {
        assert_eq!(read_boolean("TRUE"), Ok(Some(true)));
        assert_eq!(read_boolean("yes"), Ok(Some(true)));
        assert_eq!(read_boolean("Y"), Ok(Some(true)));
        assert_eq!(read_boolean("1"), Ok(Some(true)));
        assert_eq!(read_boolean("False"), Ok(Some(false)));
        assert_eq!(read_boolean("no"), Ok(Some(false)));
        assert_eq!(read_boolean("0"), Ok(Some(false)));
        assert_eq!(read_boolean(" t "), Ok(Some(true)));
    }

    #[test]
    fn every_spelling_in_every_case_is_read() {
        for spelling in TRUE_SPELLINGS {
            assert_eq!(read_boolean(&spelling.to_uppercase()), Ok(Some(true)));
            assert_eq!(read_boolean(&format!("\t{spelling}\u{a0}")), Ok(Some(true)));
        }
        for spelling in FALSE_SPELLINGS {
            assert_eq!(read_boolean(&spelling.to_uppercase()), Ok(Some(false)));
            assert_eq!(read_boolean(spelling), Ok(Some(false)));
        }
        assert_eq!(read_boolean("YeS"), Ok(Some(true)));
        assert_eq!(read_boolean("fAlSe"), Ok(Some(false)));
    }

    #[test]
    fn empty_and_blank_values_are_empty() {
        assert_eq!(read_boolean(""), Ok(None));
        assert_eq!(read_boolean("  \t"), Ok(None));
    }

    #[test]
    fn other_values_are_refused() {
        let refused = "not a boolean (accepted: true t yes y 1 / false f no n 0)";
        for text in [
            "maybe", "2", "oui", "-1", "1.0", "tru", "yess", "on", "off", "t r u e",
        ] {
            assert_eq!(
                read_boolean(text),
                Err(ConvertError(refused.to_string())),
                "{text}"
            );
        }
    }

    #[test]
    fn write_bool_writes_json_literals() {
        let mut out = Vec::new();
        write_bool(true, &mut out);
        out.push(b',');
        write_bool(false, &mut out);
        assert_eq!(out, b"true,false");
    }
}
