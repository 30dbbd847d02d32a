//! A store wrapper that yields to the scheduler before every call, so concurrent operations
//! really interleave between their reads and their commit, even on a store whose calls
//! never wait (the in-memory one). It counts the commits and the conflicts the store
//! reported, so a check can prove an operation wrote in one transaction, or that the
//! version check was exercised.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{DumpStore, EventDump};
use crate::change::ChangeSet;
use crate::error::{Error, Result};
use crate::history::{HistoryEntry, Subject};
use crate::ids::{EventId, ExternalId, HistoryId, HostEventId, OutboxId, ParticipantId, TaskId};
use crate::notify::{OutboxEntry, OutboxFilter};
use crate::progress::{Progress, ProgressStatus};
use crate::store::{
    EventStore, OutboxStore, ParticipantState, ParticipantStore, ProgressFeed, RecordStore, Store,
    TrackingStore,
};
use crate::sweep::Sweep;
use crate::timeline::{TimelineEntry, TimelineFilter};

/// Wraps a store; see the module docs.
#[derive(Debug)]
pub struct Interleaving<S> {
    inner: Arc<S>,
    commits: AtomicU64,
    conflicts: AtomicU64,
    calls: AtomicU64,
}

impl<S> Interleaving<S> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<S>) -> Self {
        Self {
            inner,
            commits: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        }
    }

    /// How many change sets the store committed so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// How many commits the store refused with a conflict so far.
    pub fn conflicts(&self) -> u64 {
        self.conflicts.load(Ordering::Relaxed)
    }

    /// How many calls (reads and commits) the store received so far: a check counts the
    /// store's work per operation with it.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    async fn pause(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
    }
}

#[async_trait]
impl<S: Store> EventStore for Interleaving<S> {
    async fn event_config(&self, event: EventId) -> Result<Option<Arc<crate::store::EventConfig>>> {
        self.pause().await;
        self.inner.event_config(event).await
    }

    async fn apply(&self, changes: ChangeSet) -> Result<()> {
        self.pause().await;
        let result = self.inner.apply(changes).await;
        match &result {
            Ok(()) => self.commits.fetch_add(1, Ordering::SeqCst),
            Err(Error::Conflict { .. }) => self.conflicts.fetch_add(1, Ordering::Relaxed),
            Err(_) => 0,
        };
        result
    }

    async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed> {
        self.inner.progress_feed(event).await
    }
}

#[async_trait]
impl<S: Store> ParticipantStore for Interleaving<S> {
    async fn participants_by_id(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<ParticipantState>> {
        self.pause().await;
        self.inner.participants_by_id(event, ids).await
    }

    async fn participant_records(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<crate::participant::Participant>> {
        self.pause().await;
        self.inner.participant_records(event, ids).await
    }

    async fn participant_by_external_id(
        &self,
        event: EventId,
        external_id: &ExternalId,
    ) -> Result<Option<ParticipantId>> {
        self.pause().await;
        self.inner
            .participant_by_external_id(event, external_id)
            .await
    }

    async fn participants_by_external_id(
        &self,
        event: EventId,
        external_ids: &[ExternalId],
    ) -> Result<Vec<(ExternalId, ParticipantId)>> {
        self.pause().await;
        self.inner
            .participants_by_external_id(event, external_ids)
            .await
    }

    async fn participants(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantState>> {
        self.pause().await;
        self.inner.participants(event, after, limit).await
    }

    async fn collaborators(
        &self,
        event: EventId,
        owner: ParticipantId,
    ) -> Result<Vec<ParticipantId>> {
        self.pause().await;
        self.inner.collaborators(event, owner).await
    }

    async fn assigned_to(&self, event: EventId, assignee: ParticipantId) -> Result<Vec<Progress>> {
        self.pause().await;
        self.inner.assigned_to(event, assignee).await
    }

    async fn ingested(&self, event: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>> {
        self.pause().await;
        self.inner.ingested(event, ids).await
    }
}

#[async_trait]
impl<S: Store> TrackingStore for Interleaving<S> {
    async fn matrix(
        &self,
        event: EventId,
        query: &crate::matrix::MatrixQuery,
    ) -> Result<Vec<ParticipantState>> {
        self.pause().await;
        self.inner.matrix(event, query).await
    }

    async fn task_counters(
        &self,
        event: EventId,
    ) -> Result<std::collections::BTreeMap<crate::ids::TaskId, crate::figures::TaskCounters>> {
        self.pause().await;
        self.inner.task_counters(event).await
    }

    async fn sweeps(&self, event: EventId) -> Result<Vec<Sweep>> {
        self.pause().await;
        self.inner.sweeps(event).await
    }

    async fn task_rows(
        &self,
        event: EventId,
        task: TaskId,
        status: ProgressStatus,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<Progress>> {
        self.pause().await;
        self.inner
            .task_rows(event, task, status, after, limit)
            .await
    }
}

#[async_trait]
impl<S: Store> RecordStore for Interleaving<S> {
    async fn timeline(
        &self,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        self.pause().await;
        self.inner.timeline(event, participant, filter, limit).await
    }

    async fn history(
        &self,
        event: EventId,
        subject: Subject,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        self.pause().await;
        self.inner.history(event, subject, before, limit).await
    }

    async fn messages(
        &self,
        event: EventId,
        participant: ParticipantId,
        before: Option<crate::ids::MessageId>,
        limit: usize,
    ) -> Result<Vec<crate::message::Message>> {
        self.pause().await;
        self.inner.messages(event, participant, before, limit).await
    }
}

#[async_trait]
impl<S: Store> OutboxStore for Interleaving<S> {
    async fn outbox(
        &self,
        event: EventId,
        filter: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        self.pause().await;
        self.inner.outbox(event, filter, after, limit).await
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        now: chrono::DateTime<chrono::Utc>,
        lease_until: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        self.pause().await;
        self.inner
            .claim_outbox(owner, now, lease_until, limit)
            .await
    }

    async fn update_limiter(
        &self,
        name: &str,
        step: crate::notify::LimiterStep,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        self.pause().await;
        self.inner.update_limiter(name, step).await
    }

    async fn release_outbox(
        &self,
        owner: &str,
        entries: Vec<OutboxEntry>,
    ) -> Result<Vec<OutboxId>> {
        self.pause().await;
        self.inner.release_outbox(owner, entries).await
    }

    async fn requeue_dead(
        &self,
        event: EventId,
        ids: &[OutboxId],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<OutboxId>> {
        self.pause().await;
        self.inner.requeue_dead(event, ids, now).await
    }
}

#[async_trait]
impl<S: DumpStore> DumpStore for Interleaving<S> {
    async fn dump(&self, event: EventId) -> Result<EventDump> {
        self.inner.dump(event).await
    }
}
