//! The participant's Tasks section (P1, P2, P5): one line per task they own or hold, in
//! the P1 order, and the summaries of what is done. Pure: built from the rows, the tasks
//! and the event's settings at a time.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{Completion, Progress, ProgressStatus, Rejection, is_overdue, is_visible};
use crate::event::EventSettings;
use crate::ids::{ParticipantId, TaskId};
use crate::participant::Participant;
use crate::task::{HelpLink, Task};
use crate::text::Language;

/// One line of a participant's task list (P1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskItem {
    /// The task.
    pub task: TaskId,
    /// Whose task it is (the list's reader, or the collaborator who assigned it to them).
    pub owner: ParticipantId,
    /// The name in the reader's language.
    pub name: String,
    /// The description in the reader's language.
    pub description: String,
    /// The deadline (UTC; show it in [`TaskList::time_zone`]).
    pub deadline: Option<DateTime<Utc>>,
    /// Seconds left before the deadline (negative once passed) (P5).
    pub seconds_left: Option<i64>,
    /// Deadline passed and not done (P5).
    pub overdue: bool,
    /// Done or to do.
    pub status: ProgressStatus,
    /// Who completed it, when and how.
    pub completion: Option<Completion>,
    /// Whether the reader can tick it (manual tasks only, P3).
    pub manual: bool,
    /// Whether completing it submits it to the organizer's review (T3).
    pub review: bool,
    /// Why the organizer refused the last submission, if they did (T3).
    pub rejection: Option<Rejection>,
    /// Where to go to do it.
    pub help: HelpLink,
    /// The collaborator holding it, if assigned (P4).
    pub assignee: Option<ParticipantId>,
    /// Display position.
    pub position: i32,
}

/// Done / total and percent (P2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProgressSummary {
    /// Tasks done.
    pub done: u32,
    /// Tasks in all.
    pub total: u32,
    /// `done * 100 / total`, rounded down; 0 when there is no task.
    pub percent: u8,
}

impl ProgressSummary {
    /// Computes the summary of `done` out of `total`.
    pub fn new(done: u32, total: u32) -> Self {
        let percent = if total == 0 {
            0
        } else {
            u8::try_from(u64::from(done) * 100 / u64::from(total)).unwrap_or(100)
        };
        Self {
            done,
            total,
            percent,
        }
    }
}

/// A participant's Tasks section (P1, P2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskList {
    /// Whether the event's Tasks feature is on; when off, `items` is empty and the host
    /// shows no Tasks section (T2).
    pub tasks_enabled: bool,
    /// The event's time zone, to show deadlines in.
    pub time_zone: Tz,
    /// The tasks the reader owns and those assigned to them, ordered by position, then
    /// deadline (tasks without a deadline last), then name.
    pub items: Vec<TaskItem>,
    /// Progress over the tasks the reader owns. Tasks handed to a collaborator still
    /// count here: they remain the owner's obligation.
    pub summary: ProgressSummary,
    /// Progress over the tasks others assigned to the reader (they count in their
    /// owners' summaries, not in `summary`).
    pub assigned_to_me: ProgressSummary,
}

impl TaskItem {
    /// The line of `task` for `row`, in `language`, as it stands at `now` (P1, P5).
    pub(crate) fn new(
        task: &Task,
        row: &Progress,
        language: &Language,
        settings: &EventSettings,
        now: DateTime<Utc>,
    ) -> Self {
        let text = task.text(language, settings);
        TaskItem {
            task: task.id,
            owner: row.owner,
            name: text.name.clone(),
            description: text.description.clone(),
            deadline: task.config.deadline,
            seconds_left: task.config.deadline.map(|d| (d - now).num_seconds()),
            overdue: is_overdue(task.config.deadline, row.status, now),
            status: row.status,
            completion: row.completion.clone(),
            manual: task.condition().is_none(),
            review: task.config.review,
            rejection: row.rejection.clone(),
            help: task.config.help.clone(),
            assignee: row.assignee,
            position: task.config.position,
        }
    }

    /// The P1 order: by position, then deadline (tasks without a deadline last), then
    /// name, then task id (so two lines never tie).
    pub(crate) fn p1_order(a: &TaskItem, b: &TaskItem) -> Ordering {
        a.p1_key().cmp(&b.p1_key())
    }

    fn p1_key(&self) -> (i32, bool, Option<DateTime<Utc>>, &str, TaskId) {
        (
            self.position,
            self.deadline.is_none(),
            self.deadline,
            &self.name,
            self.task,
        )
    }
}

impl TaskList {
    /// The Tasks section of `reader` (P1, P2, P5): the visible rows of `own` (the tasks
    /// they own) and those of `assigned` that others own (the tasks handed to them),
    /// each in the reader's language, in the P1 order, with a summary of each. Rows whose
    /// task is gone are left out. With the event's Tasks feature off the list is empty.
    pub(crate) fn build<'a>(
        reader: &Participant,
        settings: &EventSettings,
        tasks: &BTreeMap<TaskId, Task>,
        own: impl IntoIterator<Item = &'a Progress>,
        assigned: impl IntoIterator<Item = &'a Progress>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut list = TaskList {
            tasks_enabled: settings.tasks_enabled,
            time_zone: settings.time_zone,
            items: Vec::new(),
            summary: ProgressSummary::default(),
            assigned_to_me: ProgressSummary::default(),
        };
        if !settings.tasks_enabled {
            return list;
        }
        let language = settings.language_for(reader.status.language.as_ref());
        let mut lines = |rows: &mut dyn Iterator<Item = &'a Progress>, others_only: bool| {
            let (mut done, mut total) = (0u32, 0u32);
            for row in rows {
                let Some(task) = tasks.get(&row.task) else {
                    continue;
                };
                if (!others_only || row.owner != reader.id) && is_visible(task, row) {
                    total += 1;
                    done += u32::from(row.is_done());
                    list.items
                        .push(TaskItem::new(task, row, language, settings, now));
                }
            }
            ProgressSummary::new(done, total)
        };
        let summary = lines(&mut own.into_iter(), false);
        let assigned_to_me = lines(&mut assigned.into_iter(), true);
        list.summary = summary;
        list.assigned_to_me = assigned_to_me;
        list.items.sort_by(TaskItem::p1_order);
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, ExternalId};
    use crate::task::{Condition, TaskConfig, TaskState};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn settings() -> EventSettings {
        EventSettings::new("Expo", Language::new("en").unwrap())
    }

    fn person(n: i64) -> Participant {
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
            erased_at: None,
            record_version: 0,
        }
    }

    fn task(n: i64, name: &str, position: i32, deadline: Option<i64>, state: TaskState) -> Task {
        let en = Language::new("en").unwrap();
        let help = HelpLink::WebPage {
            url: "https://x.org".into(),
        };
        let mut config = TaskConfig::manual(en, name, help);
        config.position = position;
        config.deadline = deadline.map(at);
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

    fn row(task: &Task, owner: &Participant, status: ProgressStatus) -> Progress {
        let mut row = Progress::new(task.id, owner.id, at(0));
        row.status = status;
        row
    }

    /// P1: by position, then deadline (none last), then name, then id.
    #[test]
    fn p1_order_by_position_deadline_then_name() {
        use TaskState::Published as P;
        // (task, its name, position, deadline)
        let table: Vec<(i64, &str, i32, Option<i64>)> = vec![
            (1, "b", 2, None),
            (2, "a", 2, None),
            (3, "z", 1, Some(500)),
            (4, "y", 1, Some(100)),
            (5, "x", 1, None),
            (6, "w", 0, None),
            (7, "a", 2, None),
            (8, "c", 2, Some(900)),
        ];
        // The expected order of the table's tasks.
        let want = [6, 4, 3, 5, 8, 2, 7, 1];
        let reader = person(0);
        let made: BTreeMap<i64, Task> = table
            .iter()
            .map(|(n, name, pos, dl)| (*n, task(*n, name, *pos, *dl, P)))
            .collect();
        let tasks: BTreeMap<TaskId, Task> = made.values().map(|t| (t.id, t.clone())).collect();
        let rows: Vec<Progress> = tasks
            .values()
            .map(|t| row(t, &reader, ProgressStatus::Todo))
            .collect();
        let list = TaskList::build(&reader, &settings(), &tasks, &rows, [], at(0));
        let got: Vec<TaskId> = list.items.iter().map(|i| i.task).collect();
        let want: Vec<TaskId> = want.iter().map(|n| made[n].id).collect();
        assert_eq!(got, want);
    }

    /// P2: which rows count in which summary, and which show at all.
    #[test]
    fn p2_what_counts_in_each_summary() {
        use ProgressStatus::{AwaitingReview, Done, Todo};
        let reader = person(0);
        let owner = person(1);
        let published = task(10, "t", 0, None, TaskState::Published);
        let draft = task(11, "d", 0, None, TaskState::Draft);
        let archived = task(12, "a", 0, None, TaskState::Archived);
        let gone = task(13, "g", 0, None, TaskState::Published);
        let tasks: BTreeMap<TaskId, Task> = [&published, &draft, &archived]
            .into_iter()
            .map(|t| (t.id, t.clone()))
            .collect();
        // (the row's task, owned by the reader, targeted, status, shown)
        let table: Vec<(&Task, bool, bool, ProgressStatus, bool)> = vec![
            (&published, true, true, Done, true),
            (&published, true, true, Todo, true),
            (&published, true, true, AwaitingReview, true),
            (&published, true, false, Done, false),
            (&draft, true, true, Done, false),
            (&archived, true, true, Done, false),
            (&gone, true, true, Done, false),
            (&published, false, true, Done, true),
            (&published, false, true, Todo, true),
            (&published, false, false, Todo, false),
            (&draft, false, true, Todo, false),
        ];
        let (mut own, mut held) = (Vec::new(), Vec::new());
        let mut want_own = (0, 0);
        let mut want_held = (0, 0);
        for (t, mine, targeted, status, shown) in &table {
            let mut r = row(t, if *mine { &reader } else { &owner }, *status);
            r.targeted = *targeted;
            let (rows, want) = if *mine {
                (&mut own, &mut want_own)
            } else {
                (&mut held, &mut want_held)
            };
            rows.push(r);
            if *shown {
                want.1 += 1;
                want.0 += u32::from(*status == Done);
            }
        }
        // A row of the reader's own among those assigned to them is not counted twice.
        held.push(own[0].clone());
        let list = TaskList::build(&reader, &settings(), &tasks, &own, &held, at(0));
        assert_eq!(list.summary, ProgressSummary::new(want_own.0, want_own.1));
        assert_eq!((want_own.0, want_own.1), (1, 3));
        assert_eq!(
            list.assigned_to_me,
            ProgressSummary::new(want_held.0, want_held.1)
        );
        assert_eq!((want_held.0, want_held.1), (1, 2));
        assert_eq!(list.items.len(), 5);

        let mut off = settings();
        off.tasks_enabled = false;
        let list = TaskList::build(&reader, &off, &tasks, &own, &held, at(0));
        assert!(!list.tasks_enabled && list.items.is_empty());
        assert_eq!(list.summary, ProgressSummary::default());
    }

    /// P5: a line says how long is left, and whether it is overdue; P3: whether it can
    /// be ticked.
    #[test]
    fn p5_a_line_counts_down_to_its_deadline() {
        let reader = person(0);
        // (deadline, status, seconds left, overdue)
        let table: Vec<(Option<i64>, ProgressStatus, Option<i64>, bool)> = vec![
            (Some(100), ProgressStatus::Todo, Some(50), false),
            (Some(10), ProgressStatus::Todo, Some(-40), true),
            (Some(10), ProgressStatus::Done, Some(-40), false),
            (Some(10), ProgressStatus::AwaitingReview, Some(-40), true),
            (None, ProgressStatus::Todo, None, false),
        ];
        for (deadline, status, left, overdue) in table {
            let t = task(1, "t", 3, deadline, TaskState::Published);
            let r = row(&t, &reader, status);
            let line = TaskItem::new(&t, &r, &Language::new("en").unwrap(), &settings(), at(50));
            let case = format!("{deadline:?} {status:?}");
            assert_eq!(line.seconds_left, left, "{case}");
            assert_eq!(line.overdue, overdue, "{case}");
            assert_eq!((line.name.as_str(), line.position), ("t", 3), "{case}");
            assert!(line.manual && !line.review, "{case}");
        }
        let mut auto = task(2, "a", 0, None, TaskState::Published);
        auto.config.completion = TaskConfig::automatic(
            Language::new("en").unwrap(),
            "a",
            Condition::LogoUploaded,
            auto.config.help.clone(),
        )
        .completion;
        let line = TaskItem::new(
            &auto,
            &row(&auto, &reader, ProgressStatus::Todo),
            &Language::new("en").unwrap(),
            &settings(),
            at(0),
        );
        assert!(!line.manual, "an automatic task is not ticked by hand");
    }

    #[test]
    fn p2_summary_rounds_down_and_handles_zero() {
        let table: Vec<((u32, u32), u8)> =
            vec![((0, 0), 0), ((1, 3), 33), ((2, 3), 66), ((3, 3), 100)];
        for ((done, total), percent) in table {
            assert_eq!(
                ProgressSummary::new(done, total).percent,
                percent,
                "{done}/{total}"
            );
        }
    }
}
