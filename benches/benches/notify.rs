//! Notifications: the reminder tick over an event where 10,000 reminders are due,
//! and the dispatch of those 10,000 with a no-op notifier, on every store; beside it, the
//! same dispatch on an event with preferences (event defaults, a locked kind, one
//! participant in ten with choices of their own), a send window and a shared rate limit
//! configured, none of which holds anything back (N8, N9, N11), and the ratio of the two;
//! on PostgreSQL, a raw claim loop (`FOR UPDATE SKIP LOCKED`, then a mark) over 10,000
//! rows.
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
                    total += dispatch_round(world, round, dispatcher, n).await;
                }
                total
            }
        })
    });
    group.finish();
}

/// One timed dispatch: publishes a task due to everyone and ticks (untimed), then times
/// the dispatch of the `n` reminders due, checking that every one went and that nothing
/// was held back.
async fn dispatch_round<S: Store>(
    world: &World<S>,
    round: &std::sync::atomic::AtomicU64,
    dispatcher: &Dispatcher<S, ManualClock>,
    n: usize,
) -> Duration {
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
        assert_eq!((r.held, r.skipped), (0, 0), "nothing held back: {r:?}");
        sent += r.sent;
    }
    let took = started.elapsed();
    assert!(sent >= n, "sent {sent}");
    took
}

/// Gives `world` what the configured dispatch runs with: publication notices by email
/// only, review decisions locked on, a send window of 08:00–20:00 (the world's clock says
/// 09:00) that assignments bypass, and, for one participant in ten, publication notices
/// turned off by chat. None of it holds back a reminder by email.
async fn configure<S: Store>(world: &World<S>) {
    let mut settings = world
        .service
        .event(&world.organizer, world.event)
        .get()
        .await
        .unwrap()
        .settings;
    let at = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let defaults = &mut settings.notifications;
    defaults
        .channels
        .insert(MessageKind::Publication, [Channel::Email].into());
    defaults.locked.insert(MessageKind::ReviewRejected);
    defaults.window = Some(
        SendWindow::daily(at(8), at(20))
            .unwrap()
            .bypassed_by(MessageKind::Assignment),
    );
    world
        .service
        .update_event(&world.organizer, world.event, settings)
        .await
        .unwrap();
    for p in world.people.iter().step_by(10) {
        world
            .service
            .update_notification_preferences(
                &Actor::participant(*p, world.event),
                world.event,
                *p,
                PreferencesUpdate {
                    changes: vec![PreferenceChange {
                        kind: MessageKind::Publication,
                        channel: Some(Channel::Chat),
                        on: Some(false),
                    }],
                    stop_all: None,
                },
            )
            .await
            .unwrap();
    }
}

/// The dispatch of `n` due reminders on a configured world ([`configure`]), with a shared
/// rate limit on email that never runs short (100,000 a second, in bursts of as many).
fn configured<S: Store>(c: &mut Criterion, rt: &Runtime, name: &str, world: &World<S>, n: usize) {
    rt.block_on(configure(world));
    let limit = RateLimit::per_second(100_000, 100_000).unwrap();
    let dispatcher = Dispatcher::new(world.service.clone())
        .with_notifier(Noop)
        .with_config(
            DispatchConfig::default()
                .with_batch(500)
                .with_rate_limit(Channel::Email, limit),
        );
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
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    group.bench_function("dispatch all due, configured", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (round, dispatcher) = (&round, &dispatcher);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // A minute between rounds, as between real ones: the limiter refills.
                    world.service.clock().advance(chrono::Duration::minutes(1));
                    total += dispatch_round(world, round, dispatcher, n).await;
                }
                total
            }
        })
    });
    group.finish();
}

/// Prints the configured dispatch beside the plain one, as measured in this run.
fn compare_configured(name: &str, n: usize) {
    let group = format!("{name} notify/{n}");
    let plain = median(&group, "dispatch all due");
    let configured = median(&group, "dispatch all due, configured");
    if let (Some(p), Some(c)) = (plain, configured) {
        use std::io::Write;
        let _ = writeln!(
            std::io::stdout(),
            "\n== punchlist: {name}/{n} dispatch with preferences, window and rate limit {} vs none {} = {:.2} (target at most 1.30) ==",
            show(c),
            show(p),
            c.as_secs_f64() / p.as_secs_f64()
        );
    }
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
        let world = rt.block_on(build(MemoryStore::new(), n, 42));
        configured(c, &rt, "memory", &world, n);
        compare_configured("memory", n);
    }
    if wanted("redb") {
        let world = rt.block_on(build(RedbStore::open_temporary().unwrap(), n, 42));
        notify(c, &rt, "redb", &world, n);
        let world = rt.block_on(build(RedbStore::open_temporary().unwrap(), n, 42));
        configured(c, &rt, "redb", &world, n);
        compare_configured("redb", n);
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
        let other = rt.block_on(punchlist_sqlx::testing::isolated_store(
            &url,
            PoolConfig::default(),
        ));
        let world = rt.block_on(build(other, n, 42));
        configured(c, &rt, "postgres", &world, n);
        compare_configured("postgres", n);
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
