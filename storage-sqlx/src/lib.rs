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
//! [`Store`] answers the library's [`punchlist::Error`] ([`map_error`] says which kind).
//!
//! ## Schema
//!
//! The migrations live in `migrations/` beside this crate and are embedded in it
//! ([`PgStore::migrate`]). Every table has the event id as the first column of its primary
//! key, and every foreign key includes it, so moving to a Postgres that shards by event
//! (Citus, distributing every table by `event_id`) needs no schema change. Domain values
//! are JSONB documents, with the columns queries filter, join and sort on beside them.
//!
//! ## Concurrent writers
//!
//! Every change set is one transaction. Writers in different processes or pools cannot
//! lose each other's update: the transaction takes row locks (`SELECT … FOR UPDATE`) on
//! the participants, tasks and segments it writes and a shared lock on the event row, then
//! runs the library's version check ([`punchlist::change::check`]) on what it read, so the
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

mod matrix;
#[cfg(feature = "testkit")]
pub mod testing;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use async_trait::async_trait;
use futures::StreamExt;
use punchlist::change::{ChangeSet, StoredState, check};
use punchlist::history::{HistoryEntry, Subject};
use punchlist::store::{
    EventConfig, EventStore, OutboxStore, ParticipantStore, RecordStore, TrackingStore,
    event_config_from,
};
use punchlist::{
    Error, Event, EventId, ExternalId, Facts, HistoryId, HostEventId, MatrixQuery, MatrixSort,
    Message, MessageId, OutboxEntry, OutboxFilter, OutboxId, OutboxState, Participant,
    ParticipantId, ParticipantState, Progress, ProgressChange, ProgressFeed, Result, Segment,
    SegmentId, Sweep, Task, TaskCounters, TaskId, TimelineEntry, TimelineFilter,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

/// sqlx, re-exported: the errors of [`PgStore::connect`] and [`PgStore::migrate`]
/// (`punchlist_sqlx::sqlx::Error`, `punchlist_sqlx::sqlx::migrate::MigrateError`) and the
/// pool of [`PgStore::from_pool`], usable without a `sqlx` dependency of the host's own.
pub use sqlx;

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The name of the PostgreSQL schema a store keeps its tables in
/// ([`PoolConfig::with_schema`]).
///
/// A plain lowercase SQL identifier: 1 to 63 bytes of ASCII lowercase letters, digits and
/// underscores, not starting with a digit, and not starting with `pg_` (PostgreSQL keeps
/// that prefix for its own schemas). Uppercase is refused rather than folded: PostgreSQL
/// folds unquoted names to lowercase, so `Expo` would not be the schema `psql` shows as
/// `expo`. Anything else (spaces, quotes, semicolons, non-ASCII) is refused with an
/// [`InvalidSchemaName`], never spliced into SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaName(String);

/// Why a name was refused as a [`SchemaName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schema name {name:?}: {reason}")]
pub struct InvalidSchemaName {
    name: String,
    reason: &'static str,
}

impl InvalidSchemaName {
    /// The name that was refused.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with it, in words.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl SchemaName {
    /// The longest name PostgreSQL keeps whole (`NAMEDATALEN - 1`); longer ones it cuts.
    pub const MAX_LEN: usize = 63;

    /// Checks `name` (see [`SchemaName`] for the rule).
    pub fn new(name: impl Into<String>) -> std::result::Result<Self, InvalidSchemaName> {
        let name = name.into();
        let refuse = |reason| {
            Err(InvalidSchemaName {
                name: name.clone(),
                reason,
            })
        };
        let Some(first) = name.bytes().next() else {
            return refuse("it is empty");
        };
        if name.len() > Self::MAX_LEN {
            return refuse("it is longer than 63 bytes");
        }
        if first.is_ascii_digit() {
            return refuse("it starts with a digit");
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return refuse(
                "it has uppercase letters (PostgreSQL folds unquoted names to lowercase)",
            );
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return refuse("only lowercase ASCII letters, digits and underscores are allowed");
        }
        if name.starts_with("pg_") {
            return refuse("the prefix pg_ is reserved for PostgreSQL's own schemas");
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a quoted SQL identifier (it holds no quote to escape).
    pub(crate) fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl std::str::FromStr for SchemaName {
    type Err = InvalidSchemaName;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for SchemaName {
    type Error = InvalidSchemaName;

    fn try_from(s: &str) -> std::result::Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for SchemaName {
    type Error = InvalidSchemaName;

    fn try_from(s: String) -> std::result::Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl AsRef<str> for SchemaName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SchemaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Pool size, timeouts and schema, for [`PgStore::connect`].
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most connections in the pool. Each open live feed holds one of them for as long
    /// as it is open, so size the pool for the feeds too.
    pub max_connections: u32,
    /// How long a call waits for a free connection before failing with
    /// [`Error::Unavailable`].
    pub acquire_timeout: Duration,
    /// How long an idle connection is kept.
    pub idle_timeout: Option<Duration>,
    /// The schema the store's tables live in; `None` (the default) leaves the
    /// connection's `search_path` as the server and the URL set it (`public`, usually).
    /// With `Some`, [`PgStore::connect`] sets every connection's `search_path` to this
    /// schema alone, and [`PgStore::migrate`] creates it if missing. A pool the host
    /// builds itself ([`PgStore::from_pool`]) sets its own `search_path` instead.
    pub schema: Option<SchemaName>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            schema: None,
        }
    }
}

impl PoolConfig {
    /// This configuration with the store's tables in `schema` (see [`PoolConfig::schema`]).
    pub fn with_schema(mut self, schema: SchemaName) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The pool options for this configuration (size and timeouts; the schema is a
    /// connection option, which [`PgStore::connect`] adds).
    pub fn options(&self) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
    }

    /// `options` with this configuration's schema as the `search_path`.
    fn connect_options(&self, options: PgConnectOptions) -> PgConnectOptions {
        match &self.schema {
            // Appended after any options the URL carries, so it wins over a
            // `search_path` given there.
            Some(schema) => options.options([("search_path", schema.quoted())]),
            None => options,
        }
    }
}

/// The PostgreSQL store. Cheap to clone: clones share the pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// The schema named in the configuration, which `migrate` creates.
    schema: Option<SchemaName>,
    #[cfg(feature = "testkit")]
    _guard: Option<std::sync::Arc<testing::SchemaGuard>>,
}

impl PgStore {
    /// Connects to the database at `url` with a pool configured by `config`, in
    /// `config.schema` when it names one. Connecting checks the address and the
    /// credentials, not the schema: [`PgStore::migrate`] creates it.
    pub async fn connect(url: &str, config: PoolConfig) -> std::result::Result<Self, sqlx::Error> {
        let options = config.connect_options(url.parse()?);
        let pool = config.options().connect_with(options).await?;
        let mut store = Self::from_pool(pool);
        store.schema = config.schema;
        Ok(store)
    }

    /// A store over a pool the host built itself, in whatever schema its connections'
    /// `search_path` names.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            schema: None,
            #[cfg(feature = "testkit")]
            _guard: None,
        }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The schema given to [`PgStore::connect`] in [`PoolConfig::schema`], if any.
    pub fn schema(&self) -> Option<&SchemaName> {
        self.schema.as_ref()
    }

    /// Applies the embedded migrations that are not applied yet (harmless to repeat).
    ///
    /// With a [`PoolConfig::schema`], first creates that schema if it does not exist
    /// (a role that may not create schemas can use one made for it beforehand), and
    /// refuses to go on if the connections do not resolve names in it (a connection
    /// pooler that drops startup options, say), rather than migrating another schema.
    pub async fn migrate(&self) -> std::result::Result<(), sqlx::migrate::MigrateError> {
        if let Some(schema) = &self.schema {
            self.create_schema(schema).await?;
            let current: Option<String> = sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(&self.pool)
                .await?;
            if current.as_deref() != Some(schema.as_str()) {
                return Err(sqlx::Error::Configuration(
                    format!(
                        "the connections resolve names in schema {current:?}, not {:?}: \
                         their search_path option did not reach the server",
                        schema.as_str()
                    )
                    .into(),
                )
                .into());
            }
        }
        MIGRATOR.run(&self.pool).await
    }

    /// `CREATE SCHEMA IF NOT EXISTS`, asked only when it is missing (creating needs the
    /// `CREATE` privilege on the database even when the schema exists).
    async fn create_schema(&self, schema: &SchemaName) -> std::result::Result<(), sqlx::Error> {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(schema.as_str())
                .fetch_one(&self.pool)
                .await?;
        if exists {
            return Ok(());
        }
        let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted()))
            .execute(&self.pool)
            .await;
        match created {
            // Another instance created it at the same moment: `IF NOT EXISTS` does not
            // cover that race, the catalog's unique index reports it.
            Err(sqlx::Error::Database(db))
                if matches!(db.code().as_deref(), Some("23505" | "42P06")) =>
            {
                Ok(())
            }
            other => other.map(drop),
        }
    }
}

/// Maps a database error to the library's kinds: a unique violation, a serialization
/// failure or a deadlock is a conflict (the service retries); a pool timeout or a broken
/// connection is "unavailable"; the rest is a storage error. The source is kept.
pub fn map_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("23505") => Error::Conflict {
                entity: "row",
                id: db.constraint().unwrap_or("unique").to_owned(),
            },
            Some("40001" | "40P01") => Error::Conflict {
                entity: "transaction",
                id: "serialization".to_owned(),
            },
            Some(code) if code.starts_with("08") || code == "57P01" => Error::Unavailable {
                source: Box::new(e),
            },
            _ => Error::backend(e),
        },
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Error::Unavailable {
            source: Box::new(e),
        },
        _ => Error::backend(e),
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(Error::backend)
}

fn from_json<T: DeserializeOwned>(v: serde_json::Value) -> Result<T> {
    serde_json::from_value(v).map_err(Error::backend)
}

/// A `jsonb` column decoded straight into `T` (no intermediate `serde_json::Value`).
fn column<T: DeserializeOwned>(row: &sqlx::postgres::PgRow, name: &str) -> Result<T> {
    row.try_get::<Json<T>, _>(name)
        .map(|j| j.0)
        .map_err(Error::backend)
}

fn version(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(Error::backend)
}

fn subject_parts(subject: Subject) -> (i16, Uuid) {
    match subject {
        Subject::Event => (0, Uuid::nil()),
        Subject::Participant(p) => (1, p.as_uuid()),
        Subject::Task(t) => (2, t.as_uuid()),
        Subject::Segment(s) => (3, s.as_uuid()),
    }
}

/// The LISTEN/NOTIFY channel of an event's progress changes, as an SQL expression over `$1`
/// (the event id in 32 hex digits, `channel_event`): `punchlist_<event>_<schema oid>`.
/// Channels belong to the database, not to a schema, so the schema the connection resolves
/// names in (its oid: short, and unique in the database) is part of the name; otherwise a
/// store in another schema of the same database holding the same event id (a copy of the
/// event, say) would hear this one's changes. At most 53 bytes, under PostgreSQL's 63.
/// Computed by the server, on the connection, so notifier and listener agree whatever set
/// the `search_path` (this crate's option or the host's own pool).
macro_rules! channel_sql {
    () => {
        "'punchlist_' || $1 || '_' || COALESCE((SELECT oid::text FROM pg_namespace \
         WHERE nspname = current_schema()), '')"
    };
}

/// The event part of its channel's name (`channel_sql!`).
fn channel_event(event: EventId) -> String {
    event.as_uuid().simple().to_string()
}

/// The columns of a participant row computed from the record.
struct Derived {
    sort_name: String,
    sort_company: String,
    sort_email: String,
    search: String,
    categories: Vec<String>,
}

fn derived(p: &Participant) -> Derived {
    let pr = &p.profile;
    Derived {
        sort_name: MatrixSort::Name.key(p),
        sort_company: MatrixSort::Company.key(p),
        sort_email: MatrixSort::Email.key(p),
        search: [
            pr.first_name.as_str(),
            pr.last_name.as_str(),
            pr.company.as_str(),
            pr.email.as_deref().unwrap_or_default(),
        ]
        .map(str::to_lowercase)
        .join("\u{1f}"),
        categories: p.status.categories.iter().cloned().collect(),
    }
}

/// Loads participants' states by id (any order), with their progress rows, in one
/// statement, so a state and its rows come from the same snapshot.
async fn load_states<'c, E>(exec: E, event: EventId, ids: &[Uuid]) -> Result<Vec<ParticipantState>>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT p.version, p.record, p.facts, \
           COALESCE((SELECT jsonb_agg(g.body) FROM progress g \
                     WHERE g.event_id = p.event_id AND g.participant_id = p.participant_id), \
                    '[]'::jsonb) AS progress \
         FROM participants p \
         WHERE p.event_id = $1 AND p.participant_id IN (SELECT unnest($2::uuid[]))",
    )
    .bind(event.as_uuid())
    .bind(ids)
    .fetch_all(exec)
    .await
    .map_err(map_error)?;
    rows.into_iter()
        .map(|r| {
            let v: i64 = r.get("version");
            let progress: Vec<Progress> = column(&r, "progress")?;
            Ok(ParticipantState {
                participant: column(&r, "record")?,
                facts: column(&r, "facts")?,
                progress: progress.into_iter().map(|row| (row.task, row)).collect(),
                version: u64::try_from(v).map_err(Error::backend)?,
            })
        })
        .collect()
}

/// What the check reads, fetched (and locked) in the committing transaction.
#[derive(Default)]
struct Prefetched {
    event: Option<u64>,
    segments: HashMap<Uuid, u64>,
    tasks: HashMap<Uuid, u64>,
    participants: HashMap<Uuid, u64>,
    external: HashMap<String, Uuid>,
    host_events: HashSet<String>,
    outbox_keys: HashSet<String>,
}

impl StoredState for Prefetched {
    fn event_version(&mut self) -> Result<Option<u64>> {
        Ok(self.event)
    }
    fn segment_version(&mut self, id: SegmentId) -> Result<Option<u64>> {
        Ok(self.segments.get(&id.as_uuid()).copied())
    }
    fn task_version(&mut self, id: TaskId) -> Result<Option<u64>> {
        Ok(self.tasks.get(&id.as_uuid()).copied())
    }
    fn participant_version(&mut self, id: ParticipantId) -> Result<Option<u64>> {
        Ok(self.participants.get(&id.as_uuid()).copied())
    }
    fn external_id_owner(&mut self, id: &ExternalId) -> Result<Option<ParticipantId>> {
        Ok(self
            .external
            .get(id.as_str())
            .map(|u| ParticipantId::from_uuid(*u)))
    }
    fn host_event_seen(&mut self, id: &HostEventId) -> Result<bool> {
        Ok(self.host_events.contains(id.as_str()))
    }
    fn outbox_key_taken(&mut self, key: &str) -> Result<bool> {
        Ok(self.outbox_keys.contains(key))
    }
}

async fn versions(
    tx: &mut Transaction<'_, Postgres>,
    sql: &str,
    event: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(sql)
        .bind(event)
        .bind(ids)
        .fetch_all(&mut **tx)
        .await
        .map_err(map_error)?;
    rows.into_iter()
        .map(|r| {
            let v: i64 = r.get(1);
            Ok((r.get(0), u64::try_from(v).map_err(Error::backend)?))
        })
        .collect()
}

const HOST_EVENTS_TAKEN: &str = "SELECT host_event_id FROM host_events \
     WHERE event_id = $1 AND host_event_id IN (SELECT unnest($2::text[]))";
const OUTBOX_KEYS_TAKEN: &str = "SELECT idempotency_key FROM outbox \
     WHERE event_id = $1 AND idempotency_key IN (SELECT unnest($2::text[]))";

/// Which of the unique `values` `sql` finds already stored in the event (none asked, none
/// read).
async fn taken<'c, E>(exec: E, sql: &str, event: Uuid, values: &[String]) -> Result<Vec<String>>
where
    E: sqlx::Executor<'c, Database = Postgres>,
{
    if values.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(sql)
        .bind(event)
        .bind(values)
        .fetch_all(exec)
        .await
        .map_err(map_error)
}

/// Reads and locks what the check of `cs` needs.
async fn prefetch(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<Prefetched> {
    let ev = cs.event.as_uuid();
    // A configuration change locks the event row; every other change set holds it shared,
    // so none commits on a configuration that changes under it. `NO KEY` locks leave the
    // foreign-key checks of other writers free.
    let lock = if cs.event_record.is_some() {
        "FOR NO KEY UPDATE"
    } else {
        "FOR SHARE"
    };
    let event: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT version FROM events WHERE event_id = $1 {lock}"
    ))
    .bind(ev)
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_error)?;
    let segment_ids: Vec<Uuid> = cs
        .segments
        .iter()
        .map(|s| s.id.as_uuid())
        .chain(cs.deleted_segments.iter().map(|(s, _)| s.as_uuid()))
        .collect();
    let task_ids: Vec<Uuid> = cs
        .tasks
        .iter()
        .map(|t| t.id.as_uuid())
        .chain(cs.deleted_tasks.iter().map(|(t, _)| t.as_uuid()))
        .collect();
    let mut participant_ids: Vec<Uuid> = cs.participants.iter().map(|w| w.id.as_uuid()).collect();
    participant_ids.sort();
    let externals: Vec<String> = cs
        .participants
        .iter()
        .filter_map(|w| w.record.as_ref())
        .map(|r| r.external_id.to_string())
        .collect();
    let host_ids: Vec<String> = cs.host_events.iter().map(|h| h.to_string()).collect();
    let keys: Vec<String> = cs
        .outbox
        .iter()
        .map(|o| o.idempotency_key.clone())
        .collect();
    let mut p = Prefetched {
        event: event.map(u64::try_from).transpose().map_err(Error::backend)?,
        segments: versions(
            tx,
            "SELECT segment_id, version FROM segments WHERE event_id = $1 AND segment_id IN (SELECT unnest($2::uuid[])) ORDER BY segment_id FOR NO KEY UPDATE",
            ev,
            &segment_ids,
        )
        .await?,
        tasks: versions(
            tx,
            "SELECT task_id, version FROM tasks WHERE event_id = $1 AND task_id IN (SELECT unnest($2::uuid[])) ORDER BY task_id FOR NO KEY UPDATE",
            ev,
            &task_ids,
        )
        .await?,
        participants: versions(
            tx,
            "SELECT participant_id, version FROM participants WHERE event_id = $1 AND participant_id IN (SELECT unnest($2::uuid[])) ORDER BY participant_id FOR NO KEY UPDATE",
            ev,
            &participant_ids,
        )
        .await?,
        ..Prefetched::default()
    };
    if !externals.is_empty() {
        for r in sqlx::query(
            "SELECT external_id, participant_id FROM participants WHERE event_id = $1 AND external_id IN (SELECT unnest($2::text[]))",
        )
        .bind(ev)
        .bind(&externals)
        .fetch_all(&mut **tx)
        .await
        .map_err(map_error)?
        {
            p.external.insert(r.get(0), r.get(1));
        }
    }
    p.host_events = taken(&mut **tx, HOST_EVENTS_TAKEN, ev, &host_ids)
        .await?
        .into_iter()
        .collect();
    p.outbox_keys = taken(&mut **tx, OUTBOX_KEYS_TAKEN, ev, &keys)
        .await?
        .into_iter()
        .collect();
    Ok(p)
}

/// Progress rows of a change set, as columns for one `UNNEST` insert.
#[derive(Default)]
struct ProgressColumns<'a> {
    participant: Vec<Uuid>,
    task: Vec<Uuid>,
    targeted: Vec<bool>,
    status: Vec<&'static str>,
    assignee: Vec<Option<Uuid>>,
    body: Vec<Json<&'a Progress>>,
}

/// Writes a checked change set in the transaction: one statement per table for the rows
/// that come in numbers (facts-only participant updates, progress, timeline, history,
/// outbox), one per row for the rest.
async fn write(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    let ev = cs.event.as_uuid();
    macro_rules! exec {
        ($q:expr) => {
            $q.execute(&mut **tx).await.map_err(map_error)?
        };
    }
    // A versioned row is written only over its predecessor: the upsert's update applies
    // only `WHERE version = new - 1`, so a row created concurrently (both at version 1) or
    // a stale version affects no row, and that is a conflict, never an overwrite.
    macro_rules! exec_versioned {
        ($q:expr, $entity:expr, $id:expr) => {
            if $q
                .execute(&mut **tx)
                .await
                .map_err(map_error)?
                .rows_affected()
                != 1
            {
                return Err(Error::conflict($entity, $id));
            }
        };
    }
    if let Some(e) = &cs.event_record {
        exec_versioned!(
            sqlx::query(
                "INSERT INTO events (event_id, version, body) VALUES ($1, $2, $3) \
             ON CONFLICT (event_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body \
             WHERE events.version = EXCLUDED.version - 1"
            )
            .bind(ev)
            .bind(version(e.version)?)
            .bind(to_json(e)?),
            EventId::ENTITY,
            cs.event
        );
    }
    for s in &cs.segments {
        exec_versioned!(sqlx::query(
            "INSERT INTO segments (event_id, segment_id, version, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id, segment_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body \
             WHERE segments.version = EXCLUDED.version - 1"
        )
        .bind(ev)
        .bind(s.id.as_uuid())
        .bind(version(s.version)?)
        .bind(to_json(s)?), SegmentId::ENTITY, s.id);
    }
    for t in &cs.tasks {
        exec_versioned!(sqlx::query(
            "INSERT INTO tasks (event_id, task_id, version, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id, task_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body \
             WHERE tasks.version = EXCLUDED.version - 1"
        )
        .bind(ev)
        .bind(t.id.as_uuid())
        .bind(version(t.version)?)
        .bind(to_json(t)?), TaskId::ENTITY, t.id);
    }
    for (id, _) in &cs.deleted_tasks {
        exec!(
            sqlx::query("DELETE FROM tasks WHERE event_id = $1 AND task_id = $2")
                .bind(ev)
                .bind(id.as_uuid())
        );
    }
    for (id, _) in &cs.deleted_segments {
        exec!(
            sqlx::query("DELETE FROM segments WHERE event_id = $1 AND segment_id = $2")
                .bind(ev)
                .bind(id.as_uuid())
        );
    }
    // Owners before their collaborators, so the owner foreign key holds for new rows.
    let mut writes: Vec<_> = cs.participants.iter().collect();
    writes.sort_by_key(|w| w.record.as_ref().is_some_and(|r| r.owner.is_some()));
    // Facts-only writes, as columns: ids, new versions, facts (when they changed).
    let mut bumps = (Vec::new(), Vec::new(), Vec::<Option<Json<&Facts>>>::new());
    let mut rows = ProgressColumns::default();
    for w in writes {
        let pid = w.id.as_uuid();
        match &w.record {
            Some(r) => {
                let d = derived(r);
                let facts = match &w.facts {
                    Some(f) => to_json(f)?,
                    None => to_json(&Facts::default())?,
                };
                exec_versioned!(sqlx::query(
                    "INSERT INTO participants (event_id, participant_id, version, external_id, owner_id, \
                       sort_name, sort_company, sort_email, search, categories, record, facts) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (event_id, participant_id) DO UPDATE SET version = EXCLUDED.version, \
                       external_id = EXCLUDED.external_id, owner_id = EXCLUDED.owner_id, \
                       sort_name = EXCLUDED.sort_name, sort_company = EXCLUDED.sort_company, \
                       sort_email = EXCLUDED.sort_email, search = EXCLUDED.search, \
                       categories = EXCLUDED.categories, record = EXCLUDED.record, \
                       facts = CASE WHEN $13 THEN EXCLUDED.facts ELSE participants.facts END \
                     WHERE participants.version = EXCLUDED.version - 1"
                )
                .bind(ev)
                .bind(pid)
                .bind(version(w.version)?)
                .bind(r.external_id.as_str())
                .bind(r.owner.map(|o| o.as_uuid()))
                .bind(d.sort_name)
                .bind(d.sort_company)
                .bind(d.sort_email)
                .bind(d.search)
                .bind(d.categories)
                .bind(to_json(r)?)
                .bind(facts)
                .bind(w.facts.is_some()), ParticipantId::ENTITY, w.id);
            }
            None => {
                // Batched below: one statement for every facts-only write.
                bumps.0.push(pid);
                bumps.1.push(version(w.version)?);
                bumps.2.push(w.facts.as_ref().map(Json));
            }
        }
        for row in &w.progress {
            rows.participant.push(pid);
            rows.task.push(row.task.as_uuid());
            rows.targeted.push(row.targeted);
            rows.status.push(row.status.as_str());
            rows.assignee.push(row.assignee.map(|a| a.as_uuid()));
            rows.body.push(Json(row));
        }
    }
    if !bumps.0.is_empty() {
        let n = bumps.0.len() as u64;
        let (ids, versions, facts) = bumps;
        let updated = sqlx::query(
            "UPDATE participants p SET version = u.version, facts = COALESCE(u.facts, p.facts) \
             FROM unnest($2::uuid[], $3::bigint[], $4::jsonb[]) AS u(id, version, facts) \
             WHERE p.event_id = $1 AND p.participant_id = u.id AND p.version = u.version - 1",
        )
        .bind(ev)
        .bind(&ids)
        .bind(&versions)
        .bind(&facts)
        .execute(&mut **tx)
        .await
        .map_err(map_error)?
        .rows_affected();
        if updated != n {
            return Err(Error::conflict(
                ParticipantId::ENTITY,
                "a participant changed meanwhile",
            ));
        }
    }
    if !rows.task.is_empty() {
        exec!(sqlx::query(
            "INSERT INTO progress (event_id, participant_id, task_id, targeted, status, assignee_id, body) \
             SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::bool[], $5::text[], $6::uuid[], $7::jsonb[]) \
             ON CONFLICT (event_id, participant_id, task_id) DO UPDATE SET targeted = EXCLUDED.targeted, \
               status = EXCLUDED.status, assignee_id = EXCLUDED.assignee_id, body = EXCLUDED.body"
        )
        .bind(ev)
        .bind(&rows.participant)
        .bind(&rows.task)
        .bind(&rows.targeted)
        .bind(&rows.status)
        .bind(&rows.assignee)
        .bind(&rows.body));
    }
    if !cs.host_events.is_empty() {
        let ids: Vec<String> = cs.host_events.iter().map(|h| h.to_string()).collect();
        exec!(
            sqlx::query(
                "INSERT INTO host_events (event_id, host_event_id) SELECT $1, unnest($2::text[])"
            )
            .bind(ev)
            .bind(ids)
        );
    }
    if !cs.timeline.is_empty() {
        let participants: Vec<Uuid> = cs
            .timeline
            .iter()
            .map(|t| t.participant.as_uuid())
            .collect();
        let ids: Vec<Uuid> = cs.timeline.iter().map(|t| t.id.as_uuid()).collect();
        let kinds: Vec<&str> = cs
            .timeline
            .iter()
            .map(|t| t.kind.action_kind().as_str())
            .collect();
        let bodies: Vec<Json<&TimelineEntry>> = cs.timeline.iter().map(Json).collect();
        exec!(
            sqlx::query(
                "INSERT INTO timeline (event_id, participant_id, entry_id, kind, body) \
             SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::jsonb[])"
            )
            .bind(ev)
            .bind(&participants)
            .bind(&ids)
            .bind(&kinds)
            .bind(&bodies)
        );
    }
    if !cs.history.is_empty() {
        let (kinds, subjects): (Vec<i16>, Vec<Uuid>) =
            cs.history.iter().map(|h| subject_parts(h.subject)).unzip();
        let ids: Vec<Uuid> = cs.history.iter().map(|h| h.id.as_uuid()).collect();
        let bodies: Vec<Json<&HistoryEntry>> = cs.history.iter().map(Json).collect();
        exec!(
            sqlx::query(
                "INSERT INTO history (event_id, subject_kind, subject_id, line_id, body) \
             SELECT $1, * FROM unnest($2::smallint[], $3::uuid[], $4::uuid[], $5::jsonb[]) \
             ON CONFLICT (event_id, subject_kind, subject_id, line_id) DO UPDATE SET body = EXCLUDED.body"
            )
            .bind(ev)
            .bind(&kinds)
            .bind(&subjects)
            .bind(&ids)
            .bind(&bodies)
        );
    }
    if !cs.messages.is_empty() {
        let participants: Vec<Uuid> = cs
            .messages
            .iter()
            .map(|m| m.participant.as_uuid())
            .collect();
        let ids: Vec<Uuid> = cs.messages.iter().map(|m| m.id.as_uuid()).collect();
        let bodies: Vec<Json<&Message>> = cs.messages.iter().map(Json).collect();
        exec!(
            sqlx::query(
                "INSERT INTO messages (event_id, participant_id, message_id, body) \
             SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::jsonb[]) \
             ON CONFLICT (event_id, participant_id, message_id) DO UPDATE SET body = EXCLUDED.body"
            )
            .bind(ev)
            .bind(&participants)
            .bind(&ids)
            .bind(&bodies)
        );
    }
    if !cs.outbox.is_empty() {
        let ids: Vec<Uuid> = cs.outbox.iter().map(|o| o.id.as_uuid()).collect();
        let keys: Vec<&str> = cs
            .outbox
            .iter()
            .map(|o| o.idempotency_key.as_str())
            .collect();
        let bodies: Vec<Json<&OutboxEntry>> = cs.outbox.iter().map(Json).collect();
        let states: Vec<&str> = cs.outbox.iter().map(|o| o.state.as_str()).collect();
        let due: Vec<Option<DateTime<Utc>>> = cs.outbox.iter().map(|o| o.due_at()).collect();
        exec!(
            sqlx::query(
                "INSERT INTO outbox (event_id, outbox_id, idempotency_key, body, state, due_at) \
             SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[])"
            )
            .bind(ev)
            .bind(&ids)
            .bind(&keys)
            .bind(&bodies)
            .bind(&states)
            .bind(&due)
        );
    }
    if !cs.deleted_outbox.is_empty() {
        let ids: Vec<Uuid> = cs.deleted_outbox.iter().map(|o| o.as_uuid()).collect();
        exec!(
            sqlx::query(
                "DELETE FROM outbox WHERE event_id = $1 AND outbox_id IN (SELECT unnest($2::uuid[]))"
            )
            .bind(ev)
            .bind(&ids)
        );
    }
    for s in &cs.sweeps {
        if s.after.is_none() {
            exec!(
                sqlx::query(
                    "INSERT INTO sweeps (event_id, sweep_id, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (event_id, sweep_id) DO UPDATE SET body = EXCLUDED.body"
                )
                .bind(ev)
                .bind(s.id.as_uuid())
                .bind(to_json(s)?)
            );
        } else {
            exec!(
                sqlx::query("UPDATE sweeps SET body = $3 WHERE event_id = $1 AND sweep_id = $2")
                    .bind(ev)
                    .bind(s.id.as_uuid())
                    .bind(to_json(s)?)
            );
        }
    }
    for id in &cs.finished_sweeps {
        exec!(
            sqlx::query("DELETE FROM sweeps WHERE event_id = $1 AND sweep_id = $2")
                .bind(ev)
                .bind(id.as_uuid())
        );
    }
    if !cs.counters.is_empty() {
        // Deltas are added, never overwritten, so concurrent writers commute; a counter
        // back at zero is removed, as the other stores do.
        let tasks: Vec<Uuid> = cs.counters.keys().map(|t| t.as_uuid()).collect();
        let targeted: Vec<i64> = cs.counters.values().map(|d| d.targeted).collect();
        let done: Vec<i64> = cs.counters.values().map(|d| d.done).collect();
        let review: Vec<i64> = cs.counters.values().map(|d| d.awaiting_review).collect();
        exec!(sqlx::query(
            "INSERT INTO counters (event_id, task_id, targeted, done, awaiting_review) \
             SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[]) \
             ON CONFLICT (event_id, task_id) DO UPDATE SET targeted = counters.targeted + EXCLUDED.targeted, \
               done = counters.done + EXCLUDED.done, awaiting_review = counters.awaiting_review + EXCLUDED.awaiting_review"
        )
        .bind(ev)
        .bind(&tasks)
        .bind(&targeted)
        .bind(&done)
        .bind(&review));
        exec!(
            sqlx::query(
                "DELETE FROM counters WHERE event_id = $1 AND task_id IN (SELECT unnest($2::uuid[])) \
                 AND targeted = 0 AND done = 0 AND awaiting_review = 0"
            )
            .bind(ev)
            .bind(&tasks)
        );
    }
    if !cs.progress_changes.is_empty() {
        let payloads = cs
            .progress_changes
            .iter()
            .map(|c| serde_json::to_string(c).map_err(Error::backend))
            .collect::<Result<Vec<_>>>()?;
        exec!(
            sqlx::query(concat!(
                "SELECT pg_notify(",
                channel_sql!(),
                ", p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n"
            ))
            .bind(channel_event(cs.event))
            .bind(payloads)
        );
    }
    Ok(())
}

/// Rewrites outbox entries (body, state, due time) in the transaction.
async fn put_outbox(tx: &mut Transaction<'_, Postgres>, entries: &[OutboxEntry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let events: Vec<Uuid> = entries.iter().map(|o| o.event.as_uuid()).collect();
    let ids: Vec<Uuid> = entries.iter().map(|o| o.id.as_uuid()).collect();
    let bodies: Vec<Json<&OutboxEntry>> = entries.iter().map(Json).collect();
    let states: Vec<&str> = entries.iter().map(|o| o.state.as_str()).collect();
    let due: Vec<Option<DateTime<Utc>>> = entries.iter().map(|o| o.due_at()).collect();
    sqlx::query(
        "UPDATE outbox o SET body = u.body, state = u.state, due_at = u.due_at \
         FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[], $4::text[], $5::timestamptz[]) \
           AS u(event_id, outbox_id, body, state, due_at) \
         WHERE o.event_id = u.event_id AND o.outbox_id = u.outbox_id",
    )
    .bind(&events)
    .bind(&ids)
    .bind(&bodies)
    .bind(&states)
    .bind(&due)
    .execute(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(())
}

/// Reads and locks outbox entries by (event, id).
async fn lock_outbox(
    tx: &mut Transaction<'_, Postgres>,
    keys: &[(EventId, OutboxId)],
) -> Result<Vec<OutboxEntry>> {
    let events: Vec<Uuid> = keys.iter().map(|(e, _)| e.as_uuid()).collect();
    let ids: Vec<Uuid> = keys.iter().map(|(_, o)| o.as_uuid()).collect();
    let rows: Vec<Json<OutboxEntry>> = sqlx::query_scalar(
        "SELECT body FROM outbox WHERE (event_id, outbox_id) IN \
           (SELECT * FROM unnest($1::uuid[], $2::uuid[])) \
         ORDER BY event_id, outbox_id FOR UPDATE",
    )
    .bind(&events)
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}

#[cfg(feature = "testkit")]
impl PgStore {
    /// The plan of a matrix page, as `EXPLAIN` prints it (`generic`: the generic plan of
    /// the prepared statement). For tests of the query plans.
    pub async fn explain_matrix(
        &self,
        event: EventId,
        query: &MatrixQuery,
        generic: bool,
    ) -> Result<String> {
        matrix::explain(&self.pool, event, query, generic).await
    }

    /// Another store over the same database and schema, on a pool of its own (as another
    /// host instance would have).
    pub async fn sibling(&self, config: PoolConfig) -> std::result::Result<Self, sqlx::Error> {
        let options = (*self.pool.connect_options()).clone();
        let pool = config.options().connect_with(options).await?;
        Ok(Self {
            pool,
            schema: self.schema.clone(),
            _guard: self._guard.clone(),
        })
    }
}

impl PgStore {
    async fn bodies<T: DeserializeOwned + Send + Unpin + 'static>(
        &self,
        sql: &str,
        event: EventId,
    ) -> Result<Vec<T>> {
        let rows: Vec<Json<T>> = sqlx::query_scalar(sql)
            .bind(event.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(rows.into_iter().map(|j| j.0).collect())
    }
}

#[async_trait]
impl EventStore for PgStore {
    async fn event_config(&self, event: EventId) -> Result<Option<std::sync::Arc<EventConfig>>> {
        let Some(record) = self.event(event).await? else {
            return Ok(None);
        };
        let tasks = self.tasks(event).await?;
        let segments = self.segments(event).await?;
        Ok(event_config_from(Some(record), tasks, segments))
    }

    async fn apply(&self, changes: ChangeSet) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        let mut stored = prefetch(&mut tx, &changes).await?;
        check(&changes, &mut stored)?;
        write(&mut tx, &changes).await?;
        tx.commit().await.map_err(map_error)
    }

    async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(map_error)?;
        // Named by the server on the listener's own connection, as the notifier does.
        let channel: String = sqlx::query_scalar(concat!("SELECT ", channel_sql!()))
            .bind(channel_event(event))
            .fetch_one(&mut listener)
            .await
            .map_err(map_error)?;
        listener.listen(&channel).await.map_err(map_error)?;
        // `try_recv` tells when the connection dropped (notifications sent meanwhile are
        // lost): that is reported as an `Err` item, then the listener reconnects and the
        // stream goes on. A plain `recv` would reconnect silently.
        Ok(
            futures::stream::unfold(listener, |mut listener| async move {
                let item = match listener.try_recv().await {
                    Ok(Some(n)) => {
                        serde_json::from_str::<ProgressChange>(n.payload()).map_err(Error::backend)
                    }
                    Ok(None) => Err(Error::Unavailable {
                        source: "the live feed's connection dropped; changes may have been missed"
                            .into(),
                    }),
                    Err(e) => Err(map_error(e)),
                };
                Some((item, listener))
            })
            .boxed(),
        )
    }
}

#[async_trait]
impl ParticipantStore for PgStore {
    async fn participants_by_id(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<ParticipantState>> {
        let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        load_states(&self.pool, event, &ids).await
    }

    async fn participant_records(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>> {
        let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
        let rows: Vec<Json<Participant>> = sqlx::query_scalar(
            "SELECT record FROM participants \
             WHERE event_id = $1 AND participant_id IN (SELECT unnest($2::uuid[]))",
        )
        .bind(event.as_uuid())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows.into_iter().map(|j| j.0).collect())
    }

    async fn participant_by_external_id(
        &self,
        event: EventId,
        external_id: &ExternalId,
    ) -> Result<Option<ParticipantId>> {
        let id: Option<Uuid> = sqlx::query_scalar(
            "SELECT participant_id FROM participants WHERE event_id = $1 AND external_id = $2",
        )
        .bind(event.as_uuid())
        .bind(external_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(id.map(ParticipantId::from_uuid))
    }

    async fn participants(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantState>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT participant_id FROM participants WHERE event_id = $1 AND participant_id > $2 \
             ORDER BY participant_id LIMIT $3",
        )
        .bind(event.as_uuid())
        .bind(after.map_or(Uuid::nil(), |a| a.as_uuid()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        let mut states = load_states(&self.pool, event, &ids).await?;
        states.sort_by_key(|s| s.participant.id);
        Ok(states)
    }

    async fn collaborators(
        &self,
        event: EventId,
        owner: ParticipantId,
    ) -> Result<Vec<ParticipantId>> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT participant_id FROM participants WHERE event_id = $1 AND owner_id = $2 ORDER BY participant_id",
        )
        .bind(event.as_uuid())
        .bind(owner.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(ids.into_iter().map(ParticipantId::from_uuid).collect())
    }

    async fn assigned_to(&self, event: EventId, assignee: ParticipantId) -> Result<Vec<Progress>> {
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT body FROM progress WHERE event_id = $1 AND assignee_id = $2 ORDER BY participant_id, task_id",
        )
        .bind(event.as_uuid())
        .bind(assignee.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(from_json).collect()
    }

    async fn ingested(&self, event: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>> {
        let wanted: Vec<String> = ids.iter().map(|h| h.to_string()).collect();
        taken(&self.pool, HOST_EVENTS_TAKEN, event.as_uuid(), &wanted)
            .await?
            .into_iter()
            .map(HostEventId::new)
            .collect()
    }
}

#[async_trait]
impl TrackingStore for PgStore {
    async fn matrix(&self, event: EventId, query: &MatrixQuery) -> Result<Vec<ParticipantState>> {
        matrix::page(&self.pool, event, query).await
    }

    async fn task_counters(&self, event: EventId) -> Result<BTreeMap<TaskId, TaskCounters>> {
        let rows = sqlx::query(
            "SELECT task_id, targeted, done, awaiting_review FROM counters WHERE event_id = $1",
        )
        .bind(event.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    TaskId::from_uuid(r.get(0)),
                    TaskCounters {
                        targeted: r.get(1),
                        done: r.get(2),
                        awaiting_review: r.get(3),
                    },
                )
            })
            .collect())
    }

    async fn sweeps(&self, event: EventId) -> Result<Vec<Sweep>> {
        self.bodies(
            "SELECT body FROM sweeps WHERE event_id = $1 ORDER BY sweep_id",
            event,
        )
        .await
    }
}

#[async_trait]
impl RecordStore for PgStore {
    async fn timeline(
        &self,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        let (lower, upper) = filter.id_range();
        if lower >= upper {
            return Ok(Vec::new());
        }
        // Walks the primary key (event, participant, entry) downwards from `upper`, so a
        // page's cost does not depend on its depth; the kind is a filter on the rows
        // walked (a rare kind reads past the others).
        let rows: Vec<Json<TimelineEntry>> = sqlx::query_scalar(
            "SELECT body FROM timeline WHERE event_id = $1 AND participant_id = $2 \
             AND entry_id >= $3 AND entry_id < $4 AND ($5::text[] IS NULL OR kind = ANY($5)) \
             ORDER BY entry_id DESC LIMIT $6",
        )
        .bind(event.as_uuid())
        .bind(participant.as_uuid())
        .bind(lower.as_uuid())
        .bind(upper.as_uuid())
        .bind(filter.kind_names())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows.into_iter().map(|Json(e)| e).collect())
    }

    async fn history(
        &self,
        event: EventId,
        subject: Subject,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let (kind, id) = subject_parts(subject);
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT body FROM history WHERE event_id = $1 AND subject_kind = $2 AND subject_id = $3 \
             AND line_id < $4 ORDER BY line_id DESC LIMIT $5",
        )
        .bind(event.as_uuid())
        .bind(kind)
        .bind(id)
        .bind(before.map_or(Uuid::max(), |b| b.as_uuid()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        rows.into_iter().map(from_json).collect()
    }

    async fn messages(
        &self,
        event: EventId,
        participant: ParticipantId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let rows: Vec<Json<Message>> = sqlx::query_scalar(
            "SELECT body FROM messages WHERE event_id = $1 AND participant_id = $2 \
             AND message_id < $3 ORDER BY message_id DESC LIMIT $4",
        )
        .bind(event.as_uuid())
        .bind(participant.as_uuid())
        .bind(before.map_or(Uuid::max(), |b| b.as_uuid()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(rows.into_iter().map(|Json(m)| m).collect())
    }
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn outbox(
        &self,
        event: EventId,
        filter: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        // The state is a literal, so a filter on dead letters uses their partial index;
        // recipient and kind are read from the body.
        let state = match filter.state {
            None => "",
            Some(OutboxState::Pending) => "AND state = 'pending' ",
            Some(OutboxState::Sent) => "AND state = 'sent' ",
            Some(OutboxState::Dead) => "AND state = 'dead' ",
            Some(_) => return Ok(Vec::new()),
        };
        let sql = format!(
            "SELECT body FROM outbox WHERE event_id = $1 AND outbox_id > $2 {state}\
             AND ($3::text IS NULL OR body->>'recipient' = $3) \
             AND ($4::text IS NULL OR body->'message'->>'kind' = $4) \
             ORDER BY outbox_id LIMIT $5"
        );
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(&sql)
            .bind(event.as_uuid())
            .bind(after.map_or(Uuid::nil(), |a| a.as_uuid()))
            .bind(filter.recipient.map(|r| r.to_string()))
            .bind(filter.kind.map(|k| k.as_str()))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        rows.into_iter().map(from_json).collect()
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        // `SKIP LOCKED`: dispatchers claiming at the same time take different entries
        // instead of queueing behind each other's locks.
        let rows: Vec<Json<OutboxEntry>> = sqlx::query_scalar(
            "SELECT body FROM outbox WHERE due_at <= $1 ORDER BY due_at LIMIT $2 \
             FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_error)?;
        let mut claimed: Vec<OutboxEntry> = rows.into_iter().map(|j| j.0).collect();
        for entry in &mut claimed {
            entry.lease_to(owner, lease_until);
        }
        put_outbox(&mut tx, &claimed).await?;
        tx.commit().await.map_err(map_error)?;
        Ok(claimed)
    }

    async fn release_outbox(
        &self,
        owner: &str,
        entries: Vec<OutboxEntry>,
    ) -> Result<Vec<OutboxId>> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        let keys: Vec<_> = entries.iter().map(|e| (e.event, e.id)).collect();
        let held: HashSet<(EventId, OutboxId)> = lock_outbox(&mut tx, &keys)
            .await?
            .into_iter()
            .filter(|e| e.is_held_by(owner))
            .map(|e| (e.event, e.id))
            .collect();
        let mine: Vec<OutboxEntry> = entries
            .into_iter()
            .filter(|e| held.contains(&(e.event, e.id)))
            .collect();
        put_outbox(&mut tx, &mine).await?;
        tx.commit().await.map_err(map_error)?;
        Ok(mine.into_iter().map(|e| e.id).collect())
    }

    async fn requeue_dead(
        &self,
        event: EventId,
        ids: &[OutboxId],
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxId>> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        let keys: Vec<_> = ids.iter().map(|id| (event, *id)).collect();
        let mut dead: Vec<OutboxEntry> = lock_outbox(&mut tx, &keys)
            .await?
            .into_iter()
            .filter(|e| e.state == OutboxState::Dead)
            .collect();
        for entry in &mut dead {
            entry.requeue(now);
        }
        put_outbox(&mut tx, &dead).await?;
        tx.commit().await.map_err(map_error)?;
        Ok(dead.into_iter().map(|e| e.id).collect())
    }
}

impl PgStore {
    async fn event(&self, id: EventId) -> Result<Option<Event>> {
        let body: Option<serde_json::Value> =
            sqlx::query_scalar("SELECT body FROM events WHERE event_id = $1")
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_error)?;
        body.map(from_json).transpose()
    }

    async fn segments(&self, event: EventId) -> Result<Vec<Segment>> {
        self.bodies(
            "SELECT body FROM segments WHERE event_id = $1 ORDER BY segment_id",
            event,
        )
        .await
    }

    async fn tasks(&self, event: EventId) -> Result<Vec<Task>> {
        self.bodies(
            "SELECT body FROM tasks WHERE event_id = $1 ORDER BY task_id",
            event,
        )
        .await
    }
}

#[cfg(feature = "testkit")]
#[async_trait]
impl punchlist::store::DumpStore for PgStore {
    async fn dump(&self, event: EventId) -> Result<punchlist::store::EventDump> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT participant_id FROM participants WHERE event_id = $1")
                .bind(event.as_uuid())
                .fetch_all(&self.pool)
                .await
                .map_err(map_error)?;
        let host_events: Vec<String> =
            sqlx::query_scalar("SELECT host_event_id FROM host_events WHERE event_id = $1")
                .bind(event.as_uuid())
                .fetch_all(&self.pool)
                .await
                .map_err(map_error)?;
        Ok(punchlist::store::EventDump {
            event: self.event(event).await?,
            segments: self.segments(event).await?,
            tasks: self.tasks(event).await?,
            participants: load_states(&self.pool, event, &ids).await?,
            host_events: host_events
                .into_iter()
                .map(HostEventId::new)
                .collect::<Result<_>>()?,
            timeline: self
                .bodies("SELECT body FROM timeline WHERE event_id = $1", event)
                .await?,
            history: self
                .bodies("SELECT body FROM history WHERE event_id = $1", event)
                .await?,
            messages: self
                .bodies("SELECT body FROM messages WHERE event_id = $1", event)
                .await?,
            outbox: self
                .bodies("SELECT body FROM outbox WHERE event_id = $1", event)
                .await?,
            sweeps: self.sweeps(event).await?,
            counters: self.task_counters(event).await?,
        }
        .canonical())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_lowercase_identifiers() {
        for ok in ["expo", "expo_2026", "_private", "a", &"x".repeat(63)] {
            let name = SchemaName::new(ok).unwrap();
            assert_eq!(name.as_str(), ok);
            assert_eq!(name.quoted(), format!("\"{ok}\""));
            assert_eq!(ok.parse::<SchemaName>().unwrap(), name);
        }
        for bad in [
            "",
            "bad; drop",
            "bad\"; DROP SCHEMA public CASCADE; --",
            "2026_expo",
            "Expo",
            "expo-2026",
            "expo 2026",
            "expo.events",
            "pg_expo",
            "zoë",
            "expo\0",
            &"x".repeat(64),
        ] {
            let err = SchemaName::new(bad).expect_err(bad);
            assert_eq!(err.name(), bad);
            assert!(err.to_string().contains(err.reason()), "{err}");
            assert!(SchemaName::try_from(bad).is_err());
            assert!(SchemaName::try_from(bad.to_owned()).is_err());
        }
    }

    #[test]
    fn the_schema_is_the_connections_search_path() {
        let url = "postgres://app@db.internal/shared?options=-c%20statement_timeout%3D5s";
        let plain = PoolConfig::default().connect_options(url.parse().unwrap());
        assert_eq!(plain.get_options(), Some("-c statement_timeout=5s"));
        let config = PoolConfig::default().with_schema(SchemaName::new("expo").unwrap());
        let options = config.connect_options(url.parse().unwrap());
        assert_eq!(
            options.get_options(),
            Some("-c statement_timeout=5s -c search_path=\"expo\"")
        );
    }
}
