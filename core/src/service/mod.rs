//! The service: the one facade a host calls. A file per audience: [`organizer`]
//! operations (events, segments, tasks, participants), [`participant`] operations (the
//! Tasks section), [`host`] events, and [`tracking`] reads.
//!
//! Every operation follows the same path: load what it needs from the store, decide with
//! the pure rules, hand the store one [`ChangeSet`], and on a version conflict (another
//! writer got there first) start again from the load, up to [`Config::get_max_attempts`].

mod backoffice;
mod host;
mod notices;
mod organizer;
mod participant;
mod privacy;
mod record;
mod reminders;
mod tracking;
mod unit;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::actor::{self, Actor};
use crate::change::ChangeSet;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, ExternalId, ParticipantId, ParticipantRef, SegmentId, SweepId, TaskId};
use crate::notify::{Notification, OutboxEntry, OutboxState};
use crate::presence::PresenceThresholds;
use crate::segment::Segment;
use crate::store::{EventConfig, ParticipantState, Store, StoreExt};
use crate::sweep::Sweep;
use crate::task::Task;

pub use backoffice::{RemindTarget, neutralise_formula};
pub use organizer::Decision;
pub use reminders::ReminderTick;
pub(crate) use unit::Unit;

/// Runs the `async` body until it does not end in a version conflict (another writer got
/// there first), at most `max_attempts` times, waiting a growing, randomised delay between
/// attempts so contenders spread out instead of colliding again. A macro rather than a function taking an
/// async closure, so the service's futures stay `Send`.
macro_rules! retry {
    ($service:ident, $body:block) => {{
        let mut attempt = 1u32;
        loop {
            let result: $crate::error::Result<_> = async $body.await;
            match result {
                Err(e @ $crate::error::Error::Conflict { .. })
                    if attempt < $service.config.max_attempts =>
                {
                    tracing::debug!(attempt, error = %e, "concurrent write; retrying");
                    tokio::time::sleep($crate::service::backoff(attempt)).await;
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use retry;

/// Tuning of the service: built with `Config::default()` and the setters, which keep
/// every value in range.
#[derive(Debug, Clone)]
pub struct Config {
    batch_size: usize,
    max_attempts: u32,
    reminder_window: chrono::Duration,
    presence: PresenceThresholds,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            batch_size: 500,
            max_attempts: 16,
            reminder_window: chrono::Duration::hours(6),
            presence: PresenceThresholds::default(),
        }
    }
}

impl Config {
    /// Participants per batch of paged work (publishing, re-evaluation, previews). Each
    /// batch is one change set, so no transaction grows with the event. Default 500.
    pub fn get_batch_size(&self) -> usize {
        self.batch_size
    }

    /// How many times an operation runs before a version conflict is returned. Default 16.
    pub fn get_max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How close together reminders for one recipient must fall to go out as one message
    /// (N7). Default 6 hours.
    pub fn get_reminder_window(&self) -> chrono::Duration {
        self.reminder_window
    }

    /// Sets the reminder grouping window (N7): when a recipient has a reminder due, the
    /// reminders they would get within this window go out with it, in one message
    /// (negative: zero, no grouping ahead of time).
    pub fn reminder_window(mut self, window: chrono::Duration) -> Self {
        self.reminder_window = window.max(chrono::Duration::zero());
        self
    }

    /// The online status's thresholds (R13). Default: active within 2 minutes, inactive
    /// for a few minutes up to 15.
    pub fn get_presence(&self) -> PresenceThresholds {
        self.presence
    }

    /// Sets the online status's thresholds (R13), checked by [`PresenceThresholds::new`].
    pub fn presence(mut self, thresholds: PresenceThresholds) -> Self {
        self.presence = thresholds;
        self
    }

    /// Sets the batch size (at least 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Sets the number of attempts (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}

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
        let mut out = std::collections::HashMap::with_capacity(wanted.len());
        for x in wanted {
            if let Some(id) = self.store.participant_by_external_id(event, x).await? {
                out.insert(x.clone(), id);
            }
        }
        Ok(out)
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

    /// Runs a sweep to its end, batch by batch; each batch is one change set that also
    /// moves the sweep's cursor, so a crash resumes where it stopped.
    async fn run_sweep(&self, mut sweep: Sweep) -> Result<()> {
        let event = sweep.event;
        loop {
            let done = retry!(self, {
                let ctx = self.context(&Actor::System, event).await?;
                let page = self
                    .store
                    .participants(event, sweep.after, self.config.batch_size)
                    .await?;
                let mut cs = ChangeSet::new(event);
                let Some(last) = page.last().map(|s| s.participant.id) else {
                    cs.finished_sweeps.push(sweep.id);
                    self.commit(cs).await?;
                    return Ok(true);
                };
                let now = self.now();
                let mut unit = Unit::new(&ctx, now, Actor::System);
                for state in page {
                    unit.add(state);
                }
                unit.settle();
                if ctx.event.settings.tasks_enabled && !sweep.notify.is_empty() {
                    // N1: every participant targeted by a task of the sweep who was not
                    // sent its notice yet gets one, whoever created their row (another
                    // operation may have reached them before the sweep did); the tasks of
                    // one sweep are grouped into one notice (N7).
                    let mut notices = Vec::new();
                    for (pid, w) in unit.people_mut() {
                        let mut tasks = Vec::new();
                        for task in &sweep.notify {
                            if let Some(row) = w.rows.get_mut(task)
                                && row.targeted
                                && !row.noticed
                            {
                                row.noticed = true;
                                tasks.push(*task);
                            }
                        }
                        if !tasks.is_empty() {
                            notices.push((*pid, tasks));
                        }
                    }
                    for (pid, tasks) in notices {
                        unit.notify(
                            pid,
                            Notification::Publication { tasks },
                            format!("publication:{}:{pid}", sweep.id),
                        );
                    }
                }
                let mut cs = unit.into_changes();
                let mut next = sweep.clone();
                next.after = Some(last);
                cs.sweeps.push(next);
                self.commit(cs).await?;
                sweep.after = Some(last);
                Ok(false)
            })?;
            if done {
                tracing::debug!(sweep = %sweep.id, "sweep finished");
                return Ok(());
            }
        }
    }

    /// A new sweep over `tasks`, notifying for `notify`.
    fn sweep(&self, event: EventId, tasks: Vec<TaskId>, notify: Vec<TaskId>) -> Sweep {
        let now = self.now();
        Sweep {
            id: SweepId::new_at(now),
            event,
            tasks,
            notify,
            after: None,
            started_at: now,
        }
    }
}

/// The wait before retry number `attempt + 1`: full jitter over an exponential ceiling
/// (0.5 ms doubling, capped at 0.5 s, so dozens of writers on one hot participant spread
/// out instead of colliding until their attempts run out). Needs a `tokio` runtime with
/// timers, as `#[tokio::main]` gives.
pub(crate) fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling_us: u64 = 500u64 << attempt.min(10);
    std::time::Duration::from_micros(crate::ids::random_u64() % ceiling_us.max(1))
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

/// Builds an outbox entry.
pub(crate) fn outbox_entry(
    event: EventId,
    recipient: ParticipantId,
    message: Notification,
    idempotency_key: String,
    now: DateTime<Utc>,
) -> OutboxEntry {
    OutboxEntry {
        id: crate::ids::OutboxId::new_at(now),
        event,
        recipient,
        message,
        idempotency_key,
        created_at: now,
        state: OutboxState::Pending,
        attempts: 0,
        not_before: None,
        lease: None,
        delivered: Default::default(),
        last_error: None,
        finished_at: None,
    }
}
