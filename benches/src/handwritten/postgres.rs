//! The hand-written baseline on PostgreSQL: one prepared statement per batch (data-modifying
//! CTEs, the batch as array parameters), on narrow tables of its own in the benchmark's
//! schema, keyed by the event first, with the (task, status) index on progress:
//!
//! | table | primary key | columns |
//! |---|---|---|
//! | `…events` (foreign keys only) | event | — |
//! | `…facts` | event, participant | version, erased, logo, products, invitations, collaborators |
//! | `…members` | event, participant, kind, object | at, present, was |
//! | `…host_events` | event, host id | — |
//! | `…progress` | event, participant, task | targeted, status; index (event, task, status, participant) where targeted |
//! | `…counters` | event, task | targeted, done, awaiting_review |
//! | `…timeline` | event, participant, entry (UUID v7) | kind, task, at |
//! | `…conditions` | event, task | fact, at_least |
//!
//! Two variants: *lean* (`hw_lean_…`: existence and erasure checked on the participant's
//! facts row, no foreign key, so no trigger on the hot inserts) and *foreign keys*
//! (`hw_fk_…`: the references of the library's schema: host ids, counters, conditions and
//! facts to the event; members, progress and timeline to the participant's row).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::{
    Clock, HostEvent, HostFact, ManualClock, ParticipantId, ParticipantRef, TaskCounters, TaskId,
};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{COLLABORATORS, INVITATIONS, Ingest, LOGO, PRODUCTS, Seen, Snapshot};

/// The batch's statement. `$1` event, `$2` host ids, `$3` participants, `$4` kinds, `$5`
/// objects, `$6` present, `$7` occurrences, `$8` now, `$9` the notification channel.
///
/// - `input`: the batch, one row per host id (a repeat within the batch dropped).
/// - `known`: the participants that exist and are not erased, their facts rows locked.
/// - `fresh`: the host ids not ingested before, recorded (duplicates drop out here).
/// - `members`: per member the occurrence that wins (latest; a removal on a tie), upserted
///   only if it wins over the stored one; `was` keeps the stored presence, read under the
///   row's lock, so the count's delta is exact whatever runs beside.
/// - `moved`: each participant's counts moved by their deltas and version bumped, under the
///   facts row's lock; before and after.
/// - `flips`: the conditions that read a count that moved, where they flip.
/// - `progressed`: those rows, if targeted and in the other status.
/// - `counted`, `logged`, `notified`: counters by deltas, a timeline row and a
///   notification per status change.
const STATEMENT: &str = "
WITH input AS (
    SELECT DISTINCT ON (host_id) host_id, participant_id, kind, object, present, at
    FROM unnest($2::text[], $3::uuid[], $4::int2[], $5::text[], $6::bool[], $7::timestamptz[])
        WITH ORDINALITY AS i(host_id, participant_id, kind, object, present, at, n)
    ORDER BY host_id, n
), known AS (
    SELECT f.participant_id FROM {p}facts f
    WHERE f.event_id = $1 AND f.participant_id IN (SELECT participant_id FROM input)
      AND NOT f.erased
    FOR UPDATE
), fresh AS (
    INSERT INTO {p}host_events (event_id, host_event_id)
    SELECT $1, host_id FROM input WHERE participant_id IN (SELECT participant_id FROM known)
    ON CONFLICT DO NOTHING
    RETURNING host_event_id
), winners AS (
    SELECT DISTINCT ON (i.participant_id, i.kind, i.object)
        i.participant_id, i.kind, i.object, i.present, i.at
    FROM input i JOIN fresh f ON f.host_event_id = i.host_id
    WHERE i.kind >= 0
    ORDER BY i.participant_id, i.kind, i.object, i.at DESC, i.present
), members AS (
    INSERT INTO {p}members AS m (event_id, participant_id, kind, object, at, present, was)
    SELECT $1, participant_id, kind, object, at, present, false FROM winners
    ON CONFLICT (event_id, participant_id, kind, object) DO UPDATE
        SET at = excluded.at, present = excluded.present, was = m.present
        WHERE excluded.at > m.at OR (excluded.at = m.at AND m.present AND NOT excluded.present)
    RETURNING participant_id, kind, present::int - was::int AS delta
), deltas AS (
    SELECT participant_id,
        coalesce(sum(delta) FILTER (WHERE kind = 0), 0) AS logo,
        coalesce(sum(delta) FILTER (WHERE kind = 1), 0) AS products,
        coalesce(sum(delta) FILTER (WHERE kind = 2), 0) AS invitations,
        coalesce(sum(delta) FILTER (WHERE kind = 3), 0) AS collaborators
    FROM members GROUP BY participant_id
), moved AS (
    UPDATE {p}facts f SET version = f.version + 1,
        logo = f.logo + d.logo, products = f.products + d.products,
        invitations = f.invitations + d.invitations,
        collaborators = f.collaborators + d.collaborators
    FROM deltas d
    WHERE f.event_id = $1 AND f.participant_id = d.participant_id
    RETURNING f.participant_id,
        ARRAY[f.logo - d.logo, f.products - d.products, f.invitations - d.invitations,
              f.collaborators - d.collaborators]::int[] AS before,
        ARRAY[f.logo, f.products, f.invitations, f.collaborators]::int[] AS after
), flips AS (
    SELECT m.participant_id, c.task_id, m.after[c.fact + 1] >= c.at_least AS done
    FROM moved m JOIN {p}conditions c ON c.event_id = $1
    WHERE (m.before[c.fact + 1] >= c.at_least) <> (m.after[c.fact + 1] >= c.at_least)
), progressed AS (
    UPDATE {p}progress p SET status = CASE WHEN fl.done THEN 1 ELSE 0 END
    FROM flips fl
    WHERE p.event_id = $1 AND p.participant_id = fl.participant_id AND p.task_id = fl.task_id
      AND p.targeted AND p.status = CASE WHEN fl.done THEN 0 ELSE 1 END
    RETURNING p.participant_id, p.task_id, p.status
), counted AS (
    UPDATE {p}counters c SET done = c.done + d.delta
    FROM (SELECT task_id, sum(CASE WHEN status = 1 THEN 1 ELSE -1 END) AS delta
          FROM progressed GROUP BY task_id) d
    WHERE c.event_id = $1 AND c.task_id = d.task_id
    RETURNING 1
), logged AS (
    INSERT INTO {p}timeline (event_id, participant_id, entry_id, kind, task_id, at)
    SELECT $1, participant_id,
        encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
            substring(int8send((extract(epoch FROM $8::timestamptz) * 1000)::bigint) FROM 3)
            FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid,
        CASE WHEN status = 1 THEN 1 ELSE 2 END, task_id, $8
    FROM progressed
    RETURNING 1
), notified AS (
    SELECT count(pg_notify($9, participant_id::text || ' ' || task_id::text || ' ' || status))
        AS n
    FROM progressed
)
SELECT (SELECT count(*) FROM fresh) AS applied, (SELECT n FROM notified) AS changes,
    (SELECT count(*) FROM counted) + (SELECT count(*) FROM logged) AS written
";

/// One of the two variants, on the library's pool (same server, same settings).
pub struct PgBaseline {
    pool: PgPool,
    event: Uuid,
    prefix: &'static str,
    sql: String,
    channel: String,
    clock: ManualClock,
}

fn tables(p: &str, fk: bool) -> Vec<String> {
    let ev = if fk {
        format!(" REFERENCES {p}events (event_id)")
    } else {
        String::new()
    };
    let who = if fk {
        format!(
            ",\n FOREIGN KEY (event_id, participant_id) REFERENCES {p}facts (event_id, participant_id)"
        )
    } else {
        String::new()
    };
    let mut out = Vec::new();
    if fk {
        out.push(format!(
            "CREATE TABLE {p}events (event_id uuid PRIMARY KEY)"
        ));
    }
    out.extend([
        format!(
            "CREATE TABLE {p}facts (event_id uuid NOT NULL{ev}, participant_id uuid NOT NULL, \
             version bigint NOT NULL, erased boolean NOT NULL, logo int NOT NULL, \
             products int NOT NULL, invitations int NOT NULL, collaborators int NOT NULL, \
             PRIMARY KEY (event_id, participant_id))"
        ),
        format!(
            "CREATE TABLE {p}members (event_id uuid NOT NULL, participant_id uuid NOT NULL, \
             kind smallint NOT NULL, object text NOT NULL, at timestamptz NOT NULL, \
             present boolean NOT NULL, was boolean NOT NULL, \
             PRIMARY KEY (event_id, participant_id, kind, object){who})"
        ),
        format!(
            "CREATE TABLE {p}host_events (event_id uuid NOT NULL{ev}, host_event_id text NOT NULL, \
             PRIMARY KEY (event_id, host_event_id))"
        ),
        format!(
            "CREATE TABLE {p}progress (event_id uuid NOT NULL, participant_id uuid NOT NULL, \
             task_id uuid NOT NULL, targeted boolean NOT NULL, status smallint NOT NULL, \
             PRIMARY KEY (event_id, participant_id, task_id){who})"
        ),
        format!(
            "CREATE INDEX {p}progress_by_task_status ON {p}progress \
             (event_id, task_id, status, participant_id) WHERE targeted"
        ),
        format!(
            "CREATE TABLE {p}counters (event_id uuid NOT NULL{ev}, task_id uuid NOT NULL, \
             targeted bigint NOT NULL, done bigint NOT NULL, awaiting_review bigint NOT NULL, \
             PRIMARY KEY (event_id, task_id))"
        ),
        format!(
            "CREATE TABLE {p}timeline (event_id uuid NOT NULL, participant_id uuid NOT NULL, \
             entry_id uuid NOT NULL, kind smallint NOT NULL, task_id uuid, \
             at timestamptz NOT NULL, PRIMARY KEY (event_id, participant_id, entry_id){who})"
        ),
        format!(
            "CREATE TABLE {p}conditions (event_id uuid NOT NULL{ev}, task_id uuid NOT NULL, \
             fact smallint NOT NULL, at_least int NOT NULL, PRIMARY KEY (event_id, task_id))"
        ),
    ]);
    out
}

/// The counted fact of a host fact: kind (-1: a fact this model does not count), object,
/// present.
fn member_of(fact: &HostFact) -> (i16, String, bool) {
    let (kind, object, present) = match fact {
        HostFact::LogoUploaded => (LOGO, "logo", true),
        HostFact::LogoRemoved => (LOGO, "logo", false),
        HostFact::ProductAdded { product } => (PRODUCTS, product.as_str(), true),
        HostFact::ProductRemoved { product } => (PRODUCTS, product.as_str(), false),
        HostFact::InvitationSent { invitation } => (INVITATIONS, invitation.as_str(), true),
        HostFact::InvitationWithdrawn { invitation } => (INVITATIONS, invitation.as_str(), false),
        HostFact::CollaboratorAdded { collaborator } => {
            (COLLABORATORS, collaborator.as_str(), true)
        }
        HostFact::CollaboratorRemoved { collaborator } => {
            (COLLABORATORS, collaborator.as_str(), false)
        }
        _ => return (-1, String::new(), false),
    };
    (i16::from(kind), object.to_owned(), present)
}

async fn run(pool: &PgPool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}

impl PgBaseline {
    /// Creates the variant's tables (`fk`: with foreign keys) in the pool's schema, seeds
    /// them with `snapshot`, and analyzes them, as a host would after a bulk load.
    pub async fn seeded(pool: &PgPool, snapshot: &Snapshot, fk: bool) -> Self {
        let prefix = if fk { "hw_fk_" } else { "hw_lean_" };
        for sql in tables(prefix, fk) {
            run(pool, &sql).await;
        }
        let p = prefix;
        let event = snapshot.event.as_uuid();
        if fk {
            sqlx::query(&format!("INSERT INTO {p}events VALUES ($1)"))
                .bind(event)
                .execute(pool)
                .await
                .unwrap();
        }
        for chunk in snapshot.people.chunks(2_000) {
            let ids: Vec<Uuid> = chunk.iter().map(|p| p.id.as_uuid()).collect();
            let count = |i: usize| chunk.iter().map(|p| p.counts[i]).collect::<Vec<i32>>();
            sqlx::query(&format!(
                "INSERT INTO {p}facts SELECT $1, * FROM unnest($2::uuid[], $3::int8[], \
                 $4::bool[], $5::int[], $6::int[], $7::int[], $8::int[])"
            ))
            .bind(event)
            .bind(&ids)
            .bind(chunk.iter().map(|p| p.version as i64).collect::<Vec<_>>())
            .bind(chunk.iter().map(|p| p.erased).collect::<Vec<_>>())
            .bind(count(0))
            .bind(count(1))
            .bind(count(2))
            .bind(count(3))
            .execute(pool)
            .await
            .unwrap();
            let (mut who, mut kind, mut object, mut at, mut present) =
                (vec![], vec![], vec![], vec![], vec![]);
            for p in chunk {
                for m in &p.members {
                    who.push(p.id.as_uuid());
                    kind.push(i16::from(m.kind));
                    object.push(m.object.clone());
                    at.push(m.at);
                    present.push(m.present);
                }
            }
            sqlx::query(&format!(
                "INSERT INTO {p}members SELECT $1, p, k, o, a, pr, false FROM \
                 unnest($2::uuid[], $3::int2[], $4::text[], $5::timestamptz[], $6::bool[]) \
                 AS t(p, k, o, a, pr)"
            ))
            .bind(event)
            .bind(&who)
            .bind(&kind)
            .bind(&object)
            .bind(&at)
            .bind(&present)
            .execute(pool)
            .await
            .unwrap();
            let (mut who, mut task, mut targeted, mut status) = (vec![], vec![], vec![], vec![]);
            for p in chunk {
                for r in &p.rows {
                    who.push(p.id.as_uuid());
                    task.push(r.task.as_uuid());
                    targeted.push(r.targeted);
                    status.push(i16::from(r.status));
                }
            }
            sqlx::query(&format!(
                "INSERT INTO {p}progress SELECT $1, * FROM \
                 unnest($2::uuid[], $3::uuid[], $4::bool[], $5::int2[])"
            ))
            .bind(event)
            .bind(&who)
            .bind(&task)
            .bind(&targeted)
            .bind(&status)
            .execute(pool)
            .await
            .unwrap();
            let (mut who, mut entry, mut kind, mut task, mut at) =
                (vec![], vec![], vec![], vec![], vec![]);
            for p in chunk {
                for (id, k, t, a) in &p.timeline {
                    who.push(p.id.as_uuid());
                    entry.push(*id);
                    kind.push(i16::from(*k));
                    task.push(t.map(|t| t.as_uuid()));
                    at.push(*a);
                }
            }
            sqlx::query(&format!(
                "INSERT INTO {p}timeline SELECT $1, * FROM \
                 unnest($2::uuid[], $3::uuid[], $4::int2[], $5::uuid[], $6::timestamptz[])"
            ))
            .bind(event)
            .bind(&who)
            .bind(&entry)
            .bind(&kind)
            .bind(&task)
            .bind(&at)
            .execute(pool)
            .await
            .unwrap();
        }
        for chunk in snapshot.host_ids.chunks(20_000) {
            sqlx::query(&format!(
                "INSERT INTO {p}host_events SELECT $1, h FROM unnest($2::text[]) AS t(h) \
                 ON CONFLICT DO NOTHING"
            ))
            .bind(event)
            .bind(chunk)
            .execute(pool)
            .await
            .unwrap();
        }
        for (task, c) in &snapshot.counters {
            sqlx::query(&format!(
                "INSERT INTO {p}counters VALUES ($1, $2, $3, $4, $5)"
            ))
            .bind(event)
            .bind(task.as_uuid())
            .bind(c.targeted)
            .bind(c.done)
            .bind(c.awaiting_review)
            .execute(pool)
            .await
            .unwrap();
        }
        for c in &snapshot.conditions {
            sqlx::query(&format!(
                "INSERT INTO {p}conditions VALUES ($1, $2, $3, $4)"
            ))
            .bind(event)
            .bind(c.task.as_uuid())
            .bind(i16::from(c.fact))
            .bind(c.at_least as i32)
            .execute(pool)
            .await
            .unwrap();
        }
        for t in [
            "facts",
            "members",
            "host_events",
            "progress",
            "counters",
            "timeline",
            "conditions",
        ] {
            run(pool, &format!("ANALYZE {p}{t}")).await;
        }
        PgBaseline {
            pool: pool.clone(),
            event,
            prefix,
            sql: STATEMENT.replace("{p}", prefix),
            channel: format!("{prefix}{}", event.simple()),
            clock: snapshot.clock.clone(),
        }
    }

    /// Ingests `batch` with the one statement; returns (applied, status changes).
    pub async fn ingest_now(&self, batch: &[HostEvent]) -> (i64, i64) {
        let n = batch.len();
        let (mut ids, mut who, mut kind, mut object, mut present, mut at) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::<DateTime<Utc>>::with_capacity(n),
        );
        for e in batch {
            let ParticipantRef::Id(p) = &e.participant else {
                continue; // the host's ids are not resolved by this baseline
            };
            let (k, o, pr) = member_of(&e.fact);
            ids.push(e.id.as_str());
            who.push(p.as_uuid());
            kind.push(k);
            object.push(o);
            present.push(pr);
            at.push(e.occurred_at);
        }
        let row = sqlx::query(&self.sql)
            .bind(self.event)
            .bind(&ids)
            .bind(&who)
            .bind(&kind)
            .bind(&object)
            .bind(&present)
            .bind(&at)
            .bind(self.clock.now())
            .bind(&self.channel)
            .fetch_one(&self.pool)
            .await
            .unwrap();
        (row.get("applied"), row.get("changes"))
    }
}

#[async_trait]
impl Ingest for PgBaseline {
    async fn ingest(&self, batch: Vec<HostEvent>) {
        let (applied, _) = self.ingest_now(&batch).await;
        assert_eq!(applied as usize, batch.len(), "every event applied");
    }

    async fn seen(
        &self,
        people: &[ParticipantId],
        tasks: &[TaskId],
    ) -> (Vec<Seen>, BTreeMap<TaskId, TaskCounters>) {
        let p = self.prefix;
        let ids: Vec<Uuid> = people.iter().map(|p| p.as_uuid()).collect();
        let task_ids: Vec<Uuid> = tasks.iter().map(|t| t.as_uuid()).collect();
        let mut seen: BTreeMap<Uuid, Seen> = BTreeMap::new();
        for row in sqlx::query(&format!(
            "SELECT participant_id, products FROM {p}facts \
             WHERE event_id = $1 AND participant_id = ANY($2)"
        ))
        .bind(self.event)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .unwrap()
        {
            seen.insert(row.get(0), (row.get(1), BTreeMap::new()));
        }
        for row in sqlx::query(&format!(
            "SELECT participant_id, task_id, status FROM {p}progress \
             WHERE event_id = $1 AND participant_id = ANY($2) AND task_id = ANY($3)"
        ))
        .bind(self.event)
        .bind(&ids)
        .bind(&task_ids)
        .fetch_all(&self.pool)
        .await
        .unwrap()
        {
            let status: i16 = row.get(2);
            if let Some(s) = seen.get_mut(&row.get::<Uuid, _>(0)) {
                s.1.insert(TaskId::from_uuid(row.get(1)), status as u8);
            }
        }
        let counters = sqlx::query(&format!(
            "SELECT task_id, targeted, done, awaiting_review FROM {p}counters \
             WHERE event_id = $1 AND task_id = ANY($2)"
        ))
        .bind(self.event)
        .bind(&task_ids)
        .fetch_all(&self.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                TaskId::from_uuid(r.get(0)),
                TaskCounters {
                    targeted: r.get(1),
                    done: r.get(2),
                    awaiting_review: r.get(3),
                },
            )
        })
        .collect();
        let seen = ids
            .iter()
            .map(|id| seen.remove(id).unwrap_or_default())
            .collect();
        (seen, counters)
    }
}
