//! Conformance checks for the organizer's tracking (B1–B5): the live stream for every
//! cause, the matrix and its pages, figures kept as counters, CSV exports, and bulk
//! decisions and reminders from the matrix.

use std::sync::Arc;

use chrono::Duration;

use super::common::{assert_quiet, next_change, review_task};
use crate::testkit::assert::{assert_forbidden, assert_not_found};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// B1: the live stream delivers each committed progress change (a manual completion, a
/// fact completing an automatic task, a change made by another service instance sharing
/// the store) and nothing of other events; only the event's organizers may subscribe.
pub async fn b1_live_stream_reports_commits<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store.clone()).await;
    let ann = f.participant("ann", &[]).await;
    let manual = f.manual_task("Hotel", None).await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let mut feed = f
        .service
        .progress_feed(&f.organizer, f.event)
        .await
        .expect("subscribe");

    f.clock.advance(Duration::minutes(1));
    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, manual.id)
        .await
        .unwrap();
    let c = next_change(&mut feed, "a manual completion").await;
    assert_eq!(
        (c.event, c.task, c.participant),
        (f.event, manual.id, ann.id)
    );
    assert_eq!(c.before, Some(ProgressStatus::Todo));
    assert_eq!(c.after.status, ProgressStatus::Done);
    assert_eq!(
        c.after.completion.as_ref().map(|c| c.how),
        Some(CompletedHow::Manual)
    );
    assert_eq!(c.at, f.clock.now());
    assert_quiet(&mut feed, "one completion, one change").await;

    f.clock.advance(Duration::minutes(1));
    f.fact("logo-1", &ann, HostFact::LogoUploaded).await;
    let c = next_change(&mut feed, "a fact completing an automatic task").await;
    assert_eq!((c.task, c.participant), (logo.id, ann.id));
    assert_eq!(c.before, Some(ProgressStatus::Todo));
    assert_eq!(c.after.status, ProgressStatus::Done);
    assert_eq!(
        c.after.completion.as_ref().map(|c| c.how),
        Some(CompletedHow::Condition)
    );

    // A redelivered fact changes nothing, so streams nothing.
    f.fact("logo-1", &ann, HostFact::LogoUploaded).await;
    assert_quiet(&mut feed, "a duplicate fact").await;

    // Another event's changes stay on its own stream.
    let bob = other.participant("bob", &[]).await;
    let foreign = other.manual_task("Foreign", None).await;
    other
        .service
        .complete_task(&other.as_participant(&bob), other.event, bob.id, foreign.id)
        .await
        .unwrap();
    assert_quiet(&mut feed, "another event's change").await;

    // A second instance sharing the store: its commits reach this stream too.
    let second: Punchlist<S, ManualClock> = Punchlist::new(store.clone(), f.clock.clone());
    second
        .undo_task(&f.as_participant(&ann), f.event, ann.id, manual.id)
        .await
        .unwrap();
    let c = next_change(&mut feed, "another instance's change").await;
    assert_eq!((c.task, c.participant), (manual.id, ann.id));
    assert_eq!(
        (c.before, c.after.status),
        (Some(ProgressStatus::Done), ProgressStatus::Todo)
    );

    // A newly published task: rows created, `before` None.
    let badge = f.manual_task("Badge", None).await;
    let c = next_change(&mut feed, "a publication").await;
    assert_eq!((c.task, c.participant, c.before), (badge.id, ann.id, None));
    assert_eq!(c.after.status, ProgressStatus::Todo);

    // Who may subscribe.
    let r = f
        .service
        .progress_feed(&f.as_participant(&ann), f.event)
        .await
        .map(drop);
    assert_forbidden(r, "a participant subscribes");
    let r = f
        .service
        .progress_feed(&other.organizer, f.event)
        .await
        .map(drop);
    assert_not_found(r, "another event's organizer subscribes");
    let r = f
        .service
        .progress_feed(&f.organizer, EventId::new_at(f.clock.now()))
        .await
        .map(drop);
    assert_not_found(r, "an unknown event");
}

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
        status: Status::default().into(),
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

async fn person<S: DumpStore>(
    f: &Fixture<S>,
    ext: &str,
    first: &str,
    last: &str,
    company: &str,
    cats: &[&str],
) -> Participant {
    let mut new = NewParticipant::new(ExternalId::new(ext).unwrap());
    new.profile.first_name = first.into();
    new.profile.last_name = last.into();
    new.profile.company = company.into();
    new.profile.email = Some(format!("{ext}@example.org"));
    new.status.categories = cats.iter().map(|c| c.to_string()).collect();
    f.service
        .register_participant(&f.organizer, f.event, new)
        .await
        .unwrap()
}

/// All pages of a matrix request, following `next`.
async fn all_pages<S: DumpStore>(f: &Fixture<S>, mut request: MatrixRequest) -> Vec<MatrixRow> {
    let mut rows = Vec::new();
    loop {
        let page = f
            .service
            .matrix(&f.organizer, f.event, &request)
            .await
            .unwrap();
        assert!(page.rows.len() <= request.limit.max(1));
        rows.extend(page.rows);
        match page.next {
            Some(next) => request.after = Some(next),
            None => return rows,
        }
    }
}

/// B2: the matrix filters by the chosen task's status, segment, category and text, sorts,
/// and pages by keyset; its bad requests are typed errors.
pub async fn b2_matrix_filters_sort_and_keyset_pages<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut people = Vec::new();
    for i in 0..20 {
        let cats: &[&str] = if i % 4 == 0 {
            &["visitor"]
        } else {
            &["exhibitor"]
        };
        let company = if i % 2 == 0 { "Acme" } else { "Globex" };
        let p = person(
            &f,
            &format!("p{i:02}"),
            &format!("First{i}"),
            &format!("Zed{:02}", 19 - i),
            company,
            cats,
        )
        .await;
        people.push(p);
    }
    let mut config = TaskConfig::manual(f.en.clone(), "Hotel", Fixture::<S>::web());
    config.segment = Some(f.exhibitors);
    config.deadline = Some(f.clock.now() + Duration::days(1));
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
    let exhibitors: Vec<&Participant> = people
        .iter()
        .filter(|p| p.status.categories.contains("exhibitor"))
        .collect();
    for p in exhibitors.iter().take(5) {
        f.service
            .complete_task(&f.as_participant(p), f.event, p.id, hotel.id)
            .await
            .unwrap();
    }
    for p in people.iter().take(3) {
        f.service
            .complete_task(&f.as_participant(p), f.event, p.id, doc.id)
            .await
            .unwrap();
    }

    // Everyone, by name, in pages of 7: the same as one sorted list.
    let request = MatrixRequest {
        limit: 7,
        ..MatrixRequest::default()
    };
    let rows = all_pages(&f, request).await;
    assert_eq!(rows.len(), 20);
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r.participant.profile.last_name.as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let first_page = f
        .service
        .matrix(
            &f.organizer,
            f.event,
            &MatrixRequest {
                limit: 7,
                ..MatrixRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(first_page.tasks, [hotel.id, doc.id]);
    let cell = &first_page.rows[0].cells[1];
    assert_eq!(cell.task, doc.id);

    let desc = all_pages(
        &f,
        MatrixRequest {
            limit: 6,
            descending: true,
            sort: MatrixSort::Company,
            ..MatrixRequest::default()
        },
    )
    .await;
    assert_eq!(desc.len(), 20);
    assert_eq!(desc[0].participant.profile.company, "Globex");
    assert_eq!(desc[19].participant.profile.company, "Acme");

    let count = |r: MatrixRequest| {
        let f = &f;
        async move { all_pages(f, MatrixRequest { limit: 4, ..r }).await.len() }
    };
    let on = |status| MatrixRequest {
        task: Some(hotel.id),
        status: Some(status),
        ..MatrixRequest::default()
    };
    let chosen = MatrixRequest {
        task: Some(hotel.id),
        ..MatrixRequest::default()
    };
    assert_eq!(
        count(chosen).await,
        15,
        "choosing a task keeps those it targets"
    );
    assert_eq!(count(on(StatusFilter::Done)).await, 5);
    assert_eq!(count(on(StatusFilter::ToDo)).await, 10);
    assert_eq!(
        count(on(StatusFilter::Overdue)).await,
        0,
        "deadline not passed yet"
    );
    let review = MatrixRequest {
        task: Some(doc.id),
        status: Some(StatusFilter::AwaitingReview),
        ..MatrixRequest::default()
    };
    assert_eq!(count(review).await, 3);
    // A negated rule over a value nobody has holds for everyone (a store evaluating rules
    // in SQL must not let a missing value turn `NOT` into "unknown").
    let not_b12 = f
        .service
        .create_segment(
            &f.organizer,
            f.event,
            SegmentDraft {
                name: "Not at B12".into(),
                rule: Rule::negate(Rule::CustomField {
                    field: "stand".into(),
                    value: Some("B12".into()),
                }),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        count(MatrixRequest {
            segment: Some(not_b12.id),
            ..MatrixRequest::default()
        })
        .await,
        20
    );
    assert_eq!(
        count(MatrixRequest {
            segment: Some(f.exhibitors),
            ..MatrixRequest::default()
        })
        .await,
        15
    );
    assert_eq!(
        count(MatrixRequest {
            category: Some("visitor".into()),
            ..MatrixRequest::default()
        })
        .await,
        5
    );
    assert_eq!(
        count(MatrixRequest {
            search: Some("ACME".into()),
            ..MatrixRequest::default()
        })
        .await,
        10
    );
    assert_eq!(
        count(MatrixRequest {
            search: Some("first1".into()),
            ..MatrixRequest::default()
        })
        .await,
        11
    );
    assert_eq!(
        count(MatrixRequest {
            search: Some("%' OR 1=1 --".into()),
            ..MatrixRequest::default()
        })
        .await,
        0
    );
    let combined = MatrixRequest {
        task: Some(hotel.id),
        status: Some(StatusFilter::ToDo),
        search: Some("globex".into()),
        ..MatrixRequest::default()
    };
    let rows = all_pages(
        &f,
        MatrixRequest {
            limit: 3,
            ..combined
        },
    )
    .await;
    assert!(
        rows.iter()
            .all(|r| r.participant.profile.company == "Globex"
                && r.cells[0].status == Some(ProgressStatus::Todo))
    );

    f.clock.advance(Duration::days(2));
    assert_eq!(count(on(StatusFilter::Overdue)).await, 10);
    let page = f
        .service
        .matrix(&f.organizer, f.event, &on(StatusFilter::Overdue))
        .await
        .unwrap();
    assert!(page.rows.iter().all(|r| r.cells[0].overdue));

    let before = f.dump().await;
    let bad = [
        (
            MatrixRequest {
                status: Some(StatusFilter::Done),
                ..MatrixRequest::default()
            },
            "status",
        ),
        (
            MatrixRequest {
                limit: 501,
                ..MatrixRequest::default()
            },
            "limit",
        ),
        (
            MatrixRequest {
                search: Some("x".repeat(201)),
                ..MatrixRequest::default()
            },
            "search",
        ),
        (
            MatrixRequest {
                search: Some("a\u{1f}b".into()),
                ..MatrixRequest::default()
            },
            "search",
        ),
    ];
    for (r, field) in bad {
        let e = f
            .service
            .matrix(&f.organizer, f.event, &r)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field));
    }
    let unknown = MatrixRequest {
        task: Some(TaskId::new_at(f.clock.now())),
        ..MatrixRequest::default()
    };
    assert!(matches!(
        f.service.matrix(&f.organizer, f.event, &unknown).await,
        Err(Error::NotFound { .. })
    ));
    let e = f
        .service
        .matrix(
            &f.as_participant(&people[0]),
            f.event,
            &MatrixRequest::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }));
    assert_eq!(f.dump().await, before);
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
        status: Status::default().into(),
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
                    status: Status {
                        categories: [cats.to_owned()].into(),
                        ..Status::default()
                    }
                    .into(),
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
            6 if step % 3 == 0 => {
                let new = f
                    .manual_task(&format!("Extra {step}"), Some(f.exhibitors))
                    .await;
                tasks.push(new);
                Ok(())
            }
            7 if tasks.len() > 4 => f
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

/// B4: the CSV exports of the matrix and the figures, with formula cells neutralised.
pub async fn b4_formula_cells_neutralised<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let evil = person(
        &f,
        "evil",
        "=HYPERLINK(\"http://x\")",
        "+SUM(A1)",
        "@cmd",
        &["exhibitor"],
    )
    .await;
    let plain = person(&f, "plain", "Ann", "-minus", "Acme", &["exhibitor"]).await;
    let mut config = TaskConfig::manual(f.en.clone(), "=Book your hotel", Fixture::<S>::web());
    config.segment = Some(f.exhibitors);
    let t = f
        .service
        .create_task(&f.organizer, f.event, config)
        .await
        .unwrap();
    f.service
        .publish_task(&f.organizer, f.event, t.id)
        .await
        .unwrap();
    f.service
        .complete_task(&f.as_participant(&plain), f.event, plain.id, t.id)
        .await
        .unwrap();

    let mut out = Vec::new();
    let n = f
        .service
        .export_matrix_csv(
            &f.organizer,
            f.event,
            &MatrixRequest {
                limit: 1,
                ..MatrixRequest::default()
            },
            &mut out,
        )
        .await
        .unwrap();
    assert_eq!(n, 2, "every page is exported");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[8], "'=Book your hotel");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let evil_row = records.iter().find(|r| &r[0] == "evil").unwrap();
    assert_eq!(&evil_row[1], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&evil_row[2], "'+SUM(A1)");
    assert_eq!(&evil_row[3], "'@cmd");
    assert_eq!(&evil_row[8], "to do");
    let plain_row = records.iter().find(|r| &r[0] == "plain").unwrap();
    assert_eq!(
        (&plain_row[2], &plain_row[6], &plain_row[7], &plain_row[8]),
        ("'-minus", "1", "1", "done")
    );
    let _ = evil;

    let mut out = Vec::new();
    f.service
        .export_figures_csv(&f.organizer, f.event, &mut out)
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(
        (&row[1], &row[3], &row[4], &row[7]),
        ("'=Book your hotel", "2", "1", "50")
    );

    let e = f
        .service
        .export_matrix_csv(
            &f.as_participant(&plain),
            f.event,
            &MatrixRequest::default(),
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }));
}

const MAX_BULK_FOR_TESTS: usize = crate::limits::BULK;

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
    assert!(
        matches!(results[3], Err(Error::State { .. })),
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

/// The "remind now" entries of the outbox.
async fn nudges<S: DumpStore>(f: &Fixture<S>) -> Vec<OutboxEntry> {
    f.outbox()
        .await
        .into_iter()
        .filter(|o| matches!(o.message, Notification::Nudge { .. }))
        .collect()
}

/// B5: "remind now" queues a reminder to one participant, or to every incomplete one,
/// going to the assignee when the task is assigned; done ones are skipped.
pub async fn b5_remind_now_one_and_all_incomplete<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let mut others = Vec::new();
    for i in 0..9 {
        others.push(f.participant(&format!("ex{i}"), &["exhibitor"]).await);
    }
    let hotel = f.manual_task("Hotel", Some(f.exhibitors)).await;
    let draft = f.draft_manual("Draft", None).await;
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            hotel.id,
            team.id,
        )
        .await
        .unwrap();
    for p in &others[..4] {
        f.service
            .complete_task(&f.as_participant(p), f.event, p.id, hotel.id)
            .await
            .unwrap();
    }
    let n = f
        .service
        .remind_now(
            &f.organizer,
            f.event,
            hotel.id,
            RemindTarget::Participant(owner.id),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let sent = nudges(&f).await;
    assert_eq!(sent[0].recipient, team.id, "the assignee holds it");
    // R5: the nudge is on the holder's timeline, by the organizer.
    let timeline = f
        .service
        .timeline(
            &f.organizer,
            f.event,
            team.id,
            &TimelineFilter::default(),
            100,
        )
        .await
        .unwrap();
    assert_eq!(
        (&timeline[0].kind, &timeline[0].actor),
        (
            &TimelineKind::ReminderSent {
                tasks: vec![hotel.id]
            },
            &f.organizer
        )
    );

    let n = f
        .service
        .remind_now(&f.organizer, f.event, hotel.id, RemindTarget::AllIncomplete)
        .await
        .unwrap();
    assert_eq!(n, 6, "owner + 5 not done");
    let sent = nudges(&f).await;
    assert_eq!(sent.len(), 7);
    let keys: std::collections::BTreeSet<_> =
        sent.iter().map(|o| o.idempotency_key.clone()).collect();
    assert_eq!(keys.len(), 7, "each reminder has its own key");
    assert!(
        sent.iter()
            .all(|o| !others[..4].iter().any(|p| p.id == o.recipient))
    );

    let before = f.dump().await;
    let e = f
        .service
        .remind_now(&f.organizer, f.event, draft.id, RemindTarget::AllIncomplete)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("task"));
    let e = f
        .service
        .remind_now(
            &f.organizer,
            f.event,
            hotel.id,
            RemindTarget::Participant(team.id),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("participant"), "not targeted");
    let e = f
        .service
        .remind_now(
            &f.as_participant(&owner),
            f.event,
            hotel.id,
            RemindTarget::AllIncomplete,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }));
    assert_eq!(f.dump().await, before);
}

/// B2: a store pages the targeted rows of one task with one status, in participant order
/// by keyset, without the rows of other tasks, other statuses or other events, nor those
/// the task does not target (what the reminder tick reads).
pub async fn b2_task_rows_page_one_status_of_one_task<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store.clone()).await;
    let mut people = Vec::new();
    for i in 0..5 {
        people.push(f.participant(&format!("x{i}"), &["exhibitor"]).await);
    }
    let visitor = f.participant("v", &["visitor"]).await;
    other.participant("x0", &["exhibitor"]).await;
    let task = f.manual_task("Hotel", None).await;
    let other_task = f.manual_task("Logo", None).await;
    other.manual_task("Hotel", None).await;
    for p in &people[..2] {
        f.service
            .complete_task(&f.as_participant(p), f.event, p.id, task.id)
            .await
            .unwrap();
    }
    let mut todo: Vec<ParticipantId> = people[2..].iter().map(|p| p.id).collect();
    todo.extend(
        f.list(&visitor)
            .await
            .items
            .iter()
            .any(|i| i.task == task.id)
            .then_some(visitor.id),
    );
    todo.sort();
    let mut done: Vec<ParticipantId> = people[..2].iter().map(|p| p.id).collect();
    done.sort();
    let owners = |rows: Vec<Progress>| -> Vec<ParticipantId> {
        assert!(
            rows.iter().all(|r| r.task == task.id && r.targeted),
            "{rows:?}"
        );
        rows.into_iter().map(|r| r.owner).collect()
    };
    let all = store
        .task_rows(f.event, task.id, ProgressStatus::Todo, None, 100)
        .await
        .unwrap();
    assert!(all.iter().all(|r| r.status == ProgressStatus::Todo));
    assert_eq!(owners(all), todo);
    let first = store
        .task_rows(f.event, task.id, ProgressStatus::Todo, None, 2)
        .await
        .unwrap();
    let rest = store
        .task_rows(
            f.event,
            task.id,
            ProgressStatus::Todo,
            first.last().map(|r| r.owner),
            100,
        )
        .await
        .unwrap();
    let mut paged = owners(first);
    paged.extend(owners(rest));
    assert_eq!(paged, todo, "keyset pages");
    let finished = store
        .task_rows(f.event, task.id, ProgressStatus::Done, None, 100)
        .await
        .unwrap();
    assert_eq!(owners(finished), done);
    assert!(
        store
            .task_rows(f.event, task.id, ProgressStatus::AwaitingReview, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .task_rows(other.event, task.id, ProgressStatus::Todo, None, 100)
            .await
            .unwrap()
            .len(),
        0,
        "another event's rows are its own"
    );
    assert_eq!(other_task.event, f.event);
}
