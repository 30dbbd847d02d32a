//! Which notices rows get (N1, N3, N7, B5): a publication notice once per row, the
//! reminders due on a page of participants, and who an organizer's nudge reaches. Pure:
//! over the participants' records, their rows, the tasks and the event's settings; the
//! schedule itself (slots, marks, grouping) is `notify::schedule`'s.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Progress, ProgressStatus, is_visible};
use crate::event::EventSettings;
use crate::ids::{ParticipantId, TaskId};
use crate::notify::{Notification, ReminderItem, ReminderMark, ReminderSlot, due_reminder};
use crate::participant::Participant;
use crate::task::Task;

/// The tasks of a publication whose participants get a notice (N1): those set to notify
/// on publishing, in the order given.
pub(crate) fn notified_on_publish(tasks: &[Task]) -> Vec<TaskId> {
    tasks
        .iter()
        .filter(|t| t.config.notify_on_publish)
        .map(|t| t.id)
        .collect()
}

/// The publication notice one participant gets for `tasks` (N1), all in one (N7): every
/// task of theirs targeting them whose notice has not gone out yet, whoever created the
/// row (another operation may have reached them before the sweep did). Marks those rows
/// as noticed, so each notice goes out once. `None` when nothing is left to tell.
pub(crate) fn publication_notice(
    rows: &mut BTreeMap<TaskId, Progress>,
    tasks: &[TaskId],
) -> Option<Notification> {
    let mut told = Vec::new();
    for task in tasks {
        if let Some(row) = rows.get_mut(task)
            && row.targeted
            && !row.noticed
        {
            row.noticed = true;
            told.push(*task);
        }
    }
    (!told.is_empty()).then_some(Notification::Publication { tasks: told })
}

/// The reminders going to one recipient in one message (N7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReminderGroup {
    /// Who gets them: the holder of each task.
    pub(crate) recipient: ParticipantId,
    /// The reminders, by deadline then task (never empty).
    pub(crate) items: Vec<ReminderItem>,
}

impl ReminderGroup {
    /// The group's message and its idempotency key (`Notification::reminders_to`).
    pub(crate) fn message(&self) -> (Notification, String) {
        Notification::reminders_to(self.recipient, &self.items)
    }

    /// The mark each reminder leaves on its row once sent, so it goes out once (N3).
    pub(crate) fn marks(&self) -> impl Iterator<Item = (&ReminderItem, ReminderMark)> {
        self.items
            .iter()
            .map(|item| (item, item.mark(self.recipient)))
    }
}

/// The reminders due at `now` over a page of (owner, row) pairs (N3), grouped per
/// recipient with those due by `soon` (N7). A row is reminded when its task (in `tasks`)
/// is visible to its owner, still to do (a submission waiting for review is the
/// organizer's to finish) and has a deadline, by the task's offsets or else the event's,
/// to whoever holds it; each (recipient, slot, deadline) once. Nothing while the event's
/// Tasks feature is off, nor for an erased participant (X6).
pub(crate) fn due_reminders<'a>(
    pairs: impl IntoIterator<Item = (&'a Participant, &'a Progress)>,
    tasks: &BTreeMap<TaskId, Task>,
    settings: &EventSettings,
    now: DateTime<Utc>,
    soon: DateTime<Utc>,
) -> Vec<ReminderGroup> {
    if !settings.tasks_enabled {
        return Vec::new();
    }
    let candidates = pairs
        .into_iter()
        .filter(|(owner, _)| owner.erased_at.is_none())
        .filter_map(|(_, row)| {
            let task = tasks.get(&row.task)?;
            let deadline = task
                .config
                .deadline
                .filter(|_| is_visible(task, row) && row.status == ProgressStatus::Todo)?;
            let recipient = row.reminder_recipient();
            let (slot, due_now) = ReminderSlot::next_for(
                recipient,
                deadline,
                task.reminder_offsets(&settings.reminders),
                settings.reminders.overdue,
                &row.reminded,
                now,
                soon,
            )?;
            let item = ReminderItem {
                task: row.task,
                owner: row.owner,
                slot,
                deadline,
            };
            Some((recipient, item, due_now))
        });
    ReminderItem::group(candidates)
        .into_iter()
        .map(|(recipient, items)| ReminderGroup { recipient, items })
        .collect()
}

/// The tasks whose reminders may be due at `now` (N3): published, with a deadline, and a
/// slot of theirs (an offset before the deadline, or overdue when the event asks for it)
/// already reached. Only rows of these tasks can be due now, and a recipient gets nothing
/// unless one of theirs is due now (N7), so a tick reads nothing else: with every
/// deadline far off, a tick costs the configuration alone. Empty while the event's Tasks
/// feature is off.
pub(crate) fn tasks_due_for_reminders(
    tasks: &BTreeMap<TaskId, Task>,
    settings: &EventSettings,
    now: DateTime<Utc>,
) -> Vec<TaskId> {
    if !settings.tasks_enabled {
        return Vec::new();
    }
    tasks
        .values()
        .filter(|t| t.is_published())
        .filter(|t| {
            t.config.deadline.is_some_and(|deadline| {
                due_reminder(
                    deadline,
                    t.reminder_offsets(&settings.reminders),
                    settings.reminders.overdue,
                    now,
                )
                .is_some()
            })
        })
        .map(|t| t.id)
        .collect()
}

/// Whether `row` of `task` has a reminder due now (N3), as [`due_reminders`] decides it:
/// visible, still to do, with a deadline, and the slot reached at `now` not yet sent to
/// whoever holds it. The tick loads the states of these rows' owners only; the owner's
/// erasure and the grouping (N7) are decided on those states.
pub(crate) fn reminder_due_now(
    task: &Task,
    row: &Progress,
    settings: &EventSettings,
    now: DateTime<Utc>,
) -> bool {
    let Some(deadline) = task
        .config
        .deadline
        .filter(|_| settings.tasks_enabled && is_visible(task, row))
        .filter(|_| row.status == ProgressStatus::Todo)
    else {
        return false;
    };
    ReminderSlot::next_for(
        row.reminder_recipient(),
        deadline,
        task.reminder_offsets(&settings.reminders),
        settings.reminders.overdue,
        &row.reminded,
        now,
        now,
    )
    .is_some_and(|(_, due_now)| due_now)
}

/// The deadline of `row` of `task` as resolved for its participant: what
/// [`Progress::due_at`] keeps. Today every participant has the task's deadline; a rule
/// that resolves another per participant changes this function, not the stores.
pub(crate) fn resolved_deadline(task: &Task, _row: &Progress) -> Option<DateTime<Utc>> {
    task.config.deadline
}

/// When a reminder of `row` of `task` can next fall due (N3): what
/// [`Progress::next_reminder_at`] keeps. `None` when the row is not visible, not to do,
/// or its task has no deadline or no slot left for the holder; the event's Tasks switch is
/// not looked at (the tick is, so switching it back on finds every row as it was).
pub(crate) fn next_reminder_at(
    task: &Task,
    row: &Progress,
    settings: &EventSettings,
) -> Option<DateTime<Utc>> {
    let deadline = task
        .config
        .deadline
        .filter(|_| is_visible(task, row) && row.status == ProgressStatus::Todo)?;
    ReminderSlot::next_due(
        row.reminder_recipient(),
        deadline,
        task.reminder_offsets(&settings.reminders),
        settings.reminders.overdue,
        &row.reminded,
    )
}

/// Who an organizer's "remind now" of a row reaches (B5): whoever holds the task, when
/// it is still to do (not done, not waiting for review) and its owner was not erased
/// (X6).
pub(crate) fn nudge_recipient(owner: &Participant, row: &Progress) -> Option<ParticipantId> {
    (owner.erased_at.is_none() && row.status == ProgressStatus::Todo)
        .then(|| row.reminder_recipient())
}

impl Progress {
    /// Keeps the mark of a reminder sent (N3). Marks of other deadlines stay, so a
    /// deadline moved back to one already reminded of is not reminded again; beyond
    /// [`Progress::MAX_REMINDER_MARKS`] the oldest go first.
    pub(crate) fn mark_reminded(&mut self, mark: ReminderMark) {
        let extra = (self.reminded.len() + 1).saturating_sub(Progress::MAX_REMINDER_MARKS);
        self.reminded.drain(..extra);
        self.reminded.push(mark);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, ExternalId};
    use crate::notify::{ReminderOffset, ReminderSlot};
    use crate::task::{HelpLink, TaskConfig, TaskState};
    use crate::text::Language;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn person(n: i64, erased: bool) -> Participant {
        Participant {
            id: ParticipantId::new_at(at(n)),
            event: EventId::min(),
            external_id: ExternalId::new(format!("p{n}")).unwrap(),
            profile: Default::default(),
            status: Default::default(),
            utm: Default::default(),
            custom_fields: BTreeMap::new(),
            networking: Default::default(),
            owner: None,
            push_subscriptions: Vec::new(),
            notifications: Default::default(),
            registered_at: at(n),
            erased_at: erased.then(|| at(n)),
            record_version: 0,
        }
    }

    fn task(n: i64, deadline: Option<i64>, state: TaskState, notify: bool) -> Task {
        let en = Language::new("en").unwrap();
        let help = HelpLink::WebPage {
            url: "https://x.org".into(),
        };
        let mut config = TaskConfig::manual(en, "t", help);
        config.deadline = deadline.map(at);
        config.notify_on_publish = notify;
        Task {
            id: TaskId::new_at(at(n)),
            event: EventId::min(),
            config,
            state,
            created_at: at(0),
            updated_at: at(0),
            published_at: None,
            version: 1,
        }
    }

    const DAY: i64 = 24 * 3600;

    /// One row of the reminder table: owner, task, status, targeted, held by, and the
    /// slot it is reminded of.
    type Row<'a> = (
        &'a Participant,
        &'a Task,
        ProgressStatus,
        bool,
        Option<ParticipantId>,
        Option<ReminderSlot>,
    );

    /// N3: which tasks a tick reads: published ones with a deadline whose first slot
    /// (the task's offsets, else the event's, or overdue when asked) has been reached.
    #[test]
    fn n3_which_tasks_a_tick_reads() {
        let mut settings = crate::event::EventSettings::new("Expo", Language::new("en").unwrap());
        settings.reminders.offsets = vec![ReminderOffset::days(1)];
        let now = at(0);
        let mut own = task(6, Some(2 * DAY), TaskState::Published, false);
        own.config.reminder_offsets = Some(vec![ReminderOffset::days(3)]);
        // (task, overdue reminders on, read by the tick)
        let cases = [
            (
                task(1, Some(DAY / 2), TaskState::Published, false),
                false,
                true,
            ),
            (
                task(2, Some(2 * DAY), TaskState::Published, false),
                false,
                false,
            ),
            (task(3, None, TaskState::Published, false), true, false),
            (
                task(4, Some(DAY / 2), TaskState::Archived, false),
                false,
                false,
            ),
            (
                task(5, Some(DAY / 2), TaskState::Draft, false),
                false,
                false,
            ),
            (own, false, true),
            (
                task(7, Some(-DAY), TaskState::Published, false),
                false,
                false,
            ),
            (task(8, Some(-DAY), TaskState::Published, false), true, true),
        ];
        for (t, overdue, read) in cases {
            settings.reminders.overdue = overdue;
            let tasks: BTreeMap<TaskId, Task> = [(t.id, t.clone())].into();
            let got = tasks_due_for_reminders(&tasks, &settings, now);
            assert_eq!(
                got == vec![t.id],
                read,
                "{:?} {:?} overdue {overdue}",
                t.state,
                t.config.deadline
            );
        }
        settings.tasks_enabled = false;
        let t = task(1, Some(DAY / 2), TaskState::Published, false);
        assert!(tasks_due_for_reminders(&[(t.id, t)].into(), &settings, now).is_empty());
    }

    /// N3: a row is due now while the slot reached is unsent to its holder, and not once
    /// it is marked, done, untargeted, or waiting for review.
    #[test]
    fn n3_a_row_due_now() {
        let mut settings = crate::event::EventSettings::new("Expo", Language::new("en").unwrap());
        settings.reminders.offsets = vec![ReminderOffset::days(1)];
        let now = at(0);
        let t = task(1, Some(DAY / 2), TaskState::Published, false);
        let owner = person(2, false).id;
        let fresh = Progress::new(t.id, owner, at(0));
        let mut marked = fresh.clone();
        marked.mark_reminded(ReminderMark {
            slot: ReminderSlot::Before(ReminderOffset::days(1)),
            recipient: owner,
            deadline: at(DAY / 2),
        });
        let mut done = fresh.clone();
        done.status = ProgressStatus::Done;
        let mut review = fresh.clone();
        review.status = ProgressStatus::AwaitingReview;
        let mut untargeted = fresh.clone();
        untargeted.targeted = false;
        for (row, due, case) in [
            (&fresh, true, "unsent"),
            (&marked, false, "marked"),
            (&done, false, "done"),
            (&review, false, "awaiting review"),
            (&untargeted, false, "not targeted"),
        ] {
            assert_eq!(reminder_due_now(&t, row, &settings, now), due, "{case}");
        }
        let far = task(3, Some(3 * DAY), TaskState::Published, false);
        assert!(!reminder_due_now(
            &far,
            &Progress::new(far.id, owner, at(0)),
            &settings,
            now
        ));
    }

    /// N3, N7, X6: which rows of a page are reminded, of what, and to whom.
    #[test]
    fn n3_which_rows_are_reminded() {
        use ProgressStatus::{AwaitingReview, Done, Todo};
        let owner = person(1, false);
        let other = person(2, false);
        let erased = person(3, true);
        let holder = person(4, false).id;
        // One row per (owner, task), as in a store.
        let (done, submitted, elsewhere) = (person(5, false), person(6, false), person(7, false));
        // Deadlines in two days (the one-day reminder is due within the 36-hour window
        // only), in 12 hours (due now), or none; a task with its own three-day offset.
        let soon_due = task(10, Some(2 * DAY), TaskState::Published, false);
        let due = task(11, Some(DAY / 2), TaskState::Published, false);
        let no_deadline = task(12, None, TaskState::Published, false);
        let archived = task(13, Some(DAY / 2), TaskState::Archived, false);
        let mut own_offsets = task(14, Some(2 * DAY), TaskState::Published, false);
        own_offsets.config.reminder_offsets = Some(vec![ReminderOffset::days(3)]);
        let tasks: BTreeMap<TaskId, Task> =
            [&soon_due, &due, &no_deadline, &archived, &own_offsets]
                .into_iter()
                .map(|t| (t.id, t.clone()))
                .collect();
        let mut settings = crate::event::EventSettings::new("Expo", Language::new("en").unwrap());
        settings.reminders.offsets = vec![ReminderOffset::days(1)];
        let now = at(0);
        let soon = now + chrono::Duration::hours(36);
        let d1 = ReminderSlot::Before(ReminderOffset::days(1));
        let d3 = ReminderSlot::Before(ReminderOffset::days(3));
        // (owner, task, status, targeted, held by, reminded: its slot)
        let table: Vec<Row> = vec![
            (&owner, &due, Todo, true, None, Some(d1)),
            (&owner, &soon_due, Todo, true, None, Some(d1)),
            (&owner, &own_offsets, Todo, true, None, Some(d3)),
            (&owner, &no_deadline, Todo, true, None, None),
            (&owner, &archived, Todo, true, None, None),
            (&done, &due, Done, true, None, None),
            (&submitted, &due, AwaitingReview, true, None, None),
            (&elsewhere, &due, Todo, false, None, None),
            (&erased, &due, Todo, true, None, None),
            (&other, &soon_due, Todo, true, Some(holder), Some(d1)),
            (&other, &due, Todo, true, Some(holder), Some(d1)),
        ];
        let rows: Vec<(&Participant, Progress)> = table
            .iter()
            .map(|(p, t, status, targeted, held, _)| {
                let mut row = Progress::new(t.id, p.id, at(0));
                row.status = *status;
                row.targeted = *targeted;
                row.assignee = *held;
                (*p, row)
            })
            .collect();
        let groups = due_reminders(
            rows.iter().map(|(p, r)| (*p, r)),
            &tasks,
            &settings,
            now,
            soon,
        );
        let mut got: Vec<(ParticipantId, TaskId, ReminderSlot)> = groups
            .iter()
            .flat_map(|g| g.items.iter().map(|i| (g.recipient, i.task, i.slot)))
            .collect();
        got.sort();
        let mut want: Vec<(ParticipantId, TaskId, ReminderSlot)> = table
            .iter()
            .filter_map(|(p, t, _, _, held, slot)| slot.map(|s| (held.unwrap_or(p.id), t.id, s)))
            .collect();
        want.sort();
        assert_eq!(got, want);
        // One message per recipient, items by deadline.
        let recipients: Vec<ParticipantId> = groups.iter().map(|g| g.recipient).collect();
        assert_eq!(recipients, [owner.id, holder]);
        assert_eq!(
            groups[0].items[0].task, due.id,
            "the nearest deadline first"
        );

        // Sent once: the marks a group leaves stop it on the next tick.
        let mut marked = rows.clone();
        for g in &groups {
            for (item, mark) in g.marks() {
                let (_, row) = marked
                    .iter_mut()
                    .find(|(p, r)| p.id == item.owner && r.task == item.task)
                    .unwrap();
                row.mark_reminded(mark);
            }
        }
        let again = due_reminders(
            marked.iter().map(|(p, r)| (*p, r)),
            &tasks,
            &settings,
            now,
            soon,
        );
        assert!(again.is_empty(), "{again:?}");

        // Only the window's reminders: nothing goes.
        let window_only = [(&owner, &rows[1].1)];
        assert!(due_reminders(window_only, &tasks, &settings, now, soon).is_empty());

        settings.tasks_enabled = false;
        let off = due_reminders(
            rows.iter().map(|(p, r)| (*p, r)),
            &tasks,
            &settings,
            now,
            soon,
        );
        assert!(off.is_empty(), "T2: nothing while the Tasks feature is off");
    }

    /// N1, N7: one notice per participant for the tasks of a publication that target
    /// them and were not told yet; each is told once.
    #[test]
    fn n1_publication_notices_go_out_once() {
        let owner = ParticipantId::new_at(at(1));
        let (a, b, c, d) = (
            TaskId::new_at(at(10)),
            TaskId::new_at(at(11)),
            TaskId::new_at(at(12)),
            TaskId::new_at(at(13)),
        );
        // (task, targeted, noticed already)
        let table: Vec<(TaskId, bool, bool)> =
            vec![(a, true, false), (b, false, false), (c, true, true)];
        let mut rows: BTreeMap<TaskId, Progress> = table
            .iter()
            .map(|(t, targeted, noticed)| {
                let mut row = Progress::new(*t, owner, at(0));
                row.targeted = *targeted;
                row.noticed = *noticed;
                (*t, row)
            })
            .collect();
        // (the publication's tasks, the notice)
        let runs: Vec<(Vec<TaskId>, Option<Vec<TaskId>>)> = vec![
            (vec![d], None),
            (vec![b, c], None),
            (vec![c, a, b, d], Some(vec![a])),
            (vec![a], None),
        ];
        for (tasks, want) in runs {
            let got = publication_notice(&mut rows, &tasks);
            let want = want.map(|tasks| Notification::Publication { tasks });
            assert_eq!(got, want, "{tasks:?}");
        }
        assert!(rows[&a].noticed && !rows[&b].noticed);

        let published = [
            task(1, None, TaskState::Published, true),
            task(2, None, TaskState::Published, false),
            task(3, None, TaskState::Published, true),
        ];
        assert_eq!(
            notified_on_publish(&published),
            [published[0].id, published[2].id]
        );
    }

    /// B5, X6: an organizer's nudge reaches the holder of a task still to do.
    #[test]
    fn b5_who_a_nudge_reaches() {
        let owner = person(1, false);
        let erased = person(2, true);
        let holder = ParticipantId::new_at(at(3));
        // (owner, status, held by, reached)
        type Nudge<'a> = (
            &'a Participant,
            ProgressStatus,
            Option<ParticipantId>,
            Option<ParticipantId>,
        );
        let table: Vec<Nudge> = vec![
            (&owner, ProgressStatus::Todo, None, Some(owner.id)),
            (&owner, ProgressStatus::Todo, Some(holder), Some(holder)),
            (&owner, ProgressStatus::Done, None, None),
            (&owner, ProgressStatus::AwaitingReview, Some(holder), None),
            (&erased, ProgressStatus::Todo, None, None),
        ];
        for (p, status, held, want) in table {
            let mut row = Progress::new(TaskId::new_at(at(9)), p.id, at(0));
            row.status = status;
            row.assignee = held;
            assert_eq!(nudge_recipient(p, &row), want, "{status:?} {held:?}");
        }
    }

    /// N3: a row keeps at most `MAX_REMINDER_MARKS`, the oldest going first.
    #[test]
    fn n3_reminder_marks_are_bounded() {
        let owner = ParticipantId::new_at(at(1));
        let mut row = Progress::new(TaskId::new_at(at(2)), owner, at(0));
        let mark = |n: i64| crate::notify::ReminderMark {
            slot: ReminderSlot::Overdue,
            recipient: owner,
            deadline: at(n),
        };
        let max = Progress::MAX_REMINDER_MARKS as i64;
        for n in 0..max + 3 {
            row.mark_reminded(mark(n));
        }
        assert_eq!(row.reminded.len(), Progress::MAX_REMINDER_MARKS);
        assert_eq!(row.reminded[0], mark(3));
        assert_eq!(row.reminded.last(), Some(&mark(max + 2)));
    }
}
