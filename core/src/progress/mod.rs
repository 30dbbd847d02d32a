//! Progress of a participant on a task, assignment, visibility (S2, P1) and the pure
//! reconciliation that keeps progress in line with segments and conditions (T4). The
//! changes by hand are in `transition` and `assign`, the Tasks section in `list`.

mod assign;
mod list;
mod notices;
mod transition;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use assign::{Handover, take_back_all};
pub use list::{ProgressSummary, TaskItem, TaskList};
pub(crate) use notices::{
    due_reminders, next_reminder_at, notified_on_publish, nudge_recipient, publication_notice,
    reminder_due_now, resolved_deadline, tasks_due_for_reminders,
};
pub use transition::Decision;
pub(crate) use transition::{Hand, Tick, not_published};

use crate::actor::Actor;
use crate::event::EventSettings;
use crate::ids::{EventId, ParticipantId, SegmentId, TaskId};
use crate::participant::{FactKind, Facts, Participant};
use crate::segment::Segment;
use crate::task::Task;

/// Where a participant stands on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProgressStatus {
    /// Not done yet.
    Todo,
    /// Done.
    Done,
    /// Submitted by the participant; waiting for the organizer's review (T3).
    AwaitingReview,
}

impl ProgressStatus {
    /// The status as it is serialized: `todo`, `done` or `awaiting_review`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::Done => "done",
            Self::AwaitingReview => "awaiting_review",
        }
    }
}

/// How a task got done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletedHow {
    /// Ticked by the participant or their assignee.
    Manual,
    /// The task's condition holds.
    Condition,
    /// Validated by an organizer.
    Organizer,
    /// Submitted by the participant and accepted by an organizer in review (T3).
    Reviewed,
}

impl CompletedHow {
    /// As it is serialized: `manual`, `condition`, `organizer` or `reviewed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Condition => "condition",
            Self::Organizer => "organizer",
            Self::Reviewed => "reviewed",
        }
    }
}

/// The organizer's last refusal of a submission (T3): the participant is told why and can
/// submit again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Why, as the organizer wrote it (1..=1,000 characters).
    pub reason: String,
    /// Which organizer.
    pub by: Actor,
    /// When.
    pub at: DateTime<Utc>,
}

/// Who completed a task, when and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: Actor,
    /// How.
    pub how: CompletedHow,
}

/// One participant's progress on one task: the row the store keeps per (owner, task).
///
/// A row exists once the task has been published to the participant; `targeted` says
/// whether they are in its segment now. Leaving the segment keeps the row (progress already
/// made is kept, S2); coming back resumes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The task.
    pub task: TaskId,
    /// The participant who owns the task (whose segment and facts count).
    pub owner: ParticipantId,
    /// Whether the owner is in the task's segment now.
    pub targeted: bool,
    /// Done or not.
    pub status: ProgressStatus,
    /// Who completed it, when and how (`None` while to do).
    pub completion: Option<Completion>,
    /// The collaborator the owner handed it to (P4).
    pub assignee: Option<ParticipantId>,
    /// An organizer decided this automatic task by hand; its condition no longer moves it.
    pub decided_by_organizer: bool,
    /// The owner was sent the task's publication notice (N1), so it goes out once.
    #[serde(default)]
    pub noticed: bool,
    /// Who submitted it for review, and when (tasks that need the organizer's review).
    #[serde(default)]
    pub submitted: Option<Completion>,
    /// The organizer's last refusal of a submission, until the next acceptance.
    #[serde(default)]
    pub rejection: Option<Rejection>,
    /// The reminders sent (N3), so each goes out once per recipient, slot and deadline,
    /// also when a deadline moves away and back. At most
    /// [`Progress::MAX_REMINDER_MARKS`], the oldest dropped first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminded: Vec<crate::notify::ReminderMark>,
    /// The earliest instant a reminder of this row can fall due (N3), kept by the library
    /// each time it writes the row, from the task's deadline and reminder offsets, the
    /// event's reminder policy, the holder and the marks; stores index it, so the reminder
    /// tick reads the rows it has come for and no other. `None`: none is to come (done,
    /// not visible, no deadline, every slot sent). A row stored before the library kept
    /// it reads as due since 1970, so the next tick looks at it once.
    #[serde(default = "Progress::unknown_next_reminder")]
    pub next_reminder_at: Option<DateTime<Utc>>,
    /// The row's deadline, as resolved for this participant (today the task's deadline),
    /// kept by the library each time it writes the row and by the sweep that follows a
    /// change of the deadline, so that stores can index and hosts' reports can read "due
    /// before" without the task. `None`: no deadline. Bookkeeping, like the reminder
    /// fields: not a change a tracker follows. A row stored before the library kept it
    /// reads as `None` until it is written again (the stores fill it when they migrate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
}

impl Progress {
    /// The most reminder marks a row keeps: every slot of several deadlines, since an
    /// organizer who moves a deadline and moves it back must not remind anyone twice.
    pub const MAX_REMINDER_MARKS: usize = 64;

    /// A fresh row: targeted, to do.
    pub fn new(task: TaskId, owner: ParticipantId, at: DateTime<Utc>) -> Self {
        Self {
            task,
            owner,
            targeted: true,
            status: ProgressStatus::Todo,
            completion: None,
            assignee: None,
            decided_by_organizer: false,
            noticed: false,
            submitted: None,
            rejection: None,
            reminded: Vec::new(),
            next_reminder_at: None,
            due_at: None,
            updated_at: at,
        }
    }

    /// What a row stored without [`Progress::next_reminder_at`] reads as: due since 1970
    /// (no date the library accepts is earlier), so that the next tick looks at it and the
    /// row gets its value.
    pub const UNKNOWN_NEXT_REMINDER: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;

    fn unknown_next_reminder() -> Option<DateTime<Utc>> {
        Some(Self::UNKNOWN_NEXT_REMINDER)
    }

    /// Whether the row differs from `other` in what a tracker follows (everything but the
    /// reminder bookkeeping and the resolved deadline): a change of bookkeeping alone is not a progress change (B1).
    pub fn differs_for_tracking(&self, other: &Progress) -> bool {
        let strip = |p: &Progress| Progress {
            reminded: Vec::new(),
            next_reminder_at: None,
            due_at: None,
            ..p.clone()
        };
        if self.reminded == other.reminded
            && self.next_reminder_at == other.next_reminder_at
            && self.due_at == other.due_at
        {
            return self != other;
        }
        strip(self) != strip(other)
    }

    /// Whether the task is done.
    pub fn is_done(&self) -> bool {
        self.status == ProgressStatus::Done
    }

    /// Sets the status and who completed it.
    pub(crate) fn set_status(
        &mut self,
        status: ProgressStatus,
        completion: Option<Completion>,
        at: DateTime<Utc>,
    ) {
        self.status = status;
        self.completion = completion;
        self.updated_at = at;
    }

    /// Marks the row done (`Some`) or to do (`None`).
    pub(crate) fn set_done(&mut self, completion: Option<Completion>, at: DateTime<Utc>) {
        self.status = if completion.is_some() {
            ProgressStatus::Done
        } else {
            ProgressStatus::Todo
        };
        self.completion = completion;
        self.updated_at = at;
    }

    /// Who gets the task's reminders: the assignee when assigned, else the owner (N3).
    pub fn reminder_recipient(&self) -> ParticipantId {
        self.assignee.unwrap_or(self.owner)
    }
}

/// Whether `participant` is in the segment of `task` now (S2). A task without a segment
/// targets everyone; a task whose segment is gone targets no one.
pub(crate) fn is_targeted(
    task: &Task,
    segments: &BTreeMap<SegmentId, Segment>,
    participant: &Participant,
    settings: &EventSettings,
) -> bool {
    match task.config.segment {
        None => true,
        Some(id) => segments
            .get(&id)
            .is_some_and(|s| s.rule.matches(participant, settings)),
    }
}

/// Whether `progress` is visible to its owner: published and targeted (S2).
pub(crate) fn is_visible(task: &Task, progress: &Progress) -> bool {
    task.is_published() && progress.targeted
}

/// Whether a task with this deadline is overdue at `now` for this status (P5).
pub(crate) fn is_overdue(
    deadline: Option<DateTime<Utc>>,
    status: ProgressStatus,
    now: DateTime<Utc>,
) -> bool {
    status != ProgressStatus::Done && deadline.is_some_and(|d| d < now)
}

/// A change of a participant's progress, as it appears on the live stream (B1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressChange {
    /// The event.
    pub event: EventId,
    /// The task.
    pub task: TaskId,
    /// The owner.
    pub participant: ParticipantId,
    /// The status before (`None`: the row is new).
    pub before: Option<ProgressStatus>,
    /// The row after the change.
    pub after: Progress,
    /// When it was committed (the clock's time of the operation).
    pub at: DateTime<Utc>,
}

/// What the reconciliation of one participant decided.
#[derive(Debug, Default)]
pub(crate) struct Reconciled {
    /// Rows to write (moved into the unit of work when it settles).
    pub rows: Vec<Progress>,
    /// Tasks that became done by their condition.
    pub completed: Vec<TaskId>,
    /// Tasks that went back to do because their condition stopped holding.
    pub reopened: Vec<TaskId>,
    /// Tasks newly targeted at the participant (for publication notices).
    pub newly_targeted: Vec<TaskId>,
}

/// The published automatic tasks whose condition reads one of `kinds` (T4): the only ones
/// a change of those facts can complete or reopen, and so the only rows ingest loads and
/// reconciles. Targeting reads the record alone, so facts never move it. Pure.
pub(crate) fn tasks_reading<'a>(
    tasks: impl IntoIterator<Item = &'a Task>,
    kinds: &BTreeSet<FactKind>,
) -> Vec<TaskId> {
    tasks
        .into_iter()
        .filter(|t| t.is_published())
        .filter(|t| {
            t.condition()
                .is_some_and(|c| kinds.iter().any(|k| c.reads(*k)))
        })
        .map(|t| t.id)
        .collect()
}

/// Brings a participant's rows in line with the published tasks (S2, T4): creates rows
/// for newly targeted tasks, flags rows whose segment no longer contains them, and makes
/// automatic tasks follow their condition over the owner's `facts` (unless an organizer
/// decided them). Only `tasks` are looked at, so a sweep can restrict the work. Pure.
pub(crate) fn reconcile<'a>(
    participant: &Participant,
    facts: &Facts,
    rows: &BTreeMap<TaskId, Progress>,
    tasks: impl IntoIterator<Item = &'a Task>,
    segments: &BTreeMap<SegmentId, Segment>,
    settings: &EventSettings,
    now: DateTime<Utc>,
) -> Reconciled {
    let mut out = Reconciled::default();
    if participant.erased_at.is_some() {
        // X6: an erased participant's progress stays as it was, so figures do not move.
        return out;
    }
    for task in tasks {
        if !task.is_published() {
            continue;
        }
        let targeted = is_targeted(task, segments, participant, settings);
        let existing = rows.get(&task.id);
        // Most rows do not change: decide on the stored row, and copy it only to change it.
        let condition = task.condition();
        let holds = |row_targeted: bool, row: &Progress| {
            condition
                .filter(|_| row_targeted && !row.decided_by_organizer)
                .map(|c| c.holds(facts))
        };
        if let Some(r) = existing
            && r.targeted == targeted
        {
            let unchanged = match holds(targeted, r) {
                None => true,
                Some(h) => r.status != ProgressStatus::AwaitingReview && h == r.is_done(),
            };
            if unchanged {
                continue;
            }
        }
        let mut row = match existing {
            Some(r) => r.clone(),
            None if targeted => {
                out.newly_targeted.push(task.id);
                Progress::new(task.id, participant.id, now)
            }
            None => continue,
        };
        if row.targeted != targeted {
            if targeted {
                out.newly_targeted.push(task.id);
            }
            row.targeted = targeted;
            row.updated_at = now;
        }
        if let Some(holds) = holds(row.targeted, &row) {
            if row.status == ProgressStatus::AwaitingReview {
                // The task became automatic while a submission waited: the condition
                // decides now.
                row.submitted = None;
                row.set_status(ProgressStatus::Todo, None, now);
            }
            if holds && !row.is_done() {
                row.set_done(
                    Some(Completion {
                        at: now,
                        by: Actor::System,
                        how: CompletedHow::Condition,
                    }),
                    now,
                );
                out.completed.push(task.id);
            } else if !holds && row.is_done() {
                row.set_done(None, now);
                out.reopened.push(task.id);
            }
        }
        if existing != Some(&row) {
            out.rows.push(row);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::event::EventSettings;
    use crate::ids::ExternalId;
    use crate::participant::{Profile, Status, Utm};
    use crate::segment::Rule;
    use crate::task::{Condition, HelpLink, TaskConfig, TaskState};
    use crate::text::Language;

    pub(crate) fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    pub(crate) fn world() -> (
        EventSettings,
        BTreeMap<SegmentId, Segment>,
        SegmentId,
        Participant,
    ) {
        let en = Language::new("en").unwrap();
        let settings = EventSettings::new("Expo", en);
        let seg = Segment {
            id: SegmentId::new_at(at(0)),
            event: EventId::min(),
            name: "Exhibitors".into(),
            rule: Rule::category("exhibitor"),
            created_at: at(0),
            version: 1,
        };
        let p = Participant {
            id: ParticipantId::new_at(at(0)),
            event: EventId::min(),
            external_id: ExternalId::new("p").unwrap(),
            profile: Profile::default(),
            status: Status {
                categories: ["exhibitor".to_owned()].into(),
                ..Status::default()
            },
            utm: Utm::default(),
            custom_fields: BTreeMap::new(),
            owner: None,
            push_subscriptions: Vec::new(),
            notifications: Default::default(),
            networking: Default::default(),
            registered_at: at(0),
            erased_at: None,
            record_version: 0,
        };
        (settings, [(seg.id, seg.clone())].into(), seg.id, p)
    }

    pub(crate) fn task(
        segment: Option<SegmentId>,
        condition: Option<Condition>,
        state: TaskState,
    ) -> Task {
        let help = HelpLink::WebPage {
            url: "https://x.org".into(),
        };
        let en = Language::new("en").unwrap();
        let mut config = match condition {
            Some(c) => TaskConfig::automatic(en, "t", c, help),
            None => TaskConfig::manual(en, "t", help),
        };
        config.segment = segment;
        Task {
            id: TaskId::new_at(at(0)),
            event: EventId::min(),
            config,
            state,
            created_at: at(0),
            updated_at: at(0),
            published_at: None,
            version: 1,
        }
    }

    #[test]
    fn s2_t4_reconcile_creates_targets_and_evaluates() {
        let (settings, segments, seg, p) = world();
        let mut facts = Facts::default();
        facts.record_logo(true, at(1));
        let auto = task(
            Some(seg),
            Some(Condition::LogoUploaded),
            TaskState::Published,
        );
        let manual = task(None, None, TaskState::Published);
        let draft = task(None, None, TaskState::Draft);
        let r = reconcile(
            &p,
            &facts,
            &BTreeMap::new(),
            [&auto, &manual, &draft],
            &segments,
            &settings,
            at(2),
        );
        assert_eq!(r.rows.len(), 2, "drafts get no row");
        assert_eq!(r.completed, [auto.id]);
        assert_eq!(r.newly_targeted, [auto.id, manual.id]);
        let auto_row = r.rows.iter().find(|x| x.task == auto.id).unwrap();
        assert!(auto_row.is_done() && auto_row.targeted);
        assert_eq!(
            auto_row.completion.as_ref().unwrap().how,
            CompletedHow::Condition
        );

        // Leaving the segment keeps the row and its progress, flagged untargeted.
        let rows: BTreeMap<_, _> = r.rows.into_iter().map(|x| (x.task, x)).collect();
        let mut visitor = p.clone();
        visitor.status.categories = ["visitor".to_owned()].into();
        let r2 = reconcile(
            &visitor,
            &facts,
            &rows,
            [&auto, &manual],
            &segments,
            &settings,
            at(3),
        );
        assert_eq!(r2.rows.len(), 1);
        assert!(!r2.rows[0].targeted && r2.rows[0].is_done());
        assert!(r2.newly_targeted.is_empty() && r2.reopened.is_empty());

        // Nothing to do: no rows.
        let r3 = reconcile(
            &p,
            &facts,
            &rows,
            [&auto, &manual],
            &segments,
            &settings,
            at(4),
        );
        assert!(r3.rows.is_empty());
    }

    #[test]
    fn t3_organizer_decision_is_not_moved_by_the_condition() {
        let (settings, segments, _, p) = world();
        let auto = task(None, Some(Condition::LogoUploaded), TaskState::Published);
        let mut row = Progress::new(auto.id, p.id, at(0));
        row.decided_by_organizer = true;
        let rows = [(auto.id, row)].into();
        let mut facts = Facts::default();
        facts.record_logo(true, at(1));
        let r = reconcile(&p, &facts, &rows, [&auto], &segments, &settings, at(2));
        assert!(r.rows.is_empty() && r.completed.is_empty());
    }

    #[test]
    fn s2_a_task_whose_segment_is_gone_targets_no_one() {
        let (settings, _, seg, p) = world();
        let t = task(Some(seg), None, TaskState::Published);
        assert!(!is_targeted(&t, &BTreeMap::new(), &p, &settings));
    }

    #[test]
    fn p5_overdue_only_when_not_done_and_passed() {
        let now = DateTime::<Utc>::from_timestamp(1_000_000, 0).unwrap();
        let past = Some(now - chrono::Duration::seconds(1));
        assert!(is_overdue(past, ProgressStatus::Todo, now));
        assert!(!is_overdue(past, ProgressStatus::Done, now));
        assert!(!is_overdue(None, ProgressStatus::Todo, now));
        assert!(!is_overdue(Some(now), ProgressStatus::Todo, now));
    }

    /// The condition a generated task has (`None`: manual).
    pub(crate) fn condition_of(n: u8) -> Option<Condition> {
        match n {
            0 => None,
            1 => Some(Condition::LogoUploaded),
            2 => Some(Condition::Products { at_least: 2 }),
            3 => Some(Condition::Invitations { at_least: 1 }),
            4 => Some(Condition::FormCompleted { form: "f".into() }),
            5 => Some(Condition::FieldFilled {
                field: "bio".into(),
                value: None,
            }),
            _ => Some(Condition::Any {
                conditions: vec![Condition::LogoUploaded, Condition::Products { at_least: 1 }],
            }),
        }
    }

    /// A host fact of kind `kind` about object `object`.
    pub(crate) fn host_fact(
        kind: u8,
        object: u8,
        present: bool,
        at_s: i64,
    ) -> crate::host_event::HostEvent {
        use crate::host_event::{HostEvent, HostFact};
        let x = ExternalId::new(format!("o{object}")).unwrap();
        let fact = match (kind % 5, present) {
            (0, true) => HostFact::LogoUploaded,
            (0, false) => HostFact::LogoRemoved,
            (1, true) => HostFact::ProductAdded { product: x },
            (1, false) => HostFact::ProductRemoved { product: x },
            (2, true) => HostFact::InvitationSent { invitation: x },
            (2, false) => HostFact::InvitationWithdrawn { invitation: x },
            (3, _) => HostFact::FormCompleted { form: "f".into() },
            (_, true) => HostFact::FieldSet {
                field: "bio".into(),
                value: format!("v{object}"),
            },
            (_, false) => HostFact::FieldCleared {
                field: "bio".into(),
            },
        };
        HostEvent {
            id: crate::ids::HostEventId::new(format!("h{kind}{object}{at_s}")).unwrap(),
            participant: ParticipantId::new_at(at(0)).into(),
            occurred_at: at(at_s),
            fact,
        }
    }

    proptest::proptest! {
        /// T4: from any consistent state (manual and automatic tasks on every kind of fact,
        /// in and out of the participant's segment, some decided by an organizer), a batch
        /// of facts reconciled over only the tasks that read its kinds, holding only their
        /// rows, writes exactly the rows that reconciling every task over every row writes.
        #[test]
        fn t4_a_slice_reconciles_to_the_whole(
            spec in proptest::collection::vec((0u8..7, proptest::bool::ANY, proptest::bool::ANY), 1..8),
            earlier in proptest::collection::vec((0u8..5, 0u8..3, proptest::bool::ANY, 1i64..50), 0..12),
            batch in proptest::collection::vec((0u8..5, 0u8..3, proptest::bool::ANY, 1i64..100), 1..6),
        ) {
            let (settings, segments, seg, p) = world();
            let tasks: Vec<Task> = spec
                .iter()
                .map(|(c, segmented, _)| {
                    task(segmented.then_some(seg), condition_of(*c), TaskState::Published)
                })
                .collect();
            let mut facts = Facts::default();
            for (k, o, present, s) in &earlier {
                host_fact(*k, *o, *present, *s).apply_to(&mut facts);
            }
            // A consistent starting state: every task reconciled over the earlier facts,
            // then some rows decided by an organizer (done, whatever the facts say).
            let mut rows: BTreeMap<TaskId, Progress> = BTreeMap::new();
            let first = reconcile(&p, &facts, &rows, &tasks, &segments, &settings, at(60));
            rows.extend(first.rows.into_iter().map(|r| (r.task, r)));
            for ((_, _, by_organizer), t) in spec.iter().zip(&tasks) {
                if let Some(row) = rows.get_mut(&t.id).filter(|_| *by_organizer) {
                    row.decided_by_organizer = true;
                    row.set_done(
                        Some(Completion { at: at(61), by: Actor::System, how: CompletedHow::Organizer }),
                        at(61),
                    );
                }
            }
            let batch: Vec<_> = batch
                .iter()
                .map(|(k, o, present, s)| host_fact(*k, *o, *present, 50 + *s))
                .collect();
            for e in &batch {
                e.apply_to(&mut facts);
            }
            let now = at(200);
            let whole = reconcile(&p, &facts, &rows, &tasks, &segments, &settings, now);
            let kinds: BTreeSet<FactKind> = batch.iter().map(|e| e.kind()).collect();
            let read = tasks_reading(&tasks, &kinds);
            let sliced: BTreeMap<TaskId, Progress> = rows
                .iter()
                .filter(|(t, _)| read.contains(t))
                .map(|(t, r)| (*t, r.clone()))
                .collect();
            let reading: Vec<&Task> = tasks.iter().filter(|t| read.contains(&t.id)).collect();
            let slice = reconcile(&p, &facts, &sliced, reading, &segments, &settings, now);
            let by_task = |r: Reconciled| -> BTreeMap<TaskId, Progress> {
                r.rows.into_iter().map(|r| (r.task, r)).collect()
            };
            proptest::prop_assert_eq!(by_task(slice), by_task(whole));
        }
    }
}
