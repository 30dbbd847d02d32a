//! Fuzz target `csv_filters`: JSON → `MatrixRequest` / `TimelineFilter` / `HistoryFilter` → the CSV exports.
//! The checks live in `punchlist::testkit::fuzz::csv_filters`, shared with the proptest stand-in
//! of CI (`core/tests/x5_parsers_never_panic.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punchlist::testkit::fuzz::csv_filters(data));
