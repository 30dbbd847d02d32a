//! A unit of work: the participants an operation changes, worked on as plain values, then
//! turned into one change set. Everything that follows from a change is derived here, in
//! one place, so no operation can forget it: progress reconciled with segments and
//! conditions, timeline entries for status changes, history lines for record changes,
//! live-stream changes, and the version of every write.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{ChangeSet, ParticipantWrite};
use crate::actor::Actor;
use crate::figures::TaskCounters;
use crate::history::{HistoryEntry, Subject, diff_fields};
use crate::ids::{HistoryId, ParticipantId, TaskId, TimelineId};
use crate::notify::{Notification, OutboxEntry};
use crate::participant::{Facts, Networking, Participant};
use crate::progress::{
    Progress, ProgressChange, ProgressStatus, Reconciled, next_reminder_at, reconcile,
    resolved_deadline, take_back_all,
};
use crate::state::{EventConfig, ParticipantState};
use crate::task::Task;
use crate::timeline::{TimelineEntry, TimelineKind};

/// One participant being changed. The record and the facts are shared with the state
/// loaded (and, in memory, with the store) until changed: change them through
/// [`record_mut`](Self::record_mut) and [`facts_mut`](Self::facts_mut), which copy on
/// the first write.
#[derive(Debug)]
pub(crate) struct WorkingCopy {
    before: Option<ParticipantState>,
    pub record: Arc<Participant>,
    pub facts: Arc<Facts>,
    pub rows: BTreeMap<TaskId, Progress>,
}

impl WorkingCopy {
    /// The record, to change (copied first if still shared).
    pub(crate) fn record_mut(&mut self) -> &mut Participant {
        Arc::make_mut(&mut self.record)
    }

    /// The facts, to change (copied first if still shared).
    pub(crate) fn facts_mut(&mut self) -> &mut Facts {
        Arc::make_mut(&mut self.facts)
    }
}

/// Whether a shared value differs from what was loaded: the same allocation is the same
/// value, without comparing it.
fn differs<T: PartialEq>(before: &Arc<T>, now: &Arc<T>) -> bool {
    !Arc::ptr_eq(before, now) && **before != **now
}

pub(crate) struct UnitOfWork<'c> {
    config: &'c EventConfig,
    pub now: DateTime<Utc>,
    pub actor: Actor,
    cs: ChangeSet,
    /// Boxed: a working copy is large, and a map shifts its values on insert.
    people: BTreeMap<ParticipantId, Box<WorkingCopy>>,
    /// The tasks whose rows the participants were loaded with, when not all of them.
    slice: Option<Vec<TaskId>>,
    /// Whether every row held gets its next reminder computed again, not only the rows
    /// that change.
    refresh: bool,
    settled: bool,
}

impl<'c> UnitOfWork<'c> {
    pub(crate) fn new(config: &'c EventConfig, now: DateTime<Utc>, actor: Actor) -> Self {
        Self {
            config,
            now,
            actor,
            cs: ChangeSet {
                event_version: Some(config.event.version),
                ..ChangeSet::new(config.event.id)
            },
            people: BTreeMap::new(),
            slice: None,
            refresh: false,
            settled: false,
        }
    }

    /// Marks the change set as a change of the event's configuration (settings, tasks,
    /// segments): it writes the event with its version bumped, so change sets computed
    /// from the old configuration conflict and are recomputed.
    pub(crate) fn bump_config(&mut self) {
        if self.cs.event_record.is_none() {
            let mut event = self.config.event.clone();
            event.version += 1;
            self.cs.event_record = Some(event);
        }
    }

    /// Restricts the unit to the rows of `tasks`: its participants are loaded with those
    /// rows alone ([`participant_slices`](crate::store::ParticipantStore::participant_slices)),
    /// so [`settle`](Self::settle) reconciles those tasks alone, and the rows it does not
    /// hold are neither read nor written. Only for changes that leave the records as they
    /// are (the host's facts): a record change can move targeting on any task.
    pub(crate) fn restrict_to(&mut self, tasks: Vec<TaskId>) {
        self.slice = Some(tasks);
    }

    /// Computes every held row's next reminder (N3) and resolved deadline again, and
    /// writes the rows where one moved: for work that follows a change of what they read
    /// (a deadline, the offsets, the event's policy), which changes no row by itself. Other units compute it for
    /// the rows they change.
    pub(crate) fn refresh_reminders(&mut self) {
        self.refresh = true;
    }

    /// Every participant of the unit, to adjust rows after [`UnitOfWork::settle`].
    pub(crate) fn people_mut(
        &mut self,
    ) -> impl Iterator<Item = (&ParticipantId, &mut WorkingCopy)> {
        self.people.iter_mut().map(|(id, w)| (id, &mut **w))
    }

    /// Adds a history line on `owner` for a progress row changed by hand:
    /// `progress.<task>.status` and `progress.<task>.decided_by_organizer`.
    pub(crate) fn progress_history(
        &mut self,
        owner: ParticipantId,
        before: &Progress,
        after: &Progress,
    ) {
        let line = |row: &Progress| {
            serde_json::json!({ "progress": { row.task.to_string(): {
                "status": row.status,
                "decided_by_organizer": row.decided_by_organizer,
            }}})
        };
        self.history_values(Subject::Participant(owner), &line(before), &line(after));
    }

    /// The change set being built, for writes that are not a participant's.
    pub(crate) fn changes(&mut self) -> &mut ChangeSet {
        &mut self.cs
    }

    /// Adds a loaded participant (once; a second add returns the one already there).
    pub(crate) fn add(&mut self, state: ParticipantState) -> &mut WorkingCopy {
        self.people.entry(state.participant.id).or_insert_with(|| {
            Box::new(WorkingCopy {
                record: Arc::clone(&state.participant),
                facts: Arc::clone(&state.facts),
                rows: state.progress.clone(),
                before: Some(state),
            })
        })
    }

    /// Adds a participant that does not exist yet.
    pub(crate) fn add_new(&mut self, record: Participant) -> &mut WorkingCopy {
        self.people.entry(record.id).or_insert_with(|| {
            Box::new(WorkingCopy {
                record: Arc::new(record),
                facts: Arc::default(),
                rows: BTreeMap::new(),
                before: None,
            })
        })
    }

    /// A participant already in the unit.
    pub(crate) fn get(&mut self, id: ParticipantId) -> Option<&mut WorkingCopy> {
        self.people.get_mut(&id).map(|w| &mut **w)
    }

    /// Whether the participant is in the unit.
    pub(crate) fn has(&self, id: ParticipantId) -> bool {
        self.people.contains_key(&id)
    }

    /// Links `collaborator` to `owner`'s team (P4), with the collaborator's timeline
    /// entry; the collaborator must be in the unit (else nothing happens). Whether they
    /// may join is `participant::team::check_can_link`, asked before.
    pub(crate) fn link(&mut self, owner: ParticipantId, collaborator: ParticipantId) {
        if let Some(c) = self.get(collaborator) {
            c.record_mut().owner = Some(owner);
            self.timeline(collaborator, TimelineKind::CollaboratorLinked { owner });
        }
    }

    /// Unlinks `collaborator` from `owner`'s team (P4), and gives the owner back every
    /// task the collaborator held, each with a "taken back" entry on the owner's
    /// timeline; both should be in the unit (one missing is left as it is).
    pub(crate) fn unlink(&mut self, owner: ParticipantId, collaborator: ParticipantId) {
        let now = self.now;
        let taken_back = match self.get(owner) {
            Some(o) => take_back_all(&mut o.rows, collaborator, now),
            None => Vec::new(),
        };
        if let Some(c) = self.get(collaborator) {
            c.record_mut().owner = None;
        }
        for task in taken_back {
            self.timeline(
                owner,
                TimelineKind::TaskTakenBack {
                    task,
                    from: collaborator,
                },
            );
        }
    }

    /// Adds a timeline entry by the unit's actor.
    pub(crate) fn timeline(&mut self, participant: ParticipantId, kind: TimelineKind) {
        let actor = self.actor.clone();
        self.timeline_by(participant, kind, actor);
    }

    fn timeline_by(&mut self, participant: ParticipantId, kind: TimelineKind, actor: Actor) {
        let now = self.now;
        self.timeline_at(participant, kind, actor, now);
    }

    /// Adds a timeline entry for something that happened at `at` (an attendance reported
    /// late lands at its time, not at the top).
    pub(crate) fn timeline_at(
        &mut self,
        participant: ParticipantId,
        kind: TimelineKind,
        actor: Actor,
        at: DateTime<Utc>,
    ) {
        // The id carries the time exactly (like the host's actions), and entries of one
        // millisecond stay in the order the library wrote them.
        let at = crate::timeline::to_millisecond(at);
        self.cs.timeline.push(TimelineEntry {
            id: TimelineId::happened_at(at),
            event: self.config.event.id,
            participant,
            at,
            actor,
            kind,
        });
    }

    /// Adds history lines for every field that differs between `old` and `new`.
    pub(crate) fn history<T: serde::Serialize>(&mut self, subject: Subject, old: &T, new: &T) {
        let (Ok(old), Ok(new)) = (serde_json::to_value(old), serde_json::to_value(new)) else {
            tracing::error!("a domain value did not serialize; history line skipped");
            return;
        };
        self.history_values(subject, &old, &new);
    }

    /// Adds one history line per differing leaf of two JSON values.
    pub(crate) fn history_values(&mut self, subject: Subject, old: &Value, new: &Value) {
        for (field, old, new) in diff_fields(old, new) {
            self.cs.history.push(HistoryEntry {
                id: HistoryId::happened_at(self.now),
                event: self.config.event.id,
                subject,
                at: crate::timeline::to_millisecond(self.now),
                actor: self.actor.clone(),
                field,
                old,
                new,
            });
        }
    }

    /// Queues a notification, unless the event's Tasks feature is off (T2).
    pub(crate) fn notify(&mut self, recipient: ParticipantId, message: Notification, key: String) {
        if !self.config.event.settings.tasks_enabled {
            return;
        }
        if self
            .people
            .get(&recipient)
            .is_some_and(|w| w.record.erased_at.is_some())
        {
            // X6: nothing is queued for an erased participant.
            return;
        }
        // R5: reminders and nudges are on the recipient's timeline.
        let reminded = match &message {
            Notification::Reminder { task, .. } | Notification::Nudge { task, .. } => {
                vec![*task]
            }
            Notification::Reminders { items } => items.iter().map(|i| i.task).collect(),
            _ => Vec::new(),
        };
        if !reminded.is_empty() {
            let actor = self.actor.clone();
            self.timeline_by(
                recipient,
                TimelineKind::ReminderSent { tasks: reminded },
                actor,
            );
        }
        self.cs.outbox.push(OutboxEntry::new(
            self.config.event.id,
            recipient,
            message,
            key,
            self.now,
        ));
    }

    /// Reconciles every participant of the unit with the published tasks (their rows are
    /// updated in the unit; nothing is written until [`UnitOfWork::into_changes`]). Returns what
    /// reconciliation decided, per participant.
    pub(crate) fn settle(&mut self) -> BTreeMap<ParticipantId, Reconciled> {
        assert!(!self.settled, "a unit settles once");
        self.settled = true;
        let mut out = BTreeMap::new();
        let tasks: Vec<&Task> = match &self.slice {
            Some(ids) => ids
                .iter()
                .filter_map(|id| self.config.tasks.get(id))
                .collect(),
            None => self.config.tasks.values().collect(),
        };
        for (id, w) in &mut self.people {
            let mut reconciled = reconcile(
                &w.record,
                &w.facts,
                &w.rows,
                tasks.iter().copied(),
                &self.config.segments,
                &self.config.event.settings,
                self.now,
            );
            for row in reconciled.rows.drain(..) {
                w.rows.insert(row.task, row);
            }
            out.insert(*id, reconciled);
        }
        out
    }

    /// A participant's row for `task` as it stands in the unit (after `settle`, final).
    pub(crate) fn row(&self, owner: ParticipantId, task: TaskId) -> Option<&Progress> {
        self.people.get(&owner)?.rows.get(&task)
    }

    /// Turns one participant's changes into writes; takes the working copy, so what is
    /// written is moved, not copied.
    fn write(&mut self, w: WorkingCopy) {
        let empty = BTreeMap::new();
        let (before_rows, before_record, before_facts, version) = match &w.before {
            Some(b) => (&b.progress, Some(&b.participant), Some(&b.facts), b.version),
            None => (&empty, None, None, 0),
        };
        let id = w.record.id;
        let mut changed_rows = Vec::new();
        let mut timeline = Vec::new();
        for (task, mut row) in w.rows {
            let old = before_rows.get(&task);
            if old == Some(&row) && !self.refresh {
                continue;
            }
            // N3: the row's next reminder, kept with it for the tick's index, and its
            // resolved deadline, kept for indexes and reports.
            if let Some(t) = self.config.tasks.get(&task) {
                row.next_reminder_at = next_reminder_at(t, &row, &self.config.event.settings);
                row.due_at = resolved_deadline(t, &row);
            }
            if old == Some(&row) {
                continue;
            }
            let before_status = old.map(|r| r.status);
            let was_done = before_status == Some(ProgressStatus::Done);
            if row.is_done() && !was_done {
                let by = row
                    .completion
                    .as_ref()
                    .map_or_else(|| self.actor.clone(), |c| c.by.clone());
                timeline.push((TimelineKind::TaskCompleted { task }, by));
            } else if !row.is_done() && was_done {
                timeline.push((TimelineKind::TaskReopened { task }, self.actor.clone()));
            }
            let delta = TaskCounters::of(&row).minus(old.map(TaskCounters::of).unwrap_or_default());
            if !delta.is_zero() {
                self.cs.counters.entry(task).or_default().add(delta);
            }
            if old.is_none_or(|o| o.differs_for_tracking(&row)) {
                self.cs.progress_changes.push(ProgressChange {
                    event: self.config.event.id,
                    task,
                    participant: id,
                    before: before_status,
                    after: row.clone(),
                    at: self.now,
                });
            }
            changed_rows.push(row);
        }
        for (kind, by) in timeline {
            self.timeline_by(id, kind, by);
        }
        let record_changed = before_record.is_none_or(|b| differs(b, &w.record));
        debug_assert!(
            self.slice.is_none() || !record_changed || before_record.is_none(),
            "a unit restricted to some tasks' rows changed a record"
        );
        let facts_changed = match before_facts {
            Some(f) => differs(f, &w.facts),
            None => *w.facts != Facts::default(),
        };
        if let Some(old) = before_record.filter(|_| record_changed) {
            // R2 / R11: switching networking is also an action on the timeline.
            let on = |p: &Participant| p.status.networking == Networking::Allowed;
            if on(old) != on(&w.record) {
                let kind = if on(&w.record) {
                    TimelineKind::NetworkingEnabled
                } else {
                    TimelineKind::NetworkingDisabled
                };
                self.timeline_by(id, kind, self.actor.clone());
            }
            if old.push_subscriptions == w.record.push_subscriptions {
                self.history(Subject::Participant(id), old, &w.record);
            } else {
                // Web push endpoints are capabilities: not in the history.
                let strip = |p: &Participant| Participant {
                    push_subscriptions: Vec::new(),
                    ..p.clone()
                };
                self.history(Subject::Participant(id), &strip(old), &strip(&w.record));
            }
        }
        if !record_changed && !facts_changed && changed_rows.is_empty() {
            return;
        }
        // Taken out of the share only when written: a record or facts left as loaded are
        // not copied.
        let record = record_changed.then(|| {
            let mut record = Arc::unwrap_or_clone(w.record);
            // X8: the record's own version moves with what a record form edits, after the
            // history is taken (the version is not a field anyone changed).
            if let Some(old) = before_record
                && old.record_differs(&record)
            {
                record.record_version = old.record_version + 1;
            }
            record
        });
        self.cs.participants.push(ParticipantWrite {
            id,
            version: version + 1,
            record,
            facts: facts_changed.then(|| Arc::unwrap_or_clone(w.facts)),
            progress: changed_rows,
        });
    }

    /// Settles if not done yet, writes every participant's changes, and returns the
    /// change set.
    pub(crate) fn into_changes(mut self) -> ChangeSet {
        if !self.settled {
            self.settle();
        }
        let people = std::mem::take(&mut self.people);
        for w in people.into_values() {
            self.write(*w);
        }
        self.cs
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::event::Event;
    use crate::progress::tests::{at, condition_of, host_fact, task, world};
    use crate::progress::{CompletedHow, Completion};
    use crate::task::TaskState;

    /// A participant's write applied to what was stored before it, as a store applies it.
    fn applied(before: Option<&ParticipantState>, w: &ParticipantWrite) -> ParticipantState {
        let mut state = match before {
            Some(b) => b.clone(),
            None => ParticipantState {
                participant: Arc::new(w.record.clone().expect("a new participant's record")),
                facts: Arc::default(),
                progress: BTreeMap::new(),
                version: 0,
            },
        };
        if let Some(r) = &w.record {
            state.participant = Arc::new(r.clone());
        }
        if let Some(f) = &w.facts {
            state.facts = Arc::new(f.clone());
        }
        for row in &w.progress {
            state.progress.insert(row.task, row.clone());
        }
        state.version = w.version;
        state
    }

    proptest::proptest! {
        /// X4: from any consistent stored state (manual and automatic tasks, some with a
        /// deadline, in and out of the segment, some decided by an organizer), after a
        /// batch of facts and maybe a move out of or into the segment, the write a unit
        /// of work makes (the record if it changed, the facts if they changed, the rows
        /// that changed) applied over the stored state equals the whole state written
        /// anew: every field of the record, every fact, every row with its bookkeeping.
        #[test]
        fn x4_a_delta_applied_equals_the_whole_write(
            spec in proptest::collection::vec((0u8..7, proptest::bool::ANY, proptest::bool::ANY, proptest::option::of(1i64..400)), 1..8),
            earlier in proptest::collection::vec((0u8..5, 0u8..3, proptest::bool::ANY, 1i64..50), 0..12),
            batch in proptest::collection::vec((0u8..5, 0u8..3, proptest::bool::ANY, 1i64..100), 0..6),
            leave in proptest::bool::ANY,
            ticks in 0i64..500,
        ) {
            let (settings, segments, seg, p) = world();
            let mut tasks = BTreeMap::new();
            for (c, segmented, _, deadline) in &spec {
                let mut t = task(segmented.then_some(seg), condition_of(*c), TaskState::Published);
                t.config.deadline = deadline.map(|d| at(3600 * d));
                tasks.insert(t.id, t);
            }
            let config = EventConfig {
                event: Event { id: p.event, settings, created_at: at(0), version: 3 },
                tasks,
                segments,
            };
            // The stored state: the participant written anew with the earlier facts, then
            // some rows decided by an organizer (written as a second delta).
            let mut first = UnitOfWork::new(&config, at(60), Actor::System);
            let w = first.add_new(p.clone());
            for (k, o, present, s) in &earlier {
                host_fact(*k, *o, *present, *s).apply_to(w.facts_mut());
            }
            let cs = first.into_changes();
            let mut stored = applied(None, &cs.participants[0]);
            let mut decide = UnitOfWork::new(&config, at(61), Actor::System);
            decide.add(stored.clone());
            let w = decide.get(p.id).unwrap();
            for ((_, _, by_organizer, _), t) in spec.iter().zip(config.tasks.keys()) {
                if let Some(row) = w.rows.get_mut(t).filter(|_| *by_organizer) {
                    row.decided_by_organizer = true;
                    row.set_done(
                        Some(Completion { at: at(61), by: Actor::System, how: CompletedHow::Organizer }),
                        at(61),
                    );
                }
            }
            if let Some(d) = decide.into_changes().participants.first() {
                stored = applied(Some(&stored), d);
            }
            // The change: a batch of facts, maybe a move out of the segment.
            let now = at(100 + 3600 * ticks);
            let change = |w: &mut WorkingCopy| {
                for (k, o, present, s) in &batch {
                    host_fact(*k, *o, *present, 50 + *s).apply_to(w.facts_mut());
                }
                if leave {
                    w.record_mut().status.categories = ["visitor".to_owned()].into();
                }
            };
            let mut delta_unit = UnitOfWork::new(&config, now, Actor::System);
            change(delta_unit.add(stored.clone()));
            let delta = delta_unit.into_changes().participants;
            // The whole state written anew: the same change on a unit that holds the
            // stored state as new, so it writes every field and every row.
            let mut whole_unit = UnitOfWork::new(&config, now, Actor::System);
            let w = whole_unit.add_new(Participant::clone(&stored.participant));
            w.facts = stored.facts.clone();
            w.rows = stored.progress.clone();
            change(w);
            let whole = whole_unit.into_changes().participants;
            proptest::prop_assert_eq!(whole.len(), 1);
            let mut expected = applied(None, &whole[0]);
            expected.version = stored.version + 1;
            if expected.participant.record_differs(&stored.participant) {
                Arc::make_mut(&mut expected.participant).record_version = stored.participant.record_version + 1;
            }
            match delta.as_slice() {
                [] => {
                    expected.version = stored.version;
                    proptest::prop_assert_eq!(&stored, &expected, "nothing written, nothing changed");
                }
                [d] => {
                    proptest::prop_assert!(d.progress.len() <= stored.progress.len() + config.tasks.len());
                    proptest::prop_assert_eq!(applied(Some(&stored), d), expected);
                }
                more => proptest::prop_assert!(false, "one participant, {} writes", more.len()),
            }
        }
    }
}
