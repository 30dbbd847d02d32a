//! Conformance checks for bad input (X5): unknown ids answer NotFound and write nothing,
//! and every refusal answers the kind of the refusal policy.

use crate::testkit::assert::{Kind, assert_kind, assert_wrote_nothing};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// X5: unknown ids are NotFound naming the entity, and write nothing.
pub async fn x5_unknown_ids_are_not_found_and_write_nothing<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let task = f.manual_task("Hotel", None).await;
    let before = f.dump().await;
    let now = f.clock.now();
    let (no_task, no_person, no_segment) = (
        TaskId::new_at(now),
        ParticipantId::new_at(now),
        SegmentId::new_at(now),
    );
    let me = f.as_participant(&ann);
    let cases: Vec<(Result<()>, &str)> = vec![
        (
            f.service
                .publish_task(&f.organizer, f.event, no_task)
                .await
                .map(drop),
            "task",
        ),
        (
            f.service
                .complete_task(&me, f.event, ann.id, no_task)
                .await
                .map(drop),
            "task",
        ),
        (
            f.service
                .complete_task(&f.organizer, f.event, no_person, task.id)
                .await
                .map(drop),
            "participant",
        ),
        (
            f.service
                .update_segment(
                    &f.organizer,
                    f.event,
                    no_segment,
                    SegmentDraft {
                        name: "x".into(),
                        rule: Rule::Everyone,
                    },
                )
                .await
                .map(drop),
            "segment",
        ),
        (
            f.service
                .link_collaborator(&f.organizer, f.event, ann.id, no_person)
                .await
                .map(drop),
            "participant",
        ),
        (
            f.service
                .assign_task(&me, f.event, ann.id, no_task, no_person)
                .await
                .map(drop),
            "task",
        ),
        (
            f.service
                .tasks(&Actor::System, EventId::new_at(now))
                .await
                .map(drop),
            "event",
        ),
        (
            f.service
                .participant_by_external_id(
                    &f.organizer,
                    f.event,
                    &ExternalId::new("nobody").unwrap(),
                )
                .await
                .map(drop),
            "participant",
        ),
    ];
    for (r, entity) in cases {
        match r {
            Err(Error::NotFound { entity: e, .. }) => assert_eq!(e, entity),
            other => panic!("expected NotFound {entity}, got {other:?}"),
        }
    }
    let e = f
        .service
        .assign_task(&me, f.event, ann.id, task.id, no_person)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = f
        .service
        .publish_tasks(&f.organizer, f.event, &[])
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("tasks"));
    assert_eq!(f.dump().await, before);
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
