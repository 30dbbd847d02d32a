//! Conformance checks, group A: tasks (T), facts (T4), isolation and authorization (X1,
//! X2), bad input (X5) and concurrency (X4).
//!
//! Every check takes a fresh store and panics on failure. "Writes nothing" is proven by
//! comparing the canonical dump before and after.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;

use super::{DumpStore, Fixture};
use crate::*;

/// T1: bad task fields get a typed error naming the field, and write nothing.
pub async fn t1_task_fields_validated_and_nothing_written<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let before = f.dump().await;
    let web = Fixture::<S>::web();
    let cases: Vec<(TaskConfig, &str)> = vec![
        (
            TaskConfig::manual(f.en.clone(), "   ", web.clone()),
            "texts.en.name",
        ),
        (
            TaskConfig::manual(f.en.clone(), "x".repeat(201), web.clone()),
            "texts.en.name",
        ),
        (
            TaskConfig::manual(f.fr.clone(), "Logo", web.clone()),
            "texts.en",
        ),
        (
            TaskConfig::manual(
                f.en.clone(),
                "Logo",
                HelpLink::WebPage {
                    url: "ftp://expo.example".into(),
                },
            ),
            "help.url",
        ),
        (
            TaskConfig::automatic(
                f.en.clone(),
                "Products",
                Condition::Products { at_least: 0 },
                web.clone(),
            ),
            "condition.at_least",
        ),
        (
            {
                let mut c = TaskConfig::manual(f.en.clone(), "Logo", web.clone());
                c.segment = Some(SegmentId::new_at(f.clock.now()));
                c
            },
            "segment",
        ),
        (
            {
                let mut c = TaskConfig::manual(f.en.clone(), "Logo", web.clone());
                c.texts.get_mut(&f.en).unwrap().description = "d".repeat(10_001);
                c
            },
            "texts.en.description",
        ),
        (
            {
                let mut c = TaskConfig::manual(f.en.clone(), "Logo", web.clone());
                c.deadline = Some(chrono::DateTime::<chrono::Utc>::MIN_UTC);
                c
            },
            "deadline",
        ),
    ];
    for (config, field) in cases {
        let err = f
            .service
            .create_task(&f.organizer, f.event, config)
            .await
            .expect_err("bad task accepted");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(f.dump().await, before, "a refused task wrote something");

    // The same checks hold on edit.
    let task = f.draft_manual("Book your hotel", None).await;
    let before = f.dump().await;
    let err = f
        .service
        .update_task(
            &f.organizer,
            f.event,
            task.id,
            TaskConfig::manual(f.en.clone(), "", web),
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("texts.en.name"));
    assert_eq!(f.dump().await, before);
}

/// T1: a missing translation falls back to the event's default language.
pub async fn t1_translation_falls_back_to_default_language<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut both = TaskConfig::manual(f.en.clone(), "Upload your logo", Fixture::<S>::web());
    both.texts.insert(
        f.fr.clone(),
        TaskText {
            name: "Téléversez votre logo".into(),
            description: "En PNG".into(),
        },
    );
    let both = f
        .service
        .create_task(&f.organizer, f.event, both)
        .await
        .unwrap();
    let english_only = f.draft_manual("Book your hotel", None).await;
    f.service
        .publish_tasks(&f.organizer, f.event, &[both.id, english_only.id])
        .await
        .unwrap();
    let mut new = NewParticipant::new(ExternalId::new("jean").unwrap());
    new.status.language = Some(f.fr.clone());
    let jean = f
        .service
        .register_participant(&f.organizer, f.event, new)
        .await
        .unwrap();
    let list = f.list(&jean).await;
    let names: BTreeSet<&str> = list.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["Téléversez votre logo", "Book your hotel"])
    );
    let ann = f.participant("ann", &[]).await;
    let list = f.list(&ann).await;
    assert!(list.items.iter().any(|i| i.name == "Upload your logo"));
}

/// T2: only published tasks are seen; a draft is not found by a participant.
pub async fn t2_only_published_tasks_are_seen<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let draft = f.draft_manual("Draft", None).await;
    let published = f.manual_task("Published", None).await;
    let list = f.list(&ann).await;
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].task, published.id);
    let before = f.dump().await;
    let err = f
        .service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, draft.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { entity: "task", .. }),
        "{err}"
    );
    assert_eq!(f.dump().await, before);
}

/// T2: draft → published → archived; only drafts are deleted; archived tasks keep their
/// progress and cannot be edited. Every refusal writes nothing.
pub async fn t2_lifecycle_rules<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let task = f.manual_task("Book your hotel", None).await;
    let draft = f.draft_manual("Draft", None).await;
    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, task.id)
        .await
        .unwrap();

    let before = f.dump().await;
    let e = f
        .service
        .publish_task(&f.organizer, f.event, task.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::State { .. }), "{e}");
    let e = f
        .service
        .delete_task(&f.organizer, f.event, task.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::State { .. }), "{e}");
    let e = f
        .service
        .archive_task(&f.organizer, f.event, draft.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::State { .. }), "{e}");
    assert_eq!(
        f.dump().await,
        before,
        "refused transitions wrote something"
    );

    f.service
        .delete_task(&f.organizer, f.event, draft.id)
        .await
        .unwrap();
    let e = f
        .service
        .task(&f.organizer, f.event, draft.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }));

    let archived = f
        .service
        .archive_task(&f.organizer, f.event, task.id)
        .await
        .unwrap();
    assert_eq!(archived.state, TaskState::Archived);
    assert!(
        f.list(&ann).await.items.is_empty(),
        "archived tasks are hidden"
    );
    let dump = f.dump().await;
    let row = &dump
        .participants
        .iter()
        .find(|p| p.participant.id == ann.id)
        .unwrap()
        .progress[&task.id];
    assert!(row.is_done(), "archiving keeps progress");

    let before = f.dump().await;
    let e = f
        .service
        .update_task(
            &f.organizer,
            f.event,
            task.id,
            TaskConfig::manual(f.en.clone(), "Renamed", Fixture::<S>::web()),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::State { .. }), "{e}");
    assert_eq!(f.dump().await, before);

    let history = f
        .service
        .task_history(&f.organizer, f.event, task.id, None, 100)
        .await
        .unwrap();
    let states: Vec<_> = history
        .iter()
        .filter(|h| h.field == "state")
        .map(|h| h.new.clone())
        .collect();
    assert_eq!(
        states,
        [
            serde_json::json!("archived"),
            serde_json::json!("published")
        ],
        "newest first: {history:?}"
    );
}

/// T2: editing a published task records each changed field in its history, and a new
/// condition or segment re-evaluates it for every participant (in batches).
pub async fn t2_edit_published_task_reevaluates_and_keeps_history<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut people = Vec::new();
    for i in 0..10 {
        let p = f.participant(&format!("p{i}"), &[]).await;
        f.fact(
            &format!("prod-{i}"),
            &p,
            HostFact::ProductAdded {
                product: ExternalId::new("sku-1").unwrap(),
            },
        )
        .await;
        people.push(p);
    }
    let task = f
        .auto_task(
            "Add two products",
            Condition::Products { at_least: 2 },
            None,
        )
        .await;
    for p in &people {
        assert_eq!(f.status(p, task.id).await, Some(ProgressStatus::Todo));
    }
    let mut config = task.config.clone();
    config.completion = CompletionMode::Automatic {
        condition: Condition::Products { at_least: 1 },
    };
    let deadline = f.clock.now() + Duration::days(10);
    config.deadline = Some(deadline);
    f.clock.advance(Duration::minutes(1));
    f.service
        .update_task(&f.organizer, f.event, task.id, config.clone())
        .await
        .unwrap();
    for p in &people {
        assert_eq!(
            f.status(p, task.id).await,
            Some(ProgressStatus::Done),
            "{}",
            p.external_id
        );
    }
    let history = f
        .service
        .task_history(&f.organizer, f.event, task.id, None, 100)
        .await
        .unwrap();
    let fields: BTreeSet<&str> = history
        .iter()
        .filter(|h| h.at == f.clock.now())
        .map(|h| h.field.as_str())
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from(["completion.condition.at_least", "deadline"])
    );
    let line = history
        .iter()
        .find(|h| h.field == "completion.condition.at_least")
        .unwrap();
    assert_eq!(
        (line.old.clone(), line.new.clone()),
        (serde_json::json!(2), serde_json::json!(1))
    );
    assert_eq!(line.actor, f.organizer);

    // Narrowing the segment hides it from those outside; their progress is kept.
    config.segment = Some(f.exhibitors);
    f.service
        .update_task(&f.organizer, f.event, task.id, config)
        .await
        .unwrap();
    assert_eq!(f.status(&people[0], task.id).await, None);
    assert!(f.dump().await.sweeps.is_empty(), "sweeps finish");
}

/// T2: with the Tasks feature off, participants see no Tasks section and nothing is
/// queued; facts still count, so switching it on shows the truth.
pub async fn t2_tasks_switch_off_hides_section_and_sends_nothing<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let mut settings = f
        .service
        .event(&f.organizer, f.event)
        .await
        .unwrap()
        .settings;
    settings.tasks_enabled = false;
    f.service
        .update_event(&f.organizer, f.event, settings.clone())
        .await
        .unwrap();

    let mut config = TaskConfig::automatic(
        f.en.clone(),
        "Logo",
        Condition::LogoUploaded,
        Fixture::<S>::web(),
    );
    config.notify_on_publish = true;
    let logo = f
        .service
        .create_task(&f.organizer, f.event, config)
        .await
        .unwrap();
    f.service
        .publish_task(&f.organizer, f.event, logo.id)
        .await
        .unwrap();
    let hotel = f.manual_task("Hotel", None).await;
    f.fact("logo-1", &owner, HostFact::LogoUploaded).await;

    let list = f.list(&owner).await;
    assert!(!list.tasks_enabled);
    assert!(list.items.is_empty());
    assert!(
        f.outbox().await.is_empty(),
        "nothing is sent while Tasks is off"
    );
    let before = f.dump().await;
    let me = f.as_participant(&owner);
    let e = f
        .service
        .complete_task(&me, f.event, owner.id, hotel.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .assign_task(&me, f.event, owner.id, hotel.id, team.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(f.dump().await, before);

    settings.tasks_enabled = true;
    f.service
        .update_event(&f.organizer, f.event, settings)
        .await
        .unwrap();
    let list = f.list(&owner).await;
    assert!(list.tasks_enabled);
    assert_eq!(
        list.summary,
        ProgressSummary::new(1, 2),
        "the logo counted while off"
    );
}

/// T3: a manual task is completed and undone by its owner; the timeline records both; a
/// repeated completion changes nothing.
pub async fn t3_manual_complete_and_undo<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let task = f.manual_task("Book your hotel", None).await;
    let me = f.as_participant(&ann);
    let row = f
        .service
        .complete_task(&me, f.event, ann.id, task.id)
        .await
        .unwrap();
    assert!(row.is_done());
    let completion = row.completion.clone().unwrap();
    assert_eq!(completion.how, CompletedHow::Manual);
    assert_eq!(completion.by, me);
    assert_eq!(completion.at, f.clock.now());

    let before = f.dump().await;
    f.service
        .complete_task(&me, f.event, ann.id, task.id)
        .await
        .unwrap();
    assert_eq!(
        f.dump().await,
        before,
        "completing a done task changes nothing"
    );

    f.clock.advance(Duration::minutes(5));
    let row = f
        .service
        .undo_task(&me, f.event, ann.id, task.id)
        .await
        .unwrap();
    assert_eq!(row.status, ProgressStatus::Todo);
    assert!(row.completion.is_none());
    let timeline = f
        .service
        .timeline(&me, f.event, ann.id, &TimelineFilter::default(), 10)
        .await
        .unwrap();
    let kinds: Vec<_> = timeline.iter().map(|t| t.kind.clone()).collect();
    assert_eq!(
        kinds,
        [
            TimelineKind::TaskReopened { task: task.id },
            TimelineKind::TaskCompleted { task: task.id },
            TimelineKind::Registered,
        ]
    );
}

/// T3: an automatic task cannot be ticked or unticked by hand; nothing is written.
pub async fn t3_automatic_task_not_tickable<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let task = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let before = f.dump().await;
    let me = f.as_participant(&ann);
    let e = f
        .service
        .complete_task(&me, f.event, ann.id, task.id)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("task"), "{e}");
    f.fact("logo", &ann, HostFact::LogoUploaded).await;
    let before_undo = f.dump().await;
    let e = f
        .service
        .undo_task(&me, f.event, ann.id, task.id)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("task"), "{e}");
    assert_eq!(f.dump().await, before_undo);
    assert_ne!(before, before_undo);
}

/// T3: an organizer validates or invalidates any task by hand, recorded in the history;
/// on an automatic task the decision stands over the condition until handed back.
pub async fn t3_organizer_validates_and_invalidates<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let me = f.as_participant(&ann);
    let doc = f.manual_task("Mandatory document", None).await;
    let row = f
        .service
        .validate_task(&f.organizer, f.event, ann.id, doc.id)
        .await
        .unwrap();
    assert_eq!(
        row.completion.as_ref().unwrap().how,
        CompletedHow::Organizer
    );
    let before = f.dump().await;
    let e = f
        .service
        .undo_task(&me, f.event, ann.id, doc.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .validate_task(&me, f.event, ann.id, doc.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(f.dump().await, before);
    let row = f
        .service
        .invalidate_task(&f.organizer, f.event, ann.id, doc.id)
        .await
        .unwrap();
    assert_eq!(row.status, ProgressStatus::Todo);
    let history = f
        .service
        .participant_history(&f.organizer, f.event, ann.id, &HistoryFilter::default(), 10)
        .await
        .unwrap();
    let status_field = format!("progress.{}.status", doc.id);
    let lines: Vec<_> = history.iter().filter(|h| h.field == status_field).collect();
    assert_eq!(lines.len(), 2, "{history:?}");
    assert_eq!(lines[0].new, serde_json::json!("todo"));
    assert_eq!(lines[1].new, serde_json::json!("done"));
    assert_eq!(lines[0].actor, f.organizer);

    f.service
        .complete_task(&f.organizer, f.event, ann.id, doc.id)
        .await
        .unwrap();
    let history = f
        .service
        .participant_history(&f.organizer, f.event, ann.id, &HistoryFilter::default(), 1)
        .await
        .unwrap();
    assert_eq!(
        (history[0].field.as_str(), &history[0].new),
        (status_field.as_str(), &serde_json::json!("done")),
        "an organizer ticking a task is recorded too"
    );

    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    f.service
        .validate_task(&f.organizer, f.event, ann.id, logo.id)
        .await
        .unwrap();
    f.clock.advance(Duration::seconds(1));
    f.fact("up", &ann, HostFact::LogoUploaded).await;
    f.clock.advance(Duration::seconds(1));
    f.fact("down", &ann, HostFact::LogoRemoved).await;
    assert_eq!(
        f.status(&ann, logo.id).await,
        Some(ProgressStatus::Done),
        "the decision stands"
    );
    f.service
        .follow_condition(&f.organizer, f.event, ann.id, logo.id)
        .await
        .unwrap();
    assert_eq!(
        f.status(&ann, logo.id).await,
        Some(ProgressStatus::Todo),
        "back to the condition"
    );
    let e = f
        .service
        .follow_condition(&f.organizer, f.event, ann.id, doc.id)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("task"));
}

/// T4: an automatic task follows its condition both ways, with the timeline saying so.
pub async fn t4_automatic_task_follows_its_condition<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let logo = f
        .auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await;
    assert_eq!(f.status(&ann, logo.id).await, Some(ProgressStatus::Todo));
    f.clock.advance(Duration::seconds(1));
    f.fact("up", &ann, HostFact::LogoUploaded).await;
    let list = f.list(&ann).await;
    assert_eq!(list.items[0].status, ProgressStatus::Done);
    let completion = list.items[0].completion.clone().unwrap();
    assert_eq!(
        (completion.how, completion.by),
        (CompletedHow::Condition, Actor::System)
    );
    f.clock.advance(Duration::seconds(1));
    f.fact("down", &ann, HostFact::LogoRemoved).await;
    assert_eq!(f.status(&ann, logo.id).await, Some(ProgressStatus::Todo));
    let timeline = f
        .service
        .timeline(
            &f.organizer,
            f.event,
            ann.id,
            &TimelineFilter::default(),
            10,
        )
        .await
        .unwrap();
    assert!(matches!(timeline[0].kind, TimelineKind::TaskReopened { task } if task == logo.id));
    assert!(matches!(timeline[1].kind, TimelineKind::TaskCompleted { task } if task == logo.id));

    let speaker = Condition::All {
        conditions: vec![
            Condition::FieldFilled {
                field: "photo".into(),
                value: None,
            },
            Condition::FieldFilled {
                field: "level".into(),
                value: Some("expert".into()),
            },
            Condition::Any {
                conditions: vec![
                    Condition::FormCompleted {
                        form: "tech".into(),
                    },
                    Condition::Invitations { at_least: 2 },
                ],
            },
        ],
    };
    let t = f.auto_task("Speaker profile", speaker, None).await;
    let ev = |id: &str, fact| f.host_event(id, &ann, fact);
    let results = f
        .service
        .ingest_batch(
            &Actor::System,
            f.event,
            vec![
                ev(
                    "f1",
                    HostFact::FieldSet {
                        field: "photo".into(),
                        value: "me.png".into(),
                    },
                ),
                ev(
                    "f2",
                    HostFact::FieldSet {
                        field: "level".into(),
                        value: "novice".into(),
                    },
                ),
                ev(
                    "f3",
                    HostFact::InvitationSent {
                        invitation: ExternalId::new("i1").unwrap(),
                    },
                ),
            ],
        )
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(IngestOutcome::Applied)))
    );
    assert_eq!(f.status(&ann, t.id).await, Some(ProgressStatus::Todo));
    f.clock.advance(Duration::seconds(1));
    f.fact(
        "f4",
        &ann,
        HostFact::FieldSet {
            field: "level".into(),
            value: "expert".into(),
        },
    )
    .await;
    assert_eq!(f.status(&ann, t.id).await, Some(ProgressStatus::Todo));
    f.fact(
        "f5",
        &ann,
        HostFact::FormCompleted {
            form: "tech".into(),
        },
    )
    .await;
    assert_eq!(f.status(&ann, t.id).await, Some(ProgressStatus::Done));
    f.clock.advance(Duration::seconds(1));
    f.fact(
        "f6",
        &ann,
        HostFact::FieldCleared {
            field: "photo".into(),
        },
    )
    .await;
    assert_eq!(f.status(&ann, t.id).await, Some(ProgressStatus::Todo));
}

/// T4: publishing evaluates automatic tasks at once, so work already done counts; so does
/// entering the segment later.
pub async fn t4_publish_counts_work_already_done<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut done = Vec::new();
    for i in 0..9 {
        let p = f.participant(&format!("ex{i}"), &["exhibitor"]).await;
        if i % 2 == 0 {
            f.fact(&format!("logo-{i}"), &p, HostFact::LogoUploaded)
                .await;
        }
        done.push((p, i % 2 == 0));
    }
    let visitor = f.participant("visitor", &["visitor"]).await;
    f.fact("logo-v", &visitor, HostFact::LogoUploaded).await;
    let logo = f
        .auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await;
    for (p, has_logo) in &done {
        let want = if *has_logo {
            ProgressStatus::Done
        } else {
            ProgressStatus::Todo
        };
        assert_eq!(f.status(p, logo.id).await, Some(want));
    }
    assert_eq!(f.status(&visitor, logo.id).await, None);
    let patch = ParticipantPatch {
        status: Status {
            categories: ["exhibitor".to_owned()].into(),
            ..Status::default()
        }
        .into(),
        ..ParticipantPatch::default()
    };
    f.service
        .update_participant(&f.organizer, f.event, visitor.id, patch)
        .await
        .unwrap();
    assert_eq!(
        f.status(&visitor, logo.id).await,
        Some(ProgressStatus::Done)
    );
}

/// T4: facts redelivered and reordered converge to the same state as in-order delivery.
pub async fn t4_fact_redelivered_and_reordered_converges<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let a = f.participant("a", &[]).await;
    let b = f.participant("b", &[]).await;
    let products = f
        .auto_task("Products", Condition::Products { at_least: 2 }, None)
        .await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let t0 = f.clock.now();
    let sku = |s: &str| ExternalId::new(s).unwrap();
    let facts = vec![
        (HostFact::ProductAdded { product: sku("p1") }, 1),
        (HostFact::ProductAdded { product: sku("p2") }, 2),
        (HostFact::LogoUploaded, 3),
        (HostFact::ProductRemoved { product: sku("p1") }, 4),
        (HostFact::ProductAdded { product: sku("p3") }, 5),
        (HostFact::LogoRemoved, 6),
        (HostFact::LogoUploaded, 7),
    ];
    let make = |p: &Participant, prefix: &str, (fact, s): &(HostFact, i64)| HostEvent {
        id: HostEventId::new(format!("{prefix}-{s}")).unwrap(),
        participant: p.id.into(),
        occurred_at: t0 + Duration::seconds(*s),
        fact: fact.clone(),
    };
    for item in &facts {
        f.service
            .ingest(&Actor::System, f.event, make(&a, "a", item))
            .await
            .unwrap();
    }
    // b: reversed, with every event delivered twice, some in one batch.
    let mut reversed: Vec<HostEvent> = facts.iter().rev().map(|i| make(&b, "b", i)).collect();
    reversed.extend(reversed.clone());
    let (first, rest) = reversed.split_at(4);
    f.service
        .ingest_batch(&Actor::System, f.event, first.to_vec())
        .await
        .unwrap();
    for e in rest {
        f.service
            .ingest(&Actor::System, f.event, e.clone())
            .await
            .unwrap();
    }
    let dump = f.dump().await;
    let state = |p: &Participant| {
        dump.participants
            .iter()
            .find(|s| s.participant.id == p.id)
            .unwrap()
            .clone()
    };
    let (sa, sb) = (state(&a), state(&b));
    assert_eq!(sa.facts, sb.facts);
    assert_eq!(sa.facts.products.count(), 2);
    assert!(sa.facts.has_logo());
    for task in [products.id, logo.id] {
        assert_eq!(sa.progress[&task].status, ProgressStatus::Done);
        assert_eq!(sa.progress[&task].status, sb.progress[&task].status);
    }
    let again = f
        .service
        .ingest(&Actor::System, f.event, make(&a, "a", &facts[0]))
        .await
        .unwrap();
    assert_eq!(again, IngestOutcome::Duplicate);
    assert_eq!(f.dump().await, dump, "a redelivered event changes nothing");
}

/// T4: the facts that count are the owner's, also when the task is assigned.
pub async fn t4_facts_are_the_owners_when_assigned<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let logo = f
        .auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await;
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            logo.id,
            team.id,
        )
        .await
        .unwrap();
    f.fact("team-logo", &team, HostFact::LogoUploaded).await;
    assert_eq!(f.status(&owner, logo.id).await, Some(ProgressStatus::Todo));
    f.fact("owner-logo", &owner, HostFact::LogoUploaded).await;
    assert_eq!(f.status(&owner, logo.id).await, Some(ProgressStatus::Done));
    let team_list = f.list(&team).await;
    let item = team_list
        .items
        .iter()
        .find(|i| i.task == logo.id)
        .expect("assigned task listed");
    assert_eq!((item.owner, item.status), (owner.id, ProgressStatus::Done));
}

/// X1: two events on one store share nothing; another event's ids are not found.
pub async fn x1_events_are_isolated<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let a = Fixture::with_store(store.clone()).await;
    let b = Fixture::with_store(store).await;
    let ann = a.participant("ann", &["exhibitor"]).await;
    let bob = b.participant("ann", &["exhibitor"]).await; // same external id, other event
    let task = a.manual_task("Hotel", None).await;
    assert_eq!(b.list(&bob).await.items.len(), 0);
    let dump_b = b.dump().await;

    let e = b
        .service
        .tasks_of(&b.organizer, a.event, ann.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = b
        .service
        .tasks_of(&b.organizer, b.event, ann.id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                entity: "participant",
                ..
            }
        ),
        "{e}"
    );
    let e = b
        .service
        .publish_task(&b.organizer, b.event, task.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { entity: "task", .. }), "{e}");
    let e = b
        .service
        .complete_task(&b.as_participant(&bob), b.event, bob.id, task.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let results = b
        .service
        .ingest_batch(
            &Actor::System,
            b.event,
            vec![a.host_event("x", &ann, HostFact::LogoUploaded)],
        )
        .await
        .unwrap();
    assert!(matches!(
        results[0],
        Err(Error::NotFound {
            entity: "participant",
            ..
        })
    ));
    assert_eq!(b.dump().await, dump_b, "nothing leaked into event b");
    assert!(
        b.dump()
            .await
            .participants
            .iter()
            .all(|p| p.participant.event == b.event)
    );
    assert_eq!(a.list(&ann).await.items.len(), 1);
}

/// X2: another participant's object in the same event is Forbidden, another event's is
/// NotFound; participants cannot call organizer operations. Nothing is written.
pub async fn x2_other_participant_forbidden_other_event_not_found<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &[]).await;
    let bob = f.participant("bob", &[]).await;
    let task = f.manual_task("Hotel", None).await;
    let before = f.dump().await;
    let as_bob = f.as_participant(&bob);
    let forbidden = [
        f.service.tasks_of(&as_bob, f.event, ann.id).await.map(drop),
        f.service
            .complete_task(&as_bob, f.event, ann.id, task.id)
            .await
            .map(drop),
        f.service
            .participant(&as_bob, f.event, ann.id)
            .await
            .map(drop),
        f.service
            .timeline(&as_bob, f.event, ann.id, &TimelineFilter::default(), 10)
            .await
            .map(drop),
        f.service
            .create_task(
                &as_bob,
                f.event,
                TaskConfig::manual(f.en.clone(), "x", Fixture::<S>::web()),
            )
            .await
            .map(drop),
        f.service
            .archive_task(&as_bob, f.event, task.id)
            .await
            .map(drop),
        f.service
            .validate_task(&as_bob, f.event, bob.id, task.id)
            .await
            .map(drop),
        f.service
            .ingest(
                &as_bob,
                f.event,
                f.host_event("h", &bob, HostFact::LogoUploaded),
            )
            .await
            .map(drop),
        f.service
            .outbox(&as_bob, f.event, &OutboxFilter::default(), None, 10)
            .await
            .map(drop),
        f.service
            .register_participant(
                &as_bob,
                f.event,
                NewParticipant::new(ExternalId::new("z").unwrap()),
            )
            .await
            .map(drop),
        f.service
            .update_participant(&as_bob, f.event, ann.id, ParticipantPatch::default())
            .await
            .map(drop),
    ];
    for (i, r) in forbidden.into_iter().enumerate() {
        assert!(matches!(r, Err(Error::Forbidden { .. })), "case {i}: {r:?}");
    }
    let foreign_organizer = other.organizer.clone();
    let foreign_participant = Actor::participant(bob.id, other.event);
    let not_found = [
        f.service
            .tasks_of(&foreign_organizer, f.event, ann.id)
            .await
            .map(drop),
        f.service
            .task(&foreign_organizer, f.event, task.id)
            .await
            .map(drop),
        f.service
            .validate_task(&foreign_organizer, f.event, ann.id, task.id)
            .await
            .map(drop),
        f.service
            .participant(&foreign_organizer, f.event, ann.id)
            .await
            .map(drop),
        f.service
            .complete_task(&foreign_participant, f.event, bob.id, task.id)
            .await
            .map(drop),
        f.service
            .my_tasks(&foreign_participant, f.event)
            .await
            .map(drop),
        f.service
            .create_task(
                &foreign_organizer,
                f.event,
                TaskConfig::manual(f.en.clone(), "x", Fixture::<S>::web()),
            )
            .await
            .map(drop),
    ];
    for (i, r) in not_found.into_iter().enumerate() {
        assert!(matches!(r, Err(Error::NotFound { .. })), "case {i}: {r:?}");
    }
    let e = f
        .service
        .create_event(&f.organizer, EventSettings::new("x", f.en.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }));
    assert_eq!(f.dump().await, before, "refused calls wrote something");
}

/// X5: unknown ids are NotFound naming the entity, and write nothing.
pub async fn x5_unknown_ids_are_not_found_and_write_nothing<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let task = f.manual_task("Hotel", None).await;
    let before = f.dump().await;
    let now = f.clock.now();
    let (no_task, no_person, no_segment) = (
        TaskId::new_at(now),
        ParticipantId::new_at(now),
        SegmentId::new_at(now),
    );
    let me = f.as_participant(&ann);
    let cases: Vec<(Result<()>, &str)> = vec![
        (
            f.service
                .publish_task(&f.organizer, f.event, no_task)
                .await
                .map(drop),
            "task",
        ),
        (
            f.service
                .complete_task(&me, f.event, ann.id, no_task)
                .await
                .map(drop),
            "task",
        ),
        (
            f.service
                .complete_task(&f.organizer, f.event, no_person, task.id)
                .await
                .map(drop),
            "participant",
        ),
        (
            f.service
                .update_segment(
                    &f.organizer,
                    f.event,
                    no_segment,
                    SegmentDraft {
                        name: "x".into(),
                        rule: Rule::Everyone,
                    },
                )
                .await
                .map(drop),
            "segment",
        ),
        (
            f.service
                .link_collaborator(&f.organizer, f.event, ann.id, no_person)
                .await
                .map(drop),
            "participant",
        ),
        (
            f.service
                .assign_task(&me, f.event, ann.id, no_task, no_person)
                .await
                .map(drop),
            "task",
        ),
        (
            f.service
                .tasks(&Actor::System, EventId::new_at(now))
                .await
                .map(drop),
            "event",
        ),
        (
            f.service
                .participant_by_external_id(
                    &f.organizer,
                    f.event,
                    &ExternalId::new("nobody").unwrap(),
                )
                .await
                .map(drop),
            "participant",
        ),
    ];
    for (r, entity) in cases {
        match r {
            Err(Error::NotFound { entity: e, .. }) => assert_eq!(e, entity),
            other => panic!("expected NotFound {entity}, got {other:?}"),
        }
    }
    let e = f
        .service
        .assign_task(&me, f.event, ann.id, task.id, no_person)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = f
        .service
        .publish_tasks(&f.organizer, f.event, &[])
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("tasks"));
    assert_eq!(f.dump().await, before);
}

/// X4: two change sets computed at the same participant version: one commits, the other
/// is a Conflict and writes nothing.
pub async fn x4_same_version_change_sets_one_conflict<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let store = f.service.store().clone();
    let state = store.participant(f.event, ann.id).await.unwrap().unwrap();
    let change = |product: &str| {
        let mut facts = state.facts.clone();
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
    dup.participant.id = ParticipantId::new_at(f.clock.now());
    cs.participants.push(ParticipantWrite {
        id: dup.participant.id,
        version: 1,
        record: Some(dup.participant),
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
    let store = Arc::new(super::Interleaving::new(Arc::new(store)));
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

/// P4: teams are one level deep: no self link, no chain either way, one team each.
pub async fn p4_team_is_one_level_deep<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (acme, team) = f.exhibitor_with_collaborator("acme").await;
    let (globex, _) = f.exhibitor_with_collaborator("globex").await;
    let loner = f.participant("loner", &[]).await;
    let before = f.dump().await;
    let link = |o: &Participant, c: &Participant| {
        let (o, c) = (o.id, c.id);
        let f = &f;
        async move {
            f.service
                .link_collaborator(&f.organizer, f.event, o, c)
                .await
        }
    };
    let e = link(&acme, &acme).await.unwrap_err();
    assert_eq!(e.field(), Some("collaborator"), "self link: {e}");
    let e = link(&team, &loner).await.unwrap_err();
    assert!(
        matches!(e, Error::State { .. }),
        "a collaborator cannot own a team: {e}"
    );
    let e = link(&loner, &acme).await.unwrap_err();
    assert!(
        matches!(e, Error::State { .. }),
        "a team owner cannot join a team: {e}"
    );
    let e = link(&globex, &team).await.unwrap_err();
    assert!(matches!(e, Error::State { .. }), "one team each: {e}");
    assert_eq!(f.dump().await, before, "refused links wrote nothing");
    // Reported as a host fact, a refused link still counts as a collaborator but links
    // nobody.
    f.fact(
        "c1",
        &loner,
        HostFact::CollaboratorAdded {
            collaborator: acme.external_id.clone(),
        },
    )
    .await;
    let acme_now = f
        .service
        .participant(&f.organizer, f.event, acme.id)
        .await
        .unwrap();
    assert_eq!(acme_now.owner, None);
}

/// R12: a participant's history pages are full even when lines about custom fields (which
/// they never see) come between.
pub async fn r12_participant_history_pages_skip_custom_fields<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    for i in 0..3 {
        let patch = ParticipantPatch {
            profile: Profile {
                company: format!("Company {i}"),
                ..f.service
                    .participant(&f.organizer, f.event, ann.id)
                    .await
                    .unwrap()
                    .profile
            }
            .into(),
            ..ParticipantPatch::default()
        };
        f.service
            .update_participant(&f.organizer, f.event, ann.id, patch)
            .await
            .unwrap();
        f.clock.advance(Duration::seconds(1));
        for j in 0..4 {
            let patch = ParticipantPatch {
                custom_fields: [("stand".to_owned(), Some(format!("B{i}{j}")))].into(),
                ..ParticipantPatch::default()
            };
            f.service
                .update_participant(&f.organizer, f.event, ann.id, patch)
                .await
                .unwrap();
            f.clock.advance(Duration::seconds(1));
        }
    }
    let me = f.as_participant(&ann);
    let page = f
        .service
        .participant_history(&me, f.event, ann.id, &HistoryFilter::default(), 2)
        .await
        .unwrap();
    assert_eq!(page.len(), 2, "{page:?}");
    assert!(page.iter().all(|h| h.field == "profile.company"));
    assert_eq!(page[0].new, serde_json::json!("Company 2"));
    let next = f
        .service
        .participant_history(
            &me,
            f.event,
            ann.id,
            &HistoryFilter {
                before: Some(page[1].id),
                ..HistoryFilter::default()
            },
            2,
        )
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].new, serde_json::json!("Company 0"));
    let all = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            ann.id,
            &HistoryFilter::default(),
            100,
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 15, "the organizer sees every line");
}

/// P3: the owner and the collaborator holding a manual task can each complete and undo it;
/// the other sees the result; an unrelated participant cannot.
pub async fn p3_owner_and_assignee_complete_and_undo<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let stranger = f.participant("stranger", &["exhibitor"]).await;
    let hotel = f.manual_task("Book your hotel", Some(f.exhibitors)).await;
    let (as_owner, as_team) = (f.as_participant(&owner), f.as_participant(&team));
    let e = f
        .service
        .complete_task(&as_team, f.event, owner.id, hotel.id)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Forbidden { .. }),
        "not assigned yet: {e}"
    );
    f.service
        .assign_task(&as_owner, f.event, owner.id, hotel.id, team.id)
        .await
        .unwrap();
    let row = f
        .service
        .complete_task(&as_team, f.event, owner.id, hotel.id)
        .await
        .unwrap();
    assert_eq!(row.completion.unwrap().by, as_team);
    assert_eq!(f.status(&owner, hotel.id).await, Some(ProgressStatus::Done));
    f.service
        .undo_task(&as_owner, f.event, owner.id, hotel.id)
        .await
        .unwrap();
    let team_item = f
        .list(&team)
        .await
        .items
        .into_iter()
        .find(|i| i.task == hotel.id)
        .unwrap();
    assert_eq!(
        team_item.status,
        ProgressStatus::Todo,
        "the assignee sees the owner's undo"
    );
    let before = f.dump().await;
    let e = f
        .service
        .complete_task(&f.as_participant(&stranger), f.event, owner.id, hotel.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(f.dump().await, before);
}

/// X4: [`Store::event_config`] answers what [`Store::event`], [`Store::tasks`] and
/// [`Store::segments`] say, after every kind of configuration change (a store that keeps
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
    let mut settings = f
        .service
        .event(&f.organizer, f.event)
        .await
        .unwrap()
        .settings;
    settings.name = "Expo 2027".into();
    f.service
        .update_event(&f.organizer, f.event, settings)
        .await
        .unwrap();
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
