//! Conformance checks for privacy (X6): the export holds everything about the
//! participant, and the erasure leaves no personal value.

use std::sync::Arc;

use chrono::Duration;

use super::common::{action, email, session};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// X6: the export holds everything about the participant (for them, without custom
/// fields); erasure leaves no personal value anywhere in the event's canonical dump, keeps
/// history and timeline, leaves every figure as it was, drops the outbox entries to them,
/// removes push subscriptions, gives their tasks back to the owner and keeps the team's
/// count; both are in the history; X2 and idempotence.
pub async fn x6_export_and_erasure_leave_no_personal_value<S: DumpStore>(store: S) {
    use base64::Engine;
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    f.channels(Channels {
        email: true,
        chat: true,
        web_push: true,
    })
    .await;
    let owner = f.participant("owner-qx", &["exhibitor"]).await;
    // The collaborator to erase, with a distinctive value in every personal field.
    let personal = [
        "bruno.qx@example.org",
        "Brunoqx",
        "Durandqx",
        "Globexqx Industries",
        "Chief Qx Officer",
        "bruno-private-qx@example.org",
        "Bio of Brunoqx",
        "https://brunoqx.example",
        "https://social.example/brunoqx",
        "@brunoqx",
        "B12-qx",
        "newsletter-qx",
        "DISCOUNT-QX",
        "interest_qx",
        "https://push.example/qx-endpoint",
        "Renamedqx",
        "Typed-field-qx",
        "call me on 0611-qx",
        "his passport photo, Qx-rejected",
        "Café Qx, table 4",
    ];
    let mut new = NewParticipant::new(ExternalId::new(personal[0]).unwrap());
    new.profile = Profile {
        first_name: personal[1].into(),
        last_name: personal[2].into(),
        company: personal[3].into(),
        job_title: personal[4].into(),
        email: Some(personal[5].into()),
        description: personal[6].into(),
        website: Some(personal[7].into()),
        social_links: vec![personal[8].into()],
        chat_handle: Some(personal[9].into()),
    };
    new.status.categories = ["exhibitor".to_owned()].into();
    new.status.discount_code = Some(personal[12].into());
    new.custom_fields
        .insert("stand".into(), personal[10].into());
    new.utm.source = Some(personal[11].into());
    let bruno = f
        .service
        .register_participant(&f.organizer, f.event, new)
        .await
        .unwrap();
    f.service
        .link_collaborator(&f.organizer, f.event, owner.id, bruno.id)
        .await
        .unwrap();
    let as_bruno = f.as_participant(&bruno);
    // His networking, a renamed first name (old and new values in the history), a push
    // subscription, a profile field reported by the host.
    let mut profile = bruno.profile.clone();
    profile.first_name = personal[15].into();
    f.service
        .update_participant(
            &as_bruno,
            f.event,
            bruno.id,
            ParticipantPatch {
                profile: profile.into(),
                networking: Some(NetworkingProfile {
                    interests: [personal[13].to_owned()].into(),
                    ..NetworkingProfile::default()
                }),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let mut key = vec![4u8];
    key.extend([7u8; 64]);
    f.service
        .add_push_subscription(
            &as_bruno,
            f.event,
            bruno.id,
            PushSubscription {
                endpoint: personal[14].into(),
                p256dh: b64(&key),
                auth: b64(&[7u8; 16]),
            },
        )
        .await
        .unwrap();
    f.fact(
        "bio-1",
        &bruno,
        HostFact::FieldSet {
            field: "biography".into(),
            value: personal[16].into(),
        },
    )
    .await;
    // Tasks: a team task (done by the link), a manual task assigned to him (notified),
    // a task he completed himself.
    let team = f
        .auto_task(
            "Build your team",
            Condition::Collaborators { at_least: 1 },
            Some(f.exhibitors),
        )
        .await;
    let hotel = f.manual_task("Book the hotel", Some(f.exhibitors)).await;
    let badge = f.manual_task("Print the badge", Some(f.exhibitors)).await;
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            hotel.id,
            bruno.id,
        )
        .await
        .unwrap();
    f.service
        .complete_task(&as_bruno, f.event, bruno.id, badge.id)
        .await
        .unwrap();
    f.service
        .report_actions(
            &Actor::System,
            f.event,
            vec![action(
                "open-1",
                &bruno,
                f.clock.now(),
                TimelineKind::EmailOpened {
                    email: email("kit"),
                },
            )],
        )
        .await
        .unwrap();
    assert!(f.outbox().await.iter().any(|o| o.recipient == bruno.id));
    f.service
        .send_message(&as_bruno, f.event, bruno.id, personal[17])
        .await
        .unwrap();
    // A rejected submission (the organizer's words about him) and a meeting he booked
    // (its place is free text, on both records).
    let mut reviewed = TaskConfig::manual(f.en.clone(), "Send your ID", Fixture::<S>::web());
    reviewed.review = true;
    reviewed.segment = Some(f.exhibitors);
    let id_task = f.publish(reviewed).await;
    f.service
        .complete_task(&as_bruno, f.event, bruno.id, id_task.id)
        .await
        .unwrap();
    f.service
        .reject_submission(&f.organizer, f.event, bruno.id, id_task.id, personal[18])
        .await
        .unwrap();
    let day = f.clock.now() + Duration::days(3);
    f.allow_networking(&owner).await;
    f.service
        .book_meeting(
            &as_bruno,
            f.event,
            NewMeeting {
                booker: bruno.id,
                with: owner.id,
                starts_at: day,
                ends_at: day + Duration::hours(1),
                place: Some(personal[19].into()),
            },
        )
        .await
        .unwrap();
    f.service
        .send_message(&f.organizer, f.event, bruno.id, "Noted, we will call you.")
        .await
        .unwrap();

    // Export, by the organizer: everything.
    let export = f
        .service
        .export_participant(&f.organizer, f.event, bruno.id)
        .await
        .unwrap();
    let json = serde_json::to_string(&export).unwrap();
    for value in personal {
        assert!(json.contains(value), "the export holds {value}");
    }
    assert!(
        export
            .timeline
            .iter()
            .any(|e| e.kind.action_kind() == ActionKind::EmailOpened)
    );
    assert!(export.notifications.iter().all(|o| o.recipient == bruno.id));
    assert!(!export.notifications.is_empty());
    assert_eq!(export.assigned_to_them.len(), 1);
    assert!(
        export
            .progress
            .iter()
            .any(|r| r.task == badge.id && r.is_done())
    );
    // By himself: no custom fields, nor lines about them.
    let own = f
        .service
        .export_participant(&as_bruno, f.event, bruno.id)
        .await
        .unwrap();
    assert!(own.participant.custom_fields.is_empty());
    assert!(
        own.history
            .iter()
            .all(|l| !l.field.starts_with("custom_fields"))
    );
    assert!(!serde_json::to_string(&own).unwrap().contains(personal[10]));
    let e = f
        .service
        .export_participant(&f.as_participant(&owner), f.event, bruno.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let exported = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            bruno.id,
            &HistoryFilter {
                fields: vec!["exported".into()],
                ..HistoryFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(exported.len(), 2, "each export is in the history");

    // Who may erase.
    let before = f.dump().await;
    for (actor, not_found) in [
        (as_bruno.clone(), false),
        (f.as_participant(&owner), false),
        (other.organizer.clone(), true),
    ] {
        let e = f
            .service
            .erase_participant(&actor, f.event, bruno.id)
            .await
            .unwrap_err();
        assert_eq!(matches!(e, Error::NotFound { .. }), not_found, "{e}");
    }
    let e = f
        .service
        .erase_participant(&f.organizer, f.event, ParticipantId::new_at(f.clock.now()))
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
    assert_eq!(f.dump().await, before, "refused erasures write nothing");

    // Erasure.
    let figures = f.service.task_figures(&f.organizer, f.event).await.unwrap();
    f.service
        .erase_participant(&f.organizer, f.event, bruno.id)
        .await
        .unwrap();
    let dump = f.dump().await;
    let text = serde_json::to_string(&dump).unwrap();
    for value in personal {
        assert!(!text.contains(value), "{value} is still in the dump");
    }
    assert_eq!(
        f.service.task_figures(&f.organizer, f.event).await.unwrap(),
        figures,
        "every figure as it was"
    );
    assert!(
        dump.outbox.iter().all(|o| o.recipient != bruno.id),
        "entries to him dropped"
    );
    let erased = dump
        .participants
        .iter()
        .find(|s| s.participant.id == bruno.id)
        .unwrap();
    assert!(erased.participant.erased_at.is_some());
    assert!(erased.participant.push_subscriptions.is_empty());
    assert_eq!(
        erased.participant.external_id.as_str(),
        format!("erased-{}", bruno.id)
    );
    assert_eq!(
        erased.progress[&badge.id].status,
        ProgressStatus::Done,
        "frozen as it was"
    );
    // The timeline and history stay, without personal values.
    assert!(
        dump.timeline
            .iter()
            .any(|e| e.participant == bruno.id && e.kind.action_kind() == ActionKind::EmailOpened)
    );
    let history = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            bruno.id,
            &HistoryFilter::default(),
            1000,
        )
        .await
        .unwrap();
    assert_eq!(history[0].field, "erased");
    assert_eq!(history[0].actor, f.organizer);
    let renamed = history
        .iter()
        .find(|l| l.field == "profile.first_name" && l.old != serde_json::Value::Null)
        .expect("the rename is still in the history");
    assert_eq!(renamed.new, serde_json::json!(crate::participant::ERASED));
    // The owner keeps his team's count, and takes the hotel task back.
    assert_eq!(f.status(&owner, team.id).await, Some(ProgressStatus::Done));
    let owner_state = dump
        .participants
        .iter()
        .find(|s| s.participant.id == owner.id)
        .unwrap();
    assert_eq!(owner_state.facts.collaborators.count(), 1);
    assert_eq!(owner_state.progress[&hotel.id].assignee, None);
    // The thread stays, every message erased.
    let thread = f
        .service
        .messages(&f.organizer, f.event, bruno.id, None, 10)
        .await
        .unwrap();
    assert_eq!(thread.messages.len(), 2);
    assert!(
        thread
            .messages
            .iter()
            .all(|m| m.body == crate::participant::ERASED)
    );
    let e = f
        .service
        .send_message(&f.organizer, f.event, bruno.id, "Hello?")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::State { .. }), "{e}");
    // An erased record takes no more changes: nothing personal comes back.
    let frozen = f.dump().await;
    let profile = Profile {
        first_name: "Back again".into(),
        ..Profile::default()
    };
    let refusals = [
        f.service
            .update_participant(
                &f.organizer,
                f.event,
                bruno.id,
                ParticipantPatch {
                    profile: profile.into(),
                    ..ParticipantPatch::default()
                },
            )
            .await
            .unwrap_err(),
        f.service
            .register_to_session(
                &f.organizer,
                f.event,
                bruno.id,
                session("keynote", f.clock.now() + Duration::days(1), "Keynote"),
            )
            .await
            .unwrap_err(),
        f.service
            .set_networking(&f.organizer, f.event, bruno.id, Networking::Allowed)
            .await
            .unwrap_err(),
        f.service
            .add_push_subscription(
                &f.organizer,
                f.event,
                bruno.id,
                PushSubscription {
                    endpoint: "https://push.example/again".into(),
                    p256dh: b64(&key),
                    auth: b64(&[7u8; 16]),
                },
            )
            .await
            .unwrap_err(),
        f.service
            .ingest_batch(
                &Actor::System,
                f.event,
                vec![f.host_event(
                    "bio-2",
                    &bruno,
                    HostFact::FieldSet {
                        field: "biography".into(),
                        value: "Back again".into(),
                    },
                )],
            )
            .await
            .unwrap()
            .remove(0)
            .unwrap_err(),
        f.service
            .report_actions(
                &Actor::System,
                f.event,
                vec![action(
                    "open-2",
                    &bruno,
                    f.clock.now(),
                    TimelineKind::EmailOpened {
                        email: email("kit"),
                    },
                )],
            )
            .await
            .unwrap()
            .remove(0)
            .unwrap_err(),
    ];
    for e in refusals {
        assert!(matches!(e, Error::State { .. }), "{e}");
    }
    f.service
        .ping(&Actor::System, f.event, bruno.id, LoginChannel::Web)
        .await
        .unwrap();
    assert_eq!(
        f.dump().await,
        frozen,
        "refused or ignored: nothing written"
    );
    // Nothing more is queued for him: his own hotel row is still to do, yet a reminder
    // to everyone incomplete reaches the owner only.
    assert_eq!(
        erased.progress[&hotel.id].status,
        ProgressStatus::Todo,
        "his own row of the task"
    );
    let before = f.outbox().await.len();
    f.service
        .remind_now(&f.organizer, f.event, hotel.id, RemindTarget::AllIncomplete)
        .await
        .unwrap();
    let outbox = f.outbox().await;
    assert!(outbox.len() > before, "the owner is reminded");
    assert!(outbox.iter().all(|o| o.recipient != bruno.id));
    let e = f
        .service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            hotel.id,
            bruno.id,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::State { .. }),
        "an erased collaborator holds nothing: {e}"
    );
    // Again: nothing changes.
    let after = f.dump().await;
    f.service
        .erase_participant(&f.organizer, f.event, bruno.id)
        .await
        .unwrap();
    assert_eq!(f.dump().await, after, "erasing again changes nothing");
}
