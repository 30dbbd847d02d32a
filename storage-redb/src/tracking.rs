//! Tracking reads: [`TrackingStore`], the per-task counters (B3), the sweeps in progress and
//! the matrix, whose index walk is in `matrix.rs`.

use std::collections::BTreeMap;
use std::ops::Bound;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::store::ParticipantState;
use punchlist::store::TrackingStore;
use punchlist::{
    Event, EventId, MatrixQuery, ParticipantId, Progress, ProgressStatus, Result, Sweep,
    TaskCounters, TaskId,
};

use crate::RedbStore;
use crate::error::{be, parse};
use crate::matrix::matrix_page;
use crate::schema::{
    COUNTERS, EVENTS, PROGRESS, PROGRESS_STATUS, REMINDERS_DUE, SWEEPS, bytes_of, get, key,
    prefix_end, scan, status_byte, time_key, uuid_at,
};

#[async_trait]
impl TrackingStore for RedbStore {
    async fn rows_due(
        &self,
        event: EventId,
        task: TaskId,
        now: DateTime<Utc>,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<Progress>> {
        self.read(move |txn| {
            let ev = bytes_of!(event);
            let index = txn.open_table(REMINDERS_DUE).map_err(be)?;
            let progress = txn.open_table(PROGRESS).map_err(be)?;
            let prefix = key(&[&ev, &bytes_of!(task)]);
            let upper = key(&[&prefix, &time_key(now), &[0xff; 16]]);
            let mut owners = Vec::new();
            for item in index
                .range::<&[u8]>(prefix.as_slice()..=upper.as_slice())
                .map_err(be)?
            {
                let (k, _) = item.map_err(be)?;
                let k = k.value();
                let pid = ParticipantId::from_uuid(uuid_at(k, k.len() - 16)?);
                if after.is_none_or(|a| pid > a) {
                    owners.push(pid);
                }
            }
            owners.sort_unstable();
            let mut rows = Vec::new();
            for pid in owners.into_iter().take(limit) {
                let rk = key(&[&ev, &bytes_of!(pid), &bytes_of!(task)]);
                if let Some(row) = get::<Progress>(&progress, &rk)? {
                    rows.push(row);
                }
            }
            Ok(rows)
        })
        .await
    }

    async fn task_rows(
        &self,
        event: EventId,
        task: TaskId,
        status: ProgressStatus,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<Progress>> {
        self.read(move |txn| {
            let ev = bytes_of!(event);
            let index = txn.open_table(PROGRESS_STATUS).map_err(be)?;
            let progress = txn.open_table(PROGRESS).map_err(be)?;
            let prefix = key(&[&ev, &bytes_of!(task), &[status_byte(status)]]);
            let upper = prefix_end(&prefix);
            let lower = after.map(|a| key(&[&prefix, &bytes_of!(a)]));
            let range = index
                .range::<&[u8]>((
                    lower
                        .as_deref()
                        .map_or(Bound::Included(prefix.as_slice()), Bound::Excluded),
                    upper.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
                ))
                .map_err(be)?;
            let mut rows = Vec::new();
            for item in range.take(limit) {
                let (k, _) = item.map_err(be)?;
                let k = k.value();
                let pid = &k[k.len() - 16..];
                if let Some(row) = get::<Progress>(&progress, &key(&[&ev, pid, &bytes_of!(task)]))?
                {
                    rows.push(row);
                }
            }
            Ok(rows)
        })
        .await
    }

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
