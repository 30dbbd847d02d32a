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
//! assert_eq!(service.event(&Actor::System, event.id).get().await?.id, event.id);
//! # Ok(())
//! # }
//! ```
//!
//! ## Layout
//!
//! One B-tree per table, keys ordered by event, then by what the queries range over: a
//! participant's task list reads that participant's rows only, and the per-task figures
//! read one counter per task; neither scans the event. See the table of tables in the
//! source's `schema.rs`.
//!
//! The source has one file per trait of the store API or per concern, the same set as the
//! PostgreSQL store's:
//!
//! | file | holds |
//! |---|---|
//! | `lib.rs` | [`RedbStore`] and its transactions, run off the async executor |
//! | `open.rs` | opening a file: the format check, new tables, migrations, [`OpenError`] |
//! | `schema.rs` | the table of tables, the key formats and the range reads over them |
//! | `error.rs` | redb's errors (and JSON's) as [`punchlist::Error`] |
//! | `participants.rs` | `ParticipantStore`, and loading a participant's state |
//! | `tracking.rs` | `TrackingStore`: the per-task counters, the sweeps, the matrix |
//! | `matrix.rs` | the matrix's walk over its indexes (B2) |
//! | `record.rs` | `RecordStore`: timeline, history, messages |
//! | `outbox.rs` | `OutboxStore`, and the outbox's indexes kept in step |
//! | `check.rs` | what the shared conflict check reads (`StoredState`), over the write transaction |
//! | `write.rs` | `EventStore`: the event's configuration, and `apply` (check, then write) |
//! | `feed.rs` | the live feed's broadcast channels |
//! | `dump.rs` | `DumpStore`, the conformance suite's dump (`testkit`) |
//! | `testing.rs` | the test-only API (`testkit`) |
//!
//! ## Blocking and concurrency
//!
//! redb is a blocking library: every call of the store runs in
//! `tokio::task::spawn_blocking`, never on the async executor. [`RedbStore::open`] is
//! blocking too; call it at start-up, or use [`RedbStore::open_async`].
//!
//! Reads run on a snapshot, concurrently with each other and with a write. Writes take one
//! lock per store (shared by its clones), so commits and their live-feed messages come in
//! one order.
//!
//! ## File format
//!
//! The file carries a format version. Opening a file written by a newer version of this
//! crate is refused with [`OpenError::NewerFormat`]; an older format is migrated on open.
//! (Format 2 added the outbox's and the progress statuses' indexes; a format 1 file gets
//! them when opened.)
//!
//! ## Live stream
//!
//! The progress feed is delivered in process, to every service sharing this store handle
//! (clone it, or wrap it in an `Arc`). A redb file is opened by one process at a time.
#![deny(missing_docs)]

mod check;
#[cfg(feature = "testkit")]
mod dump;
mod error;
mod feed;
mod matrix;
mod open;
mod outbox;
mod participants;
mod record;
mod schema;
#[cfg(feature = "testkit")]
mod testing;
mod tracking;
mod write;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use punchlist::{Error, EventId, ProgressChange, Result};
use redb::{Database, ReadTransaction, ReadableDatabase};
use tokio::sync::broadcast;

use crate::error::be;

pub use open::OpenError;

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
    /// Each event's live-feed channel, created on first use (`feed.rs`).
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
    /// Runs `f` on a read transaction, off the async executor.
    pub(crate) async fn read<T: Send + 'static>(
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
    pub(crate) async fn write_with<T: Send + 'static>(
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
}

/// The README's code blocks, compiled and run as doc tests (here, where both the library
/// and this store are in reach).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
