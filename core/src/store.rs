//! The store trait: what the service reads, and the one write it makes (a [`ChangeSet`]).
//!
//! Reads are shaped by the service's use cases, so each backend can answer them from an
//! index that does not grow with the event: a participant's state is one participant's
//! rows, tasks and segments are the few of one event, and every key starts with the event.
//! Stores never decide: every rule lives in the service, and a store only checks versions
//! and uniqueness while it commits.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::change::ChangeSet;
use crate::error::Result;
use crate::event::Event;
use crate::figures::TaskCounters;
use crate::history::{HistoryEntry, Subject};
use crate::ids::{
    EventId, ExternalId, HistoryId, HostEventId, MessageId, OutboxId, ParticipantId, SegmentId,
    TaskId,
};
use crate::matrix::MatrixQuery;
use crate::message::Message;
use crate::notify::OutboxEntry;
use crate::participant::{Facts, Participant};
use crate::progress::{Progress, ProgressChange};
use crate::segment::Segment;
use crate::sweep::Sweep;
use crate::task::Task;
use crate::timeline::{TimelineEntry, TimelineFilter};

/// The live stream of an event's progress changes (B1), in commit order per participant.
/// An `Err` item means the reader fell behind and missed changes (reload what it shows).
pub type ProgressFeed = BoxStream<'static, Result<ProgressChange>>;

/// An event's configuration: the record, its tasks and its segments, as most operations
/// load it. Read-only once loaded; shared behind an [`Arc`] so a store that keeps it in
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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParticipantState {
    /// The record.
    pub participant: Participant,
    /// The facts reported by the host.
    pub facts: Facts,
    /// Progress rows, by task.
    pub progress: BTreeMap<TaskId, Progress>,
    /// Bumped by every write; the version check of concurrent writers.
    pub version: u64,
}

/// A storage backend. Implement it to plug in another engine, then run the conformance
/// suite ([`testkit`](crate::testkit), feature `testkit`) on it.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The event, if it exists.
    async fn event(&self, id: EventId) -> Result<Option<Event>>;

    /// Every segment of the event.
    async fn segments(&self, event: EventId) -> Result<Vec<Segment>>;

    /// Every task of the event, whatever its state.
    async fn tasks(&self, event: EventId) -> Result<Vec<Task>>;

    /// The event with its tasks and segments, if the event exists. The default reads
    /// [`event`](Self::event), [`tasks`](Self::tasks) and [`segments`](Self::segments); a
    /// store that can keep one snapshot per event and hand out clones of the `Arc`
    /// overrides it (the memory store does: a task list then copies no task). An override
    /// must return what the three reads would, as of its last commit.
    async fn event_config(&self, event: EventId) -> Result<Option<Arc<EventConfig>>> {
        let Some(record) = self.event(event).await? else {
            return Ok(None);
        };
        let tasks = self.tasks(event).await?;
        let segments = self.segments(event).await?;
        Ok(Some(Arc::new(EventConfig {
            event: record,
            tasks: tasks.into_iter().map(|t| (t.id, t)).collect(),
            segments: segments.into_iter().map(|s| (s.id, s)).collect(),
        })))
    }

    /// One participant's state, if they exist in this event.
    async fn participant(
        &self,
        event: EventId,
        id: ParticipantId,
    ) -> Result<Option<ParticipantState>>;

    /// The states of the participants among `ids` that exist in this event (any order).
    async fn participants_by_id(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<ParticipantState>>;

    /// The records of the participants among `ids` that exist in this event (any order),
    /// without their facts and progress: what rendering a notification needs.
    async fn participant_records(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>>;

    /// The participant the host knows as `external_id`.
    async fn participant_by_external_id(
        &self,
        event: EventId,
        external_id: &ExternalId,
    ) -> Result<Option<ParticipantId>>;

    /// Up to `limit` participants' states in id order, after `after` (keyset paging).
    async fn participants(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantState>>;

    /// The collaborators of `owner` (participants whose `owner` is them), in id order.
    async fn collaborators(
        &self,
        event: EventId,
        owner: ParticipantId,
    ) -> Result<Vec<ParticipantId>>;

    /// The progress rows (of other owners) assigned to `assignee`.
    async fn assigned_to(&self, event: EventId, assignee: ParticipantId) -> Result<Vec<Progress>>;

    /// Which of `ids` were already ingested.
    async fn ingested(&self, event: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>>;

    /// A page of the matrix (B2): the states of the participants passing every filter of
    /// `query`, in its order, strictly after its cursor, at most `query.limit`. A store
    /// answers from indexes where it can; [`MatrixQuery::matches`] is the reference.
    async fn matrix(&self, event: EventId, query: &MatrixQuery) -> Result<Vec<ParticipantState>>;

    /// The per-task counters of the event (B3); tasks with no counted row may be absent.
    async fn task_counters(&self, event: EventId) -> Result<BTreeMap<TaskId, TaskCounters>>;

    /// Paged work not yet finished.
    async fn sweeps(&self, event: EventId) -> Result<Vec<Sweep>>;

    /// Up to `limit` entries of a participant's timeline, newest first: those whose id is
    /// in [`TimelineFilter::id_range`] (a date range and the keyset cursor, both as id
    /// bounds) and whose kind the filter [`wants`](TimelineFilter::wants). Walk the
    /// (event, participant, id) order downwards from the range's upper end, so a page
    /// costs the same at any depth.
    async fn timeline(
        &self,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>>;

    /// The history of `subject`, newest first, strictly before `before` (keyset paging).
    async fn history(
        &self,
        event: EventId,
        subject: Subject,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>>;

    /// Up to `limit` messages of a participant's thread (R7), newest first, strictly
    /// before `before` (keyset paging).
    async fn messages(
        &self,
        event: EventId,
        participant: ParticipantId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>>;

    /// Outbox entries in id order, after `after`.
    async fn outbox(
        &self,
        event: EventId,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>>;

    /// Claims up to `limit` outbox entries due at `now` ([`OutboxEntry::due_at`]), of any
    /// event, earliest due first: each is leased to `owner` until `lease_until`, stored so
    /// and returned so. Claims running at the same time, from any number of dispatchers
    /// sharing the store, never return the same entry while its lease runs; once the lease
    /// ends the entry is due again, so a crashed dispatcher's claims come back (N5).
    async fn claim_outbox(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>>;

    /// Writes back claimed entries as a dispatcher leaves them (sent, dead, or pending
    /// again after a backoff), each only if the stored entry is still pending and leased
    /// to `owner`: a dispatcher that outlived its lease changes nothing. Returns the ids
    /// written.
    async fn release_outbox(&self, owner: &str, entries: Vec<OutboxEntry>)
    -> Result<Vec<OutboxId>>;

    /// The event's dead letters (N5), in id order, after `after`.
    async fn dead_letters(
        &self,
        event: EventId,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>>;

    /// Puts the event's dead entries among `ids` back in the queue, due at `now`, with
    /// their attempts and last error cleared; returns the ids requeued (an id that is not
    /// a dead letter of the event is left alone).
    async fn requeue_dead(
        &self,
        event: EventId,
        ids: &[OutboxId],
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxId>>;

    /// Writes the change set in one transaction, or nothing: a stale version or a
    /// duplicate unique value rejects it whole with [`Error::Conflict`](crate::Error).
    /// Once committed, its progress changes go out on the event's feed.
    async fn apply(&self, changes: ChangeSet) -> Result<()>;

    /// Subscribes to the event's progress changes committed from now on, by any writer
    /// sharing this store (B1).
    async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed>;
}
