//! Crash safety (X4): a child process ingests batches of host events into a redb file in a
//! loop and is killed with SIGKILL at a random moment, several times. After each kill the
//! file opens and is consistent — every host event is either fully applied (facts,
//! progress, timeline, counters) or not at all — and redelivering every event converges
//! to the state of a clean run (compared without generated ids and timestamps).
//!
//! One binary plays both parts: run with `PUNCHLIST_CRASH_CHILD` set, it is the child.
//! It has no test harness, so it prints its own report and closing line.

#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use punchlist::store::ParticipantStore;
use punchlist::store::{DumpStore, EventDump};
use punchlist::*;
use punchlist_redb::RedbStore;
use serde::{Deserialize, Serialize};

const PEOPLE: usize = 12;
const BATCH: usize = 40;
const MAX_BATCHES: usize = 5_000;
const KILLS: usize = 4;

/// What the parent sets up and the child reads: the ids it needs.
#[derive(Serialize, Deserialize)]
struct Setup {
    event: EventId,
    people: Vec<ParticipantId>,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

/// Batch `b`: products added (and every fifth one removed again), spread over the people.
fn batch(setup: &Setup, b: usize) -> Vec<HostEvent> {
    (0..BATCH)
        .map(|i| {
            let n = b * BATCH + i;
            let product = ExternalId::new(format!("sku-{}", n / 2)).unwrap();
            let fact = if n % 5 == 4 {
                HostFact::ProductRemoved { product }
            } else {
                HostFact::ProductAdded { product }
            };
            HostEvent {
                id: HostEventId::new(format!("b{b}-{i}")).unwrap(),
                participant: setup.people[n % PEOPLE].into(),
                occurred_at: start() + Duration::seconds(n as i64),
                fact,
            }
        })
        .collect()
}

async fn prepare(store: RedbStore) -> (Punchlist<RedbStore, ManualClock>, Setup) {
    let clock = ManualClock::new(start());
    let service = Punchlist::new(store, clock);
    let en = Language::new("en").unwrap();
    let event = service
        .create_event(&Actor::System, EventSettings::new("Crash expo", en.clone()))
        .await
        .unwrap();
    let help = HelpLink::WebPage {
        url: "https://expo.example/products".into(),
    };
    for (name, n) in [("Three products", 3), ("Ten products", 10)] {
        let config = TaskConfig::automatic(
            en.clone(),
            name,
            Condition::Products { at_least: n },
            help.clone(),
        );
        let t = service
            .create_task(&Actor::System, event.id, config)
            .await
            .unwrap();
        service
            .publish_task(&Actor::System, event.id, t.id)
            .await
            .unwrap();
    }
    let mut people = Vec::new();
    for i in 0..PEOPLE {
        let p = service
            .register_participant(
                &Actor::System,
                event.id,
                NewParticipant::new(ExternalId::new(format!("p{i}")).unwrap()),
            )
            .await
            .unwrap();
        people.push(p.id);
    }
    (
        service,
        Setup {
            event: event.id,
            people,
        },
    )
}

/// The child: ingest batch after batch until killed.
async fn child(path: &Path) {
    let setup: Setup =
        serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
    let store = RedbStore::open_async(path).await.unwrap();
    // Resume after the last batch the file holds, so every run commits new batches.
    let mut first = 0;
    while first < MAX_BATCHES {
        let id = HostEventId::new(format!("b{first}-0")).unwrap();
        if store.ingested(setup.event, &[id]).await.unwrap().is_empty() {
            break;
        }
        first += 1;
    }
    let service = Punchlist::new(store, ManualClock::new(start()));
    for b in first..MAX_BATCHES {
        service
            .ingest_batch(&Actor::System, setup.event, batch(&setup, b))
            .await
            .unwrap();
    }
}

/// Checks that every ingested event is fully applied and nothing else is.
fn check_consistent(dump: &EventDump, setup: &Setup) -> usize {
    assert_eq!(
        dump.counters,
        dump.recount(),
        "counters match the progress rows"
    );
    let seen: BTreeSet<&str> = dump.host_events.iter().map(|h| h.as_str()).collect();
    let batches = seen
        .iter()
        .filter_map(|h| h[1..].split('-').next()?.parse::<usize>().ok())
        .max()
        .map_or(0, |b| b + 1);
    // Replay exactly the ingested events on empty facts: the stored facts must equal it.
    let mut expected: BTreeMap<ParticipantId, Facts> = BTreeMap::new();
    for b in 0..batches {
        for e in batch(setup, b) {
            if let (true, ParticipantRef::Id(p)) = (seen.contains(e.id.as_str()), &e.participant) {
                e.apply_to(expected.entry(*p).or_default());
            }
        }
    }
    let tasks: BTreeMap<TaskId, &Task> = dump.tasks.iter().map(|t| (t.id, t)).collect();
    for p in &dump.participants {
        let want = expected.remove(&p.participant.id).unwrap_or_default();
        assert_eq!(
            *p.facts, want,
            "facts of {} are exactly the ingested events'",
            p.participant.external_id
        );
        for row in p.progress.values() {
            let holds = tasks[&row.task].condition().unwrap().holds(&p.facts);
            assert_eq!(row.is_done(), holds, "progress follows the stored facts");
        }
        let done_entries = dump
            .timeline
            .iter()
            .filter(|t| t.participant == p.participant.id)
            .filter(|t| matches!(t.kind, TimelineKind::TaskCompleted { .. }))
            .count();
        let reopened = dump
            .timeline
            .iter()
            .filter(|t| t.participant == p.participant.id)
            .filter(|t| matches!(t.kind, TimelineKind::TaskReopened { .. }))
            .count();
        let done_now = p.progress.values().filter(|r| r.is_done()).count();
        assert_eq!(
            done_entries - reopened,
            done_now,
            "the timeline agrees with the progress"
        );
    }
    batches
}

/// The state without generated ids and timestamps: per participant (by the host's id) its
/// facts and task statuses (by task name), the ingested ids, and the counters by name.
fn projection(dump: &EventDump) -> serde_json::Value {
    let name = |id: TaskId| {
        dump.tasks
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.config.texts.values().next().unwrap().name.clone())
            .unwrap()
    };
    let people: BTreeMap<String, serde_json::Value> = dump
        .participants
        .iter()
        .map(|p| {
            let statuses: BTreeMap<String, ProgressStatus> = p
                .progress
                .values()
                .map(|r| (name(r.task), r.status))
                .collect();
            (
                p.participant.external_id.to_string(),
                serde_json::json!({ "facts": p.facts, "statuses": statuses }),
            )
        })
        .collect();
    let counters: BTreeMap<String, TaskCounters> =
        dump.counters.iter().map(|(t, c)| (name(*t), *c)).collect();
    serde_json::json!({ "people": people, "ingested": dump.host_events, "counters": counters })
}

async fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let setup = {
        let (_service, setup) = prepare(RedbStore::open_async(&path).await.unwrap()).await;
        setup
    };
    std::fs::write(
        path.with_extension("json"),
        serde_json::to_vec(&setup).unwrap(),
    )
    .unwrap();
    let mut batches = 0;
    for kill in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("PUNCHLIST_CRASH_CHILD", &path)
            .stdout(Stdio::null())
            .spawn()
            .expect("start the child");
        // A pseudo-random moment, different for each kill, while batches are committing.
        let wait = 300 + (punchlist_random() % 700);
        std::thread::sleep(StdDuration::from_millis(wait));
        child.kill().expect("SIGKILL the child");
        let status = child.wait().unwrap();
        assert!(!status.success(), "the child was killed, it did not finish");
        let store = RedbStore::open_async(&path)
            .await
            .expect("the file opens after a kill");
        let dump = store.dump(setup.event).await.unwrap();
        batches = check_consistent(&dump, &setup).max(batches);
        println!(
            "kill {}: after {wait} ms, {batches} batches in the file, consistent",
            kill + 1
        );
    }
    assert!(
        batches > 0,
        "the child committed something before being killed"
    );

    // Redeliver everything (duplicates included) and compare with a clean run.
    let store = RedbStore::open_async(&path).await.unwrap();
    let service = Punchlist::new(store.clone(), ManualClock::new(start()));
    for b in 0..batches {
        service
            .ingest_batch(&Actor::System, setup.event, batch(&setup, b))
            .await
            .unwrap();
    }
    let recovered = store.dump(setup.event).await.unwrap();
    check_consistent(&recovered, &setup);

    let clean_store = RedbStore::open_async_temporary().await.unwrap();
    let (clean, clean_setup) = prepare(clean_store.clone()).await;
    for b in 0..batches {
        clean
            .ingest_batch(&Actor::System, clean_setup.event, batch(&clean_setup, b))
            .await
            .unwrap();
    }
    let clean_dump = clean_store.dump(clean_setup.event).await.unwrap();
    assert_eq!(
        projection(&recovered),
        projection(&clean_dump),
        "redelivery converges to a clean run"
    );
    println!("redelivered {batches} batches: same state as a clean run");
}

/// Random bits without a random crate: the random part of a UUID v7.
fn punchlist_random() -> u64 {
    TaskId::new_at(start()).as_uuid().as_u128() as u64
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Some(path) = std::env::var_os("PUNCHLIST_CRASH_CHILD") {
        runtime.block_on(child(Path::new(&path)));
        return;
    }
    runtime.block_on(parent());
    println!("x4_crash_safety_after_sigkill: 1 passed, 0 failed");
}
