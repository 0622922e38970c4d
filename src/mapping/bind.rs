//! Binding a checked mapping to the real CSV header: every mapped `from`
//! must name exactly one header cell, and with `unmapped = "include"` every
//! other column must be sendable under its own name.

use std::collections::HashMap;

use super::file::Problems;
use super::names::check_attribute_name;
use super::{CsvBinding, Mapping, PropertySource, Unmapped};

/// Header names listed in full in a message; longer headers are cut.
const LISTED_HEADERS: usize = 30;

/// Resolves `mapping` against `header` (BOM already removed); on failure,
/// every problem found.
pub(super) fn bind(mapping: &Mapping, header: &[&str]) -> Result<CsvBinding, Problems> {
    let mut problems = Problems::default();
    let key_line = mapping.locations.key_from;
    let key_column = locate(header, &mapping.primary_key.from, key_line, &mut problems);
    let mut columns = Vec::with_capacity(mapping.properties.len());
    let lines = mapping.locations.property_sources.iter();
    for (property, &line) in mapping.properties.iter().zip(lines) {
        columns.push(match &property.source {
            PropertySource::Field(from) => locate(header, from, line, &mut problems),
            PropertySource::Constant(_) => None,
        });
    }
    let unmapped = match mapping.source.unmapped {
        Unmapped::Include => {
            let used: Vec<usize> = key_column
                .into_iter()
                .chain(columns.iter().flatten().copied())
                .collect();
            unmapped_columns(mapping, header, &used, &mut problems)
        }
        Unmapped::Ignore => Vec::new(),
    };
    match key_column {
        Some(key_column) if problems.errors.is_empty() => Ok(CsvBinding {
            key_column,
            columns,
            unmapped,
        }),
        _ => Err(problems),
    }
}

/// The one column named exactly `from`; a missing or repeated name is
/// reported at `line`.
fn locate(header: &[&str], from: &str, line: usize, problems: &mut Problems) -> Option<usize> {
    let named = header.iter().enumerate().filter(|(_, cell)| **cell == from);
    let positions: Vec<usize> = named.map(|(index, _)| index).collect();
    match positions[..] {
        [only] => return Some(only),
        [] => problems.at(line, missing(header, from)),
        _ => problems.at(
            line,
            format!(
                "header {from:?} appears at columns {}, so the mapping cannot tell which one \
                 to use; rename the columns in the file so that each mapped header is unique",
                positions_text(&positions)
            ),
        ),
    }
    None
}

/// Why `from` is not in the header, with a close match if there is one.
fn missing(header: &[&str], from: &str) -> String {
    let mut message = format!("column {from:?} is not in the CSV header");
    let wanted = loose(from);
    let close = header
        .iter()
        .find(|cell| !wanted.is_empty() && loose(cell) == wanted);
    if let Some(close) = close {
        message.push_str(&format!("; did you mean {:?}?", cut(close)));
    }
    let listed: Vec<String> = header
        .iter()
        .take(LISTED_HEADERS)
        .map(|cell| format!("{:?}", cut(cell)))
        .collect();
    message.push_str(&format!(" (the header has: {}", listed.join(", ")));
    if header.len() > LISTED_HEADERS {
        message.push_str(&format!(" and {} more", header.len() - LISTED_HEADERS));
    }
    message.push(')');
    message
}

/// Characters of one header cell shown in a message at most: a file read
/// with the wrong delimiter or encoding can have its whole text in one cell,
/// and that is customer data, not a column name.
const SHOWN_CELL_CHARS: usize = 60;

/// `cell` cut to [`SHOWN_CELL_CHARS`], marked with `…` when cut.
fn cut(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.char_indices().nth(SHOWN_CELL_CHARS) {
        Some((end, _)) => format!("{}…", &cell[..end]).into(),
        None => cell.into(),
    }
}

/// A header name reduced to its lowercased letters and digits, so that
/// `first_name`, `First Name` and ` FIRST-NAME ` compare equal.
fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// 1-based positions of 0-based `indices`, as "2 and 4" or "2, 4 and 7".
fn positions_text(indices: &[usize]) -> String {
    let numbers: Vec<String> = indices
        .iter()
        .map(|index| (index + 1).to_string())
        .collect();
    match numbers.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => numbers.concat(),
    }
}

/// Columns sent under their own names, each checked to be a usable
/// attribute that no property, no other column and not the key sets.
fn unmapped_columns(
    mapping: &Mapping,
    header: &[&str],
    used: &[usize],
    problems: &mut Problems,
) -> Vec<(usize, String)> {
    let line = mapping.locations.unmapped.unwrap_or(1);
    let mut set_by: HashMap<&str, String> = HashMap::new();
    for (property, &line) in mapping
        .properties
        .iter()
        .zip(&mapping.locations.property_sources)
    {
        set_by.insert(&property.to, format!("the property at line {line}"));
    }
    if let Some(attribute) = &mapping.primary_key.attribute {
        set_by.insert(
            attribute,
            "the primary key ([primary_key] `attribute`)".to_string(),
        );
    }
    let mut unmapped = Vec::new();
    let mut positions: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, name) in header.iter().enumerate() {
        if used.contains(&index) {
            continue;
        }
        let column = format!(
            "unmapped column {} {name:?} (sent under its own name because unmapped = \
             \"include\")",
            index + 1
        );
        if let Err(reason) = check_attribute_name(name) {
            problems.at(
                line,
                format!("{column}: {reason}; or map it with a [[property]]"),
            );
        } else if let Some(setter) = set_by.get(name) {
            let message = format!(
                "{column} would set attribute {name:?}, which {setter} already sets; \
                 rename the column, or map it with a [[property]]"
            );
            problems.at(line, message);
        } else {
            positions.entry(name).or_default().push(index);
        }
        unmapped.push((index, name.to_string()));
    }
    report_repeated(&positions, line, problems);
    unmapped
}

/// Unmapped columns sharing one name would overwrite each other.
fn report_repeated(positions: &HashMap<&str, Vec<usize>>, line: usize, problems: &mut Problems) {
    let mut repeated: Vec<(&str, &Vec<usize>)> = positions
        .iter()
        .filter(|(_, indices)| indices.len() > 1)
        .map(|(name, indices)| (*name, indices))
        .collect();
    repeated.sort_by_key(|(_, indices)| indices[0]);
    for (name, indices) in repeated {
        let all = if indices.len() == 2 { "both" } else { "all" };
        let message = format!(
            "unmapped columns {} are {all} named {name:?}, and unmapped = \"include\" would \
             send each under that name; rename them, or map them with [[property]] tables",
            positions_text(indices)
        );
        problems.at(line, message);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Mapping;

    fn mapping(text: &str) -> Mapping {
        match Mapping::parse(text, Path::new("m.toml")) {
            Ok(mapping) => mapping,
            Err(errors) => panic!("mapping refused:\n{errors}"),
        }
    }

    /// Every error of binding `text` to `header`, as (line, message).
    fn errors(text: &str, header: &[&str]) -> Vec<(Option<usize>, String)> {
        match mapping(text).bind_header(header) {
            Ok(_) => panic!("header accepted"),
            Err(errors) => errors
                .errors
                .into_iter()
                .map(|error| (error.line, error.message))
                .collect(),
        }
    }

    fn at(line: usize, message: &str) -> (Option<usize>, String) {
        (Some(line), message.to_string())
    }

    const MAPPING: &str = "[primary_key]\nfrom = \"email\"\n\n\
                           [[property]]\nto = \"plan\"\nfrom = \"plan\"\n\n\
                           [[property]]\nto = \"origin\"\nvalue = \"crm\"\n\n\
                           [[property]]\nfrom = \"seats\"\nto = \"seats\"\ntype = \"number\"\n";

    #[test]
    fn columns_bind_by_exact_name() {
        let binding = mapping(MAPPING)
            .bind_header(&["seats", "", "email", "plan", "x", "x"])
            .expect("every mapped header is present once");
        assert_eq!(binding.key_column, 2);
        assert_eq!(binding.columns, vec![Some(3), None, Some(0)]);
        assert!(binding.unmapped.is_empty());
    }

    #[test]
    fn missing_columns_are_named_with_the_header_and_a_close_match() {
        assert_eq!(
            errors(MAPPING, &["Email", "Plan ", "seats"]),
            vec![
                at(
                    2,
                    "column \"email\" is not in the CSV header; did you mean \"Email\"? \
                     (the header has: \"Email\", \"Plan \", \"seats\")"
                ),
                at(
                    6,
                    "column \"plan\" is not in the CSV header; did you mean \"Plan \"? \
                     (the header has: \"Email\", \"Plan \", \"seats\")"
                ),
            ]
        );
    }

    #[test]
    fn close_match_ignores_separators() {
        let text = "[primary_key]\nfrom = \"first_name\"\n";
        assert_eq!(
            errors(text, &["id", "First Name"]),
            vec![at(
                2,
                "column \"first_name\" is not in the CSV header; did you mean \"First Name\"? \
                 (the header has: \"id\", \"First Name\")"
            )]
        );
    }

    #[test]
    fn long_headers_are_cut_in_messages() {
        let names: Vec<String> = (1..=32).map(|n| format!("c{n}")).collect();
        let header: Vec<&str> = names.iter().map(String::as_str).collect();
        let found = errors("[primary_key]\nfrom = \"zzz\"\n", &header);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].1.ends_with("\"c29\", \"c30\" and 2 more)"),
            "{}",
            found[0].1
        );
    }

    #[test]
    fn repeated_mapped_header_names_every_position() {
        let text = "[primary_key]\nfrom = \"Email\"\n\n[[property]]\nfrom = \"First Name\"\n\
                    to = \"firstName\"\n\n[[property]]\nfrom = \"Phone Number\"\nto = \"phone\"\n";
        let header = [
            "Email",
            "Phone Number",
            "First Name",
            "Phone Number",
            "Notes",
            "Notes",
        ];
        assert_eq!(
            errors(text, &header),
            vec![at(
                9,
                "header \"Phone Number\" appears at columns 2 and 4, so the mapping cannot \
                 tell which one to use; rename the columns in the file so that each mapped \
                 header is unique"
            )]
        );
    }

    #[test]
    fn three_repeats_are_listed() {
        let found = errors("[primary_key]\nfrom = \"a\"\n", &["a", "b", "a", "a"]);
        assert!(found[0]
            .1
            .starts_with("header \"a\" appears at columns 1, 3 and 4,"));
    }

    const INCLUDE: &str = "[source]\nunmapped = \"include\"\n\n\
                           [primary_key]\nfrom = \"Email\"\nattribute = \"email\"\n\n\
                           [[property]]\nfrom = \"work\"\nto = \"phone\"\n";

    #[test]
    fn include_sends_every_other_column_under_its_name() {
        let binding = mapping(INCLUDE)
            .bind_header(&["Email", "plan", "work", "city"])
            .expect("unmapped names are usable");
        assert_eq!(binding.key_column, 0);
        assert_eq!(binding.columns, vec![Some(2)]);
        assert_eq!(
            binding.unmapped,
            vec![(1, "plan".to_string()), (3, "city".to_string())]
        );
    }

    #[test]
    fn include_refuses_unusable_and_colliding_names() {
        let header = [
            "Email", "$plan", "work", "phone", "email", "Notes", "", "Notes",
        ];
        assert_eq!(
            errors(INCLUDE, &header),
            vec![
                at(
                    2,
                    "unmapped column 2 \"$plan\" (sent under its own name because unmapped = \
                     \"include\"): attribute name \"$plan\" starts with '$', which Laudspeaker \
                     refuses; rename it, e.g. to \"plan\"; or map it with a [[property]]"
                ),
                at(
                    2,
                    "unmapped column 4 \"phone\" (sent under its own name because unmapped = \
                     \"include\") would set attribute \"phone\", which the property at line 9 \
                     already sets; rename the column, or map it with a [[property]]"
                ),
                at(
                    2,
                    "unmapped column 5 \"email\" (sent under its own name because unmapped = \
                     \"include\") would set attribute \"email\", which the primary key \
                     ([primary_key] `attribute`) already sets; rename the column, or map it \
                     with a [[property]]"
                ),
                at(
                    2,
                    "unmapped column 7 \"\" (sent under its own name because unmapped = \
                     \"include\"): attribute name \"\" is empty; choose another name; or map \
                     it with a [[property]]"
                ),
                at(
                    2,
                    "unmapped columns 6 and 8 are both named \"Notes\", and unmapped = \
                     \"include\" would send each under that name; rename them, or map them \
                     with [[property]] tables"
                ),
            ]
        );
    }

    #[test]
    fn ignore_skips_unusable_unmapped_names() {
        let binding = mapping(MAPPING)
            .bind_header(&["$x", "email", "plan", "seats", ""])
            .expect("unmapped columns are not sent");
        assert!(binding.unmapped.is_empty());
    }

    #[test]
    fn a_huge_single_header_cell_is_cut_in_messages() {
        let huge = "x".repeat(10_000);
        let message = super::missing(&[huge.as_str()], "email");
        let shown = format!("{:?}", format!("{}…", "x".repeat(super::SHOWN_CELL_CHARS)));
        assert_eq!(
            message,
            format!("column \"email\" is not in the CSV header (the header has: {shown})")
        );
    }
}
