//! Conformance checks for bounds and concurrent edits (X7, X8), the host's own
//! participant ids in reports (X3), and the one refusal policy (X5).

use chrono::Duration;

use super::assert::{Kind, assert_kind, assert_wrote_nothing};
use super::{DumpStore, Fixture};
use crate::*;

fn host_id(id: &str) -> HostEventId {
    HostEventId::new(id).unwrap()
}

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

/// X3: a host names participants in facts and actions by its own id (`external_id`) as
/// well as by the library's; an unknown one is `NotFound` for that item only.
pub async fn x3_host_reports_name_participants_by_the_hosts_id<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let p = f.participant("crm-42", &["exhibitor"]).await;
    let logo = f
        .auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await;
    let by_host = |id: &str, who: &str| HostEvent {
        id: host_id(id),
        participant: ExternalId::new(who).unwrap().into(),
        occurred_at: f.clock.now(),
        fact: HostFact::LogoUploaded,
    };
    let answers = f
        .service
        .ingest_batch(
            &Actor::System,
            f.event,
            vec![by_host("logo", "crm-42"), by_host("ghost", "crm-404")],
        )
        .await
        .unwrap();
    assert_kind(&answers[0], Kind::Ok, "a fact by the host's id");
    assert_kind(&answers[1], Kind::NotFound, "an unknown host id");
    assert_eq!(f.status(&p, logo.id).await, Some(ProgressStatus::Done));
    let again = f
        .service
        .ingest(&Actor::System, f.event, by_host("logo", "crm-42"))
        .await;
    assert!(matches!(again, Ok(IngestOutcome::Duplicate)), "{again:?}");
    let action = HostAction {
        id: host_id("badge"),
        participant: ExternalId::new("crm-42").unwrap().into(),
        occurred_at: f.clock.now(),
        kind: TimelineKind::BadgePrinted {
            place: BadgePlace::OnSite,
        },
    };
    let answers = f
        .service
        .report_actions(&Actor::System, f.event, vec![action])
        .await
        .unwrap();
    assert_kind(&answers[0], Kind::Ok, "an action by the host's id");
    let timeline = f
        .service
        .timeline(&f.organizer, f.event, p.id, &TimelineFilter::default(), 0)
        .await
        .unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| matches!(e.kind, TimelineKind::BadgePrinted { .. })),
        "the action is on the participant's timeline"
    );
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

/// X5: every refusal of the library answers the kind of the refusal policy
/// ([`Error`]'s table: `Invalid` for what was asked, `Forbidden` for who asks, `State`
/// for when, `Conflict` for a concurrent or stale write), and one paging policy holds for
/// every paged call. Each case is one line of the table below, and none writes.
pub async fn x5_every_refusal_answers_its_kind<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, collaborator) = f.exhibitor_with_collaborator("acme").await;
    let stranger = f.participant("stranger", &["exhibitor"]).await;
    let erased = f.participant("gone", &["exhibitor"]).await;
    f.service
        .erase_participant(&f.organizer, f.event, erased.id)
        .await
        .unwrap();
    let auto = f
        .auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await;
    let manual = f.manual_task("Badge", Some(f.exhibitors)).await;
    let draft = f.draft_manual("Draft", Some(f.exhibitors)).await;
    let archived = f.manual_task("Old", Some(f.exhibitors)).await;
    f.service
        .archive_task(&f.organizer, f.event, archived.id)
        .await
        .unwrap();
    let (s, o, ev) = (&f.service, &f.organizer, f.event);
    let me = f.as_participant(&owner);
    let before = f.dump().await;
    macro_rules! case {
        ($want:expr, $name:literal, $call:expr) => {{
            let r = $call.await;
            assert_kind(&r, $want, $name);
            assert_wrote_nothing(&f, &before, $name).await;
        }};
    }
    use Kind::*;
    // What: a value or an operation the object's configuration excludes.
    case!(
        Invalid("task"),
        "tick an automatic task",
        s.complete_task(&me, ev, owner.id, auto.id)
    );
    case!(
        Invalid("task"),
        "undo an automatic task",
        s.undo_task(&me, ev, owner.id, auto.id)
    );
    case!(
        Invalid("tasks"),
        "publish nothing",
        s.publish_tasks(o, ev, &[])
    );
    case!(
        Invalid("tasks"),
        "publish a task twice in one call",
        s.publish_tasks(o, ev, &[draft.id, draft.id])
    );
    case!(
        Invalid("collaborator"),
        "link a participant to themselves",
        s.link_collaborator(o, ev, owner.id, owner.id)
    );
    // Who: the actor may not do it.
    case!(
        Forbidden,
        "assign to a stranger",
        s.assign_task(&me, ev, owner.id, manual.id, stranger.id)
    );
    case!(
        Forbidden,
        "a participant publishes",
        s.publish_task(&me, ev, draft.id)
    );
    case!(
        Forbidden,
        "a participant reads another's record",
        s.participant(&me, ev, stranger.id)
    );
    // When: the current state refuses a well-formed request.
    case!(
        State,
        "publish a published task",
        s.publish_task(o, ev, manual.id)
    );
    case!(State, "archive a draft", s.archive_task(o, ev, draft.id));
    case!(
        State,
        "delete a published task",
        s.delete_task(o, ev, manual.id)
    );
    case!(
        State,
        "edit an archived task",
        s.update_task(o, ev, archived.id, archived.config.clone())
    );
    case!(
        State,
        "accept what awaits no review",
        s.accept_submission(o, ev, owner.id, manual.id)
    );
    case!(
        State,
        "unlink someone outside the team",
        s.unlink_collaborator(o, ev, owner.id, stranger.id)
    );
    case!(
        State,
        "link a collaborator of another team",
        s.link_collaborator(o, ev, stranger.id, collaborator.id)
    );
    case!(
        State,
        "change an erased participant",
        s.update_participant(o, ev, erased.id, ParticipantPatch::default())
    );
    case!(
        State,
        "delete a targeted segment",
        s.delete_segment(o, ev, f.exhibitors)
    );
    // Whether it exists.
    case!(
        NotFound,
        "an unknown task",
        s.publish_task(o, ev, TaskId::new_at(f.clock.now()))
    );
    case!(
        NotFound,
        "assign to nobody",
        s.assign_task(
            &me,
            ev,
            owner.id,
            manual.id,
            ParticipantId::new_at(f.clock.now())
        )
    );
    // One paging policy: 0 is the default page, over the maximum is Invalid on `limit`.
    let over = limits::PAGE + 1;
    let mut matrix = MatrixRequest::default();
    let page = s
        .matrix(o, ev, &matrix)
        .await
        .expect("the default matrix page");
    assert!(page.rows.len() <= limits::DEFAULT_PAGE);
    matrix.limit = limits::MATRIX_PAGE + 1;
    case!(
        Invalid("limit"),
        "a matrix page too large",
        s.matrix(o, ev, &matrix)
    );
    let filter = TimelineFilter::default();
    case!(
        Invalid("limit"),
        "a timeline page too large",
        s.timeline(o, ev, owner.id, &filter, over)
    );
    case!(
        Ok,
        "a default timeline page",
        s.timeline(o, ev, owner.id, &filter, 0)
    );
    let history = HistoryFilter::default();
    case!(
        Invalid("limit"),
        "a history page too large",
        s.participant_history(o, ev, owner.id, &history, over)
    );
    case!(
        Invalid("limit"),
        "a task history page too large",
        s.task_history(o, ev, manual.id, None, over)
    );
    case!(
        Invalid("limit"),
        "a messages page too large",
        s.messages(o, ev, owner.id, None, over)
    );
    case!(
        Invalid("limit"),
        "a registrants page too large",
        s.registrants(o, ev, None, None, over)
    );
    let all = OutboxFilter::default();
    case!(
        Invalid("limit"),
        "an outbox page too large",
        s.outbox(o, ev, &all, None, over)
    );
    case!(
        Invalid("limit"),
        "a dead letters page too large",
        s.dead_letters(o, ev, None, over)
    );
    case!(
        Ok,
        "a default dead letters page",
        s.dead_letters(o, ev, None, 0)
    );
    // The outbox filtered by recipient, kind and state: an assignment notifies (N2).
    s.assign_task(&me, ev, owner.id, manual.id, collaborator.id)
        .await
        .unwrap();
    let handed = OutboxFilter {
        recipient: Some(collaborator.id),
        kind: Some(MessageKind::Assignment),
        state: Some(OutboxState::Pending),
    };
    let every = s.outbox(o, ev, &all, None, limits::PAGE).await.unwrap();
    let found = s.outbox(o, ev, &handed, None, 0).await.unwrap();
    assert_eq!(found.len(), 1, "the one assignment notice: {found:?}");
    assert_eq!(
        found.len(),
        every.iter().filter(|e| handed.matches(e)).count()
    );
    let sent = OutboxFilter {
        state: Some(OutboxState::Sent),
        ..OutboxFilter::default()
    };
    assert!(s.outbox(o, ev, &sent, None, 0).await.unwrap().is_empty());
}
