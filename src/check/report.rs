//! What `check` prints: an aligned table for people, or one JSON object
//! for machines (its fields are documented on [`Report`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// The profile of one file read with one mapping.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub input: String,
    pub mapping: String,
    /// Records and blank lines read: the import's "rows read".
    pub rows_read: u64,
    /// Blank lines, skipped.
    pub blank_lines: u64,
    /// Rows that would be sent: one upsert request each.
    pub requests: u64,
    /// Rows that would go to the dead-letter file.
    pub dead_lettered: u64,
    /// Those rows by the `kind` their dead-letter entry would carry
    /// (structure, encoding, value, primary_key, size).
    pub dead_lettered_by_kind: BTreeMap<&'static str, u64>,
    /// Records whose fields could not be read at all (wrong field count,
    /// bytes that are not text, not a JSON object): in no column's counts.
    pub rows_not_profiled: u64,
    /// The primary key first, then every property read from the input.
    pub columns: Vec<ColumnReport>,
    pub duplicate_keys: Duplicates,
}

/// One mapped column.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnReport {
    /// The header name or key path.
    pub from: String,
    /// The attribute set; for the key, its `attribute` (null when none).
    pub to: Option<String>,
    /// This is the primary key column.
    pub primary_key: bool,
    #[serde(rename = "type")]
    pub value_type: &'static str,
    /// Records profiled.
    pub rows: u64,
    /// Values that are empty by the column's rule (left out, or null).
    pub empty: u64,
    /// Values the column's type refuses, each on its own (a row refused
    /// for its first bad value counts here for every bad value it holds).
    pub failures: u64,
    /// The first refused values.
    pub examples: Vec<Example>,
}

/// One refused value.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub line: u64,
    pub value: String,
    pub reason: String,
}

/// Primary keys that more than one row would send.
#[derive(Debug, Clone, Serialize)]
pub struct Duplicates {
    /// Distinct keys sent by more than one row.
    pub keys: u64,
    /// Rows beyond the first of each such key.
    pub extra_rows: u64,
    /// The most repeated keys, most rows first.
    pub top: Vec<Duplicate>,
    /// Distinct keys remembered at most.
    pub tracked_limit: u64,
    /// False when the file held more distinct keys than that: keys first
    /// seen after the limit were not checked.
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    pub key: String,
    pub rows: u64,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }

    /// The aligned table printed by default.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "check {} with {}\n", self.input, self.mapping);
        let kinds: Vec<String> = self
            .dead_lettered_by_kind
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        let counts = [
            ("rows read", self.rows_read, String::new()),
            (
                "would be sent",
                self.requests,
                "one upsert request each".into(),
            ),
            (
                "would be dead-lettered",
                self.dead_lettered,
                kinds.join(", "),
            ),
            ("skipped blank", self.blank_lines, String::new()),
        ];
        for (label, n, note) in counts {
            let line = format!("{label:<24}{n:>10}  {note}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if self.rows_not_profiled > 0 {
            let _ = writeln!(
                out,
                "{:<24}{:>10}  fields not readable: see their dead-letter reasons",
                "not profiled", self.rows_not_profiled
            );
        }
        out.push('\n');
        self.column_table(&mut out);
        self.failure_list(&mut out);
        self.duplicate_list(&mut out);
        out
    }

    fn column_table(&self, out: &mut String) {
        let head = ["column", "attribute", "type", "empty", "failures"];
        let rows: Vec<[String; 5]> = self
            .columns
            .iter()
            .map(|c| {
                [
                    c.from.clone(),
                    match (c.primary_key, &c.to) {
                        (true, Some(to)) => format!("(primary key) {to}"),
                        (true, None) => "(primary key)".to_string(),
                        (false, to) => to.clone().unwrap_or_default(),
                    },
                    c.value_type.to_string(),
                    format!("{} ({})", c.empty, share(c.empty, c.rows)),
                    c.failures.to_string(),
                ]
            })
            .collect();
        let mut widths = head.map(|h| h.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let header = head.map(str::to_string);
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                let pad = width - cell.chars().count();
                match i {
                    3 | 4 => line.push_str(&format!("{}{cell}  ", " ".repeat(pad))),
                    _ => line.push_str(&format!("{cell}{}  ", " ".repeat(pad))),
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }

    fn failure_list(&self, out: &mut String) {
        let failing: Vec<&ColumnReport> = self.columns.iter().filter(|c| c.failures > 0).collect();
        if failing.is_empty() {
            return;
        }
        out.push_str("\nconversion failures (first examples):\n");
        for column in failing {
            for example in &column.examples {
                let _ = writeln!(
                    out,
                    "  {}  line {}: `{}`: {}",
                    column.from, example.line, example.value, example.reason
                );
            }
        }
    }

    fn duplicate_list(&self, out: &mut String) {
        let dups = &self.duplicate_keys;
        out.push('\n');
        if dups.keys == 0 {
            let _ = writeln!(out, "duplicate primary keys: none");
        } else {
            let _ = writeln!(
                out,
                "duplicate primary keys: {} keys sent by more than one row ({} extra rows; \
                 the last row of each key wins)",
                dups.keys, dups.extra_rows
            );
            for dup in &dups.top {
                let _ = writeln!(out, "  {:>6} rows  {}", dup.rows, dup.key);
            }
        }
        if !dups.complete {
            let _ = writeln!(
                out,
                "  (only the first {} distinct keys were tracked)",
                dups.tracked_limit
            );
        }
    }
}

/// "12.5%" of `rows`; "0%" when there are none.
fn share(part: u64, rows: u64) -> String {
    if rows == 0 || part == 0 {
        return "0%".to_string();
    }
    format!("{:.1}%", part as f64 * 100.0 / rows as f64)
}
