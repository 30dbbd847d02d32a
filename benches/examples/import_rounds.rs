//! Imports round after round of newcomers into an event built by the benchmarks'
//! generator, timing each `register_participants` and giving up on a round that takes
//! longer than `IMPORT_TIMEOUT` seconds (default 300) — the reproduction of the paired
//! import that stopped making progress on PostgreSQL (`benches/README.md`).
//!
//! ```sh
//! IMPORT_STORE=postgres IMPORT_PARTICIPANTS=10000 IMPORT_TASKS=40 IMPORT_ROUNDS=5 \
//!   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo run --release -p punchlist-benches --example import_rounds
//! ```
//!
//! `IMPORT_TASKS` more tasks are published to everyone first (the benchmark's publish
//! and tick pairs leave about 40), so each newcomer gets a progress row for each.

use std::io::Write;
use std::time::{Duration, Instant};

use punchlist::{ExternalId, NewParticipant, Store, TaskConfig};
use punchlist_benches::{World, build};

fn var(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn rounds<S: Store>(world: World<S>, n: usize, tasks: u64, count: u64, timeout: Duration) {
    let (service, ev, org) = (&world.service, world.event, &world.organizer);
    let en = punchlist::Language::new("en").unwrap();
    for i in 0..tasks {
        let config = TaskConfig::manual(
            en.clone(),
            format!("Extra task {i}"),
            punchlist::HelpLink::WebPage {
                url: "https://expo.example/help".into(),
            },
        );
        let task = service.create_task(org, ev, config).await.unwrap();
        service.publish_task(org, ev, task.id).await.unwrap();
    }
    let _ = writeln!(std::io::stdout(), "{tasks} more tasks published");
    for round in 0..count {
        let items: Vec<NewParticipant> = (0..n)
            .map(|i| {
                let mut p =
                    NewParticipant::new(ExternalId::new(format!("imported-{round}-{i}")).unwrap());
                p.status.categories =
                    [["exhibitor", "speaker", "visitor"][i % 3].to_owned()].into();
                p
            })
            .collect();
        let started = Instant::now();
        match tokio::time::timeout(timeout, service.register_participants(org, ev, items)).await {
            Ok(results) => {
                let made = results.unwrap().iter().filter(|r| r.is_ok()).count();
                let _ = writeln!(
                    std::io::stdout(),
                    "round {round}: {made} registered in {:?}",
                    started.elapsed()
                );
            }
            Err(_) => {
                let _ = writeln!(
                    std::io::stdout(),
                    "round {round}: no answer within {timeout:?}: stopped"
                );
                std::process::exit(1);
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let n = var("IMPORT_PARTICIPANTS", 10_000) as usize;
    let tasks = var("IMPORT_TASKS", 40);
    let count = var("IMPORT_ROUNDS", 5);
    let timeout = Duration::from_secs(var("IMPORT_TIMEOUT", 300));
    match std::env::var("IMPORT_STORE").as_deref() {
        Ok("redb") => {
            let store = punchlist_redb::RedbStore::open_async_temporary()
                .await
                .unwrap();
            rounds(build(store, n, 42).await, n, tasks, count, timeout).await;
        }
        Ok("postgres") => {
            let url = std::env::var("DATABASE_URL").expect("set DATABASE_URL");
            let store = punchlist_sqlx::testing::isolated_store(
                &url,
                punchlist_sqlx::PoolConfig::default(),
            )
            .await;
            rounds(build(store, n, 42).await, n, tasks, count, timeout).await;
        }
        _ => {
            rounds(
                build(punchlist::MemoryStore::new(), n, 42).await,
                n,
                tasks,
                count,
                timeout,
            )
            .await
        }
    }
}
