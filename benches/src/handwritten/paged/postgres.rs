//! The paged work by hand on PostgreSQL, on narrow tables of its own in the benchmark's
//! schema (`hp_…`), keys starting with the event, no foreign key:
//!
//! | table | primary key | columns |
//! |---|---|---|
//! | `hp_people` | event, participant | external id (unique per event), erased, category |
//! | `hp_tasks` | event, task | category (none: everyone), deadline |
//! | `hp_progress` | event, participant, task | targeted, status, next reminder, reminders sent; indexes (event, task, status, participant) where targeted, (event, next reminder) where set |
//! | `hp_counters` | event, task | targeted, done, awaiting review |
//! | `hp_outbox` | event, entry (UUID v7) | idempotency key (unique per event), recipient, kind, tasks, created |
//! | `hp_timeline` | event, participant, entry (UUID v7) | kind, task, at |
//!
//! Each page of the publication, each batch of the tick and the whole import is one
//! statement (data-modifying CTEs, autocommitted); new progress rows are announced with
//! `pg_notify`, as the library's store does in its transaction.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::{Clock, ManualClock, TimelineId};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{Counts, OFFSETS, Op, Paged, Seed, newcomers};

/// A UUID v7 at `$t` (milliseconds of the timestamp, random bits).
macro_rules! v7 {
    ($t:literal) => {
        concat!(
            "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing \
             substring(int8send((extract(epoch FROM ",
            $t,
            "::timestamptz) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid"
        )
    };
}

/// The first reminder of a new row of a task with deadline `d` at `$now` (`$off`: the
/// offsets in seconds): the most relevant slot already due, else the earliest to come.
macro_rules! first_slot {
    ($d:literal, $now:literal, $off:literal) => {
        concat!(
            "CASE WHEN ",
            $d,
            " > ",
            $now,
            " THEN coalesce(",
            "(SELECT max(",
            $d,
            " - o * interval '1 second') FROM unnest(",
            $off,
            "::int8[]) o WHERE ",
            $d,
            " - o * interval '1 second' <= ",
            $now,
            "), ",
            "(SELECT min(",
            $d,
            " - o * interval '1 second') FROM unnest(",
            $off,
            "::int8[]) o WHERE ",
            $d,
            " - o * interval '1 second' > ",
            $now,
            ")) END"
        )
    };
}

const TABLES: [&str; 8] = [
    "CREATE TABLE hp_people (event_id uuid NOT NULL, participant_id uuid NOT NULL, \
     external_id text NOT NULL, erased boolean NOT NULL, category text NOT NULL, \
     PRIMARY KEY (event_id, participant_id), UNIQUE (event_id, external_id))",
    "CREATE TABLE hp_tasks (event_id uuid NOT NULL, task_id uuid NOT NULL, category text, \
     deadline timestamptz, PRIMARY KEY (event_id, task_id))",
    "CREATE TABLE hp_progress (event_id uuid NOT NULL, participant_id uuid NOT NULL, \
     task_id uuid NOT NULL, targeted boolean NOT NULL, status smallint NOT NULL, \
     next_reminder timestamptz, reminded smallint NOT NULL, \
     PRIMARY KEY (event_id, participant_id, task_id))",
    "CREATE INDEX hp_progress_by_task_status ON hp_progress \
     (event_id, task_id, status, participant_id) WHERE targeted",
    "CREATE INDEX hp_progress_due ON hp_progress (event_id, next_reminder) \
     WHERE next_reminder IS NOT NULL",
    "CREATE TABLE hp_counters (event_id uuid NOT NULL, task_id uuid NOT NULL, \
     targeted bigint NOT NULL, done bigint NOT NULL, awaiting_review bigint NOT NULL, \
     PRIMARY KEY (event_id, task_id))",
    "CREATE TABLE hp_outbox (event_id uuid NOT NULL, entry_id uuid NOT NULL, \
     idempotency_key text NOT NULL, recipient uuid NOT NULL, kind smallint NOT NULL, \
     tasks uuid[] NOT NULL, created_at timestamptz NOT NULL, \
     PRIMARY KEY (event_id, entry_id), UNIQUE (event_id, idempotency_key))",
    "CREATE TABLE hp_timeline (event_id uuid NOT NULL, participant_id uuid NOT NULL, \
     entry_id uuid NOT NULL, kind smallint NOT NULL, task_id uuid, at timestamptz NOT NULL, \
     PRIMARY KEY (event_id, participant_id, entry_id))",
];

/// One page of a publication. `$1` event, `$2` after (participant), `$3` task, `$4` the
/// rows' first reminder, `$5` with notice, `$6` now, `$7` the channel, `$8` page size.
const PUBLISH_PAGE: &str = concat!(
    "WITH page AS (
    SELECT participant_id, erased FROM hp_people
    WHERE event_id = $1 AND participant_id > $2 ORDER BY participant_id LIMIT $8
), made AS (
    INSERT INTO hp_progress (event_id, participant_id, task_id, targeted, status, next_reminder, reminded)
    SELECT $1, participant_id, $3, true, 0, $4, 0 FROM page WHERE NOT erased
    ON CONFLICT DO NOTHING
    RETURNING participant_id
), counted AS (
    UPDATE hp_counters SET targeted = targeted + (SELECT count(*) FROM made)
    WHERE event_id = $1 AND task_id = $3 RETURNING 1
), queued AS (
    INSERT INTO hp_outbox (event_id, entry_id, idempotency_key, recipient, kind, tasks, created_at)
    SELECT $1, ",
    v7!("$6"),
    ", 'publication:' || $3::text || ':' || participant_id::text, participant_id, 1,
        ARRAY[$3::uuid], $6
    FROM made WHERE $5
    ON CONFLICT DO NOTHING
    RETURNING 1
), notified AS (
    SELECT count(pg_notify($7, participant_id::text || ' ' || $3::text || ' 0')) AS n FROM made
)
SELECT (SELECT count(*) FROM page) AS seen, (SELECT participant_id FROM page ORDER BY participant_id DESC LIMIT 1) AS last,
    (SELECT count(*) FROM made) AS rows, (SELECT count(*) FROM queued) AS queued,
    (SELECT n FROM notified) AS notified, (SELECT count(*) FROM counted) AS counted"
);

/// One batch of the tick. `$1` event, `$2` now, `$3` batch size, `$4` offsets (seconds).
const TICK_BATCH: &str = concat!(
    "WITH due AS (
    SELECT p.participant_id, p.task_id, t.deadline FROM hp_progress p
    JOIN hp_tasks t ON t.event_id = p.event_id AND t.task_id = p.task_id
    WHERE p.event_id = $1 AND p.next_reminder <= $2
    ORDER BY p.next_reminder LIMIT $3
    FOR UPDATE OF p
), marked AS (
    UPDATE hp_progress p SET reminded = p.reminded + 1,
        next_reminder = CASE WHEN p.targeted AND p.status = 0 THEN
            (SELECT min(d.deadline - o * interval '1 second') FROM unnest($4::int8[]) o
             WHERE d.deadline - o * interval '1 second' > $2) END
    FROM due d
    WHERE p.event_id = $1 AND p.participant_id = d.participant_id AND p.task_id = d.task_id
    RETURNING p.participant_id, p.task_id, p.targeted AND p.status = 0 AS sent
), grouped AS (
    SELECT participant_id, array_agg(task_id ORDER BY task_id) AS tasks FROM marked
    WHERE sent GROUP BY participant_id
), queued AS (
    INSERT INTO hp_outbox (event_id, entry_id, idempotency_key, recipient, kind, tasks, created_at)
    SELECT $1, ",
    v7!("$2"),
    ", 'reminders:' || participant_id::text || ':' || tasks[1]::text || ':' || $2::text,
        participant_id, 2, tasks, $2
    FROM grouped
    ON CONFLICT DO NOTHING
    RETURNING 1
), logged AS (
    INSERT INTO hp_timeline (event_id, participant_id, entry_id, kind, task_id, at)
    SELECT $1, participant_id, ",
    v7!("$2"),
    ", 4, tasks[1], $2 FROM grouped
    RETURNING 1
)
SELECT (SELECT count(*) FROM due) AS found,
    (SELECT coalesce(sum(cardinality(tasks)), 0) FROM grouped)::int8 AS reminders,
    (SELECT count(*) FROM queued) AS messages, (SELECT count(*) FROM logged) AS logged"
);

/// The import. `$1` event, `$2` participants, `$3` external ids, `$4` categories, `$5`
/// now, `$6` offsets (seconds).
const IMPORT: &str = concat!(
    "WITH people AS (
    INSERT INTO hp_people (event_id, participant_id, external_id, erased, category)
    SELECT $1, p, e, false, c FROM unnest($2::uuid[], $3::text[], $4::text[]) AS i(p, e, c)
    ON CONFLICT DO NOTHING
    RETURNING participant_id, category
), made AS (
    INSERT INTO hp_progress (event_id, participant_id, task_id, targeted, status, next_reminder, reminded)
    SELECT $1, p.participant_id, t.task_id, true, 0, ",
    first_slot!("t.deadline", "$5", "$6"),
    ", 0
    FROM people p JOIN hp_tasks t ON t.event_id = $1
        AND (t.category IS NULL OR t.category = p.category)
    RETURNING task_id
), counted AS (
    UPDATE hp_counters c SET targeted = c.targeted + d.n
    FROM (SELECT task_id, count(*) AS n FROM made GROUP BY task_id) d
    WHERE c.event_id = $1 AND c.task_id = d.task_id
    RETURNING 1
), logged AS (
    INSERT INTO hp_timeline (event_id, participant_id, entry_id, kind, task_id, at)
    SELECT $1, participant_id, ",
    v7!("$5"),
    ", 3, NULL, $5 FROM people
    RETURNING 1
)
SELECT (SELECT count(*) FROM people) AS made, (SELECT count(*) FROM made) AS rows,
    (SELECT count(*) FROM logged) AS logged"
);

/// The baseline, on the library's pool (same server, schema and settings).
pub struct PgPaged {
    pool: PgPool,
    event: Uuid,
    channel: String,
    clock: ManualClock,
}

/// The batch size of the paged work (the library's `Config::batch_size` in the benches).
const BATCH: i64 = 1_000;

impl PgPaged {
    /// Creates the tables, seeds them with `seed` and analyzes them.
    pub async fn seeded(pool: &PgPool, seed: &Seed) -> Self {
        for sql in TABLES {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        let event = seed.event.as_uuid();
        for chunk in seed.people.chunks(2_000) {
            sqlx::query(
                "INSERT INTO hp_people SELECT $1, * FROM \
                 unnest($2::uuid[], $3::text[], $4::bool[], $5::text[])",
            )
            .bind(event)
            .bind(chunk.iter().map(|p| p.id.as_uuid()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|p| p.external.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|p| p.erased).collect::<Vec<_>>())
            .bind(chunk.iter().map(|p| p.category.clone()).collect::<Vec<_>>())
            .execute(pool)
            .await
            .unwrap();
            let (mut who, mut task, mut targeted, mut status, mut next) =
                (vec![], vec![], vec![], vec![], vec![]);
            for p in chunk {
                for (t, tg, s, n) in &p.rows {
                    who.push(p.id.as_uuid());
                    task.push(t.as_uuid());
                    targeted.push(*tg);
                    status.push(i16::from(*s));
                    next.push(*n);
                }
            }
            sqlx::query(
                "INSERT INTO hp_progress SELECT $1, p, t, tg, s, n, 0 FROM \
                 unnest($2::uuid[], $3::uuid[], $4::bool[], $5::int2[], $6::timestamptz[]) \
                 AS i(p, t, tg, s, n)",
            )
            .bind(event)
            .bind(&who)
            .bind(&task)
            .bind(&targeted)
            .bind(&status)
            .bind(&next)
            .execute(pool)
            .await
            .unwrap();
        }
        for t in &seed.tasks {
            sqlx::query("INSERT INTO hp_tasks VALUES ($1, $2, $3, $4)")
                .bind(event)
                .bind(t.id.as_uuid())
                .bind(t.category.clone())
                .bind(t.deadline)
                .execute(pool)
                .await
                .unwrap();
        }
        for (task, c) in &seed.counters {
            sqlx::query("INSERT INTO hp_counters VALUES ($1, $2, $3, $4, $5)")
                .bind(event)
                .bind(task.as_uuid())
                .bind(c.targeted)
                .bind(c.done)
                .bind(c.awaiting_review)
                .execute(pool)
                .await
                .unwrap();
        }
        for t in ["people", "tasks", "progress", "counters"] {
            sqlx::query(&format!("ANALYZE hp_{t}"))
                .execute(pool)
                .await
                .unwrap();
        }
        PgPaged {
            pool: pool.clone(),
            event,
            channel: format!("hp_{}", event.simple()),
            clock: seed.clock.clone(),
        }
    }

    /// Publishes a new task to everyone: the task row and its counters, then one
    /// statement per page of 1,000 participants. Returns (rows, notices).
    pub async fn publish(&self, deadline: Option<DateTime<Utc>>, notify: bool) -> (u64, u64) {
        let now = self.clock.now();
        let task = TimelineId::happened_at(now).as_uuid(); // time-ordered, as the library's
        sqlx::query(
            "WITH t AS (INSERT INTO hp_tasks VALUES ($1, $2, NULL, $3)) \
             INSERT INTO hp_counters VALUES ($1, $2, 0, 0, 0)",
        )
        .bind(self.event)
        .bind(task)
        .bind(deadline)
        .execute(&self.pool)
        .await
        .unwrap();
        let first = deadline.and_then(|d| super::first_slot(d, now));
        let (mut after, mut rows, mut notices) = (Uuid::nil(), 0u64, 0u64);
        loop {
            let r = sqlx::query(PUBLISH_PAGE)
                .bind(self.event)
                .bind(after)
                .bind(task)
                .bind(first)
                .bind(notify)
                .bind(now)
                .bind(&self.channel)
                .bind(BATCH)
                .fetch_one(&self.pool)
                .await
                .unwrap();
            let seen: i64 = r.get("seen");
            assert_eq!(r.get::<i64, _>("counted"), 1, "the task's counters");
            rows += r.get::<i64, _>("rows") as u64;
            notices += r.get::<i64, _>("queued") as u64;
            if seen < BATCH {
                return (rows, notices);
            }
            after = r.get("last");
        }
    }

    /// The tick: batches of 1,000 due rows through the due index. Returns (reminders,
    /// messages).
    pub async fn tick(&self) -> (u64, u64) {
        let now = self.clock.now();
        let (mut reminders, mut messages) = (0u64, 0u64);
        loop {
            let r = sqlx::query(TICK_BATCH)
                .bind(self.event)
                .bind(now)
                .bind(BATCH)
                .bind(OFFSETS.to_vec())
                .fetch_one(&self.pool)
                .await
                .unwrap();
            let m: i64 = r.get("messages");
            assert_eq!(m, r.get::<i64, _>("logged"), "a timeline row per message");
            reminders += r.get::<i64, _>("reminders") as u64;
            messages += m as u64;
            if r.get::<i64, _>("found") < BATCH {
                return (reminders, messages);
            }
        }
    }

    /// Imports round `round`'s newcomers in one statement. Returns (participants, rows).
    pub async fn import(&self, round: u64, n: usize) -> (u64, u64) {
        let now = self.clock.now();
        let items = newcomers(round, n);
        let ids: Vec<Uuid> = items
            .iter()
            .map(|_| TimelineId::happened_at(now).as_uuid())
            .collect();
        let r = sqlx::query(IMPORT)
            .bind(self.event)
            .bind(&ids)
            .bind(
                items
                    .iter()
                    .map(|c| c.external.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                items
                    .iter()
                    .map(|c| c.category.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(now)
            .bind(OFFSETS.to_vec())
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let made: i64 = r.get("made");
        assert_eq!(made, r.get::<i64, _>("logged"), "a timeline row each");
        (made as u64, r.get::<i64, _>("rows") as u64)
    }
}

#[async_trait]
impl Paged for PgPaged {
    async fn round(&self, op: Op, round: u64, n: usize) -> (Duration, Counts) {
        match op {
            Op::Publish => {
                let started = Instant::now();
                let (rows, notices) = self.publish(None, true).await;
                (started.elapsed(), [rows, notices, 0])
            }
            Op::TickDue | Op::TickNone => {
                if op == Op::TickDue {
                    let due = self.clock.now() + chrono::Duration::hours(20);
                    self.publish(Some(due), false).await;
                }
                let started = Instant::now();
                let (reminders, messages) = self.tick().await;
                (started.elapsed(), [reminders, messages, 0])
            }
            Op::Import => {
                let started = Instant::now();
                let (made, rows) = self.import(round, n).await;
                (started.elapsed(), [made, rows, 0])
            }
        }
    }
}
