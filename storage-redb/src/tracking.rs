//! Tracking reads: [`TrackingStore`], the per-task counters (B3), the sweeps in progress and
//! the matrix, whose index walk is in `matrix.rs`.

use std::collections::BTreeMap;
use std::ops::Bound;

use async_trait::async_trait;
use punchlist::store::ParticipantState;
use punchlist::store::TrackingStore;
use punchlist::{Event, EventId, MatrixQuery, Result, Sweep, TaskCounters, TaskId};

use crate::RedbStore;
use crate::error::{be, parse};
use crate::matrix::matrix_page;
use crate::schema::{COUNTERS, EVENTS, SWEEPS, bytes_of, get, prefix_end, scan, uuid_at};

#[async_trait]
impl TrackingStore for RedbStore {
    async fn matrix(&self, event: EventId, query: &MatrixQuery) -> Result<Vec<ParticipantState>> {
        let query = query.clone();
        self.read(move |txn| {
            let Some(e) = get::<Event>(&txn.open_table(EVENTS).map_err(be)?, &bytes_of!(event))?
            else {
                return Ok(Vec::new());
            };
            matrix_page(txn, event, &query, &e.settings)
        })
        .await
    }

    async fn task_counters(&self, event: EventId) -> Result<BTreeMap<TaskId, TaskCounters>> {
        let prefix = bytes_of!(event);
        self.read(move |txn| {
            let t = txn.open_table(COUNTERS).map_err(be)?;
            let end = prefix_end(&prefix);
            let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
            let mut out = BTreeMap::new();
            for item in t
                .range::<&[u8]>((Bound::Included(&prefix[..]), upper))
                .map_err(be)?
            {
                let (k, v) = item.map_err(be)?;
                let task = TaskId::from_uuid(uuid_at(k.value(), 16)?);
                out.insert(task, parse(v.value())?);
            }
            Ok(out)
        })
        .await
    }

    async fn sweeps(&self, event: EventId) -> Result<Vec<Sweep>> {
        self.read(move |txn| scan(&txn.open_table(SWEEPS).map_err(be)?, &bytes_of!(event)))
            .await
    }
}
