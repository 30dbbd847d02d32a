//! The union of the role traits: what a backend is, and what a host names when it picks
//! one (`Punchlist<dyn Store>`). It is exported at the crate root only.

use super::{EventStore, OutboxStore, ParticipantStore, RecordStore, TrackingStore};

/// A backend: the five role traits. Implemented for every type that has them all, so a
/// store writes only the five `impl` blocks.
pub trait Store: EventStore + ParticipantStore + TrackingStore + RecordStore + OutboxStore {}

impl<T> Store for T where
    T: EventStore + ParticipantStore + TrackingStore + RecordStore + OutboxStore + ?Sized
{
}
