//! Test helpers (feature `testkit`): a store in a schema of its own, dropped afterwards,
//! so tests run in parallel on one database and leave nothing behind; a sibling store on a
//! pool of its own; the plans of the matrix's queries.

use std::time::Duration;

use punchlist::{EventId, MatrixQuery};
use sqlx::Executor;

use crate::{PgStore, PoolConfig, SchemaName, matrix};

/// The environment variable the tests read the database address from.
pub const DATABASE_URL: &str = "DATABASE_URL";
/// When set to `1`, a missing `DATABASE_URL` fails the tests instead of skipping them.
pub const REQUIRE_DATABASE: &str = "PUNCHLIST_REQUIRE_DATABASE";

/// Drops its schema when the last store clone holding it is dropped.
#[derive(Debug)]
pub struct SchemaGuard {
    url: String,
    schema: SchemaName,
}

impl SchemaGuard {
    /// A guard that drops `schema` (with everything in it) from the database at `url`
    /// when it is dropped, however the test ends.
    pub fn new(url: impl Into<String>, schema: SchemaName) -> Self {
        Self {
            url: url.into(),
            schema,
        }
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.quoted());
        // Drop runs outside any async context we can await in: use a thread of its own.
        let done = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::Connection::connect(&url).await {
                    let conn: &mut sqlx::PgConnection = &mut conn;
                    let _ = conn
                        .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
                        .await;
                }
            });
        });
        let _ = done.join();
    }
}

/// The database address for tests: `Some` when `DATABASE_URL` is set; `None` (with a line
/// saying the test was skipped) when not; a panic when `PUNCHLIST_REQUIRE_DATABASE=1`.
pub fn database_url(test: &str) -> Option<String> {
    match std::env::var(DATABASE_URL) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var(REQUIRE_DATABASE).as_deref() == Ok("1") {
                panic!("{test}: DATABASE_URL is not set and PUNCHLIST_REQUIRE_DATABASE=1");
            }
            // Straight to the stderr handle: the test harness captures `eprintln!`, and a
            // skip must be visible.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: set DATABASE_URL to run it against PostgreSQL"
            );
            None
        }
    }
}

/// A schema name no one has used: `prefix`, an underscore and 32 hex digits of a v7 uuid
/// (the time and random bits), so never a leftover of an earlier run. Refused when
/// `prefix` makes an invalid name (see [`SchemaName`]; at most 30 bytes).
pub fn fresh_schema(prefix: &str) -> Result<SchemaName, crate::InvalidSchemaName> {
    #[expect(
        clippy::disallowed_methods,
        reason = "a test schema's name, not a domain id: no clock of the library's involved"
    )]
    let unique = uuid::Uuid::now_v7().simple();
    SchemaName::new(format!("{prefix}_{unique}"))
}

/// A migrated store in a new schema of the database at `url`, dropped with the store.
///
/// The schema is made the way a host makes one ([`PoolConfig::with_schema`], then
/// [`PgStore::migrate`] creates it), on a pool that waits at least 10 s for a connection.
pub async fn isolated_store(url: &str, config: PoolConfig) -> PgStore {
    let schema = fresh_schema("punchlist_test").expect("a valid schema name");
    let config = PoolConfig {
        acquire_timeout: config.acquire_timeout.max(Duration::from_secs(10)),
        ..config
    }
    .with_schema(schema.clone());
    let mut store = PgStore::connect(url, config)
        .await
        .expect("connect the test pool to DATABASE_URL");
    store._guard = Some(std::sync::Arc::new(SchemaGuard::new(url, schema.clone())));
    store.migrate().await.expect("migrate the test schema");
    store
}

impl PgStore {
    /// The plan of a matrix page, as `EXPLAIN` prints it (`generic`: the generic plan of
    /// the prepared statement). For tests of the query plans.
    pub async fn explain_matrix(
        &self,
        event: EventId,
        query: &MatrixQuery,
        generic: bool,
    ) -> punchlist::Result<String> {
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
