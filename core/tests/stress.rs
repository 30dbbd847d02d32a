//! Stress on the in-memory store: 16 concurrent clients, random mixed
//! operations; nothing acknowledged is lost and every invariant holds afterwards.

use std::io::Write;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn x4_stress_16_clients_in_memory_lose_nothing() {
    let report = punchlist::testkit::stress(Arc::new(punchlist::MemoryStore::new()), 16, 200).await;
    assert_eq!(
        report.operations,
        16 * 200,
        "every client ran all its operations"
    );
    let _ = writeln!(std::io::stderr(), "STRESS memory: {report}");
}
