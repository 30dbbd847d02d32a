//! The outbox: [`OutboxStore`] (the filtered read, claims and releases under a lease, dead
//! letters queued again) and [`OutboxTables`], which keeps the outbox's indexes in step.

use std::ops::Bound;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::store::OutboxStore;
use punchlist::{EventId, OutboxEntry, OutboxFilter, OutboxId, OutboxState, Result};
use redb::ReadableTable;

use crate::RedbStore;
use crate::error::{be, json, parse};
use crate::schema::{
    LIMITERS, OUTBOX, OUTBOX_DEAD, OUTBOX_DUE, OUTBOX_WAITING, bytes_of, due_key, get, key,
    prefix_end, scan_from, time_key, uuid_at, waiting_key,
};

#[async_trait]
impl OutboxStore for RedbStore {
    async fn outbox(
        &self,
        event: EventId,
        filter: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        let prefix = bytes_of!(event);
        let filter = filter.clone();
        self.read(move |txn| {
            let outbox = txn.open_table(OUTBOX).map_err(be)?;
            let start_key = after.map(|a| key(&[&prefix, &bytes_of!(a)]));
            let start = start_key
                .as_deref()
                .map_or(Bound::Included(&prefix[..]), Bound::Excluded);
            if filter.is_empty() {
                return scan_from(&outbox, &prefix, start, limit, false);
            }
            let end = prefix_end(&prefix);
            let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
            let mut out = Vec::new();
            if filter.state == Some(OutboxState::Dead) {
                // The dead letters have an index of their own.
                let dead = txn.open_table(OUTBOX_DEAD).map_err(be)?;
                for item in dead.range::<&[u8]>((start, end)).map_err(be)? {
                    let (k, _) = item.map_err(be)?;
                    if let Some(e) = get::<OutboxEntry>(&outbox, k.value())?
                        && filter.matches(&e)
                    {
                        out.push(e);
                        if out.len() == limit {
                            break;
                        }
                    }
                }
            } else {
                for item in outbox.range::<&[u8]>((start, end)).map_err(be)? {
                    let (_, v) = item.map_err(be)?;
                    let e: OutboxEntry = parse(v.value())?;
                    if filter.matches(&e) {
                        out.push(e);
                        if out.len() == limit {
                            break;
                        }
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        let owner = owner.to_owned();
        self.write_with(move |txn| {
            let mut tables = OutboxTables::open(txn)?;
            // Lane by lane (N11); within one, every key due at `now` sorts before the first
            // key of the next nanosecond.
            let mut due = Vec::new();
            for lane in 0..punchlist::MessageKind::LANES {
                let start = [lane];
                let end = key(&[&[lane], &time_key(now + chrono::Duration::nanoseconds(1))]);
                for item in tables
                    .due
                    .range(&start[..]..&end[..])
                    .map_err(be)?
                    .take(limit - due.len())
                {
                    let (k, _) = item.map_err(be)?;
                    let k = k.value();
                    due.push((
                        EventId::from_uuid(uuid_at(k, 13)?),
                        OutboxId::from_uuid(uuid_at(k, 29)?),
                    ));
                }
                if due.len() == limit {
                    break;
                }
            }
            let mut claimed = Vec::with_capacity(due.len());
            for (event, id) in due {
                let Some(old) = tables.get(event, id)? else {
                    continue;
                };
                // A companion claimed with an earlier entry is leased already.
                if old.due_at().is_none_or(|at| at > now) {
                    continue;
                }
                let mut entry = old.clone();
                entry.lease_to(&owner, lease_until);
                tables.put(Some(&old), &entry)?;
                let waiting = entry.is_waiting().then_some(entry.recipient);
                claimed.push(entry);
                // What waited for one recipient comes together (N9).
                if let Some(recipient) = waiting {
                    let more = tables.claim_waiting(
                        &owner,
                        event,
                        recipient,
                        now,
                        lease_until,
                        punchlist::store::WAITING_TOGETHER,
                    )?;
                    claimed.extend(more);
                }
            }
            Ok(claimed)
        })
        .await
    }

    async fn update_limiter(
        &self,
        name: &str,
        step: punchlist::LimiterStep,
    ) -> Result<Option<DateTime<Utc>>> {
        let name = name.to_owned();
        // One write transaction: redb runs them one at a time.
        self.write_with(move |txn| {
            let mut limiters = txn.open_table(LIMITERS).map_err(be)?;
            let before: Option<DateTime<Utc>> = get(&limiters, name.as_bytes())?;
            let after = step.apply(before);
            limiters
                .insert(name.as_bytes(), json(&after)?.as_slice())
                .map_err(be)?;
            Ok(before)
        })
        .await
    }

    async fn release_outbox(
        &self,
        owner: &str,
        entries: Vec<OutboxEntry>,
    ) -> Result<Vec<OutboxId>> {
        let owner = owner.to_owned();
        self.write_with(move |txn| {
            let mut tables = OutboxTables::open(txn)?;
            let mut written = Vec::new();
            for entry in entries {
                let Some(old) = tables.get(entry.event, entry.id)? else {
                    continue;
                };
                if old.is_held_by(&owner) {
                    tables.put(Some(&old), &entry)?;
                    written.push(entry.id);
                }
            }
            Ok(written)
        })
        .await
    }

    async fn requeue_dead(
        &self,
        event: EventId,
        ids: &[OutboxId],
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxId>> {
        let ids = ids.to_vec();
        self.write_with(move |txn| {
            let mut tables = OutboxTables::open(txn)?;
            let mut done = Vec::new();
            for id in ids {
                let Some(old) = tables.get(event, id)? else {
                    continue;
                };
                if old.state != OutboxState::Dead {
                    continue;
                }
                let mut entry = old.clone();
                entry.requeue(now);
                tables.put(Some(&old), &entry)?;
                done.push(id);
            }
            Ok(done)
        })
        .await
    }
}

/// The outbox and its indexes, open in a write transaction.
pub(crate) struct OutboxTables<'t> {
    outbox: redb::Table<'t, &'static [u8], &'static [u8]>,
    due: redb::Table<'t, &'static [u8], &'static [u8]>,
    dead: redb::Table<'t, &'static [u8], &'static [u8]>,
    waiting: redb::Table<'t, &'static [u8], &'static [u8]>,
}

impl<'t> OutboxTables<'t> {
    pub(crate) fn open(txn: &'t redb::WriteTransaction) -> Result<Self> {
        Ok(Self {
            outbox: txn.open_table(OUTBOX).map_err(be)?,
            due: txn.open_table(OUTBOX_DUE).map_err(be)?,
            dead: txn.open_table(OUTBOX_DEAD).map_err(be)?,
            waiting: txn.open_table(OUTBOX_WAITING).map_err(be)?,
        })
    }

    /// Leases to `owner` up to `limit` of `recipient`'s entries in `event` that waited for
    /// their send window and are due at `now`, earliest due first.
    pub(crate) fn claim_waiting(
        &mut self,
        owner: &str,
        event: EventId,
        recipient: punchlist::ParticipantId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        let prefix = key(&[&bytes_of!(event), &bytes_of!(recipient)]);
        let mut ids = Vec::new();
        for item in self.waiting.range(&prefix[..]..).map_err(be)? {
            let (k, _) = item.map_err(be)?;
            let k = k.value();
            if !k.starts_with(&prefix) {
                break;
            }
            ids.push(OutboxId::from_uuid(uuid_at(k, prefix.len())?));
        }
        let mut due = Vec::new();
        for id in ids {
            if let Some(entry) = self.get(event, id)?
                && let Some(at) = entry.due_at()
                && at <= now
            {
                due.push((at, entry));
            }
        }
        due.sort_by_key(|(at, e)| (*at, e.id));
        due.truncate(limit);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, old) in due {
            let mut entry = old.clone();
            entry.lease_to(owner, lease_until);
            self.put(Some(&old), &entry)?;
            claimed.push(entry);
        }
        Ok(claimed)
    }

    pub(crate) fn get(&self, event: EventId, id: OutboxId) -> Result<Option<OutboxEntry>> {
        get(&self.outbox, &key(&[&bytes_of!(event), &bytes_of!(id)]))
    }

    /// Drops an entry and its index keys; returns its idempotency key, if it existed.
    pub(crate) fn remove(&mut self, event: EventId, id: OutboxId) -> Result<Option<String>> {
        let Some(old) = self.get(event, id)? else {
            return Ok(None);
        };
        let k = key(&[&bytes_of!(event), &bytes_of!(id)]);
        if let Some(d) = due_key(&old) {
            self.due.remove(d.as_slice()).map_err(be)?;
        }
        if let Some(w) = waiting_key(&old) {
            self.waiting.remove(w.as_slice()).map_err(be)?;
        }
        self.dead.remove(k.as_slice()).map_err(be)?;
        self.outbox.remove(k.as_slice()).map_err(be)?;
        Ok(Some(old.idempotency_key))
    }

    /// Stores `entry` over `old` (the stored one, if any) and moves it in the indexes.
    pub(crate) fn put(&mut self, old: Option<&OutboxEntry>, entry: &OutboxEntry) -> Result<()> {
        let k = key(&[&bytes_of!(entry.event), &bytes_of!(entry.id)]);
        if let Some(old) = old {
            if let Some(d) = due_key(old) {
                self.due.remove(d.as_slice()).map_err(be)?;
            }
            self.dead.remove(k.as_slice()).map_err(be)?;
            if let Some(w) = waiting_key(old) {
                self.waiting.remove(w.as_slice()).map_err(be)?;
            }
        }
        if let Some(d) = due_key(entry) {
            self.due.insert(d.as_slice(), &[][..]).map_err(be)?;
        }
        if let Some(w) = waiting_key(entry) {
            self.waiting.insert(w.as_slice(), &[][..]).map_err(be)?;
        }
        if entry.state == OutboxState::Dead {
            self.dead.insert(k.as_slice(), &[][..]).map_err(be)?;
        }
        self.outbox
            .insert(k.as_slice(), json(entry)?.as_slice())
            .map_err(be)?;
        Ok(())
    }
}
