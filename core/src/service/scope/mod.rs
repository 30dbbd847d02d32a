//! Scoped handles: one event, one actor, so a call names neither again. A scope checks
//! nothing by itself; each operation checks the actor as it does when called on
//! [`Punchlist`] directly. The calls that take no event (creating an event, the
//! reminder loop) stay on [`Punchlist`].

use std::io;

mod record;

use super::Punchlist;
use crate::clock::Clock;
use crate::store::Store;
use crate::*;

/// One event as one actor sees it: every operation of [`Punchlist`] that takes
/// `(actor, event)`, without the two arguments. Made with [`Punchlist::event`]; cheap, it
/// borrows the service and the actor.
///
/// ```
/// # use punchlist::*;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<()> {
/// let service = Punchlist::new(MemoryStore::new(), SystemClock);
/// let en = Language::new("en")?;
/// let event = service.create_event(&Actor::System, EventSettings::new("Expo", en.clone())).await?;
/// let organizer = Actor::organizer(AdminId::new("alice")?, event.id);
/// let org = service.event(&organizer, event.id);
/// let task = org
///     .create_task(TaskConfig::manual(en, "Book your hotel", HelpLink::WebPage {
///         url: "https://expo.example/hotel".into(),
///     }))
///     .await?;
/// org.publish_task(task.id).await?;
/// assert_eq!(org.get().await?.settings.name, "Expo");
/// # Ok(())
/// # }
/// ```
pub struct EventScope<'a, S: ?Sized, C> {
    service: &'a Punchlist<S, C>,
    actor: &'a Actor,
    event: EventId,
}

impl<'a, S: ?Sized, C> Clone for EventScope<'a, S, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<'a, S: ?Sized, C> Copy for EventScope<'a, S, C> {}

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// A handle on `event` for `actor`: the same operations without the two arguments.
    pub fn event<'a>(&'a self, actor: &'a Actor, event: EventId) -> EventScope<'a, S, C> {
        EventScope {
            service: self,
            actor,
            event,
        }
    }
}

impl<'a, S: Store + ?Sized, C: Clock> EventScope<'a, S, C> {
    /// The actor.
    pub fn actor(&self) -> &'a Actor {
        self.actor
    }

    /// The event's id.
    pub fn id(&self) -> EventId {
        self.event
    }

    /// [`Punchlist::validate_task`] in this scope.
    pub async fn validate_task(&self, owner: ParticipantId, task: TaskId) -> Result<Progress> {
        self.service
            .validate_task(self.actor, self.event, owner, task)
            .await
    }

    /// [`Punchlist::invalidate_task`] in this scope.
    pub async fn invalidate_task(&self, owner: ParticipantId, task: TaskId) -> Result<Progress> {
        self.service
            .invalidate_task(self.actor, self.event, owner, task)
            .await
    }

    /// [`Punchlist::follow_condition`] in this scope.
    pub async fn follow_condition(&self, owner: ParticipantId, task: TaskId) -> Result<Progress> {
        self.service
            .follow_condition(self.actor, self.event, owner, task)
            .await
    }

    /// [`Punchlist::accept_submission`] in this scope.
    pub async fn accept_submission(&self, owner: ParticipantId, task: TaskId) -> Result<Progress> {
        self.service
            .accept_submission(self.actor, self.event, owner, task)
            .await
    }

    /// [`Punchlist::reject_submission`] in this scope.
    pub async fn reject_submission(
        &self,
        owner: ParticipantId,
        task: TaskId,
        reason: &str,
    ) -> Result<Progress> {
        self.service
            .reject_submission(self.actor, self.event, owner, task, reason)
            .await
    }

    /// [`Punchlist::decide_many`] in this scope.
    pub async fn decide_many(
        &self,
        task: TaskId,
        owners: &[ParticipantId],
        decision: Decision,
    ) -> Result<Vec<Result<Progress>>> {
        self.service
            .decide_many(self.actor, self.event, task, owners, decision)
            .await
    }

    /// The event: its settings, version and creation time, for its organizers.
    pub async fn get(&self) -> Result<Event> {
        self.service.event_record(self.actor, self.event).await
    }

    /// [`Punchlist::update_event`] in this scope.
    pub async fn update_event(&self, settings: EventSettings) -> Result<Event> {
        self.service
            .update_event(self.actor, self.event, settings)
            .await
    }

    /// [`Punchlist::ingest`] in this scope.
    pub async fn ingest(&self, host_event: HostEvent) -> Result<IngestOutcome> {
        self.service
            .ingest(self.actor, self.event, host_event)
            .await
    }

    /// [`Punchlist::ingest_batch`] in this scope.
    pub async fn ingest_batch(&self, events: Vec<HostEvent>) -> Result<Vec<Result<IngestOutcome>>> {
        self.service
            .ingest_batch(self.actor, self.event, events)
            .await
    }

    /// [`Punchlist::report_actions`] in this scope.
    pub async fn report_actions(
        &self,
        actions: Vec<HostAction>,
    ) -> Result<Vec<Result<IngestOutcome>>> {
        self.service
            .report_actions(self.actor, self.event, actions)
            .await
    }

    /// [`Punchlist::my_tasks`] in this scope.
    pub async fn my_tasks(&self) -> Result<TaskList> {
        self.service.my_tasks(self.actor, self.event).await
    }

    /// [`Punchlist::tasks_of`] in this scope.
    pub async fn tasks_of(&self, participant: ParticipantId) -> Result<TaskList> {
        self.service
            .tasks_of(self.actor, self.event, participant)
            .await
    }

    /// [`Punchlist::complete_task`] in this scope.
    pub async fn complete_task(&self, owner: ParticipantId, task: TaskId) -> Result<Progress> {
        self.service
            .complete_task(self.actor, self.event, owner, task)
            .await
    }

    /// [`Punchlist::undo_task`] in this scope.
    pub async fn undo_task(&self, owner: ParticipantId, task: TaskId) -> Result<Progress> {
        self.service
            .undo_task(self.actor, self.event, owner, task)
            .await
    }

    /// [`Punchlist::assign_task`] in this scope.
    pub async fn assign_task(
        &self,
        owner: ParticipantId,
        task: TaskId,
        assignee: ParticipantId,
    ) -> Result<Progress> {
        self.service
            .assign_task(self.actor, self.event, owner, task, assignee)
            .await
    }

    /// [`Punchlist::take_back_task`] in this scope.
    pub async fn take_back_task(&self, owner: ParticipantId, task: TaskId) -> Result<Progress> {
        self.service
            .take_back_task(self.actor, self.event, owner, task)
            .await
    }

    /// [`Punchlist::dead_letters`] in this scope.
    pub async fn dead_letters(
        &self,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        self.service
            .dead_letters(self.actor, self.event, after, limit)
            .await
    }

    /// [`Punchlist::retry_dead_letters`] in this scope.
    pub async fn retry_dead_letters(&self, ids: &[OutboxId]) -> Result<Vec<OutboxId>> {
        self.service
            .retry_dead_letters(self.actor, self.event, ids)
            .await
    }

    /// [`Punchlist::outbox`] in this scope.
    pub async fn outbox(
        &self,
        filter: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        self.service
            .outbox(self.actor, self.event, filter, after, limit)
            .await
    }

    /// [`Punchlist::remind_now`] in this scope.
    pub async fn remind_now(&self, task: TaskId, target: RemindTarget) -> Result<u64> {
        self.service
            .remind_now(self.actor, self.event, task, target)
            .await
    }

    /// [`Punchlist::tick_reminders`] in this scope.
    pub async fn tick_reminders(&self) -> Result<ReminderTick> {
        self.service.tick_reminders(self.actor, self.event).await
    }

    /// [`Punchlist::create_segment`] in this scope.
    pub async fn create_segment(&self, draft: SegmentDraft) -> Result<Segment> {
        self.service
            .create_segment(self.actor, self.event, draft)
            .await
    }

    /// [`Punchlist::update_segment`] in this scope.
    pub async fn update_segment(&self, id: SegmentId, draft: SegmentDraft) -> Result<Segment> {
        self.service
            .update_segment(self.actor, self.event, id, draft)
            .await
    }

    /// [`Punchlist::delete_segment`] in this scope.
    pub async fn delete_segment(&self, id: SegmentId) -> Result<()> {
        self.service
            .delete_segment(self.actor, self.event, id)
            .await
    }

    /// [`Punchlist::segments`] in this scope.
    pub async fn segments(&self) -> Result<Vec<Segment>> {
        self.service.segments(self.actor, self.event).await
    }

    /// [`Punchlist::preview_segment`] in this scope.
    pub async fn preview_segment(&self, rule: &Rule, limit: usize) -> Result<SegmentPreview> {
        self.service
            .preview_segment(self.actor, self.event, rule, limit)
            .await
    }

    /// [`Punchlist::resume_sweeps`] in this scope.
    pub async fn resume_sweeps(&self) -> Result<usize> {
        self.service.resume_sweeps(self.actor, self.event).await
    }

    /// [`Punchlist::create_task`] in this scope.
    pub async fn create_task(&self, config: TaskConfig) -> Result<Task> {
        self.service
            .create_task(self.actor, self.event, config)
            .await
    }

    /// [`Punchlist::create_task_from_template`] in this scope.
    pub async fn create_task_from_template(
        &self,
        template: &Template,
        help: HelpLink,
    ) -> Result<Task> {
        self.service
            .create_task_from_template(self.actor, self.event, template, help)
            .await
    }

    /// [`Punchlist::copy_tasks`] in this scope.
    pub async fn copy_tasks(
        &self,
        source_actor: &Actor,
        from: EventId,
        tasks: Option<&[TaskId]>,
        deadline_shift: Option<chrono::Duration>,
    ) -> Result<Vec<Task>> {
        self.service
            .copy_tasks(
                self.actor,
                self.event,
                source_actor,
                from,
                tasks,
                deadline_shift,
            )
            .await
    }

    /// [`Punchlist::task`] in this scope.
    pub async fn task(&self, id: TaskId) -> Result<Task> {
        self.service.task(self.actor, self.event, id).await
    }

    /// [`Punchlist::tasks`] in this scope.
    pub async fn tasks(&self) -> Result<Vec<Task>> {
        self.service.tasks(self.actor, self.event).await
    }

    /// [`Punchlist::update_task`] in this scope.
    pub async fn update_task(&self, id: TaskId, config: TaskConfig) -> Result<Task> {
        self.service
            .update_task(self.actor, self.event, id, config)
            .await
    }

    /// [`Punchlist::publish_task`] in this scope.
    pub async fn publish_task(&self, id: TaskId) -> Result<Task> {
        self.service.publish_task(self.actor, self.event, id).await
    }

    /// [`Punchlist::publish_tasks`] in this scope.
    pub async fn publish_tasks(&self, ids: &[TaskId]) -> Result<Vec<Task>> {
        self.service
            .publish_tasks(self.actor, self.event, ids)
            .await
    }

    /// [`Punchlist::archive_task`] in this scope.
    pub async fn archive_task(&self, id: TaskId) -> Result<Task> {
        self.service.archive_task(self.actor, self.event, id).await
    }

    /// [`Punchlist::delete_task`] in this scope.
    pub async fn delete_task(&self, id: TaskId) -> Result<()> {
        self.service.delete_task(self.actor, self.event, id).await
    }

    /// [`Punchlist::task_history`] in this scope.
    pub async fn task_history(
        &self,
        task: TaskId,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        self.service
            .task_history(self.actor, self.event, task, before, limit)
            .await
    }

    /// [`Punchlist::matrix`] in this scope.
    pub async fn matrix(&self, request: &MatrixRequest) -> Result<MatrixPage> {
        self.service.matrix(self.actor, self.event, request).await
    }

    /// [`Punchlist::export_matrix_csv`] in this scope.
    pub async fn export_matrix_csv<W: io::Write + Send>(
        &self,
        request: &MatrixRequest,
        out: W,
    ) -> Result<u64> {
        self.service
            .export_matrix_csv(self.actor, self.event, request, out)
            .await
    }

    /// [`Punchlist::export_figures_csv`] in this scope.
    pub async fn export_figures_csv<W: io::Write + Send>(&self, out: W) -> Result<u64> {
        self.service
            .export_figures_csv(self.actor, self.event, out)
            .await
    }

    /// [`Punchlist::progress_feed`] in this scope.
    pub async fn progress_feed(&self) -> Result<ProgressFeed> {
        self.service.progress_feed(self.actor, self.event).await
    }

    /// [`Punchlist::task_figures`] in this scope.
    pub async fn task_figures(&self) -> Result<Vec<TaskFigures>> {
        self.service.task_figures(self.actor, self.event).await
    }
}
