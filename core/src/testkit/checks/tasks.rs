//! Conformance checks for tasks (T1, T2, T5): fields and translations, the lifecycle
//! draft → published → archived, edits, the Tasks switch, templates and the copy from the
//! last edition.

use std::collections::BTreeSet;

use chrono::Duration;

use crate::testkit::{DumpStore, Fixture};
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
        .get()
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

/// T2: tasks are copied from last year's edition as drafts: segments matched by name or
/// copied, deadlines shifted, the origin in the history; a segment listing members of the
/// other event stops the copy, which then writes nothing.
pub async fn t2_copy_tasks_from_last_edition<S: DumpStore>(store: S) {
    let store = std::sync::Arc::new(store);
    let last = Fixture::with_store(store.clone()).await;
    let this = Fixture::with_store(store).await;
    let speakers = last
        .service
        .create_segment(
            &last.organizer,
            last.event,
            SegmentDraft {
                name: "Speakers".into(),
                rule: Rule::category("speaker"),
            },
        )
        .await
        .unwrap();
    let mut hotel = TaskConfig::manual(last.en.clone(), "Book your hotel", Fixture::<S>::web());
    hotel.segment = Some(last.exhibitors);
    hotel.deadline = Some(last.clock.now() + Duration::days(10));
    hotel.position = 1;
    let hotel = last
        .service
        .create_task(&last.organizer, last.event, hotel)
        .await
        .unwrap();
    last.service
        .publish_task(&last.organizer, last.event, hotel.id)
        .await
        .unwrap();
    let mut slides = TaskConfig::manual(last.en.clone(), "Send your slides", Fixture::<S>::web());
    slides.segment = Some(speakers.id);
    slides.position = 2;
    let slides = last
        .service
        .create_task(&last.organizer, last.event, slides)
        .await
        .unwrap();

    let copied = this
        .service
        .copy_tasks(
            &this.organizer,
            this.event,
            &last.organizer,
            last.event,
            None,
            Some(Duration::days(364)),
        )
        .await
        .unwrap();
    assert_eq!(copied.len(), 2);
    assert!(
        copied
            .iter()
            .all(|t| t.state == TaskState::Draft && t.event == this.event)
    );
    assert_eq!(
        copied[0].config.segment,
        Some(this.exhibitors),
        "matched by name"
    );
    assert_eq!(
        copied[0].config.deadline,
        Some(hotel.config.deadline.unwrap() + Duration::days(364))
    );
    let segments = this
        .service
        .segments(&this.organizer, this.event)
        .await
        .unwrap();
    let copied_speakers = segments
        .iter()
        .find(|s| s.name == "Speakers")
        .expect("segment copied");
    assert_eq!(copied[1].config.segment, Some(copied_speakers.id));
    assert_eq!(copied[1].config.texts, slides.config.texts);
    let history = this
        .service
        .task_history(&this.organizer, this.event, copied[0].id, None, 10)
        .await
        .unwrap();
    assert_eq!(history[0].field, "copied_from");
    assert_eq!(
        history[0].new,
        serde_json::json!({ "event": last.event, "task": hotel.id })
    );

    let list = last
        .service
        .create_segment(
            &last.organizer,
            last.event,
            SegmentDraft {
                name: "VIP".into(),
                rule: Rule::Members {
                    members: Default::default(),
                },
            },
        )
        .await
        .unwrap();
    let mut vip = TaskConfig::manual(last.en.clone(), "VIP dinner", Fixture::<S>::web());
    vip.segment = Some(list.id);
    let vip = last
        .service
        .create_task(&last.organizer, last.event, vip)
        .await
        .unwrap();
    let before = this.dump().await;
    let e = this
        .service
        .copy_tasks(
            &this.organizer,
            this.event,
            &last.organizer,
            last.event,
            Some(&[hotel.id, vip.id]),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("tasks[1].segment"), "{e}");
    let e = this
        .service
        .copy_tasks(
            &this.organizer,
            this.event,
            &this.organizer,
            last.event,
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::NotFound { .. }),
        "the source needs its own organizer: {e}"
    );
    assert_eq!(this.dump().await, before);
}

/// T5: every template gives a ready draft through the service; the speaker's photo &
/// biography template completes when both facts are reported.
pub async fn t5_templates_give_ready_drafts<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    for template in Template::all_defaults() {
        let t = f
            .service
            .create_task_from_template(&f.organizer, f.event, &template, Fixture::<S>::web())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", template.key()));
        assert_eq!(t.state, TaskState::Draft);
        assert!(t.config.texts.contains_key(&f.en) && t.config.texts.contains_key(&f.fr));
    }
    let bio = f
        .service
        .create_task_from_template(
            &f.organizer,
            f.event,
            &Template::SpeakerPhotoBiography,
            Fixture::<S>::web(),
        )
        .await
        .unwrap();
    f.service
        .publish_task(&f.organizer, f.event, bio.id)
        .await
        .unwrap();
    let speaker = f.participant("speaker", &["speaker"]).await;
    f.fact(
        "photo",
        &speaker,
        HostFact::FieldSet {
            field: "photo".into(),
            value: "me.png".into(),
        },
    )
    .await;
    assert_eq!(f.status(&speaker, bio.id).await, Some(ProgressStatus::Todo));
    f.fact(
        "bio",
        &speaker,
        HostFact::FieldSet {
            field: "biography".into(),
            value: "Hello".into(),
        },
    )
    .await;
    assert_eq!(f.status(&speaker, bio.id).await, Some(ProgressStatus::Done));

    let before = f.dump().await;
    let e = f
        .service
        .create_task_from_template(
            &f.organizer,
            f.event,
            &Template::ExhibitorProducts { at_least: 0 },
            Fixture::<S>::web(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("condition.at_least"));
    assert_eq!(f.dump().await, before);
}

/// T2: every row keeps its resolved deadline (`Progress::due_at`, today the task's):
/// written with the row at publication and for a participant registered later, moved on
/// every row when an organizer moves the deadline, cleared when it is removed, and none
/// for a task without one. Moving a deadline is not a progress change: the live stream
/// says nothing of it.
pub async fn t2_every_row_keeps_its_resolved_deadline<S: DumpStore>(store: S) {
    use super::common::{assert_quiet, state_in};
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let bob = f.participant("bob", &["exhibitor"]).await;
    let first = f.clock.now() + Duration::days(10);
    let mut config = TaskConfig::manual(f.en.clone(), "Send your stand plan", Fixture::<S>::web());
    config.deadline = Some(first);
    let task = f.publish(config.clone()).await;
    let open = f.manual_task("Book your hotel", None).await;
    let cyd = f.participant("cyd", &["exhibitor"]).await;
    let people = [&ann, &bob, &cyd];
    let due = |dump: &crate::testkit::EventDump, p: &Participant, t: TaskId| {
        state_in(dump, p).progress[&t].due_at
    };
    let dump = f.dump().await;
    for p in people {
        assert_eq!(due(&dump, p, task.id), Some(first), "{}", p.external_id);
        assert_eq!(due(&dump, p, open.id), None, "{}", p.external_id);
    }
    let mut feed = f
        .service
        .progress_feed(&f.organizer, f.event)
        .await
        .expect("subscribe");
    let moved = first + Duration::days(5);
    config.deadline = Some(moved);
    f.clock.advance(Duration::minutes(1));
    f.service
        .update_task(&f.organizer, f.event, task.id, config.clone())
        .await
        .unwrap();
    let dump = f.dump().await;
    for p in people {
        assert_eq!(due(&dump, p, task.id), Some(moved), "{}", p.external_id);
    }
    assert_quiet(&mut feed, "a deadline moved changes no status").await;
    config.deadline = None;
    f.service
        .update_task(&f.organizer, f.event, task.id, config)
        .await
        .unwrap();
    let dump = f.dump().await;
    for p in people {
        assert_eq!(due(&dump, p, task.id), None, "{}", p.external_id);
    }
}
