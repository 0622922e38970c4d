//! libFuzzer target: any bytes through the reader and the body builder.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| laudspeaker_import_fuzz::check(data));
