//! Fuzz target `participant_data`: JSON → a list of `NewParticipant` → `register_participants`,
//! or a `ParticipantPatch` → `update_participant` (by the organizer and by the participant).
//! The checks live in `punchlist::testkit::fuzz::participant_data`, shared with the proptest
//! stand-in of CI (`core/tests/x5_parsers_never_panic.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| punchlist::testkit::fuzz::participant_data(data));
