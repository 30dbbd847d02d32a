//! Stress on a redb file: 16 concurrent clients, random mixed operations, a
//! bounded number of them; nothing acknowledged is lost, only typed refusals occur, and
//! every invariant holds afterwards. Prints the operations per second.

use std::io::Write;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn x4_stress_16_clients_on_redb_lose_nothing() {
    let store = punchlist_redb::RedbStore::open_async_temporary()
        .await
        .expect("a temporary redb store");
    let report = punchlist::testkit::stress(Arc::new(store), 16, 150).await;
    assert_eq!(report.operations, 16 * 150);
    let _ = writeln!(std::io::stderr(), "STRESS redb: {report}");
}
