//! The state an operation loads: an event's configuration, and one participant's rows.
//! Plain values, read by the rules and written back through a change set.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::event::Event;
use crate::ids::{SegmentId, TaskId};
use crate::participant::{Facts, Participant};
use crate::progress::Progress;
use crate::segment::Segment;
use crate::task::Task;

/// An event's configuration: the record, its tasks and its segments, as most operations
/// load it. Read-only once loaded; shared behind an [`Arc`](std::sync::Arc) so a store that keeps it in
/// memory hands out the same snapshot to every call instead of copying it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventConfig {
    /// The event.
    pub event: Event,
    /// Every task of the event, whatever its state, by id.
    pub tasks: BTreeMap<TaskId, Task>,
    /// Every segment of the event, by id.
    pub segments: BTreeMap<SegmentId, Segment>,
}

/// Everything the library keeps about one participant that an operation may change
/// together: record, facts and progress, under one version.
///
/// The record and the facts are shared ([`Arc`]): most operations read them and change
/// neither (ingest changes facts, never the record), so a store that keeps them in memory
/// hands out the same values instead of copying them, and an operation copies one only
/// when it changes it ([`Arc::make_mut`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParticipantState {
    /// The record.
    pub participant: Arc<Participant>,
    /// The facts reported by the host.
    pub facts: Arc<Facts>,
    /// Progress rows, by task.
    pub progress: BTreeMap<TaskId, Progress>,
    /// Bumped by every write; the version check of concurrent writers.
    pub version: u64,
}
