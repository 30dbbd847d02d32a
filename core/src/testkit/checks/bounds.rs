//! Conformance checks for bounds and concurrent edits (X7, X8): facts from the future,
//! structured inputs and control characters refused, meetings bounded, patches field by
//! field and stale saves in conflict.

use chrono::Duration;

use super::common::host_id;
use crate::testkit::assert::{Kind, assert_kind, assert_wrote_nothing};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// X7: a fact dated beyond the clock skew is refused with `Invalid` on `occurred_at` and
/// writes nothing, so it cannot freeze an on/off fact; one within the skew is taken as
/// dated, and a genuine report after it wins once its time has come.
pub async fn x7_facts_from_the_future_are_refused<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let p = f.participant("acme", &["exhibitor"]).await;
    let logo = f
        .auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await;
    let now = f.clock.now();
    let before = f.dump().await;
    let far = HostEvent {
        id: host_id("removed-in-2036"),
        participant: p.id.into(),
        occurred_at: now + Duration::days(3_650),
        fact: HostFact::LogoRemoved,
    };
    let answers = f
        .service
        .ingest_batch(&Actor::System, f.event, vec![far.clone()])
        .await
        .expect("the batch is taken, the item refused");
    assert_kind(
        &answers[0],
        Kind::Invalid("occurred_at"),
        "a fact ten years ahead",
    );
    assert_wrote_nothing(&f, &before, "a fact ten years ahead").await;
    let single = f.service.ingest(&Actor::System, f.event, far).await;
    assert_kind(&single, Kind::Invalid("occurred_at"), "the same, alone");
    // The genuine report now takes effect.
    f.fact("uploaded", &p, HostFact::LogoUploaded).await;
    assert_eq!(f.status(&p, logo.id).await, Some(ProgressStatus::Done));
    // Within the skew a fact is taken as dated: a removal four minutes ahead wins over
    // an upload reported now...
    let ahead = HostEvent {
        id: host_id("removed-soon"),
        participant: p.id.into(),
        occurred_at: f.clock.now() + Duration::minutes(4),
        fact: HostFact::LogoRemoved,
    };
    let applied = f.service.ingest(&Actor::System, f.event, ahead).await;
    assert_kind(&applied, Kind::Ok, "a fact within the skew");
    assert_eq!(f.status(&p, logo.id).await, Some(ProgressStatus::Todo));
    f.fact("uploaded-again", &p, HostFact::LogoUploaded).await;
    assert_eq!(f.status(&p, logo.id).await, Some(ProgressStatus::Todo));
    // ...but only until its time: a genuine report after that wins.
    f.clock.advance(Duration::minutes(5));
    f.fact("uploaded-later", &p, HostFact::LogoUploaded).await;
    assert_eq!(f.status(&p, logo.id).await, Some(ProgressStatus::Done));
    // Actions and attendance have the same bound.
    let before = f.dump().await;
    let action = HostAction {
        id: host_id("badge-2036"),
        participant: p.id.into(),
        occurred_at: f.clock.now() + Duration::days(3_650),
        kind: TimelineKind::BadgePrinted {
            place: BadgePlace::OnSite,
        },
    };
    let answers = f
        .service
        .report_actions(&Actor::System, f.event, vec![action])
        .await
        .expect("the report is taken, the item refused");
    assert_kind(&answers[0], Kind::Invalid("occurred_at"), "an action ahead");
    assert_wrote_nothing(&f, &before, "an action ahead").await;
}

/// X7: structured inputs are bounded as a whole (a segment rule, a task's condition, the
/// event's settings), each with `Invalid` on its field and nothing written; a segment no
/// task targets can be deleted, a targeted one answers `State`.
pub async fn x7_structured_inputs_are_bounded_and_segments_deletable<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let before = f.dump().await;
    // A rule within depth and width, but 1 MB encoded.
    let wide = Rule::all((0..100).map(|i| {
        Rule::any((0..100).map(move |j| Rule::category(format!("{i}-{j}-{}", "x".repeat(80)))))
    }));
    let draft = SegmentDraft {
        name: "Huge".into(),
        rule: wide,
    };
    let r = f.service.create_segment(&f.organizer, f.event, draft).await;
    assert_kind(&r, Kind::Invalid("rule"), "a rule of a megabyte");
    let condition = Condition::All {
        conditions: (0..50)
            .map(|i| Condition::All {
                conditions: (0..50)
                    .map(|j| Condition::FieldFilled {
                        field: format!("f{i}_{j}"),
                        value: Some("v".repeat(100)),
                    })
                    .collect(),
            })
            .collect(),
    };
    let config = TaskConfig::automatic(f.en.clone(), "Huge", condition, Fixture::<S>::web());
    let r = f.service.create_task(&f.organizer, f.event, config).await;
    assert_kind(&r, Kind::Invalid("condition"), "a condition of 300 KB");
    let mut settings = f
        .service
        .event(&f.organizer, f.event)
        .get()
        .await
        .unwrap()
        .settings;
    for kind in [
        "publication",
        "assignment",
        "reminder",
        "reminders",
        "nudge",
    ] {
        for lang in ["en", "fr"] {
            settings.templates.insert(
                format!("{kind}.{lang}.body"),
                format!("{{{{ event }}}} {}", "b".repeat(19_900)),
            );
            settings
                .templates
                .insert(format!("{kind}.{lang}.subject"), "s".repeat(19_900));
        }
    }
    let r = f
        .service
        .update_event(&f.organizer, f.event, settings)
        .await;
    assert_kind(&r, Kind::Invalid("settings"), "400 KB of templates");
    assert_wrote_nothing(&f, &before, "oversized inputs").await;

    // Deleting segments.
    let spare = f
        .service
        .create_segment(
            &f.organizer,
            f.event,
            SegmentDraft {
                name: "Spare".into(),
                rule: Rule::category("spare"),
            },
        )
        .await
        .unwrap();
    let p = f.participant("acme", &["exhibitor"]).await;
    let before = f.dump().await;
    let r = f
        .service
        .delete_segment(&f.as_participant(&p), f.event, spare.id)
        .await;
    assert_kind(&r, Kind::Forbidden, "a participant deleting a segment");
    assert_wrote_nothing(&f, &before, "a participant deleting a segment").await;
    f.manual_task("Targeted", Some(f.exhibitors)).await;
    let before = f.dump().await;
    let r = f
        .service
        .delete_segment(&f.organizer, f.event, f.exhibitors)
        .await;
    assert_kind(&r, Kind::State, "deleting a targeted segment");
    assert_wrote_nothing(&f, &before, "deleting a targeted segment").await;
    f.service
        .delete_segment(&f.organizer, f.event, spare.id)
        .await
        .expect("an untargeted segment is deleted");
    let left = f.service.segments(&f.organizer, f.event).await.unwrap();
    assert!(left.iter().all(|s| s.id != spare.id));
    let again = f
        .service
        .delete_segment(&f.organizer, f.event, spare.id)
        .await;
    assert_kind(&again, Kind::NotFound, "deleting it twice");
    let config = TaskConfig {
        segment: Some(spare.id),
        ..TaskConfig::manual(f.en.clone(), "Orphan", Fixture::<S>::web())
    };
    let r = f.service.create_task(&f.organizer, f.event, config).await;
    assert_kind(&r, Kind::Invalid("segment"), "targeting a deleted segment");
}

/// X7: control characters are refused with `Invalid` naming the field, the same on every
/// store (PostgreSQL's `jsonb` cannot hold NUL); a text of several lines keeps its line
/// breaks and tabs.
pub async fn x7_control_characters_are_refused_alike<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let p = f.participant("acme", &["exhibitor"]).await;
    let before = f.dump().await;
    let named = TaskConfig::manual(f.en.clone(), "Logo\0", Fixture::<S>::web());
    let r = f.service.create_task(&f.organizer, f.event, named).await;
    assert_kind(&r, Kind::Invalid("texts.en.name"), "NUL in a task name");
    let mut described = TaskConfig::manual(f.en.clone(), "Logo", Fixture::<S>::web());
    described.texts.get_mut(&f.en).unwrap().description = "line\u{1b}[31m".into();
    let r = f
        .service
        .create_task(&f.organizer, f.event, described)
        .await;
    assert_kind(
        &r,
        Kind::Invalid("texts.en.description"),
        "an escape in a description",
    );
    let company = ParticipantPatch {
        profile: ProfilePatch {
            company: Some("ACME\0Corp".into()),
            ..ProfilePatch::default()
        },
        ..ParticipantPatch::default()
    };
    let r = f
        .service
        .update_participant(&f.organizer, f.event, p.id, company)
        .await;
    assert_kind(&r, Kind::Invalid("profile.company"), "NUL in a company");
    let r = f
        .service
        .send_message(&f.organizer, f.event, p.id, "hello\0")
        .await;
    assert_kind(&r, Kind::Invalid("body"), "NUL in a message");
    let segment = SegmentDraft {
        name: "Bell\u{7}".into(),
        rule: Rule::Everyone,
    };
    let r = f
        .service
        .create_segment(&f.organizer, f.event, segment)
        .await;
    assert_kind(&r, Kind::Invalid("name"), "a bell in a segment name");
    let fact = f.host_event(
        "field",
        &p,
        HostFact::FieldSet {
            field: "bio".into(),
            value: "a\0b".into(),
        },
    );
    let answers = f
        .service
        .ingest_batch(&Actor::System, f.event, vec![fact])
        .await
        .unwrap();
    assert_kind(&answers[0], Kind::Invalid("fact.value"), "NUL in a fact");
    assert_wrote_nothing(&f, &before, "control characters").await;
    // Several lines stay several lines.
    let mut described = TaskConfig::manual(f.en.clone(), "Logo", Fixture::<S>::web());
    described.texts.get_mut(&f.en).unwrap().description = "first\r\nsecond\tend".into();
    let task = f
        .service
        .create_task(&f.organizer, f.event, described)
        .await
        .unwrap();
    assert_eq!(task.config.texts[&f.en].description, "first\r\nsecond\tend");
    let m = f
        .service
        .send_message(&f.organizer, f.event, p.id, "Hello,\n\nsee you.")
        .await
        .unwrap();
    assert_eq!(m.body, "Hello,\n\nsee you.");
}

/// X7, R9: a participant books only someone whose networking consent is given (not
/// "not given"); a second meeting between the same two people for the same slot is a
/// `Conflict`; pending requests are bounded per participant. Each refusal writes
/// nothing.
pub async fn x7_meetings_need_consent_and_are_bounded<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let bob = f.participant("bob", &["exhibitor"]).await;
    let me = f.as_participant(&ann);
    let at = f.clock.now() + Duration::days(1);
    let meeting = |with: &Participant, hour: i64| NewMeeting {
        booker: ann.id,
        with: with.id,
        starts_at: at + Duration::hours(hour),
        ends_at: at + Duration::hours(hour) + Duration::minutes(30),
        place: None,
    };
    let before = f.dump().await;
    let r = f.service.book_meeting(&me, f.event, meeting(&bob, 0)).await;
    assert_kind(&r, Kind::Forbidden, "consent not given");
    assert_wrote_nothing(&f, &before, "consent not given").await;
    f.service
        .set_networking(&f.organizer, f.event, bob.id, Networking::NotAllowed)
        .await
        .unwrap();
    let r = f.service.book_meeting(&me, f.event, meeting(&bob, 0)).await;
    assert_kind(&r, Kind::Forbidden, "consent refused");
    f.service
        .set_networking(&f.organizer, f.event, bob.id, Networking::Allowed)
        .await
        .unwrap();
    f.service
        .book_meeting(&me, f.event, meeting(&bob, 0))
        .await
        .expect("consent given");
    let before = f.dump().await;
    let r = f.service.book_meeting(&me, f.event, meeting(&bob, 0)).await;
    assert_kind(&r, Kind::Conflict, "the same request again");
    // Also when the other asks back for the same slot.
    let back = NewMeeting {
        booker: bob.id,
        with: ann.id,
        ..meeting(&bob, 0)
    };
    f.service
        .set_networking(&f.organizer, f.event, ann.id, Networking::Allowed)
        .await
        .unwrap();
    let before_back = f.dump().await;
    let r = f
        .service
        .book_meeting(&f.as_participant(&bob), f.event, back)
        .await;
    assert_kind(&r, Kind::Conflict, "the other asking for the same slot");
    assert_wrote_nothing(&f, &before_back, "the other asking for the same slot").await;
    drop(before);
    // The bound on pending requests: the first is pending already.
    for hour in 1..limits::PENDING_MEETING_REQUESTS as i64 {
        f.service
            .book_meeting(&me, f.event, meeting(&bob, hour))
            .await
            .unwrap_or_else(|e| panic!("request {hour}: {e}"));
    }
    let before = f.dump().await;
    let over = limits::PENDING_MEETING_REQUESTS as i64;
    let r = f
        .service
        .book_meeting(&me, f.event, meeting(&bob, over))
        .await;
    assert_kind(&r, Kind::State, "one request over the bound");
    assert_wrote_nothing(&f, &before, "one request over the bound").await;
    // An organizer books a business meeting whatever the bound and the consent.
    f.service
        .set_networking(&f.organizer, f.event, bob.id, Networking::Unknown)
        .await
        .unwrap();
    f.service
        .book_meeting(&f.organizer, f.event, meeting(&bob, over))
        .await
        .expect("an organizer's meeting");
}

async fn history_len<S: DumpStore>(f: &Fixture<S>, p: &Participant) -> usize {
    f.service
        .participant_history(
            &f.organizer,
            f.event,
            p.id,
            &HistoryFilter::default(),
            limits::PAGE,
        )
        .await
        .unwrap()
        .len()
}

/// X8: a patch changes only the fields it names (and the history says only those), and
/// a save passing the record version it read is refused with `Conflict` once someone
/// else changed the record, writing nothing; facts and completions do not move that
/// version.
pub async fn x8_patches_change_their_fields_and_stale_saves_conflict<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let p = f.participant("acme", &["exhibitor"]).await;
    let me = f.as_participant(&p);
    // The participant opens their form.
    let read = f.service.participant(&me, f.event, p.id).await.unwrap();
    // Facts move the participant's state, not their record's version.
    f.fact("logo", &p, HostFact::LogoUploaded).await;
    // An organizer sets the company meanwhile.
    let org_patch = ParticipantPatch {
        profile: ProfilePatch {
            company: Some("ACME".into()),
            ..ProfilePatch::default()
        },
        ..ParticipantPatch::default()
    };
    let after_org = f
        .service
        .update_participant(&f.organizer, f.event, p.id, org_patch)
        .await
        .unwrap();
    assert_eq!(after_org.profile.company, "ACME");
    assert_eq!(after_org.record_version, read.record_version + 1);
    // The participant saves the form they read, passing its version: refused.
    let before = f.dump().await;
    let mine = ParticipantPatch {
        profile: ProfilePatch {
            first_name: Some("Amélie".into()),
            ..ProfilePatch::default()
        },
        if_version: Some(read.record_version),
        ..ParticipantPatch::default()
    };
    let stale = f
        .service
        .update_participant(&me, f.event, p.id, mine.clone())
        .await;
    assert_kind(&stale, Kind::Conflict, "a stale save");
    assert_wrote_nothing(&f, &before, "a stale save").await;
    // With the version now read it goes through, and only the first name changes.
    let fresh = ParticipantPatch {
        if_version: Some(after_org.record_version),
        ..mine.clone()
    };
    let saved = f
        .service
        .update_participant(&me, f.event, p.id, fresh)
        .await
        .unwrap();
    assert_eq!(saved.profile.first_name, "Amélie");
    assert_eq!(
        saved.profile.company, "ACME",
        "the organizer's change stays"
    );
    // Without a version, the fields given apply and the others stay.
    let no_version = ParticipantPatch {
        profile: ProfilePatch {
            job_title: Some("CEO".into()),
            ..ProfilePatch::default()
        },
        ..ParticipantPatch::default()
    };
    let saved = f
        .service
        .update_participant(&me, f.event, p.id, no_version)
        .await
        .unwrap();
    assert_eq!(
        (
            saved.profile.first_name.as_str(),
            saved.profile.company.as_str()
        ),
        ("Amélie", "ACME")
    );
    // Status by field: categories alone keep the language, attendance and the rest.
    let mut status = saved.status.clone();
    status.language = Some(f.fr.clone());
    status.attendance = Attendance::PresentOnline;
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            p.id,
            ParticipantPatch {
                status: status.into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let categories = ParticipantPatch {
        status: StatusPatch {
            categories: Some(["exhibitor".to_owned(), "sponsor".to_owned()].into()),
            ..StatusPatch::default()
        },
        ..ParticipantPatch::default()
    };
    let history_before = history_len(&f, &p).await;
    let after = f
        .service
        .update_participant(&f.organizer, f.event, p.id, categories)
        .await
        .unwrap();
    assert_eq!(after.status.language, Some(f.fr.clone()));
    assert_eq!(after.status.attendance, Attendance::PresentOnline);
    assert!(after.status.categories.contains("sponsor"));
    let lines = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            p.id,
            &HistoryFilter::default(),
            limits::PAGE,
        )
        .await
        .unwrap();
    let new_lines = &lines[..lines.len() - history_before];
    assert!(
        !new_lines.is_empty()
            && new_lines
                .iter()
                .all(|l| l.field.starts_with("status.categories")),
        "only the categories are in the history: {new_lines:?}"
    );
    // An email cleared with `Some(None)`, in JSON with `null`; a key left out keeps.
    let json: ParticipantPatch =
        serde_json::from_str(r#"{"profile": {"email": null}, "if_version": 99}"#).unwrap();
    assert_eq!(json.profile.email, Some(None));
    assert_eq!(json.profile.company, None);
    let stale = f
        .service
        .update_participant(&f.organizer, f.event, p.id, json)
        .await;
    assert_kind(&stale, Kind::Conflict, "a version that was never read");
}
