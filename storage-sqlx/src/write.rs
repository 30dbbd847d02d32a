//! [`EventStore`]: a change set checked against what the committing transaction reads and
//! locks (`check.rs`), then written, one function per group of tables, in that transaction.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::store::{ChangeSet, check};
use punchlist::store::{EventConfig, EventStore, event_config_from};
use punchlist::{Actor, HistoryEntry};
use punchlist::{
    Error, EventId, Facts, Message, Participant, ParticipantId, Progress, ProgressFeed, Result,
    SegmentId, TaskId, TimelineEntry,
};
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::check::prefetch;
use crate::error::{map_error, to_json, version};
use crate::schema::{derived, subject_parts};
use crate::{PgStore, feed, outbox};

#[async_trait]
impl EventStore for PgStore {
    async fn event_config(&self, event: EventId) -> Result<Option<Arc<EventConfig>>> {
        let Some(record) = self.event(event).await? else {
            return Ok(None);
        };
        let tasks = self.tasks(event).await?;
        let segments = self.segments(event).await?;
        Ok(event_config_from(Some(record), tasks, segments))
    }

    async fn apply(&self, changes: ChangeSet) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        let mut stored = prefetch(&mut tx, &changes).await?;
        check(&changes, &mut stored)?;
        write(&mut tx, &changes).await?;
        tx.commit().await.map_err(map_error)
    }

    async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed> {
        feed::progress_feed(&self.pool, event).await
    }
}

/// Writes a checked change set in the transaction: one statement per table for the rows
/// that come in numbers (facts-only participant updates, progress, timeline, history,
/// outbox), one per row for the rest. The groups go in this order, so foreign keys hold
/// for new rows (the event before what it holds, participants before their rows).
async fn write(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    write_configuration(tx, cs).await?;
    write_participants(tx, cs).await?;
    write_host_events(tx, cs).await?;
    write_records(tx, cs).await?;
    write_outbox(tx, cs).await?;
    write_sweeps(tx, cs).await?;
    write_counters(tx, cs).await?;
    feed::notify(tx, cs).await
}

/// Runs one statement of the write in the transaction `$tx`.
macro_rules! exec {
    ($tx:expr, $q:expr $(,)?) => {
        $q.execute(&mut **$tx).await.map_err(map_error)?
    };
}

/// Runs the upsert of a versioned row. It is written only over its predecessor: the
/// upsert's update applies only `WHERE version = new - 1`, so a row created concurrently
/// (both at version 1) or a stale version affects no row, and that is a conflict, never an
/// overwrite.
macro_rules! exec_versioned {
    ($tx:expr, $q:expr, $entity:expr, $id:expr $(,)?) => {
        if exec!($tx, $q).rows_affected() != 1 {
            return Err(Error::conflict($entity, $id));
        }
    };
}

/// The event's record, segments and tasks, and the tasks and segments deleted.
async fn write_configuration(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    let ev = cs.event.as_uuid();
    if let Some(e) = &cs.event_record {
        exec_versioned!(
            tx,
            sqlx::query(
                "INSERT INTO events (event_id, version, body) VALUES ($1, $2, $3) \
             ON CONFLICT (event_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body \
             WHERE events.version = EXCLUDED.version - 1",
            )
            .bind(ev)
            .bind(version(e.version)?)
            .bind(to_json(e)?),
            EventId::ENTITY,
            cs.event,
        );
    }
    for s in &cs.segments {
        exec_versioned!(tx, sqlx::query(
            "INSERT INTO segments (event_id, segment_id, version, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id, segment_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body \
             WHERE segments.version = EXCLUDED.version - 1"
        )
        .bind(ev)
        .bind(s.id.as_uuid())
        .bind(version(s.version)?)
        .bind(to_json(s)?), SegmentId::ENTITY, s.id);
    }
    for t in &cs.tasks {
        exec_versioned!(tx, sqlx::query(
            "INSERT INTO tasks (event_id, task_id, version, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id, task_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body \
             WHERE tasks.version = EXCLUDED.version - 1"
        )
        .bind(ev)
        .bind(t.id.as_uuid())
        .bind(version(t.version)?)
        .bind(to_json(t)?), TaskId::ENTITY, t.id);
    }
    for (id, _) in &cs.deleted_tasks {
        exec!(
            tx,
            sqlx::query("DELETE FROM tasks WHERE event_id = $1 AND task_id = $2")
                .bind(ev)
                .bind(id.as_uuid()),
        );
    }
    for (id, _) in &cs.deleted_segments {
        exec!(
            tx,
            sqlx::query("DELETE FROM segments WHERE event_id = $1 AND segment_id = $2")
                .bind(ev)
                .bind(id.as_uuid()),
        );
    }
    Ok(())
}

/// Progress rows of a change set, as columns for one `UNNEST` insert.
#[derive(Default)]
struct ProgressColumns<'a> {
    participant: Vec<Uuid>,
    task: Vec<Uuid>,
    targeted: Vec<bool>,
    status: Vec<&'static str>,
    assignee: Vec<Option<Uuid>>,
    next_reminder: Vec<Option<DateTime<Utc>>>,
    completed_at: Vec<Option<DateTime<Utc>>>,
    completed_by_participant: Vec<Option<Uuid>>,
    completed_by_admin: Vec<Option<&'a str>>,
    completed_how: Vec<Option<&'static str>>,
    due_at: Vec<Option<DateTime<Utc>>>,
    body: Vec<Json<&'a Progress>>,
}

impl<'a> ProgressColumns<'a> {
    /// Adds `row` of participant `pid`, with the columns read beside its body.
    fn push(&mut self, pid: Uuid, row: &'a Progress) {
        let completion = row.completion.as_ref();
        let by = completion.map(|c| &c.by);
        self.participant.push(pid);
        self.task.push(row.task.as_uuid());
        self.targeted.push(row.targeted);
        self.status.push(row.status.as_str());
        self.assignee.push(row.assignee.map(|a| a.as_uuid()));
        self.next_reminder.push(row.next_reminder_at);
        self.completed_at.push(completion.map(|c| c.at));
        self.completed_by_participant.push(match by {
            Some(Actor::Participant { id, .. }) => Some(id.as_uuid()),
            _ => None,
        });
        self.completed_by_admin.push(match by {
            Some(Actor::Organizer { admin, .. }) => Some(admin.as_str()),
            _ => None,
        });
        self.completed_how.push(completion.map(|c| c.how.as_str()));
        self.due_at.push(row.due_at);
        self.body.push(Json(row));
    }
}

/// Participants' records with their computed columns, as columns for one `UNNEST` upsert.
#[derive(Default)]
struct RecordColumns<'a> {
    id: Vec<Uuid>,
    version: Vec<i64>,
    external_id: Vec<&'a str>,
    owner: Vec<Option<Uuid>>,
    sort_name: Vec<String>,
    sort_company: Vec<String>,
    sort_email: Vec<String>,
    search: Vec<String>,
    categories: Vec<Json<Vec<String>>>,
    record: Vec<Json<&'a Participant>>,
    facts: Vec<Json<&'a Facts>>,
}

/// Upserts records in one statement, each only over its predecessor (`WHERE version =
/// new - 1`, as for every versioned row): a row created concurrently or a stale version
/// is left out of the `RETURNING`, and that is a conflict. `facts` says what a record
/// update does to the stored facts (`EXCLUDED.facts` to write them, `participants.facts`
/// to keep them); a new row is always written with its facts.
async fn upsert_records(
    tx: &mut Transaction<'_, Postgres>,
    ev: Uuid,
    cols: RecordColumns<'_>,
    facts: &str,
) -> Result<()> {
    if cols.id.is_empty() {
        return Ok(());
    }
    let written: Vec<Uuid> = sqlx::query_scalar(&format!(
        "INSERT INTO participants (event_id, participant_id, version, external_id, owner_id, \
           sort_name, sort_company, sort_email, search, categories, record, facts) \
         SELECT $1, u.id, u.version, u.external_id, u.owner_id, u.sort_name, u.sort_company, \
           u.sort_email, u.search, ARRAY(SELECT jsonb_array_elements_text(u.categories)), \
           u.record, u.facts \
         FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::uuid[], $6::text[], $7::text[], \
           $8::text[], $9::text[], $10::jsonb[], $11::jsonb[], $12::jsonb[]) \
           AS u(id, version, external_id, owner_id, sort_name, sort_company, sort_email, search, \
                categories, record, facts) \
         ON CONFLICT (event_id, participant_id) DO UPDATE SET version = EXCLUDED.version, \
           external_id = EXCLUDED.external_id, owner_id = EXCLUDED.owner_id, \
           sort_name = EXCLUDED.sort_name, sort_company = EXCLUDED.sort_company, \
           sort_email = EXCLUDED.sort_email, search = EXCLUDED.search, \
           categories = EXCLUDED.categories, record = EXCLUDED.record, facts = {facts} \
         WHERE participants.version = EXCLUDED.version - 1 \
         RETURNING participant_id"
    ))
    .bind(ev)
    .bind(&cols.id)
    .bind(&cols.version)
    .bind(&cols.external_id)
    .bind(&cols.owner)
    .bind(&cols.sort_name)
    .bind(&cols.sort_company)
    .bind(&cols.sort_email)
    .bind(&cols.search)
    .bind(&cols.categories)
    .bind(&cols.record)
    .bind(&cols.facts)
    .fetch_all(&mut **tx)
    .await
    .map_err(map_error)?;
    if written.len() != cols.id.len() {
        let written: std::collections::HashSet<Uuid> = written.into_iter().collect();
        let lost = cols.id.iter().find(|id| !written.contains(id)).copied();
        return Err(Error::conflict(
            ParticipantId::ENTITY,
            lost.map_or_else(|| "a participant".to_owned(), |id| id.to_string()),
        ));
    }
    Ok(())
}

/// Participants (records with their computed columns, or facts only) and their progress
/// rows.
async fn write_participants(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    let ev = cs.event.as_uuid();
    // Owners before their collaborators, so the owner foreign key holds for new rows.
    let mut writes: Vec<_> = cs.participants.iter().collect();
    writes.sort_by_key(|w| w.record.as_ref().is_some_and(|r| r.owner.is_some()));
    // Facts-only writes, as columns: ids, new versions, facts (when they changed).
    let mut bumps = (Vec::new(), Vec::new(), Vec::<Option<Json<&Facts>>>::new());
    let mut rows = ProgressColumns::default();
    let (mut with_facts, mut without_facts) = (RecordColumns::default(), RecordColumns::default());
    let no_facts = Facts::default();
    for w in writes {
        let pid = w.id.as_uuid();
        match &w.record {
            Some(r) => {
                // Batched below: one statement for the records written with their
                // facts (every new participant), one for those without.
                let d = derived(r);
                let cols = if w.facts.is_some() || w.version == 1 {
                    &mut with_facts
                } else {
                    &mut without_facts
                };
                cols.id.push(pid);
                cols.version.push(version(w.version)?);
                cols.external_id.push(r.external_id.as_str());
                cols.owner.push(r.owner.map(|o| o.as_uuid()));
                cols.sort_name.push(d.sort_name);
                cols.sort_company.push(d.sort_company);
                cols.sort_email.push(d.sort_email);
                cols.search.push(d.search);
                cols.categories.push(Json(d.categories));
                cols.record.push(Json(r));
                cols.facts.push(Json(w.facts.as_ref().unwrap_or(&no_facts)));
            }
            None => {
                // Batched below: one statement for every facts-only write.
                bumps.0.push(pid);
                bumps.1.push(version(w.version)?);
                bumps.2.push(w.facts.as_ref().map(Json));
            }
        }
        for row in &w.progress {
            rows.push(pid, row);
        }
    }
    upsert_records(tx, ev, with_facts, "EXCLUDED.facts").await?;
    upsert_records(tx, ev, without_facts, "participants.facts").await?;
    if !bumps.0.is_empty() {
        let n = bumps.0.len() as u64;
        let (ids, versions, facts) = bumps;
        let updated = sqlx::query(
            "UPDATE participants p SET version = u.version, facts = COALESCE(u.facts, p.facts) \
             FROM unnest($2::uuid[], $3::bigint[], $4::jsonb[]) AS u(id, version, facts) \
             WHERE p.event_id = $1 AND p.participant_id = u.id AND p.version = u.version - 1",
        )
        .bind(ev)
        .bind(&ids)
        .bind(&versions)
        .bind(&facts)
        .execute(&mut **tx)
        .await
        .map_err(map_error)?
        .rows_affected();
        if updated != n {
            return Err(Error::conflict(
                ParticipantId::ENTITY,
                "a participant changed meanwhile",
            ));
        }
    }
    if !rows.task.is_empty() {
        exec!(tx, sqlx::query(
            "INSERT INTO progress (event_id, participant_id, task_id, targeted, status, assignee_id, \
               next_reminder_at, completed_at, completed_by_participant, completed_by_admin, \
               completed_how, due_at, body) \
             SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::bool[], $5::text[], $6::uuid[], \
               $7::timestamptz[], $8::timestamptz[], $9::uuid[], $10::text[], $11::text[], \
               $12::timestamptz[], $13::jsonb[]) \
             ON CONFLICT (event_id, participant_id, task_id) DO UPDATE SET targeted = EXCLUDED.targeted, \
               status = EXCLUDED.status, assignee_id = EXCLUDED.assignee_id, \
               next_reminder_at = EXCLUDED.next_reminder_at, completed_at = EXCLUDED.completed_at, \
               completed_by_participant = EXCLUDED.completed_by_participant, \
               completed_by_admin = EXCLUDED.completed_by_admin, \
               completed_how = EXCLUDED.completed_how, due_at = EXCLUDED.due_at, body = EXCLUDED.body"
        )
        .bind(ev)
        .bind(&rows.participant)
        .bind(&rows.task)
        .bind(&rows.targeted)
        .bind(&rows.status)
        .bind(&rows.assignee)
        .bind(&rows.next_reminder)
        .bind(&rows.completed_at)
        .bind(&rows.completed_by_participant)
        .bind(&rows.completed_by_admin)
        .bind(&rows.completed_how)
        .bind(&rows.due_at)
        .bind(&rows.body));
    }
    Ok(())
}

/// The host events ingested.
async fn write_host_events(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    if !cs.host_events.is_empty() {
        let ids: Vec<String> = cs.host_events.iter().map(|h| h.to_string()).collect();
        exec!(
            tx,
            sqlx::query(
                "INSERT INTO host_events (event_id, host_event_id) SELECT $1, unnest($2::text[])",
            )
            .bind(cs.event.as_uuid())
            .bind(ids),
        );
    }
    Ok(())
}

/// Timeline entries, history lines and messages.
async fn write_records(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    let ev = cs.event.as_uuid();
    if !cs.timeline.is_empty() {
        let participants: Vec<Uuid> = cs
            .timeline
            .iter()
            .map(|t| t.participant.as_uuid())
            .collect();
        let ids: Vec<Uuid> = cs.timeline.iter().map(|t| t.id.as_uuid()).collect();
        let kinds: Vec<&str> = cs
            .timeline
            .iter()
            .map(|t| t.kind.action_kind().as_str())
            .collect();
        let bodies: Vec<Json<&TimelineEntry>> = cs.timeline.iter().map(Json).collect();
        exec!(
            tx,
            sqlx::query(
                "INSERT INTO timeline (event_id, participant_id, entry_id, kind, body) \
             SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::jsonb[])",
            )
            .bind(ev)
            .bind(&participants)
            .bind(&ids)
            .bind(&kinds)
            .bind(&bodies),
        );
    }
    if !cs.history.is_empty() {
        let (kinds, subjects): (Vec<i16>, Vec<Uuid>) =
            cs.history.iter().map(|h| subject_parts(h.subject)).unzip();
        let ids: Vec<Uuid> = cs.history.iter().map(|h| h.id.as_uuid()).collect();
        let bodies: Vec<Json<&HistoryEntry>> = cs.history.iter().map(Json).collect();
        exec!(
            tx,
            sqlx::query(
                "INSERT INTO history (event_id, subject_kind, subject_id, line_id, body) \
             SELECT $1, * FROM unnest($2::smallint[], $3::uuid[], $4::uuid[], $5::jsonb[]) \
             ON CONFLICT (event_id, subject_kind, subject_id, line_id) DO UPDATE SET body = EXCLUDED.body",
            )
            .bind(ev)
            .bind(&kinds)
            .bind(&subjects)
            .bind(&ids)
            .bind(&bodies),
        );
    }
    if !cs.messages.is_empty() {
        let participants: Vec<Uuid> = cs
            .messages
            .iter()
            .map(|m| m.participant.as_uuid())
            .collect();
        let ids: Vec<Uuid> = cs.messages.iter().map(|m| m.id.as_uuid()).collect();
        let bodies: Vec<Json<&Message>> = cs.messages.iter().map(Json).collect();
        exec!(
            tx,
            sqlx::query(
                "INSERT INTO messages (event_id, participant_id, message_id, body) \
             SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::jsonb[]) \
             ON CONFLICT (event_id, participant_id, message_id) DO UPDATE SET body = EXCLUDED.body",
            )
            .bind(ev)
            .bind(&participants)
            .bind(&ids)
            .bind(&bodies),
        );
    }
    Ok(())
}

/// New outbox entries and the entries deleted (by `outbox.rs`, with the outbox's other writes).
async fn write_outbox(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    outbox::insert_outbox(tx, cs.event, &cs.outbox).await?;
    outbox::delete_outbox(tx, cs.event, &cs.deleted_outbox).await
}

/// Sweeps started, moved on and finished.
async fn write_sweeps(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    let ev = cs.event.as_uuid();
    for s in &cs.sweeps {
        if s.after.is_none() {
            exec!(
                tx,
                sqlx::query(
                    "INSERT INTO sweeps (event_id, sweep_id, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (event_id, sweep_id) DO UPDATE SET body = EXCLUDED.body",
                )
                .bind(ev)
                .bind(s.id.as_uuid())
                .bind(to_json(s)?),
            );
        } else {
            exec!(
                tx,
                sqlx::query("UPDATE sweeps SET body = $3 WHERE event_id = $1 AND sweep_id = $2")
                    .bind(ev)
                    .bind(s.id.as_uuid())
                    .bind(to_json(s)?),
            );
        }
    }
    for id in &cs.finished_sweeps {
        exec!(
            tx,
            sqlx::query("DELETE FROM sweeps WHERE event_id = $1 AND sweep_id = $2")
                .bind(ev)
                .bind(id.as_uuid()),
        );
    }
    Ok(())
}

/// The per-task counters' deltas.
async fn write_counters(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    let ev = cs.event.as_uuid();
    if !cs.counters.is_empty() {
        // Deltas are added, never overwritten, so concurrent writers commute; a counter
        // back at zero is removed, as the other stores do.
        let tasks: Vec<Uuid> = cs.counters.keys().map(|t| t.as_uuid()).collect();
        let targeted: Vec<i64> = cs.counters.values().map(|d| d.targeted).collect();
        let done: Vec<i64> = cs.counters.values().map(|d| d.done).collect();
        let review: Vec<i64> = cs.counters.values().map(|d| d.awaiting_review).collect();
        exec!(tx, sqlx::query(
            "INSERT INTO counters (event_id, task_id, targeted, done, awaiting_review) \
             SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[]) \
             ON CONFLICT (event_id, task_id) DO UPDATE SET targeted = counters.targeted + EXCLUDED.targeted, \
               done = counters.done + EXCLUDED.done, awaiting_review = counters.awaiting_review + EXCLUDED.awaiting_review"
        )
        .bind(ev)
        .bind(&tasks)
        .bind(&targeted)
        .bind(&done)
        .bind(&review));
        exec!(
            tx,
            sqlx::query(
                "DELETE FROM counters WHERE event_id = $1 AND task_id IN (SELECT unnest($2::uuid[])) \
                 AND targeted = 0 AND done = 0 AND awaiting_review = 0",
            )
            .bind(ev)
            .bind(&tasks),
        );
    }
    Ok(())
}
