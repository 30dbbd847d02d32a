//! The write path: [`EventStore`]. `apply` runs the shared change-set check over the write
//! transaction (`check.rs`), then writes the change set table group by table group and
//! commits it as one; the event's configuration is read here too, in one read transaction.

use std::sync::Arc;

use async_trait::async_trait;
use punchlist::store::{
    ChangeSet, EventConfig, EventStore, ParticipantWrite, check, event_config_from,
};
use punchlist::{Error, EventId, ParticipantId, Progress, ProgressFeed, Result, TaskCounters};
use redb::ReadableTable;

use crate::check::Lookup;
use crate::error::{be, json};
use crate::outbox::OutboxTables;
use crate::schema::{
    ASSIGNED, Bytes, COLLABORATORS, COUNTERS, EVENTS, EXTERNAL_IDS, HISTORY, HOST_EVENTS, MESSAGES,
    OUTBOX_KEYS, PARTICIPANTS, PROGRESS, PROGRESS_STATUS, REMINDERS_DUE, SEGMENTS, SORT_KEYS,
    SORTS, SWEEPS, StoredParticipant, TASKS, TIMELINE, bytes_of, get, key, reminder_key, scan,
    sort_key, status_byte, subject_key,
};
use crate::{RedbStore, feed};

#[async_trait]
impl EventStore for RedbStore {
    async fn event_config(&self, event: EventId) -> Result<Option<Arc<EventConfig>>> {
        // One read transaction: the three reads see the same commit.
        self.read(move |txn| {
            let ev = bytes_of!(event);
            let record = get(&txn.open_table(EVENTS).map_err(be)?, &ev)?;
            let tasks = scan(&txn.open_table(TASKS).map_err(be)?, &ev)?;
            let segments = scan(&txn.open_table(SEGMENTS).map_err(be)?, &ev)?;
            Ok(event_config_from(record, tasks, segments))
        })
        .await
    }

    async fn apply(&self, changes: ChangeSet) -> Result<()> {
        let inner = self.inner.clone();
        let sender = self.sender(changes.event);
        tokio::task::spawn_blocking(move || {
            let _writer = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let txn = inner.db.begin_write().map_err(be)?;
            check(
                &changes,
                &mut Lookup {
                    event: changes.event,
                    txn: &txn,
                },
            )?;
            let published = changes.progress_changes.clone();
            write(&txn, changes)?;
            txn.commit().map_err(be)?;
            feed::publish(&sender, published);
            Ok(())
        })
        .await
        .map_err(Error::backend)?
    }

    async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed> {
        Ok(feed::progress_feed(self, event))
    }
}

/// Writes a checked change set in a write transaction, one table group after the other.
fn write(txn: &redb::WriteTransaction, mut cs: ChangeSet) -> Result<()> {
    let ev = bytes_of!(cs.event);
    write_configuration(txn, ev, &cs)?;
    write_participants(txn, ev, std::mem::take(&mut cs.participants))?;
    write_host_events(txn, ev, &cs)?;
    write_records(txn, ev, &cs)?;
    write_outbox(txn, ev, &cs)?;
    write_sweeps(txn, ev, &cs)?;
    write_counters(txn, ev, &cs)
}

/// Opens a byte-keyed table of the write transaction.
fn open(txn: &redb::WriteTransaction, table: Bytes) -> Result<Table<'_>> {
    txn.open_table(table).map_err(be)
}

/// A byte-keyed table open in a write transaction.
type Table<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

/// The event's configuration: its record, segments and tasks.
fn write_configuration(txn: &redb::WriteTransaction, ev: [u8; 16], cs: &ChangeSet) -> Result<()> {
    if let Some(e) = &cs.event_record {
        open(txn, EVENTS)?
            .insert(&ev[..], json(e)?.as_slice())
            .map_err(be)?;
    }
    {
        let mut segments = open(txn, SEGMENTS)?;
        for s in &cs.segments {
            segments
                .insert(
                    key(&[&ev, &bytes_of!(s.id)]).as_slice(),
                    json(s)?.as_slice(),
                )
                .map_err(be)?;
        }
        for (id, _) in &cs.deleted_segments {
            segments
                .remove(key(&[&ev, &bytes_of!(*id)]).as_slice())
                .map_err(be)?;
        }
    }
    let mut tasks = open(txn, TASKS)?;
    for t in &cs.tasks {
        tasks
            .insert(
                key(&[&ev, &bytes_of!(t.id)]).as_slice(),
                json(t)?.as_slice(),
            )
            .map_err(be)?;
    }
    for (id, _) in &cs.deleted_tasks {
        tasks
            .remove(key(&[&ev, &bytes_of!(*id)]).as_slice())
            .map_err(be)?;
    }
    Ok(())
}

/// The participants' records, facts and progress rows, and every index over them: external
/// ids, collaborators, assignees, the matrix's sort keys and progress statuses.
fn write_participants(
    txn: &redb::WriteTransaction,
    ev: [u8; 16],
    writes: Vec<ParticipantWrite>,
) -> Result<()> {
    let mut participants = open(txn, PARTICIPANTS)?;
    let mut progress = open(txn, PROGRESS)?;
    let mut external = open(txn, EXTERNAL_IDS)?;
    let mut collaborators = open(txn, COLLABORATORS)?;
    let mut assigned = open(txn, ASSIGNED)?;
    let mut sort_keys = open(txn, SORT_KEYS)?;
    let mut by_status = open(txn, PROGRESS_STATUS)?;
    let mut reminders_due = open(txn, REMINDERS_DUE)?;
    for w in writes {
        let pid = bytes_of!(w.id);
        let pk = key(&[&ev, &pid]);
        let old: Option<StoredParticipant> = get(&participants, &pk)?;
        let record = match (w.record, &old) {
            (Some(r), _) => r,
            (None, Some(o)) => o.participant.clone(),
            (None, None) => return Err(Error::not_found(ParticipantId::ENTITY, w.id)),
        };
        let facts = w
            .facts
            .or_else(|| old.as_ref().map(|o| o.facts.clone()))
            .unwrap_or_default();
        let old_record = old.as_ref().map(|o| &o.participant);
        if old_record.map(|o| &o.external_id) != Some(&record.external_id) {
            if let Some(o) = old_record {
                external
                    .remove(key(&[&ev, o.external_id.as_str().as_bytes()]).as_slice())
                    .map_err(be)?;
            }
            external
                .insert(
                    key(&[&ev, record.external_id.as_str().as_bytes()]).as_slice(),
                    &pid[..],
                )
                .map_err(be)?;
        }
        for (kind, sort) in SORTS {
            let new_key = sort_key(&ev, kind, &sort.key(&record), &pid);
            let old_key = old_record.map(|o| sort_key(&ev, kind, &sort.key(o), &pid));
            if old_key.as_ref() != Some(&new_key) {
                if let Some(k) = old_key {
                    sort_keys.remove(k.as_slice()).map_err(be)?;
                }
                sort_keys.insert(new_key.as_slice(), &[][..]).map_err(be)?;
            }
        }
        let old_owner = old_record.and_then(|o| o.owner);
        if old_owner != record.owner {
            if let Some(o) = old_owner {
                collaborators
                    .remove(key(&[&ev, &bytes_of!(o), &pid]).as_slice())
                    .map_err(be)?;
            }
            if let Some(o) = record.owner {
                collaborators
                    .insert(key(&[&ev, &bytes_of!(o), &pid]).as_slice(), &[][..])
                    .map_err(be)?;
            }
        }
        for row in &w.progress {
            let rk = key(&[&ev, &pid, &bytes_of!(row.task)]);
            let old_row: Option<Progress> = get(&progress, &rk)?;
            let status_key = |r: &Progress| {
                r.targeted
                    .then(|| key(&[&ev, &bytes_of!(r.task), &[status_byte(r.status)], &pid]))
            };
            let (old_status, new_status) = (old_row.as_ref().and_then(status_key), status_key(row));
            if old_status != new_status {
                if let Some(k) = old_status {
                    by_status.remove(k.as_slice()).map_err(be)?;
                }
                if let Some(k) = new_status {
                    by_status.insert(k.as_slice(), &[][..]).map_err(be)?;
                }
            }
            let old_due = old_row.as_ref().and_then(|r| reminder_key(&ev, &pid, r));
            let new_due = reminder_key(&ev, &pid, row);
            if old_due != new_due {
                if let Some(k) = old_due {
                    reminders_due.remove(k.as_slice()).map_err(be)?;
                }
                if let Some(k) = new_due {
                    reminders_due.insert(k.as_slice(), &[][..]).map_err(be)?;
                }
            }
            let old_assignee = old_row.and_then(|r| r.assignee);
            if old_assignee != row.assignee {
                let tk = bytes_of!(row.task);
                if let Some(a) = old_assignee {
                    assigned
                        .remove(key(&[&ev, &bytes_of!(a), &pid, &tk]).as_slice())
                        .map_err(be)?;
                }
                if let Some(a) = row.assignee {
                    assigned
                        .insert(key(&[&ev, &bytes_of!(a), &pid, &tk]).as_slice(), &[][..])
                        .map_err(be)?;
                }
            }
            progress
                .insert(rk.as_slice(), json(row)?.as_slice())
                .map_err(be)?;
        }
        let stored = StoredParticipant {
            participant: record,
            facts,
            version: w.version,
        };
        participants
            .insert(pk.as_slice(), json(&stored)?.as_slice())
            .map_err(be)?;
    }
    Ok(())
}

/// The host event ids ingested, so that a host event is applied once.
fn write_host_events(txn: &redb::WriteTransaction, ev: [u8; 16], cs: &ChangeSet) -> Result<()> {
    let mut host_events = open(txn, HOST_EVENTS)?;
    for h in &cs.host_events {
        host_events
            .insert(key(&[&ev, h.as_str().as_bytes()]).as_slice(), &[][..])
            .map_err(be)?;
    }
    Ok(())
}

/// Timeline entries, history lines and messages.
fn write_records(txn: &redb::WriteTransaction, ev: [u8; 16], cs: &ChangeSet) -> Result<()> {
    let mut timeline = open(txn, TIMELINE)?;
    for t in &cs.timeline {
        let k = key(&[&ev, &bytes_of!(t.participant), &bytes_of!(t.id)]);
        timeline
            .insert(k.as_slice(), json(t)?.as_slice())
            .map_err(be)?;
    }
    let mut history = open(txn, HISTORY)?;
    for h in &cs.history {
        let k = key(&[&ev, &subject_key(h.subject), &bytes_of!(h.id)]);
        history
            .insert(k.as_slice(), json(h)?.as_slice())
            .map_err(be)?;
    }
    let mut messages = open(txn, MESSAGES)?;
    for m in &cs.messages {
        let k = key(&[&ev, &bytes_of!(m.participant), &bytes_of!(m.id)]);
        messages
            .insert(k.as_slice(), json(m)?.as_slice())
            .map_err(be)?;
    }
    Ok(())
}

/// Outbox entries queued or dropped, with their idempotency keys and indexes.
fn write_outbox(txn: &redb::WriteTransaction, ev: [u8; 16], cs: &ChangeSet) -> Result<()> {
    let mut keys = open(txn, OUTBOX_KEYS)?;
    let mut outbox = OutboxTables::open(txn)?;
    for o in &cs.outbox {
        let id = bytes_of!(o.id);
        outbox.put(None, o)?;
        keys.insert(
            key(&[&ev, o.idempotency_key.as_bytes()]).as_slice(),
            &id[..],
        )
        .map_err(be)?;
    }
    for id in &cs.deleted_outbox {
        if let Some(key_of) = outbox.remove(cs.event, *id)? {
            keys.remove(key(&[&ev, key_of.as_bytes()]).as_slice())
                .map_err(be)?;
        }
    }
    Ok(())
}

/// Sweeps started, moved on (only while they still exist) or finished.
fn write_sweeps(txn: &redb::WriteTransaction, ev: [u8; 16], cs: &ChangeSet) -> Result<()> {
    let mut sweeps = open(txn, SWEEPS)?;
    for s in &cs.sweeps {
        let k = key(&[&ev, &bytes_of!(s.id)]);
        let exists = sweeps.get(k.as_slice()).map_err(be)?.is_some();
        if s.after.is_none() || exists {
            sweeps
                .insert(k.as_slice(), json(s)?.as_slice())
                .map_err(be)?;
        }
    }
    for id in &cs.finished_sweeps {
        sweeps
            .remove(key(&[&ev, &bytes_of!(*id)]).as_slice())
            .map_err(be)?;
    }
    Ok(())
}

/// The per-task counters, each delta added to the stored figures (a zero row is dropped).
fn write_counters(txn: &redb::WriteTransaction, ev: [u8; 16], cs: &ChangeSet) -> Result<()> {
    let mut counters = open(txn, COUNTERS)?;
    for (task, delta) in &cs.counters {
        let k = key(&[&ev, &bytes_of!(*task)]);
        let mut c: TaskCounters = get(&counters, &k)?.unwrap_or_default();
        c.add(*delta);
        if c.is_zero() {
            counters.remove(k.as_slice()).map_err(be)?;
        } else {
            counters
                .insert(k.as_slice(), json(&c)?.as_slice())
                .map_err(be)?;
        }
    }
    Ok(())
}
