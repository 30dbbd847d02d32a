//! The participants' reads: [`ParticipantStore`] and the loading of a participant's state
//! (record, facts and progress rows) that the matrix and the dump share.

use std::sync::Arc;

use std::collections::BTreeMap;
use std::ops::Bound;

use async_trait::async_trait;
use punchlist::store::ParticipantState;
use punchlist::store::ParticipantStore;
use punchlist::{
    EventId, ExternalId, HostEventId, Participant, ParticipantId, Progress, Result, TaskId,
};
use redb::{ReadTransaction, ReadableTable};

use crate::RedbStore;
use crate::error::be;
use crate::schema::{
    ASSIGNED, COLLABORATORS, EXTERNAL_IDS, HOST_EVENTS, PARTICIPANTS, PROGRESS, StoredParticipant,
    bytes_of, get, key, prefix_end, scan, scan_from, scan_keys, uuid_at,
};

#[async_trait]
impl ParticipantStore for RedbStore {
    async fn participants_by_id(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<ParticipantState>> {
        let ids = ids.to_vec();
        self.read(move |txn| {
            let participants = txn.open_table(PARTICIPANTS).map_err(be)?;
            let progress = txn.open_table(PROGRESS).map_err(be)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(s) = load_participant(&participants, &progress, event, id)? {
                    out.push(s);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn participant_slices(
        &self,
        event: EventId,
        ids: &[ParticipantId],
        tasks: &[TaskId],
    ) -> Result<Vec<ParticipantState>> {
        let ids = ids.to_vec();
        let tasks = tasks.to_vec();
        self.read(move |txn| {
            let participants = txn.open_table(PARTICIPANTS).map_err(be)?;
            let progress = txn.open_table(PROGRESS).map_err(be)?;
            let ev = bytes_of!(event);
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let pid = bytes_of!(id);
                let Some(stored) = get::<StoredParticipant>(&participants, &key(&[&ev, &pid]))?
                else {
                    continue;
                };
                let mut rows = BTreeMap::new();
                for task in &tasks {
                    if let Some(row) =
                        get::<Progress>(&progress, &key(&[&ev, &pid, &bytes_of!(*task)]))?
                    {
                        rows.insert(*task, row);
                    }
                }
                out.push(ParticipantState {
                    participant: Arc::new(stored.participant),
                    facts: Arc::new(stored.facts),
                    progress: rows,
                    version: stored.version,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn participant_records(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>> {
        let ev = bytes_of!(event);
        let ids = ids.to_vec();
        self.read(move |txn| {
            let participants = txn.open_table(PARTICIPANTS).map_err(be)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(s) =
                    get::<StoredParticipant>(&participants, &key(&[&ev, &bytes_of!(id)]))?
                {
                    out.push(s.participant);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn participant_by_external_id(
        &self,
        event: EventId,
        external_id: &ExternalId,
    ) -> Result<Option<ParticipantId>> {
        let k = key(&[&bytes_of!(event), external_id.as_str().as_bytes()]);
        self.read(move |txn| {
            let t = txn.open_table(EXTERNAL_IDS).map_err(be)?;
            let found = t.get(k.as_slice()).map_err(be)?;
            found
                .map(|v| uuid_at(v.value(), 0).map(ParticipantId::from_uuid))
                .transpose()
        })
        .await
    }

    async fn participants_by_external_id(
        &self,
        event: EventId,
        external_ids: &[ExternalId],
    ) -> Result<Vec<(ExternalId, ParticipantId)>> {
        let wanted = external_ids.to_vec();
        self.read(move |txn| {
            let t = txn.open_table(EXTERNAL_IDS).map_err(be)?;
            let mut found = Vec::with_capacity(wanted.len());
            for x in wanted {
                let k = key(&[&bytes_of!(event), x.as_str().as_bytes()]);
                if let Some(v) = t.get(k.as_slice()).map_err(be)? {
                    let id = ParticipantId::from_uuid(uuid_at(v.value(), 0)?);
                    found.push((x, id));
                }
            }
            Ok(found)
        })
        .await
    }

    async fn participant_ids(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantId>> {
        self.read(move |txn| {
            let participants = txn.open_table(PARTICIPANTS).map_err(be)?;
            let prefix = bytes_of!(event);
            let start_key = after.map(|a| key(&[&prefix, &bytes_of!(a)]));
            let start = start_key
                .as_deref()
                .map_or(Bound::Included(&prefix[..]), Bound::Excluded);
            let end = prefix_end(&prefix);
            let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
            let mut ids = Vec::with_capacity(limit.min(4096));
            for item in participants
                .range::<&[u8]>((start, upper))
                .map_err(be)?
                .take(limit)
            {
                let (k, _) = item.map_err(be)?;
                ids.push(ParticipantId::from_uuid(uuid_at(k.value(), 16)?));
            }
            Ok(ids)
        })
        .await
    }

    async fn participants(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantState>> {
        self.read(move |txn| load_participants(txn, event, after, limit))
            .await
    }

    async fn collaborators(
        &self,
        event: EventId,
        owner: ParticipantId,
    ) -> Result<Vec<ParticipantId>> {
        let prefix = key(&[&bytes_of!(event), &bytes_of!(owner)]);
        self.read(move |txn| {
            let t = txn.open_table(COLLABORATORS).map_err(be)?;
            scan_keys(&t, &prefix)?
                .iter()
                .map(|k| uuid_at(k, 0).map(ParticipantId::from_uuid))
                .collect()
        })
        .await
    }

    async fn assigned_to(&self, event: EventId, assignee: ParticipantId) -> Result<Vec<Progress>> {
        let ev = bytes_of!(event);
        let prefix = key(&[&ev, &bytes_of!(assignee)]);
        self.read(move |txn| {
            let assigned = txn.open_table(ASSIGNED).map_err(be)?;
            let progress = txn.open_table(PROGRESS).map_err(be)?;
            let mut out = Vec::new();
            for k in scan_keys(&assigned, &prefix)? {
                let row_key = key(&[&ev, &k]);
                if let Some(row) = get(&progress, &row_key)? {
                    out.push(row);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn ingested(&self, event: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>> {
        let ids = ids.to_vec();
        self.read(move |txn| {
            let t = txn.open_table(HOST_EVENTS).map_err(be)?;
            let ev = bytes_of!(event);
            let mut out = Vec::new();
            for id in ids {
                if t.get(key(&[&ev, id.as_str().as_bytes()]).as_slice())
                    .map_err(be)?
                    .is_some()
                {
                    out.push(id);
                }
            }
            Ok(out)
        })
        .await
    }
}

/// Reads one participant's state in a transaction.
pub(crate) fn load_participant(
    participants: &impl ReadableTable<&'static [u8], &'static [u8]>,
    progress: &impl ReadableTable<&'static [u8], &'static [u8]>,
    event: EventId,
    id: ParticipantId,
) -> Result<Option<ParticipantState>> {
    let k = key(&[&bytes_of!(event), &bytes_of!(id)]);
    let Some(stored) = get::<StoredParticipant>(participants, &k)? else {
        return Ok(None);
    };
    let rows: Vec<Progress> = scan(progress, &k)?;
    Ok(Some(ParticipantState {
        participant: Arc::new(stored.participant),
        facts: Arc::new(stored.facts),
        progress: rows.into_iter().map(|r| (r.task, r)).collect(),
        version: stored.version,
    }))
}

/// Every participant's state of an event, in id order, after `after`, at most `limit`.
pub(crate) fn load_participants(
    txn: &ReadTransaction,
    event: EventId,
    after: Option<ParticipantId>,
    limit: usize,
) -> Result<Vec<ParticipantState>> {
    let participants = txn.open_table(PARTICIPANTS).map_err(be)?;
    let progress = txn.open_table(PROGRESS).map_err(be)?;
    let prefix = bytes_of!(event);
    let start_key = after.map(|a| key(&[&prefix, &bytes_of!(a)]));
    let start = start_key
        .as_deref()
        .map_or(Bound::Included(&prefix[..]), Bound::Excluded);
    let stored: Vec<StoredParticipant> = scan_from(&participants, &prefix, start, limit, false)?;
    stored
        .into_iter()
        .map(|s| {
            let k = key(&[&prefix, &bytes_of!(s.participant.id)]);
            let rows: Vec<Progress> = scan(&progress, &k)?;
            Ok(ParticipantState {
                participant: Arc::new(s.participant),
                facts: Arc::new(s.facts),
                progress: rows.into_iter().map(|r| (r.task, r)).collect(),
                version: s.version,
            })
        })
        .collect()
}
