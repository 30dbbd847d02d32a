//! [`TrackingStore`]: the matrix (its query is in `matrix.rs`), the per-task counters and
//! the open sweeps.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::store::ParticipantState;
use punchlist::store::TrackingStore;
use punchlist::{
    EventId, MatrixQuery, ParticipantId, Progress, ProgressStatus, Result, Sweep, TaskCounters,
    TaskId,
};
use sqlx::Row;
use sqlx::types::Json;

use crate::error::map_error;
use crate::{PgStore, matrix};

#[async_trait]
impl TrackingStore for PgStore {
    async fn task_rows(
        &self,
        event: EventId,
        task: TaskId,
        status: ProgressStatus,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<Progress>> {
        let rows: Vec<Json<Progress>> = sqlx::query_scalar(
            "SELECT body FROM progress WHERE event_id = $1 AND task_id = $2 AND targeted \
             AND status = $3 AND participant_id > $4 ORDER BY participant_id LIMIT $5",
        )
        .bind(event.as_uuid())
        .bind(task.as_uuid())
        .bind(status.as_str())
        .bind(after.map_or(uuid::Uuid::nil(), |a| a.as_uuid()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows.into_iter().map(|Json(row)| row).collect())
    }

    async fn rows_due(
        &self,
        event: EventId,
        task: TaskId,
        now: DateTime<Utc>,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<Progress>> {
        // The partial index on (event, task, next reminder) holds the targeted rows still
        // to do; the few whose time has come are then put in participant order.
        let rows: Vec<Json<Progress>> = sqlx::query_scalar(
            "SELECT body FROM progress WHERE event_id = $1 AND task_id = $2 AND targeted \
             AND status = 'todo' AND next_reminder_at IS NOT NULL AND next_reminder_at <= $3 \
             AND participant_id > $4 ORDER BY participant_id LIMIT $5",
        )
        .bind(event.as_uuid())
        .bind(task.as_uuid())
        .bind(now)
        .bind(after.map_or(uuid::Uuid::nil(), |a| a.as_uuid()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows.into_iter().map(|Json(row)| row).collect())
    }

    async fn matrix(&self, event: EventId, query: &MatrixQuery) -> Result<Vec<ParticipantState>> {
        matrix::page(&self.pool, event, query).await
    }

    async fn task_counters(&self, event: EventId) -> Result<BTreeMap<TaskId, TaskCounters>> {
        let rows = sqlx::query(
            "SELECT task_id, targeted, done, awaiting_review FROM counters WHERE event_id = $1",
        )
        .bind(event.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    TaskId::from_uuid(r.get(0)),
                    TaskCounters {
                        targeted: r.get(1),
                        done: r.get(2),
                        awaiting_review: r.get(3),
                    },
                )
            })
            .collect())
    }

    async fn sweeps(&self, event: EventId) -> Result<Vec<Sweep>> {
        self.bodies(
            "SELECT body FROM sweeps WHERE event_id = $1 ORDER BY sweep_id",
            event,
        )
        .await
    }
}
