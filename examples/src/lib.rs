//! Programs that embed `punchlist`, the way an event platform would.
//!
//! - `examples/exhibitor_journey/`: an exhibitor's journey, printed step by step.
//! - [`portal`]: a small event portal (an axum server with server-rendered pages) with the
//!   participant's Tasks section, the organizer's back office and the participant record;
//!   `examples/portal.rs` starts it on a seeded demo event.

pub mod portal;
