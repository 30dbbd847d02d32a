//! Conformance checks for access (X1, X2): events isolated from each other, another
//! participant's objects Forbidden and another event's NotFound, the back office for the
//! event's organizers, and every part of the record for its right readers.

use std::sync::Arc;

use chrono::Duration;

use super::common::{action, review_task, session};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

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

/// X2 on the back office: every tracking and action call answers `NotFound` to an
/// organizer of another event and `Forbidden` to a participant, and writes nothing.
pub async fn x2_back_office_is_for_the_events_organizers<S: DumpStore>(store: S) {
    let store = std::sync::Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let doc = review_task(&f, "Document").await;
    let draft = f.draft_manual("Draft", None).await;
    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, doc.id)
        .await
        .unwrap();
    let before = f.dump().await;
    for (who, actor) in [
        ("participant", f.as_participant(&ann)),
        ("foreign organizer", other.organizer.clone()),
    ] {
        let results: Vec<(&str, Result<()>)> = vec![
            (
                "matrix",
                f.service
                    .matrix(&actor, f.event, &MatrixRequest::default())
                    .await
                    .map(drop),
            ),
            (
                "figures",
                f.service.task_figures(&actor, f.event).await.map(drop),
            ),
            (
                "matrix csv",
                f.service
                    .export_matrix_csv(&actor, f.event, &MatrixRequest::default(), Vec::new())
                    .await
                    .map(drop),
            ),
            (
                "figures csv",
                f.service
                    .export_figures_csv(&actor, f.event, Vec::new())
                    .await
                    .map(drop),
            ),
            (
                "remind",
                f.service
                    .remind_now(&actor, f.event, doc.id, RemindTarget::AllIncomplete)
                    .await
                    .map(drop),
            ),
            (
                "accept",
                f.service
                    .accept_submission(&actor, f.event, ann.id, doc.id)
                    .await
                    .map(drop),
            ),
            (
                "reject",
                f.service
                    .reject_submission(&actor, f.event, ann.id, doc.id, "no")
                    .await
                    .map(drop),
            ),
            (
                "bulk",
                f.service
                    .decide_many(&actor, f.event, doc.id, &[ann.id], Decision::Validate)
                    .await
                    .map(drop),
            ),
            (
                "template",
                f.service
                    .create_task_from_template(
                        &actor,
                        f.event,
                        &Template::ExhibitorLogo,
                        Fixture::<S>::web(),
                    )
                    .await
                    .map(drop),
            ),
            (
                "copy",
                f.service
                    .copy_tasks(&actor, f.event, &Actor::System, other.event, None, None)
                    .await
                    .map(drop),
            ),
            (
                "task history",
                f.service
                    .task_history(&actor, f.event, draft.id, None, 10)
                    .await
                    .map(drop),
            ),
            (
                "feed",
                f.service.progress_feed(&actor, f.event).await.map(drop),
            ),
        ];
        for (call, r) in results {
            match (who, r) {
                ("participant", Err(Error::Forbidden { .. })) => {}
                ("foreign organizer", Err(Error::NotFound { .. })) => {}
                (_, other) => panic!("{who} calling {call}: {other:?}"),
            }
        }
    }
    assert_eq!(f.dump().await, before);
}

/// X2 over every read of the participant's record (R5–R13, X6): the event's organizers
/// and the participant read; another participant of the event is refused; an organizer
/// of another event finds nothing. A participant's own reads carry no custom field.
pub async fn x2_every_part_of_the_record_for_the_right_readers<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            ann.id,
            ParticipantPatch {
                custom_fields: [("stand".to_owned(), Some("secret-stand".to_owned()))].into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    // Something in every part: a session, a meeting with an exhibitor she bookmarked and
    // who scanned her, a message, a ping.
    let cid = f.participant("cid", &["exhibitor"]).await;
    let mut profile = cid.profile.clone();
    profile.first_name = "Cidqx".into();
    profile.company = "Cid Corp".into();
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            cid.id,
            ParticipantPatch {
                profile: profile.into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let me = f.as_participant(&ann);
    let day = f.clock.now() + Duration::days(5);
    f.service
        .register_to_session(&me, f.event, ann.id, session("keynote", day, "Keynote"))
        .await
        .unwrap();
    f.service
        .book_meeting(
            &f.organizer,
            f.event,
            NewMeeting {
                booker: ann.id,
                with: cid.id,
                starts_at: day + Duration::hours(2),
                ends_at: day + Duration::hours(3),
                place: None,
            },
        )
        .await
        .unwrap();
    f.service
        .report_actions(
            &Actor::System,
            f.event,
            vec![
                action(
                    "bm",
                    &ann,
                    f.clock.now(),
                    TimelineKind::ExhibitorBookmarked { exhibitor: cid.id },
                ),
                action(
                    "sc",
                    &ann,
                    f.clock.now(),
                    TimelineKind::Scanned {
                        place: ScanPlace::Partner { partner: cid.id },
                    },
                ),
            ],
        )
        .await
        .unwrap();
    f.service
        .send_message(&me, f.event, ann.id, "Hello")
        .await
        .unwrap();
    f.service
        .ping(&me, f.event, ann.id, LoginChannel::Web)
        .await
        .unwrap();
    let (ev, id) = (f.event, ann.id);
    let svc = &f.service;
    // Each read, as a JSON text of what it returns.
    let read = |actor: Actor, part: &'static str| async move {
        let value: Result<serde_json::Value> = match part {
            "timeline" => svc
                .timeline(&actor, ev, id, &TimelineFilter::default(), 10)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "timeline csv" => {
                let mut out = Vec::new();
                svc.export_timeline_csv(&actor, ev, id, &TimelineFilter::default(), &mut out)
                    .await
                    .map(|_| serde_json::json!(String::from_utf8(out).unwrap()))
            }
            "history" => svc
                .participant_history(&actor, ev, id, &HistoryFilter::default(), 100)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "history csv" => {
                let mut out = Vec::new();
                svc.export_participant_history_csv(
                    &actor,
                    ev,
                    id,
                    &HistoryFilter::default(),
                    &mut out,
                )
                .await
                .map(|_| serde_json::json!(String::from_utf8(out).unwrap()))
            }
            "sessions" => svc
                .sessions(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "agenda" => svc
                .agenda(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "meetings" => svc
                .meetings(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "partners" => svc
                .partners(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "messages" => svc
                .messages(&actor, ev, id, None, 10)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "online status" => svc
                .online_status(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "export" => svc
                .export_participant(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            _ => unreachable!("no such part: {part}"),
        };
        value
    };
    let parts = [
        "timeline",
        "timeline csv",
        "history",
        "history csv",
        "sessions",
        "agenda",
        "meetings",
        "partners",
        "messages",
        "online status",
        "export",
    ];
    for part in parts {
        let own = read(f.as_participant(&ann), part)
            .await
            .unwrap_or_else(|e| panic!("{part}, own: {e}"));
        let own = own.to_string();
        assert!(
            !own.contains("secret-stand"),
            "{part}: no custom field for the participant"
        );
        assert!(
            !own.contains("Cidqx"),
            "{part}: no other participant's name for the participant"
        );
        let staff = read(f.organizer.clone(), part)
            .await
            .unwrap_or_else(|e| panic!("{part}, organizer: {e}"));
        let empty = matches!(&staff, serde_json::Value::Array(a) if a.is_empty());
        assert!(!empty, "{part}: the check reads something");
        let e = read(f.as_participant(&bob), part).await.unwrap_err();
        assert!(
            matches!(e, Error::Forbidden { .. }),
            "{part}, other participant: {e}"
        );
        let e = read(other.organizer.clone(), part).await.unwrap_err();
        assert!(
            matches!(e, Error::NotFound { .. }),
            "{part}, other event: {e}"
        );
    }
    // The organizers do see the custom field, and the partner's name.
    let full = read(f.organizer.clone(), "export").await.unwrap();
    assert!(full.to_string().contains("secret-stand"));
    let partners = read(f.organizer.clone(), "partners").await.unwrap();
    assert!(partners.to_string().contains("Cidqx"));
    let csv = read(f.organizer.clone(), "timeline csv").await.unwrap();
    assert!(csv.to_string().contains("exhibitor_bookmarked"));
}
