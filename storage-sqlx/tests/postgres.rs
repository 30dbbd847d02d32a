//! PostgreSQL-specific proofs (X4, X5): query plans on a seeded event, two pools
//! writing concurrently with each other's changes on their live streams, a connection
//! killed mid-operation, hostile text reaching SQL only as bound parameters, and stores in
//! schemas of the host's choosing, independent of each other in one database.
//! Each test works in a schema of its own; without `DATABASE_URL` they say they skipped.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use punchlist::store::{EventStore, StoreExt};
use punchlist::testkit::Fixture;
use punchlist::*;
use punchlist_sqlx::testing::{SchemaGuard, database_url, fresh_schema, isolated_store};
use punchlist_sqlx::{PgStore, PoolConfig, SchemaName};
use sqlx::Row;

/// Seeds `people` participants with a progress row for each of `tasks` published tasks,
/// straight in SQL (batched, like a bulk import), then `ANALYZE`. Returns the tasks.
async fn seed(store: &PgStore, f: &Fixture<PgStore>, people: i64, tasks: usize) -> Vec<TaskId> {
    let mut ids = Vec::new();
    for i in 0..tasks {
        ids.push(f.manual_task(&format!("Task {i:02}"), None).await.id);
    }
    let ev = f.event.as_uuid();
    sqlx::query(
        "INSERT INTO participants (event_id, participant_id, version, external_id, owner_id, \
           sort_name, sort_company, sort_email, search, categories, record, facts) \
         SELECT $1, id, 1, 'seed-' || n, NULL, 'last' || lpad(n::text, 7, '0'), 'company' || (n % 100), \
           'p' || n || '@example.org', 'p' || n, ARRAY['exhibitor'], \
           jsonb_build_object('id', id, 'event', $1, 'external_id', 'seed-' || n, \
             'profile', jsonb_build_object('last_name', 'Last' || lpad(n::text, 7, '0'), 'email', 'p' || n || '@example.org'), \
             'status', jsonb_build_object('categories', jsonb_build_array('exhibitor')), \
             'utm', '{}'::jsonb, 'custom_fields', '{}'::jsonb, 'owner', NULL, \
             'registered_at', '2026-03-01T09:00:00Z'), '{}'::jsonb \
         FROM (SELECT n, gen_random_uuid() AS id FROM generate_series(1, $2) AS n) s",
    )
    .bind(ev)
    .bind(people)
    .execute(store.pool())
    .await
    .unwrap();
    let task_ids: Vec<uuid::Uuid> = ids.iter().map(|t| t.as_uuid()).collect();
    sqlx::query(
        "INSERT INTO progress (event_id, participant_id, task_id, targeted, status, assignee_id, body) \
         SELECT $1, participant_id, t, true, st, NULL, \
           jsonb_build_object('task', t, 'owner', participant_id, 'targeted', true, 'status', st, \
             'completion', NULL, 'assignee', NULL, 'decided_by_organizer', false, 'noticed', false, \
             'updated_at', '2026-03-01T09:00:00Z') \
         FROM (SELECT p.participant_id, t, \
                 CASE WHEN abs(hashtext(p.participant_id::text || t::text)) % 10 < 3 \
                      THEN 'done' ELSE 'todo' END AS st \
               FROM participants p CROSS JOIN unnest($2::uuid[]) AS t \
               WHERE p.event_id = $1 AND p.external_id LIKE 'seed-%') s",
    )
    .bind(ev)
    .bind(&task_ids)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b2_matrix_page_plan_has_no_sequential_scan_of_progress() {
    let Some(url) = database_url("b2_matrix_page_plan_has_no_sequential_scan_of_progress") else {
        return;
    };
    let store = isolated_store(&url, PoolConfig::default()).await;
    let people: i64 = std::env::var("PUNCHLIST_SEED_PARTICIPANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let big = Fixture::with_store(Arc::new(store.clone())).await;
    let tasks = seed(&store, &big, people, 20).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM progress")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(rows >= 100_000, "seeded {rows} progress rows");
    // A small event sharing the tables with the large one.
    let small = Fixture::with_store(Arc::new(store.clone())).await;
    let small_task = small.manual_task("Small", None).await;
    for i in 0..5 {
        small.participant(&format!("s{i}"), &["exhibitor"]).await;
    }
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();

    for (event, task) in [(big.event, tasks[3]), (small.event, small_task.id)] {
        for statuses in [vec![ProgressStatus::Done], vec![ProgressStatus::Todo]] {
            for sort in [
                MatrixSort::Name,
                MatrixSort::Company,
                MatrixSort::Registration,
            ] {
                let mut q = MatrixQuery::new(50);
                q.progress = Some((task, statuses.clone()));
                q.sort = sort;
                for generic in [false, true] {
                    let plan = store.explain_matrix(event, &q, generic).await.unwrap();
                    assert!(
                        !plan.contains("Seq Scan on progress"),
                        "sequential scan of progress (generic: {generic}, {sort:?}):\n{plan}"
                    );
                }
            }
        }
    }
    // The page itself, through the service: 50 rows, all done on the chosen task.
    let started = std::time::Instant::now();
    let page = big
        .service
        .matrix(
            &big.organizer,
            big.event,
            &MatrixRequest {
                task: Some(tasks[3]),
                status: Some(StatusFilter::Done),
                limit: 50,
                ..MatrixRequest::default()
            },
        )
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(page.rows.len(), 50);
    assert!(
        page.rows
            .iter()
            .all(|r| r.cells[3].status == Some(ProgressStatus::Done))
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "matrix page on {people} participants x 20 tasks ({rows} progress rows): {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x4_two_pools_lose_nothing_and_see_each_others_changes() {
    let Some(url) = database_url("x4_two_pools_lose_nothing_and_see_each_others_changes") else {
        return;
    };
    let a = isolated_store(&url, PoolConfig::default()).await;
    let b = a.sibling(PoolConfig::default()).await.unwrap();
    let f = Arc::new(Fixture::with_store(Arc::new(a)).await);
    let other: Arc<Punchlist<PgStore, ManualClock>> = Arc::new(Punchlist::new(b, f.clock.clone()));
    let mut feed_a = f
        .service
        .progress_feed(&f.organizer, f.event)
        .await
        .unwrap();
    let mut feed_b = other.progress_feed(&f.organizer, f.event).await.unwrap();
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(f.participant(&format!("p{i}"), &[]).await);
    }
    let mut tasks = Vec::new();
    for i in 0..3 {
        tasks.push(f.manual_task(&format!("t{i}"), None).await);
    }
    let products = f
        .auto_task("Products", Condition::Products { at_least: 20 }, None)
        .await;
    // Drain the rows the publications created.
    let drain = |feed: &mut ProgressFeed| {
        let mut n = 0;
        while let Some(Some(_)) = futures::FutureExt::now_or_never(feed.next()) {
            n += 1;
        }
        n
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    drain(&mut feed_a);
    drain(&mut feed_b);

    let mut handles = Vec::new();
    for (i, p) in people.iter().enumerate() {
        for t in &tasks {
            let (f, other, p, t) = (f.clone(), other.clone(), p.clone(), t.id);
            handles.push(tokio::spawn(async move {
                let me = Actor::participant(p.id, f.event);
                if i % 2 == 0 {
                    f.service
                        .complete_task(&me, f.event, p.id, t)
                        .await
                        .map(drop)
                } else {
                    other.complete_task(&me, f.event, p.id, t).await.map(drop)
                }
            }));
        }
    }
    let hub = people[0].clone();
    for i in 0..20 {
        let (f, other, hub) = (f.clone(), other.clone(), hub.clone());
        handles.push(tokio::spawn(async move {
            let e = f.host_event(
                &format!("prod-{i}"),
                &hub,
                HostFact::ProductAdded {
                    product: ExternalId::new(format!("sku-{i}")).unwrap(),
                },
            );
            let service = if i % 2 == 0 { &f.service } else { &*other };
            service.ingest(&Actor::System, f.event, e).await.map(drop)
        }));
    }
    for h in handles {
        h.await.unwrap().expect("no operation fails");
    }
    let dump = f.dump().await; // asserts counters == recount
    for p in &people {
        let s = dump
            .participants
            .iter()
            .find(|s| s.participant.id == p.id)
            .unwrap();
        assert!(
            tasks.iter().all(|t| s.progress[&t.id].is_done()),
            "lost completion"
        );
    }
    let hub_state = dump
        .participants
        .iter()
        .find(|s| s.participant.id == hub.id)
        .unwrap();
    assert_eq!(hub_state.facts.products.count(), 20, "lost fact");
    assert!(hub_state.progress[&products.id].is_done());
    let figures = f.service.task_figures(&f.organizer, f.event).await.unwrap();
    for t in &tasks {
        let fig = figures.iter().find(|x| x.task == t.id).unwrap();
        assert_eq!((fig.targeted, fig.done), (6, 6), "exact figures");
    }
    // Each stream carries every completion, whichever pool committed it.
    let expected = people.len() * tasks.len() + 1;
    for (name, feed) in [("a", &mut feed_a), ("b", &mut feed_b)] {
        let mut done = 0;
        while done < expected {
            let next = tokio::time::timeout(Duration::from_secs(10), feed.next())
                .await
                .unwrap_or_else(|_| panic!("feed {name} saw only {done} of {expected} completions"))
                .unwrap()
                .unwrap();
            if next.after.is_done() && next.before != Some(ProgressStatus::Done) {
                done += 1;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x5_a_connection_killed_mid_operation_writes_nothing_and_the_next_call_works() {
    let Some(url) = database_url("x5_a_connection_killed_mid_operation_writes_nothing") else {
        return;
    };
    let store = isolated_store(&url, PoolConfig::default()).await;
    let f = Arc::new(Fixture::with_store(Arc::new(store.clone())).await);
    let ann = f.participant("ann", &[]).await;
    let hotel = f.manual_task("Hotel", None).await;
    let before = f.dump().await;

    // Hold ann's row so the service's transaction waits on it, mid-operation.
    let mut locker: sqlx::PgConnection =
        sqlx::Connection::connect_with(&*store.pool().connect_options())
            .await
            .unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("SELECT 1 FROM participants WHERE participant_id = $1 FOR UPDATE")
        .bind(ann.id.as_uuid())
        .execute(&mut locker)
        .await
        .unwrap();
    let locker_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut locker)
        .await
        .unwrap();
    let op = {
        let f = f.clone();
        let me = Actor::participant(ann.id, f.event);
        tokio::spawn(async move {
            f.service
                .complete_task(&me, f.event, ann.id, hotel.id)
                .await
        })
    };
    // Find the backend waiting on our lock: this test's own, and no one else's.
    let mut victim = None;
    for _ in 0..100 {
        let row =
            sqlx::query("SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))")
                .bind(locker_pid)
                .fetch_optional(store.pool())
                .await
                .unwrap();
        if let Some(r) = row {
            victim = Some(r.get::<i32, _>(0));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let victim = victim.expect("the operation waits on the lock");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(victim)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(killed);
    let err = op
        .await
        .unwrap()
        .expect_err("the operation lost its connection");
    assert!(
        matches!(err, Error::Unavailable { .. } | Error::Backend { .. }),
        "a typed storage error: {err:?}"
    );
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    assert_eq!(f.dump().await, before, "no partial write");
    let row = f
        .service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, hotel.id)
        .await
        .expect("the next call works");
    assert!(row.is_done());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x5_hostile_text_is_bound_never_spliced() {
    let Some(url) = database_url("x5_hostile_text_is_bound_never_spliced") else {
        return;
    };
    let store = isolated_store(&url, PoolConfig::default()).await;
    let f = Fixture::with_store(Arc::new(store.clone())).await;
    let names = [
        "O'Brien",
        "Robert'); DROP TABLE participants;--",
        "100%_sure",
        "under_score",
        "back\\slash",
        "Zoë 東京 🎪",
        "\"quoted\"",
    ];
    for (i, name) in names.iter().enumerate() {
        let mut new = NewParticipant::new(ExternalId::new(format!("x{i}")).unwrap());
        new.profile.last_name = (*name).to_owned();
        new.profile.company = "x".repeat(200);
        new.status.categories = [format!("cat '{i}' %")].into();
        f.service
            .register_participant(&f.organizer, f.event, new)
            .await
            .unwrap();
    }
    let search = |s: &str| {
        let f = &f;
        let s = s.to_owned();
        async move {
            f.service
                .matrix(
                    &f.organizer,
                    f.event,
                    &MatrixRequest {
                        search: Some(s),
                        ..MatrixRequest::default()
                    },
                )
                .await
                .unwrap()
                .rows
                .into_iter()
                .map(|r| r.participant.profile.last_name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("o'brien").await, ["O'Brien"]);
    assert_eq!(
        search("%").await,
        ["100%_sure"],
        "% is a character, not a wildcard"
    );
    assert_eq!(
        search("_").await.len(),
        2,
        "_ is a character, not a wildcard"
    );
    assert_eq!(search("0%_s").await, ["100%_sure"]);
    assert_eq!(search("\\").await, ["back\\slash"]);
    assert_eq!(search("東京").await, ["Zoë 東京 🎪"]);
    assert_eq!(
        search("drop table").await,
        ["Robert'); DROP TABLE participants;--"]
    );
    assert!(search(&"'".repeat(200)).await.is_empty());
    let by_category = f
        .service
        .matrix(
            &f.organizer,
            f.event,
            &MatrixRequest {
                category: Some("cat '1' %".into()),
                ..MatrixRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_category.rows.len(), 1);
    assert_eq!(
        f.dump().await.participants.len(),
        names.len(),
        "every table is still there"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM participants")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count, names.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x4_migrating_twice_is_harmless() {
    let Some(url) = database_url("x4_migrating_twice_is_harmless") else {
        return;
    };
    let store = isolated_store(&url, PoolConfig::default()).await; // migrated once
    let f = Fixture::with_store(Arc::new(store.clone())).await;
    f.participant("ann", &[]).await;
    store.migrate().await.expect("a second migrate is a no-op");
    store.migrate().await.expect("and a third");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(applied, punchlist_sqlx::MIGRATOR.iter().count() as i64);
    assert_eq!(f.dump().await.participants.len(), 1, "data untouched");
}

/// The tables of `schema`, by name, as `information_schema` lists them.
async fn tables_in(url: &str, schema: &str) -> Vec<String> {
    let mut conn: sqlx::PgConnection = sqlx::Connection::connect(url).await.unwrap();
    sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = $1 ORDER BY table_name",
    )
    .bind(schema)
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x4_store_in_a_schema_of_the_hosts_choosing() {
    let Some(url) = database_url("x4_store_in_a_schema_of_the_hosts_choosing") else {
        return;
    };
    // A name that is not a plain identifier is refused, typed, before any SQL.
    let err = "bad; drop"
        .parse::<SchemaName>()
        .expect_err("not a plain identifier");
    assert_eq!(err.name(), "bad; drop");
    let err: punchlist_sqlx::InvalidSchemaName =
        SchemaName::new("x\"; DROP SCHEMA public CASCADE; --").unwrap_err();
    assert!(err.to_string().starts_with("invalid schema name"), "{err}");

    // Two fresh schemas, dropped however the test ends.
    let (name_a, name_b) = (
        fresh_schema("x4_host").unwrap(),
        fresh_schema("x4_host").unwrap(),
    );
    let _drop_a = SchemaGuard::new(url.clone(), name_a.clone());
    let _drop_b = SchemaGuard::new(url.clone(), name_b.clone());
    let public_before = tables_in(&url, "public").await;

    let connect = |schema: &SchemaName| {
        PgStore::connect(&url, PoolConfig::default().with_schema(schema.clone()))
    };
    let a = Arc::new(connect(&name_a).await.expect("connect a"));
    let b = connect(&name_b).await.expect("connect b");
    assert_eq!(a.schema(), Some(&name_a));
    assert!(
        tables_in(&url, name_a.as_str()).await.is_empty(),
        "connecting creates nothing"
    );
    a.migrate().await.expect("migrate a: creates its schema");
    b.migrate().await.expect("migrate b");
    a.migrate().await.expect("migrating again is harmless");

    // The tables, the migration ledger included, are in each schema; none in `public`.
    let in_a = tables_in(&url, name_a.as_str()).await;
    for table in [
        "_sqlx_migrations",
        "events",
        "participants",
        "progress",
        "outbox",
    ] {
        assert!(
            in_a.iter().any(|t| t == table),
            "{table} missing in {name_a}: {in_a:?}"
        );
    }
    assert_eq!(tables_in(&url, name_b.as_str()).await, in_a);
    assert_eq!(
        tables_in(&url, "public").await,
        public_before,
        "nothing created in public"
    );
    let mut conn: sqlx::PgConnection = sqlx::Connection::connect(&url).await.unwrap();
    for schema in [&name_a, &name_b] {
        let applied: i64 =
            sqlx::query_scalar(&format!("SELECT count(*) FROM {schema}._sqlx_migrations"))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(
            applied,
            punchlist_sqlx::MIGRATOR.iter().count() as i64,
            "{schema} has a ledger of its own"
        );
    }

    // An event made in a is a's alone.
    let f = Fixture::with_store(a.clone()).await;
    assert!(a.event(f.event).await.unwrap().is_some());
    assert!(
        b.event(f.event).await.unwrap().is_none(),
        "the other schema's store does not see the event"
    );
    for (schema, expected) in [(&name_a, 1), (&name_b, 0)] {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {schema}.events WHERE event_id = $1"
        ))
        .bind(f.event.as_uuid())
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(n, expected, "rows of the event in {schema}");
    }

    // Live streams: b listening for the same event id hears none of a's changes (the
    // channel names the schema, since channels belong to the whole database).
    let mut feed_a = EventStore::progress_feed(&*a, f.event).await.unwrap();
    let mut feed_b = EventStore::progress_feed(&b, f.event).await.unwrap();
    let ann = f.participant("ann", &[]).await;
    let hotel = f.manual_task("Hotel", None).await;
    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, hotel.id)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), feed_a.next())
        .await
        .expect("a hears its own change")
        .expect("the feed goes on")
        .expect("a progress change");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        futures::FutureExt::now_or_never(feed_b.next()).is_none(),
        "b heard a change made in another schema"
    );
}
