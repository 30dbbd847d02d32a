//! The change set: everything one operation writes, applied by a store in one transaction
//! or not at all.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::figures::TaskCounters;
use crate::history::HistoryEntry;
use crate::ids::{
    EventId, ExternalId, HostEventId, OutboxId, ParticipantId, SegmentId, SweepId, TaskId,
};
use crate::message::Message;
use crate::notify::OutboxEntry;
use crate::participant::{Facts, Participant};
use crate::progress::{Progress, ProgressChange};
use crate::segment::Segment;
use crate::sweep::Sweep;
use crate::task::Task;
use crate::timeline::TimelineEntry;

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

/// What a store looks up to check a change set before writing it: the versions and unique
/// values already stored. Each store implements it over its own transaction, and
/// [`check`] applies the same rules everywhere, so the stores cannot disagree on what is a
/// conflict.
pub trait StoredState {
    /// The stored event's version, if the event exists.
    fn event_version(&mut self) -> Result<Option<u64>>;
    /// A segment's stored version.
    fn segment_version(&mut self, id: SegmentId) -> Result<Option<u64>>;
    /// A task's stored version.
    fn task_version(&mut self, id: TaskId) -> Result<Option<u64>>;
    /// A participant's stored version.
    fn participant_version(&mut self, id: ParticipantId) -> Result<Option<u64>>;
    /// Who holds an external id.
    fn external_id_owner(&mut self, id: &ExternalId) -> Result<Option<ParticipantId>>;
    /// Whether a host event id was ingested.
    fn host_event_seen(&mut self, id: &HostEventId) -> Result<bool>;
    /// Whether an outbox idempotency key is taken.
    fn outbox_key_taken(&mut self, key: &str) -> Result<bool>;
}

fn check_version(
    entity: &'static str,
    id: impl ToString,
    stored: Option<u64>,
    new: u64,
) -> Result<()> {
    let ok = match stored {
        None => new == 1,
        Some(v) => v.checked_add(1) == Some(new),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::conflict(entity, id))
    }
}

/// Checks a change set against what is stored, without writing: every versioned write
/// follows the stored version, the event's configuration version matches when guarded,
/// and unique values (external ids, host event ids, outbox keys) stay unique, also within
/// the change set. A failure is a [`Error::Conflict`] (or `NotFound` for a missing event
/// or participant), and the store must then write nothing.
pub fn check(cs: &ChangeSet, stored: &mut impl StoredState) -> Result<()> {
    use std::collections::{HashMap, HashSet};
    let event_version = stored.event_version()?;
    match (&cs.event_record, event_version) {
        (Some(e), v) => check_version(EventId::ENTITY, e.id, v, e.version)?,
        (None, None) => return Err(Error::not_found(EventId::ENTITY, cs.event)),
        (None, Some(v)) => {
            if cs.event_version.is_some_and(|g| g != v) {
                return Err(Error::conflict(EventId::ENTITY, cs.event));
            }
        }
    }
    let mut seen_segments = HashSet::new();
    for s in &cs.segments {
        if !seen_segments.insert(s.id) {
            return Err(Error::conflict(SegmentId::ENTITY, s.id));
        }
        check_version(
            SegmentId::ENTITY,
            s.id,
            stored.segment_version(s.id)?,
            s.version,
        )?;
    }
    let mut seen_tasks = HashSet::new();
    for t in &cs.tasks {
        if !seen_tasks.insert(t.id) {
            return Err(Error::conflict(TaskId::ENTITY, t.id));
        }
        check_version(TaskId::ENTITY, t.id, stored.task_version(t.id)?, t.version)?;
    }
    for (id, version) in &cs.deleted_tasks {
        if stored.task_version(*id)? != Some(*version) {
            return Err(Error::conflict(TaskId::ENTITY, id));
        }
    }
    for (id, version) in &cs.deleted_segments {
        if stored.segment_version(*id)? != Some(*version) {
            return Err(Error::conflict(SegmentId::ENTITY, id));
        }
    }
    let mut seen = HashSet::new();
    let mut new_external = HashMap::new();
    for w in &cs.participants {
        if !seen.insert(w.id) {
            return Err(Error::conflict(ParticipantId::ENTITY, w.id));
        }
        let version = stored.participant_version(w.id)?;
        check_version(ParticipantId::ENTITY, w.id, version, w.version)?;
        match (&w.record, version) {
            (None, None) => return Err(Error::not_found(ParticipantId::ENTITY, w.id)),
            (Some(r), _) => {
                let holder = stored.external_id_owner(&r.external_id)?;
                if holder.is_some_and(|p| p != w.id)
                    || new_external.insert(r.external_id.clone(), w.id).is_some()
                {
                    return Err(Error::conflict("external_id", &r.external_id));
                }
            }
            (None, Some(_)) => {}
        }
    }
    let mut ids = HashSet::new();
    for h in &cs.host_events {
        if !ids.insert(h) || stored.host_event_seen(h)? {
            return Err(Error::conflict("host event", h));
        }
    }
    let mut keys = HashSet::new();
    for o in &cs.outbox {
        if !keys.insert(&o.idempotency_key) || stored.outbox_key_taken(&o.idempotency_key)? {
            return Err(Error::conflict(OutboxId::ENTITY, &o.idempotency_key));
        }
    }
    Ok(())
}
