//! Test helpers (feature `testkit`): a store in a schema of its own, dropped afterwards,
//! so tests run in parallel on one database and leave nothing behind.

use std::time::Duration;

use sqlx::Executor;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{PgStore, PoolConfig};

/// The environment variable the tests read the database address from.
pub const DATABASE_URL: &str = "DATABASE_URL";
/// When set to `1`, a missing `DATABASE_URL` fails the tests instead of skipping them.
pub const REQUIRE_DATABASE: &str = "PUNCHLIST_REQUIRE_DATABASE";

/// Drops its schema when the last store clone holding it is dropped.
#[derive(Debug)]
pub struct SchemaGuard {
    url: String,
    schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
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
                        .execute(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE").as_str())
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

/// A migrated store in a new schema of the database at `url`, dropped with the store.
pub async fn isolated_store(url: &str, config: PoolConfig) -> PgStore {
    let schema = format!("punchlist_test_{}", uuid_like());
    {
        let mut conn: sqlx::PgConnection = sqlx::Connection::connect(url)
            .await
            .expect("connect to DATABASE_URL");
        conn.execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
            .await
            .expect("create the test schema");
    }
    let options: PgConnectOptions = url.parse().expect("DATABASE_URL is a postgres URL");
    let options = options.options([("search_path", schema.as_str())]);
    let pool = PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout.max(Duration::from_secs(10)))
        .connect_with(options)
        .await
        .expect("connect the test pool");
    let mut store = PgStore::from_pool(pool);
    store._schema = Some(std::sync::Arc::new(SchemaGuard {
        url: url.to_owned(),
        schema,
    }));
    store.migrate().await.expect("migrate the test schema");
    store
}

/// A suffix unique on this machine: the process id and a counter.
fn uuid_like() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}_{n}", std::process::id())
}
