//! Fuzz target `segment_rule`: JSON → `SegmentDraft` (or a `Rule`) → `preview_segment`, `create_segment`, `update_segment`.
//! The checks live in `punchlist::testkit::fuzz::segment_rule`, shared with the proptest stand-in
//! of CI (`core/tests/x5_parsers_never_panic.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punchlist::testkit::fuzz::segment_rule(data));
