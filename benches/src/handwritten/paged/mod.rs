//! Hand-written baselines of the paged work: publishing a task with notice to everyone,
//! the reminder tick (nothing due, and a reminder due on every row of one task) and the
//! import of a batch of new participants; each beside the library's call, round by round,
//! on narrow tables of their own seeded from the library's state.
//!
//! What every baseline does, as the library does:
//! - *publish*: the task row, then pages of `Config::batch_size` (1,000) participants in
//!   participant order, each page one transaction: for each participant the task's rule
//!   targets (not erased), a progress row (to do) unless one exists, the (task, status)
//!   index, the due-reminder index, the task's counters, one outbox row (its idempotency
//!   key unique per event) and a live-tracking notification per new row. The library writes
//!   no timeline row for a publication, so neither do the baselines.
//! - *tick*: due rows found through an index on (event, next reminder time), in batches of
//!   1,000, each one transaction: each row still to do and targeted marked (its next
//!   reminder moved to the next slot, or none), one outbox row and one timeline row
//!   (reminder sent) per recipient.
//! - *import*: the participants (their external ids unique per event), a progress row per
//!   published task whose rule targets them (to do, with its next reminder), the counters
//!   and a timeline row (registered) each, in one transaction (one statement on
//!   PostgreSQL).
//!
//! The task rules the baselines evaluate are those of this event: everyone, or one
//! category. The library evaluates any rule.

pub mod postgres;
pub mod redb;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use criterion::{Criterion, SamplingMode};
use punchlist::*;
use tokio::runtime::Runtime;

use crate::World;

/// The operations paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `publish_task` of a task with notice to everyone.
    Publish,
    /// `tick_reminders` after a task due in 20 hours was published to everyone (untimed).
    TickDue,
    /// `tick_reminders` with nothing due.
    TickNone,
    /// `register_participants` of `n` new participants.
    Import,
}

impl Op {
    /// The benchmark's name of the library's side.
    pub fn name(self) -> &'static str {
        match self {
            Op::Publish => "paired publish with notice",
            Op::TickDue => "paired tick, one task due",
            Op::TickNone => "paired tick, nothing due",
            Op::Import => "paired import",
        }
    }

    /// The line's name in the ratio block.
    fn line(self) -> &'static str {
        match self {
            Op::Publish => "publish",
            Op::TickDue => "tick",
            Op::TickNone => "tick (nothing due)",
            Op::Import => "import",
        }
    }
}

/// What a round wrote, to check every side against the library: publish (progress rows
/// created, outbox rows, 0), tick (reminders, messages, 0), import (participants, progress
/// rows, 0).
pub type Counts = [u64; 3];

/// The reminder offsets of the event (its default: 7 days and 1 day, no overdue one).
pub const OFFSETS: [i64; 2] = [7 * 86_400, 86_400];

/// A row's first reminder: the most relevant slot already due (the closest to the
/// deadline whose time has come, as the library sends only that one), else the earliest
/// to come; none after the deadline.
pub fn first_slot(deadline: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if now >= deadline {
        return None;
    }
    let times = OFFSETS.map(|s| deadline - chrono::Duration::seconds(s));
    times
        .iter()
        .filter(|t| **t <= now)
        .max()
        .or_else(|| times.iter().filter(|t| **t > now).min())
        .copied()
}

/// A row's next reminder once one went at `now`: the earliest slot still to come.
pub fn next_slot(deadline: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    OFFSETS
        .map(|s| deadline - chrono::Duration::seconds(s))
        .into_iter()
        .filter(|t| *t > now)
        .min()
}

/// A published task as the baselines keep it: its rule (everyone, or a category) and
/// deadline.
#[derive(Debug, Clone)]
pub struct SeedTask {
    /// The task.
    pub id: TaskId,
    /// `None`: everyone; else the category targeted.
    pub category: Option<String>,
    /// Its deadline.
    pub deadline: Option<DateTime<Utc>>,
}

/// One participant as the baselines keep them.
#[derive(Debug, Clone)]
pub struct SeedPerson {
    /// The participant.
    pub id: ParticipantId,
    /// The host's id.
    pub external: String,
    /// Their category (the generator gives one).
    pub category: String,
    /// Erased (X6).
    pub erased: bool,
    /// Their progress rows: task, targeted, status byte, next reminder.
    pub rows: Vec<(TaskId, bool, u8, Option<DateTime<Utc>>)>,
}

/// The library's state, read through its public traits, that these baselines seed from.
pub struct Seed {
    /// The event.
    pub event: EventId,
    /// The published tasks.
    pub tasks: Vec<SeedTask>,
    /// Every participant.
    pub people: Vec<SeedPerson>,
    /// The counters.
    pub counters: BTreeMap<TaskId, TaskCounters>,
    /// The library's clock.
    pub clock: ManualClock,
}

/// The category a rule of this event targets: `Some(None)` everyone.
fn category_of(rule: &Rule) -> Option<Option<String>> {
    match rule {
        Rule::Everyone => Some(None),
        Rule::Category { category } => Some(Some(category.clone())),
        _ => None,
    }
}

impl Seed {
    /// Reads `world`'s event as it stands.
    pub async fn read<S: Store>(world: &World<S>) -> Seed {
        let store = world.service.store();
        let event = world.event;
        let now = world.service.clock().now();
        let config = store.event_config(event).await.unwrap().expect("the event");
        let tasks: Vec<SeedTask> = config
            .tasks
            .values()
            .filter(|t| t.state == TaskState::Published)
            .map(|t| SeedTask {
                id: t.id,
                category: match t.config.segment {
                    None => None,
                    Some(s) => category_of(&config.segments[&s].rule)
                        .expect("this event's rules are everyone or a category"),
                },
                deadline: t.config.deadline,
            })
            .collect();
        let deadlines: BTreeMap<TaskId, Option<DateTime<Utc>>> =
            tasks.iter().map(|t| (t.id, t.deadline)).collect();
        let mut people = Vec::new();
        let mut after = None;
        loop {
            let page = store.participants(event, after, 1_000).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.participant.id);
            for s in page {
                let rows = s
                    .progress
                    .values()
                    .map(|r| {
                        let status = super::status_byte(r.status);
                        // What was due went out with the library's first tick: the next
                        // reminder is the next slot to come.
                        let next = deadlines
                            .get(&r.task)
                            .copied()
                            .flatten()
                            .filter(|_| r.targeted && status == super::TODO)
                            .and_then(|d| next_slot(d, now));
                        (r.task, r.targeted, status, next)
                    })
                    .collect();
                people.push(SeedPerson {
                    id: s.participant.id,
                    external: s.participant.external_id.as_str().to_owned(),
                    category: s
                        .participant
                        .status
                        .categories
                        .iter()
                        .next()
                        .cloned()
                        .unwrap_or_default(),
                    erased: s.participant.erased_at.is_some(),
                    rows,
                });
            }
        }
        Seed {
            event,
            tasks,
            people,
            counters: store.task_counters(event).await.unwrap(),
            clock: world.service.clock().clone(),
        }
    }
}

/// A new participant of an import round, as both sides get them.
#[derive(Debug, Clone)]
pub struct Newcomer {
    /// The host's id.
    pub external: String,
    /// Their category.
    pub category: String,
}

/// Import round `round`'s `n` newcomers (the generator's mix of categories).
pub fn newcomers(round: u64, n: usize) -> Vec<Newcomer> {
    (0..n)
        .map(|i| Newcomer {
            external: format!("imported-{round}-{i}"),
            category: ["exhibitor", "exhibitor", "speaker", "visitor"][i % 4].to_owned(),
        })
        .collect()
}

/// One side of a pair.
#[async_trait]
pub trait Paged: Send + Sync {
    /// Round `round` of `op`: the untimed preparation, then the timed work; its time and
    /// what it wrote.
    async fn round(&self, op: Op, round: u64, n: usize) -> (Duration, Counts);
}

/// The library's side.
pub struct Library<'a, S: Store> {
    world: &'a World<S>,
    /// The outbox's publication notices counted before the publish rounds, and after.
    pub notices: Mutex<[u64; 2]>,
}

impl<'a, S: Store> Library<'a, S> {
    /// The library's side on `world`.
    pub fn new(world: &'a World<S>) -> Self {
        Library {
            world,
            notices: Mutex::new([0; 2]),
        }
    }

    /// The publication notices in the event's outbox.
    pub async fn notices(&self) -> u64 {
        let filter = OutboxFilter {
            kind: Some(MessageKind::Publication),
            ..OutboxFilter::default()
        };
        let (store, mut after, mut n) = (self.world.service.store(), None, 0);
        loop {
            let page = store
                .outbox(self.world.event, &filter, after, 10_000)
                .await
                .unwrap();
            let Some(last) = page.last() else { return n };
            after = Some(last.id);
            n += page.len() as u64;
        }
    }

    async fn targeted(&self) -> BTreeMap<TaskId, i64> {
        let w = self.world;
        let counters = w.service.store().task_counters(w.event).await.unwrap();
        counters.into_iter().map(|(t, c)| (t, c.targeted)).collect()
    }

    async fn publish(&self, name: String, deadline: Option<DateTime<Utc>>, notify: bool) -> Task {
        let w = self.world;
        let mut config = TaskConfig::manual(
            Language::new("en").unwrap(),
            name,
            HelpLink::WebPage {
                url: "https://expo.example/hotels".into(),
            },
        );
        config.notify_on_publish = notify;
        config.deadline = deadline;
        w.service
            .create_task(&w.organizer, w.event, config)
            .await
            .unwrap()
    }
}

#[async_trait]
impl<S: Store> Paged for Library<'_, S> {
    async fn round(&self, op: Op, round: u64, n: usize) -> (Duration, Counts) {
        let w = self.world;
        let (org, ev) = (&w.organizer, w.event);
        match op {
            Op::Publish => {
                let draft = self.publish(format!("Hotel {round}"), None, true).await;
                let started = Instant::now();
                w.service.publish_task(org, ev, draft.id).await.unwrap();
                let took = started.elapsed();
                let rows = self.targeted().await[&draft.id] as u64;
                (took, [rows, rows, 0])
            }
            Op::TickDue | Op::TickNone => {
                if op == Op::TickDue {
                    let due = w.service.clock().now() + chrono::Duration::hours(20);
                    let draft = self.publish(format!("Due {round}"), Some(due), false).await;
                    w.service.publish_task(org, ev, draft.id).await.unwrap();
                }
                let started = Instant::now();
                let tick = w.service.tick_reminders(&Actor::System, ev).await.unwrap();
                (started.elapsed(), [tick.reminders, tick.messages, 0])
            }
            Op::Import => {
                let items = newcomers(round, n)
                    .into_iter()
                    .map(|c| {
                        let mut p = NewParticipant::new(ExternalId::new(c.external).unwrap());
                        p.status.categories = [c.category].into();
                        p
                    })
                    .collect();
                let before = self.targeted().await;
                let started = Instant::now();
                let results = w
                    .service
                    .register_participants(org, ev, items)
                    .await
                    .unwrap();
                let took = started.elapsed();
                let made = results.iter().filter(|r| r.is_ok()).count() as u64;
                let after = self.targeted().await;
                let rows = after
                    .iter()
                    .map(|(t, a)| a - before.get(t).copied().unwrap_or(0))
                    .sum::<i64>() as u64;
                (took, [made, rows, 0])
            }
        }
    }
}

/// A side with its name and its own round counter and counts.
pub struct Side<'a> {
    /// `""` for the library, else `hand-written (lean)`.
    pub name: &'static str,
    /// What it runs.
    pub work: &'a dyn Paged,
    rounds: AtomicU64,
    counts: Mutex<Vec<Counts>>,
}

impl<'a> Side<'a> {
    /// A side.
    pub fn new(name: &'static str, work: &'a dyn Paged) -> Self {
        Side {
            name,
            work,
            rounds: AtomicU64::new(0),
            counts: Mutex::new(Vec::new()),
        }
    }

    async fn round(&self, op: Op, n: usize) -> Duration {
        let r = self.rounds.fetch_add(1, Ordering::Relaxed);
        let (took, counts) = self.work.round(op, r, n).await;
        self.counts.lock().unwrap().push(counts);
        took
    }
}

/// The benchmark's name of `side` on `op`.
pub fn bench_name(op: Op, side: &str) -> String {
    if side.is_empty() {
        op.name().to_owned()
    } else {
        format!("{}, {side}", op.name())
    }
}

/// One op's pairs, in lockstep as the ingest pairs run (see `super::pairs`): one benchmark
/// per side, every iteration one round of each side, the measured side last. Then every
/// baseline's counts must be the library's, round by round.
///
/// With nothing due a tick changes nothing, so there the sides do not alternate: each
/// benchmark runs its own side only (the library's tick with nothing due takes seconds, and
/// alternating would double the run for nothing).
fn pair(c: &mut Criterion, rt: &Runtime, group: &str, sides: &[Side<'_>], op: Op, n: usize) {
    let lockstep = op != Op::TickNone;
    for s in sides {
        s.rounds.store(0, Ordering::Relaxed);
        s.counts.lock().unwrap().clear();
    }
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(1));
    for (k, side) in sides.iter().enumerate() {
        g.bench_function(bench_name(op, side.name), |b| {
            b.to_async(rt).iter_custom(|iters| async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    for (j, other) in sides.iter().enumerate() {
                        if j != k && lockstep {
                            other.round(op, n).await;
                        }
                    }
                    total += side.round(op, n).await;
                }
                total
            })
        });
    }
    g.finish();
    let Some((library, baselines)) = sides.split_first() else {
        return;
    };
    let want = library.counts.lock().unwrap().clone();
    if op == Op::TickNone {
        assert!(
            want.iter().all(|c| *c == [0; 3]),
            "{group}: the library's tick found something due: {want:?}"
        );
    } else {
        // Each round must do work (nothing due is the other benchmark).
        assert!(
            want.iter().all(|c| c[0] > 0),
            "{group} {op:?}: a round of the library wrote nothing: {want:?}"
        );
    }
    for b in baselines {
        let mut got = b.counts.lock().unwrap().clone();
        if !lockstep {
            got.truncate(want.len()); // nothing due: every round writes nothing
        }
        assert!(
            want == got,
            "{group} {op:?}: {} wrote {got:?}, the library {want:?}",
            b.name
        );
    }
}

/// The pairs of `store_name` at size `n`: the library's publish, ticks and import, and
/// beside them on redb and PostgreSQL (`pool`: the library's pool) the hand-written
/// baseline, seeded from the library's state once what was due has gone out.
pub fn run<S: Store>(
    c: &mut Criterion,
    rt: &Runtime,
    store_name: &str,
    world: &World<S>,
    n: usize,
    pool: Option<&sqlx::PgPool>,
) {
    let group = format!("{store_name}/{n}");
    if !criterion_wants(&group) {
        return;
    }
    // What the generated event has due goes out first, untimed, so both sides start with
    // nothing due.
    rt.block_on(async {
        world
            .service
            .tick_reminders(&Actor::System, world.event)
            .await
            .unwrap()
    });
    let seed = rt.block_on(Seed::read(world));
    let library = Library::new(world);
    let mut baseline: Option<Box<dyn Paged>> = None;
    if store_name == "redb" {
        baseline = Some(Box::new(redb::RedbPaged::seeded(&seed)));
    }
    if let Some(pool) = pool {
        baseline = Some(Box::new(
            rt.block_on(postgres::PgPaged::seeded(pool, &seed)),
        ));
    }
    drop(seed);
    let mut sides = vec![Side::new("", &library)];
    if let Some(b) = baseline.as_deref() {
        sides.push(Side::new("hand-written (lean)", b));
    }
    // The ticks first, on the event as generated (20 tasks), then the publications (each
    // round adds a task to everyone), then the imports (each round adds n participants).
    pair(c, rt, &group, &sides, Op::TickNone, n);
    pair(c, rt, &group, &sides, Op::TickDue, n);
    let before = rt.block_on(library.notices());
    pair(c, rt, &group, &sides, Op::Publish, n);
    let after = rt.block_on(library.notices());
    let written: u64 = sides
        .last()
        .map(|s| s.counts.lock().unwrap().iter().map(|c| c[1]).sum())
        .unwrap_or_default();
    assert_eq!(
        after - before,
        written,
        "{group}: the library's publication notices differ from the baseline's outbox rows"
    );
    pair(c, rt, &group, &sides, Op::Import, n);
}

/// Whether criterion's filter (the first free argument) may match one of these benchmarks:
/// the pairs' setup (an untimed tick, the seeding) is skipped otherwise.
fn criterion_wants(group: &str) -> bool {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-') && a != "--bench");
    let Some(filter) = filter else { return true };
    let names = [Op::Publish, Op::TickDue, Op::TickNone, Op::Import]
        .map(|op| format!("{group}/{}, hand-written (lean)", op.name()));
    filter
        .split('|')
        .any(|part| names.iter().any(|n| n.contains(part)))
}

/// The ratio block's lines of group `group`: per op, library ÷ hand-written, and the
/// library's rate per second (its own line on memory, where there is no baseline); the
/// library's tick with nothing due beside its 50 ms target.
pub fn ratio_lines(group: &str, n: usize) -> String {
    use crate::report::median;
    let mut out = String::new();
    for op in [Op::Publish, Op::TickDue, Op::TickNone, Op::Import] {
        let Some(lib) = median(group, op.name()) else {
            continue;
        };
        let rate =
            |what: &str| format!("{} {what}/s", (n as f64 / lib.as_secs_f64()).round() as u64);
        match op {
            Op::TickNone => out.push_str(&format!(
                "{group} tick, nothing due: {} (target under 50 ms)\n",
                super::show(lib)
            )),
            _ if group.starts_with("memory/") => {
                let what = match op {
                    Op::Publish => "participants notified",
                    Op::TickDue => "reminders",
                    _ => "participants imported",
                };
                out.push_str(&format!(
                    "{group} {}: {} for {n} = {}\n",
                    op.line(),
                    super::show(lib),
                    rate(what)
                ));
            }
            _ => {}
        }
        if let Some(hw) = median(group, &bench_name(op, "hand-written (lean)")) {
            let ratio = lib.as_secs_f64() / hw.as_secs_f64();
            out.push_str(&format!(
                "{group} {} vs hand-written (lean): library {} ÷ hand-written {} = {ratio:.2} \
                 (library at {:.0} % of the hand-written rate)\n",
                op.line(),
                super::show(lib),
                super::show(hw),
                100.0 / ratio
            ));
        }
    }
    out
}
