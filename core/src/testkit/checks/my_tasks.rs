//! Conformance checks for the participant's Tasks section (P1–P5): the list, the progress
//! summary, completion by the owner or the collaborator, assignment within one team, and
//! deadlines.

use std::collections::BTreeMap;

use chrono::Duration;

use super::common::{item_of, publish_config};
use crate::testkit::assert::assert_forbidden;
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// P1: the list is ordered by position then deadline (none last), each item carries its
/// help link, deadline, manual flag and assignee; drafts and archived tasks are not
/// listed; names are in the reader's language with the default as fallback.
pub async fn p1_list_ordered_with_help_link_and_assignee<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let mut jean = NewParticipant::new(ExternalId::new("jean").unwrap());
    jean.status.language = Some(f.fr.clone());
    let jean = f
        .service
        .register_participant(&f.organizer, f.event, jean)
        .await
        .unwrap();

    let now = f.clock.now();
    let (d1, d2) = (now + Duration::days(3), now + Duration::days(10));
    let web = Fixture::<S>::web();
    let manual = |name: &str, position: i32, deadline| {
        let mut c = TaskConfig::manual(f.en.clone(), name, web.clone());
        c.position = position;
        c.deadline = deadline;
        c
    };
    let late = publish_config(&f, manual("Late", 2, Some(d1))).await;
    let no_deadline = publish_config(&f, manual("Alpha no deadline", 1, None)).await;
    let mut bilingual = manual("Book your hotel", 1, Some(d2));
    bilingual.texts.insert(
        f.fr.clone(),
        TaskText {
            name: "Réservez votre hôtel".into(),
            description: "Avant le salon".into(),
        },
    );
    bilingual.texts.get_mut(&f.en).unwrap().description = "Before the show".into();
    let second = publish_config(&f, bilingual).await;
    let first_deadline = publish_config(&f, manual("Zulu soon", 1, Some(d1))).await;
    let form = HelpLink::FormStep {
        form: "exhibitor-profile".into(),
        step: "logo".into(),
    };
    let mut auto =
        TaskConfig::automatic(f.en.clone(), "Logo", Condition::LogoUploaded, form.clone());
    auto.position = 0;
    let auto = publish_config(&f, auto).await;
    let _draft = f
        .service
        .create_task(&f.organizer, f.event, manual("Draft", -5, None))
        .await
        .unwrap();
    let archived = publish_config(&f, manual("Archived", -5, None)).await;
    f.service
        .archive_task(&f.organizer, f.event, archived.id)
        .await
        .unwrap();
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            first_deadline.id,
            team.id,
        )
        .await
        .unwrap();

    let list = f.list(&owner).await;
    assert!(list.tasks_enabled);
    assert_eq!(list.time_zone, chrono_tz::Europe::Paris);
    let order: Vec<TaskId> = list.items.iter().map(|i| i.task).collect();
    assert_eq!(
        order,
        [
            auto.id,
            first_deadline.id,
            second.id,
            no_deadline.id,
            late.id
        ],
        "position, then deadline (none last); drafts and archived tasks are not listed"
    );
    for item in &list.items {
        assert_eq!(item.owner, owner.id);
        assert_eq!(item.status, ProgressStatus::Todo);
        if item.task == auto.id {
            assert!(!item.manual, "an automatic task is not tickable");
            assert_eq!(item.help, form);
            assert_eq!(item.position, 0);
        } else {
            assert!(item.manual);
            assert_eq!(item.help, web);
        }
        let want_assignee = (item.task == first_deadline.id).then_some(team.id);
        assert_eq!(item.assignee, want_assignee, "{}", item.name);
    }
    let deadlines: Vec<_> = list.items.iter().map(|i| i.deadline).collect();
    assert_eq!(deadlines, [None, Some(d1), Some(d2), None, Some(d1)]);
    let hotel = list.items.iter().find(|i| i.task == second.id).unwrap();
    assert_eq!(
        (hotel.name.as_str(), hotel.description.as_str()),
        ("Book your hotel", "Before the show")
    );

    // Jean reads French where there is French, English elsewhere.
    let jean_list = f.list(&jean).await;
    let names: BTreeMap<TaskId, (String, String)> = jean_list
        .items
        .iter()
        .map(|i| (i.task, (i.name.clone(), i.description.clone())))
        .collect();
    assert_eq!(
        names[&second.id],
        (
            "Réservez votre hôtel".to_owned(),
            "Avant le salon".to_owned()
        )
    );
    assert_eq!(
        names[&late.id].0, "Late",
        "no French name: the default language's"
    );
    assert_eq!(names[&no_deadline.id].0, "Alpha no deadline");
    assert!(!names.contains_key(&archived.id));
    let order: Vec<TaskId> = jean_list.items.iter().map(|i| i.task).collect();
    assert_eq!(
        order,
        [
            auto.id,
            first_deadline.id,
            second.id,
            no_deadline.id,
            late.id
        ]
    );

    // The organizer reads a participant's list as they see it.
    let seen_by_staff = f
        .service
        .tasks_of(&f.organizer, f.event, owner.id)
        .await
        .unwrap();
    assert_eq!(seen_by_staff.items, list.items);
}

/// P2: done / total and percent over the visible tasks the reader owns; tasks assigned to
/// them by another owner count apart.
pub async fn p2_progress_summary<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let me = f.as_participant(&ann);
    let m1 = f.manual_task("Hotel", None).await;
    let m2 = f.manual_task("Badge", None).await;
    let m3 = f.manual_task("Survey", None).await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let _other_segment = f.manual_task("Stand plan", Some(f.exhibitors)).await;
    let _draft = f.draft_manual("Draft", None).await;
    let summary = |p: Participant| {
        let f = &f;
        async move { f.list(&p).await.summary }
    };
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 0,
            total: 4,
            percent: 0
        }
    );
    f.service
        .complete_task(&me, f.event, ann.id, m1.id)
        .await
        .unwrap();
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 1,
            total: 4,
            percent: 25
        }
    );
    f.fact("logo", &ann, HostFact::LogoUploaded).await;
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 2,
            total: 4,
            percent: 50
        }
    );
    f.service
        .complete_task(&me, f.event, ann.id, m2.id)
        .await
        .unwrap();
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 3,
            total: 4,
            percent: 75
        }
    );
    f.service
        .undo_task(&me, f.event, ann.id, m2.id)
        .await
        .unwrap();
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 2,
            total: 4,
            percent: 50
        }
    );
    f.service
        .archive_task(&f.organizer, f.event, m3.id)
        .await
        .unwrap();
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 2,
            total: 3,
            percent: 66
        },
        "archived tasks leave the summary; percent rounds down"
    );
    assert!(f.list(&ann).await.items.iter().any(|i| i.task == logo.id));

    // A task assigned to me counts in its owner's summary, not in mine.
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let stand = f.manual_task("Stand", Some(f.exhibitors)).await;
    let team_before = f.list(&team).await.summary;
    let owner_before = f.list(&owner).await.summary;
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            stand.id,
            team.id,
        )
        .await
        .unwrap();
    let team_list = f.list(&team).await;
    assert_eq!(
        team_list.summary, team_before,
        "an assigned task is not the assignee's own"
    );
    assert_eq!(team_list.assigned_to_me, ProgressSummary::new(0, 1));
    f.service
        .complete_task(&f.as_participant(&team), f.event, owner.id, stand.id)
        .await
        .unwrap();
    assert_eq!(
        f.list(&team).await.assigned_to_me,
        ProgressSummary {
            done: 1,
            total: 1,
            percent: 100
        }
    );
    let owner_after = f.list(&owner).await.summary;
    assert_eq!(
        (owner_after.done, owner_after.total),
        (owner_before.done + 1, owner_before.total),
        "the assignee's completion counts for the owner"
    );
}

/// P3: the owner and the collaborator holding a manual task can each complete and undo it;
/// the other sees the result; an unrelated participant cannot.
pub async fn p3_owner_and_assignee_complete_and_undo<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let stranger = f.participant("stranger", &["exhibitor"]).await;
    let hotel = f.manual_task("Book your hotel", Some(f.exhibitors)).await;
    let (as_owner, as_team) = (f.as_participant(&owner), f.as_participant(&team));
    let e = f
        .service
        .complete_task(&as_team, f.event, owner.id, hotel.id)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Forbidden { .. }),
        "not assigned yet: {e}"
    );
    f.service
        .assign_task(&as_owner, f.event, owner.id, hotel.id, team.id)
        .await
        .unwrap();
    let row = f
        .service
        .complete_task(&as_team, f.event, owner.id, hotel.id)
        .await
        .unwrap();
    assert_eq!(row.completion.unwrap().by, as_team);
    assert_eq!(f.status(&owner, hotel.id).await, Some(ProgressStatus::Done));
    f.service
        .undo_task(&as_owner, f.event, owner.id, hotel.id)
        .await
        .unwrap();
    let team_item = f
        .list(&team)
        .await
        .items
        .into_iter()
        .find(|i| i.task == hotel.id)
        .unwrap();
    assert_eq!(
        team_item.status,
        ProgressStatus::Todo,
        "the assignee sees the owner's undo"
    );
    let before = f.dump().await;
    let e = f
        .service
        .complete_task(&f.as_participant(&stranger), f.event, owner.id, hotel.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(f.dump().await, before);
}

/// P4: teams are one level deep: no self link, no chain either way, one team each.
pub async fn p4_team_is_one_level_deep<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (acme, team) = f.exhibitor_with_collaborator("acme").await;
    let (globex, _) = f.exhibitor_with_collaborator("globex").await;
    let loner = f.participant("loner", &[]).await;
    let before = f.dump().await;
    let link = |o: &Participant, c: &Participant| {
        let (o, c) = (o.id, c.id);
        let f = &f;
        async move {
            f.service
                .link_collaborator(&f.organizer, f.event, o, c)
                .await
        }
    };
    let e = link(&acme, &acme).await.unwrap_err();
    assert_eq!(e.field(), Some("collaborator"), "self link: {e}");
    let e = link(&team, &loner).await.unwrap_err();
    assert!(
        matches!(e, Error::State { .. }),
        "a collaborator cannot own a team: {e}"
    );
    let e = link(&loner, &acme).await.unwrap_err();
    assert!(
        matches!(e, Error::State { .. }),
        "a team owner cannot join a team: {e}"
    );
    let e = link(&globex, &team).await.unwrap_err();
    assert!(matches!(e, Error::State { .. }), "one team each: {e}");
    assert_eq!(f.dump().await, before, "refused links wrote nothing");
    // Reported as a host fact, a refused link still counts as a collaborator but links
    // nobody.
    f.fact(
        "c1",
        &loner,
        HostFact::CollaboratorAdded {
            collaborator: acme.external_id.clone(),
        },
    )
    .await;
    let acme_now = f
        .service
        .participant(&f.organizer, f.event, acme.id)
        .await
        .unwrap();
    assert_eq!(acme_now.owner, None);
}

/// P4: the owner assigns a task to a collaborator, who sees and completes it; the owner
/// sees who holds it; reassigning moves it; taking it back removes it; the assignee can
/// neither assign nor take back.
pub async fn p4_assign_reassign_take_back<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team1) = f.exhibitor_with_collaborator("acme").await;
    let team2 = f.participant("acme-team2", &[]).await;
    f.service
        .link_collaborator(&f.organizer, f.event, owner.id, team2.id)
        .await
        .unwrap();
    let task = f
        .manual_task("Book the stand furniture", Some(f.exhibitors))
        .await;
    let as_owner = f.as_participant(&owner);
    assert!(
        item_of(&f, &team1, &owner, task.id).await.is_none(),
        "not assigned yet"
    );

    let row = f
        .service
        .assign_task(&as_owner, f.event, owner.id, task.id, team1.id)
        .await
        .expect("assign");
    assert_eq!(row.assignee, Some(team1.id));
    let held = item_of(&f, &team1, &owner, task.id)
        .await
        .expect("the assignee sees it");
    assert_eq!(held.owner, owner.id);
    assert_eq!(held.status, ProgressStatus::Todo);
    assert!(held.manual);
    assert_eq!(
        item_of(&f, &owner, &owner, task.id).await.unwrap().assignee,
        Some(team1.id)
    );
    assert!(item_of(&f, &team2, &owner, task.id).await.is_none());

    f.service
        .complete_task(&f.as_participant(&team1), f.event, owner.id, task.id)
        .await
        .expect("the assignee completes a manual task");
    let mine = item_of(&f, &owner, &owner, task.id).await.unwrap();
    assert_eq!(mine.status, ProgressStatus::Done);
    assert_eq!(
        mine.completion.as_ref().map(|c| c.by.clone()),
        Some(f.as_participant(&team1))
    );
    assert_eq!(
        item_of(&f, &team1, &owner, task.id).await.unwrap().status,
        ProgressStatus::Done
    );
    f.service
        .undo_task(&f.as_participant(&team1), f.event, owner.id, task.id)
        .await
        .expect("the assignee undoes");
    assert_eq!(f.status(&owner, task.id).await, Some(ProgressStatus::Todo));

    // Reassign.
    f.service
        .assign_task(&as_owner, f.event, owner.id, task.id, team2.id)
        .await
        .expect("reassign");
    assert!(
        item_of(&f, &team1, &owner, task.id).await.is_none(),
        "moved away from the first"
    );
    assert_eq!(
        item_of(&f, &team2, &owner, task.id).await.unwrap().owner,
        owner.id
    );
    assert_eq!(
        item_of(&f, &owner, &owner, task.id).await.unwrap().assignee,
        Some(team2.id)
    );
    let before = f.dump().await;
    let r = f
        .service
        .complete_task(&f.as_participant(&team1), f.event, owner.id, task.id)
        .await;
    assert_forbidden(r, "the former assignee completes");
    // The assignee cannot hand it on or take it back.
    let as_team2 = f.as_participant(&team2);
    let r = f
        .service
        .assign_task(&as_team2, f.event, owner.id, task.id, team1.id)
        .await;
    assert_forbidden(r, "the assignee assigns");
    let r = f
        .service
        .take_back_task(&as_team2, f.event, owner.id, task.id)
        .await;
    assert_forbidden(r, "the assignee takes back");
    assert_eq!(f.dump().await, before, "refused calls wrote something");

    // Take back.
    let row = f
        .service
        .take_back_task(&as_owner, f.event, owner.id, task.id)
        .await
        .expect("take back");
    assert_eq!(row.assignee, None);
    assert!(
        item_of(&f, &team2, &owner, task.id).await.is_none(),
        "taken back"
    );
    assert_eq!(
        item_of(&f, &owner, &owner, task.id).await.unwrap().assignee,
        None
    );
    assert_eq!(
        f.list(&team2).await.assigned_to_me,
        ProgressSummary::new(0, 0)
    );
    let r = f
        .service
        .complete_task(&as_team2, f.event, owner.id, task.id)
        .await;
    assert_forbidden(r, "completing a task taken back");
}

/// P4, X2: a task can only be assigned to one of the owner's own collaborators; anything
/// else is Forbidden (whom one may hand a task to is a matter of who may act) and writes
/// nothing.
pub async fn p4_assign_only_to_own_collaborators<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, _team) = f.exhibitor_with_collaborator("acme").await;
    let (other, other_team) = f.exhibitor_with_collaborator("globex").await;
    let stranger = f.participant("zed", &[]).await;
    let task = f.manual_task("Stand", Some(f.exhibitors)).await;
    let as_owner = f.as_participant(&owner);
    let before = f.dump().await;
    for (who, case) in [
        (&stranger, "a participant of no team"),
        (&other_team, "another exhibitor's collaborator"),
        (&other, "another exhibitor"),
        (&owner, "the owner themselves"),
    ] {
        let r = f
            .service
            .assign_task(&as_owner, f.event, owner.id, task.id, who.id)
            .await;
        assert_forbidden(r, case);
    }
    // Nor may an organizer hand it outside the team.
    let r = f
        .service
        .assign_task(&f.organizer, f.event, owner.id, task.id, other_team.id)
        .await;
    assert_forbidden(r, "organizer assigns outside the team");
    // Nor may the other exhibitor assign the owner's task to their own team.
    let r = f
        .service
        .assign_task(
            &f.as_participant(&other),
            f.event,
            owner.id,
            task.id,
            other_team.id,
        )
        .await;
    assert_forbidden(r, "another owner assigns my task");
    assert_eq!(
        f.dump().await,
        before,
        "a refused assignment wrote something"
    );
    assert!(
        f.outbox().await.is_empty(),
        "no assignment notice was queued"
    );
    assert!(item_of(&f, &other_team, &owner, task.id).await.is_none());
}

/// P5: seconds left and the overdue flag follow the clock; a done task is never overdue.
pub async fn p5_deadline_and_overdue<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let deadline = f.clock.now() + Duration::days(2);
    let mut config = TaskConfig::manual(f.en.clone(), "Send your invoice", Fixture::<S>::web());
    config.deadline = Some(deadline);
    let task = publish_config(&f, config).await;
    let open = f.manual_task("No deadline", None).await;
    let item = |t: TaskId| {
        let (f, ann) = (&f, &ann);
        async move { item_of(f, ann, ann, t).await.expect("listed") }
    };
    let i = item(task.id).await;
    assert_eq!(i.deadline, Some(deadline));
    assert_eq!(i.seconds_left, Some(2 * 86_400));
    assert!(!i.overdue);
    let o = item(open.id).await;
    assert_eq!((o.seconds_left, o.overdue), (None, false));

    f.clock.set(deadline);
    let i = item(task.id).await;
    assert_eq!(
        (i.seconds_left, i.overdue),
        (Some(0), false),
        "at the deadline, not yet overdue"
    );

    f.clock.advance(Duration::days(1));
    let i = item(task.id).await;
    assert!(i.overdue, "passed and not done");
    assert_eq!(i.seconds_left, Some(-86_400));
    assert!(!item(open.id).await.overdue, "no deadline, never overdue");

    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, task.id)
        .await
        .unwrap();
    let i = item(task.id).await;
    assert!(!i.overdue, "a done task is not overdue");
    assert_eq!(i.seconds_left, Some(-86_400));
    f.service
        .undo_task(&f.as_participant(&ann), f.event, ann.id, task.id)
        .await
        .unwrap();
    assert!(
        item(task.id).await.overdue,
        "undone after the deadline: overdue again"
    );
}
