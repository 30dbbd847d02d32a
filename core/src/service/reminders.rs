//! Reminders (N3, N7, B5): the reminder tick, the loop that runs it, and "remind now".

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, OutboxId, ParticipantId, TaskId};
use crate::matrix::{MatrixCursor, MatrixQuery, MatrixSort};
use crate::notify::Notification;
use crate::progress::{
    ProgressStatus, due_reminders, is_visible, next_reminder_at, nudge_recipient, reminder_due_now,
    tasks_due_for_reminders,
};
use crate::store::{ParticipantState, Store};
use std::collections::{HashMap, HashSet};
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Reminds now (B5): queues a reminder of `task` to one participant, or to every
    /// targeted participant who has not done it, each going to whoever holds the task
    /// (the assignee when assigned). Participants who are done, or not targeted, are
    /// skipped. Works in batches, each its own transaction. Returns how many were queued.
    #[instrument(skip_all, fields(event = %event, task = %task))]
    pub async fn remind_now(
        &self,
        actor: &Actor,
        event: EventId,
        task: TaskId,
        target: RemindTarget,
    ) -> Result<u64> {
        actor::require_staff(actor, event, TaskId::ENTITY, task)?;
        let ctx = self.context(actor, event).await?;
        let t = ctx.task(task)?;
        if !t.is_published() {
            return Err(Error::invalid(
                "task",
                "only a published task can be reminded of",
            ));
        }
        if !ctx.event.settings.tasks_enabled {
            return Err(Error::invalid(
                "event",
                "the Tasks feature is off for this event: nothing is sent",
            ));
        }
        // A submission waiting for review is the organizer's to finish: not reminded.
        let incomplete = vec![ProgressStatus::Todo];
        let mut queued = 0u64;
        let mut after = None;
        loop {
            let states = match target {
                RemindTarget::Participant(id) => {
                    let state = self.participant_state(event, id).await?;
                    if !state.progress.get(&task).is_some_and(|r| is_visible(t, r)) {
                        return Err(Error::invalid(
                            "participant",
                            "the task is not published to this participant",
                        ));
                    }
                    vec![state]
                }
                RemindTarget::AllIncomplete => {
                    let query = MatrixQuery {
                        progress: Some((task, incomplete.clone())),
                        rule: None,
                        category: None,
                        search: None,
                        sort: MatrixSort::Registration,
                        descending: false,
                        after: after.take(),
                        limit: self.config.batch_size,
                    };
                    self.store.matrix(event, &query).await?
                }
            };
            let last = states.last().map(|s| MatrixCursor {
                key: String::new(),
                id: s.participant.id,
            });
            let full = states.len() == self.config.batch_size;
            let now = self.now();
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            for s in &states {
                let Some(recipient) = s
                    .progress
                    .get(&task)
                    .and_then(|row| nudge_recipient(&s.participant, row))
                else {
                    continue;
                };
                let key = format!("nudge:{task}:{recipient}:{}", OutboxId::new_at(now));
                let owner = s.participant.id;
                unit.notify(recipient, Notification::Nudge { task, owner }, key);
                queued += 1;
            }
            let mut cs = unit.into_changes();
            cs.event_version = None; // reminders do not depend on the configuration
            self.commit(cs).await?;
            if matches!(target, RemindTarget::Participant(_)) || !full {
                return Ok(queued);
            }
            after = last;
        }
    }

    /// Queues the reminders due now for every participant of the event (N3): for each
    /// visible task that is still to do and has a deadline, the reminder of the offset
    /// whose time has come (the task's offsets, else the event's), or once overdue when
    /// the event asks for it; to the assignee when the task is assigned. Each (task,
    /// recipient, slot, deadline) goes out once, even when ticks race or run late: a host
    /// that was down sends the one reminder still relevant, not the stale ones, and a
    /// moved deadline arms its reminders again. Reminders of one recipient falling within
    /// [`Config::reminder_window`](super::Config::reminder_window) of one due now go out
    /// with it as one message (N7); the grouping is per batch of participants.
    ///
    /// Reads only what can be due: for each task whose reminder time has come, its rows
    /// whose next reminder has come ([`rows_due`](crate::store::TrackingStore::rows_due),
    /// the rows alone; every row keeps its next reminder, computed whenever it is
    /// written and rewritten by the paged work that follows a change of a deadline, of
    /// the offsets or of the event's policy), a batch at a time; only the owners of rows
    /// with a reminder due now are loaded whole, and each such batch is its own
    /// transaction. With every deadline far off, a tick reads the event's configuration
    /// alone; once everyone was reminded, it reads no row until the next slot. Run it
    /// periodically, e.g. with [`Punchlist::run_reminders`]; nothing is queued while the
    /// event's Tasks feature is off.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn tick_reminders(&self, actor: &Actor, event: EventId) -> Result<ReminderTick> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let ctx = self.context(actor, event).await?;
        let due = tasks_due_for_reminders(&ctx.tasks, &ctx.event.settings, self.now());
        let mut total = ReminderTick::default();
        let mut looked_at = HashSet::new();
        for task in due {
            let mut after = None;
            loop {
                // The rows of this task whose next reminder has come, without their
                // owners' states; only the owners of rows due now are loaded, with all
                // their rows (N7).
                let now = self.now();
                let rows = self
                    .store
                    .rows_due(event, task, now, after, self.config.batch_size)
                    .await?;
                let page = rows.len();
                after = rows.last().map(|r| r.owner);
                looked_at.extend(rows.iter().map(|r| r.owner));
                let Some(t) = ctx.tasks.get(&task) else {
                    break;
                };
                let settings = &ctx.event.settings;
                let (due_rows, idle): (Vec<_>, Vec<_>) = rows
                    .iter()
                    .partition(|r| reminder_due_now(t, r, settings, now));
                let owners: Vec<ParticipantId> = due_rows.iter().map(|r| r.owner).collect();
                // A row found with nothing due whose stored next reminder is not its own
                // (stored before the library kept it) gets it, so it is not read again.
                let stale: Vec<ParticipantId> = idle
                    .iter()
                    .filter(|r| r.next_reminder_at != next_reminder_at(t, r, settings))
                    .map(|r| r.owner)
                    .collect();
                if !stale.is_empty() {
                    retry!(self, {
                        let ctx = self.context(actor, event).await?;
                        let states = self
                            .store
                            .participant_slices(event, &stale, &[task])
                            .await?;
                        let mut unit = UnitOfWork::new(&ctx, self.now(), Actor::System);
                        unit.restrict_to(vec![task]);
                        unit.refresh_reminders();
                        for s in states {
                            unit.add(s);
                        }
                        self.commit(unit.into_changes()).await
                    })?;
                }
                if !owners.is_empty() {
                    let tick = retry!(self, {
                        let ctx = self.context(actor, event).await?;
                        // Only rows of tasks with a deadline can have a reminder, due now
                        // or grouped with one (N7): the owners are loaded with those alone.
                        let reminded: Vec<TaskId> = ctx
                            .tasks
                            .values()
                            .filter(|t| t.is_published() && t.config.deadline.is_some())
                            .map(|t| t.id)
                            .collect();
                        let states = self
                            .store
                            .participant_slices(event, &owners, &reminded)
                            .await?;
                        self.remind_page(&ctx, states, reminded).await
                    })?;
                    total.reminders += tick.reminders;
                    total.messages += tick.messages;
                }
                if page < self.config.batch_size {
                    break;
                }
            }
        }
        total.participants = looked_at.len() as u64;
        Ok(total)
    }

    /// Queues the reminders due now for one page of participants' states holding the rows
    /// of `tasks` (those with a deadline), grouped per recipient (N7), and marks their
    /// rows, in one transaction.
    async fn remind_page(
        &self,
        ctx: &super::Ctx,
        states: Vec<ParticipantState>,
        tasks: Vec<TaskId>,
    ) -> Result<ReminderTick> {
        let now = self.now();
        let soon = now + self.config.reminder_window;
        let settings = &ctx.event.settings;
        let mut tick = ReminderTick::default();
        let pairs = states
            .iter()
            .flat_map(|s| s.progress.values().map(move |row| (&*s.participant, row)));
        let groups = due_reminders(pairs, &ctx.tasks, settings, now, soon);
        if groups.is_empty() {
            return Ok(tick);
        }
        // The page's states by id, moved into the unit as their rows get marks.
        let mut states: HashMap<ParticipantId, ParticipantState> =
            states.into_iter().map(|s| (s.participant.id, s)).collect();
        let mut unit = UnitOfWork::new(ctx, now, Actor::System);
        // The states hold the rows of `tasks` alone.
        unit.restrict_to(tasks);
        for group in groups {
            for (item, mark) in group.marks() {
                if let Some(state) = states.remove(&item.owner) {
                    unit.add(state);
                }
                if let Some(row) = unit
                    .get(item.owner)
                    .and_then(|w| w.rows.get_mut(&item.task))
                {
                    row.mark_reminded(mark);
                }
            }
            tick.reminders += group.items.len() as u64;
            tick.messages += 1;
            let (message, key) = group.message();
            unit.notify(group.recipient, message, key);
        }
        self.commit(unit.into_changes()).await?;
        Ok(tick)
    }

    /// Runs [`Punchlist::tick_reminders`] for each of `events` every `every`, until the
    /// future is dropped (spawn it, and abort the task to stop it). A failed tick is
    /// logged and tried again at the next one.
    pub async fn run_reminders(&self, events: &[EventId], every: std::time::Duration) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            for event in events {
                match self.tick_reminders(&Actor::System, *event).await {
                    Ok(tick) if tick.messages > 0 => {
                        tracing::info!(%event, reminders = tick.reminders, messages = tick.messages, "reminders queued");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(%event, error = %e, "reminder tick failed"),
                }
            }
        }
    }
}

/// Whom "remind now" reaches (B5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemindTarget {
    /// One participant (the reminder goes to whoever holds their task).
    Participant(ParticipantId),
    /// Every targeted participant who has not done the task.
    AllIncomplete,
}

/// What one reminder tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReminderTick {
    /// Participants looked at: those with a row still to do of a task whose reminder
    /// time has come.
    pub participants: u64,
    /// Reminders queued (one per task and recipient).
    pub reminders: u64,
    /// Messages queued (reminders grouped per recipient, N7).
    pub messages: u64,
}
