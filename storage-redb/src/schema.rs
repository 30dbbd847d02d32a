//! Every table of the file, in one place, with the helpers that build and range over their
//! keys. Keys are byte strings that start with the event's id, then what the queries range
//! over, so that one event's rows, one participant's rows or one subject's history are each
//! one contiguous range of a B-tree. Ids are UUID v7, so their bytes sort by time and new
//! rows land at the end of their range.
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | u64 (the file's format version) |
//! | `events` | event | JSON `Event` |
//! | `segments` | event · segment | JSON `Segment` |
//! | `tasks` | event · task | JSON `Task` |
//! | `participants` | event · participant | JSON record, facts and version |
//! | `progress` | event · participant · task | JSON `Progress` |
//! | `external_ids` | event · host's id (UTF-8) | participant |
//! | `collaborators` | event · owner · collaborator | — |
//! | `assigned` | event · assignee · owner · task | — |
//! | `host_events` | event · host event id (UTF-8) | — |
//! | `timeline` | event · participant · entry | JSON `TimelineEntry` |
//! | `history` | event · subject kind · subject · line | JSON `HistoryEntry` |
//! | `messages` | event · participant · message | JSON `Message` (R7; created when a file is opened, no format change) |
//! | `outbox` | event · entry | JSON `OutboxEntry` |
//! | `outbox_keys` | event · idempotency key (UTF-8) | entry |
//! | `outbox_due` | lane · due time · event · entry | — (pending entries, by [`OutboxEntry::lane`](punchlist::OutboxEntry::lane) and [`OutboxEntry::due_at`](punchlist::OutboxEntry::due_at)) |
//! | `outbox_dead` | event · entry | — (dead letters) |
//! | `limiters` | name (UTF-8) | JSON instant (a shared rate limiter's state, N11; created when a file is opened, no format change) |
//! | `outbox_waiting` | event · recipient · entry | — (pending entries that waited for the send window, N9; created when a file is opened, no format change) |
//! | `sweeps` | event · sweep | JSON `Sweep` |
//! | `counters` | event · task | JSON `TaskCounters` |
//! | `sort_keys` | event · sort kind · escaped sort key · participant | — (the matrix's order, B2) |
//! | `progress_status` | event · task · status · participant | — (targeted rows, the matrix's status filter) |

use std::ops::Bound;

use punchlist::{Error, Facts, MatrixSort, OutboxEntry, Participant, Result, Subject};
use redb::{ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{be, parse};

/// A table keyed and valued by byte strings (every table but `meta`).
pub(crate) type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;

pub(crate) const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");
pub(crate) const EVENTS: Bytes = TableDefinition::new("events");
pub(crate) const SEGMENTS: Bytes = TableDefinition::new("segments");
pub(crate) const TASKS: Bytes = TableDefinition::new("tasks");
pub(crate) const PARTICIPANTS: Bytes = TableDefinition::new("participants");
pub(crate) const PROGRESS: Bytes = TableDefinition::new("progress");
pub(crate) const EXTERNAL_IDS: Bytes = TableDefinition::new("external_ids");
pub(crate) const COLLABORATORS: Bytes = TableDefinition::new("collaborators");
pub(crate) const ASSIGNED: Bytes = TableDefinition::new("assigned");
pub(crate) const HOST_EVENTS: Bytes = TableDefinition::new("host_events");
pub(crate) const TIMELINE: Bytes = TableDefinition::new("timeline");
pub(crate) const HISTORY: Bytes = TableDefinition::new("history");
pub(crate) const MESSAGES: Bytes = TableDefinition::new("messages");
pub(crate) const OUTBOX: Bytes = TableDefinition::new("outbox");
pub(crate) const OUTBOX_KEYS: Bytes = TableDefinition::new("outbox_keys");
pub(crate) const OUTBOX_DUE: Bytes = TableDefinition::new("outbox_due");
pub(crate) const OUTBOX_DEAD: Bytes = TableDefinition::new("outbox_dead");
pub(crate) const OUTBOX_WAITING: Bytes = TableDefinition::new("outbox_waiting");
pub(crate) const LIMITERS: Bytes = TableDefinition::new("limiters");
pub(crate) const SWEEPS: Bytes = TableDefinition::new("sweeps");
pub(crate) const COUNTERS: Bytes = TableDefinition::new("counters");
pub(crate) const SORT_KEYS: Bytes = TableDefinition::new("sort_keys");
pub(crate) const PROGRESS_STATUS: Bytes = TableDefinition::new("progress_status");
/// Targeted rows still to do by their next reminder: (event, task, time, participant) → ().
pub(crate) const REMINDERS_DUE: Bytes = TableDefinition::new("reminders_due");

/// Every byte-keyed table, to create them all when a file is new.
pub(crate) const ALL: &[Bytes] = &[
    EVENTS,
    SEGMENTS,
    TASKS,
    PARTICIPANTS,
    PROGRESS,
    EXTERNAL_IDS,
    COLLABORATORS,
    ASSIGNED,
    HOST_EVENTS,
    TIMELINE,
    HISTORY,
    MESSAGES,
    OUTBOX,
    OUTBOX_KEYS,
    OUTBOX_DUE,
    OUTBOX_DEAD,
    OUTBOX_WAITING,
    LIMITERS,
    SWEEPS,
    COUNTERS,
    SORT_KEYS,
    PROGRESS_STATUS,
    REMINDERS_DUE,
];

/// The key format version this crate writes. Version 2 added the outbox's due and dead
/// indexes and the progress status index; version 3 the index of rows by their next
/// reminder; version 4 every progress row's resolved deadline; version 5 the lane first in
/// the outbox's due keys (an older file is migrated when opened).
pub(crate) const FORMAT: u64 = 5;
/// The name of the format version in `meta`.
pub(crate) const FORMAT_KEY: &str = "format";

/// A time as 12 bytes whose byte order is the time order: seconds since the epoch with the
/// sign bit flipped, then nanoseconds, both big-endian.
pub(crate) fn time_key(t: chrono::DateTime<chrono::Utc>) -> [u8; 12] {
    let mut out = [0u8; 12];
    let secs = (t.timestamp() as u64) ^ (1 << 63);
    out[..8].copy_from_slice(&secs.to_be_bytes());
    out[8..].copy_from_slice(&t.timestamp_subsec_nanos().to_be_bytes());
    out
}

/// A progress status as one byte of `progress_status` keys.
pub(crate) fn status_byte(status: punchlist::ProgressStatus) -> u8 {
    match status {
        punchlist::ProgressStatus::Todo => 0,
        punchlist::ProgressStatus::Done => 1,
        punchlist::ProgressStatus::AwaitingReview => 2,
        _ => 255,
    }
}

/// The key of a progress row in [`REMINDERS_DUE`], when it is targeted, still to do and
/// has a next reminder.
pub(crate) fn reminder_key(ev: &[u8], pid: &[u8], row: &punchlist::Progress) -> Option<Vec<u8>> {
    row.next_reminder_at
        .filter(|_| row.targeted && row.status == punchlist::ProgressStatus::Todo)
        .map(|at| key(&[ev, row.task.as_uuid().as_bytes(), &time_key(at), pid]))
}

/// Builds a key from its parts.
pub(crate) fn key(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// The range of every key starting with `prefix`: `[prefix, next)`, where `next` is the
/// first byte string after all of them (`None`: to the end).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Encodes a sort key so that byte order of `escaped(key) · id` is the order of
/// `(key, id)`: `0x00` becomes `0x00 0xFF`, and `0x00 0x00` ends the key.
pub(crate) fn escaped(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 2);
    for b in key.bytes() {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// The 16 bytes of an id, as they are written in keys.
macro_rules! bytes_of {
    ($id:expr) => {
        *$id.as_uuid().as_bytes()
    };
}
pub(crate) use bytes_of;

/// The UUID written at `at` in a key (or a value holding an id).
pub(crate) fn uuid_at(bytes: &[u8], at: usize) -> Result<uuid::Uuid> {
    bytes
        .get(at..at + 16)
        .and_then(|b| uuid::Uuid::from_slice(b).ok())
        .ok_or_else(|| Error::backend("a key of the database is shorter than its format says"))
}

/// A history subject as 17 bytes of `history` keys: its kind, then its id (zeros for the
/// event).
pub(crate) fn subject_key(subject: Subject) -> [u8; 17] {
    let (kind, id) = match subject {
        Subject::Event => (0u8, [0u8; 16]),
        Subject::Participant(p) => (1, bytes_of!(p)),
        Subject::Task(t) => (2, bytes_of!(t)),
        Subject::Segment(s) => (3, bytes_of!(s)),
    };
    let mut k = [0u8; 17];
    k[0] = kind;
    k[1..].copy_from_slice(&id);
    k
}

/// The matrix orders with an index, and their kind byte in `sort_keys`.
pub(crate) const SORTS: [(u8, MatrixSort); 3] = [
    (1, MatrixSort::Name),
    (2, MatrixSort::Company),
    (3, MatrixSort::Email),
];

/// A key of `sort_keys`.
pub(crate) fn sort_key(ev: &[u8; 16], kind: u8, key: &str, pid: &[u8; 16]) -> Vec<u8> {
    self::key(&[ev, &[kind], &escaped(key), pid])
}

/// The key of a pending entry in `outbox_due`.
pub(crate) fn due_key(entry: &OutboxEntry) -> Option<Vec<u8>> {
    let due = entry.due_at()?;
    Some(key(&[
        &[entry.lane()],
        &time_key(due),
        &bytes_of!(entry.event),
        &bytes_of!(entry.id),
    ]))
}

/// The key of a pending entry that waited for its send window in `outbox_waiting`.
pub(crate) fn waiting_key(entry: &OutboxEntry) -> Option<Vec<u8>> {
    entry.is_waiting().then(|| {
        key(&[
            &bytes_of!(entry.event),
            &bytes_of!(entry.recipient),
            &bytes_of!(entry.id),
        ])
    })
}

/// A participant's record, facts and version: one row of `participants`.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredParticipant {
    pub(crate) participant: Participant,
    pub(crate) facts: Facts,
    pub(crate) version: u64,
}

/// Every value whose key starts with `prefix`, in key order.
pub(crate) fn scan<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
) -> Result<Vec<T>> {
    scan_from(table, prefix, Bound::Included(prefix), usize::MAX, false)
}

/// Up to `limit` values whose key starts with `prefix`, from `start` on (or, reversed,
/// downwards from the end of the prefix to `start`).
pub(crate) fn scan_from<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
    start: Bound<&[u8]>,
    limit: usize,
    reverse: bool,
) -> Result<Vec<T>> {
    let end = prefix_end(prefix);
    let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let range = table.range::<&[u8]>((start, upper)).map_err(be)?;
    let items: Box<dyn Iterator<Item = _>> = if reverse {
        Box::new(range.rev())
    } else {
        Box::new(range)
    };
    let mut out = Vec::new();
    for item in items.take(limit) {
        let (_, v) = item.map_err(be)?;
        out.push(parse(v.value())?);
    }
    Ok(out)
}

/// Every key starting with `prefix`, without the prefix.
pub(crate) fn scan_keys(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
) -> Result<Vec<Vec<u8>>> {
    let end = prefix_end(prefix);
    let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut out = Vec::new();
    for item in table
        .range::<&[u8]>((Bound::Included(prefix), upper))
        .map_err(be)?
    {
        let (k, _) = item.map_err(be)?;
        out.push(k.value()[prefix.len()..].to_vec());
    }
    Ok(out)
}

/// Every entry whose key starts with `prefix`.
pub(crate) fn range_of<'a>(
    table: &'a impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
) -> Result<redb::Range<'a, &'static [u8], &'static [u8]>> {
    let end = prefix_end(prefix);
    let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    table
        .range::<&[u8]>((Bound::Included(prefix), upper))
        .map_err(be)
}

/// The value at `key`, if any.
pub(crate) fn get<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
) -> Result<Option<T>> {
    table
        .get(key)
        .map_err(be)?
        .map(|v| parse(v.value()))
        .transpose()
}
