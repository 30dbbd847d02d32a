//! Hand-written baselines of "ingest 1,000 events": the same work as the library's
//! `ingest_batch`, written by hand on the same engine as a competent host would, on narrow
//! tables of their own, seeded with the library's own state so both start from the same
//! place and apply the same event sequence.
//!
//! The semantics every baseline keeps, as the library does: host ids deduplicated (within
//! the batch and against those already ingested); each counted fact a set member keeping
//! its latest occurrence (a removal wins a tie), so delivery order does not matter; the
//! participant's count moved under a row lock, with their version; existence and erasure
//! checked; only the tasks whose condition reads a count that moved, and only where the
//! condition flips; the task counters moved by deltas; a timeline row per status change;
//! a notification per status change for live tracking; keys that start with the event.
//!
//! What a baseline leaves out, as this event never needs it (and says so in the README):
//! facts other than counted facts and the logo, tasks decided by an organizer, tasks
//! awaiting review, the host's own participant ids. The library handles all of them.

pub mod paged;
pub mod postgres;
pub mod redb;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use criterion::{Criterion, SamplingMode};
use punchlist::*;
use tokio::runtime::Runtime;

use crate::World;

/// The fact a condition reads, as the baselines number them (and their count columns).
pub const LOGO: u8 = 0;
/// Products.
pub const PRODUCTS: u8 = 1;
/// Invitations.
pub const INVITATIONS: u8 = 2;
/// Collaborators.
pub const COLLABORATORS: u8 = 3;

/// Status bytes, as in the library's redb keys.
pub const TODO: u8 = 0;
/// Done.
pub const DONE: u8 = 1;
/// Awaiting review.
pub const AWAITING: u8 = 2;

/// Timeline kinds of the baselines' rows.
pub const COMPLETED: u8 = 1;
/// A done task went back to do.
pub const REOPENED: u8 = 2;
/// Anything else the library wrote (seeded rows only).
pub const OTHER: u8 = 0;

/// An automatic task's condition on one count: done when `count(fact) >= at_least`.
#[derive(Debug, Clone, Copy)]
pub struct Cond {
    /// The task.
    pub task: TaskId,
    /// Which count it reads.
    pub fact: u8,
    /// The threshold.
    pub at_least: u32,
}

/// A member of a counted fact (or the logo, object `logo`), with its latest occurrence.
#[derive(Debug, Clone)]
pub struct Member {
    /// Which fact.
    pub kind: u8,
    /// The host's object id.
    pub object: String,
    /// Its latest occurrence.
    pub at: DateTime<Utc>,
    /// Present (added) or not (removed).
    pub present: bool,
}

/// A progress row as the baselines keep it.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The task.
    pub task: TaskId,
    /// Whether the participant is in the task's segment.
    pub targeted: bool,
    /// `TODO`, `DONE` or `AWAITING`.
    pub status: u8,
}

/// One participant as the baselines keep them.
#[derive(Debug, Clone)]
pub struct Person {
    /// The participant.
    pub id: ParticipantId,
    /// The library's version of their state.
    pub version: u64,
    /// Erased (X6): their facts take no new values.
    pub erased: bool,
    /// Present members per fact: logo (0 or 1), products, invitations, collaborators.
    pub counts: [i32; 4],
    /// Their facts' members.
    pub members: Vec<Member>,
    /// Their progress rows.
    pub rows: Vec<Row>,
    /// Their timeline entries: id, kind, task, time.
    pub timeline: Vec<(uuid::Uuid, u8, Option<TaskId>, DateTime<Utc>)>,
}

/// The library's state of an event, read once through its public store traits, from which
/// every baseline seeds its tables: the same participants, facts, progress, counters,
/// timeline and ingested host ids.
pub struct Snapshot {
    /// The event.
    pub event: EventId,
    /// The automatic conditions of published tasks on a count.
    pub conditions: Vec<Cond>,
    /// Every participant of the event.
    pub people: Vec<Person>,
    /// The per-task counters.
    pub counters: BTreeMap<TaskId, TaskCounters>,
    /// The host ids already ingested, rebuilt from the generator's naming (the store has no
    /// call that lists them): one per member, so the baselines' id tables are as large.
    pub host_ids: Vec<String>,
    /// The library's clock: the baselines take "now" from it, as the library does.
    pub clock: ManualClock,
}

fn status_byte(s: ProgressStatus) -> u8 {
    match s {
        ProgressStatus::Todo => TODO,
        ProgressStatus::Done => DONE,
        _ => AWAITING,
    }
}

/// The members of a fact from its serialized form (`{object: {value, at}}`).
fn members_of(kind: u8, v: &serde_json::Value, out: &mut Vec<Member>) {
    let Some(map) = v.as_object() else { return };
    for (object, s) in map {
        out.push(Member {
            kind,
            object: object.clone(),
            at: serde_json::from_value(s["at"].clone()).expect("a stamp"),
            present: s["value"].as_bool().expect("a stamped bool"),
        });
    }
}

impl Snapshot {
    /// Reads `world`'s event as it stands.
    pub async fn read<S: Store>(world: &World<S>) -> Snapshot {
        let store = world.service.store();
        let event = world.event;
        let config = store.event_config(event).await.unwrap().expect("the event");
        let conditions = config
            .tasks
            .values()
            .filter(|t| t.state == TaskState::Published)
            .filter_map(|t| match &t.config.completion {
                CompletionMode::Automatic { condition } => {
                    let (fact, at_least) = match condition {
                        Condition::LogoUploaded => (LOGO, 1),
                        Condition::Products { at_least } => (PRODUCTS, *at_least),
                        Condition::Invitations { at_least } => (INVITATIONS, *at_least),
                        Condition::Collaborators { at_least } => (COLLABORATORS, *at_least),
                        _ => return None,
                    };
                    Some(Cond {
                        task: t.id,
                        fact,
                        at_least,
                    })
                }
                CompletionMode::Manual => None,
            })
            .collect();
        let mut people = Vec::with_capacity(world.people.len());
        let mut host_ids = Vec::new();
        let mut after = None;
        loop {
            let page = store.participants(event, after, 1_000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.participant.id);
            for s in page {
                let facts = serde_json::to_value(&s.facts).unwrap();
                let mut members = Vec::new();
                if let Some(logo) = s.facts.logo.as_ref() {
                    members.push(Member {
                        kind: LOGO,
                        object: "logo".into(),
                        at: logo.at,
                        present: logo.value,
                    });
                }
                members_of(PRODUCTS, &facts["products"], &mut members);
                members_of(INVITATIONS, &facts["invitations"], &mut members);
                members_of(COLLABORATORS, &facts["collaborators"], &mut members);
                let mut counts = [0i32; 4];
                for m in members.iter().filter(|m| m.present) {
                    counts[usize::from(m.kind)] += 1;
                }
                for m in &members {
                    // The generator's ids: `seed-prod-X` for `sku-X`, `bench-X` for `b-X`.
                    host_ids.push(match m.object.split_once('-') {
                        Some(("sku", rest)) => format!("seed-prod-{rest}"),
                        Some(("b", rest)) => format!("bench-{rest}"),
                        _ => format!("seed-{}-{}", m.object, s.participant.id),
                    });
                }
                let rows = s
                    .progress
                    .values()
                    .map(|r| Row {
                        task: r.task,
                        targeted: r.targeted,
                        status: status_byte(r.status),
                    })
                    .collect();
                let timeline = store
                    .timeline(event, s.participant.id, &TimelineFilter::default(), 10_000)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| {
                        let (kind, task) = match e.kind {
                            TimelineKind::TaskCompleted { task } => (COMPLETED, Some(task)),
                            TimelineKind::TaskReopened { task } => (REOPENED, Some(task)),
                            _ => (OTHER, None),
                        };
                        (e.id.as_uuid(), kind, task, e.at)
                    })
                    .collect();
                people.push(Person {
                    id: s.participant.id,
                    version: s.version,
                    erased: s.participant.erased_at.is_some(),
                    counts,
                    members,
                    rows,
                    timeline,
                });
            }
        }
        let counters = store.task_counters(event).await.unwrap();
        Snapshot {
            event,
            conditions,
            people,
            counters,
            host_ids,
            clock: world.service.clock().clone(),
        }
    }
}

/// One pass: 1,000 participants, each sent the same kind of event every round.
///
/// A round is a reset (untimed: each participant's pass product removed) then the timed
/// batch (the product added again, at a later instant), so every round starts from the
/// same state and does the same work: on the first pass the added product takes each
/// participant's count across the product tasks' thresholds (every product task they are
/// targeted by flips to done, and the reset flips it back); on the later pass the count is
/// already above every threshold, so nothing flips.
pub struct Pass {
    /// `first pass` or `later pass`.
    pub name: &'static str,
    /// Its participants.
    pub people: Vec<ParticipantId>,
    /// The product tasks (whose conditions the pass's facts move).
    pub tasks: Vec<TaskId>,
    /// The instant of round 0 (then one second per batch).
    pub base: DateTime<Utc>,
}

impl Pass {
    /// The two passes of `snapshot`: exhibitors targeted by every product task, whose count
    /// is one below every threshold (first pass), or at least the highest (later pass).
    pub fn both(snapshot: &Snapshot, now: DateTime<Utc>) -> [Pass; 2] {
        let products: Vec<&Cond> = snapshot
            .conditions
            .iter()
            .filter(|c| c.fact == PRODUCTS)
            .collect();
        let low = products.iter().map(|c| c.at_least).min().unwrap_or(1);
        let high = products.iter().map(|c| c.at_least).max().unwrap_or(1);
        let eligible = |p: &&Person| {
            !p.erased
                && products.iter().all(|c| {
                    p.rows
                        .iter()
                        .any(|r| r.task == c.task && r.targeted && r.status != AWAITING)
                })
        };
        let pick = |name, want: &dyn Fn(i32) -> bool| {
            let people: Vec<ParticipantId> = snapshot
                .people
                .iter()
                .filter(eligible)
                .filter(|p| want(p.counts[usize::from(PRODUCTS)]))
                .map(|p| p.id)
                .take(1_000)
                .collect();
            assert_eq!(
                people.len(),
                1_000,
                "{name}: the event has fewer than 1,000 participants that fit"
            );
            Pass {
                name,
                people,
                tasks: products.iter().map(|c| c.task).collect(),
                base: now - chrono::Duration::days(20),
            }
        };
        [
            pick("first pass", &|c| low == high && c == low as i32 - 1),
            pick("later pass", &|c| c >= high as i32),
        ]
    }

    /// Round `round`'s batch: the reset (`add` false) or the timed batch.
    pub fn batch(&self, round: u64, add: bool) -> Vec<HostEvent> {
        let tag = self.name.replace(' ', "-");
        let at = self.base + chrono::Duration::seconds((2 * round + u64::from(add)) as i64);
        self.people
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let product = ExternalId::new(format!("hw-{tag}-{i}")).unwrap();
                HostEvent {
                    id: HostEventId::new(format!("hw-{tag}-{round}-{i}-{}", u8::from(add)))
                        .unwrap(),
                    participant: (*p).into(),
                    occurred_at: at,
                    fact: if add {
                        HostFact::ProductAdded { product }
                    } else {
                        HostFact::ProductRemoved { product }
                    },
                }
            })
            .collect()
    }
}

/// What a baseline's state says of one participant after the passes, to check it against
/// the library's: their product count and the status of each product task.
pub type Seen = (i32, BTreeMap<TaskId, u8>);

/// One side of a pair: the library, or a hand-written baseline.
#[async_trait]
pub trait Ingest: Send + Sync {
    /// Ingests `batch` in one transaction (one statement on PostgreSQL).
    async fn ingest(&self, batch: Vec<HostEvent>);
    /// The product count and product-task statuses of `people`, and the counters.
    async fn seen(
        &self,
        people: &[ParticipantId],
        tasks: &[TaskId],
    ) -> (Vec<Seen>, BTreeMap<TaskId, TaskCounters>);
}

/// The library's side: `ingest_batch` as the other benchmarks call it.
pub struct Library<'a, S: Store>(pub &'a World<S>);

#[async_trait]
impl<S: Store> Ingest for Library<'_, S> {
    async fn ingest(&self, batch: Vec<HostEvent>) {
        let w = self.0;
        let results = w
            .service
            .ingest_batch(&Actor::System, w.event, batch)
            .await
            .unwrap();
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Ok(IngestOutcome::Applied)))
        );
    }

    async fn seen(
        &self,
        people: &[ParticipantId],
        tasks: &[TaskId],
    ) -> (Vec<Seen>, BTreeMap<TaskId, TaskCounters>) {
        let store = self.0.service.store();
        let mut states = store
            .participants_by_id(self.0.event, people)
            .await
            .unwrap();
        states.sort_by_key(|s| people.iter().position(|p| *p == s.participant.id));
        let seen = states
            .iter()
            .map(|s| {
                let statuses = tasks
                    .iter()
                    .map(|t| (*t, status_byte(s.progress[t].status)))
                    .collect();
                (s.facts.products.count() as i32, statuses)
            })
            .collect();
        let counters = store.task_counters(self.0.event).await.unwrap();
        (seen, counters)
    }
}

/// A side with its name and its own round counter.
pub struct Side<'a> {
    /// The benchmark's name beside `ingest <pass>`: `""` for the library,
    /// `hand-written (lean)`, `hand-written (foreign keys)`.
    pub name: &'static str,
    /// What it runs.
    pub ingest: &'a dyn Ingest,
    /// Rounds done, per pass.
    pub rounds: [AtomicU64; 2],
}

impl<'a> Side<'a> {
    /// A side.
    pub fn new(name: &'static str, ingest: &'a dyn Ingest) -> Self {
        Side {
            name,
            ingest,
            rounds: [AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    /// One round of pass `p`: the reset, untimed, then the timed batch.
    async fn round(&self, pass: &Pass, p: usize) -> Duration {
        let r = self.rounds[p].fetch_add(1, Ordering::Relaxed);
        self.ingest.ingest(pass.batch(r, false)).await;
        let batch = pass.batch(r, true);
        let started = Instant::now();
        self.ingest.ingest(batch).await;
        started.elapsed()
    }
}

/// The benchmark's name of `side` on `pass`: `ingest first pass` (the library), or
/// `ingest first pass, hand-written (lean)`.
pub fn bench_name(pass: &str, side: &str) -> String {
    if side.is_empty() {
        format!("ingest {pass}")
    } else {
        format!("ingest {pass}, {side}")
    }
}

/// The pairs: for each pass, one criterion benchmark per side, in group `group`. Every
/// iteration of every one of them runs one round of each side, the other sides first and
/// the measured side last, so the sides alternate round by round, apply the same event
/// sequence in lockstep (each side its own copy of the state) and each side's timed batch
/// always follows the others' rounds. One round per sample (flat sampling, a target time
/// criterion cannot meet, so it runs one warm-up round and ten samples of one round).
/// Then checks that every side ends in the state the library ends in.
pub fn pairs(c: &mut Criterion, rt: &Runtime, group: &str, sides: &[Side<'_>], passes: &[Pass]) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(1));
    for (p, pass) in passes.iter().enumerate() {
        for (k, side) in sides.iter().enumerate() {
            g.bench_function(bench_name(pass.name, side.name), |b| {
                b.to_async(rt).iter_custom(|iters| async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        for (j, other) in sides.iter().enumerate() {
                            if j != k {
                                other.round(pass, p).await;
                            }
                        }
                        total += side.round(pass, p).await;
                    }
                    total
                })
            });
        }
    }
    g.finish();
    rt.block_on(check(sides, passes));
}

/// Every side has run the same rounds: its counts, statuses and product-task counters
/// must be the library's (the first side's).
async fn check(sides: &[Side<'_>], passes: &[Pass]) {
    let Some((library, baselines)) = sides.split_first() else {
        return;
    };
    for (p, pass) in passes.iter().enumerate() {
        let rounds = library.rounds[p].load(Ordering::Relaxed);
        if rounds == 0 {
            continue; // filtered out of this run
        }
        let (want, want_counters) = library.ingest.seen(&pass.people, &pass.tasks).await;
        for b in baselines {
            assert_eq!(b.rounds[p].load(Ordering::Relaxed), rounds, "lockstep");
            let (got, counters) = b.ingest.seen(&pass.people, &pass.tasks).await;
            assert!(
                want == got,
                "{}: participants' states differ from the library's after the {}",
                b.name,
                pass.name
            );
            for task in &pass.tasks {
                let (l, h) = (want_counters.get(task), counters.get(task));
                let key = |c: Option<&TaskCounters>| {
                    c.map(|c| (c.targeted, c.done, c.awaiting_review))
                        .unwrap_or_default()
                };
                assert_eq!(key(l), key(h), "{}: a product task's counters", b.name);
            }
        }
    }
}

/// The pairs of `store_name` (`memory`, `redb`, `postgres`) at size `n`: the library's two
/// passes, and beside them on redb the hand-written baseline, on PostgreSQL (`pool`: the
/// library's pool, so the same server, schema and settings) its lean and foreign-keys
/// variants; all seeded from the library's state as it stands.
pub fn run<S: Store>(
    c: &mut Criterion,
    rt: &Runtime,
    store_name: &str,
    world: &World<S>,
    n: usize,
    pool: Option<&sqlx::PgPool>,
) {
    let snapshot = rt.block_on(Snapshot::read(world));
    let passes = Pass::both(&snapshot, world.service.clock().now());
    let library = Library(world);
    let mut baselines: Vec<(&'static str, Box<dyn Ingest>)> = Vec::new();
    if store_name == "redb" {
        baselines.push((
            "hand-written (lean)",
            Box::new(redb::RedbBaseline::seeded(&snapshot)),
        ));
    }
    if let Some(pool) = pool {
        for (name, fk) in [
            ("hand-written (lean)", false),
            ("hand-written (foreign keys)", true),
        ] {
            let b = rt.block_on(postgres::PgBaseline::seeded(pool, &snapshot, fk));
            baselines.push((name, Box::new(b)));
        }
    }
    drop(snapshot);
    let mut sides = vec![Side::new("", &library)];
    sides.extend(
        baselines
            .iter()
            .map(|(name, b)| Side::new(name, b.as_ref())),
    );
    pairs(c, rt, &format!("{store_name}/{n}"), &sides, &passes);
}

/// A duration to three significant digits.
fn show(d: Duration) -> String {
    let (v, unit) = match d.as_secs_f64() {
        s if s >= 1.0 => (s, "s"),
        s if s >= 1e-3 => (s * 1e3, "ms"),
        s => (s * 1e6, "µs"),
    };
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.decimals$} {unit}")
}

/// The ratio block's lines of group `group` (`redb/10000`), from criterion's medians: for
/// each pass, library ÷ each hand-written variant that ran; on memory (no baseline), the
/// library's rate.
pub fn ratio_lines(group: &str) -> String {
    use crate::report::median;
    let mut out = String::new();
    for pass in ["first pass", "later pass"] {
        let Some(lib) = median(group, &bench_name(pass, "")) else {
            continue;
        };
        if group.starts_with("memory/") {
            out.push_str(&format!(
                "{group} ingest, {pass}: {} per 1,000 events = {} events/s\n",
                show(lib),
                (1_000.0 / lib.as_secs_f64()).round() as u64
            ));
        }
        for variant in ["lean", "foreign keys"] {
            let side = format!("hand-written ({variant})");
            if let Some(hw) = median(group, &bench_name(pass, &side)) {
                let ratio = lib.as_secs_f64() / hw.as_secs_f64();
                out.push_str(&format!(
                    "{group} ingest vs {side}, {pass}: library {} ÷ hand-written {} = {ratio:.2} \
                     (library at {:.0} % of the hand-written rate)\n",
                    show(lib),
                    show(hw),
                    100.0 / ratio
                ));
            }
        }
    }
    out
}
