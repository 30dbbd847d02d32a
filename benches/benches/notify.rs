//! Notifications: the reminder tick over an event where 10,000 reminders are due,
//! and the dispatch of those 10,000 with a no-op notifier, on every store; beside them on
//! PostgreSQL, a raw claim loop (`FOR UPDATE SKIP LOCKED`, then a mark) over 10,000 rows.
//!
//! Stores: `PUNCHLIST_BENCH_STORES` (default `memory,redb,postgres`; PostgreSQL with
//! `DATABASE_URL`). Participants: `PUNCHLIST_BENCH_NOTIFY_SIZE` (default 10,000).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use punchlist::*;
use punchlist_benches::report::{median, show};
use punchlist_benches::{World, build, wanted};
use punchlist_redb::RedbStore;
use punchlist_sqlx::PoolConfig;
use tokio::runtime::Runtime;

/// Accepts everything, at once.
struct Noop;

#[async_trait]
impl Notifier for Noop {
    fn channel(&self) -> Channel {
        Channel::Email
    }
    async fn send(&self, _: &Address, _: &OutgoingMessage) -> Result<(), SendError> {
        Ok(())
    }
}

fn size() -> usize {
    std::env::var("PUNCHLIST_BENCH_NOTIFY_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Publishes a task due in 20 hours to everyone: one "1 day before" reminder each is due.
async fn due_task<S: Store>(world: &World<S>, round: u64) {
    let mut config = TaskConfig::manual(
        Language::new("en").unwrap(),
        format!("Due soon {round}"),
        HelpLink::WebPage {
            url: "https://expo.example/help".into(),
        },
    );
    config.deadline = Some(world.service.clock().now() + chrono::Duration::hours(20));
    let t = world
        .service
        .create_task(&world.organizer, world.event, config)
        .await
        .unwrap();
    world
        .service
        .publish_task(&world.organizer, world.event, t.id)
        .await
        .unwrap();
}

fn notify<S: Store>(c: &mut Criterion, rt: &Runtime, name: &str, world: &World<S>, n: usize) {
    let dispatcher = Dispatcher::new(world.service.clone())
        .with_notifier(Noop)
        .with_config(DispatchConfig::default().with_batch(500));
    // What the generated event already has due goes out first, untimed.
    rt.block_on(async {
        world
            .service
            .tick_reminders(&Actor::System, world.event)
            .await
            .unwrap();
        while dispatcher.dispatch_once().await.unwrap().claimed > 0 {}
    });
    let round = std::sync::atomic::AtomicU64::new(0);
    let mut group = c.benchmark_group(format!("{name} notify/{n}"));
    // One iteration per sample: each also publishes a task to everyone (untimed), and
    // criterion's linear sampling would plan dozens of them.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    group.bench_function("reminder tick, all due", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (round, dispatcher) = (&round, &dispatcher);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    due_task(
                        world,
                        round.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    )
                    .await;
                    let started = Instant::now();
                    let tick = world
                        .service
                        .tick_reminders(&Actor::System, world.event)
                        .await
                        .unwrap();
                    total += started.elapsed();
                    assert!(tick.reminders >= n as u64, "{tick:?}");
                    while dispatcher.dispatch_once().await.unwrap().claimed > 0 {}
                }
                total
            }
        })
    });
    group.bench_function("dispatch all due", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (round, dispatcher) = (&round, &dispatcher);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    due_task(
                        world,
                        round.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                    )
                    .await;
                    world
                        .service
                        .tick_reminders(&Actor::System, world.event)
                        .await
                        .unwrap();
                    let started = Instant::now();
                    let mut sent = 0;
                    loop {
                        let r = dispatcher.dispatch_once().await.unwrap();
                        if r.claimed == 0 {
                            break;
                        }
                        sent += r.sent;
                    }
                    total += started.elapsed();
                    assert!(sent >= n, "sent {sent}");
                }
                total
            }
        })
    });
    group.finish();
}

/// The raw claim loop: `n` due rows; claim 500 with `FOR UPDATE SKIP LOCKED`, mark them
/// sent, until none is left.
fn raw_claims(c: &mut Criterion, rt: &Runtime, pool: &sqlx::PgPool, n: usize) {
    rt.block_on(async {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS raw_outbox (id bigserial PRIMARY KEY, \
             due_at timestamptz, state text NOT NULL, body jsonb NOT NULL)",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "CREATE INDEX IF NOT EXISTS raw_outbox_due ON raw_outbox (due_at) WHERE due_at IS NOT NULL",
        )
        .execute(pool)
        .await
        .unwrap();
    });
    let mut group = c.benchmark_group(format!("postgres raw notify/{n}"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("claim and mark all due", |b| {
        b.to_async(rt).iter_custom(|iters| async move {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                sqlx::query(
                    "INSERT INTO raw_outbox (due_at, state, body) \
                     SELECT now() - interval '1 minute', 'pending', \
                       jsonb_build_object('kind', 'reminder', 'n', g) FROM generate_series(1, $1) g",
                )
                .bind(n as i64)
                .execute(pool)
                .await
                .unwrap();
                let started = Instant::now();
                loop {
                    let mut tx = pool.begin().await.unwrap();
                    let claimed: Vec<(i64, serde_json::Value)> = sqlx::query_as(
                        "WITH c AS (SELECT id FROM raw_outbox WHERE due_at <= now() \
                           ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED) \
                         UPDATE raw_outbox r SET due_at = now() + interval '5 minutes' \
                         FROM c WHERE r.id = c.id RETURNING r.id, r.body",
                    )
                    .fetch_all(&mut *tx)
                    .await
                    .unwrap();
                    tx.commit().await.unwrap();
                    if claimed.is_empty() {
                        break;
                    }
                    let ids: Vec<i64> = claimed.iter().map(|(id, _)| *id).collect();
                    sqlx::query(
                        "UPDATE raw_outbox SET state = 'sent', due_at = NULL WHERE id = ANY($1)",
                    )
                    .bind(&ids)
                    .execute(pool)
                    .await
                    .unwrap();
                }
                total += started.elapsed();
            }
            total
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let n = size();
    if wanted("memory") {
        let world = rt.block_on(build(MemoryStore::new(), n, 42));
        notify(c, &rt, "memory", &world, n);
    }
    if wanted("redb") {
        let world = rt.block_on(build(RedbStore::open_temporary().unwrap(), n, 42));
        notify(c, &rt, "redb", &world, n);
    }
    if wanted("postgres")
        && let Ok(url) = std::env::var("DATABASE_URL")
    {
        let store = rt.block_on(punchlist_sqlx::testing::isolated_store(
            &url,
            PoolConfig::default(),
        ));
        let world = rt.block_on(build(store.clone(), n, 42));
        notify(c, &rt, "postgres", &world, n);
        raw_claims(c, &rt, store.pool(), n);
        let library = median(&format!("postgres notify/{n}"), "dispatch all due");
        let raw = median(
            &format!("postgres raw notify/{n}"),
            "claim and mark all due",
        );
        if let (Some(l), Some(r)) = (library, raw) {
            use std::io::Write;
            let _ = writeln!(
                std::io::stdout(),
                "\n== punchlist: dispatch of {n} on PostgreSQL {} vs raw claim loop {}: library at {:.0} % of the raw rate ==",
                show(l),
                show(r),
                100.0 * r.as_secs_f64() / l.as_secs_f64()
            );
        }
    }
}

criterion_group!(notifications, benches);
criterion_main!(notifications);
