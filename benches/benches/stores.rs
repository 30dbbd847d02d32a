//! The library on every store, beside the raw engines' own best batched paths.
//!
//! Sizes: `PUNCHLIST_BENCH_SIZES` (default `10000,100000`) for memory and redb,
//! `PUNCHLIST_BENCH_PG_SIZES` (default `10000`) for PostgreSQL, which runs only when
//! `DATABASE_URL` is set. See `benches/README.md` for the figures of the last run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use punchlist::*;
use punchlist_benches::{World, build, ingest_batch};
use punchlist_redb::RedbStore;
use punchlist_sqlx::{PgStore, PoolConfig};
use tokio::runtime::Runtime;

fn sizes(var: &str, default: &str) -> Vec<usize> {
    std::env::var(var)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The benchmarks that every store runs.
fn library<S: Store>(
    c: &mut Criterion,
    rt: &Runtime,
    store_name: &str,
    world: &World<S>,
    n: usize,
) {
    let round = AtomicU64::new(0);
    let mut group = c.benchmark_group(format!("{store_name}/{n}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));

    // 1. Host-event ingest with automatic evaluation, batches of 1,000.
    group.bench_function("ingest 1000 events", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let round = &round;
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let batch = ingest_batch(world, round.fetch_add(1, Ordering::Relaxed));
                    let started = Instant::now();
                    world
                        .service
                        .ingest_batch(&Actor::System, world.event, batch)
                        .await
                        .unwrap();
                    total += started.elapsed();
                }
                total
            }
        })
    });

    // 2. A participant's task list (P1).
    let someone = world.people[world.people.len() / 2];
    let me = Actor::participant(someone, world.event);
    group.bench_function("task list", |b| {
        b.to_async(rt)
            .iter(|| async { world.service.my_tasks(&me, world.event).await.unwrap() })
    });

    // 3. The per-task figures (B3).
    group.bench_function("figures", |b| {
        b.to_async(rt).iter(|| async {
            world
                .service
                .task_figures(&world.organizer, world.event)
                .await
                .unwrap()
        })
    });

    // 4. One page (50 rows) of the matrix filtered by status (B2).
    let request = MatrixRequest {
        task: Some(world.tasks[3]),
        status: Some(StatusFilter::ToDo),
        limit: 50,
        ..MatrixRequest::default()
    };
    group.bench_function("matrix page", |b| {
        b.to_async(rt).iter(|| async {
            world
                .service
                .matrix(&world.organizer, world.event, &request)
                .await
                .unwrap()
        })
    });
    group.finish();
}

/// 5. Publishing a task with notice to every participant (paged work).
fn publishing<S: Store>(
    c: &mut Criterion,
    rt: &Runtime,
    store_name: &str,
    world: &World<S>,
    n: usize,
) {
    let mut group = c.benchmark_group(format!("{store_name}/{n}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let en = Language::new("en").unwrap();
    group.bench_function("publish with notice", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let en = en.clone();
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut config = TaskConfig::manual(
                        en.clone(),
                        "Book your hotel",
                        HelpLink::WebPage {
                            url: "https://expo.example/hotels".into(),
                        },
                    );
                    config.notify_on_publish = true;
                    let draft = world
                        .service
                        .create_task(&world.organizer, world.event, config)
                        .await
                        .unwrap();
                    let started = Instant::now();
                    world
                        .service
                        .publish_task(&world.organizer, world.event, draft.id)
                        .await
                        .unwrap();
                    total += started.elapsed();
                }
                total
            }
        })
    });
    group.finish();
}

/// Raw redb: one write transaction inserting 1,000 rows with the library's key shape
/// (event · participant · product) and a value of the same size as a participant's facts.
fn raw_redb(c: &mut Criterion, n: usize) {
    const TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("raw");
    let dir = std::env::temp_dir().join(format!("punchlist-raw-{}.redb", std::process::id()));
    let db = redb::Database::create(&dir).unwrap();
    let event = [7u8; 16];
    let value = vec![b'x'; 600];
    let round = AtomicU64::new(0);
    let mut group = c.benchmark_group(format!("redb raw/{n}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("insert 1000 rows", |b| {
        b.iter(|| {
            let r = round.fetch_add(1, Ordering::Relaxed);
            let txn = db.begin_write().unwrap();
            {
                let mut t = txn.open_table(TABLE).unwrap();
                for i in 0..1_000u64 {
                    let participant = ((r * 1_000 + i) * 7_919 % n as u64).to_be_bytes();
                    let mut key = event.to_vec();
                    key.extend_from_slice(&participant);
                    key.extend_from_slice(format!("b-{r}-{i}").as_bytes());
                    t.insert(key.as_slice(), value.as_slice()).unwrap();
                }
            }
            txn.commit().unwrap();
        })
    });
    group.finish();
    drop(db);
    let _ = std::fs::remove_file(dir);
}

/// Raw PostgreSQL: `INSERT … SELECT unnest(…)` of 1,000 rows of the same shape, and the
/// hand-written `GROUP BY` the figures would need without counters.
fn raw_pg(c: &mut Criterion, rt: &Runtime, store: &PgStore, world: &World<PgStore>, n: usize) {
    let pool = store.pool().clone();
    rt.block_on(async {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS raw_ingest (event_id uuid, participant_id uuid, product text, \
             body jsonb, PRIMARY KEY (event_id, participant_id, product))",
        )
        .execute(&pool)
        .await
        .unwrap();
    });
    let round = AtomicU64::new(0);
    let event = world.event.as_uuid();
    let mut group = c.benchmark_group(format!("postgres raw/{n}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("insert 1000 rows", |b| {
        b.to_async(rt).iter(|| async {
            let r = round.fetch_add(1, Ordering::Relaxed);
            let participants: Vec<uuid::Uuid> = (0..1_000u64)
                .map(|i| world.people[((r * 1_000 + i) * 7_919 % n as u64) as usize].as_uuid())
                .collect();
            let products: Vec<String> = (0..1_000).map(|i| format!("b-{r}-{i}")).collect();
            let bodies: Vec<serde_json::Value> = (0..1_000)
                .map(|i| serde_json::json!({ "product": format!("b-{r}-{i}"), "present": true }))
                .collect();
            sqlx::query(
                "INSERT INTO raw_ingest SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::jsonb[])",
            )
            .bind(event)
            .bind(&participants)
            .bind(&products)
            .bind(&bodies)
            .execute(&pool)
            .await
            .unwrap();
        })
    });
    group.bench_function("figures by GROUP BY", |b| {
        b.to_async(rt).iter(|| async {
            sqlx::query(
                "SELECT task_id, count(*) FILTER (WHERE targeted), \
                   count(*) FILTER (WHERE targeted AND status = 'done'), \
                   count(*) FILTER (WHERE targeted AND status = 'awaiting_review') \
                 FROM progress WHERE event_id = $1 GROUP BY task_id",
            )
            .bind(event)
            .fetch_all(&pool)
            .await
            .unwrap()
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    for n in sizes("PUNCHLIST_BENCH_SIZES", "10000,100000") {
        let world = rt.block_on(build(MemoryStore::new(), n, 42));
        library(c, &rt, "memory", &world, n);
        publishing(c, &rt, "memory", &world, n);
        drop(world);

        let store = RedbStore::open_temporary().unwrap();
        let world = rt.block_on(build(store, n, 42));
        library(c, &rt, "redb", &world, n);
        publishing(c, &rt, "redb", &world, n);
        raw_redb(c, n);
    }
    let Ok(url) = std::env::var("DATABASE_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the PostgreSQL benchmarks: set DATABASE_URL"
        );
        return;
    };
    for n in sizes("PUNCHLIST_BENCH_PG_SIZES", "10000") {
        let store = rt.block_on(punchlist_sqlx::testing::isolated_store(
            &url,
            PoolConfig::default(),
        ));
        let world = rt.block_on(build(store.clone(), n, 42));
        library(c, &rt, "postgres", &world, n);
        raw_pg(c, &rt, &store, &world, n);
    }
}

criterion_group!(stores, benches);
criterion_main!(stores);
