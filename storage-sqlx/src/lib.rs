//! # punchlist-sqlx
//!
//! The PostgreSQL store of [`punchlist`], on [sqlx](https://docs.rs/sqlx) (tokio, rustls, no
//! OpenSSL): for hosts that run many instances over one database. Queries are checked at
//! run time, so building needs no database.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use punchlist::{Punchlist, SystemClock};
//! use punchlist_sqlx::{PgStore, PoolConfig};
//!
//! let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/expo", PoolConfig::default()).await?;
//! store.migrate().await?; // at start-up; applying it again is harmless
//! let service = Punchlist::new(store, SystemClock);
//! # Ok(()) }
//! ```
//!
//! ## A schema of the host's choosing
//!
//! By default the tables go where the connection's `search_path` puts them (`public`,
//! usually). A host sharing its database with other applications, or running several
//! independent Punchlist installations in one database, names a schema instead: every
//! pooled connection then has `search_path` set to that schema alone (a startup option of
//! the connection, so it holds from the first statement), and [`PgStore::migrate`]
//! creates the schema if it is missing and applies the migrations in it, the migration
//! ledger (`_sqlx_migrations`) included. Two schemas in one database are independent
//! stores: their own tables, their own migrations, their own live streams. The name is a
//! [`SchemaName`], checked when it is made (a plain lowercase SQL identifier), so no
//! untrusted text reaches SQL.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use punchlist_sqlx::{PgStore, PoolConfig, SchemaName};
//!
//! let schema: SchemaName = "expo_2026".parse()?; // "bad; drop" or "Expo" would be refused
//! let config = PoolConfig::default().with_schema(schema);
//! let store = PgStore::connect("postgres://app@db.internal/shared", config).await?;
//! store.migrate().await?; // CREATE SCHEMA IF NOT EXISTS expo_2026, then its tables there
//! # Ok(()) }
//! ```
//!
//! ## Errors
//!
//! [`PgStore::connect`] and [`PgStore::migrate`] return sqlx's own errors. This crate
//! re-exports sqlx ([`sqlx`]), so a host matches on them, or builds its own
//! pool for [`PgStore::from_pool`], without a `sqlx` dependency of its own:
//! `punchlist_sqlx::sqlx::Error::PoolTimedOut`. Once connected, every call of the
//! [`Store`](punchlist::Store) answers the library's [`punchlist::Error`]
//! ([`map_error`] says which kind).
//!
//! ## Schema
//!
//! The migrations live in `migrations/` beside this crate and are embedded in it
//! ([`PgStore::migrate`]). Every table has the event id as the first column of its primary
//! key, and every foreign key includes it, so moving to a Postgres that shards by event
//! (Citus, distributing every table by `event_id`) needs no schema change. Domain values
//! are JSONB documents, with the columns queries filter, join and sort on beside them. The
//! source's `schema.rs` lists the tables and the columns the library computes.
//!
//! ## Layout
//!
//! The source has the same file set as the other store crates: one file per trait of the
//! store API, or per concern.
//!
//! | file | what it holds |
//! |---|---|
//! | `lib.rs` | this documentation, [`PgStore`], the re-exports |
//! | `open.rs` | [`PoolConfig`], [`SchemaName`], connecting, [`PgStore::migrate`], [`MIGRATOR`] |
//! | `schema.rs` | the table of tables, and the columns computed from a participant's record |
//! | `error.rs` | [`map_error`], the JSON encoding of the stored documents |
//! | `participants.rs` | [`ParticipantStore`](punchlist::store::ParticipantStore): participants' states, lookups |
//! | `tracking.rs` | [`TrackingStore`](punchlist::store::TrackingStore): the matrix, per-task counters, sweeps |
//! | `matrix.rs` | the matrix page (B2) in SQL |
//! | `record.rs` | [`RecordStore`](punchlist::store::RecordStore): timeline, history, messages |
//! | `outbox.rs` | [`OutboxStore`](punchlist::store::OutboxStore): the outbox, claims and leases; the outbox rows' writes |
//! | `check.rs` | what the shared conflict check reads (`StoredState`), fetched and locked in the committing transaction |
//! | `write.rs` | [`EventStore`](punchlist::store::EventStore): a change set's check and its write, in one transaction |
//! | `feed.rs` | the live stream: its channel's name, `pg_notify` in the write, `LISTEN` in the feed |
//! | `dump.rs` | an event read whole: its configuration, and the dump behind `testkit` |
//! | `testing.rs` | the test-only API behind `testkit` |
//!
//! ## Concurrent writers
//!
//! Every change set is one transaction. Writers in different processes or pools cannot
//! lose each other's update: the transaction takes row locks (`SELECT … FOR UPDATE`) on
//! the participants, tasks and segments it writes and a shared lock on the event row, then
//! runs the library's version check ([`punchlist::store::check`]) on what it read, so the
//! loser of a race sees the winner's version and gets a conflict the service retries.
//! Unique constraints back the uniqueness rules (a violation is a conflict too), and the
//! per-task counters move by `+= delta` upserts, which commute.
//!
//! ## Live stream
//!
//! Progress changes are sent with `pg_notify` inside the committing transaction, so they
//! are delivered on commit, in commit order, to every instance listening (`LISTEN`), on a
//! channel per event and schema (channels belong to the database, so the schema's identity
//! is in the name: stores in two schemas of one database never hear each other).
#![deny(missing_docs)]

mod check;
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
pub mod testing;
mod tracking;
mod write;

pub use error::map_error;
pub use open::{InvalidSchemaName, MIGRATOR, PoolConfig, SchemaName};
/// sqlx, re-exported: the errors of [`PgStore::connect`] and [`PgStore::migrate`]
/// (`punchlist_sqlx::sqlx::Error`, `punchlist_sqlx::sqlx::migrate::MigrateError`) and the
/// pool of [`PgStore::from_pool`], usable without a `sqlx` dependency of the host's own.
pub use sqlx;

/// The PostgreSQL store. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: sqlx::PgPool,
    /// The schema named in the configuration, which `migrate` creates.
    schema: Option<SchemaName>,
    #[cfg(feature = "testkit")]
    _guard: Option<std::sync::Arc<testing::SchemaGuard>>,
}
