//! The synthetic CRM export the end-to-end benchmark reads, and its mapping.
//!
//! The file is deterministic (the same bytes on every machine, from a fixed
//! xorshift seed) and has the twelve columns of a typical CRM export: an
//! email key, names with non-ASCII letters, a phone, a stage, two date
//! formats, a revenue, a boolean, a `;`-separated tag list, a city that
//! sometimes holds a quoted comma, and a zip code with leading zeros.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// The mapping for [`write_export`]'s columns.
pub const MAPPING: &str = r#"
[source]
format = "csv"

[primary_key]
from = "email"
type = "email"
lowercase = true
attribute = "email"

[[property]]
from = "first_name"
to = "firstName"

[[property]]
from = "last_name"
to = "lastName"

[[property]]
from = "phone"
to = "phone"

[[property]]
from = "stage"
to = "stage"

[[property]]
from = "signup_date"
to = "signupDate"
type = "date"

[[property]]
from = "last_seen"
to = "lastSeen"
type = "date"
format = "%d/%m/%Y"

[[property]]
from = "revenue"
to = "revenue"
type = "number"

[[property]]
from = "vip"
to = "vip"
type = "boolean"

[[property]]
from = "tags"
to = "tags"
type = "array"
separator = ";"

[[property]]
from = "city"
to = "city"

[[property]]
from = "zip"
to = "zip"
"#;

/// The header line of the export.
pub const HEADER: &str =
    "email,first_name,last_name,phone,stage,signup_date,last_seen,revenue,vip,tags,city,zip";

const FIRST: [&str; 8] = [
    "Ana", "Jürgen", "Zoë", "Søren", "Chloé", "Ítalo", "Wen", "Łukasz",
];
const LAST: [&str; 6] = [
    "Almeida",
    "Müller",
    "O'Brien",
    "Nakamura",
    "Øvergaard",
    "Dvořák",
];
const STAGE: [&str; 5] = [
    "lead",
    "subscriber",
    "opportunity",
    "customer",
    "evangelist",
];
const CITY: [&str; 4] = ["\"Berlin, Mitte\"", "Lisboa", "\"Paris, 11e\"", "Kraków"];
const TAGS: [&str; 4] = ["vip;newsletter", "newsletter", "", "webinar;beta;vip"];

/// Writes the header and `rows` records to `path`.
pub fn write_export(path: &Path, rows: usize) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    write_rows(&mut out, rows)?;
    out.flush()
}

/// Writes the header and `rows` records to `out`.
pub fn write_rows(out: &mut impl Write, rows: usize) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..rows {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        write_row(out, i, state)?;
    }
    Ok(())
}

/// One record from its index and a random word.
fn write_row(out: &mut impl Write, i: usize, r: u64) -> std::io::Result<()> {
    writeln!(
        out,
        concat!(
            "user{}@example.com,{},{},+1 555 {:07},{},20{:02}-{:02}-{:02},",
            "{:02}/{:02}/2024,{}.{:02},{},{},{},{:05}"
        ),
        i,
        FIRST[(r % 8) as usize],
        LAST[(r >> 8) as usize % 6],
        r % 10_000_000,
        STAGE[(r >> 16) as usize % 5],
        10 + (r >> 20) % 14,
        1 + (r >> 24) % 12,
        1 + (r >> 28) % 28,
        1 + (r >> 32) % 28,
        1 + (r >> 36) % 12,
        (r >> 40) % 100_000,
        (r >> 44) % 100,
        if (r >> 50).is_multiple_of(2) {
            "true"
        } else {
            "no"
        },
        TAGS[(r >> 52) as usize % 4],
        CITY[(r >> 56) as usize % 4],
        (r >> 12) % 100_000,
    )
}
