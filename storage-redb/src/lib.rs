//! # punchlist-redb
//!
//! The embedded store of [`punchlist`], on [redb](https://docs.rs/redb): everything in one
//! file, each change set one write transaction (all of it or nothing, durable once the
//! call returns), crash-safe by redb's copy-on-write commits. It is the default store: no
//! server to run.
//!
//! ```
//! use punchlist::{Actor, EventSettings, Language, Punchlist, SystemClock};
//! use punchlist_redb::RedbStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = RedbStore::open(dir.path().join("punchlist.redb"))?;
//! let service = Punchlist::new(store, SystemClock);
//! let event = service
//!     .create_event(&Actor::System, EventSettings::new("Expo", Language::new("en")?))
//!     .await?;
//! assert_eq!(service.event(&Actor::System, event.id).await?.id, event.id);
//! # Ok(())
//! # }
//! ```
//!
//! ## Layout
//!
//! One B-tree per table, keys ordered by event, then by what the queries range over: a
//! participant's task list reads that participant's rows only, and the per-task figures
//! read one counter per task; neither scans the event. See the table list in the source's
//! `schema.rs`.
//!
//! ## Blocking
//!
//! redb is a blocking library: every call of the store runs in
//! `tokio::task::spawn_blocking`, never on the async executor. [`RedbStore::open`] is
//! blocking too; call it at start-up, or use [`RedbStore::open_async`].
//!
//! ## File format
//!
//! The file carries a format version. Opening a file written by a newer version of this
//! crate is refused with [`OpenError::NewerFormat`]; an older format is migrated on open.
//! (Format 1 is the first, so there is nothing to migrate yet.)
//!
//! ## Live stream
//!
//! The progress feed is delivered in process, to every service sharing this store handle
//! (clone it, or wrap it in an `Arc`). A redb file is opened by one process at a time.
#![deny(missing_docs)]

mod schema;

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use punchlist::change::{ChangeSet, StoredState, check};
use punchlist::history::{HistoryEntry, Subject};
use punchlist::store::{
    EventConfig, EventStore, OutboxStore, ParticipantStore, RecordStore, TrackingStore,
    event_config_from, from_broadcast,
};
use punchlist::{
    Error, Event, EventId, ExternalId, Facts, HistoryId, HostEventId, MatrixCursor, MatrixQuery,
    MatrixSort, Message, MessageId, OutboxEntry, OutboxFilter, OutboxId, OutboxState, Participant,
    ParticipantId, ParticipantState, Progress, ProgressChange, ProgressFeed, Result, SegmentId,
    Sweep, TaskCounters, TaskId, TimelineEntry, TimelineFilter,
};
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use schema::*;
use tokio::sync::broadcast;

/// Why a file could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The path is a directory.
    #[error("{0} is a directory, not a database file")]
    IsADirectory(PathBuf),
    /// The file exists but is not a redb database.
    #[error("{path} is not a redb database")]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// What redb said.
        #[source]
        source: redb::DatabaseError,
    },
    /// The file is a redb database of another application.
    #[error("{0} is a redb database, but not a punchlist one")]
    NotPunchlist(PathBuf),
    /// The file was written by a newer version of this crate.
    #[error(
        "the file's format {found} is newer than this version supports ({supported}); upgrade punchlist-redb"
    )]
    NewerFormat {
        /// The file's format.
        found: u64,
        /// The newest this version reads.
        supported: u64,
    },
    /// Another process (or handle) has the file open.
    #[error("the database file is already open")]
    AlreadyOpen,
    /// An I/O error.
    #[error("I/O error opening the database")]
    Io(#[source] std::io::Error),
    /// Another redb error.
    #[error("the database could not be opened")]
    Storage(#[source] redb::Error),
}

impl From<OpenError> for Error {
    fn from(e: OpenError) -> Self {
        Error::backend(e)
    }
}

/// Maps a redb error into the library's storage error, keeping it as the source.
fn be(e: impl Into<redb::Error>) -> Error {
    Error::backend(e.into())
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(Error::backend)
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(Error::backend)
}

macro_rules! bytes_of {
    ($id:expr) => {
        *$id.as_uuid().as_bytes()
    };
}

/// A participant's record, facts and version: one row of `participants`.
#[derive(Serialize, Deserialize)]
struct StoredParticipant {
    participant: Participant,
    facts: Facts,
    version: u64,
}

/// The redb store. Cheap to clone: clones share the database and the live feeds.
#[derive(Clone)]
pub struct RedbStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    path: PathBuf,
    /// For a temporary store: the directory holding the file, removed on drop.
    _temporary: Option<tempfile::TempDir>,
    /// Serializes commit-then-publish, so the feed shows commits in commit order.
    writer: Mutex<()>,
    feeds: Mutex<HashMap<EventId, broadcast::Sender<ProgressChange>>>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens the database file at `path`, creating it if it does not exist. Blocking.
    pub fn open(path: impl AsRef<Path>) -> std::result::Result<Self, OpenError> {
        Self::open_with(path.as_ref().to_path_buf(), None)
    }

    /// Opens a new database in a temporary directory that is removed when the last clone
    /// of the store is dropped: for tests and demos. Blocking.
    pub fn open_temporary() -> std::result::Result<Self, OpenError> {
        let dir = tempfile::Builder::new()
            .prefix("punchlist-redb-")
            .tempdir()
            .map_err(OpenError::Io)?;
        Self::open_with(dir.path().join("punchlist.redb"), Some(dir))
    }

    fn open_with(
        path: PathBuf,
        temporary: Option<tempfile::TempDir>,
    ) -> std::result::Result<Self, OpenError> {
        if path.is_dir() {
            return Err(OpenError::IsADirectory(path));
        }
        let db = Database::create(&path).map_err(|e| open_error(e, &path))?;
        Self::over(db, path, temporary)
    }

    /// Opens the database kept by a custom redb [`StorageBackend`](redb::StorageBackend),
    /// creating it if the storage is empty: for storage that is not a plain file (a block
    /// device, an encrypted or in-memory store), or to inject I/O faults in tests.
    /// Blocking.
    ///
    /// The store's [`path`](RedbStore::path) is empty. After an I/O error, redb refuses
    /// every later write of this database, even once the storage works again (the store
    /// returns [`Error::Backend`](punchlist::Error::Backend) wrapping redb's `PreviousIo`):
    /// drop every clone of the store and open it again over the same storage, which
    /// recovers the last commit.
    pub fn open_with_backend(
        backend: impl redb::StorageBackend,
    ) -> std::result::Result<Self, OpenError> {
        let path = PathBuf::new();
        let db = Database::builder()
            .create_with_backend(backend)
            .map_err(|e| open_error(e, &path))?;
        Self::over(db, path, None)
    }

    /// Wraps an open database and prepares it (format check, tables, migrations).
    fn over(
        db: Database,
        path: PathBuf,
        temporary: Option<tempfile::TempDir>,
    ) -> std::result::Result<Self, OpenError> {
        let store = Self {
            inner: Arc::new(Inner {
                db,
                path,
                _temporary: temporary,
                writer: Mutex::new(()),
                feeds: Mutex::new(HashMap::new()),
            }),
        };
        store.prepare().map_err(|e| match e {
            Prepare::Open(o) => o,
            Prepare::Redb(r) => OpenError::Storage(r),
        })?;
        Ok(store)
    }

    /// [`RedbStore::open`] off the async executor.
    pub async fn open_async(path: impl AsRef<Path>) -> std::result::Result<Self, OpenError> {
        let path = path.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || Self::open(path))
            .await
            .map_err(|e| OpenError::Io(std::io::Error::other(e)))?
    }

    /// [`RedbStore::open_temporary`] off the async executor.
    pub async fn open_async_temporary() -> std::result::Result<Self, OpenError> {
        tokio::task::spawn_blocking(Self::open_temporary)
            .await
            .map_err(|e| OpenError::Io(std::io::Error::other(e)))?
    }

    /// The file's path (empty for a store opened with [`RedbStore::open_with_backend`]).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checks the format version, creates the tables of a new file, migrates an old one.
    fn prepare(&self) -> std::result::Result<(), Prepare> {
        let txn = self.inner.db.begin_write().map_err(Prepare::redb)?;
        {
            let existing: Vec<String> = txn
                .list_tables()
                .map_err(Prepare::redb)?
                .map(|t| t.name().to_owned())
                .collect();
            let mut meta = txn.open_table(META).map_err(Prepare::redb)?;
            let found = meta
                .get(FORMAT_KEY)
                .map_err(Prepare::redb)?
                .map(|v| v.value());
            match found {
                None if !existing.is_empty() => {
                    return Err(Prepare::Open(OpenError::NotPunchlist(
                        self.inner.path.clone(),
                    )));
                }
                None => {
                    meta.insert(FORMAT_KEY, FORMAT).map_err(Prepare::redb)?;
                }
                Some(v) if v > FORMAT => {
                    return Err(Prepare::Open(OpenError::NewerFormat {
                        found: v,
                        supported: FORMAT,
                    }));
                }
                // Older formats are migrated here, step by step, in this transaction.
                Some(v) => {
                    if v < 2 {
                        // Version 2: the outbox's due index (every entry of a version 1
                        // file is pending).
                        let outbox = txn.open_table(OUTBOX).map_err(Prepare::redb)?;
                        let mut due = txn.open_table(OUTBOX_DUE).map_err(Prepare::redb)?;
                        for item in outbox.iter().map_err(Prepare::redb)? {
                            let (_, v) = item.map_err(Prepare::redb)?;
                            let entry: OutboxEntry = parse(v.value()).map_err(|e| {
                                Prepare::Redb(redb::Error::Corrupted(e.to_string()))
                            })?;
                            if let Some(k) = due_key(&entry) {
                                due.insert(k.as_slice(), &[][..]).map_err(Prepare::redb)?;
                            }
                        }
                        // And the progress status index, from every targeted row.
                        let progress = txn.open_table(PROGRESS).map_err(Prepare::redb)?;
                        let mut index = txn.open_table(PROGRESS_STATUS).map_err(Prepare::redb)?;
                        for item in progress.iter().map_err(Prepare::redb)? {
                            let (k, v) = item.map_err(Prepare::redb)?;
                            let row: Progress = parse(v.value()).map_err(|e| {
                                Prepare::Redb(redb::Error::Corrupted(e.to_string()))
                            })?;
                            let k = k.value();
                            if row.targeted && k.len() == 48 {
                                let ik = key(&[
                                    &k[..16],
                                    &k[32..],
                                    &[status_byte(row.status)],
                                    &k[16..32],
                                ]);
                                index
                                    .insert(ik.as_slice(), &[][..])
                                    .map_err(Prepare::redb)?;
                            }
                        }
                    }
                    if v < FORMAT {
                        meta.insert(FORMAT_KEY, FORMAT).map_err(Prepare::redb)?;
                    }
                }
            }
            for table in ALL {
                txn.open_table(*table).map_err(Prepare::redb)?;
            }
        }
        txn.commit().map_err(Prepare::redb)
    }

    /// Runs `f` on a read transaction, off the async executor.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let txn = inner.db.begin_read().map_err(be)?;
            f(&txn)
        })
        .await
        .map_err(Error::backend)?
    }

    /// Runs `f` in a write transaction (committed if `f` succeeds), off the async
    /// executor, under the writer lock.
    async fn write_with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _writer = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let txn = inner.db.begin_write().map_err(be)?;
            let out = f(&txn)?;
            txn.commit().map_err(be)?;
            Ok(out)
        })
        .await
        .map_err(Error::backend)?
    }

    fn sender(&self, event: EventId) -> broadcast::Sender<ProgressChange> {
        let mut feeds = self
            .inner
            .feeds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        feeds
            .entry(event)
            .or_insert_with(|| broadcast::channel(4096).0)
            .clone()
    }

    /// Sets the format version written in the file (tests of the version check only).
    #[doc(hidden)]
    pub fn set_format_for_tests(&self, version: u64) -> Result<()> {
        let txn = self.inner.db.begin_write().map_err(be)?;
        txn.open_table(META)
            .map_err(be)?
            .insert(FORMAT_KEY, version)
            .map_err(be)?;
        txn.commit().map_err(be)
    }
}

/// Maps an error of opening a redb database.
fn open_error(e: redb::DatabaseError, path: &Path) -> OpenError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => OpenError::AlreadyOpen,
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() != std::io::ErrorKind::InvalidData =>
        {
            OpenError::Io(io)
        }
        other => OpenError::NotADatabase {
            path: path.to_path_buf(),
            source: other,
        },
    }
}

enum Prepare {
    Open(OpenError),
    Redb(redb::Error),
}

impl Prepare {
    fn redb(e: impl Into<redb::Error>) -> Self {
        Self::Redb(e.into())
    }
}

type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// Every value whose key starts with `prefix`, in key order.
fn scan<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
) -> Result<Vec<T>> {
    scan_from(table, prefix, Bound::Included(prefix), usize::MAX, false)
}

/// Up to `limit` values whose key starts with `prefix`, from `start` on (or, reversed,
/// downwards from the end of the prefix to `start`).
fn scan_from<T: DeserializeOwned>(
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
fn scan_keys(
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

fn get<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
) -> Result<Option<T>> {
    table
        .get(key)
        .map_err(be)?
        .map(|v| parse(v.value()))
        .transpose()
}

fn uuid_at(bytes: &[u8], at: usize) -> Result<uuid::Uuid> {
    bytes
        .get(at..at + 16)
        .and_then(|b| uuid::Uuid::from_slice(b).ok())
        .ok_or_else(|| Error::backend("a key of the database is shorter than its format says"))
}

fn subject_key(subject: Subject) -> [u8; 17] {
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
const SORTS: [(u8, MatrixSort); 3] = [
    (1, MatrixSort::Name),
    (2, MatrixSort::Company),
    (3, MatrixSort::Email),
];

/// A key of `sort_keys`.
fn sort_key(ev: &[u8; 16], kind: u8, key: &str, pid: &[u8; 16]) -> Vec<u8> {
    schema::key(&[ev, &[kind], &escaped(key), pid])
}

/// A matrix page: walks the participants in the query's order (the `sort_keys` index, or
/// the participants table for registration order) from the cursor, checks the chosen
/// task's row with a point read, loads only the candidates, and stops at the page's size.
fn matrix_page(
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

/// Reads one participant's state in a transaction.
/// Below this many candidates, a filtered matrix page sorts the candidates themselves.
const MATRIX_COLLECT_BELOW: usize = 1_000;
/// Up to this many, it walks the order skipping non-candidates by a set; above, it checks
/// rows as it walks (matches are then frequent).
const MATRIX_SET_UP_TO: usize = 20_000;

/// Every entry whose key starts with `prefix`.
fn range_of<'a>(
    table: &'a impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
) -> Result<redb::Range<'a, &'static [u8], &'static [u8]>> {
    let end = prefix_end(prefix);
    let upper = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    table
        .range::<&[u8]>((Bound::Included(prefix), upper))
        .map_err(be)
}

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

fn load_participant(
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
        participant: stored.participant,
        facts: stored.facts,
        progress: rows.into_iter().map(|r| (r.task, r)).collect(),
        version: stored.version,
    }))
}

/// Every participant's state of an event, in id order, after `after`, at most `limit`.
fn load_participants(
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
                participant: s.participant,
                facts: s.facts,
                progress: rows.into_iter().map(|r| (r.task, r)).collect(),
                version: s.version,
            })
        })
        .collect()
}

/// The stored state the shared change-set check reads, over a write transaction.
struct Lookup<'a> {
    event: EventId,
    txn: &'a redb::WriteTransaction,
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

/// The key of a pending entry in `outbox_due`.
fn due_key(entry: &OutboxEntry) -> Option<Vec<u8>> {
    let due = entry.due_at()?;
    Some(key(&[
        &time_key(due),
        &bytes_of!(entry.event),
        &bytes_of!(entry.id),
    ]))
}

/// The outbox and its indexes, open in a write transaction.
struct OutboxTables<'t> {
    outbox: redb::Table<'t, &'static [u8], &'static [u8]>,
    due: redb::Table<'t, &'static [u8], &'static [u8]>,
    dead: redb::Table<'t, &'static [u8], &'static [u8]>,
}

impl<'t> OutboxTables<'t> {
    fn open(txn: &'t redb::WriteTransaction) -> Result<Self> {
        Ok(Self {
            outbox: txn.open_table(OUTBOX).map_err(be)?,
            due: txn.open_table(OUTBOX_DUE).map_err(be)?,
            dead: txn.open_table(OUTBOX_DEAD).map_err(be)?,
        })
    }

    fn get(&self, event: EventId, id: OutboxId) -> Result<Option<OutboxEntry>> {
        get(&self.outbox, &key(&[&bytes_of!(event), &bytes_of!(id)]))
    }

    /// Drops an entry and its index keys; returns its idempotency key, if it existed.
    fn remove(&mut self, event: EventId, id: OutboxId) -> Result<Option<String>> {
        let Some(old) = self.get(event, id)? else {
            return Ok(None);
        };
        let k = key(&[&bytes_of!(event), &bytes_of!(id)]);
        if let Some(d) = due_key(&old) {
            self.due.remove(d.as_slice()).map_err(be)?;
        }
        self.dead.remove(k.as_slice()).map_err(be)?;
        self.outbox.remove(k.as_slice()).map_err(be)?;
        Ok(Some(old.idempotency_key))
    }

    /// Stores `entry` over `old` (the stored one, if any) and moves it in the indexes.
    fn put(&mut self, old: Option<&OutboxEntry>, entry: &OutboxEntry) -> Result<()> {
        let k = key(&[&bytes_of!(entry.event), &bytes_of!(entry.id)]);
        if let Some(old) = old {
            if let Some(d) = due_key(old) {
                self.due.remove(d.as_slice()).map_err(be)?;
            }
            self.dead.remove(k.as_slice()).map_err(be)?;
        }
        if let Some(d) = due_key(entry) {
            self.due.insert(d.as_slice(), &[][..]).map_err(be)?;
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

/// Writes a checked change set in a write transaction.
fn write(txn: &redb::WriteTransaction, cs: ChangeSet) -> Result<()> {
    let ev = bytes_of!(cs.event);
    let open = |t: Bytes| txn.open_table(t).map_err(be);
    if let Some(e) = &cs.event_record {
        open(EVENTS)?
            .insert(&ev[..], json(e)?.as_slice())
            .map_err(be)?;
    }
    {
        let mut segments = open(SEGMENTS)?;
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
    {
        let mut tasks = open(TASKS)?;
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
    }
    {
        let mut participants = open(PARTICIPANTS)?;
        let mut progress = open(PROGRESS)?;
        let mut external = open(EXTERNAL_IDS)?;
        let mut collaborators = open(COLLABORATORS)?;
        let mut assigned = open(ASSIGNED)?;
        let mut sort_keys = open(SORT_KEYS)?;
        let mut by_status = open(PROGRESS_STATUS)?;
        for w in cs.participants {
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
                let (old_status, new_status) =
                    (old_row.as_ref().and_then(status_key), status_key(row));
                if old_status != new_status {
                    if let Some(k) = old_status {
                        by_status.remove(k.as_slice()).map_err(be)?;
                    }
                    if let Some(k) = new_status {
                        by_status.insert(k.as_slice(), &[][..]).map_err(be)?;
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
    }
    {
        let mut host_events = open(HOST_EVENTS)?;
        for h in &cs.host_events {
            host_events
                .insert(key(&[&ev, h.as_str().as_bytes()]).as_slice(), &[][..])
                .map_err(be)?;
        }
    }
    {
        let mut timeline = open(TIMELINE)?;
        for t in &cs.timeline {
            let k = key(&[&ev, &bytes_of!(t.participant), &bytes_of!(t.id)]);
            timeline
                .insert(k.as_slice(), json(t)?.as_slice())
                .map_err(be)?;
        }
        let mut history = open(HISTORY)?;
        for h in &cs.history {
            let k = key(&[&ev, &subject_key(h.subject), &bytes_of!(h.id)]);
            history
                .insert(k.as_slice(), json(h)?.as_slice())
                .map_err(be)?;
        }
        let mut messages = open(MESSAGES)?;
        for m in &cs.messages {
            let k = key(&[&ev, &bytes_of!(m.participant), &bytes_of!(m.id)]);
            messages
                .insert(k.as_slice(), json(m)?.as_slice())
                .map_err(be)?;
        }
        let mut keys = open(OUTBOX_KEYS)?;
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
    }
    {
        let mut sweeps = open(SWEEPS)?;
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
    }
    {
        let mut counters = open(COUNTERS)?;
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
    }
    Ok(())
}

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
            for change in published {
                // No receiver is not an error: nobody is watching.
                let _ = sender.send(change);
            }
            Ok(())
        })
        .await
        .map_err(Error::backend)?
    }

    async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed> {
        Ok(from_broadcast(self.sender(event).subscribe()))
    }
}

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
            // Every key due at `now` sorts before the first key of the next nanosecond.
            let end = time_key(now + chrono::Duration::nanoseconds(1));
            let mut due = Vec::new();
            for item in tables.due.range(..&end[..]).map_err(be)?.take(limit) {
                let (k, _) = item.map_err(be)?;
                let k = k.value();
                due.push((
                    EventId::from_uuid(uuid_at(k, 12)?),
                    OutboxId::from_uuid(uuid_at(k, 28)?),
                ));
            }
            let mut claimed = Vec::with_capacity(due.len());
            for (event, id) in due {
                let Some(old) = tables.get(event, id)? else {
                    continue;
                };
                let mut entry = old.clone();
                entry.lease_to(&owner, lease_until);
                tables.put(Some(&old), &entry)?;
                claimed.push(entry);
            }
            Ok(claimed)
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

#[cfg(feature = "testkit")]
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

/// The README's code blocks, compiled and run as doc tests (here, where both the library
/// and this store are in reach).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
