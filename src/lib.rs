//! laudspeaker-import: stream customer records from CSV and NDJSON files into
//! Laudspeaker through its customer upsert API.
//!
//! The pipeline reads as its stages: [`input`] turns bytes into records,
//! [`mapping`] and [`convert`] turn a record into a request body,
//! [`deliver`] sends bodies with limits and retries, and [`dead_letter`]
//! keeps every record that could not be delivered. [`emulator`] is the local
//! Laudspeaker stand-in used by tests, benchmarks and rehearsals.

pub mod convert;
pub mod deliver;
pub mod emulator;
pub mod input;
pub mod mapping;
pub mod secret;
pub mod stats;
