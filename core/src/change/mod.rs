//! The change set: everything one operation writes, applied by a store in one transaction
//! or not at all.

use std::collections::BTreeMap;

use crate::event::Event;
use crate::figures::TaskCounters;
use crate::history::HistoryEntry;
use crate::ids::{EventId, HostEventId, OutboxId, ParticipantId, SegmentId, SweepId, TaskId};
use crate::message::Message;
use crate::notify::OutboxEntry;
use crate::participant::{Facts, Participant};
use crate::progress::{Progress, ProgressChange};
use crate::segment::Segment;
use crate::sweep::Sweep;
use crate::task::Task;
use crate::timeline::TimelineEntry;

mod check;
pub(crate) mod unit;

pub use check::{StoredState, check};

/// Everything one operation writes, all within one event.
///
/// Versioned entities (event, segments, tasks, participants) carry their *new* version; a
/// store accepts the write only if the stored version is exactly one less (or the entity is
/// absent and the new version is 1), and otherwise rejects the whole change set with
/// [`Error::Conflict`](crate::Error::Conflict). Nothing else in a change set is
/// conditional, except uniqueness: a participant's `external_id`, a host event id and an
/// outbox idempotency key are unique per event, and a duplicate is a conflict too.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChangeSet {
    /// The event every write belongs to.
    pub event: EventId,
    /// The event's version this change set was computed from. When set and the change
    /// set does not write the event itself, a store whose event has another version
    /// rejects it with a conflict: every change to the event's configuration (settings,
    /// tasks, segments) bumps that version, so a participant's progress is never written
    /// from a configuration that changed meanwhile.
    pub event_version: Option<u64>,
    /// The event itself, created or updated (a configuration change bumps its version).
    pub event_record: Option<Event>,
    /// Segments created or updated.
    pub segments: Vec<Segment>,
    /// Tasks created or updated.
    pub tasks: Vec<Task>,
    /// Tasks deleted (drafts only), with the version they were read at.
    pub deleted_tasks: Vec<(TaskId, u64)>,
    /// Segments deleted (only those no task targets), with the version they were read at.
    pub deleted_segments: Vec<(SegmentId, u64)>,
    /// Participants' records, facts and progress.
    pub participants: Vec<ParticipantWrite>,
    /// Host event ids to remember as ingested.
    pub host_events: Vec<HostEventId>,
    /// Timeline entries to add.
    pub timeline: Vec<TimelineEntry>,
    /// History lines to add; a line with the id (and subject) of a stored one replaces it
    /// (erasure rewrites lines without personal data, X6).
    pub history: Vec<HistoryEntry>,
    /// Messages to add; one with the id of a stored one replaces it (erasure, X6).
    pub messages: Vec<Message>,
    /// Notifications to queue.
    pub outbox: Vec<OutboxEntry>,
    /// Outbox entries to drop, whatever their state, with their idempotency keys (erasure,
    /// X6: the service queues nothing more for an erased participant).
    pub deleted_outbox: Vec<OutboxId>,
    /// Paged work started or moved on. A sweep whose cursor has moved (`after` is set) is
    /// only written if it still exists, so a slow runner cannot revive a finished sweep.
    pub sweeps: Vec<Sweep>,
    /// Paged work finished.
    pub finished_sweeps: Vec<SweepId>,
    /// Deltas to add to the per-task counters (B3), derived from the progress rows the
    /// change set writes; added, never overwritten, so concurrent writers commute.
    pub counters: BTreeMap<TaskId, TaskCounters>,
    /// The progress changes to publish on the live stream once committed.
    pub progress_changes: Vec<ProgressChange>,
}

impl ChangeSet {
    /// An empty change set for `event`.
    pub fn new(event: EventId) -> Self {
        Self {
            event,
            event_version: None,
            event_record: None,
            segments: Vec::new(),
            tasks: Vec::new(),
            deleted_tasks: Vec::new(),
            deleted_segments: Vec::new(),
            participants: Vec::new(),
            host_events: Vec::new(),
            timeline: Vec::new(),
            history: Vec::new(),
            messages: Vec::new(),
            outbox: Vec::new(),
            deleted_outbox: Vec::new(),
            sweeps: Vec::new(),
            finished_sweeps: Vec::new(),
            counters: BTreeMap::new(),
            progress_changes: Vec::new(),
        }
    }

    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        self.event_record.is_none()
            && self.segments.is_empty()
            && self.tasks.is_empty()
            && self.deleted_tasks.is_empty()
            && self.deleted_segments.is_empty()
            && self.participants.is_empty()
            && self.host_events.is_empty()
            && self.timeline.is_empty()
            && self.history.is_empty()
            && self.messages.is_empty()
            && self.outbox.is_empty()
            && self.deleted_outbox.is_empty()
            && self.sweeps.is_empty()
            && self.finished_sweeps.is_empty()
    }
}

/// A write to one participant: their state's new version, and what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantWrite {
    /// The participant.
    pub id: ParticipantId,
    /// The new version of their state (record, facts and progress together); the stored
    /// one must be `version - 1`, or absent when `version == 1`.
    pub version: u64,
    /// The record, when it changed (required when `version == 1`).
    pub record: Option<Participant>,
    /// The facts, when they changed.
    pub facts: Option<Facts>,
    /// Progress rows created or changed.
    pub progress: Vec<Progress>,
}
