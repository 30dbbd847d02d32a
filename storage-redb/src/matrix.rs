//! The matrix query (B2): one page of participants, walked from the cursor in the query's
//! order over the `sort_keys` index (or the participants table), stopping at the page's size.

use std::collections::HashSet;
use std::ops::Bound;

use punchlist::store::ParticipantState;
use punchlist::{EventId, MatrixCursor, MatrixQuery, ParticipantId, Progress, Result};
use redb::{ReadTransaction, ReadableTable};

use crate::error::be;
use crate::participants::load_participant;
use crate::schema::{
    PARTICIPANTS, PROGRESS, PROGRESS_STATUS, SORT_KEYS, SORTS, StoredParticipant, bytes_of, get,
    key, prefix_end, range_of, sort_key, status_byte, uuid_at,
};

/// A matrix page: walks the participants in the query's order (the `sort_keys` index, or
/// the participants table for registration order) from the cursor, checks the chosen
/// task's row with a point read, loads only the candidates, and stops at the page's size.
pub(crate) fn matrix_page(
    txn: &ReadTransaction,
    event: EventId,
    query: &MatrixQuery,
    settings: &punchlist::EventSettings,
) -> Result<Vec<ParticipantState>> {
    let ev = bytes_of!(event);
    let participants = txn.open_table(PARTICIPANTS).map_err(be)?;
    let progress = txn.open_table(PROGRESS).map_err(be)?;
    let (table, prefix, start) = match SORTS.iter().find(|(_, s)| *s == query.sort) {
        Some((kind, _)) => {
            let prefix = key(&[&ev, &[*kind]]);
            let start = query
                .after
                .as_ref()
                .map(|a| sort_key(&ev, *kind, &a.key, &bytes_of!(a.id)));
            (txn.open_table(SORT_KEYS).map_err(be)?, prefix, start)
        }
        None => {
            let start = query.after.as_ref().map(|a| key(&[&ev, &bytes_of!(a.id)]));
            (
                txn.open_table(PARTICIPANTS).map_err(be)?,
                ev.to_vec(),
                start,
            )
        }
    };
    let end = prefix_end(&prefix);
    let (lower, upper) = match (&start, query.descending) {
        (Some(s), false) => (
            Bound::Excluded(s.as_slice()),
            end.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
        ),
        (Some(s), true) => (
            Bound::Included(prefix.as_slice()),
            Bound::Excluded(s.as_slice()),
        ),
        (None, _) => (
            Bound::Included(prefix.as_slice()),
            end.as_deref().map_or(Bound::Unbounded, Bound::Excluded),
        ),
    };
    // With a status filter, the status index says who can match. Few: sort just them.
    // Some thousands: walk the order, skipping non-members by a set. Many: walk the order,
    // checking rows; matches come often, so the walk is short.
    let mut members: Option<HashSet<[u8; 16]>> = None;
    if let Some((task, statuses)) = &query.progress {
        let index = txn.open_table(PROGRESS_STATUS).map_err(be)?;
        let mut ids = Vec::new();
        let mut many = false;
        'statuses: for s in statuses {
            let prefix = key(&[&ev, &bytes_of!(*task), &[status_byte(*s)]]);
            for item in range_of(&index, &prefix)? {
                let (k, _) = item.map_err(be)?;
                let k = k.value();
                let mut id = [0u8; 16];
                id.copy_from_slice(&k[k.len() - 16..]);
                ids.push(id);
                if ids.len() > MATRIX_SET_UP_TO {
                    many = true;
                    break 'statuses;
                }
            }
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if !many && ids.len() < MATRIX_COLLECT_BELOW {
            return matrix_few(&participants, &progress, event, query, settings, ids);
        }
        if !many {
            members = Some(ids.into_iter().collect());
        }
    }
    let range = table.range::<&[u8]>((lower, upper)).map_err(be)?;
    let keys: Box<dyn Iterator<Item = _>> = if query.descending {
        Box::new(range.rev())
    } else {
        Box::new(range)
    };
    let mut out = Vec::new();
    for item in keys {
        if out.len() >= query.limit {
            break;
        }
        let (k, _) = item.map_err(be)?;
        let k = k.value();
        let id = ParticipantId::from_uuid(uuid_at(k, k.len() - 16)?);
        if let Some(m) = &members {
            if !m.contains(id.as_uuid().as_bytes()) {
                continue;
            }
        } else if let Some((task, statuses)) = &query.progress {
            let row_key = key(&[&ev, &bytes_of!(id), &bytes_of!(*task)]);
            match get::<Progress>(&progress, &row_key)? {
                Some(r) if r.targeted && statuses.contains(&r.status) => {}
                _ => continue,
            }
        }
        if let Some(state) = load_participant(&participants, &progress, event, id)?
            && query.matches(&state.participant, &state.progress, settings)
        {
            out.push(state);
        }
    }
    Ok(out)
}

/// Below this many candidates, a filtered matrix page sorts the candidates themselves.
const MATRIX_COLLECT_BELOW: usize = 1_000;
/// Up to this many, it walks the order skipping non-candidates by a set; above, it checks
/// rows as it walks (matches are then frequent).
const MATRIX_SET_UP_TO: usize = 20_000;

/// A matrix page from few candidates: each one's sort key from their record, sorted, then
/// the page's states.
fn matrix_few(
    participants: &impl ReadableTable<&'static [u8], &'static [u8]>,
    progress: &impl ReadableTable<&'static [u8], &'static [u8]>,
    event: EventId,
    query: &MatrixQuery,
    settings: &punchlist::EventSettings,
    ids: Vec<[u8; 16]>,
) -> Result<Vec<ParticipantState>> {
    let ev = bytes_of!(event);
    let mut order = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(stored) = get::<StoredParticipant>(participants, &key(&[&ev, &id]))? else {
            continue;
        };
        let cursor = MatrixCursor {
            key: query.sort.key(&stored.participant),
            id: ParticipantId::from_uuid(uuid::Uuid::from_bytes(id)),
        };
        if query.is_after(&cursor) {
            order.push(cursor);
        }
    }
    order.sort();
    order.dedup();
    if query.descending {
        order.reverse();
    }
    let mut out = Vec::new();
    for cursor in order {
        if out.len() >= query.limit {
            break;
        }
        if let Some(state) = load_participant(participants, progress, event, cursor.id)?
            && query.matches(&state.participant, &state.progress, settings)
        {
            out.push(state);
        }
    }
    Ok(out)
}
