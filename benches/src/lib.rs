//! A seeded generator of realistic events for the benchmarks, so runs compare: N
//! participants (exhibitors, speakers, visitors), 20 tasks of both modes over 3 segments,
//! and a mix of progress (facts reported, manual tasks validated), all made through the
//! library's own API in batches.

use chrono::{Duration, TimeZone, Utc};

/// With the `mimalloc` feature, every benchmark of this crate runs on mimalloc: glibc's
/// allocator slows down on a heap fragmented by building a large event (see the README).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use punchlist::*;

pub mod handwritten;

/// A generated event on some store.
pub struct World<S: Store> {
    /// The service.
    pub service: std::sync::Arc<Punchlist<S, ManualClock>>,
    /// The event.
    pub event: EventId,
    /// An organizer of it.
    pub organizer: Actor,
    /// Its 20 tasks (10 manual, 10 automatic).
    pub tasks: Vec<TaskId>,
    /// Its participants, in registration order.
    pub people: Vec<ParticipantId>,
    /// The exhibitor nearest the middle of `people`: the participant whose task list is
    /// timed. Chosen by category (exhibitors see the most tasks) so every size times the
    /// same kind of list.
    pub exhibitor: ParticipantId,
}

/// A small deterministic generator (the same numbers on every run).
pub struct Lcg(pub u64);

impl Lcg {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Builds an event of `n` participants on `store`.
pub async fn build<S: Store>(store: S, n: usize, seed: u64) -> World<S> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap());
    let service = std::sync::Arc::new(
        Punchlist::new(store, clock.clone()).with_config(Config::default().with_batch_size(1_000)),
    );
    let en = Language::new("en").unwrap();
    let event = service
        .create_event(&Actor::System, EventSettings::new("Bench expo", en.clone()))
        .await
        .unwrap();
    let organizer = Actor::organizer(AdminId::new("bench").unwrap(), event.id);
    let mut segments = Vec::new();
    for (name, rule) in [
        ("Exhibitors", Rule::category("exhibitor")),
        ("Speakers", Rule::category("speaker")),
        ("Everyone", Rule::Everyone),
    ] {
        let draft = SegmentDraft {
            name: name.into(),
            rule,
        };
        segments.push(
            service
                .create_segment(&organizer, event.id, draft)
                .await
                .unwrap()
                .id,
        );
    }
    let help = HelpLink::WebPage {
        url: "https://expo.example/help".into(),
    };
    let mut drafts = Vec::new();
    for i in 0..20u32 {
        let mut config = if i % 2 == 0 {
            TaskConfig::manual(en.clone(), format!("Manual task {i}"), help.clone())
        } else {
            let condition = match i % 6 {
                1 => Condition::LogoUploaded,
                3 => Condition::Products {
                    at_least: 2 + i % 3,
                },
                _ => Condition::Invitations {
                    at_least: 1 + i % 4,
                },
            };
            TaskConfig::automatic(
                en.clone(),
                format!("Automatic task {i}"),
                condition,
                help.clone(),
            )
        };
        config.segment = Some(segments[(i % 3) as usize]);
        config.position = i as i32;
        config.deadline = Some(clock.now() + Duration::days(i64::from(i) - 5));
        drafts.push(
            service
                .create_task(&organizer, event.id, config)
                .await
                .unwrap()
                .id,
        );
    }
    let tasks: Vec<TaskId> = service
        .publish_tasks(&organizer, event.id, &drafts)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();

    let mut rng = Lcg(seed);
    let mut people = Vec::with_capacity(n);
    let mut exhibitors = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let items = chunk
            .iter()
            .map(|i| {
                let mut p = NewParticipant::new(ExternalId::new(format!("p{i}")).unwrap());
                p.profile.first_name = format!("First{}", rng.below(5_000));
                p.profile.last_name = format!("Last{:06}", rng.below(1_000_000));
                p.profile.company = format!("Company {}", rng.below(2_000));
                p.profile.email = Some(format!("p{i}@example.org"));
                let category =
                    ["exhibitor", "exhibitor", "speaker", "visitor"][rng.below(4) as usize];
                p.status.categories = [category.to_owned()].into();
                if category == "exhibitor" {
                    exhibitors.push(*i);
                }
                p
            })
            .collect();
        for r in service
            .register_participants(&organizer, event.id, items)
            .await
            .unwrap()
        {
            people.push(r.unwrap().id);
        }
    }
    // Progress: facts for some, validations of manual tasks for others.
    let mut facts = Vec::new();
    for (i, p) in people.iter().enumerate() {
        if rng.below(10) < 4 {
            facts.push(HostEvent {
                id: HostEventId::new(format!("seed-logo-{i}")).unwrap(),
                participant: (*p).into(),
                occurred_at: clock.now(),
                fact: HostFact::LogoUploaded,
            });
        }
        for k in 0..rng.below(4) {
            facts.push(HostEvent {
                id: HostEventId::new(format!("seed-prod-{i}-{k}")).unwrap(),
                participant: (*p).into(),
                occurred_at: clock.now(),
                fact: HostFact::ProductAdded {
                    product: ExternalId::new(format!("sku-{i}-{k}")).unwrap(),
                },
            });
        }
    }
    for batch in facts.chunks(1_000) {
        service
            .ingest_batch(&Actor::System, event.id, batch.to_vec())
            .await
            .unwrap();
    }
    for (t, task) in tasks.iter().enumerate().filter(|(t, _)| t % 2 == 0) {
        let chosen: Vec<ParticipantId> = people
            .iter()
            .copied()
            .filter(|_| rng.below(100) < 30 + t as u64)
            .collect();
        for chunk in chosen.chunks(1_000) {
            // Only targeted participants can be validated; the others answer an error item.
            let _ = service
                .decide_many(&organizer, event.id, *task, chunk, Decision::Validate)
                .await
                .unwrap();
        }
    }
    World {
        service,
        event: event.id,
        organizer,
        tasks,
        exhibitor: people[exhibitors
            .iter()
            .copied()
            .find(|&i| i >= n / 2)
            .or(exhibitors.last().copied())
            .expect("the generator makes exhibitors")],
        people,
    }
}

/// Whether `store` is among `PUNCHLIST_BENCH_STORES` (default: every store).
pub fn wanted(store: &str) -> bool {
    std::env::var("PUNCHLIST_BENCH_STORES")
        .map(|v| v.split(',').any(|s| s.trim() == store))
        .unwrap_or(true)
}

/// A batch of 1,000 "product added" facts with ids never used before.
pub fn ingest_batch<S: Store>(world: &World<S>, round: u64) -> Vec<HostEvent> {
    let n = world.people.len() as u64;
    (0..1_000u64)
        .map(|i| HostEvent {
            id: HostEventId::new(format!("bench-{round}-{i}")).unwrap(),
            participant: world.people[((round * 1_000 + i) * 7_919 % n) as usize].into(),
            occurred_at: world.service.clock().now(),
            fact: HostFact::ProductAdded {
                product: ExternalId::new(format!("b-{round}-{i}")).unwrap(),
            },
        })
        .collect()
}

/// The medians criterion recorded, read back to print the ratios library ÷ raw at the end
/// of a run (criterion itself compares a benchmark only with its own previous runs).
pub mod report {
    use std::path::PathBuf;
    use std::time::Duration;

    /// Where criterion writes: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else
    /// the workspace's `target/criterion` (the same order criterion follows).
    fn home() -> PathBuf {
        if let Some(h) = std::env::var_os("CRITERION_HOME") {
            return h.into();
        }
        if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
            return PathBuf::from(t).join("criterion");
        }
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/criterion")
    }

    /// Criterion's directory name for a group or a benchmark.
    fn safe(name: &str) -> String {
        name.replace(
            &['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'][..],
            "_",
        )
    }

    /// The median of the last run of `bench` in `group`, if it ran.
    pub fn median(group: &str, bench: &str) -> Option<Duration> {
        let path = home()
            .join(safe(group))
            .join(safe(bench))
            .join("new/estimates.json");
        let text = std::fs::read_to_string(path).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let ns = v.get("median")?.get("point_estimate")?.as_f64()?;
        Some(Duration::from_nanos(ns as u64))
    }

    /// A duration the way the README's table shows it.
    pub fn show(d: Duration) -> String {
        let ns = d.as_nanos() as f64;
        if ns >= 1e9 {
            format!("{:.2} s", ns / 1e9)
        } else if ns >= 1e6 {
            format!("{:.2} ms", ns / 1e6)
        } else {
            format!("{:.1} µs", ns / 1e3)
        }
    }
}
