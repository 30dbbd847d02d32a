//! The library on every store, beside the raw engines' own best batched paths, and at the
//! end of the run a table of the ratios library ÷ raw and of each size ÷ the smallest.
//!
//! Stores: `PUNCHLIST_BENCH_STORES` (default `memory,redb,postgres`). Sizes:
//! `PUNCHLIST_BENCH_SIZES` (default `10000,100000`) for memory and redb,
//! `PUNCHLIST_BENCH_PG_SIZES` (default `10000,100000`) for PostgreSQL, which runs only when
//! `DATABASE_URL` is set. See `benches/README.md` for the figures of the last run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use punchlist::*;
use punchlist_benches::report::{median, show};
use punchlist_benches::{World, build, handwritten, ingest_batch, wanted};
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

/// Participants of the small event that shares each store with the large one.
const SMALL: usize = 500;

/// The benchmarks that every store runs. `small` is a small event in the same store.
fn library<S: Store>(
    c: &mut Criterion,
    rt: &Runtime,
    store_name: &str,
    world: &World<S>,
    small: &World<S>,
    n: usize,
) {
    let mut group = c.benchmark_group(format!("{store_name}/{n}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));

    // A participant's task list (P1).
    let me = Actor::participant(world.exhibitor, world.event);
    group.bench_function("task list", |b| {
        b.to_async(rt)
            .iter(|| async { world.service.my_tasks(&me, world.event).await.unwrap() })
    });

    // The per-task figures (B3).
    group.bench_function("figures", |b| {
        b.to_async(rt).iter(|| async {
            world
                .service
                .task_figures(&world.organizer, world.event)
                .await
                .unwrap()
        })
    });

    // One page (50 rows) of the matrix filtered by status (B2), typical: many match.
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
    // The same page of a small event that shares the tables (and, on PostgreSQL, the
    // prepared statements and their generic plans) with the large one.
    let small_request = MatrixRequest {
        task: Some(small.tasks[3]),
        ..request.clone()
    };
    group.bench_function("matrix page, small event", |b| {
        b.to_async(rt).iter(|| async {
            small
                .service
                .matrix(&small.organizer, small.event, &small_request)
                .await
                .unwrap()
        })
    });
    // The worst case of a selective filter: nobody matches (nobody reports the
    // invitations task 5 counts), so a page must rule out the whole event.
    let none_request = MatrixRequest {
        task: Some(world.tasks[5]),
        status: Some(StatusFilter::Done),
        limit: 50,
        ..MatrixRequest::default()
    };
    group.bench_function("matrix page, none match", |b| {
        b.to_async(rt).iter(|| async {
            world
                .service
                .matrix(&world.organizer, world.event, &none_request)
                .await
                .unwrap()
        })
    });

    group.finish();
}

/// Host-event ingest with automatic evaluation, batches of 1,000. Run last, as it changes
/// the event (facts and progress move), after the hand-written pairs, which need the
/// event's state as generated.
fn ingest<S: Store>(c: &mut Criterion, rt: &Runtime, store_name: &str, world: &World<S>, n: usize) {
    let round = AtomicU64::new(0);
    let mut group = c.benchmark_group(format!("{store_name}/{n}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
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

    group.finish();
}

/// Publishing a task with notice to every participant (paged work).
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

    // What the figures would cost without counters: one row per (participant, task),
    // keyed like the library's, scanned and counted per task.
    const PROGRESS: redb::TableDefinition<&[u8], &[u8]> =
        redb::TableDefinition::new("raw progress");
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(PROGRESS).unwrap();
        for p in 0..n as u64 {
            for task in 0..20u8 {
                let mut key = event.to_vec();
                key.extend_from_slice(&p.to_be_bytes());
                key.push(task);
                t.insert(key.as_slice(), raw_row(p, task).as_slice())
                    .unwrap();
            }
        }
    }
    txn.commit().unwrap();
    group.bench_function("figures by scan", |b| {
        b.iter(|| {
            use redb::ReadableDatabase;
            let txn = db.begin_read().unwrap();
            let t = txn.open_table(PROGRESS).unwrap();
            let mut counts = [[0u64; 3]; 20];
            let mut end = event.to_vec();
            end.push(0xff);
            for item in t.range(event.as_slice()..end.as_slice()).unwrap() {
                let (k, v) = item.unwrap();
                let (k, v) = (k.value(), v.value());
                count(&mut counts, k[k.len() - 1], v);
            }
            counts
        })
    });
    group.finish();
    drop(db);
    let _ = std::fs::remove_file(dir);
}

/// A raw progress row: targeted, then the status (0 to do, 1 done, 2 awaiting review).
fn raw_row(participant: u64, task: u8) -> [u8; 2] {
    let mix = participant
        .wrapping_mul(2_654_435_761)
        .wrapping_add(u64::from(task) * 97);
    [u8::from(!mix.is_multiple_of(10)), (mix % 3) as u8]
}

fn count(counts: &mut [[u64; 3]; 20], task: u8, row: &[u8]) {
    if row[0] == 1 {
        let c = &mut counts[usize::from(task) % 20];
        c[0] += 1;
        c[1] += u64::from(row[1] == 1);
        c[2] += u64::from(row[1] == 2);
    }
}

/// Raw memory: the figures by a scan of a map holding one small row per
/// (participant, task), the in-memory equivalent of the `GROUP BY`.
fn raw_memory(c: &mut Criterion, n: usize) {
    let mut rows = std::collections::BTreeMap::new();
    for p in 0..n as u64 {
        for task in 0..20u8 {
            rows.insert((p, task), raw_row(p, task));
        }
    }
    let mut group = c.benchmark_group(format!("memory raw/{n}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("figures by scan", |b| {
        b.iter(|| {
            let mut counts = [[0u64; 3]; 20];
            for ((_, task), row) in &rows {
                count(&mut counts, *task, row);
            }
            counts
        })
    });
    group.finish();
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

/// A small event, then a large one, in `store`.
fn worlds<S: Store + Clone>(rt: &Runtime, store: &S, n: usize) -> (World<S>, World<S>) {
    let small = rt.block_on(build(store.clone(), SMALL, 7));
    let world = rt.block_on(build(store.clone(), n, 42));
    (world, small)
}

/// Entries seeded on one participant's timeline for the timeline benchmarks (R5).
const TIMELINE: usize = 100_000;

/// A participant's timeline of 100,000 entries (R5, seeded by batched reports): the newest
/// page, and a page 90,000 entries deep by keyset cursor. Run once per store, on the small
/// event (the timeline's length is what matters, not the event's).
fn timeline<S: Store>(c: &mut Criterion, rt: &Runtime, store_name: &str, world: &World<S>) {
    let who = world.people[0];
    let start = world.service.clock().now() - chrono::Duration::days(30);
    rt.block_on(async {
        for batch in 0..TIMELINE / punchlist::limits::ACTIONS {
            let actions = (0..punchlist::limits::ACTIONS)
                .map(|i| {
                    let n = batch * punchlist::limits::ACTIONS + i;
                    HostAction {
                        id: HostEventId::new(format!("bench-open-{n}")).unwrap(),
                        participant: who.into(),
                        occurred_at: start + chrono::Duration::seconds(n as i64),
                        kind: TimelineKind::EmailOpened {
                            email: ExternalId::new("daily").unwrap(),
                        },
                    }
                })
                .collect();
            world
                .service
                .report_actions(&Actor::System, world.event, actions)
                .await
                .unwrap();
        }
    });
    // The cursor 90,000 entries down, found by walking once.
    let deep = rt.block_on(async {
        let mut filter = TimelineFilter::default();
        for _ in 0..90 {
            let page = world
                .service
                .timeline(&world.organizer, world.event, who, &filter, 1_000)
                .await
                .unwrap();
            filter.before = page.last().map(|e| e.id);
        }
        filter
    });
    let mut group = c.benchmark_group(format!("{store_name}/timeline of {TIMELINE}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("newest page of 50", |b| {
        b.to_async(rt).iter(|| async {
            world
                .service
                .timeline(
                    &world.organizer,
                    world.event,
                    who,
                    &TimelineFilter::default(),
                    50,
                )
                .await
                .unwrap()
        })
    });
    group.bench_function("page of 50 at depth 90000", |b| {
        b.to_async(rt).iter(|| async {
            world
                .service
                .timeline(&world.organizer, world.event, who, &deep, 50)
                .await
                .unwrap()
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let memory_sizes = sizes("PUNCHLIST_BENCH_SIZES", "10000,100000");
    for &n in &memory_sizes {
        if wanted("memory") {
            let (world, small) = worlds(&rt, &MemoryStore::new(), n);
            library(c, &rt, "memory", &world, &small, n);
            handwritten::run(c, &rt, "memory", &world, n, None);
            ingest(c, &rt, "memory", &world, n);
            if n == memory_sizes[0] {
                timeline(c, &rt, "memory", &small);
            }
            raw_memory(c, n);
            publishing(c, &rt, "memory", &world, n);
            handwritten::paged::run(c, &rt, "memory", &world, n, None);
        }
        if wanted("redb") {
            let (world, small) = worlds(&rt, &RedbStore::open_temporary().unwrap(), n);
            library(c, &rt, "redb", &world, &small, n);
            handwritten::run(c, &rt, "redb", &world, n, None);
            ingest(c, &rt, "redb", &world, n);
            if n == memory_sizes[0] {
                timeline(c, &rt, "redb", &small);
            }
            raw_redb(c, n);
            publishing(c, &rt, "redb", &world, n);
            handwritten::paged::run(c, &rt, "redb", &world, n, None);
        }
    }
    let mut pg_sizes = Vec::new();
    match std::env::var("DATABASE_URL") {
        Err(_) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED the PostgreSQL benchmarks: set DATABASE_URL"
            );
        }
        Ok(_) if !wanted("postgres") => {}
        Ok(url) => {
            pg_sizes = sizes("PUNCHLIST_BENCH_PG_SIZES", "10000,100000");
            for &n in &pg_sizes {
                let store = rt.block_on(punchlist_sqlx::testing::isolated_store(
                    &url,
                    PoolConfig::default(),
                ));
                let (world, small) = worlds(&rt, &store, n);
                library(c, &rt, "postgres", &world, &small, n);
                handwritten::run(c, &rt, "postgres", &world, n, Some(store.pool()));
                ingest(c, &rt, "postgres", &world, n);
                if n == pg_sizes[0] {
                    timeline(c, &rt, "postgres", &small);
                }
                raw_pg(c, &rt, &store, &world, n);
                publishing(c, &rt, "postgres", &world, n);
                handwritten::paged::run(c, &rt, "postgres", &world, n, Some(store.pool()));
            }
        }
    }
    print_ratios(&memory_sizes, &pg_sizes);
}

/// Prints, from criterion's medians of this run, the ratios the targets are
/// about: library ÷ raw, and each size ÷ the smallest.
fn print_ratios(memory_sizes: &[usize], pg_sizes: &[usize]) {
    let mut out = String::from("\n== punchlist: ratios of this run (medians) ==\n");
    let stores: Vec<(&str, &[usize])> = vec![
        ("memory", memory_sizes),
        ("redb", memory_sizes),
        ("postgres", pg_sizes),
    ];
    let line = |out: &mut String, what: String, lib: Option<Duration>, raw: Option<Duration>| {
        if let (Some(l), Some(r)) = (lib, raw) {
            let ratio = l.as_secs_f64() / r.as_secs_f64();
            let reading = if ratio < 1.0 {
                format!("library {:.0}× faster", 1.0 / ratio)
            } else {
                format!("library at {:.0} % of the raw rate", 100.0 / ratio)
            };
            out.push_str(&format!(
                "{what}: library {} ÷ raw {} = {ratio:.4} ({reading})\n",
                show(l),
                show(r),
            ));
        }
    };
    for (store, ns) in &stores {
        for &n in ns.iter() {
            let group = format!("{store}/{n}");
            let raw = format!("{store} raw/{n}");
            if let Some(l) = median(&group, "ingest 1000 events") {
                out.push_str(&format!(
                    "{group} ingest: {} per 1,000 events = {:.0} events/s\n",
                    show(l),
                    1_000.0 / l.as_secs_f64()
                ));
            }
            line(
                &mut out,
                format!("{group} ingest vs raw insert of 1,000 rows"),
                median(&group, "ingest 1000 events"),
                median(&raw, "insert 1000 rows"),
            );
            out.push_str(&handwritten::ratio_lines(&group));
            out.push_str(&handwritten::paged::ratio_lines(&group, n));
            let raw_figures = if *store == "postgres" {
                "figures by GROUP BY"
            } else {
                "figures by scan"
            };
            line(
                &mut out,
                format!("{group} figures vs {raw_figures}"),
                median(&group, "figures"),
                median(&raw, raw_figures),
            );
            for page in [
                "matrix page",
                "matrix page, small event",
                "matrix page, none match",
            ] {
                if let Some(m) = median(&group, page) {
                    out.push_str(&format!("{group} {page}: {}\n", show(m)));
                }
            }
            if let Some(&first) = ns.first().filter(|&&f| f != n) {
                for bench in ["task list", "figures", "matrix page"] {
                    let base = format!("{store}/{first}");
                    if let (Some(big), Some(small)) = (median(&group, bench), median(&base, bench))
                    {
                        out.push_str(&format!(
                            "{store} {bench}: {} at {n} ÷ {} at {first} = {:.2}\n",
                            show(big),
                            show(small),
                            big.as_secs_f64() / small.as_secs_f64()
                        ));
                    }
                }
            }
        }
    }
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{out}");
}

criterion_group!(stores, benches);
criterion_main!(stores);
