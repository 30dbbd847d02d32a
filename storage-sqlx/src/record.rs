//! [`RecordStore`]: a participant's timeline, a subject's history and a participant's
//! messages, each read newest first by keyset on its primary key.

use async_trait::async_trait;
use punchlist::store::RecordStore;
use punchlist::{
    EventId, HistoryId, Message, MessageId, ParticipantId, Result, TimelineEntry, TimelineFilter,
};
use punchlist::{HistoryEntry, Subject};
use sqlx::types::Json;
use uuid::Uuid;

use crate::PgStore;
use crate::error::{from_json, map_error};
use crate::schema::subject_parts;

#[async_trait]
impl RecordStore for PgStore {
    async fn timeline(
        &self,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        let (lower, upper) = filter.id_range();
        if lower >= upper {
            return Ok(Vec::new());
        }
        // Walks the primary key (event, participant, entry) downwards from `upper`, so a
        // page's cost does not depend on its depth; the kind is a filter on the rows
        // walked (a rare kind reads past the others).
        let rows: Vec<Json<TimelineEntry>> = sqlx::query_scalar(
            "SELECT body FROM timeline WHERE event_id = $1 AND participant_id = $2 \
             AND entry_id >= $3 AND entry_id < $4 AND ($5::text[] IS NULL OR kind = ANY($5)) \
             ORDER BY entry_id DESC LIMIT $6",
        )
        .bind(event.as_uuid())
        .bind(participant.as_uuid())
        .bind(lower.as_uuid())
        .bind(upper.as_uuid())
        .bind(filter.kind_names())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows.into_iter().map(|Json(e)| e).collect())
    }

    async fn history(
        &self,
        event: EventId,
        subject: Subject,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let (kind, id) = subject_parts(subject);
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT body FROM history WHERE event_id = $1 AND subject_kind = $2 AND subject_id = $3 \
             AND line_id < $4 ORDER BY line_id DESC LIMIT $5",
        )
        .bind(event.as_uuid())
        .bind(kind)
        .bind(id)
        .bind(before.map_or(Uuid::max(), |b| b.as_uuid()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(from_json).collect()
    }

    async fn messages(
        &self,
        event: EventId,
        participant: ParticipantId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let rows: Vec<Json<Message>> = sqlx::query_scalar(
            "SELECT body FROM messages WHERE event_id = $1 AND participant_id = $2 \
             AND message_id < $3 ORDER BY message_id DESC LIMIT $4",
        )
        .bind(event.as_uuid())
        .bind(participant.as_uuid())
        .bind(before.map_or(Uuid::max(), |b| b.as_uuid()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows.into_iter().map(|Json(m)| m).collect())
    }
}
