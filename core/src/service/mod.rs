//! The service: the one facade a host calls, [`Punchlist`]. One file per capability
//! group, named like the rules' module it calls and the conformance file that proves it:
//! `event`, `segments`, `tasks`, `completion`, `my_tasks`, `participants`, `host`,
//! `tracking`, `reminders`, `outbox`, `timeline`, `agenda`, `messages`, `networking`,
//! `history`, `presence`, `privacy`; `sweep` runs paged work, `retry` retries a lost race,
//! `config` holds the tuning, `unit` derives every consequence of a change.
//!
//! Every operation follows the same path: check the actor, load what it needs from the
//! store, decide with the pure rules, hand the store one [`ChangeSet`], and on a version
//! conflict (another writer got there first) start again from the load, up to
//! [`Config::max_attempts`] times.

mod agenda;
mod completion;
mod config;
mod event;
mod history;
mod host;
mod messages;
mod my_tasks;
mod networking;
mod outbox;
mod participants;
mod preferences;
mod presence;
mod privacy;
mod reminders;
mod retry;
mod scope;
mod segments;
mod sweep;
mod tasks;
mod timeline;
mod tracking;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::actor::{self, Actor};
use crate::change::ChangeSet;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, ExternalId, ParticipantId, ParticipantRef, SegmentId, TaskId};
use crate::segment::Segment;
use crate::store::{EventConfig, ParticipantState, Store, StoreExt};
use crate::task::Task;

pub(crate) use crate::change::unit::UnitOfWork;
pub use config::Config;
pub use preferences::Unsubscribed;
pub use reminders::{RemindTarget, ReminderTick};
pub(crate) use retry::retry;
pub use scope::EventScope;

/// The library's facade, generic over the store and the clock.
///
/// Cheap to share: wrap it in an `Arc`, or clone the store handle into several services.
/// Use `Punchlist<dyn Store>` to choose the store at run time.
pub struct Punchlist<S: ?Sized, C = crate::SystemClock> {
    store: Arc<S>,
    clock: C,
    config: Config,
    /// The last-seen times this service wrote or read (R13), so pings between two writes
    /// touch no store.
    seen: std::sync::Mutex<std::collections::HashMap<(EventId, ParticipantId), DateTime<Utc>>>,
}

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// A service over `store`, taking the time from `clock`.
    pub fn new(store: impl Into<Arc<S>>, clock: C) -> Self {
        Self {
            store: store.into(),
            clock,
            config: Config::default(),
            seen: std::sync::Mutex::default(),
        }
    }

    /// Replaces the tuning.
    pub fn with_config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Loads what most operations need: the event with its tasks and segments.
    async fn context(&self, actor: &Actor, event: EventId) -> Result<Ctx> {
        actor::require_same_event(actor, event, EventId::ENTITY, event)?;
        self.store
            .event_config(event)
            .await?
            .ok_or_else(|| Error::not_found(EventId::ENTITY, event))
    }

    /// The library's ids of the participants `refs` name by the host's id
    /// ([`ParticipantRef::External`]), for those that exist in `event`.
    async fn resolve_external<'r>(
        &self,
        event: EventId,
        refs: impl Iterator<Item = &'r ParticipantRef>,
    ) -> Result<std::collections::HashMap<ExternalId, ParticipantId>> {
        let mut wanted: Vec<&ExternalId> = refs
            .filter_map(|r| match r {
                ParticipantRef::External(x) => Some(x),
                ParticipantRef::Id(_) => None,
            })
            .collect();
        wanted.sort();
        wanted.dedup();
        let wanted: Vec<ExternalId> = wanted.into_iter().cloned().collect();
        Ok(self
            .store
            .participants_by_external_id(event, &wanted)
            .await?
            .into_iter()
            .collect())
    }

    /// Loads one participant of `event`, or `NotFound`.
    async fn participant_state(
        &self,
        event: EventId,
        id: ParticipantId,
    ) -> Result<ParticipantState> {
        self.store
            .participant(event, id)
            .await?
            .ok_or_else(|| Error::not_found(ParticipantId::ENTITY, id))
    }

    /// Commits `cs` unless it is empty.
    async fn commit(&self, cs: ChangeSet) -> Result<()> {
        if cs.is_empty() {
            return Ok(());
        }
        self.store.apply(cs).await
    }
}

/// The library's id for `r`, from the host's ids resolved by `resolve_external`.
pub(crate) fn resolved(
    external: &std::collections::HashMap<ExternalId, ParticipantId>,
    r: &ParticipantRef,
) -> Option<ParticipantId> {
    match r {
        ParticipantRef::Id(id) => Some(*id),
        ParticipantRef::External(x) => external.get(x).copied(),
    }
}

/// `NotFound` for a participant a host named and the event does not have.
pub(crate) fn unknown(r: &ParticipantRef) -> Error {
    match r {
        ParticipantRef::Id(id) => Error::not_found(ParticipantId::ENTITY, id),
        ParticipantRef::External(x) => Error::not_found(ParticipantId::ENTITY, x),
    }
}

/// The error for a change to an erased participant (X6): their state refuses it.
pub(crate) fn erased_error(id: ParticipantId) -> Error {
    Error::state(
        ParticipantId::ENTITY,
        id,
        "was erased (X6): the record takes no more changes",
    )
}

/// Refuses a change to an erased participant (X6): their record takes no more changes, so
/// no personal data comes back. Called after the actor's checks, so a reader who may not
/// see the participant learns nothing of their erasure.
pub(crate) fn not_erased(state: &ParticipantState) -> Result<()> {
    match state.participant.erased_at {
        Some(_) => Err(erased_error(state.participant.id)),
        None => Ok(()),
    }
}

/// What most operations load: the event, its tasks and its segments, shared (read-only).
pub(crate) type Ctx = Arc<EventConfig>;

impl EventConfig {
    fn task_segment(&self, id: SegmentId) -> Result<&Segment> {
        self.segments
            .get(&id)
            .ok_or_else(|| Error::not_found(SegmentId::ENTITY, id))
    }

    fn task(&self, id: TaskId) -> Result<&Task> {
        self.tasks
            .get(&id)
            .ok_or_else(|| Error::not_found(TaskId::ENTITY, id))
    }
}
