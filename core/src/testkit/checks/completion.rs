//! Conformance checks for completion (T3, T4): manual ticks and their undo, the
//! organizer's validation, review with rejection, and automatic tasks following the facts
//! the host reports.

use chrono::Duration;

use super::common::review_task;
use crate::testkit::{DumpStore, Fixture};
use crate::*;

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

/// T3: a task under review: the participant submits, the organizer rejects with a reason
/// (the participant sees it and is notified), the participant submits again, the
/// organizer accepts. Wrong moves are refused and write nothing.
pub async fn t3_review_submit_reject_resubmit_accept<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let me = f.as_participant(&ann);
    let doc = review_task(&f, "Upload your supporting document").await;
    assert!(f.list(&ann).await.items[0].review);

    let before = f.dump().await;
    let e = f
        .service
        .accept_submission(&f.organizer, f.event, ann.id, doc.id)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::State { .. }),
        "nothing submitted yet: {e}"
    );
    assert_eq!(f.dump().await, before);

    let row = f
        .service
        .complete_task(&me, f.event, ann.id, doc.id)
        .await
        .unwrap();
    assert_eq!(row.status, ProgressStatus::AwaitingReview);
    assert_eq!(row.submitted.as_ref().unwrap().by, me);
    let e = f
        .service
        .reject_submission(&f.organizer, f.event, ann.id, doc.id, "  ")
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("reason"));
    let e = f
        .service
        .accept_submission(&me, f.event, ann.id, doc.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");

    f.clock.advance(Duration::hours(1));
    let row = f
        .service
        .reject_submission(
            &f.organizer,
            f.event,
            ann.id,
            doc.id,
            "The scan is unreadable",
        )
        .await
        .unwrap();
    assert_eq!(row.status, ProgressStatus::Todo);
    let item = f.list(&ann).await.items.remove(0);
    assert_eq!(item.rejection.unwrap().reason, "The scan is unreadable");
    let notices: Vec<_> = f
        .outbox()
        .await
        .into_iter()
        .filter(|o| matches!(o.message, Notification::ReviewRejected { .. }))
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].recipient, ann.id);

    f.service
        .complete_task(&me, f.event, ann.id, doc.id)
        .await
        .unwrap();
    let row = f
        .service
        .accept_submission(&f.organizer, f.event, ann.id, doc.id)
        .await
        .unwrap();
    assert_eq!(row.status, ProgressStatus::Done);
    assert_eq!(row.completion.as_ref().unwrap().how, CompletedHow::Reviewed);
    assert!(row.rejection.is_none());
    let e = f
        .service
        .undo_task(&me, f.event, ann.id, doc.id)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Forbidden { .. }),
        "an accepted task stays done: {e}"
    );
    let history = f
        .service
        .participant_history(&f.organizer, f.event, ann.id, &HistoryFilter::default(), 10)
        .await
        .unwrap();
    let field = format!("progress.{}.status", doc.id);
    let statuses: Vec<_> = history
        .iter()
        .filter(|h| h.field == field)
        .map(|h| h.new.clone())
        .collect();
    assert_eq!(
        statuses,
        [serde_json::json!("done"), serde_json::json!("todo")]
    );

    let e = f
        .service
        .create_task(&f.organizer, f.event, {
            let mut c = TaskConfig::automatic(
                f.en.clone(),
                "x",
                Condition::LogoUploaded,
                Fixture::<S>::web(),
            );
            c.review = true;
            c
        })
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("review"));
}

/// T3: a submission made by the collaborator holding the task: the rejection reaches the
/// owner and the collaborator; a resubmission clears the shown reason.
pub async fn t3_rejection_reaches_owner_and_holder<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let doc = review_task(&f, "Supporting document").await;
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            doc.id,
            team.id,
        )
        .await
        .unwrap();
    let as_team = f.as_participant(&team);
    f.service
        .complete_task(&as_team, f.event, owner.id, doc.id)
        .await
        .unwrap();
    f.service
        .reject_submission(
            &f.organizer,
            f.event,
            owner.id,
            doc.id,
            "  Expired passport  ",
        )
        .await
        .unwrap();
    let mut recipients: Vec<ParticipantId> = f
        .outbox()
        .await
        .into_iter()
        .filter(|o| matches!(&o.message, Notification::ReviewRejected { reason, .. } if reason == "Expired passport"))
        .map(|o| o.recipient)
        .collect();
    recipients.sort();
    let mut expected = vec![owner.id, team.id];
    expected.sort();
    assert_eq!(
        recipients, expected,
        "the reason is trimmed and reaches both"
    );
    let row = f
        .service
        .complete_task(&as_team, f.event, owner.id, doc.id)
        .await
        .unwrap();
    assert_eq!(row.status, ProgressStatus::AwaitingReview);
    assert!(
        row.rejection.is_none(),
        "a new submission clears the old reason"
    );
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
