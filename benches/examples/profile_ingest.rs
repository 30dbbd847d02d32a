//! A small program to profile ingestion on the in-memory store, e.g. with
//! `valgrind --tool=callgrind target/release/examples/profile_ingest`.

use punchlist::{Actor, MemoryStore};
use punchlist_benches::{build, ingest_batch};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let world = build(MemoryStore::new(), 2_000, 42).await;
    for round in 0..5 {
        world
            .service
            .ingest_batch(&Actor::System, world.event, ingest_batch(&world, round))
            .await
            .unwrap();
    }
}
