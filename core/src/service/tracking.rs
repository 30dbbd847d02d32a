//! Tracking reads for organizers: the live stream (B1), histories, the outbox,
//! and resuming paged work.

use tracing::instrument;

use super::Punchlist;
use crate::actor::{self, Actor};
use crate::clock::Clock;
use crate::error::Result;
use crate::figures::TaskFigures;
use crate::history::{HistoryEntry, Subject};
use crate::ids::{EventId, HistoryId, OutboxId, TaskId};
use crate::limits;
use crate::notify::{OutboxEntry, OutboxFilter};
use crate::store::{ProgressFeed, Store};
use crate::task::TaskState;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// The live stream of the event's progress changes, for its organizers (B1): every
    /// change committed from now on, by this or any other instance sharing the store.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn progress_feed(&self, actor: &Actor, event: EventId) -> Result<ProgressFeed> {
        self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        self.store.progress_feed(event).await
    }

    /// The figures of every published or archived task (B3): targeted, done, awaiting
    /// review, overdue and rate, ordered by position. They are read from counters kept in
    /// the same transactions as the progress they count, so this costs the same at any
    /// population. (A participant's own done / total is the `summary` of
    /// [`tasks_of`](Self::tasks_of), read from that participant's rows only.)
    #[instrument(skip_all, fields(event = %event))]
    pub async fn task_figures(&self, actor: &Actor, event: EventId) -> Result<Vec<TaskFigures>> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        self.figures_of(&ctx).await
    }

    /// The figures of the tasks of `ctx`, read from the counters.
    pub(super) async fn figures_of(&self, ctx: &super::Ctx) -> Result<Vec<TaskFigures>> {
        let counters = self.store.task_counters(ctx.event.id).await?;
        let now = self.now();
        let mut tasks: Vec<_> = ctx
            .tasks
            .values()
            .filter(|t| t.state != TaskState::Draft)
            .collect();
        tasks.sort_by_key(|t| (t.config.position, t.id));
        Ok(tasks
            .into_iter()
            .map(|t| {
                let c = counters.get(&t.id).copied().unwrap_or_default();
                TaskFigures::new(t.id, c, t.config.deadline, now)
            })
            .collect())
    }

    /// A task's history, newest first, for the organizers (T2).
    #[instrument(skip_all, fields(event = %event, task = %task))]
    pub async fn task_history(
        &self,
        actor: &Actor,
        event: EventId,
        task: TaskId,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        actor::require_staff(actor, event, TaskId::ENTITY, task)?;
        self.store
            .history(
                event,
                Subject::Task(task),
                before,
                limits::page(limit, limits::PAGE)?,
            )
            .await
    }

    /// The event's notifications that pass `filter` (by recipient, kind and state), in id
    /// order after `after`, for the organizers: a page (see
    /// [paging](crate::limits#paging)).
    #[instrument(skip_all, fields(event = %event))]
    pub async fn outbox(
        &self,
        actor: &Actor,
        event: EventId,
        filter: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let limit = limits::page(limit, limits::PAGE)?;
        self.store.outbox(event, filter, after, limit).await
    }

    /// Finishes the paged work a crash interrupted (publishing, re-evaluation). Call it at
    /// start-up for each event; returns how many sweeps it finished.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn resume_sweeps(&self, actor: &Actor, event: EventId) -> Result<usize> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let sweeps = self.store.sweeps(event).await?;
        let n = sweeps.len();
        for sweep in sweeps {
            self.run_sweep(sweep).await?;
        }
        Ok(n)
    }
}
