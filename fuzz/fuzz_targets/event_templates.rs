//! Fuzz target `event_templates`: text → `EventSettings::templates` → `update_event`, then rendering every kind of message.
//! The checks live in `punchlist::testkit::fuzz::event_templates`, shared with the proptest stand-in
//! of CI (`core/tests/x5_parsers_never_panic.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punchlist::testkit::fuzz::event_templates(data));
