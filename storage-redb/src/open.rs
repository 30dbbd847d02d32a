//! Opening a file: a path, a temporary directory or a custom storage backend, then the
//! format check, the tables of a new file and the migration of an old one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use punchlist::{OutboxEntry, Progress, Task};
use redb::{Database, ReadableTable, TableHandle};

use crate::error::{json, open_error, parse};
use crate::schema::{
    ALL, FORMAT, FORMAT_KEY, META, OUTBOX, OUTBOX_DUE, PROGRESS, PROGRESS_STATUS, REMINDERS_DUE,
    TASKS, due_key, key, reminder_key, status_byte,
};
use crate::{Inner, RedbStore};

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
                    if v < 5 {
                        // Version 2 added the outbox's due index; version 5 puts each
                        // entry's lane first in its key: built again from the entries.
                        txn.delete_table(OUTBOX_DUE).map_err(Prepare::redb)?;
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
                    }
                    if v < 3 {
                        // One pass over the rows builds the indexes an older file lacks:
                        // the status index of every targeted row (version 2), and the
                        // index of rows by their next reminder (version 3; a row of an
                        // older file has none kept, so it reads as due since 1970: the
                        // next tick looks at it once and writes its value).
                        let progress = txn.open_table(PROGRESS).map_err(Prepare::redb)?;
                        let mut status = txn.open_table(PROGRESS_STATUS).map_err(Prepare::redb)?;
                        let mut due = txn.open_table(REMINDERS_DUE).map_err(Prepare::redb)?;
                        for item in progress.iter().map_err(Prepare::redb)? {
                            let (k, value) = item.map_err(Prepare::redb)?;
                            let row: Progress = parse(value.value()).map_err(|e| {
                                Prepare::Redb(redb::Error::Corrupted(e.to_string()))
                            })?;
                            let k = k.value();
                            if k.len() != 48 {
                                continue;
                            }
                            if v < 2 && row.targeted {
                                let ik = key(&[
                                    &k[..16],
                                    &k[32..],
                                    &[status_byte(row.status)],
                                    &k[16..32],
                                ]);
                                status
                                    .insert(ik.as_slice(), &[][..])
                                    .map_err(Prepare::redb)?;
                            }
                            if let Some(ik) = reminder_key(&k[..16], &k[16..32], &row) {
                                due.insert(ik.as_slice(), &[][..]).map_err(Prepare::redb)?;
                            }
                        }
                    }
                    if v < 4 {
                        // Version 4: every row keeps its resolved deadline (`due_at`); a
                        // row of an older file takes its task's, as the library would
                        // have written it.
                        fill_due_at(&txn, FILL_PASS)?;
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
}

/// Rows rewritten per pass of [`fill_due_at`]: the pass holds their new values in memory.
const FILL_PASS: usize = 10_000;

/// Gives every progress row of the file whose task has a deadline that deadline as its
/// resolved one, in passes of `pass` rows (a range read cannot write its table).
fn fill_due_at(txn: &redb::WriteTransaction, pass: usize) -> std::result::Result<(), Prepare> {
    let corrupted = |e: punchlist::Error| Prepare::Redb(redb::Error::Corrupted(e.to_string()));
    let mut deadlines: HashMap<Vec<u8>, chrono::DateTime<chrono::Utc>> = HashMap::new();
    {
        let tasks = txn.open_table(TASKS).map_err(Prepare::redb)?;
        for item in tasks.iter().map_err(Prepare::redb)? {
            let (k, v) = item.map_err(Prepare::redb)?;
            let task: Task = parse(v.value()).map_err(corrupted)?;
            if let Some(d) = task.config.deadline {
                deadlines.insert(k.value().to_vec(), d);
            }
        }
    }
    if deadlines.is_empty() {
        return Ok(());
    }
    let mut progress = txn.open_table(PROGRESS).map_err(Prepare::redb)?;
    let mut from: Option<Vec<u8>> = None;
    loop {
        let mut batch = Vec::new();
        let mut last = None;
        {
            let range = match &from {
                Some(k) => progress.range::<&[u8]>((
                    std::ops::Bound::Excluded(k.as_slice()),
                    std::ops::Bound::Unbounded,
                )),
                None => progress.range::<&[u8]>(..),
            }
            .map_err(Prepare::redb)?;
            for item in range.take(pass.max(1)) {
                let (k, value) = item.map_err(Prepare::redb)?;
                let k = k.value();
                last = Some(k.to_vec());
                if k.len() != 48 {
                    continue;
                }
                let task_key = key(&[&k[..16], &k[32..]]);
                let Some(deadline) = deadlines.get(&task_key) else {
                    continue;
                };
                let mut row: Progress = parse(value.value()).map_err(corrupted)?;
                if row.due_at.is_none() {
                    row.due_at = Some(*deadline);
                    batch.push((k.to_vec(), json(&row).map_err(corrupted)?));
                }
            }
        }
        for (k, v) in &batch {
            progress
                .insert(k.as_slice(), v.as_slice())
                .map_err(Prepare::redb)?;
        }
        match last {
            Some(k) => from = Some(k),
            None => return Ok(()),
        }
    }
}

/// Why preparing a file failed: a file this crate does not open, or redb's error.
enum Prepare {
    Open(OpenError),
    Redb(redb::Error),
}

impl Prepare {
    fn redb(e: impl Into<redb::Error>) -> Self {
        Self::Redb(e.into())
    }
}

#[cfg(test)]
mod tests {
    use punchlist::store::DumpStore;
    use punchlist::testkit::Fixture;
    use punchlist::{Clock, TaskConfig};
    use redb::ReadableTable;

    use super::*;

    /// T2: the format 4 step gives every row its task's deadline whatever the number of
    /// passes it takes (here one row a pass), and leaves rows of tasks without one as they
    /// were.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn t2_rows_get_their_deadline_in_passes() {
        let store = RedbStore::open_temporary().unwrap();
        let f = Fixture::new(store.clone()).await;
        for name in ["ann", "bob", "cyd"] {
            f.participant(name, &["exhibitor"]).await;
        }
        let mut config =
            TaskConfig::manual(f.en.clone(), "Stand plan", Fixture::<RedbStore>::web());
        config.deadline = Some(f.clock.now() + chrono::Duration::days(10));
        f.publish(config).await;
        f.manual_task("Hotel", None).await;
        let before = store.dump(f.event).await.unwrap();
        let txn = store.inner.db.begin_write().unwrap();
        {
            let mut progress = txn.open_table(PROGRESS).unwrap();
            let rows: Vec<(Vec<u8>, Vec<u8>)> = progress
                .iter()
                .unwrap()
                .map(|item| {
                    let (k, v) = item.unwrap();
                    let mut row: Progress = parse(v.value()).unwrap();
                    row.due_at = None;
                    (k.value().to_vec(), json(&row).unwrap())
                })
                .collect();
            assert_eq!(rows.len(), 6);
            for (k, v) in rows {
                progress.insert(k.as_slice(), v.as_slice()).unwrap();
            }
        }
        assert!(fill_due_at(&txn, 1).is_ok());
        txn.commit().unwrap();
        assert_eq!(store.dump(f.event).await.unwrap(), before);
    }
}
