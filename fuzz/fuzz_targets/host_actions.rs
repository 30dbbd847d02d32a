//! Fuzz target `host_actions`: JSON list of `HostAction` → `report_actions`, twice, and the timeline's CSV.
//! The checks live in `punchlist::testkit::fuzz::host_actions`, shared with the proptest stand-in
//! of CI (`core/tests/x5_parsers_never_panic.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punchlist::testkit::fuzz::host_actions(data));
