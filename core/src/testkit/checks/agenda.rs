//! Conformance checks for the agenda (R6, R8, R9): sessions registered and attended, and
//! meetings on both records.

use std::sync::Arc;

use chrono::Duration;

use super::common::{everything, session};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// R6, R8: registrations and attendance land on the record, the timeline and the history;
/// "registered to at least N sessions" completes and reopens with them (T3, T4, and the
/// visitors' template); the agenda lists registered sessions in time order; X2 and X5.
pub async fn r8_sessions_agenda_and_the_session_condition<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let vera = f.participant("vera", &["visitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    let me = f.as_participant(&vera);
    let task = f
        .auto_task(
            "Choose two sessions",
            Condition::Sessions { at_least: 2 },
            None,
        )
        .await;
    let day = f.clock.now() + Duration::days(20);
    let keynote = session("keynote", day, "Keynote");
    let workshop = session("ws-7", day + Duration::hours(3), "Workshop: Rust");
    let panel = session("panel", day + Duration::hours(1), "Panel");

    // The participant registers herself, then the organizer adds a second session.
    let r = f
        .service
        .register_to_session(&me, f.event, vera.id, keynote.clone())
        .await
        .unwrap();
    assert!(r.registered && r.attended_at.is_none());
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Todo));
    f.service
        .register_to_session(&f.organizer, f.event, vera.id, workshop.clone())
        .await
        .unwrap();
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Done));
    // Again, same description: nothing written.
    let before = f.dump().await;
    f.service
        .register_to_session(&me, f.event, vera.id, keynote.clone())
        .await
        .unwrap();
    assert_eq!(f.dump().await, before, "registering again writes nothing");
    let timeline = everything(&f, &vera).await;
    let registered: Vec<_> = timeline
        .iter()
        .filter_map(|e| match &e.kind {
            TimelineKind::SessionRegistered { session } => Some(session.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(registered, ["ws-7", "keynote"]);
    let history = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            vera.id,
            &HistoryFilter {
                fields: vec!["sessions".into()],
                ..HistoryFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].field, "sessions.ws-7");
    assert_eq!(history[0].actor, f.organizer);
    assert_eq!(history[1].actor, me);

    // Unregistering reopens the task; a second time, there is nothing to unregister.
    let r = f
        .service
        .unregister_from_session(&me, f.event, vera.id, &workshop.id)
        .await
        .unwrap();
    assert!(!r.registered);
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Todo));
    let before = f.dump().await;
    let e = f
        .service
        .unregister_from_session(&me, f.event, vera.id, &workshop.id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                entity: "session",
                ..
            }
        ),
        "{e}"
    );

    // Bad descriptions and wrong actors write nothing.
    let mut untitled = panel.clone();
    untitled.title = "  ".into();
    let mut backwards = panel.clone();
    backwards.ends_at = backwards.starts_at - Duration::minutes(1);
    for (bad, field) in [(untitled, "session.title"), (backwards, "session.ends_at")] {
        let e = f
            .service
            .register_to_session(&me, f.event, vera.id, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field));
    }
    let e = f
        .service
        .register_to_session(&f.as_participant(&bob), f.event, vera.id, panel.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .record_attendance(&me, f.event, vera.id, keynote.clone(), f.clock.now())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .record_attendance(
            &f.organizer,
            f.event,
            vera.id,
            keynote.clone(),
            f.clock.now() + Duration::days(1),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("at"));
    let e = f
        .service
        .sessions(&other.organizer, f.event, vera.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = f
        .service
        .agenda(&f.as_participant(&bob), f.event, vera.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(f.dump().await, before, "refused calls write nothing");

    // Attendance: registered or walk-in; the first time is kept.
    f.clock.set(day + Duration::minutes(5));
    let at = f.clock.now();
    let r = f
        .service
        .record_attendance(&Actor::System, f.event, vera.id, keynote.clone(), at)
        .await
        .unwrap();
    assert!(r.registered);
    assert_eq!(r.attended_at, Some(at));
    let again = f
        .service
        .record_attendance(
            &f.organizer,
            f.event,
            vera.id,
            keynote.clone(),
            at + Duration::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(again.attended_at, Some(at));
    // Reported an hour late: on the timeline at the time she walked in.
    f.clock.advance(Duration::hours(1));
    let walk_in = f
        .service
        .record_attendance(&f.organizer, f.event, vera.id, panel.clone(), at)
        .await
        .unwrap();
    let entry = everything(&f, &vera)
        .await
        .into_iter()
        .find(|e| {
            e.kind
                == TimelineKind::SessionAttended {
                    session: panel.id.clone(),
                }
        })
        .unwrap();
    assert_eq!(entry.at, at, "at the time it happened");
    assert!(!walk_in.registered && walk_in.attended_at == Some(at));
    assert_eq!(
        f.status(&vera, task.id).await,
        Some(ProgressStatus::Todo),
        "attending without registering does not count"
    );
    let attended = everything(&f, &vera)
        .await
        .iter()
        .filter(|e| e.kind.action_kind() == ActionKind::SessionAttended)
        .count();
    assert_eq!(attended, 2);

    // The sessions tab and the agenda.
    let sessions = f.service.sessions(&me, f.event, vera.id).await.unwrap();
    let ids: Vec<_> = sessions.iter().map(|r| r.session.id.as_str()).collect();
    assert_eq!(
        ids,
        ["keynote", "panel"],
        "earliest first, the workshop left"
    );
    let agenda = f.service.agenda(&me, f.event, vera.id).await.unwrap();
    assert_eq!(agenda.time_zone, chrono_tz::Europe::Paris);
    assert_eq!(
        agenda.items,
        [AgendaItem::Session {
            session: keynote.clone(),
            attended: true
        }]
    );
    f.service
        .register_to_session(&me, f.event, vera.id, workshop.clone())
        .await
        .unwrap();
    let agenda = f
        .service
        .agenda(&f.organizer, f.event, vera.id)
        .await
        .unwrap();
    let starts: Vec<_> = agenda.items.iter().map(AgendaItem::starts_at).collect();
    assert_eq!(starts, [keynote.starts_at, workshop.starts_at]);
    assert_eq!(
        agenda.items[0].local_start(agenda.time_zone).to_rfc3339(),
        "2026-03-21T10:00:00+01:00",
        "09:00 UTC on 21 March is 10:00 in Paris"
    );
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Done));

    // The visitors' template counts sessions.
    let draft = f
        .service
        .create_task_from_template(
            &f.organizer,
            f.event,
            &Template::VisitorChooseSession { at_least: 1 },
            Fixture::<S>::web(),
        )
        .await
        .unwrap();
    assert_eq!(
        draft.condition(),
        Some(&Condition::Sessions { at_least: 1 })
    );
}

/// R9, R6: a meeting lands on both records, timelines and histories in one transaction;
/// the other participant answers, either cancels, an organizer's booking is accepted; the
/// agenda shows the meetings that take place with the sessions, in time order; X2, X5.
pub async fn r9_meetings_on_both_records_and_in_the_agenda<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let acme = f.participant("acme", &["exhibitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    let as_ann = f.as_participant(&ann);
    let as_acme = f.as_participant(&acme);
    f.allow_networking(&acme).await;
    let day = f.clock.now() + Duration::days(20);
    let new = |booker: &Participant, with: &Participant, hours: i64| NewMeeting {
        booker: booker.id,
        with: with.id,
        starts_at: day + Duration::hours(hours),
        ends_at: day + Duration::hours(hours) + Duration::minutes(30),
        place: Some("Booth B12".into()),
    };

    // Errors first: nothing is written.
    let before = f.dump().await;
    let mut backwards = new(&ann, &acme, 2);
    backwards.ends_at = backwards.starts_at;
    for (bad, field) in [(new(&ann, &ann, 2), "with"), (backwards, "ends_at")] {
        let e = f
            .service
            .book_meeting(&as_ann, f.event, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field));
    }
    let mut ghost = new(&ann, &acme, 2);
    ghost.with = ParticipantId::new_at(f.clock.now());
    let e = f
        .service
        .book_meeting(&as_ann, f.event, ghost)
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
    let e = f
        .service
        .book_meeting(&f.as_participant(&bob), f.event, new(&ann, &acme, 2))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .book_meeting(&other.organizer, f.event, new(&ann, &acme, 2))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert_eq!(f.dump().await, before, "refused bookings write nothing");

    // Ann books Acme: requested, on both records.
    let m = f
        .service
        .book_meeting(&as_ann, f.event, new(&ann, &acme, 2))
        .await
        .unwrap();
    assert_eq!(m.status, MeetingStatus::Requested);
    for p in [&ann, &acme] {
        let list = f
            .service
            .meetings(&f.organizer, f.event, p.id)
            .await
            .unwrap();
        assert_eq!(list, std::slice::from_ref(&m));
    }
    assert!(everything(&f, &ann).await.iter().any(|e| e.kind
        == TimelineKind::MeetingBooked {
            meeting: m.id,
            with: acme.id
        }));
    assert!(everything(&f, &acme).await.iter().any(|e| e.kind
        == TimelineKind::MeetingReceived {
            meeting: m.id,
            from: ann.id
        }));
    let status_line = format!("meetings.{}.status", m.id);
    let lines = |p: &Participant| {
        let f = &f;
        let id = p.id;
        let field = status_line.clone();
        async move {
            f.service
                .participant_history(
                    &f.organizer,
                    f.event,
                    id,
                    &HistoryFilter {
                        fields: vec![field],
                        ..HistoryFilter::default()
                    },
                    10,
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(lines(&acme).await.len(), 1);

    // Only the other participant answers; the booker cannot accept for them.
    let e = f
        .service
        .set_meeting_status(&as_ann, f.event, ann.id, m.id, MeetingStatus::Accepted)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .set_meeting_status(&as_acme, f.event, ann.id, m.id, MeetingStatus::Accepted)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .set_meeting_status(
            &as_acme,
            f.event,
            acme.id,
            MeetingId::new_at(f.clock.now()),
            MeetingStatus::Accepted,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                entity: "meeting",
                ..
            }
        ),
        "{e}"
    );
    let accepted = f
        .service
        .set_meeting_status(&as_acme, f.event, acme.id, m.id, MeetingStatus::Accepted)
        .await
        .unwrap();
    assert_eq!(accepted.status, MeetingStatus::Accepted);
    assert_eq!(
        f.service.meetings(&as_ann, f.event, ann.id).await.unwrap()[0].status,
        MeetingStatus::Accepted,
        "both records moved"
    );
    for p in [&ann, &acme] {
        let answered = everything(&f, p).await.into_iter().any(|e| {
            e.kind
                == TimelineKind::MeetingStatusChanged {
                    meeting: m.id,
                    status: MeetingStatus::Accepted,
                }
                && e.actor == as_acme
        });
        assert!(answered, "the answer is on both timelines");
    }
    let history = lines(&ann).await;
    assert_eq!(history[0].new, serde_json::json!("accepted"));
    assert_eq!(history[0].old, serde_json::json!("requested"));
    assert_eq!(history[0].actor, as_acme);

    // An organizer books Ann with Bob earlier that day: accepted at once.
    let by_organizer = f
        .service
        .book_meeting(&f.organizer, f.event, new(&ann, &bob, 0))
        .await
        .unwrap();
    assert_eq!(by_organizer.status, MeetingStatus::Accepted);
    f.service
        .register_to_session(
            &as_ann,
            f.event,
            ann.id,
            session("keynote", day + Duration::hours(1), "Keynote"),
        )
        .await
        .unwrap();
    let agenda = f.service.agenda(&as_ann, f.event, ann.id).await.unwrap();
    let kinds: Vec<_> = agenda
        .items
        .iter()
        .map(|i| match i {
            AgendaItem::Meeting { meeting } => meeting.id.to_string(),
            AgendaItem::Session { session, .. } => session.id.as_str().to_owned(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            by_organizer.id.to_string(),
            "keynote".into(),
            m.id.to_string()
        ]
    );

    // Ann cancels; the agenda drops it, the meetings tab keeps it.
    f.service
        .set_meeting_status(&as_ann, f.event, ann.id, m.id, MeetingStatus::Cancelled)
        .await
        .unwrap();
    let agenda = f.service.agenda(&as_ann, f.event, ann.id).await.unwrap();
    assert_eq!(agenda.items.len(), 2);
    let acme_meetings = f
        .service
        .meetings(&as_acme, f.event, acme.id)
        .await
        .unwrap();
    assert_eq!(acme_meetings[0].status, MeetingStatus::Cancelled);
    let e = f
        .service
        .meetings(&as_acme, f.event, ann.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
}
