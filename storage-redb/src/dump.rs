//! The canonical dump of one event that the conformance suite compares across stores
//! ([`DumpStore`](punchlist::store::DumpStore)); built with the `testkit` feature only.

use std::collections::BTreeMap;

use async_trait::async_trait;
use punchlist::{Error, EventId, HostEventId, Result, TaskId};

use crate::RedbStore;
use crate::error::be;
use crate::participants::load_participants;
use crate::schema::{
    Bytes, COUNTERS, EVENTS, HISTORY, HOST_EVENTS, MESSAGES, OUTBOX, SEGMENTS, SWEEPS, TASKS,
    TIMELINE, bytes_of, get, key, scan, scan_keys, uuid_at,
};

#[async_trait]
impl punchlist::store::DumpStore for RedbStore {
    async fn dump(&self, event: EventId) -> Result<punchlist::store::EventDump> {
        self.read(move |txn| {
            let ev = bytes_of!(event);
            let table = |t: Bytes| txn.open_table(t).map_err(be);
            let host_events = scan_keys(&table(HOST_EVENTS)?, &ev)?
                .into_iter()
                .map(|k| {
                    String::from_utf8(k)
                        .map_err(Error::backend)
                        .and_then(HostEventId::new)
                })
                .collect::<Result<Vec<_>>>()?;
            let counters = {
                let t = table(COUNTERS)?;
                let mut out = BTreeMap::new();
                for k in scan_keys(&t, &ev)? {
                    let task = TaskId::from_uuid(uuid_at(&k, 0)?);
                    if let Some(c) = get(&t, &key(&[&ev, &k]))? {
                        out.insert(task, c);
                    }
                }
                out
            };
            Ok(punchlist::store::EventDump {
                event: get(&table(EVENTS)?, &ev)?,
                segments: scan(&table(SEGMENTS)?, &ev)?,
                tasks: scan(&table(TASKS)?, &ev)?,
                participants: load_participants(txn, event, None, usize::MAX)?,
                host_events,
                timeline: scan(&table(TIMELINE)?, &ev)?,
                messages: scan(&table(MESSAGES)?, &ev)?,
                history: scan(&table(HISTORY)?, &ev)?,
                outbox: scan(&table(OUTBOX)?, &ev)?,
                sweeps: scan(&table(SWEEPS)?, &ev)?,
                counters,
            }
            .canonical())
        })
        .await
    }
}
