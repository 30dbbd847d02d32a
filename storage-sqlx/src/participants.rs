//! [`ParticipantStore`]: participants' states (record, facts, progress rows) and the lookups
//! by host id, owner, assignee and ingested host event.

use std::sync::LazyLock;

use async_trait::async_trait;
use punchlist::store::ParticipantState;
use punchlist::store::ParticipantStore;
use punchlist::{
    Error, EventId, ExternalId, HostEventId, Participant, ParticipantId, Progress, Result, TaskId,
};
use sqlx::types::Json;
use sqlx::{Postgres, Row};
use uuid::Uuid;

use crate::PgStore;
use crate::check::{HOST_EVENTS_TAKEN, taken};
use crate::error::{column, from_json, map_error};

/// Loads participants' states by id (any order), with their progress rows, in one
/// statement, so a state and its rows come from the same snapshot.
pub(crate) async fn load_states<'c, E>(
    exec: E,
    event: EventId,
    ids: &[Uuid],
) -> Result<Vec<ParticipantState>>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    load(exec, event, ids, None).await
}

/// Loads participants' states by id (any order) with only their progress rows of
/// `tasks`, each row found by its key, in one statement.
pub(crate) async fn load_slices<'c, E>(
    exec: E,
    event: EventId,
    ids: &[Uuid],
    tasks: &[Uuid],
) -> Result<Vec<ParticipantState>>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    load(exec, event, ids, Some(tasks)).await
}

/// The statement of [`load_states`] (every row) and [`load_slices`] (the rows of some
/// tasks): two texts, so each is prepared once and keeps a plan of its own.
async fn load<'c, E>(
    exec: E,
    event: EventId,
    ids: &[Uuid],
    tasks: Option<&[Uuid]>,
) -> Result<Vec<ParticipantState>>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    /// The statement, with the condition on the rows' tasks (none, or `$3`).
    fn statement(rows: &str) -> String {
        format!(
            "SELECT p.version, p.record, p.facts, \
               COALESCE((SELECT jsonb_agg(g.body) FROM progress g \
                         WHERE g.event_id = p.event_id AND g.participant_id = p.participant_id{rows}), \
                        '[]'::jsonb) AS progress \
             FROM participants p \
             WHERE p.event_id = $1 AND p.participant_id IN (SELECT unnest($2::uuid[]))"
        )
    }
    static WHOLE: LazyLock<String> = LazyLock::new(|| statement(""));
    static SLICE: LazyLock<String> =
        LazyLock::new(|| statement(" AND g.task_id IN (SELECT unnest($3::uuid[]))"));
    let query = match tasks {
        None => sqlx::query(WHOLE.as_str()).bind(event.as_uuid()).bind(ids),
        Some(tasks) => sqlx::query(SLICE.as_str())
            .bind(event.as_uuid())
            .bind(ids)
            .bind(tasks),
    };
    let rows = query.fetch_all(exec).await.map_err(map_error)?;
    states_of(rows)
}

/// A keyset page of the event's participant ids, in id order after `after`.
async fn page_ids(
    pool: &sqlx::PgPool,
    event: EventId,
    after: Option<ParticipantId>,
    limit: usize,
) -> Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT participant_id FROM participants WHERE event_id = $1 AND participant_id > $2 \
         ORDER BY participant_id LIMIT $3",
    )
    .bind(event.as_uuid())
    .bind(after.map_or(Uuid::nil(), |a| a.as_uuid()))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await
    .map_err(map_error)
}

/// Decodes the rows of [`load_states`] and [`load_slices`].
fn states_of(rows: Vec<sqlx::postgres::PgRow>) -> Result<Vec<ParticipantState>> {
    rows.into_iter()
        .map(|r| {
            let v: i64 = r.get("version");
            let progress: Vec<Progress> = column(&r, "progress")?;
            Ok(ParticipantState {
                participant: column(&r, "record")?,
                facts: column(&r, "facts")?,
                progress: progress.into_iter().map(|row| (row.task, row)).collect(),
                version: u64::try_from(v).map_err(Error::backend)?,
            })
        })
        .collect()
}

#[async_trait]
impl ParticipantStore for PgStore {
    async fn participants_by_id(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<ParticipantState>> {
        let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        load_states(&self.pool, event, &ids).await
    }

    async fn participant_slices(
        &self,
        event: EventId,
        ids: &[ParticipantId],
        tasks: &[TaskId],
    ) -> Result<Vec<ParticipantState>> {
        let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        let tasks: Vec<Uuid> = tasks.iter().map(|t| t.as_uuid()).collect();
        load_slices(&self.pool, event, &ids, &tasks).await
    }

    async fn participant_records(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>> {
        let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        let rows: Vec<Json<Participant>> = sqlx::query_scalar(
            "SELECT record FROM participants \
             WHERE event_id = $1 AND participant_id IN (SELECT unnest($2::uuid[]))",
        )
        .bind(event.as_uuid())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows.into_iter().map(|j| j.0).collect())
    }

    async fn participant_by_external_id(
        &self,
        event: EventId,
        external_id: &ExternalId,
    ) -> Result<Option<ParticipantId>> {
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT participant_id FROM participants WHERE event_id = $1 AND external_id = $2",
        )
        .bind(event.as_uuid())
        .bind(external_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(id.map(ParticipantId::from_uuid))
    }

    async fn participants_by_external_id(
        &self,
        event: EventId,
        external_ids: &[ExternalId],
    ) -> Result<Vec<(ExternalId, ParticipantId)>> {
        let wanted: Vec<&str> = external_ids.iter().map(ExternalId::as_str).collect();
        let rows: Vec<(String, Uuid)> = sqlx::query_as(
            "SELECT external_id, participant_id FROM participants \
             WHERE event_id = $1 AND external_id = ANY($2)",
        )
        .bind(event.as_uuid())
        .bind(&wanted)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter()
            .map(|(x, id)| Ok((ExternalId::new(x)?, ParticipantId::from_uuid(id))))
            .collect()
    }

    async fn participant_ids(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantId>> {
        Ok(page_ids(&self.pool, event, after, limit)
            .await?
            .into_iter()
            .map(ParticipantId::from_uuid)
            .collect())
    }

    async fn participants(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantState>> {
        let ids = page_ids(&self.pool, event, after, limit).await?;
        let mut states = load_states(&self.pool, event, &ids).await?;
        states.sort_by_key(|s| s.participant.id);
        Ok(states)
    }

    async fn collaborators(
        &self,
        event: EventId,
        owner: ParticipantId,
    ) -> Result<Vec<ParticipantId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT participant_id FROM participants WHERE event_id = $1 AND owner_id = $2 ORDER BY participant_id",
        )
        .bind(event.as_uuid())
        .bind(owner.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(ids.into_iter().map(ParticipantId::from_uuid).collect())
    }

    async fn assigned_to(&self, event: EventId, assignee: ParticipantId) -> Result<Vec<Progress>> {
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT body FROM progress WHERE event_id = $1 AND assignee_id = $2 ORDER BY participant_id, task_id",
        )
        .bind(event.as_uuid())
        .bind(assignee.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(from_json).collect()
    }

    async fn ingested(&self, event: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>> {
        let wanted: Vec<String> = ids.iter().map(|h| h.to_string()).collect();
        taken(&self.pool, HOST_EVENTS_TAKEN, event.as_uuid(), &wanted)
            .await?
            .into_iter()
            .map(HostEventId::new)
            .collect()
    }
}
