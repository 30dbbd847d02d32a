//! An event read whole: its record, segments and tasks (the configuration
//! `EventStore::event_config` assembles) and, behind `testkit`, the canonical dump the
//! conformance suite compares.

use punchlist::{Event, EventId, Result, Segment, Task};
use serde::de::DeserializeOwned;
use sqlx::types::Json;
#[cfg(feature = "testkit")]
use {
    crate::participants::load_states,
    async_trait::async_trait,
    punchlist::HostEventId,
    punchlist::store::{DumpStore, EventDump, TrackingStore},
    uuid::Uuid,
};

use crate::PgStore;
use crate::error::{from_json, map_error};

impl PgStore {
    /// The `body` documents `sql` selects for the event bound as `$1`, in its order.
    pub(crate) async fn bodies<T: DeserializeOwned + Send + Unpin + 'static>(
        &self,
        sql: &str,
        event: EventId,
    ) -> Result<Vec<T>> {
        let rows: Vec<Json<T>> = sqlx::query_scalar(sql)
            .bind(event.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(rows.into_iter().map(|j| j.0).collect())
    }

    /// The event's record.
    pub(crate) async fn event(&self, id: EventId) -> Result<Option<Event>> {
        let body: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT body FROM events WHERE event_id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        body.map(from_json).transpose()
    }

    /// The event's segments, by id.
    pub(crate) async fn segments(&self, event: EventId) -> Result<Vec<Segment>> {
        self.bodies(
            "SELECT body FROM segments WHERE event_id = $1 ORDER BY segment_id",
            event,
        )
        .await
    }

    /// The event's tasks, by id.
    pub(crate) async fn tasks(&self, event: EventId) -> Result<Vec<Task>> {
        self.bodies(
            "SELECT body FROM tasks WHERE event_id = $1 ORDER BY task_id",
            event,
        )
        .await
    }
}

#[cfg(feature = "testkit")]
#[async_trait]
impl DumpStore for PgStore {
    async fn dump(&self, event: EventId) -> Result<EventDump> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT participant_id FROM participants WHERE event_id = $1")
                .bind(event.as_uuid())
                .fetch_all(&self.pool)
                .await
                .map_err(map_error)?;
        let host_events: Vec<String> =
            sqlx::query_scalar("SELECT host_event_id FROM host_events WHERE event_id = $1")
                .bind(event.as_uuid())
                .fetch_all(&self.pool)
                .await
                .map_err(map_error)?;
        Ok(EventDump {
            event: self.event(event).await?,
            segments: self.segments(event).await?,
            tasks: self.tasks(event).await?,
            participants: load_states(&self.pool, event, &ids).await?,
            host_events: host_events
                .into_iter()
                .map(HostEventId::new)
                .collect::<Result<_>>()?,
            timeline: self
                .bodies("SELECT body FROM timeline WHERE event_id = $1", event)
                .await?,
            history: self
                .bodies("SELECT body FROM history WHERE event_id = $1", event)
                .await?,
            messages: self
                .bodies("SELECT body FROM messages WHERE event_id = $1", event)
                .await?,
            outbox: self
                .bodies("SELECT body FROM outbox WHERE event_id = $1", event)
                .await?,
            sweeps: self.sweeps(event).await?,
            counters: self.task_counters(event).await?,
        }
        .canonical())
    }
}
