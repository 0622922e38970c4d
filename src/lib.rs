//! laudspeaker-import: stream customer records from CSV and NDJSON files into
//! Laudspeaker through its customer upsert API.
//!
//! The pipeline reads as its stages: [`input`] turns bytes into records,
//! [`mapping`] and [`convert`] turn a record into a request body
//! ([`transform`]), [`deliver`] sends bodies with limits and retries, and
//! [`dead_letter`] keeps every record that could not be delivered;
//! [`checkpoint`] records every record that is done, so a rerun resumes.
//! [`import`] runs them in that order. [`emulator`] is the local Laudspeaker
//! stand-in used by tests, benchmarks and rehearsals. [`init`] writes a
//! mapping for a new export; [`check`] profiles a file as a mapping reads it.

pub mod check;
pub mod checkpoint;
pub mod cli;
pub mod console;
pub mod convert;
pub mod dead_letter;
pub mod dead_letter_csv;
pub mod deliver;
pub mod demo;
pub mod emulator;
pub mod failure;
pub mod import;
pub mod init;
pub mod input;
pub mod mapping;
pub mod progress;
pub mod report;
pub mod secret;
pub mod stats;
pub mod summary;
pub mod supersede;
pub mod sync;
pub mod transform;
