//! [`TrackingStore`]: the matrix (its query is in `matrix.rs`), the per-task counters and
//! the open sweeps.

use std::collections::BTreeMap;

use async_trait::async_trait;
use punchlist::store::ParticipantState;
use punchlist::store::TrackingStore;
use punchlist::{EventId, MatrixQuery, Result, Sweep, TaskCounters, TaskId};
use sqlx::Row;

use crate::error::map_error;
use crate::{PgStore, matrix};

#[async_trait]
impl TrackingStore for PgStore {
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
