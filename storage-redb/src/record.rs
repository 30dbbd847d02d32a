//! The participants' records: [`RecordStore`], the timeline, the history of a subject and
//! the messages, each read newest first from the end of its key range.

use std::ops::Bound;

use async_trait::async_trait;
use punchlist::store::RecordStore;
use punchlist::{
    EventId, HistoryEntry, HistoryId, Message, MessageId, ParticipantId, Result, Subject,
    TimelineEntry, TimelineFilter,
};
use redb::ReadableTable;
use serde::de::DeserializeOwned;

use crate::RedbStore;
use crate::error::{be, parse};
use crate::schema::{HISTORY, MESSAGES, TIMELINE, bytes_of, key, prefix_end, subject_key};

#[async_trait]
impl RecordStore for RedbStore {
    async fn timeline(
        &self,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        let prefix = key(&[&bytes_of!(event), &bytes_of!(participant)]);
        let (lower, upper) = filter.id_range();
        if lower >= upper {
            return Ok(Vec::new());
        }
        let filter = filter.clone();
        self.read(move |txn| {
            let t = txn.open_table(TIMELINE).map_err(be)?;
            let from = key(&[&prefix, &bytes_of!(lower)]);
            let to = key(&[&prefix, &bytes_of!(upper)]);
            let range = t
                .range::<&[u8]>((
                    Bound::Included(from.as_slice()),
                    Bound::Excluded(to.as_slice()),
                ))
                .map_err(be)?;
            let mut out = Vec::new();
            for item in range.rev() {
                if out.len() == limit {
                    break;
                }
                let (_, v) = item.map_err(be)?;
                let entry: TimelineEntry = parse(v.value())?;
                if filter.wants(&entry) {
                    out.push(entry);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn history(
        &self,
        event: EventId,
        subject: Subject,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let prefix = key(&[&bytes_of!(event), &subject_key(subject)]);
        self.read(move |txn| {
            let t = txn.open_table(HISTORY).map_err(be)?;
            newest_first(&t, &prefix, before.map(|b| bytes_of!(b)), limit)
        })
        .await
    }

    async fn messages(
        &self,
        event: EventId,
        participant: ParticipantId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let prefix = key(&[&bytes_of!(event), &bytes_of!(participant)]);
        self.read(move |txn| {
            let t = txn.open_table(MESSAGES).map_err(be)?;
            newest_first(&t, &prefix, before.map(|b| bytes_of!(b)), limit)
        })
        .await
    }
}

/// Up to `limit` values of the prefix, newest (highest key) first, strictly before the
/// key `prefix · before` when given.
fn newest_first<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
    before: Option<[u8; 16]>,
    limit: usize,
) -> Result<Vec<T>> {
    let upper_key = before.map(|b| key(&[prefix, &b]));
    let end = prefix_end(prefix);
    let upper = match (&upper_key, &end) {
        (Some(k), _) => Bound::Excluded(k.as_slice()),
        (None, Some(e)) => Bound::Excluded(e.as_slice()),
        (None, None) => Bound::Unbounded,
    };
    let range = table
        .range::<&[u8]>((Bound::Included(prefix), upper))
        .map_err(be)?;
    let mut out = Vec::new();
    for item in range.rev().take(limit) {
        let (_, v) = item.map_err(be)?;
        out.push(parse(v.value())?);
    }
    Ok(out)
}
