//! A `mockall` mock of every store trait (feature `mock`), exported at the crate root.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::feed::ProgressFeed;
use super::{EventStore, OutboxStore, ParticipantStore, RecordStore, TrackingStore};
use crate::change::ChangeSet;
use crate::error::Result;
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
use crate::state::{EventConfig, ParticipantState};
use crate::sweep::Sweep;
use crate::timeline::{TimelineEntry, TimelineFilter};

mockall::mock! {
    /// A mock of every store trait (`mockall`), for hosts' tests.
    pub Store {}

    #[async_trait]
    impl EventStore for Store {
        async fn event_config(&self, event: EventId) -> Result<Option<Arc<EventConfig>>>;
        async fn apply(&self, changes: ChangeSet) -> Result<()>;
        async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed>;
    }

    #[async_trait]
    impl ParticipantStore for Store {
        async fn participants_by_id(&self, event: EventId, ids: &[ParticipantId]) -> Result<Vec<ParticipantState>>;
        async fn participant_slices(&self, event: EventId, ids: &[ParticipantId], tasks: &[TaskId]) -> Result<Vec<ParticipantState>>;
        async fn participant_records(&self, event: EventId, ids: &[ParticipantId]) -> Result<Vec<Participant>>;
        async fn participant_by_external_id(&self, event: EventId, external_id: &ExternalId) -> Result<Option<ParticipantId>>;
        async fn participants_by_external_id(&self, event: EventId, external_ids: &[ExternalId]) -> Result<Vec<(ExternalId, ParticipantId)>>;
        async fn participants(&self, event: EventId, after: Option<ParticipantId>, limit: usize) -> Result<Vec<ParticipantState>>;
        async fn participant_ids(&self, event: EventId, after: Option<ParticipantId>, limit: usize) -> Result<Vec<ParticipantId>>;
        async fn collaborators(&self, event: EventId, owner: ParticipantId) -> Result<Vec<ParticipantId>>;
        async fn assigned_to(&self, event: EventId, assignee: ParticipantId) -> Result<Vec<Progress>>;
        async fn ingested(&self, event: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>>;
    }

    #[async_trait]
    impl TrackingStore for Store {
        async fn matrix(&self, event: EventId, query: &MatrixQuery) -> Result<Vec<ParticipantState>>;
        async fn task_counters(&self, event: EventId) -> Result<BTreeMap<TaskId, TaskCounters>>;
        async fn sweeps(&self, event: EventId) -> Result<Vec<Sweep>>;
        async fn task_rows(&self, event: EventId, task: TaskId, status: ProgressStatus, after: Option<ParticipantId>, limit: usize) -> Result<Vec<Progress>>;
        async fn rows_due(&self, event: EventId, task: TaskId, now: DateTime<Utc>, after: Option<ParticipantId>, limit: usize) -> Result<Vec<Progress>>;
    }

    #[async_trait]
    impl RecordStore for Store {
        async fn timeline(&self, event: EventId, participant: ParticipantId, filter: &TimelineFilter, limit: usize) -> Result<Vec<TimelineEntry>>;
        async fn history(&self, event: EventId, subject: Subject, before: Option<HistoryId>, limit: usize) -> Result<Vec<HistoryEntry>>;
        async fn messages(&self, event: EventId, participant: ParticipantId, before: Option<MessageId>, limit: usize) -> Result<Vec<Message>>;
    }

    #[async_trait]
    impl OutboxStore for Store {
        async fn outbox(&self, event: EventId, filter: &OutboxFilter, after: Option<OutboxId>, limit: usize) -> Result<Vec<OutboxEntry>>;
        async fn claim_outbox(&self, owner: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxEntry>>;
        async fn update_limiter(&self, name: &str, step: LimiterStep) -> Result<Option<DateTime<Utc>>>;
        async fn release_outbox(&self, owner: &str, entries: Vec<OutboxEntry>) -> Result<Vec<OutboxId>>;
        async fn requeue_dead(&self, event: EventId, ids: &[OutboxId], now: DateTime<Utc>) -> Result<Vec<OutboxId>>;
    }
}
