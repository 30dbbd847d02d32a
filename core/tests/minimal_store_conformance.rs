//! The conformance suite on a store that implements only the required methods of the
//! store traits (a third-party store's minimum): every provided method runs its default,
//! built on the required ones, and the store still passes every check.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::store::*;
use punchlist::*;

/// The in-memory store behind the required methods only.
struct Minimal(MemoryStore);

#[async_trait]
impl EventStore for Minimal {
    async fn event_config(&self, e: EventId) -> Result<Option<Arc<EventConfig>>> {
        self.0.event_config(e).await
    }
    async fn apply(&self, changes: ChangeSet) -> Result<()> {
        self.0.apply(changes).await
    }
    async fn progress_feed(&self, e: EventId) -> Result<ProgressFeed> {
        self.0.progress_feed(e).await
    }
}

#[async_trait]
impl ParticipantStore for Minimal {
    async fn participants_by_id(
        &self,
        e: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<ParticipantState>> {
        self.0.participants_by_id(e, ids).await
    }
    async fn participant_records(
        &self,
        e: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>> {
        self.0.participant_records(e, ids).await
    }
    async fn participant_by_external_id(
        &self,
        e: EventId,
        id: &ExternalId,
    ) -> Result<Option<ParticipantId>> {
        self.0.participant_by_external_id(e, id).await
    }
    async fn participants(
        &self,
        e: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantState>> {
        self.0.participants(e, after, limit).await
    }
    async fn collaborators(&self, e: EventId, owner: ParticipantId) -> Result<Vec<ParticipantId>> {
        self.0.collaborators(e, owner).await
    }
    async fn assigned_to(&self, e: EventId, assignee: ParticipantId) -> Result<Vec<Progress>> {
        self.0.assigned_to(e, assignee).await
    }
    async fn ingested(&self, e: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>> {
        self.0.ingested(e, ids).await
    }
}

#[async_trait]
impl TrackingStore for Minimal {
    async fn matrix(&self, e: EventId, q: &MatrixQuery) -> Result<Vec<ParticipantState>> {
        self.0.matrix(e, q).await
    }
    async fn task_counters(&self, e: EventId) -> Result<BTreeMap<TaskId, TaskCounters>> {
        self.0.task_counters(e).await
    }
    async fn sweeps(&self, e: EventId) -> Result<Vec<Sweep>> {
        self.0.sweeps(e).await
    }
}

#[async_trait]
impl RecordStore for Minimal {
    async fn timeline(
        &self,
        e: EventId,
        p: ParticipantId,
        f: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        self.0.timeline(e, p, f, limit).await
    }
    async fn history(
        &self,
        e: EventId,
        s: Subject,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        self.0.history(e, s, before, limit).await
    }
    async fn messages(
        &self,
        e: EventId,
        p: ParticipantId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        self.0.messages(e, p, before, limit).await
    }
}

#[async_trait]
impl OutboxStore for Minimal {
    async fn outbox(
        &self,
        e: EventId,
        f: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        self.0.outbox(e, f, after, limit).await
    }
    async fn claim_outbox(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        self.0.claim_outbox(owner, now, until, limit).await
    }
    async fn update_limiter(&self, name: &str, step: LimiterStep) -> Result<Option<DateTime<Utc>>> {
        self.0.update_limiter(name, step).await
    }
    async fn release_outbox(
        &self,
        owner: &str,
        entries: Vec<OutboxEntry>,
    ) -> Result<Vec<OutboxId>> {
        self.0.release_outbox(owner, entries).await
    }
    async fn requeue_dead(
        &self,
        e: EventId,
        ids: &[OutboxId],
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxId>> {
        self.0.requeue_dead(e, ids, now).await
    }
}

#[async_trait]
impl DumpStore for Minimal {
    async fn dump(&self, e: EventId) -> Result<EventDump> {
        self.0.dump(e).await
    }
}

punchlist::conformance_tests!(async { Minimal(MemoryStore::new()) });
