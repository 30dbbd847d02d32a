//! The implementor's namespace: what a storage backend implements, and the types it
//! reads and writes. A host that only calls the library needs none of it but the
//! [`Store`] bound; someone who writes a store needs all of it (as `opendal::raw` is for
//! opendal's services).
//!
//! A backend implements five small traits, each named after who calls it, so each can
//! live in a file of its own and be read on its own:
//!
//! | trait | who calls it | what |
//! |---|---|---|
//! | [`EventStore`] | every operation | the event's configuration, the one write ([`ChangeSet`]), the live stream |
//! | [`ParticipantStore`] | the service | one participant's rows, a few by id, or a keyset page; never a scan of the event |
//! | [`TrackingStore`] | the back office, paged work | the matrix, the per-task counters, unfinished sweeps |
//! | [`RecordStore`] | the participant record | the append-only logs, newest first, by keyset |
//! | [`OutboxStore`] | the dispatcher, the organizers | the outbox and its lease protocol, the only writes outside `apply` |
//!
//! [`Store`] (at the crate root, since hosts name it too) is their union, implemented for every type that has all five; the service
//! takes `S: Store + ?Sized`, so `Punchlist<dyn Store>` chooses the backend at run time.
//! [`StoreExt`] adds reads derived from the required ones (`event`, `tasks`,
//! `participant`…), for every store.
//!
//! Reads are shaped by the service's use cases, so each backend can answer them from an
//! index that does not grow with the event: a participant's state is one participant's
//! rows, tasks and segments are the few of one event, and every key starts with the event.
//! Stores never decide: every rule lives in the service, and a store only checks versions
//! and uniqueness while it commits ([`check`], over a [`StoredState`]).

pub(crate) mod backend;
#[cfg(feature = "testkit")]
mod dump;
pub(crate) mod feed;
#[cfg(feature = "mock")]
pub(crate) mod mock;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use crate::change::{ChangeSet, ParticipantWrite, StoredState, check};
pub use crate::state::{EventConfig, ParticipantState};
#[cfg(feature = "testkit")]
pub use dump::{DumpStore, EventDump};
pub use feed::from_broadcast;

pub(crate) use backend::Store;
pub(crate) use feed::ProgressFeed;

use crate::error::Result;
use crate::event::Event;
use crate::figures::TaskCounters;
use crate::history::{HistoryEntry, Subject};
use crate::ids::{
    EventId, ExternalId, HistoryId, HostEventId, MessageId, OutboxId, ParticipantId, TaskId,
};
use crate::matrix::MatrixQuery;
use crate::message::Message;
use crate::notify::{LimiterStep, OutboxEntry, OutboxFilter};
use crate::participant::Participant;
use crate::progress::{Progress, ProgressStatus};
use crate::segment::Segment;
use crate::sweep::Sweep;
use crate::task::Task;
use crate::timeline::{TimelineEntry, TimelineFilter};

/// What every operation loads first, the one write, and the live stream (B1).
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// The event with every task (whatever its state) and every segment, if the event
    /// exists, as of the last commit. A store that keeps one snapshot per event hands out
    /// clones of the `Arc` (the memory store does); others build it with
    /// [`event_config_from`].
    async fn event_config(&self, event: EventId) -> Result<Option<Arc<EventConfig>>>;

    /// Writes the change set in one transaction, or nothing: a stale version or a
    /// duplicate unique value rejects it whole with [`Error::Conflict`](crate::Error::Conflict). Once
    /// committed, its progress changes go out on the event's feed.
    async fn apply(&self, changes: ChangeSet) -> Result<()>;

    /// Subscribes to the event's progress changes committed from now on, by any writer
    /// sharing this store (B1).
    async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed>;
}

/// One participant's rows, a few by id, or a keyset page; never a scan of the event.
#[async_trait]
pub trait ParticipantStore: Send + Sync + 'static {
    /// The states of the participants among `ids` that exist in this event (any order).
    async fn participants_by_id(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<ParticipantState>>;

    /// The states of the participants among `ids` that exist in this event (any order),
    /// with only their progress rows of `tasks` (record, facts and version whole): what
    /// ingest needs, since a fact can only move the rows of the tasks whose condition reads
    /// it. The default reads the whole states through
    /// [`participants_by_id`](Self::participants_by_id) and drops the other rows, which is
    /// correct for any store; a store that keys rows by (participant, task) should read
    /// those rows alone.
    async fn participant_slices(
        &self,
        event: EventId,
        ids: &[ParticipantId],
        tasks: &[TaskId],
    ) -> Result<Vec<ParticipantState>> {
        let mut states = self.participants_by_id(event, ids).await?;
        for s in &mut states {
            s.progress.retain(|task, _| tasks.contains(task));
        }
        Ok(states)
    }

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

    /// The participants the host knows by these external ids, as (external id,
    /// participant) pairs in any order; ids nobody holds are left out. An import or a
    /// batch of host events resolves all its ids with it. The default asks
    /// [`participant_by_external_id`](Self::participant_by_external_id) for each, which is
    /// correct for any store; a store that can answer them in one read should.
    async fn participants_by_external_id(
        &self,
        event: EventId,
        external_ids: &[ExternalId],
    ) -> Result<Vec<(ExternalId, ParticipantId)>> {
        let mut found = Vec::with_capacity(external_ids.len());
        for x in external_ids {
            if let Some(id) = self.participant_by_external_id(event, x).await? {
                found.push((x.clone(), id));
            }
        }
        Ok(found)
    }

    /// Up to `limit` participants' states in id order, after `after` (keyset paging).
    async fn participants(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantState>>;

    /// Up to `limit` participants' ids in id order, after `after` (keyset paging): what
    /// paged work reads before it loads each page's slice of rows. The default takes them
    /// from [`participants`](Self::participants), which is correct for any store; a store
    /// should read the keys alone.
    async fn participant_ids(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantId>> {
        Ok(self
            .participants(event, after, limit)
            .await?
            .into_iter()
            .map(|s| s.participant.id)
            .collect())
    }

    /// The collaborators of `owner` (participants whose `owner` is them), in id order.
    async fn collaborators(
        &self,
        event: EventId,
        owner: ParticipantId,
    ) -> Result<Vec<ParticipantId>>;

    /// The progress rows (of other owners) assigned to `assignee`.
    async fn assigned_to(&self, event: EventId, assignee: ParticipantId) -> Result<Vec<Progress>>;

    /// Which of `ids` were already ingested (as facts or actions: one id space, X3).
    async fn ingested(&self, event: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>>;
}

/// The back office (B2, B3) and paged work.
#[async_trait]
pub trait TrackingStore: Send + Sync + 'static {
    /// A page of the matrix (B2): the states of the participants passing every filter of
    /// `query`, in its order, strictly after its cursor, at most `query.limit`. A store
    /// answers from indexes where it can; [`MatrixQuery::matches`] is the reference.
    async fn matrix(&self, event: EventId, query: &MatrixQuery) -> Result<Vec<ParticipantState>>;

    /// The per-task counters of the event (B3); tasks with no counted row may be absent.
    async fn task_counters(&self, event: EventId) -> Result<BTreeMap<TaskId, TaskCounters>>;

    /// Paged work not yet finished.
    async fn sweeps(&self, event: EventId) -> Result<Vec<Sweep>>;

    /// Up to `limit` targeted progress rows of `task` with `status`, in participant order
    /// strictly after `after`: the rows alone, without their owners' states, so work that
    /// looks at one task (the reminder tick) reads what it needs. The default reads them
    /// through [`matrix`](Self::matrix), which is correct for any store; a store with an
    /// index on a task's statuses should answer from it.
    async fn task_rows(
        &self,
        event: EventId,
        task: TaskId,
        status: ProgressStatus,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<Progress>> {
        let query = MatrixQuery {
            progress: Some((task, vec![status])),
            sort: crate::matrix::MatrixSort::Registration,
            after: after.map(|id| crate::matrix::MatrixCursor {
                key: String::new(),
                id,
            }),
            ..MatrixQuery::new(limit)
        };
        Ok(self
            .matrix(event, &query)
            .await?
            .into_iter()
            .filter_map(|mut s| s.progress.remove(&task))
            .collect())
    }

    /// Up to `limit` targeted rows of `task` still to do whose
    /// [`next_reminder_at`](Progress::next_reminder_at) has come at `now`, in participant
    /// order strictly after `after`: what the reminder tick reads (N3), so a tick with
    /// nothing due reads nothing. The default pages
    /// [`task_rows`](Self::task_rows) and keeps those rows, which is correct for any store;
    /// a store with an index on the rows' next reminder should answer from it.
    async fn rows_due(
        &self,
        event: EventId,
        task: TaskId,
        now: DateTime<Utc>,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<Progress>> {
        let mut out = Vec::new();
        let mut cursor = after;
        loop {
            let page = self
                .task_rows(event, task, ProgressStatus::Todo, cursor, limit)
                .await?;
            let full = page.len() == limit;
            cursor = page.last().map(|r| r.owner);
            out.extend(
                page.into_iter()
                    .filter(|r| r.next_reminder_at.is_some_and(|at| at <= now)),
            );
            if out.len() >= limit || !full {
                out.truncate(limit);
                return Ok(out);
            }
        }
    }
}

/// The participant record's append-only logs, newest first, by keyset (R5, R7, R12).
#[async_trait]
pub trait RecordStore: Send + Sync + 'static {
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
}

/// How many of a recipient's waiting entries a claim brings along with one of them
/// ([`OutboxStore::claim_outbox`]).
pub const WAITING_TOGETHER: usize = 50;

/// The outbox (N5): the organizers' lists and the dispatchers' lease protocol, the only
/// writes outside [`EventStore::apply`].
#[async_trait]
pub trait OutboxStore: Send + Sync + 'static {
    /// Up to `limit` of the event's entries that pass `filter`
    /// ([`OutboxFilter::matches`] is the reference), in id order, after `after`.
    async fn outbox(
        &self,
        event: EventId,
        filter: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>>;

    /// Claims up to `limit` outbox entries due at `now` ([`OutboxEntry::due_at`]), of any
    /// event, by lane ([`OutboxEntry::lane`]: every due entry of a lower lane before any
    /// of a higher one, N11), and earliest due first within a lane. An entry that waited
    /// for its send window ([`OutboxEntry::is_waiting`]) comes with up to
    /// [`WAITING_TOGETHER`] of its recipient's other due waiting entries, claimed in the
    /// same transaction (beyond `limit`), so that one dispatcher sends them as one message
    /// (N9) however many claim at once. Each is leased to `owner` until `lease_until`, stored so
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

    /// Moves the rate limiter `name` on (N11): reads its state (`None`: never used),
    /// stores what [`LimiterStep::apply`] makes of it, and returns the state it read;
    /// under a lock, so that callers on any number of dispatchers sharing the store go one
    /// after another. A limiter belongs to the store, whatever the event (a peer's rate is
    /// the peer's); the step is the rule, the store only keeps one instant per name.
    async fn update_limiter(&self, name: &str, step: LimiterStep) -> Result<Option<DateTime<Utc>>>;

    /// Writes back claimed entries as a dispatcher leaves them (sent, dead, or pending
    /// again after a backoff), each only if the stored entry is still pending and leased
    /// to `owner`: a dispatcher that outlived its lease changes nothing. Returns the ids
    /// written.
    async fn release_outbox(&self, owner: &str, entries: Vec<OutboxEntry>)
    -> Result<Vec<OutboxId>>;

    /// Puts the event's dead entries among `ids` back in the queue, due at `now`, with
    /// their attempts and last error cleared; returns the ids requeued (an id that is not
    /// a dead letter of the event is left alone).
    async fn requeue_dead(
        &self,
        event: EventId,
        ids: &[OutboxId],
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxId>>;
}

/// Reads derived from the required ones, for every store.
#[async_trait]
pub trait StoreExt: Store {
    /// The event, if it exists.
    async fn event(&self, id: EventId) -> Result<Option<Event>> {
        Ok(self.event_config(id).await?.map(|c| c.event.clone()))
    }

    /// Every task of the event, whatever its state, in id order.
    async fn tasks(&self, event: EventId) -> Result<Vec<Task>> {
        Ok(self
            .event_config(event)
            .await?
            .map(|c| c.tasks.values().cloned().collect())
            .unwrap_or_default())
    }

    /// Every segment of the event, in id order.
    async fn segments(&self, event: EventId) -> Result<Vec<Segment>> {
        Ok(self
            .event_config(event)
            .await?
            .map(|c| c.segments.values().cloned().collect())
            .unwrap_or_default())
    }

    /// One participant's state, if they exist in this event.
    async fn participant(
        &self,
        event: EventId,
        id: ParticipantId,
    ) -> Result<Option<ParticipantState>> {
        Ok(self.participants_by_id(event, &[id]).await?.pop())
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

/// An [`EventConfig`] from the three reads a store that keeps no snapshot makes: the
/// event (`None`: it does not exist), its tasks and its segments.
pub fn event_config_from(
    event: Option<Event>,
    tasks: Vec<Task>,
    segments: Vec<Segment>,
) -> Option<Arc<EventConfig>> {
    let event = event?;
    Some(Arc::new(EventConfig {
        event,
        tasks: tasks.into_iter().map(|t| (t.id, t)).collect(),
        segments: segments.into_iter().map(|s| (s.id, s)).collect(),
    }))
}
