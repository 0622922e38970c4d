//! Choosing the primary key for `mapping init`: the column that names one
//! customer per row.
//!
//! In order: the column given with `--primary-key`; an email column whose
//! sampled values are all present and distinct; the first such column named
//! like an identifier; else the best candidate, flagged for the user to
//! check (rows with an empty key are dead-lettered, rows sharing one update
//! one customer).

use crate::convert::ValueType;
use crate::failure::Failure;

use super::infer::{is_id_like, ColumnStats, Inferred};
use super::naming::snake_case;

/// The chosen key column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChoice {
    /// Index into the sampled columns.
    pub column: usize,
    /// `Email` or `String`.
    pub value_type: ValueType,
    /// Comment lines explaining the choice.
    pub why: Vec<String>,
}

/// Picks the key among `names` with their stats and inferred types.
/// Only columns marked `usable` (named once, not empty) are considered.
pub fn choose(
    names: &[String],
    stats: &[ColumnStats],
    types: &[Inferred],
    usable: &[bool],
    asked: Option<&str>,
) -> Result<KeyChoice, Failure> {
    let key_type = |i: usize| match types[i].value_type {
        ValueType::Email => ValueType::Email,
        _ => ValueType::String,
    };
    if let Some(asked) = asked {
        let found = names.iter().position(|name| name == asked);
        if found.is_some_and(|i| !usable[i]) {
            return Err(Failure::before_sending(format!(
                "--primary-key {asked:?} names more than one column of the file"
            ))
            .with_hint("rename the columns in the file so that the key column is unique"));
        }
        let column = found.ok_or_else(|| {
            let listed: Vec<String> = names.iter().take(30).map(|n| format!("{n:?}")).collect();
            Failure::before_sending(format!(
                "--primary-key {asked:?} is not a column of the file (it has: {})",
                listed.join(", ")
            ))
        })?;
        let mut why = vec!["chosen with --primary-key".to_string()];
        why.extend(doubts(&stats[column]));
        return Ok(KeyChoice {
            column,
            value_type: key_type(column),
            why,
        });
    }
    let all: Vec<usize> = (0..names.len())
        .filter(|&i| usable[i] && key_kind(&types[i]))
        .collect();
    let emails: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| email_like(&names[i], &types[i], &stats[i]))
        .collect();
    if let Some(&column) = emails.iter().find(|&&i| stats[i].unique_and_filled()) {
        let mut why = vec!["its sampled values are distinct email addresses".to_string()];
        why.extend(not_addresses(&stats[column]));
        return Ok(KeyChoice {
            column,
            value_type: ValueType::Email,
            why,
        });
    }
    let ids = all.iter().copied().filter(|&i| is_id_like(&names[i]));
    if let Some(column) = ids.clone().find(|&i| stats[i].unique_and_filled()) {
        let why = "no email column is filled and distinct in every sampled row; this is the \
                   first column named like an identifier whose sampled values all are"
            .to_string();
        return Ok(sure(column, key_type(column), why));
    }
    let best = |candidates: &[usize]| {
        candidates
            .iter()
            .copied()
            .max_by_key(|&i| (stats[i].filled(), std::cmp::Reverse(i)))
    };
    let ids: Vec<usize> = ids.collect();
    let first = all.first().copied().unwrap_or(0);
    let column = best(&emails).or_else(|| best(&ids)).unwrap_or(first);
    let value_type = match emails.contains(&column) {
        true => ValueType::Email,
        false => key_type(column),
    };
    let mut why = vec![
        "CHECK THIS: no column is filled and distinct in every sampled row; this is the best \
         candidate (an email column, else an identifier, else the first column)"
            .to_string(),
    ];
    why.extend(doubts(&stats[column]));
    if value_type == ValueType::Email {
        why.extend(not_addresses(&stats[column]));
    }
    Ok(KeyChoice {
        column,
        value_type,
        why,
    })
}

/// The values of an email key column that are not addresses.
fn not_addresses(stats: &ColumnStats) -> Option<String> {
    let (bad, example) = stats.mostly_emails().filter(|(bad, _)| *bad > 0)?;
    let verb = if bad == 1 { "is" } else { "are" };
    Some(format!(
        "{bad} sampled value{} {verb} not an address (e.g. `{example}`): those rows will be \
         dead-lettered",
        if bad == 1 { "" } else { "s" }
    ))
}

/// Every value an address, or a column named for email addresses whose
/// values mostly are (the others are bad rows, not a sign of another type).
fn email_like(name: &str, inferred: &Inferred, stats: &ColumnStats) -> bool {
    if inferred.value_type == ValueType::Email {
        return true;
    }
    let named = snake_case(name)
        .split('_')
        .any(|word| matches!(word, "email" | "mail" | "emailaddress"));
    named && stats.mostly_emails().is_some()
}

fn sure(column: usize, value_type: ValueType, why: String) -> KeyChoice {
    KeyChoice {
        column,
        value_type,
        why: vec![why],
    }
}

/// Only text can be a key (NDJSON numbers are sent as their text).
fn key_kind(inferred: &Inferred) -> bool {
    matches!(
        inferred.value_type,
        ValueType::Email
            | ValueType::String
            | ValueType::Number
            | ValueType::Date
            | ValueType::Datetime
    )
}

/// What the sample says against a key column.
fn doubts(stats: &ColumnStats) -> Vec<String> {
    let mut doubts = Vec::new();
    if stats.empty > 0 {
        doubts.push(format!(
            "{} of {} sampled rows have it empty: those rows will be dead-lettered",
            stats.empty, stats.seen
        ));
    }
    if !stats.unique_and_filled() && stats.empty == 0 {
        doubts.push(
            "some sampled values repeat: rows sharing a key update one customer, the last \
             row's values winning"
                .to_string(),
        );
    }
    doubts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::infer::infer;

    fn pick(columns: &[(&str, &[&str])]) -> KeyChoice {
        let names: Vec<String> = columns.iter().map(|(name, _)| name.to_string()).collect();
        let stats: Vec<ColumnStats> = columns
            .iter()
            .map(|(_, values)| {
                let mut stats = ColumnStats::new();
                values.iter().for_each(|value| stats.observe_text(value));
                stats
            })
            .collect();
        let types: Vec<Inferred> = names.iter().zip(&stats).map(|(n, s)| infer(n, s)).collect();
        let usable = vec![true; names.len()];
        choose(&names, &stats, &types, &usable, None).expect("a key is always chosen")
    }

    #[test]
    fn a_distinct_email_column_wins() {
        let choice = pick(&[
            ("Id", &["1", "2", "3"]),
            ("Work Email", &["a@x.io", "a@x.io", "b@x.io"]),
            ("Email", &["a@x.io", "b@x.io", "c@x.io"]),
        ]);
        assert_eq!(choice.column, 2);
        assert_eq!(choice.value_type, ValueType::Email);
    }

    #[test]
    fn an_identifier_when_no_email_is_distinct() {
        let choice = pick(&[
            ("name", &["a", "b", "c"]),
            ("Email", &["a@x.io", "", "c@x.io"]),
            ("customerID", &["7590-VHVEG", "5575-GNVDE", "3668-QPYBK"]),
        ]);
        assert_eq!(choice.column, 2);
        assert_eq!(choice.value_type, ValueType::String);
    }

    #[test]
    fn the_best_candidate_is_flagged_when_none_qualifies() {
        let choice = pick(&[
            ("name", &["a", "b", "c"]),
            ("email", &["a@x.io", "", "a@x.io"]),
        ]);
        assert_eq!(choice.column, 1);
        assert!(choice.why[0].starts_with("CHECK THIS"));
        assert_eq!(
            choice.why[1],
            "1 of 3 sampled rows have it empty: those rows will be dead-lettered"
        );
    }
}
