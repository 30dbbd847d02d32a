//! What the shared change-set check reads ([`StoredState`]): the versions and unique values
//! a change set touches, looked up in the write transaction that then writes it, before
//! [`check`](punchlist::store::check) runs over them (one writer at a time, so what it
//! reads cannot change before the commit).

use punchlist::store::StoredState;
use punchlist::{EventId, ExternalId, HostEventId, ParticipantId, Result, SegmentId, TaskId};
use redb::ReadableTable;
use serde::Deserialize;

use crate::error::be;
use crate::schema::{
    Bytes, EVENTS, EXTERNAL_IDS, HOST_EVENTS, OUTBOX_KEYS, PARTICIPANTS, SEGMENTS, TASKS, bytes_of,
    get, key, uuid_at,
};

/// The stored state the shared change-set check reads, over a write transaction.
pub(crate) struct Lookup<'a> {
    pub(crate) event: EventId,
    pub(crate) txn: &'a redb::WriteTransaction,
}

impl Lookup<'_> {
    fn version(&self, table: Bytes, k: &[u8]) -> Result<Option<u64>> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u64,
        }
        let t = self.txn.open_table(table).map_err(be)?;
        Ok(get::<Versioned>(&t, k)?.map(|v| v.version))
    }

    fn exists(&self, table: Bytes, k: &[u8]) -> Result<bool> {
        let t = self.txn.open_table(table).map_err(be)?;
        Ok(t.get(k).map_err(be)?.is_some())
    }

    fn ev(&self) -> [u8; 16] {
        bytes_of!(self.event)
    }
}

impl StoredState for Lookup<'_> {
    fn event_version(&mut self) -> Result<Option<u64>> {
        self.version(EVENTS, &self.ev())
    }
    fn segment_version(&mut self, id: SegmentId) -> Result<Option<u64>> {
        self.version(SEGMENTS, &key(&[&self.ev(), &bytes_of!(id)]))
    }
    fn task_version(&mut self, id: TaskId) -> Result<Option<u64>> {
        self.version(TASKS, &key(&[&self.ev(), &bytes_of!(id)]))
    }
    fn participant_version(&mut self, id: ParticipantId) -> Result<Option<u64>> {
        self.version(PARTICIPANTS, &key(&[&self.ev(), &bytes_of!(id)]))
    }
    fn external_id_owner(&mut self, id: &ExternalId) -> Result<Option<ParticipantId>> {
        let t = self.txn.open_table(EXTERNAL_IDS).map_err(be)?;
        let k = key(&[&self.ev(), id.as_str().as_bytes()]);
        let found = t.get(k.as_slice()).map_err(be)?;
        found
            .map(|v| uuid_at(v.value(), 0).map(ParticipantId::from_uuid))
            .transpose()
    }
    fn host_event_seen(&mut self, id: &HostEventId) -> Result<bool> {
        self.exists(HOST_EVENTS, &key(&[&self.ev(), id.as_str().as_bytes()]))
    }
    fn outbox_key_taken(&mut self, k: &str) -> Result<bool> {
        self.exists(OUTBOX_KEYS, &key(&[&self.ev(), k.as_bytes()]))
    }
}
