//! Fuzz target `host_events`: JSON list of `HostEvent` → `ingest_batch`, twice (the second a no-op).
//! The checks live in `punchlist::testkit::fuzz::host_events`, shared with the proptest stand-in
//! of CI (`core/tests/x5_parsers_never_panic.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punchlist::testkit::fuzz::host_events(data));
