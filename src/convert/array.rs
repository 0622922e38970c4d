//! The `array` rule for CSV cells: the cell is split on the separator, each
//! element trimmed (and lowercased when asked), empty elements dropped, and
//! the rest sent as a JSON array of strings.
//!
//! A cell that yields no element at all (``, `  `, `,,`) is empty, so
//! `on_empty` decides what is sent rather than an `[]` nobody wrote.
//! An empty separator sends the whole cell as one element.

use super::text::{escape_json_str, escape_json_str_lower};

/// Writes a CSV cell of type `array`; an empty cell writes nothing.
pub(crate) fn write_array_text(
    text: &str,
    separator: &str,
    lowercase: bool,
    out: &mut Vec<u8>,
) -> bool {
    let mut open = false;
    let mut write = |element: &str| {
        let element = element.trim();
        if element.is_empty() {
            return;
        }
        out.push(if open { b',' } else { b'[' });
        open = true;
        if lowercase {
            escape_json_str_lower(element, out);
        } else {
            escape_json_str(element, out);
        }
    };
    let mut chars = separator.chars();
    match (chars.next(), chars.next()) {
        (None, _) => write(text),
        // A one-character separator is searched for as a character, which
        // is several times cheaper than a substring search.
        (Some(c), None) => text.split(c).for_each(&mut write),
        (Some(_), Some(_)) => text.split(separator).for_each(&mut write),
    }
    if open {
        out.push(b']');
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array(text: &str, separator: &str, lowercase: bool) -> Option<String> {
        let mut out = Vec::new();
        let written = write_array_text(text, separator, lowercase, &mut out);
        assert_eq!(written, !out.is_empty());
        written.then(|| String::from_utf8(out).expect("UTF-8 in, UTF-8 out"))
    }

    #[test]
    fn cells_are_split_trimmed_and_sent_as_strings() {
        assert_eq!(array("a,b,c", ",", false), Some(r#"["a","b","c"]"#.into()));
        assert_eq!(
            array(" red , Green ,blue ", ",", false),
            Some(r#"["red","Green","blue"]"#.into())
        );
        assert_eq!(array("1,2", ",", false), Some(r#"["1","2"]"#.into()));
        assert_eq!(array("solo", ",", false), Some(r#"["solo"]"#.into()));
    }

    #[test]
    fn empty_elements_are_dropped() {
        assert_eq!(array("a,,b, ,", ",", false), Some(r#"["a","b"]"#.into()));
        assert_eq!(array(",a", ",", false), Some(r#"["a"]"#.into()));
    }

    #[test]
    fn a_cell_without_elements_is_empty() {
        assert_eq!(array("", ",", false), None);
        assert_eq!(array("   ", ",", false), None);
        assert_eq!(array(" , ,", ",", false), None);
    }

    #[test]
    fn other_separators_and_lowercase() {
        assert_eq!(
            array("VIP; Beta ;Ω", ";", true),
            Some(r#"["vip","beta","ω"]"#.into())
        );
        assert_eq!(
            array("a || b||c", "||", false),
            Some(r#"["a","b","c"]"#.into())
        );
        assert_eq!(array("a,b", "|", false), Some(r#"["a,b"]"#.into()));
        assert_eq!(array(" a,b ", "", false), Some(r#"["a,b"]"#.into()));
    }

    #[test]
    fn elements_are_json_escaped() {
        assert_eq!(
            array(r#"say "hi",back\slash"#, ",", false),
            Some(r#"["say \"hi\"","back\\slash"]"#.into())
        );
    }
}
