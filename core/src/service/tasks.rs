//! Tasks in the back office (T1, T2, T5): creating them (by hand, from a template, from
//! another edition), editing, publishing, archiving, deleting, and their history.

use super::{Ctx, Punchlist, UnitOfWork, retry};
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::history::{HistoryEntry, Subject};
use crate::ids::{EventId, HistoryId, SegmentId, TaskId};
use crate::progress::notified_on_publish;
use crate::segment::Segment;
use crate::store::Store;
use crate::task::{HelpLink, Task, TaskConfig, TaskState, Template};
use crate::{actor, limits};
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    // ----- tasks ------------------------------------------------------------------------

    /// Creates a task as a draft (T1).
    #[instrument(skip_all, fields(event = %event))]
    pub async fn create_task(
        &self,
        actor: &Actor,
        event: EventId,
        config: TaskConfig,
    ) -> Result<Task> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            actor::require_staff(actor, event, EventId::ENTITY, event)?;
            let config = validate_task_config(&ctx, config.clone())?;
            let now = self.now();
            let task = Task {
                id: TaskId::new_at(now),
                event,
                config,
                state: TaskState::Draft,
                created_at: now,
                updated_at: now,
                published_at: None,
                version: 1,
            };
            // A draft is seen by no one: participants' writes need not conflict with it.
            let mut cs = UnitOfWork::new(&ctx, now, actor.clone()).into_changes();
            cs.tasks.push(task.clone());
            self.store.apply(cs).await?;
            Ok(task)
        })
    }

    /// Creates a draft from a template of the popular use cases (T5), linking to `help`.
    #[instrument(skip_all, fields(event = %event, template = template.key()))]
    pub async fn create_task_from_template(
        &self,
        actor: &Actor,
        event: EventId,
        template: &Template,
        help: HelpLink,
    ) -> Result<Task> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let config = template.draft(&ctx.event.settings, help)?;
        self.create_task(actor, event, config).await
    }

    /// Copies tasks from another event (last year's edition) as drafts of `event` (T2).
    ///
    /// `source_actor` must be staff of `from` (the host vouches for the organizer's access
    /// to both events; `Actor::System` works for both). `tasks: None` copies every task of
    /// `from`, in position order. Texts keep the target
    /// event's languages (the source's default-language text stands in for a missing
    /// default); a task's segment is matched by name in the target event, or copied into
    /// it when absent (a segment with an explicit member list cannot be copied, since its
    /// members belong to the other event). Deadlines move by `deadline_shift`, or are
    /// cleared when it is `None`. Everything is written in one transaction, or nothing.
    #[instrument(skip_all, fields(event = %event, from = %from))]
    pub async fn copy_tasks(
        &self,
        actor: &Actor,
        event: EventId,
        source_actor: &Actor,
        from: EventId,
        tasks: Option<&[TaskId]>,
        deadline_shift: Option<chrono::Duration>,
    ) -> Result<Vec<Task>> {
        let source = self.context(source_actor, from).await?;
        actor::require_staff(source_actor, from, EventId::ENTITY, from)?;
        let picked: Vec<&Task> = match tasks {
            Some(ids) => ids
                .iter()
                .map(|id| source.task(*id))
                .collect::<Result<_>>()?,
            None => {
                let mut all: Vec<&Task> = source.tasks.values().collect();
                all.sort_by_key(|t| (t.config.position, t.id));
                all
            }
        };
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            actor::require_staff(actor, event, EventId::ENTITY, event)?;
            let settings = &ctx.event.settings;
            let now = self.now();
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            let mut new_segments: Vec<Segment> = Vec::new();
            let mut created = Vec::new();
            for (i, old) in picked.iter().enumerate() {
                let at = |e: Error| e.within(&format!("tasks[{i}]"));
                let mut config = old.config.clone();
                config.texts.retain(|l, _| settings.languages.contains(l));
                if !config.texts.contains_key(&settings.default_language) {
                    let text = old
                        .text(&settings.default_language, &source.event.settings)
                        .clone();
                    config.texts.insert(settings.default_language.clone(), text);
                }
                config.deadline = deadline_shift
                    .and_then(|d| config.deadline.and_then(|x| x.checked_add_signed(d)));
                if let Some(sid) = old.config.segment {
                    let seg = source.task_segment(sid)?;
                    let target = ctx
                        .segments
                        .values()
                        .chain(new_segments.iter())
                        .find(|s| s.name == seg.name)
                        .map(|s| s.id);
                    config.segment = match target {
                        Some(id) => Some(id),
                        None => {
                            if seg.rule.names_members() {
                                return Err(at(Error::invalid(
                                    "segment",
                                    format!(
                                        "segment {:?} lists members of the other event; define it here first",
                                        seg.name
                                    ),
                                )));
                            }
                            seg.rule.validate(settings).map_err(at)?;
                            let copy = Segment {
                                id: SegmentId::new_at(now),
                                event,
                                name: seg.name.clone(),
                                rule: seg.rule.clone(),
                                created_at: now,
                                version: 1,
                            };
                            let id = copy.id;
                            new_segments.push(copy);
                            Some(id)
                        }
                    };
                }
                let config = config.validate(settings).map_err(at)?;
                let task = Task {
                    id: TaskId::new_at(now),
                    event,
                    config,
                    state: TaskState::Draft,
                    created_at: now,
                    updated_at: now,
                    published_at: None,
                    version: 1,
                };
                unit.history_values(
                    Subject::Task(task.id),
                    &serde_json::json!({}),
                    &serde_json::json!({ "copied_from": { "event": from, "task": old.id } }),
                );
                created.push(task);
            }
            // Drafts and new segments are seen by no one: no configuration bump.
            let mut cs = unit.into_changes();
            cs.segments.extend(new_segments);
            cs.tasks.extend(created.iter().cloned());
            self.commit(cs).await?;
            Ok(created)
        })
    }

    /// One task, for the organizers.
    #[instrument(skip_all, fields(event = %event, task = %id))]
    pub async fn task(&self, actor: &Actor, event: EventId, id: TaskId) -> Result<Task> {
        let ctx = self.context(actor, event).await?;
        let task = ctx.task(id)?;
        actor::require_staff(actor, event, TaskId::ENTITY, id)?;
        Ok(task.clone())
    }

    /// Every task of the event, ordered by position then creation.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn tasks(&self, actor: &Actor, event: EventId) -> Result<Vec<Task>> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let mut tasks: Vec<Task> = ctx.tasks.values().cloned().collect();
        tasks.sort_by_key(|t| (t.config.position, t.id));
        Ok(tasks)
    }

    /// Replaces a task's configuration (T2). Allowed on drafts and published tasks; the
    /// task's history gets one line per changed field. On a published task, a new segment
    /// or condition re-evaluates it for every participant (in batches); a new deadline
    /// reschedules its reminders (their keys include the deadline).
    #[instrument(skip_all, fields(event = %event, task = %id))]
    pub async fn update_task(
        &self,
        actor: &Actor,
        event: EventId,
        id: TaskId,
        config: TaskConfig,
    ) -> Result<Task> {
        let (task, sweep) = retry!(self, {
            let ctx = self.context(actor, event).await?;
            let old = ctx.task(id)?;
            actor::require_staff(actor, event, TaskId::ENTITY, id)?;
            if old.state == TaskState::Archived {
                return Err(Error::state(
                    TaskId::ENTITY,
                    id,
                    "an archived task cannot be edited",
                ));
            }
            let config = validate_task_config(&ctx, config.clone())?;
            let now = self.now();
            let mut task = old.clone();
            task.config = config;
            task.updated_at = now;
            task.version += 1;
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            unit.history(Subject::Task(id), &old.config, &task.config);
            // A new segment or condition moves rows; a new deadline or set of offsets
            // moves every row's next reminder (N3) and resolved deadline: the sweep rewrites them.
            let reevaluate = task.is_published()
                && (old.config.segment != task.config.segment
                    || old.config.completion != task.config.completion
                    || old.config.deadline != task.config.deadline
                    || old.config.reminder_offsets != task.config.reminder_offsets);
            let sweep = reevaluate.then(|| self.sweep(event, vec![id], Vec::new()));
            if task.is_published() {
                unit.bump_config();
            }
            let mut cs = unit.into_changes();
            cs.tasks.push(task.clone());
            cs.sweeps.extend(sweep.clone());
            self.commit(cs).await?;
            Ok((task, sweep))
        })?;
        if let Some(sweep) = sweep {
            self.run_sweep(sweep).await?;
        }
        Ok(task)
    }

    /// Publishes a draft (T2): participants of its segment see it; automatic tasks count
    /// work already done at once (T4); with `notify_on_publish` they get a notice (N1).
    #[instrument(skip_all, fields(event = %event, task = %id))]
    pub async fn publish_task(&self, actor: &Actor, event: EventId, id: TaskId) -> Result<Task> {
        let mut tasks = self.publish_tasks(actor, event, &[id]).await?;
        Ok(tasks.remove(0))
    }

    /// Publishes several drafts together: a participant targeted by several of them gets
    /// one notice listing them (N7). The work over participants runs in batches, each its
    /// own transaction, and resumes after a crash ([`Punchlist::resume_sweeps`]).
    ///
    /// The call returns once every batch is done. If a batch fails (storage down, or
    /// conflicts beyond [`Config::max_attempts`](crate::Config::max_attempts)), the error is returned but the tasks
    /// stay published and the sweep stays recorded: `resume_sweeps` finishes it. The same
    /// holds for the re-evaluation after `update_task`, `update_segment` and
    /// `update_event`.
    #[instrument(skip_all, fields(event = %event, tasks = ids.len()))]
    pub async fn publish_tasks(
        &self,
        actor: &Actor,
        event: EventId,
        ids: &[TaskId],
    ) -> Result<Vec<Task>> {
        if ids.is_empty() {
            return Err(Error::invalid("tasks", "name at least one task to publish"));
        }
        let (tasks, sweep) = retry!(self, {
            let ctx = self.context(actor, event).await?;
            let now = self.now();
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            let mut tasks = Vec::new();
            for id in ids {
                let old = ctx.task(*id)?;
                actor::require_staff(actor, event, TaskId::ENTITY, id)?;
                if tasks.iter().any(|t: &Task| t.id == *id) {
                    return Err(Error::invalid(
                        "tasks",
                        format!("task {id} is listed twice"),
                    ));
                }
                if old.state != TaskState::Draft {
                    return Err(Error::state(
                        TaskId::ENTITY,
                        id,
                        "only a draft can be published, and this task is not one",
                    ));
                }
                let mut task = old.clone();
                task.state = TaskState::Published;
                task.published_at = Some(now);
                task.updated_at = now;
                task.version += 1;
                unit.history_values(
                    Subject::Task(*id),
                    &state_json(old.state),
                    &state_json(task.state),
                );
                tasks.push(task);
            }
            let notify = notified_on_publish(&tasks);
            let sweep = self.sweep(event, ids.to_vec(), notify);
            unit.bump_config();
            let mut cs = unit.into_changes();
            cs.tasks.extend(tasks.iter().cloned());
            cs.sweeps.push(sweep.clone());
            self.commit(cs).await?;
            Ok((tasks, sweep))
        })?;
        self.run_sweep(sweep).await?;
        Ok(tasks)
    }

    /// Archives a published task (T2): participants no longer see it; its progress is kept
    /// for reporting.
    #[instrument(skip_all, fields(event = %event, task = %id))]
    pub async fn archive_task(&self, actor: &Actor, event: EventId, id: TaskId) -> Result<Task> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let old = ctx.task(id)?;
            actor::require_staff(actor, event, TaskId::ENTITY, id)?;
            if old.state != TaskState::Published {
                return Err(Error::state(
                    TaskId::ENTITY,
                    id,
                    "only a published task can be archived",
                ));
            }
            let mut task = old.clone();
            task.state = TaskState::Archived;
            task.updated_at = self.now();
            task.version += 1;
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
            unit.history_values(
                Subject::Task(id),
                &state_json(old.state),
                &state_json(task.state),
            );
            unit.bump_config();
            let mut cs = unit.into_changes();
            cs.tasks.push(task.clone());
            self.commit(cs).await?;
            Ok(task)
        })
    }

    /// Deletes a draft (T2). Published tasks are archived instead, so progress is kept.
    #[instrument(skip_all, fields(event = %event, task = %id))]
    pub async fn delete_task(&self, actor: &Actor, event: EventId, id: TaskId) -> Result<()> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let old = ctx.task(id)?;
            actor::require_staff(actor, event, TaskId::ENTITY, id)?;
            if old.state != TaskState::Draft {
                return Err(Error::state(
                    TaskId::ENTITY,
                    id,
                    "only a draft can be deleted; archive a published task instead",
                ));
            }
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
            unit.history_values(
                Subject::Task(id),
                &state_json(old.state),
                &serde_json::json!({ "state": "deleted" }),
            );
            let mut cs = unit.into_changes();
            cs.deleted_tasks.push((id, old.version));
            self.commit(cs).await
        })
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
}

/// The history view of a task's state: one field, `state`.
pub(super) fn state_json(state: TaskState) -> serde_json::Value {
    serde_json::json!({ "state": state })
}

/// Validates a task configuration, including that its segment exists in the event.
pub(super) fn validate_task_config(ctx: &Ctx, config: TaskConfig) -> Result<TaskConfig> {
    let config = config.validate(&ctx.event.settings)?;
    if let Some(s) = config.segment
        && !ctx.segments.contains_key(&s)
    {
        return Err(Error::invalid(
            "segment",
            format!("segment {s} does not exist in this event"),
        ));
    }
    Ok(config)
}
