//! Conformance checks for consistency (X4): one commit per participant version, concurrent
//! completions that lose nothing, sweeps resumed after a crash, and the event's
//! configuration following every change.

use std::sync::Arc;

use crate::store::{ChangeSet, ParticipantWrite, StoreExt};
use crate::testkit::{DumpStore, Fixture, Interleaving};
use crate::*;

/// X4: two change sets computed at the same participant version: one commits, the other
/// is a Conflict and writes nothing.
pub async fn x4_same_version_change_sets_one_conflict<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let store = f.service.store().clone();
    let state = store.participant(f.event, ann.id).await.unwrap().unwrap();
    let change = |product: &str| {
        let mut facts = Facts::clone(&state.facts);
        facts
            .products
            .record(ExternalId::new(product).unwrap(), true, f.clock.now());
        let mut cs = ChangeSet::new(f.event);
        cs.participants.push(ParticipantWrite {
            id: ann.id,
            version: state.version + 1,
            record: None,
            facts: Some(facts),
            progress: Vec::new(),
        });
        cs.host_events
            .push(HostEventId::new(format!("h-{product}")).unwrap());
        cs
    };
    let (first, second) = (change("a"), change("b"));
    store.apply(first).await.expect("first writer commits");
    let after_first = f.dump().await;
    let e = store.apply(second).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::Conflict {
                entity: "participant",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(f.dump().await, after_first, "the loser wrote nothing");

    // A participant's change computed from a configuration that changed since (here a
    // task published after the read) conflicts, so it is recomputed from the new one.
    // (Drafts and new segments are seen by no one, so they do not count as a change.)
    let event_before = store.event(f.event).await.unwrap().unwrap();
    let fresh = store.participant(f.event, ann.id).await.unwrap().unwrap();
    f.manual_task("Published meanwhile", None).await;
    let mut cs = ChangeSet::new(f.event);
    cs.event_version = Some(event_before.version);
    cs.participants.push(ParticipantWrite {
        id: ann.id,
        version: fresh.version + 1,
        record: None,
        facts: Some(Facts::default()),
        progress: Vec::new(),
    });
    let before_stale = f.dump().await;
    assert!(matches!(
        store.apply(cs).await,
        Err(Error::Conflict {
            entity: "event",
            ..
        })
    ));
    assert_eq!(f.dump().await, before_stale);

    // A stale version on a task, and a duplicate host event id, conflict too.
    let task = f.draft_manual("Hotel", None).await;
    let mut stale = task.clone();
    stale.version = 1;
    let mut cs = ChangeSet::new(f.event);
    cs.tasks.push(stale);
    assert!(matches!(store.apply(cs).await, Err(Error::Conflict { .. })));
    let mut cs = ChangeSet::new(f.event);
    cs.host_events.push(HostEventId::new("h-a").unwrap());
    assert!(matches!(store.apply(cs).await, Err(Error::Conflict { .. })));
    let mut cs = ChangeSet::new(f.event);
    let mut dup = store.participant(f.event, ann.id).await.unwrap().unwrap();
    Arc::make_mut(&mut dup.participant).id = ParticipantId::new_at(f.clock.now());
    cs.participants.push(ParticipantWrite {
        id: dup.participant.id,
        version: 1,
        record: Some(Arc::unwrap_or_clone(dup.participant)),
        facts: None,
        progress: Vec::new(),
    });
    assert!(
        matches!(store.apply(cs).await, Err(Error::Conflict { .. })),
        "external_id is unique per event"
    );
    let mut before = f.dump().await;
    before.tasks.retain(|t| t.id != task.id);
    let mut now = f.dump().await;
    now.tasks.retain(|t| t.id != task.id);
    assert_eq!(now, before);
}

/// X4: many tasks completing many participants' tasks at once, and many facts about one
/// participant at once, through the service: nothing is lost.
pub async fn x4_concurrent_completions_lose_nothing<S: DumpStore>(store: S) {
    let store = Arc::new(Interleaving::new(Arc::new(store)));
    let f = Arc::new(Fixture::with_store(store.clone()).await);
    let mut people = Vec::new();
    for i in 0..8 {
        people.push(f.participant(&format!("p{i}"), &[]).await);
    }
    let mut tasks = Vec::new();
    for i in 0..5 {
        tasks.push(f.manual_task(&format!("task {i}"), None).await);
    }
    let products = f
        .auto_task("Products", Condition::Products { at_least: 40 }, None)
        .await;
    let hub = people[0].clone();
    let mut handles = Vec::new();
    for p in &people {
        for t in &tasks {
            let (f, p, t) = (f.clone(), p.clone(), t.id);
            handles.push(tokio::spawn(async move {
                f.service
                    .complete_task(&Actor::participant(p.id, f.event), f.event, p.id, t)
                    .await
                    .map(drop)
            }));
        }
    }
    for i in 0..40 {
        let (f, hub) = (f.clone(), hub.clone());
        handles.push(tokio::spawn(async move {
            let e = f.host_event(
                &format!("prod-{i}"),
                &hub,
                HostFact::ProductAdded {
                    product: ExternalId::new(format!("sku-{i}")).unwrap(),
                },
            );
            f.service.ingest(&Actor::System, f.event, e).await.map(drop)
        }));
    }
    for h in handles {
        h.await.expect("task panicked").expect("operation failed");
    }
    let dump = f.dump().await;
    for p in &people {
        let state = dump
            .participants
            .iter()
            .find(|s| s.participant.id == p.id)
            .unwrap();
        for t in &tasks {
            assert!(state.progress[&t.id].is_done(), "lost completion");
        }
        let completed = dump
            .timeline
            .iter()
            .filter(|e| {
                e.participant == p.id && matches!(e.kind, TimelineKind::TaskCompleted { .. })
            })
            .count();
        let expected = tasks.len() + usize::from(p.id == hub.id);
        assert_eq!(completed, expected, "one timeline entry per completion");
    }
    let hub_state = dump
        .participants
        .iter()
        .find(|s| s.participant.id == hub.id)
        .unwrap();
    assert_eq!(hub_state.facts.products.count(), 40, "lost fact");
    assert!(hub_state.progress[&products.id].is_done());
    assert_eq!(dump.host_events.len(), 40);
    assert!(
        store.conflicts() > 0,
        "the version check was never exercised"
    );
}

/// X4: a sweep interrupted after some batches (a crash) is finished by `resume_sweeps`,
/// each batch its own commit, and sends each notice once.
pub async fn x4_sweep_resumes_after_interruption<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut people = Vec::new();
    for i in 0..20 {
        people.push(f.participant(&format!("p{i:02}"), &[]).await);
    }
    let mut draft = f.draft_manual("Hotel", None).await;
    // What `publish_tasks` commits first, then "crash" after two batches of 7.
    let store = f.service.store().clone();
    draft.state = TaskState::Published;
    draft.published_at = Some(f.clock.now());
    draft.version += 1;
    let sweep = Sweep {
        id: SweepId::new_at(f.clock.now()),
        event: f.event,
        tasks: vec![draft.id],
        notify: vec![draft.id],
        after: None,
        started_at: f.clock.now(),
    };
    let mut cs = ChangeSet::new(f.event);
    cs.tasks.push(draft.clone());
    cs.sweeps.push(sweep.clone());
    store.apply(cs).await.unwrap();
    assert_eq!(f.dump().await.sweeps, std::slice::from_ref(&sweep));
    assert!(
        f.list(&people[0]).await.items.is_empty(),
        "no row before the sweep runs"
    );

    // Someone registered before the sweep reached them: registration creates their row,
    // and the sweep still sends them their notice.
    people.push(f.participant("p99-late", &[]).await);

    let resumed = f
        .service
        .resume_sweeps(&f.organizer, f.event)
        .await
        .unwrap();
    assert_eq!(resumed, 1);
    let dump = f.dump().await;
    assert!(dump.sweeps.is_empty(), "the sweep finished");
    for p in &people {
        assert_eq!(f.status(p, draft.id).await, Some(ProgressStatus::Todo));
    }
    assert_eq!(f.outbox().await.len(), people.len(), "one notice each");
    // Running it again (a second instance resuming the same sweep) sends nothing more.
    let mut cs = ChangeSet::new(f.event);
    cs.sweeps.push(sweep);
    store.apply(cs).await.unwrap();
    f.service
        .resume_sweeps(&f.organizer, f.event)
        .await
        .unwrap();
    assert_eq!(f.outbox().await.len(), people.len(), "no repeat");
}

/// X4: [`EventStore::event_config`](crate::store::EventStore::event_config) answers what [`StoreExt::event`](crate::store::StoreExt::event), [`StoreExt::tasks`](crate::store::StoreExt::tasks) and
/// [`StoreExt::segments`](crate::store::StoreExt::segments) say, after every kind of configuration change (a store that keeps
/// a snapshot must drop it on each), and `None` for an unknown event.
pub async fn x4_event_config_follows_every_configuration_change<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store.clone()).await;
    let same = |label: &'static str| {
        let store = store.clone();
        async move {
            let shared = store
                .event_config(f.event)
                .await
                .expect("event_config")
                .expect("the event exists");
            let event = store.event(f.event).await.unwrap().unwrap();
            let tasks = store.tasks(f.event).await.unwrap();
            let segments = store.segments(f.event).await.unwrap();
            assert_eq!(shared.event, event, "{label}: event");
            assert_eq!(
                shared.tasks.values().cloned().collect::<Vec<_>>(),
                tasks,
                "{label}: tasks"
            );
            assert_eq!(
                shared.segments.values().cloned().collect::<Vec<_>>(),
                segments,
                "{label}: segments"
            );
            assert!(shared.tasks.iter().all(|(id, t)| *id == t.id));
            assert!(shared.segments.iter().all(|(id, s)| *id == s.id));
        }
    };
    same("new event").await;
    // Read twice, so a store that caches serves the second read from its snapshot.
    same("read again").await;
    let draft = f.draft_manual("Hotel", None).await;
    same("draft created").await;
    let mut config = draft.config.clone();
    config.position = 7;
    f.service
        .update_task(&f.organizer, f.event, draft.id, config)
        .await
        .unwrap();
    same("draft edited").await;
    f.service
        .publish_task(&f.organizer, f.event, draft.id)
        .await
        .unwrap();
    same("published").await;
    let gone = f.draft_manual("Parking", None).await;
    same("second draft").await;
    f.service
        .delete_task(&f.organizer, f.event, gone.id)
        .await
        .unwrap();
    same("draft deleted").await;
    f.service
        .create_segment(
            &f.organizer,
            f.event,
            SegmentDraft {
                name: "Speakers".into(),
                rule: Rule::category("speaker"),
            },
        )
        .await
        .unwrap();
    same("segment created").await;
    f.change_settings(|settings| {
        settings.name = "Expo 2027".into();
    })
    .await;
    same("event renamed").await;
    f.service
        .archive_task(&f.organizer, f.event, draft.id)
        .await
        .unwrap();
    same("archived").await;
    // Participants' writes leave the configuration as it is.
    let ann = f.participant("ann", &["exhibitor"]).await;
    f.fact("logo-1", &ann, HostFact::LogoUploaded).await;
    same("participant writes").await;
    // Another event's changes are not this one's.
    other.manual_task("Elsewhere", None).await;
    same("other event changed").await;
    let unknown = EventId::new_at(f.clock.now());
    assert!(store.event_config(unknown).await.unwrap().is_none());
}

/// X4: a store pages an event's participant ids in id order by keyset, the same ids as
/// its pages of states, without another event's: what paged work reads before it loads
/// each page's slice of rows.
pub async fn x4_participant_ids_page_the_event_in_id_order<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store.clone()).await;
    for i in 0..5 {
        f.participant(&format!("p{i}"), &[]).await;
    }
    other.participant("p0", &[]).await;
    let mut all: Vec<ParticipantId> = store
        .participants(f.event, None, 100)
        .await
        .unwrap()
        .iter()
        .map(|s| s.participant.id)
        .collect();
    all.sort();
    assert_eq!(all.len(), 5);
    let first = store.participant_ids(f.event, None, 2).await.unwrap();
    assert_eq!(first, all[..2]);
    let rest = store
        .participant_ids(f.event, first.last().copied(), 100)
        .await
        .unwrap();
    assert_eq!(rest, all[2..]);
    assert!(
        store
            .participant_ids(f.event, all.last().copied(), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .participant_ids(other.event, None, 100)
            .await
            .unwrap()
            .len(),
        1,
        "another event's participants are its own"
    );
}

/// X4: a participant's write holds what changed, and a store applies it as a delta: the
/// state read back equals the previous one with exactly that applied (facts absent: the
/// stored facts kept; record absent: the stored record kept; rows absent: the stored rows
/// kept), the same state as a write of everything would leave. Checked through writes of
/// each shape: facts and one row, the whole state, the record alone, rows alone.
pub async fn x4_a_delta_applied_equals_the_whole_write<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let manual = f.manual_task("Hotel", None).await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let store = f.service.store().clone();
    let read = || async {
        store
            .participant(f.event, ann.id)
            .await
            .unwrap()
            .expect("ann is stored")
    };
    let apply = |w: ParticipantWrite| {
        let store = store.clone();
        let event = f.event;
        async move {
            let mut cs = ChangeSet::new(event);
            cs.participants.push(w);
            store.apply(cs).await.expect("the write applies");
        }
    };
    let now = f.clock.now();
    let s0 = read().await;
    assert_eq!(s0.progress.len(), 2, "{s0:?}");

    // Facts and one row: the other row and the record stay as stored.
    let mut s1 = s0.clone();
    s1.version += 1;
    Arc::make_mut(&mut s1.facts).record_logo(true, now);
    let row = s1.progress.get_mut(&logo.id).unwrap();
    row.set_done(
        Some(Completion {
            at: now,
            by: Actor::System,
            how: CompletedHow::Condition,
        }),
        now,
    );
    apply(ParticipantWrite {
        id: ann.id,
        version: s1.version,
        record: None,
        facts: Some(Facts::clone(&s1.facts)),
        progress: vec![s1.progress[&logo.id].clone()],
    })
    .await;
    assert_eq!(read().await, s1, "facts and one row");

    // The whole state, one field of the record changed: the same as its delta would be.
    let mut s2 = s1.clone();
    s2.version += 1;
    Arc::make_mut(&mut s2.participant).profile.company = "Acme Rides".to_owned();
    apply(ParticipantWrite {
        id: ann.id,
        version: s2.version,
        record: Some(Participant::clone(&s2.participant)),
        facts: Some(Facts::clone(&s2.facts)),
        progress: s2.progress.values().cloned().collect(),
    })
    .await;
    assert_eq!(read().await, s2, "the whole state");

    // The record alone: facts and rows as stored.
    let mut s3 = s2.clone();
    s3.version += 1;
    Arc::make_mut(&mut s3.participant).profile.company = "Acme".to_owned();
    apply(ParticipantWrite {
        id: ann.id,
        version: s3.version,
        record: Some(Participant::clone(&s3.participant)),
        facts: None,
        progress: Vec::new(),
    })
    .await;
    assert_eq!(read().await, s3, "the record alone");

    // Rows alone (one changed, one new bookkeeping value): record and facts as stored.
    let mut s4 = s3.clone();
    s4.version += 1;
    s4.progress.get_mut(&manual.id).unwrap().noticed = true;
    s4.progress.get_mut(&logo.id).unwrap().due_at = Some(now + chrono::Duration::days(3));
    apply(ParticipantWrite {
        id: ann.id,
        version: s4.version,
        record: None,
        facts: None,
        progress: s4.progress.values().cloned().collect(),
    })
    .await;
    assert_eq!(read().await, s4, "rows alone");

    // A version bump alone: nothing but the version moves.
    let mut s5 = s4.clone();
    s5.version += 1;
    apply(ParticipantWrite {
        id: ann.id,
        version: s5.version,
        record: None,
        facts: None,
        progress: Vec::new(),
    })
    .await;
    assert_eq!(read().await, s5, "a version bump alone");
}
