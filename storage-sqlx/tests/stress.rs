//! Stress on PostgreSQL, in a schema of its own: 16 concurrent clients, random
//! mixed operations, a bounded number of them; nothing acknowledged is lost, only typed
//! refusals occur, and every invariant holds afterwards. Prints the operations per second.

use std::io::Write;
use std::sync::Arc;

use punchlist_sqlx::PoolConfig;
use punchlist_sqlx::testing::{database_url, isolated_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn x4_stress_16_clients_on_postgresql_lose_nothing() {
    let Some(url) = database_url("stress") else {
        return;
    };
    let config = PoolConfig {
        max_connections: 16,
        ..PoolConfig::default()
    };
    let store = isolated_store(&url, config).await;
    let report = punchlist::testkit::stress(Arc::new(store), 16, 150).await;
    assert_eq!(report.operations, 16 * 150);
    let _ = writeln!(std::io::stderr(), "STRESS PostgreSQL: {report}");
}
