//! What the shared change-set check reads ([`StoredState`]): the versions and unique values
//! a change set touches, fetched and locked (`FOR NO KEY UPDATE`) in the committing
//! transaction before [`check`](punchlist::store::check) runs over them.

use std::collections::{HashMap, HashSet};

use punchlist::store::{ChangeSet, StoredState};
use punchlist::{Error, ExternalId, HostEventId, ParticipantId, Result, SegmentId, TaskId};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use crate::error::map_error;

/// What the check reads, fetched (and locked) in the committing transaction.
#[derive(Default)]
pub(crate) struct Prefetched {
    event: Option<u64>,
    segments: HashMap<Uuid, u64>,
    tasks: HashMap<Uuid, u64>,
    participants: HashMap<Uuid, u64>,
    external: HashMap<String, Uuid>,
    host_events: HashSet<String>,
    outbox_keys: HashSet<String>,
}

impl StoredState for Prefetched {
    fn event_version(&mut self) -> Result<Option<u64>> {
        Ok(self.event)
    }
    fn segment_version(&mut self, id: SegmentId) -> Result<Option<u64>> {
        Ok(self.segments.get(&id.as_uuid()).copied())
    }
    fn task_version(&mut self, id: TaskId) -> Result<Option<u64>> {
        Ok(self.tasks.get(&id.as_uuid()).copied())
    }
    fn participant_version(&mut self, id: ParticipantId) -> Result<Option<u64>> {
        Ok(self.participants.get(&id.as_uuid()).copied())
    }
    fn external_id_owner(&mut self, id: &ExternalId) -> Result<Option<ParticipantId>> {
        Ok(self
            .external
            .get(id.as_str())
            .map(|u| ParticipantId::from_uuid(*u)))
    }
    fn host_event_seen(&mut self, id: &HostEventId) -> Result<bool> {
        Ok(self.host_events.contains(id.as_str()))
    }
    fn outbox_key_taken(&mut self, key: &str) -> Result<bool> {
        Ok(self.outbox_keys.contains(key))
    }
}

/// The versions of the rows `sql` selects (and locks) by id, of those that exist.
async fn versions(
    tx: &mut Transaction<'_, Postgres>,
    sql: &str,
    event: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(sql)
        .bind(event)
        .bind(ids)
        .fetch_all(&mut **tx)
        .await
        .map_err(map_error)?;
    rows.into_iter()
        .map(|r| {
            let v: i64 = r.get(1);
            Ok((r.get(0), u64::try_from(v).map_err(Error::backend)?))
        })
        .collect()
}

/// The host event ids among `$2` the event `$1` has ingested already (for `taken`).
pub(crate) const HOST_EVENTS_TAKEN: &str = "SELECT host_event_id FROM host_events \
     WHERE event_id = $1 AND host_event_id IN (SELECT unnest($2::text[]))";
/// The idempotency keys among `$2` the event `$1` has taken already (for `taken`).
const OUTBOX_KEYS_TAKEN: &str = "SELECT idempotency_key FROM outbox \
     WHERE event_id = $1 AND idempotency_key IN (SELECT unnest($2::text[]))";

/// Which of the unique `values` `sql` finds already stored in the event (none asked, none
/// read).
pub(crate) async fn taken<'c, E>(
    exec: E,
    sql: &str,
    event: Uuid,
    values: &[String],
) -> Result<Vec<String>>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    if values.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(sql)
        .bind(event)
        .bind(values)
        .fetch_all(exec)
        .await
        .map_err(map_error)
}

/// Reads and locks what the check of `cs` needs.
pub(crate) async fn prefetch(
    tx: &mut Transaction<'_, Postgres>,
    cs: &ChangeSet,
) -> Result<Prefetched> {
    let ev = cs.event.as_uuid();
    // A configuration change locks the event row; every other change set holds it shared,
    // so none commits on a configuration that changes under it. `NO KEY` locks leave the
    // foreign-key checks of other writers free.
    let lock = if cs.event_record.is_some() {
        "FOR NO KEY UPDATE"
    } else {
        "FOR SHARE"
    };
    let event: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT version FROM events WHERE event_id = $1 {lock}"
    ))
    .bind(ev)
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_error)?;
    let segment_ids: Vec<Uuid> = cs
        .segments
        .iter()
        .map(|s| s.id.as_uuid())
        .chain(cs.deleted_segments.iter().map(|(s, _)| s.as_uuid()))
        .collect();
    let task_ids: Vec<Uuid> = cs
        .tasks
        .iter()
        .map(|t| t.id.as_uuid())
        .chain(cs.deleted_tasks.iter().map(|(t, _)| t.as_uuid()))
        .collect();
    let mut participant_ids: Vec<Uuid> = cs.participants.iter().map(|w| w.id.as_uuid()).collect();
    participant_ids.sort();
    let externals: Vec<String> = cs
        .participants
        .iter()
        .filter_map(|w| w.record.as_ref())
        .map(|r| r.external_id.to_string())
        .collect();
    let host_ids: Vec<String> = cs.host_events.iter().map(|h| h.to_string()).collect();
    let keys: Vec<String> = cs
        .outbox
        .iter()
        .map(|o| o.idempotency_key.clone())
        .collect();
    let mut p = Prefetched {
        event: event.map(u64::try_from).transpose().map_err(Error::backend)?,
        segments: versions(
            tx,
            "SELECT segment_id, version FROM segments WHERE event_id = $1 AND segment_id IN (SELECT unnest($2::uuid[])) ORDER BY segment_id FOR NO KEY UPDATE",
            ev,
            &segment_ids,
        )
        .await?,
        tasks: versions(
            tx,
            "SELECT task_id, version FROM tasks WHERE event_id = $1 AND task_id IN (SELECT unnest($2::uuid[])) ORDER BY task_id FOR NO KEY UPDATE",
            ev,
            &task_ids,
        )
        .await?,
        participants: versions(
            tx,
            "SELECT participant_id, version FROM participants WHERE event_id = $1 AND participant_id IN (SELECT unnest($2::uuid[])) ORDER BY participant_id FOR NO KEY UPDATE",
            ev,
            &participant_ids,
        )
        .await?,
        ..Prefetched::default()
    };
    if !externals.is_empty() {
        for r in sqlx::query(
            "SELECT external_id, participant_id FROM participants WHERE event_id = $1 AND external_id IN (SELECT unnest($2::text[]))",
        )
        .bind(ev)
        .bind(&externals)
        .fetch_all(&mut **tx)
        .await
        .map_err(map_error)?
        {
            p.external.insert(r.get(0), r.get(1));
        }
    }
    p.host_events = taken(&mut **tx, HOST_EVENTS_TAKEN, ev, &host_ids)
        .await?
        .into_iter()
        .collect();
    p.outbox_keys = taken(&mut **tx, OUTBOX_KEYS_TAKEN, ev, &keys)
        .await?
        .into_iter()
        .collect();
    Ok(p)
}
