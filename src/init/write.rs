//! The mapping text `mapping init` prints: the format of
//! `shared/cases/README.md`, every setting written out, and above each
//! table a comment saying what was seen and why the choice was made.

use std::fmt::Write as _;
use std::path::Path;

use crate::convert::ValueType;
use crate::failure::Failure;
use crate::mapping::Format;

use super::infer::{infer, shown, ColumnStats, Inferred};
use super::key::{self, KeyChoice};
use super::naming::attribute_names;
use super::sample::Sample;

/// The whole mapping file for `sample` of `input`.
pub fn mapping_text(
    input: &Path,
    sample: &Sample,
    asked_key: Option<&str>,
) -> Result<String, Failure> {
    let types: Vec<Inferred> = sample
        .names
        .iter()
        .zip(&sample.columns)
        .map(|(name, stats)| infer(name, stats))
        .collect();
    let unusable = unusable_columns(&sample.names);
    let usable: Vec<bool> = unusable.iter().map(Option::is_none).collect();
    let key = key::choose(&sample.names, &sample.columns, &types, &usable, asked_key)?;
    let key_name = &sample.names[key.column];
    let key_source = match key.value_type {
        ValueType::Email => "email",
        _ => key_name.as_str(),
    };
    let key_attribute = attribute_names(&[key_source], &[]).remove(0).attribute;
    let others: Vec<usize> = (0..sample.names.len())
        .filter(|&i| i != key.column && usable[i])
        .collect();
    let sources: Vec<&str> = others.iter().map(|&i| sample.names[i].as_str()).collect();
    let names = attribute_names(&sources, &[key_attribute.as_str()]);
    let mut out = String::new();
    header_comment(&mut out, input, sample);
    source_table(&mut out, sample);
    key_table(&mut out, sample, &key, &key_attribute);
    for why in unusable.iter().flatten() {
        comment(&mut out, why);
        out.push('\n');
    }
    for (&i, named) in others.iter().zip(&names) {
        let mut why = vec![types[i].why.clone()];
        why.extend(named.note.clone());
        property_table(
            &mut out,
            &sample.names[i],
            &sample.columns[i],
            &types[i],
            &named.attribute,
            &why,
        );
    }
    Ok(out)
}

/// Why a column cannot be named by `from`: an empty header cell, or a
/// name the header repeats (the import refuses to guess which is meant).
fn unusable_columns(names: &[String]) -> Vec<Option<String>> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let first = names.iter().position(|other| other == name).unwrap_or(i);
            if name.is_empty() {
                Some(format!(
                    "column {} has no name in the header: not mapped (name it in the file \
                     to import it)",
                    i + 1
                ))
            } else if first != i || names[i + 1..].contains(name) {
                Some(format!(
                    "column {} {} shares its name with another column: not mapped, since a \
                     mapping cannot tell them apart (rename them in the file to import them)",
                    i + 1,
                    quoted(name)
                ))
            } else {
                None
            }
        })
        .collect()
}

fn header_comment(out: &mut String, input: &Path, sample: &Sample) {
    let file = input.file_name().map_or_else(
        || input.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let extent = if sample.complete {
        format!(
            "all {} rows (the whole file)",
            sample.records + sample.skipped
        )
    } else {
        format!("the first {} rows", sample.records + sample.skipped)
    };
    let _ = writeln!(
        out,
        "# Mapping for {file}, written by `laudspeaker-import mapping init`"
    );
    let _ = writeln!(
        out,
        "# from {extent}. Each choice is explained above it; review them,"
    );
    let _ = writeln!(
        out,
        "# then run `laudspeaker-import check` with this file. The sample values"
    );
    let _ = writeln!(
        out,
        "# below quote the file: keep this mapping as private as the export."
    );
    if sample.skipped > 0 {
        let listed: Vec<String> = sample
            .skips
            .iter()
            .map(|(line, why)| format!("line {line}: {why}"))
            .collect();
        let text = format!(
            "{} sampled rows could not be read and were left out of the inference (an \
             import dead-letters them too): {}.",
            sample.skipped,
            listed.join("; ")
        );
        comment(out, &text);
    }
    out.push('\n');
}

fn source_table(out: &mut String, sample: &Sample) {
    let reading = &sample.reading;
    out.push_str("[source]\n");
    for note in &reading.notes {
        comment(out, note);
    }
    match reading.format {
        Format::Csv => {
            out.push_str("format = \"csv\"\n");
            let delimiter = match reading.delimiter {
                b'\t' => "\\t".to_string(),
                other => toml_escape(&(other as char).to_string()),
            };
            let _ = writeln!(out, "delimiter = \"{delimiter}\"");
        }
        Format::Ndjson => out.push_str("format = \"ndjson\"\n"),
    }
    let label = reading.encoding.name().to_ascii_lowercase();
    let _ = writeln!(out, "encoding = \"{label}\"");
    if reading.format == Format::Csv {
        out.push_str("# header: the first line names the columns (`from` below)\n");
    }
    out.push('\n');
}

fn key_table(out: &mut String, sample: &Sample, key: &KeyChoice, attribute: &str) {
    let name = &sample.names[key.column];
    out.push_str("[primary_key]\n");
    comment(out, &format!("{}: {}", quoted(name), key.why.join("; ")));
    let _ = writeln!(out, "# seen: {}", seen(&sample.columns[key.column]));
    let _ = writeln!(out, "from = {}", quoted(name));
    let _ = writeln!(out, "type = \"{}\"", key.value_type.name());
    if key.value_type == ValueType::Email {
        out.push_str("lowercase = true    # one customer however the address is cased\n");
    }
    out.push_str("# the workspace's primary-key attribute, sent equal to the key:\n");
    out.push_str("# make it the name chosen in Laudspeaker's settings\n");
    let _ = writeln!(out, "attribute = {}", quoted(attribute));
    out.push('\n');
}

fn property_table(
    out: &mut String,
    name: &str,
    stats: &ColumnStats,
    inferred: &Inferred,
    attribute: &str,
    why: &[String],
) {
    out.push_str("[[property]]\n");
    comment(out, &format!("{}: {}", quoted(name), why.join("; ")));
    let _ = writeln!(out, "# seen: {}", seen(stats));
    let _ = writeln!(out, "from = {}", quoted(name));
    let _ = writeln!(out, "to = {}", quoted(attribute));
    let _ = writeln!(out, "type = \"{}\"", inferred.value_type.name());
    if let Some(format) = inferred.format {
        let _ = writeln!(out, "format = {}", quoted(format));
    }
    if let Some(zone) = inferred.timezone {
        let _ = writeln!(out, "timezone = {}", quoted(zone));
    }
    out.push('\n');
}

/// Writes `text` as `#` comment lines of at most about 90 columns.
fn comment(out: &mut String, text: &str) {
    const WIDTH: usize = 88;
    let mut line = String::new();
    for word in text.split(' ').filter(|word| !word.is_empty()) {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > WIDTH {
            let _ = writeln!(out, "# {line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    let _ = writeln!(out, "# {line}");
}

/// "never empty, e.g. "Ana"" or "12.5% empty (5 of 40), e.g. ...".
fn seen(stats: &ColumnStats) -> String {
    let empty = match stats.empty {
        0 => "never empty".to_string(),
        n if n == stats.seen => format!("always empty ({n} rows)"),
        n => format!(
            "{:.1}% empty ({n} of {})",
            n as f64 * 100.0 / stats.seen as f64,
            stats.seen
        ),
    };
    match &stats.sample {
        Some(value) => format!("{empty}, e.g. {}", quoted(&shown(value))),
        None => empty,
    }
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    format!("\"{}\"", toml_escape(text))
}

fn toml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(quoted("a\"b\\c\td\u{7f}"), "\"a\\\"b\\\\c\\td\\u007F\"");
    }
}
