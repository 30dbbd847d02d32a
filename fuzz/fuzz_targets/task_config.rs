//! Fuzz target `task_config`: JSON → `TaskConfig` → `create_task`, `update_task`, publishing.
//! The checks live in `punchlist::testkit::fuzz::task_config`, shared with the proptest stand-in
//! of CI (`core/tests/x5_parsers_never_panic.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punchlist::testkit::fuzz::task_config(data));
