//! The participant's Tasks section (P1–P5): the list, completing and undoing, assigning
//! to a collaborator and taking back.

use super::{Ctx, Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, ParticipantId, TaskId};
use crate::notify::Notification;
use crate::participant::team::check_can_assign;
use crate::progress::{Hand, Handover, Progress, TaskList, Tick, is_visible};
use crate::store::{ParticipantState, Store, StoreExt};
use crate::task::Task;
use crate::timeline::TimelineKind;
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// The Tasks section of the acting participant (P1, P2, P5).
    #[instrument(skip_all, fields(event = %event))]
    pub async fn my_tasks(&self, actor: &Actor, event: EventId) -> Result<TaskList> {
        let me = actor::require_participant(actor, event)?;
        self.tasks_of(actor, event, me).await
    }

    /// The Tasks section of `participant`, as they see it: for themselves and for the
    /// event's organizers. The tasks they own that are published and target them, plus the
    /// tasks collaborators' owners assigned to them (visibility decided by the owner, S2),
    /// ordered by position, then deadline, then name.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn tasks_of(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<TaskList> {
        let ctx = self.context(actor, event).await?;
        let state = self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let settings = &ctx.event.settings;
        let assigned = if settings.tasks_enabled {
            self.store.assigned_to(event, participant).await?
        } else {
            Vec::new()
        };
        Ok(TaskList::build(
            &state.participant,
            settings,
            &ctx.tasks,
            state.progress.values(),
            &assigned,
            self.now(),
        ))
    }

    /// Marks a manual task done (P3), by its owner, the collaborator holding it, or an
    /// organizer. Completing a done task changes nothing. Automatic tasks cannot be ticked.
    #[instrument(skip_all, fields(event = %event, owner = %owner, task = %task))]
    pub async fn complete_task(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.tick(actor, event, owner, task, Tick::Done).await
    }

    /// Puts a manual task back to do (P3). A task an organizer validated stays done for
    /// participants: only an organizer can invalidate it.
    #[instrument(skip_all, fields(event = %event, owner = %owner, task = %task))]
    pub async fn undo_task(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.tick(actor, event, owner, task, Tick::Undo).await
    }

    pub(super) async fn tick(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task_id: TaskId,
        tick: Tick,
    ) -> Result<Progress> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, owner).await?;
            let (task, mut row, hand) = visible_row(&ctx, &state, actor, task_id)?;
            let now = self.now();
            let before = row.clone();
            if !row.tick(task, tick, hand, actor, now)? {
                return Ok(row);
            }
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            unit.add(state).rows.insert(task_id, row.clone());
            if hand.is_staff() {
                // T3: what an organizer decides by hand is recorded in the history.
                unit.progress_history(owner, &before, &row);
            }
            self.commit(unit.into_changes()).await?;
            Ok(row)
        })
    }

    /// Hands one of `owner`'s tasks to one of *their* collaborators, or to another one
    /// (reassign) (P4). The collaborator sees it in their list, can complete it if it is
    /// manual, gets its reminders, and is notified at once (N2, always). Assigning it to
    /// the one already holding it changes nothing.
    ///
    /// Someone outside the owner's team is refused with [`Error::Forbidden`]: an owner
    /// may hand their tasks only to their own collaborators (teams one level deep).
    #[instrument(skip_all, fields(event = %event, owner = %owner, task = %task, assignee = %assignee))]
    pub async fn assign_task(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
        assignee: ParticipantId,
    ) -> Result<Progress> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, owner).await?;
            let (_, mut row, hand) = visible_row(&ctx, &state, actor, task)?;
            hand.require_owner("assign it")?;
            let target = self
                .store
                .participant(event, assignee)
                .await?
                .ok_or_else(|| Error::not_found(ParticipantId::ENTITY, assignee))?;
            check_can_assign(owner, &target.participant)?;
            super::not_erased(&target)?;
            let now = self.now();
            let Handover::Assigned { from: previous } = row.assign(assignee, now) else {
                return Ok(row);
            };
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            unit.add(state).rows.insert(task, row.clone());
            unit.timeline(owner, TimelineKind::TaskAssigned { task, assignee });
            unit.timeline(assignee, TimelineKind::TaskReceived { task, owner });
            if let Some(from) = previous {
                unit.timeline(from, TimelineKind::TaskTakenBack { task, from });
            }
            let key = format!(
                "assignment:{task}:{owner}:{assignee}:{}",
                crate::ids::OutboxId::new_at(now)
            );
            unit.notify(assignee, Notification::Assignment { task, owner }, key);
            self.commit(unit.into_changes()).await?;
            Ok(row)
        })
    }

    /// Takes a task back from the collaborator holding it (P4). Taking back a task no one
    /// holds changes nothing.
    #[instrument(skip_all, fields(event = %event, owner = %owner, task = %task))]
    pub async fn take_back_task(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, owner).await?;
            let (_, mut row, hand) = visible_row(&ctx, &state, actor, task)?;
            hand.require_owner("take it back")?;
            let now = self.now();
            let Handover::TakenBack { from } = row.take_back(now) else {
                return Ok(row);
            };
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            unit.add(state).rows.insert(task, row.clone());
            unit.timeline(owner, TimelineKind::TaskTakenBack { task, from });
            unit.timeline(from, TimelineKind::TaskTakenBack { task, from });
            self.commit(unit.into_changes()).await?;
            Ok(row)
        })
    }
}

/// The row of a task visible to `state`'s participant, and whose hand the actor is on it. A task
/// the actor cannot see is `NotFound` (a participant learns nothing of drafts or of other
/// segments' tasks); a row of another participant is `Forbidden`.
pub(super) fn visible_row<'c>(
    ctx: &'c Ctx,
    state: &ParticipantState,
    actor: &Actor,
    task_id: TaskId,
) -> Result<(&'c Task, Progress, Hand)> {
    let owner = state.participant.id;
    let event = ctx.event.id;
    actor::require_same_event(actor, event, TaskId::ENTITY, task_id)?;
    let row = state.progress.get(&task_id);
    let hand = Hand::of(actor, owner, row.and_then(|r| r.assignee))?;
    if !hand.is_staff() && !ctx.event.settings.tasks_enabled {
        return Err(Error::forbidden("the Tasks feature is off for this event"));
    }
    let task = ctx.task(task_id)?;
    match row {
        Some(row) if is_visible(task, row) => Ok((task, row.clone(), hand)),
        _ => Err(Error::not_found(TaskId::ENTITY, task_id)),
    }
}
