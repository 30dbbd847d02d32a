//! Conformance checks, group C: the organizer's back office — review (T3), figures kept
//! as counters (B3), bulk decisions (B5) and the live stream for every cause (B1).

use chrono::Duration;

use super::checks_b::{assert_quiet, next_change};
use super::{DumpStore, Fixture};
use crate::*;

async fn review_task<S: DumpStore>(f: &Fixture<S>, name: &str) -> Task {
    let mut config = TaskConfig::manual(f.en.clone(), name, Fixture::<S>::web());
    config.review = true;
    let t = f
        .service
        .create_task(&f.organizer, f.event, config)
        .await
        .unwrap();
    f.service
        .publish_task(&f.organizer, f.event, t.id)
        .await
        .unwrap()
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
    assert_eq!(e.field(), Some("status"), "nothing submitted yet: {e}");
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
        .participant_history(&f.organizer, f.event, ann.id, None, 10)
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

/// B3: figures per task — targeted, done, awaiting review, overdue (derived from the
/// deadline), rate — read from counters; organizers only.
pub async fn b3_figures_from_counters<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut exhibitors = Vec::new();
    for i in 0..10 {
        exhibitors.push(f.participant(&format!("ex{i}"), &["exhibitor"]).await);
    }
    let visitor = f.participant("visitor", &["visitor"]).await;
    let mut config = TaskConfig::manual(f.en.clone(), "Hotel", Fixture::<S>::web());
    config.segment = Some(f.exhibitors);
    config.deadline = Some(f.clock.now() + Duration::days(2));
    let hotel = f
        .service
        .create_task(&f.organizer, f.event, config)
        .await
        .unwrap();
    f.service
        .publish_task(&f.organizer, f.event, hotel.id)
        .await
        .unwrap();
    let doc = review_task(&f, "Document").await;
    let draft = f.draft_manual("Draft", None).await;
    for p in &exhibitors[..4] {
        f.service
            .complete_task(&f.as_participant(p), f.event, p.id, hotel.id)
            .await
            .unwrap();
    }
    for p in &exhibitors[..3] {
        f.service
            .complete_task(&f.as_participant(p), f.event, p.id, doc.id)
            .await
            .unwrap();
    }
    f.service
        .accept_submission(&f.organizer, f.event, exhibitors[0].id, doc.id)
        .await
        .unwrap();

    let figures = f.service.task_figures(&f.organizer, f.event).await.unwrap();
    assert!(
        figures.iter().all(|x| x.task != draft.id),
        "drafts have no figures"
    );
    let fig = |id| figures.iter().find(|x| x.task == id).unwrap().clone();
    let h = fig(hotel.id);
    assert_eq!(
        (h.targeted, h.done, h.awaiting_review, h.overdue, h.rate),
        (10, 4, 0, 0, 40)
    );
    let d = fig(doc.id);
    assert_eq!((d.targeted, d.done, d.awaiting_review), (11, 1, 2));

    f.clock.advance(Duration::days(3));
    let h = f
        .service
        .task_figures(&f.organizer, f.event)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.task == hotel.id)
        .unwrap();
    assert_eq!(h.overdue, 6, "deadline passed: targeted - done");

    // Leaving the segment moves the counters; archiving keeps them for reporting.
    let patch = ParticipantPatch {
        status: Some(Status::default()),
        ..ParticipantPatch::default()
    };
    f.service
        .update_participant(&f.organizer, f.event, exhibitors[0].id, patch)
        .await
        .unwrap();
    f.service
        .archive_task(&f.organizer, f.event, hotel.id)
        .await
        .unwrap();
    let h = f
        .service
        .task_figures(&f.organizer, f.event)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.task == hotel.id)
        .unwrap();
    assert_eq!((h.targeted, h.done), (9, 3));
    f.dump().await; // asserts counters == recount

    let e = f
        .service
        .task_figures(&f.as_participant(&visitor), f.event)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }));
}

/// A small deterministic generator, so a failing mix can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// B3: after a random mix of operations (completions, undos, facts, segment moves,
/// reviews, publishing, archiving, organizer decisions), the counters equal a recount.
pub async fn b3_counters_equal_recount<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut rng = Lcg(0x5eed);
    let mut people = Vec::new();
    for i in 0..12 {
        let cats: &[&str] = if i % 3 == 0 {
            &["visitor"]
        } else {
            &["exhibitor"]
        };
        people.push(f.participant(&format!("p{i}"), cats).await);
    }
    let mut tasks = vec![
        f.manual_task("Hotel", Some(f.exhibitors)).await,
        f.manual_task("Badge", None).await,
        f.auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
            .await,
        f.auto_task("Products", Condition::Products { at_least: 2 }, None)
            .await,
        review_task(&f, "Document").await,
    ];
    for step in 0..300 {
        let p = &people[rng.below(people.len())];
        let t = tasks[rng.below(tasks.len())].clone();
        let me = f.as_participant(p);
        let _ = match rng.below(9) {
            0 | 1 => f
                .service
                .complete_task(&me, f.event, p.id, t.id)
                .await
                .map(drop),
            2 => f
                .service
                .undo_task(&me, f.event, p.id, t.id)
                .await
                .map(drop),
            3 => {
                let fact = match rng.below(4) {
                    0 => HostFact::LogoUploaded,
                    1 => HostFact::LogoRemoved,
                    2 => HostFact::ProductAdded {
                        product: ExternalId::new(format!("sku{}", rng.below(4))).unwrap(),
                    },
                    _ => HostFact::ProductRemoved {
                        product: ExternalId::new(format!("sku{}", rng.below(4))).unwrap(),
                    },
                };
                f.clock.advance(Duration::seconds(1));
                f.service
                    .ingest(
                        &Actor::System,
                        f.event,
                        f.host_event(&format!("h{step}"), p, fact),
                    )
                    .await
                    .map(drop)
            }
            4 => {
                let cats = if rng.below(2) == 0 {
                    "exhibitor"
                } else {
                    "visitor"
                };
                let patch = ParticipantPatch {
                    status: Some(Status {
                        categories: [cats.to_owned()].into(),
                        ..Status::default()
                    }),
                    ..ParticipantPatch::default()
                };
                f.service
                    .update_participant(&f.organizer, f.event, p.id, patch)
                    .await
                    .map(drop)
            }
            5 => {
                let d = match rng.below(5) {
                    0 => Decision::Validate,
                    1 => Decision::Invalidate,
                    2 => Decision::Accept,
                    3 => Decision::Reject("no".into()),
                    _ => Decision::FollowCondition,
                };
                f.service
                    .decide_many(&f.organizer, f.event, t.id, &[p.id], d)
                    .await
                    .map(drop)
            }
            6 if step % 50 == 6 => {
                let new = f
                    .manual_task(&format!("Extra {step}"), Some(f.exhibitors))
                    .await;
                tasks.push(new);
                Ok(())
            }
            7 if step % 97 == 7 => f
                .service
                .archive_task(&f.organizer, f.event, t.id)
                .await
                .map(drop),
            8 => {
                let rule = if rng.below(2) == 0 {
                    Rule::category("exhibitor")
                } else {
                    Rule::category("visitor")
                };
                f.service
                    .update_segment(
                        &f.organizer,
                        f.event,
                        f.exhibitors,
                        SegmentDraft {
                            name: "Exhibitors".into(),
                            rule,
                        },
                    )
                    .await
                    .map(drop)
            }
            _ => Ok(()),
        };
        if step % 25 == 0 {
            f.dump().await; // asserts counters == recount
        }
    }
    let dump = f.dump().await;
    assert!(!dump.counters.is_empty());
}

/// B5: one decision for many participants: a result each, in order; the valid ones are
/// committed together; participants of another event or not targeted get their own error.
pub async fn b5_bulk_decisions_per_item<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let doc = review_task(&f, "Document").await;
    let mut people = Vec::new();
    for i in 0..5 {
        let p = f.participant(&format!("p{i}"), &[]).await;
        if i < 3 {
            f.service
                .complete_task(&f.as_participant(&p), f.event, p.id, doc.id)
                .await
                .unwrap();
        }
        people.push(p);
    }
    let ghost = ParticipantId::new_at(f.clock.now());
    let owners = [
        people[0].id,
        people[1].id,
        ghost,
        people[3].id,
        people[2].id,
    ];
    let results = f
        .service
        .decide_many(&f.organizer, f.event, doc.id, &owners, Decision::Accept)
        .await
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap().status, ProgressStatus::Done);
    assert_eq!(results[1].as_ref().unwrap().status, ProgressStatus::Done);
    assert!(matches!(
        results[2],
        Err(Error::NotFound {
            entity: "participant",
            ..
        })
    ));
    assert_eq!(
        results[3].as_ref().unwrap_err().field(),
        Some("status"),
        "p3 never submitted"
    );
    assert_eq!(results[4].as_ref().unwrap().status, ProgressStatus::Done);
    let fig = f.service.task_figures(&f.organizer, f.event).await.unwrap();
    assert_eq!((fig[0].done, fig[0].awaiting_review), (3, 0));

    let all: Vec<_> = people.iter().map(|p| p.id).collect();
    let results = f
        .service
        .decide_many(&f.organizer, f.event, doc.id, &all, Decision::Invalidate)
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap().status == ProgressStatus::Todo)
    );

    let before = f.dump().await;
    let e = f
        .service
        .decide_many(
            &f.as_participant(&people[0]),
            f.event,
            doc.id,
            &all,
            Decision::Validate,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }));
    let too_many = vec![people[0].id; MAX_BULK_FOR_TESTS + 1];
    let e = f
        .service
        .decide_many(&f.organizer, f.event, doc.id, &too_many, Decision::Validate)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("participants"));
    assert_eq!(f.dump().await, before);
}

const MAX_BULK_FOR_TESTS: usize = crate::service::MAX_BULK;

/// B1: every progress change, whatever its cause — a participant's tick, a condition, an
/// organizer's decision, a segment move — appears once on the stream after its commit,
/// in commit order for the participant.
pub async fn b1_every_cause_appears_once_in_order<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let hotel = f.manual_task("Hotel", Some(f.exhibitors)).await;
    let logo = f
        .auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await;
    let mut feed = f
        .service
        .progress_feed(&f.organizer, f.event)
        .await
        .unwrap();
    let me = f.as_participant(&ann);

    f.service
        .complete_task(&me, f.event, ann.id, hotel.id)
        .await
        .unwrap();
    f.fact("logo", &ann, HostFact::LogoUploaded).await;
    f.service
        .invalidate_task(&f.organizer, f.event, ann.id, hotel.id)
        .await
        .unwrap();
    let patch = ParticipantPatch {
        status: Some(Status::default()),
        ..ParticipantPatch::default()
    };
    f.service
        .update_participant(&f.organizer, f.event, ann.id, patch)
        .await
        .unwrap();

    let c1 = next_change(&mut feed, "B1").await;
    assert_eq!(
        (c1.task, c1.before, c1.after.status),
        (hotel.id, Some(ProgressStatus::Todo), ProgressStatus::Done)
    );
    let c2 = next_change(&mut feed, "B1").await;
    assert_eq!((c2.task, c2.after.status), (logo.id, ProgressStatus::Done));
    let c3 = next_change(&mut feed, "B1").await;
    assert_eq!((c3.task, c3.after.status), (hotel.id, ProgressStatus::Todo));
    let mut moved: Vec<_> = vec![
        next_change(&mut feed, "B1").await,
        next_change(&mut feed, "B1").await,
    ];
    moved.sort_by_key(|c| c.task);
    assert!(
        moved
            .iter()
            .all(|c| !c.after.targeted && c.participant == ann.id),
        "{moved:?}"
    );
    let tasks: Vec<_> = moved.iter().map(|c| c.task).collect();
    let mut expected = vec![hotel.id, logo.id];
    expected.sort();
    assert_eq!(tasks, expected);

    // Nothing else was sent, and a refused decision publishes nothing.
    f.service
        .follow_condition(&f.organizer, f.event, ann.id, hotel.id)
        .await
        .unwrap_err();
    assert_quiet(&mut feed, "nothing more was committed").await;
}
