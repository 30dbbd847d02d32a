//! A small program to profile ingestion, batch by batch, on one store:
//!
//! ```sh
//! cargo build --release -p punchlist-benches --example profile_ingest
//! # memory (default), under perf (keep the samples whose stack holds `ingest_batch`):
//! perf record -g --call-graph dwarf target/release/examples/profile_ingest
//! # another store and size; prints the time of each batch:
//! PROFILE_STORE=postgres PROFILE_PARTICIPANTS=10000 \
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres target/release/examples/profile_ingest
//! ```

use std::io::Write;
use std::time::Instant;

use punchlist::{Actor, MemoryStore, Store};
use punchlist_benches::{World, build, ingest_batch};

async fn rounds<S: Store>(world: World<S>, rounds: u64) {
    for round in 0..rounds {
        let batch = ingest_batch(&world, round);
        let started = Instant::now();
        world
            .service
            .ingest_batch(&Actor::System, world.event, batch)
            .await
            .unwrap();
        let _ = writeln!(std::io::stdout(), "batch {round}: {:?}", started.elapsed());
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::var("PROFILE_PARTICIPANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let count: u64 = std::env::var("PROFILE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    match std::env::var("PROFILE_STORE").as_deref() {
        Ok("redb") => {
            let store = punchlist_redb::RedbStore::open_async_temporary()
                .await
                .unwrap();
            rounds(build(store, n, 42).await, count).await;
        }
        Ok("postgres") => {
            let url = std::env::var("DATABASE_URL").expect("set DATABASE_URL");
            let store = punchlist_sqlx::testing::isolated_store(
                &url,
                punchlist_sqlx::PoolConfig::default(),
            )
            .await;
            rounds(build(store, n, 42).await, count).await;
        }
        _ => rounds(build(MemoryStore::new(), n, 42).await, count).await,
    }
}
