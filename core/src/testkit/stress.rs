//! Stress: many concurrent clients doing random mixed operations on one event
//! of one store, for a bounded number of operations. Afterwards every invariant holds, no
//! acknowledged write is missing, and the only errors were typed refusals.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use super::{DumpStore, EventDump, Fixture};
use crate::*;

/// What a stress run did.
#[derive(Debug, Clone, Default)]
pub struct StressReport {
    /// Operations attempted.
    pub operations: u64,
    /// Operations acknowledged (`Ok`).
    pub acknowledged: u64,
    /// `Conflict` errors left after the service's own retries.
    pub conflicts: u64,
    /// Wall time of the concurrent part.
    pub elapsed: StdDuration,
}

impl StressReport {
    /// Operations per second.
    pub fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl std::fmt::Display for StressReport {
    /// "2400 operations (2400 acknowledged, 0 conflicts) in 4.52s: 531 operations/s".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} operations ({} acknowledged, {} conflicts) in {:.2?}: {:.0} operations/s",
            self.operations,
            self.acknowledged,
            self.conflicts,
            self.elapsed,
            self.per_second()
        )
    }
}

/// A small deterministic generator (xorshift64*), one per client, so runs compare.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

/// What one client saw acknowledged, to look for afterwards.
#[derive(Default)]
struct Acked {
    host_events: BTreeSet<HostEventId>,
    messages: BTreeSet<MessageId>,
    /// The last acknowledged state of each manual row this client alone drives.
    manual: BTreeMap<(ParticipantId, TaskId), ProgressStatus>,
    /// The last acknowledged holder of each row this client alone hands over.
    holders: BTreeMap<(ParticipantId, TaskId), Option<ParticipantId>>,
    report: StressReport,
}

/// Runs `clients` concurrent clients of `ops` operations each on a fresh event of `store`,
/// then checks everything; returns what was done.
pub async fn stress<S: DumpStore>(store: Arc<S>, clients: usize, ops: usize) -> StressReport {
    let f = Arc::new(Fixture::with_store(store).await);
    let mut people = Vec::new();
    let mut teams = Vec::new();
    // Twice as many owners as clients: client `c` alone ticks and hands over the manual
    // tasks of owners `c` and `c + clients`, so its last acknowledged call decides them.
    for i in 0..clients * 2 {
        let (owner, collaborator) = f.exhibitor_with_collaborator(&format!("p{i}")).await;
        people.push(owner);
        teams.push(collaborator);
    }
    let everyone: Vec<Participant> = people.iter().chain(&teams).cloned().collect();
    let people = Arc::new(people);
    let teams = Arc::new(teams);
    // Deadlines, so that the reminder ticks the clients run have work (N3).
    let manual = {
        let now = f.clock.now();
        let mut ids = Vec::new();
        for (name, segment, days) in [("manual 1", Some(f.exhibitors), 2), ("manual 2", None, 8)] {
            let mut config = TaskConfig::manual(f.en.clone(), name, Fixture::<S>::web());
            config.segment = segment;
            config.deadline = Some(now + chrono::Duration::days(days));
            ids.push(f.publish(config).await.id);
        }
        [ids[0], ids[1]]
    };
    let auto = [
        f.auto_task("logo", Condition::LogoUploaded, Some(f.exhibitors))
            .await
            .id,
        f.auto_task("products", Condition::Products { at_least: 2 }, None)
            .await
            .id,
    ];

    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let f = f.clone();
        let people = people.clone();
        let teams = teams.clone();
        handles.push(tokio::spawn(async move {
            let mut rng = Rng::new(c as u64 + 1);
            let mut acked = Acked::default();
            let mine = [
                (people[c].clone(), teams[c].id),
                (people[c + clients].clone(), teams[c + clients].id),
            ];
            for n in 0..ops {
                let result = step(&f, &people, &mine, &manual, c, n, &mut rng, &mut acked).await;
                acked.report.operations += 1;
                match result {
                    Ok(()) => acked.report.acknowledged += 1,
                    // A concurrent writer won every one of the service's retries: typed.
                    Err(Error::Conflict { .. }) => acked.report.conflicts += 1,
                    Err(e) => panic!(
                        "client {c}, operation {n}: an error other than a typed conflict: {e:?}"
                    ),
                }
            }
            acked
        }));
    }
    let mut report = StressReport::default();
    let mut all = Vec::new();
    for h in handles {
        let acked = h.await.expect("a client panicked");
        report.operations += acked.report.operations;
        report.acknowledged += acked.report.acknowledged;
        report.conflicts += acked.report.conflicts;
        all.push(acked);
    }
    report.elapsed = started.elapsed();
    assert_eq!(report.acknowledged + report.conflicts, report.operations);
    assert!(
        report.acknowledged > report.operations / 2,
        "most operations must go through: {report:?}"
    );

    // Nothing acknowledged is missing; every invariant holds.
    let dump: EventDump = f.dump().await; // B3: counters equal a recount
    let ingested: BTreeSet<&HostEventId> = dump.host_events.iter().collect();
    let messages: BTreeSet<MessageId> = dump.messages.iter().map(|m| m.id).collect();
    let states: BTreeMap<ParticipantId, &crate::store::ParticipantState> = dump
        .participants
        .iter()
        .map(|p| (p.participant.id, p))
        .collect();
    for acked in &all {
        for id in &acked.host_events {
            assert!(
                ingested.contains(id),
                "acknowledged host event {id} is missing"
            );
        }
        for id in &acked.messages {
            assert!(
                messages.contains(id),
                "acknowledged message {id} is missing"
            );
        }
        for ((p, t), status) in &acked.manual {
            let row = states[p].progress.get(t).map(|r| r.status);
            assert_eq!(
                row,
                Some(*status),
                "the last acknowledged tick of {p} on {t} is lost"
            );
        }
        for ((p, t), holder) in &acked.holders {
            let row = states[p].progress.get(t).map(|r| r.assignee);
            assert_eq!(
                row,
                Some(*holder),
                "the last acknowledged handover of {p} on {t} is lost"
            );
        }
    }
    // P1: each list is the visibility rule (every task is for exhibitors or everyone).
    for p in &everyone {
        let list = f.list(p).await;
        let shown: BTreeSet<TaskId> = list
            .items
            .iter()
            .filter(|i| i.owner == p.id)
            .map(|i| i.task)
            .collect();
        let expected: BTreeSet<TaskId> = dump
            .tasks
            .iter()
            .filter(|t| {
                t.config
                    .segment
                    .is_none_or(|_| p.status.categories.contains("exhibitor"))
            })
            .map(|t| t.id)
            .collect();
        assert_eq!(shown, expected, "P1: the list of {}", p.external_id);
    }
    // N3: each reminder once per (task, owner, recipient, slot, deadline).
    let mut reminders = BTreeSet::new();
    for e in &dump.outbox {
        for item in e.message.reminder_items() {
            let (task, owner, slot, deadline) =
                (item.task, item.owner, item.slot.key(), item.deadline);
            assert!(
                reminders.insert((task, owner, e.recipient, slot, deadline)),
                "N3: a reminder queued twice"
            );
        }
    }
    assert!(!reminders.is_empty(), "the clients' ticks queued reminders");
    let tasks: BTreeMap<TaskId, &Task> = dump.tasks.iter().map(|t| (t.id, t)).collect();
    for state in &dump.participants {
        for t in auto {
            if let (Some(row), CompletionMode::Automatic { condition }) =
                (state.progress.get(&t), &tasks[&t].config.completion)
                && row.targeted
                && !row.decided_by_organizer
            {
                assert_eq!(
                    row.status == ProgressStatus::Done,
                    condition.holds(&state.facts),
                    "T4: an automatic task does not follow its condition after the run"
                );
            }
        }
    }
    report
}

/// One random operation of client `c`.
#[allow(clippy::too_many_arguments)]
async fn step<S: DumpStore>(
    f: &Fixture<S>,
    people: &[Participant],
    mine: &[(Participant, ParticipantId); 2],
    manual: &[TaskId; 2],
    c: usize,
    n: usize,
    rng: &mut Rng,
    acked: &mut Acked,
) -> Result<()> {
    let s = &f.service;
    let ev = f.event;
    let anyone = &people[rng.below(people.len())];
    match rng.below(10) {
        // Host facts about anyone, from any client.
        0..=2 => {
            let id = HostEventId::new(format!("c{c}-{n}"))?;
            let item = ExternalId::new(format!("item-{}", rng.below(3)))?;
            let fact = match rng.below(4) {
                0 => HostFact::LogoUploaded,
                1 => HostFact::LogoRemoved,
                2 => HostFact::ProductAdded { product: item },
                _ => HostFact::ProductRemoved { product: item },
            };
            s.ingest(
                &Actor::System,
                ev,
                HostEvent {
                    id: id.clone(),
                    participant: anyone.id.into(),
                    occurred_at: f.clock.now(),
                    fact,
                },
            )
            .await?;
            acked.host_events.insert(id);
        }
        // Ticks of this client's own owners, on the first manual task.
        3 | 4 => {
            let (p, _) = &mine[rng.below(2)];
            let t = manual[0];
            let actor = f.as_participant(p);
            let row = if rng.below(2) == 0 {
                s.complete_task(&actor, ev, p.id, t).await?
            } else {
                s.undo_task(&actor, ev, p.id, t).await?
            };
            acked.manual.insert((p.id, t), row.status);
        }
        // Handovers of the second manual task to the owner's collaborator, and back.
        8 => {
            let (p, collaborator) = &mine[rng.below(2)];
            let t = manual[1];
            let actor = f.as_participant(p);
            let held = acked.holders.get(&(p.id, t)).copied().flatten().is_some();
            let row = if held {
                s.take_back_task(&actor, ev, p.id, t).await?
            } else {
                s.assign_task(&actor, ev, p.id, t, *collaborator).await?
            };
            acked.holders.insert((p.id, t), row.assignee);
        }
        // Time passes; the host runs the reminder tick.
        9 => {
            f.clock.advance(chrono::Duration::hours(1));
            s.tick_reminders(&Actor::System, ev).await?;
        }
        // The organizer writes to anyone; anyone writes back.
        5 => {
            let m = s
                .send_message(&f.organizer, ev, anyone.id, &format!("note {c}-{n}"))
                .await?;
            acked.messages.insert(m.id);
        }
        6 => {
            let m = s
                .send_message(&f.as_participant(anyone), ev, anyone.id, "thanks")
                .await?;
            acked.messages.insert(m.id);
        }
        // Reads the organizer does meanwhile.
        _ => {
            s.matrix(&f.organizer, ev, &MatrixRequest::default())
                .await?;
            s.task_figures(&f.organizer, ev).await?;
        }
    }
    Ok(())
}
