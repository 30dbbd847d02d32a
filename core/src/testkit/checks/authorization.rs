//! The authorization matrix (X2): every operation of the service × every kind of actor,
//! with the expected answer for each, on every store.

use std::sync::Arc;

use chrono::Duration;
use serde_json::Value;

use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// The kinds of actor the matrix tries, in the order of the expectation strings.
const ACTORS: [&str; 7] = [
    "organizer of the event",
    "organizer of another event",
    "the owning participant",
    "a collaborator of the owner",
    "an assignee of the owner's task",
    "an unrelated participant",
    "the system",
];

/// A custom field's value that must never reach a participant (R4, X2). Every value a
/// participant may not read carries this marker.
const SECRET: &str = "SECRET-STAND-4242";

/// What an operation may answer: `A` allowed (`Ok`), `F` [`Error::Forbidden`], `N`
/// [`Error::NotFound`] (another event's objects are not revealed).
///
/// Each string has one letter per actor, in the order of [`ACTORS`]: organizer,
/// other event's organizer, owner, collaborator, assignee, unrelated participant, system.
const MATRIX: &[(&str, &str)] = &[
    // ----- configuration (T, S): the event's organizers and the host -----
    // Events are created by the host alone (it knows which it serves).
    ("create_event", "FFFFFFA"),
    ("event", "ANFFFFA"),
    ("update_event", "ANFFFFA"),
    ("segments", "ANFFFFA"),
    ("create_segment", "ANFFFFA"),
    ("update_segment", "ANFFFFA"),
    ("preview_segment", "ANFFFFA"),
    ("tasks", "ANFFFFA"),
    ("task", "ANFFFFA"),
    ("create_task", "ANFFFFA"),
    ("create_task_from_template", "ANFFFFA"),
    ("copy_tasks", "ANFFFFA"),
    ("update_task", "ANFFFFA"),
    ("publish_task", "ANFFFFA"),
    ("publish_tasks", "ANFFFFA"),
    ("archive_task", "ANFFFFA"),
    ("delete_task", "ANFFFFA"),
    ("register_participant", "ANFFFFA"),
    ("register_participants", "ANFFFFA"),
    ("update_participant", "ANAFFFA"),
    ("link_collaborator", "ANFFFFA"),
    ("unlink_collaborator", "ANFFFFA"),
    ("participant_by_external_id", "ANFFFFA"),
    // ----- organizer's decisions and follow-up (T3, B) -----
    ("validate_task", "ANFFFFA"),
    ("invalidate_task", "ANFFFFA"),
    ("follow_condition", "ANFFFFA"),
    ("accept_submission", "ANFFFFA"),
    ("reject_submission", "ANFFFFA"),
    ("decide_many", "ANFFFFA"),
    ("matrix", "ANFFFFA"),
    ("export_matrix_csv", "ANFFFFA"),
    ("export_figures_csv", "ANFFFFA"),
    ("task_figures", "ANFFFFA"),
    ("task_history", "ANFFFFA"),
    ("progress_feed", "ANFFFFA"),
    ("remind_now", "ANFFFFA"),
    ("tick_reminders", "ANFFFFA"),
    ("outbox", "ANFFFFA"),
    ("dead_letters", "ANFFFFA"),
    ("retry_dead_letters", "ANFFFFA"),
    ("resume_sweeps", "ANFFFFA"),
    ("registrants", "ANFFFFA"),
    // ----- the participant's Tasks section (P); the organizers and the host may act on a
    // participant's behalf (a help desk), recorded as done by them -----
    ("my_tasks", "FNAAAAF"),
    ("tasks_of", "ANAFFFA"),
    ("collaborators", "ANAFFFA"),
    ("participant", "ANAFFFA"),
    ("complete_task", "ANAFFFA"),
    ("complete_held_task", "ANAFAFA"),
    ("undo_held_task", "ANAFAFA"),
    ("undo_task", "ANAFFFA"),
    ("assign_task", "ANAFFFA"),
    ("take_back_task", "ANAFFFA"),
    // ----- host events (T4, X3, R5, R13): the host, or an organizer reporting for it -----
    ("ingest", "ANFFFFA"),
    ("ingest_batch", "ANFFFFA"),
    ("report_actions", "ANFFFFA"),
    ("ping", "ANAFFFA"),
    ("online_status", "ANAFFFA"),
    // ----- the participant's record (R); a message is written by a person, not the host -----
    ("timeline", "ANAFFFA"),
    ("export_timeline_csv", "ANAFFFA"),
    ("participant_history", "ANAFFFA"),
    ("export_participant_history_csv", "ANAFFFA"),
    ("register_to_session", "ANAFFFA"),
    ("unregister_from_session", "ANAFFFA"),
    ("record_attendance", "ANFFFFA"),
    ("sessions", "ANAFFFA"),
    ("agenda", "ANAFFFA"),
    ("book_meeting", "ANAFFFA"),
    ("set_meeting_status", "ANAFFFA"),
    ("meetings", "ANAFFFA"),
    ("set_networking", "ANAFFFA"),
    ("partners", "ANAFFFA"),
    ("send_message", "ANAFFFF"),
    ("messages", "ANAFFFA"),
    ("mark_messages_read", "ANAFFFA"),
    ("add_push_subscription", "ANAFFFA"),
    ("remove_push_subscription", "ANAFFFA"),
    ("export_participant", "ANAFFFA"),
    // ----- another event's objects, named in this event: never found, by anyone (X1) -----
    ("foreign_task", "NNNNNNN"),
    ("foreign_participant", "NNNNNNN"),
    ("complete_foreign_row", "NNNNNNN"),
    // Last: it erases the owner's personal data.
    ("erase_participant", "ANFFFFA"),
];

/// One event set up so that every operation of [`MATRIX`] has something to act on, and
/// the other event whose organizer is one of the actors.
struct World<S: DumpStore> {
    f: Fixture<S>,
    other: Fixture<S>,
    owner: Participant,
    collaborator: Participant,
    assignee: Participant,
    unrelated: Participant,
    /// Networking allowed: the owner books meetings with them.
    partner: Participant,
    /// Not linked to anyone: the owner gets them as a collaborator.
    spare: Participant,
    /// Linked to the owner, to be unlinked.
    linked: Participant,
    segment: SegmentId,
    todo: TaskId,
    done: TaskId,
    to_assign: TaskId,
    to_take_back: TaskId,
    held: TaskId,
    held_done: TaskId,
    review_accept: TaskId,
    review_reject: TaskId,
    review_many: TaskId,
    auto_validate: TaskId,
    auto_invalidate: TaskId,
    auto_follow: TaskId,
    draft_update: TaskId,
    draft_publish: TaskId,
    draft_publish_many: TaskId,
    to_archive: TaskId,
    draft_delete: TaskId,
    other_task: TaskId,
    other_participant: ParticipantId,
    session: Session,
    second_session: Session,
    meeting: MeetingId,
    endpoint: String,
}

impl<S: DumpStore> World<S> {
    async fn new(store: Arc<S>) -> Self {
        let f = Fixture::with_store(store.clone()).await;
        let other = Fixture::with_store(store).await;
        let org = f.organizer.clone();
        let ev = f.event;
        let s = &f.service;
        let (owner, collaborator) = f.exhibitor_with_collaborator("owner").await;
        let assignee = f.participant("assignee", &[]).await;
        s.link_collaborator(&org, ev, owner.id, assignee.id)
            .await
            .expect("link the assignee");
        let linked = f.participant("linked", &[]).await;
        s.link_collaborator(&org, ev, owner.id, linked.id)
            .await
            .expect("link");
        let unrelated = f.participant("unrelated", &["exhibitor"]).await;
        let partner = f.participant("partner", &["visitor"]).await;
        // A participant sees a partner's company, not their name (R10).
        let mut profile = partner.profile.clone();
        profile.last_name = format!("{SECRET}-NAME");
        profile.company = "Partner Inc".into();
        s.update_participant(
            &org,
            ev,
            partner.id,
            ParticipantPatch {
                profile: profile.into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .expect("the partner's name");
        let spare = f.participant("spare", &[]).await;
        // The owner's custom field: never shown to a participant.
        s.update_participant(
            &org,
            ev,
            owner.id,
            ParticipantPatch {
                custom_fields: [("stand".to_owned(), Some(SECRET.to_owned()))].into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .expect("the custom field");
        // What the owner may not read of their collaborator: a push endpoint (a capability),
        // a discount code, UTM values.
        let mut status = collaborator.status.clone();
        status.discount_code = Some(format!("{SECRET}-CODE"));
        s.update_participant(
            &org,
            ev,
            collaborator.id,
            ParticipantPatch {
                status: status.into(),
                utm: Utm {
                    campaign: Some(format!("{SECRET}-CAMPAIGN")),
                    ..Utm::default()
                }
                .into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .expect("the collaborator's private values");
        s.add_push_subscription(
            &org,
            ev,
            collaborator.id,
            subscription(&format!("https://push.example/{SECRET}")),
        )
        .await
        .expect("the collaborator's push subscription");
        for p in [&owner, &partner] {
            s.set_networking(&org, ev, p.id, Networking::Allowed)
                .await
                .expect("networking");
        }
        let seg = Some(f.exhibitors);
        let manual = async |name: &str| f.manual_task(name, seg).await.id;
        let todo = manual("todo").await;
        let done = manual("done").await;
        let to_assign = manual("to assign").await;
        let to_take_back = manual("to take back").await;
        let held = manual("held").await;
        let held_done = manual("held, done").await;
        let owner_actor = f.as_participant(&owner);
        s.complete_task(&owner_actor, ev, owner.id, done)
            .await
            .expect("done");
        for t in [to_take_back, held, held_done] {
            s.assign_task(&owner_actor, ev, owner.id, t, assignee.id)
                .await
                .expect("assign");
        }
        s.complete_task(&f.as_participant(&assignee), ev, owner.id, held_done)
            .await
            .expect("done by the assignee");
        let mut review = Vec::new();
        for name in ["review accept", "review reject", "review many"] {
            let mut config = TaskConfig::manual(f.en.clone(), name, Fixture::<S>::web());
            config.segment = seg;
            config.review = true;
            let t = f.publish(config).await.id;
            s.complete_task(&owner_actor, ev, owner.id, t)
                .await
                .expect("submitted");
            review.push(t);
        }
        let auto = async |name: &str| f.auto_task(name, Condition::LogoUploaded, seg).await.id;
        let auto_validate = auto("auto validate").await;
        let auto_invalidate = auto("auto invalidate").await;
        let auto_follow = auto("auto follow").await;
        for t in [auto_invalidate, auto_follow] {
            s.validate_task(&org, ev, owner.id, t)
                .await
                .expect("validated");
        }
        let draft = async |name: &str| f.draft_manual(name, seg).await.id;
        let draft_update = draft("draft update").await;
        let draft_publish = draft("draft publish").await;
        let draft_publish_many = draft("draft publish many").await;
        let draft_delete = draft("draft delete").await;
        let to_archive = manual("to archive").await;
        let other_task = other.manual_task("other event's task", None).await.id;
        let other_participant = other.participant("elsewhere", &[]).await.id;
        let segment = s
            .create_segment(
                &org,
                ev,
                SegmentDraft {
                    name: "Visitors".into(),
                    rule: Rule::category("visitor"),
                },
            )
            .await
            .expect("segment")
            .id;
        let at = f.clock.now() + Duration::days(30);
        let session = |id: &str| Session {
            id: ExternalId::new(id).expect("id"),
            title: id.to_owned(),
            starts_at: at,
            ends_at: at + Duration::hours(1),
            place: None,
        };
        let (session, second_session) = (session("keynote"), session("workshop"));
        s.register_to_session(&org, ev, owner.id, session.clone())
            .await
            .expect("session");
        let meeting = s
            .book_meeting(
                &owner_actor,
                ev,
                NewMeeting {
                    booker: owner.id,
                    with: partner.id,
                    starts_at: at + Duration::hours(3),
                    ends_at: at + Duration::hours(4),
                    place: None,
                },
            )
            .await
            .expect("meeting")
            .id;
        let endpoint = "https://push.example/owner-1".to_owned();
        s.add_push_subscription(&org, ev, owner.id, subscription(&endpoint))
            .await
            .expect("push subscription");
        s.send_message(&org, ev, owner.id, "Welcome")
            .await
            .expect("message");
        s.report_actions(
            &Actor::System,
            ev,
            vec![
                HostAction {
                    id: HostEventId::new("login-1").expect("id"),
                    participant: owner.id.into(),
                    occurred_at: f.clock.now(),
                    kind: TimelineKind::FirstLogin {
                        channel: LoginChannel::Web,
                    },
                },
                HostAction {
                    id: HostEventId::new("bookmark-1").expect("id"),
                    participant: owner.id.into(),
                    occurred_at: f.clock.now(),
                    kind: TimelineKind::ExhibitorBookmarked {
                        exhibitor: partner.id,
                    },
                },
                HostAction {
                    id: HostEventId::new("scan-1").expect("id"),
                    participant: owner.id.into(),
                    occurred_at: f.clock.now(),
                    kind: TimelineKind::Scanned {
                        place: ScanPlace::Partner {
                            partner: partner.id,
                        },
                    },
                },
            ],
        )
        .await
        .expect("actions");
        Self {
            owner,
            collaborator,
            assignee,
            unrelated,
            partner,
            spare,
            linked,
            segment,
            todo,
            done,
            to_assign,
            to_take_back,
            held,
            held_done,
            review_accept: review[0],
            review_reject: review[1],
            review_many: review[2],
            auto_validate,
            auto_invalidate,
            auto_follow,
            draft_update,
            draft_publish,
            draft_publish_many,
            to_archive,
            draft_delete,
            other_task,
            other_participant,
            session,
            second_session,
            meeting,
            endpoint,
            other,
            f,
        }
    }

    /// The actor of column `i` of [`MATRIX`].
    fn actor(&self, i: usize) -> Actor {
        match i {
            0 => self.f.organizer.clone(),
            1 => self.other.organizer.clone(),
            2 => self.f.as_participant(&self.owner),
            3 => self.f.as_participant(&self.collaborator),
            4 => self.f.as_participant(&self.assignee),
            5 => self.f.as_participant(&self.unrelated),
            _ => Actor::System,
        }
    }

    /// Runs `op` as `a`; the result as JSON, to look for what must not be in it.
    async fn call(&self, op: &str, a: &Actor) -> Result<Value> {
        fn json<T: serde::Serialize>(v: T) -> Value {
            serde_json::to_value(v).expect("serializable")
        }
        fn csv(bytes: Vec<u8>) -> Value {
            Value::String(String::from_utf8(bytes).expect("CSV is UTF-8"))
        }
        let s = &self.f.service;
        let ev = self.f.event;
        let o = self.owner.id;
        let en = &self.f.en;
        let web = Fixture::<S>::web;
        Ok(match op {
            "create_event" => json(
                s.create_event(a, EventSettings::new("Another show", en.clone()))
                    .await?,
            ),
            "event" => json(s.event(a, ev).get().await?),
            "update_event" => {
                let mut settings = s.event(&Actor::System, ev).get().await?.settings;
                settings.name = "Expo 2026 (renamed)".into();
                json(s.update_event(a, ev, settings).await?)
            }
            "segments" => json(s.segments(a, ev).await?),
            "create_segment" => json(
                s.create_segment(
                    a,
                    ev,
                    SegmentDraft {
                        name: "Speakers".into(),
                        rule: Rule::category("speaker"),
                    },
                )
                .await?,
            ),
            "update_segment" => json(
                s.update_segment(
                    a,
                    ev,
                    self.segment,
                    SegmentDraft {
                        name: "Visitors and press".into(),
                        rule: Rule::any([Rule::category("visitor"), Rule::category("press")]),
                    },
                )
                .await?,
            ),
            "preview_segment" => json(
                s.preview_segment(a, ev, &Rule::category("exhibitor"), 10)
                    .await?,
            ),
            "tasks" => json(s.tasks(a, ev).await?),
            "task" => json(s.task(a, ev, self.todo).await?),
            "create_task" => json(
                s.create_task(a, ev, TaskConfig::manual(en.clone(), "new", web()))
                    .await?,
            ),
            "create_task_from_template" => json(
                s.create_task_from_template(a, ev, &Template::ExhibitorLogo, web())
                    .await?,
            ),
            "copy_tasks" => json(
                s.copy_tasks(
                    a,
                    ev,
                    &self.other.organizer,
                    self.other.event,
                    Some(&[self.other_task]),
                    None,
                )
                .await?,
            ),
            "update_task" => json(
                s.update_task(
                    a,
                    ev,
                    self.draft_update,
                    TaskConfig::manual(en.clone(), "renamed draft", web()),
                )
                .await?,
            ),
            "publish_task" => json(s.publish_task(a, ev, self.draft_publish).await?),
            "publish_tasks" => json(s.publish_tasks(a, ev, &[self.draft_publish_many]).await?),
            "archive_task" => json(s.archive_task(a, ev, self.to_archive).await?),
            "delete_task" => json(s.delete_task(a, ev, self.draft_delete).await?),
            "register_participant" => json(
                s.register_participant(
                    a,
                    ev,
                    NewParticipant::new(ExternalId::new("newcomer").expect("id")),
                )
                .await?,
            ),
            "register_participants" => {
                let results = s
                    .register_participants(
                        a,
                        ev,
                        vec![NewParticipant::new(ExternalId::new("batch-1").expect("id"))],
                    )
                    .await?;
                for r in &results {
                    assert!(r.is_ok(), "{r:?}");
                }
                Value::Null
            }
            "update_participant" => {
                let mut profile = self.owner.profile.clone();
                profile.job_title = "Head of sales".into();
                json(
                    s.update_participant(
                        a,
                        ev,
                        o,
                        ParticipantPatch {
                            profile: profile.into(),
                            ..ParticipantPatch::default()
                        },
                    )
                    .await?,
                )
            }
            "link_collaborator" => json(s.link_collaborator(a, ev, o, self.spare.id).await?),
            "unlink_collaborator" => json(s.unlink_collaborator(a, ev, o, self.linked.id).await?),
            "participant_by_external_id" => json(
                s.participant_by_external_id(a, ev, &self.owner.external_id)
                    .await?,
            ),
            "validate_task" => json(s.validate_task(a, ev, o, self.auto_validate).await?),
            "invalidate_task" => json(s.invalidate_task(a, ev, o, self.auto_invalidate).await?),
            "follow_condition" => json(s.follow_condition(a, ev, o, self.auto_follow).await?),
            "accept_submission" => json(s.accept_submission(a, ev, o, self.review_accept).await?),
            "reject_submission" => json(
                s.reject_submission(a, ev, o, self.review_reject, "Not signed")
                    .await?,
            ),
            "decide_many" => {
                let results = s
                    .decide_many(a, ev, self.review_many, &[o], Decision::Accept)
                    .await?;
                for r in &results {
                    assert!(r.is_ok(), "{r:?}");
                }
                Value::Null
            }
            "matrix" => json(s.matrix(a, ev, &MatrixRequest::default()).await?),
            "export_matrix_csv" => {
                let mut out = Vec::new();
                s.export_matrix_csv(a, ev, &MatrixRequest::default(), &mut out)
                    .await?;
                csv(out)
            }
            "export_figures_csv" => {
                let mut out = Vec::new();
                s.export_figures_csv(a, ev, &mut out).await?;
                csv(out)
            }
            "task_figures" => json(s.task_figures(a, ev).await?),
            "task_history" => json(s.task_history(a, ev, self.todo, None, 10).await?),
            "progress_feed" => {
                let _feed = s.progress_feed(a, ev).await?;
                Value::Null
            }
            "remind_now" => json(
                s.remind_now(a, ev, self.todo, RemindTarget::Participant(o))
                    .await?,
            ),
            "tick_reminders" => {
                s.tick_reminders(a, ev).await?;
                Value::Null
            }
            "outbox" => json(s.outbox(a, ev, &OutboxFilter::default(), None, 10).await?),
            "dead_letters" => json(s.dead_letters(a, ev, None, 10).await?),
            "retry_dead_letters" => json(s.retry_dead_letters(a, ev, &[]).await?),
            "resume_sweeps" => json(s.resume_sweeps(a, ev).await?),
            "registrants" => json(s.registrants(a, ev, None, None, 10).await?),
            "my_tasks" => json(s.my_tasks(a, ev).await?),
            "tasks_of" => json(s.tasks_of(a, ev, o).await?),
            "collaborators" => json(s.collaborators(a, ev, o).await?),
            "participant" => json(s.participant(a, ev, o).await?),
            "complete_task" => json(s.complete_task(a, ev, o, self.todo).await?),
            "complete_held_task" => json(s.complete_task(a, ev, o, self.held).await?),
            "undo_task" => json(s.undo_task(a, ev, o, self.done).await?),
            "undo_held_task" => json(s.undo_task(a, ev, o, self.held_done).await?),
            "foreign_task" => json(s.task(a, ev, self.other_task).await?),
            "foreign_participant" => json(s.participant(a, ev, self.other_participant).await?),
            "complete_foreign_row" => json(
                s.complete_task(a, ev, self.other_participant, self.other_task)
                    .await?,
            ),
            "assign_task" => json(
                s.assign_task(a, ev, o, self.to_assign, self.collaborator.id)
                    .await?,
            ),
            "take_back_task" => json(s.take_back_task(a, ev, o, self.to_take_back).await?),
            "ingest" => json(
                s.ingest(
                    a,
                    ev,
                    self.f
                        .host_event("logo-1", &self.owner, HostFact::LogoUploaded),
                )
                .await?,
            ),
            "ingest_batch" => {
                let results = s
                    .ingest_batch(
                        a,
                        ev,
                        vec![self.f.host_event(
                            "product-1",
                            &self.owner,
                            HostFact::ProductAdded {
                                product: ExternalId::new("p1").expect("id"),
                            },
                        )],
                    )
                    .await?;
                for r in &results {
                    assert!(r.is_ok(), "{r:?}");
                }
                Value::Null
            }
            "report_actions" => {
                let results = s
                    .report_actions(
                        a,
                        ev,
                        vec![HostAction {
                            id: HostEventId::new("badge-1").expect("id"),
                            participant: o.into(),
                            occurred_at: self.f.clock.now(),
                            kind: TimelineKind::BadgePrinted {
                                place: BadgePlace::OnSite,
                            },
                        }],
                    )
                    .await?;
                for r in &results {
                    assert!(r.is_ok(), "{r:?}");
                }
                Value::Null
            }
            "ping" => json(s.ping(a, ev, o, LoginChannel::Web).await?),
            "online_status" => json(s.online_status(a, ev, o).await?),
            "timeline" => json(s.timeline(a, ev, o, &TimelineFilter::default(), 50).await?),
            "export_timeline_csv" => {
                let mut out = Vec::new();
                s.export_timeline_csv(a, ev, o, &TimelineFilter::default(), &mut out)
                    .await?;
                csv(out)
            }
            "participant_history" => json(
                s.participant_history(a, ev, o, &HistoryFilter::default(), 100)
                    .await?,
            ),
            "export_participant_history_csv" => {
                let mut out = Vec::new();
                s.export_participant_history_csv(a, ev, o, &HistoryFilter::default(), &mut out)
                    .await?;
                csv(out)
            }
            "register_to_session" => json(
                s.register_to_session(a, ev, o, self.second_session.clone())
                    .await?,
            ),
            "unregister_from_session" => json(
                s.unregister_from_session(a, ev, o, &self.session.id)
                    .await?,
            ),
            "record_attendance" => json(
                s.record_attendance(a, ev, o, self.session.clone(), self.f.clock.now())
                    .await?,
            ),
            "sessions" => json(s.sessions(a, ev, o).await?),
            "agenda" => json(s.agenda(a, ev, o).await?),
            "book_meeting" => {
                let at = self.session.starts_at + Duration::hours(6);
                json(
                    s.book_meeting(
                        a,
                        ev,
                        NewMeeting {
                            booker: o,
                            with: self.partner.id,
                            starts_at: at,
                            ends_at: at + Duration::minutes(30),
                            place: None,
                        },
                    )
                    .await?,
                )
            }
            "set_meeting_status" => json(
                s.set_meeting_status(a, ev, o, self.meeting, MeetingStatus::Cancelled)
                    .await?,
            ),
            "meetings" => json(s.meetings(a, ev, o).await?),
            "set_networking" => json(s.set_networking(a, ev, o, Networking::NotAllowed).await?),
            "partners" => json(s.partners(a, ev, o).await?),
            "send_message" => json(s.send_message(a, ev, o, "A question").await?),
            "messages" => json(s.messages(a, ev, o, None, 50).await?),
            "mark_messages_read" => json(s.mark_messages_read(a, ev, o).await?),
            "add_push_subscription" => json(
                s.add_push_subscription(a, ev, o, subscription("https://push.example/owner-2"))
                    .await?,
            ),
            "remove_push_subscription" => {
                json(s.remove_push_subscription(a, ev, o, &self.endpoint).await?)
            }
            "export_participant" => json(s.export_participant(a, ev, o).await?),
            "erase_participant" => json(s.erase_participant(a, ev, o).await?),
            other => panic!("the matrix has no operation {other:?}"),
        })
    }
}

fn subscription(endpoint: &str) -> PushSubscription {
    PushSubscription {
        endpoint: endpoint.to_owned(),
        // A P-256 public key (65 bytes, uncompressed) and a 16-byte secret, base64url.
        p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4".into(),
        auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
    }
}

/// X2: the authorization matrix. Every operation of the service, tried by each kind of
/// actor on the owner's objects, answers as its table `MATRIX` says; a refused operation writes
/// nothing; nothing a participant may read carries a custom field (R4), nor a team mate's
/// push endpoint, discount code or UTM values.
pub async fn x2_authorization_matrix<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    // One world per actor, so that what one actor is allowed to change does not decide
    // what the next one finds.
    let mut surprises = Vec::new();
    let mut tried = 0;
    for (i, who) in ACTORS.iter().enumerate() {
        let w = World::new(store.clone()).await;
        let actor = w.actor(i);
        for (op, expected) in MATRIX {
            let expected = expected.as_bytes()[i] as char;
            let before = w.f.dump().await;
            let result = w.call(op, &actor).await;
            tried += 1;
            let got = match &result {
                Ok(_) => 'A',
                Err(Error::Forbidden { .. }) => 'F',
                Err(Error::NotFound { .. }) => 'N',
                Err(e) => {
                    surprises.push(format!("{op} by {who}: unexpected error {e:?}"));
                    continue;
                }
            };
            if got != expected {
                surprises.push(format!(
                    "{op} by {who}: expected {expected}, got {got} ({result:?})"
                ));
                continue;
            }
            if got != 'A' {
                assert_eq!(
                    w.f.dump().await,
                    before,
                    "{op} by {who} was refused but wrote something"
                );
            }
            if *op == "partners"
                && let Ok(value) = &result
            {
                assert!(
                    value.to_string().contains("Partner Inc"),
                    "partners by {who} shows the bookmarked and scanning partner: {value}"
                );
            }
            if let (Ok(value), Actor::Participant { .. }) = (&result, &actor) {
                assert!(
                    !value.to_string().contains(SECRET),
                    "{op} by {who} shows a participant what they may not read: {value}"
                );
            }
        }
    }
    assert!(
        surprises.is_empty(),
        "the authorization matrix differs in {} of {tried} cases:\n{}",
        surprises.len(),
        surprises.join("\n")
    );
}
