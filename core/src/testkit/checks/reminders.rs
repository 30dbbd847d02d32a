//! Conformance checks for reminders (N3, N7): once per offset to whoever holds the task,
//! catch-up and moved deadlines, racing ticks, and reminders close together grouped.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::common::{state_in, tick};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// A published manual task with a deadline (no publication notice).
async fn task_due<S: DumpStore>(f: &Fixture<S>, name: &str, deadline: DateTime<Utc>) -> Task {
    let mut config = TaskConfig::manual(f.en.clone(), name, Fixture::<S>::web());
    config.deadline = Some(deadline);
    f.publish(config).await
}

/// The reminders (single or grouped) in the outbox, as (recipient, task, slot, deadline).
async fn reminders<S: DumpStore>(
    f: &Fixture<S>,
) -> Vec<(ParticipantId, TaskId, ReminderSlot, DateTime<Utc>)> {
    let mut out = Vec::new();
    for e in f.outbox().await {
        match e.message {
            Notification::Reminder {
                task,
                slot,
                deadline,
                ..
            } => out.push((e.recipient, task, slot, deadline)),
            Notification::Reminders { items } => out.extend(
                items
                    .into_iter()
                    .map(|i| (e.recipient, i.task, i.slot, i.deadline)),
            ),
            _ => {}
        }
    }
    out
}

/// N3: the reminder of each offset goes out once when its time comes, to the assignee
/// once the task is assigned, and never after completion, even once overdue. A
/// participant cannot run the tick.
pub async fn n3_reminders_once_to_the_holder_until_done<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    f.change_settings(|settings| {
        settings.reminders.overdue = true;
    })
    .await;
    let (owner, helper) = f.exhibitor_with_collaborator("acme").await;
    let start = f.clock.now();
    let deadline = start + Duration::days(10);
    let t = task_due(&f, "Send your stand plan", deadline).await;
    let week = ReminderSlot::Before(ReminderOffset::days(7));
    let day = ReminderSlot::Before(ReminderOffset::days(1));

    let e = f
        .service
        .tick_reminders(&f.as_participant(&owner), f.event)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(tick(&f).await.reminders, 0, "ten days before: nothing due");
    assert!(reminders(&f).await.is_empty());

    f.clock.set(deadline - Duration::days(7));
    let first = tick(&f).await;
    assert_eq!((first.reminders, first.messages), (2, 2), "{first:?}");
    let sent = reminders(&f).await;
    let mut recipients: Vec<_> = sent.iter().map(|r| r.0).collect();
    recipients.sort();
    let mut expected = vec![owner.id, helper.id];
    expected.sort();
    assert_eq!(
        recipients, expected,
        "the owner and the collaborator (everyone's task)"
    );
    // R5: each reminder is on its recipient's timeline, by the system.
    for p in [&owner, &helper] {
        let timeline = f
            .service
            .timeline(&f.organizer, f.event, p.id, &TimelineFilter::default(), 100)
            .await
            .unwrap();
        let reminded: Vec<_> = timeline
            .iter()
            .filter(|e| e.kind == TimelineKind::ReminderSent { tasks: vec![t.id] })
            .map(|e| e.actor.clone())
            .collect();
        assert_eq!(reminded, [Actor::System], "reminder on the timeline");
    }
    assert!(
        sent.iter()
            .all(|r| r.1 == t.id && r.2 == week && r.3 == deadline)
    );
    assert_eq!(tick(&f).await.reminders, 0, "once per slot");
    f.clock.advance(Duration::hours(1));
    assert_eq!(tick(&f).await.reminders, 0, "still once");

    // The owner hands the task to the collaborator: the owner's next reminder goes to them.
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            t.id,
            helper.id,
        )
        .await
        .unwrap();
    f.clock.set(deadline - Duration::hours(20));
    tick(&f).await;
    let day_reminders: Vec<_> = reminders(&f)
        .await
        .into_iter()
        .filter(|r| r.2 == day)
        .collect();
    assert_eq!(
        day_reminders,
        vec![
            (helper.id, t.id, day, deadline),
            (helper.id, t.id, day, deadline)
        ],
        "the owner's row goes to the assignee, and the collaborator's own row too"
    );

    // Done: no overdue reminder for the owner's row; the collaborator's own row gets one.
    f.service
        .complete_task(&f.as_participant(&helper), f.event, owner.id, t.id)
        .await
        .unwrap();
    f.clock.set(deadline + Duration::hours(1));
    let late = tick(&f).await;
    assert_eq!(late.reminders, 1, "{late:?}");
    let overdue: Vec<_> = reminders(&f)
        .await
        .into_iter()
        .filter(|r| r.2 == ReminderSlot::Overdue)
        .collect();
    assert_eq!(
        overdue,
        vec![(helper.id, t.id, ReminderSlot::Overdue, deadline)]
    );
    assert_eq!(tick(&f).await.reminders, 0);
    let keys: BTreeSet<_> = f
        .outbox()
        .await
        .into_iter()
        .map(|e| e.idempotency_key)
        .collect();
    assert_eq!(
        keys.len(),
        f.outbox().await.len(),
        "distinct idempotency keys"
    );
}

/// N3: a host that was down past several offsets sends the one reminder still relevant,
/// not the stale ones; a moved deadline arms the reminders again; a task without a
/// deadline, a draft and a switched-off Tasks feature send nothing.
pub async fn n3_catch_up_and_moved_deadline<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let start = f.clock.now();
    let deadline = start + Duration::days(10);
    let t = task_due(&f, "Upload your logo", deadline).await;
    f.manual_task("No deadline", None).await;
    let mut draft = TaskConfig::manual(f.en.clone(), "Draft", Fixture::<S>::web());
    draft.deadline = Some(deadline);
    f.service
        .create_task(&f.organizer, f.event, draft)
        .await
        .unwrap();

    // Down from ten days before until two hours before: only "1 day before" goes out.
    f.clock.set(deadline - Duration::hours(2));
    let day = ReminderSlot::Before(ReminderOffset::days(1));
    let caught_up = tick(&f).await;
    assert_eq!(caught_up.reminders, 1, "{caught_up:?}");
    assert_eq!(reminders(&f).await, vec![(ann.id, t.id, day, deadline)]);

    // The organizer moves the deadline a week later: the reminders are armed again.
    let moved = deadline + Duration::days(7);
    let mut config = t.config.clone();
    config.deadline = Some(moved);
    f.service
        .update_task(&f.organizer, f.event, t.id, config)
        .await
        .unwrap();
    assert_eq!(
        tick(&f).await.reminders,
        0,
        "the new deadline is 7 days and 2 hours away"
    );
    f.clock.set(moved - Duration::days(7));
    tick(&f).await;
    f.clock.set(moved - Duration::days(1));
    tick(&f).await;
    assert_eq!(
        reminders(&f).await,
        vec![
            (ann.id, t.id, day, deadline),
            (
                ann.id,
                t.id,
                ReminderSlot::Before(ReminderOffset::days(7)),
                moved
            ),
            (ann.id, t.id, day, moved),
        ]
    );

    // The Tasks feature switched off: nothing is queued.
    f.change_settings(|settings| {
        settings.tasks_enabled = false;
        settings.reminders.overdue = true;
    })
    .await;
    f.clock.set(moved + Duration::hours(1));
    let before = f.dump().await;
    assert_eq!(tick(&f).await.reminders, 0);
    assert_eq!(
        f.dump().await,
        before,
        "a tick with nothing due writes nothing"
    );
}

/// N3: two ticks racing over the same participants queue each reminder once.
pub async fn n3_racing_ticks_send_once<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    for i in 0..12 {
        f.participant(&format!("p{i}"), &[]).await;
    }
    let deadline = f.clock.now() + Duration::hours(12);
    task_due(&f, "Confirm your badge", deadline).await;
    let (a, b) = tokio::join!(
        f.service.tick_reminders(&Actor::System, f.event),
        f.service.tick_reminders(&Actor::System, f.event),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.reminders + b.reminders, 12, "{a:?} {b:?}");
    let sent = reminders(&f).await;
    assert_eq!(sent.len(), 12);
    let recipients: BTreeSet<_> = sent.iter().map(|r| r.0).collect();
    assert_eq!(recipients.len(), 12, "one each");
}

/// N3: a deadline moved away and back is not reminded twice: the reminder sent for it the
/// first time still counts, and the tick that comes back to it sends nothing (it used to
/// queue the same reminder again and fail on its idempotency key).
pub async fn n3_a_deadline_moved_back_is_not_reminded_twice<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let deadline = f.clock.now() + Duration::days(10);
    let t = task_due(&f, "Upload your logo", deadline).await;
    let day = ReminderSlot::Before(ReminderOffset::days(1));
    f.clock.set(deadline - Duration::hours(2));
    assert_eq!(tick(&f).await.reminders, 1);
    let move_to = |at| {
        let mut config = t.config.clone();
        config.deadline = Some(at);
        let f = &f;
        async move {
            f.service
                .update_task(&f.organizer, f.event, t.id, config)
                .await
                .unwrap()
        }
    };
    let away = deadline + Duration::days(3);
    move_to(away).await;
    assert_eq!(
        tick(&f).await.reminders,
        1,
        "the week's reminder of the new deadline"
    );
    move_to(deadline).await;
    let again = tick(&f).await;
    assert_eq!(
        again.reminders, 0,
        "already reminded of this deadline: {again:?}"
    );
    let week = ReminderSlot::Before(ReminderOffset::days(7));
    assert_eq!(
        reminders(&f).await,
        vec![(ann.id, t.id, day, deadline), (ann.id, t.id, week, away)]
    );
}

/// The owners of the task's reminders that reached `recipient`.
fn reminded_owners(
    outbox: &[OutboxEntry],
    recipient: ParticipantId,
    task: TaskId,
) -> Vec<ParticipantId> {
    let mut owners: Vec<ParticipantId> = outbox
        .iter()
        .filter(|e| e.recipient == recipient)
        .flat_map(|e| e.message.reminder_items())
        .filter(|i| i.task == task)
        .map(|i| i.owner)
        .collect();
    owners.sort();
    owners.dedup();
    owners
}

/// N3, found by the properties: a collaborator who holds the same task twice
/// (their own row, and the row their team's owner handed them) is reminded of each, and
/// the reminder tick does not fail on the outbox's unique key.
pub async fn n3_a_collaborator_holding_a_task_twice_is_reminded_of_each<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, collaborator) = f.exhibitor_with_collaborator("acme").await;
    // For everyone (the collaborator too), due in 30 hours.
    let mut config = TaskConfig::manual(f.en.clone(), "Book your hotel", Fixture::<S>::web());
    config.deadline = Some(f.clock.now() + Duration::hours(30));
    let task = f.publish(config).await.id;
    f.clock.advance(Duration::hours(16));
    f.service
        .tick_reminders(&Actor::System, f.event)
        .await
        .expect("the first tick");
    assert_eq!(
        reminded_owners(&f.outbox().await, collaborator.id, task),
        vec![collaborator.id],
        "first, the collaborator is reminded of their own row"
    );
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            task,
            collaborator.id,
        )
        .await
        .expect("handed over");
    f.clock.advance(Duration::hours(2));
    f.service
        .tick_reminders(&Actor::System, f.event)
        .await
        .expect("the tick after the handover");
    let mut both = vec![owner.id, collaborator.id];
    both.sort();
    assert_eq!(
        reminded_owners(&f.outbox().await, collaborator.id, task),
        both,
        "then of the row they hold for the owner"
    );
    let queued = f.outbox().await.len();
    f.clock.advance(Duration::hours(1));
    f.service
        .tick_reminders(&Actor::System, f.event)
        .await
        .expect("a later tick");
    assert_eq!(f.outbox().await.len(), queued, "each reminder once");
}

/// N7: reminders for one recipient falling within the window of one due now go out as
/// one message; one outside the window goes out on its own, later.
pub async fn n7_reminders_close_together_are_grouped<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    f.change_settings(|settings| {
        settings.reminders.offsets = vec![ReminderOffset::days(1)];
    })
    .await;
    let ann = f.participant("ann", &[]).await;
    let start = f.clock.now();
    let first = start + Duration::days(3);
    let a = task_due(&f, "Upload your logo", first).await;
    let b = task_due(&f, "Book your stand", first + Duration::hours(4)).await;
    let c = task_due(&f, "Send your plan", first + Duration::days(2)).await;
    let day = ReminderSlot::Before(ReminderOffset::days(1));

    f.clock.set(first - Duration::days(1));
    let t = tick(&f).await;
    assert_eq!((t.reminders, t.messages), (2, 1), "{t:?}");
    let outbox = f.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].recipient, ann.id);
    assert_eq!(
        outbox[0].message,
        Notification::Reminders {
            items: vec![
                ReminderItem {
                    task: a.id,
                    owner: ann.id,
                    slot: day,
                    deadline: first
                },
                ReminderItem {
                    task: b.id,
                    owner: ann.id,
                    slot: day,
                    deadline: first + Duration::hours(4)
                },
            ]
        }
    );
    f.clock.set(first - Duration::days(1) + Duration::hours(4));
    assert_eq!(tick(&f).await.reminders, 0, "b went with a");
    f.clock.set(first + Duration::days(1));
    let t = tick(&f).await;
    assert_eq!((t.reminders, t.messages), (1, 1));
    assert_eq!(
        reminders(&f).await.last(),
        Some(&(ann.id, c.id, day, first + Duration::days(2)))
    );
}

/// N3: a tick looks only at what can be due. While every deadline is far off it looks at
/// nobody; once a task's reminder time comes, at the participants whose row of that task
/// is still to do (not those who did it, nor those it does not target); once they were
/// reminded, at nobody until the next slot, as each row keeps its next reminder.
pub async fn n3_a_tick_reads_only_rows_that_can_be_due<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let start = f.clock.now();
    let mut people = Vec::new();
    for i in 0..5 {
        people.push(f.participant(&format!("x{i}"), &["exhibitor"]).await);
    }
    let soon = task_due(&f, "Send your stand plan", start + Duration::days(10)).await;
    let later = task_due(&f, "Book your hotel", start + Duration::days(30)).await;
    let first = tick(&f).await;
    assert_eq!(
        (first.participants, first.reminders),
        (0, 0),
        "every deadline far off: nobody looked at"
    );
    for p in &people[..2] {
        f.service
            .complete_task(&f.as_participant(p), f.event, p.id, soon.id)
            .await
            .unwrap();
    }
    // A week before the first deadline: its rows still to do are reminded; the second
    // task is three weeks off and its rows are not read for themselves.
    f.clock.set(start + Duration::days(3));
    let due = tick(&f).await;
    assert_eq!(
        (due.participants, due.reminders, due.messages),
        (3, 3, 3),
        "the three who have not done it: {due:?}"
    );
    let sent = reminders(&f).await;
    assert!(sent.iter().all(|r| r.1 == soon.id), "{sent:?}");
    let mut reminded: Vec<_> = sent.iter().map(|r| r.0).collect();
    reminded.sort();
    let mut expected: Vec<_> = people[2..].iter().map(|p| p.id).collect();
    expected.sort();
    assert_eq!(reminded, expected);
    // Marked: each row's next reminder is the day before the deadline, so the next tick
    // reads none of them; the done rows have none.
    let dump = f.dump().await;
    for p in &people {
        let row = &state_in(&dump, p).progress[&soon.id];
        let expected = (!row.is_done()).then(|| start + Duration::days(9));
        assert_eq!(row.next_reminder_at, expected, "{row:?}");
    }
    let again = tick(&f).await;
    assert_eq!((again.participants, again.reminders), (0, 0), "{again:?}");
    f.clock.set(start + Duration::days(9));
    let last = tick(&f).await;
    assert_eq!(
        (last.participants, last.reminders),
        (3, 3),
        "the day before: {last:?}"
    );
    assert_eq!(later.config.deadline, Some(start + Duration::days(30)));
}

/// N3: a row stored before the library kept each row's next reminder (it reads as due
/// since 1970) is read by the next tick whose reminder time has come, sent
/// nothing if nothing is due, and given its next reminder, so the tick after reads it no
/// more; a store's `rows_due` never returns a row whose next reminder is still to come.
pub async fn n3_a_row_stored_without_its_next_reminder_gets_it_once<S: DumpStore>(store: S) {
    let store = std::sync::Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let start = f.clock.now();
    let ann = f.participant("ann", &["exhibitor"]).await;
    let bob = f.participant("bob", &["exhibitor"]).await;
    let task = task_due(&f, "Send your stand plan", start + Duration::days(10)).await;
    f.clock.set(start + Duration::days(3));
    assert_eq!(tick(&f).await.reminders, 2, "the week before");
    // Ann's row as an older library stored it: no next reminder kept.
    let dump = f.dump().await;
    let state = state_in(&dump, &ann);
    let mut row = state.progress[&task.id].clone();
    assert_eq!(row.next_reminder_at, Some(start + Duration::days(9)));
    row.next_reminder_at = Some(Progress::UNKNOWN_NEXT_REMINDER);
    let mut cs = store::ChangeSet::new(f.event);
    cs.participants.push(store::ParticipantWrite {
        id: ann.id,
        version: state.version + 1,
        record: None,
        facts: None,
        progress: vec![row],
    });
    store.apply(cs).await.unwrap();
    let now = f.clock.now();
    let found = store
        .rows_due(f.event, task.id, now, None, 10)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|r| r.owner).collect::<Vec<_>>(),
        vec![ann.id],
        "only the row without its next reminder"
    );
    let t = tick(&f).await;
    assert_eq!((t.participants, t.reminders), (1, 0), "{t:?}");
    let dump = f.dump().await;
    let kept = &state_in(&dump, &ann).progress[&task.id];
    assert_eq!(kept.next_reminder_at, Some(start + Duration::days(9)));
    let t = tick(&f).await;
    assert_eq!((t.participants, t.reminders), (0, 0), "{t:?}");
    f.clock.set(start + Duration::days(9));
    let found = store
        .rows_due(f.event, task.id, f.clock.now(), None, 10)
        .await
        .unwrap();
    let mut owners: Vec<_> = found.iter().map(|r| r.owner).collect();
    owners.sort();
    let mut both = vec![ann.id, bob.id];
    both.sort();
    assert_eq!(owners, both, "the day before: both");
    assert_eq!(tick(&f).await.reminders, 2);
}
