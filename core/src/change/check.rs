//! The one definition of a conflict: the versions and unique values a change set must
//! agree with before a store writes it. Every store answers [`StoredState`] over its own
//! transaction and calls [`check`], so the stores cannot disagree on what is a conflict.

use super::ChangeSet;
use crate::error::{Error, Result};
use crate::ids::{EventId, ExternalId, HostEventId, OutboxId, ParticipantId, SegmentId, TaskId};

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
