//! Organizer operations: the event, segments (S1, S3), tasks (T1–T3), participants
//! (R1–R4) and collaborators.

use tracing::instrument;

use super::retry;
use super::{Ctx, Punchlist, Unit};
use crate::actor::{self, Actor};
use crate::change::ChangeSet;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::event::{Event, EventSettings};
use crate::history::Subject;
use std::collections::BTreeMap;

use crate::ids::{EventId, OutboxId, ParticipantId, SegmentId, TaskId};
use crate::notify::Notification;
use crate::participant::{NewParticipant, Participant, ParticipantPatch};
use crate::progress::{CompletedHow, Completion, Progress, ProgressStatus, Rejection};
use crate::segment::{Rule, Segment, SegmentDraft, SegmentPreview};
use crate::store::ParticipantState;
use crate::store::Store;
use crate::task::{HelpLink, Task, TaskConfig, TaskState, Template};
use crate::text;
use crate::timeline::TimelineKind;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    // ----- events -----------------------------------------------------------------------

    /// Creates an event. Events are created by the host itself: only [`Actor::System`] may.
    #[instrument(skip_all)]
    pub async fn create_event(&self, actor: &Actor, settings: EventSettings) -> Result<Event> {
        if *actor != Actor::System {
            return Err(Error::forbidden(
                "events are created by the host (Actor::System)",
            ));
        }
        settings.validate()?;
        let now = self.now();
        let event = Event {
            id: EventId::new_at(now),
            settings,
            created_at: now,
            version: 1,
        };
        let mut cs = ChangeSet::new(event.id);
        cs.event_record = Some(event.clone());
        self.store.apply(cs).await?;
        Ok(event)
    }

    /// The event, for its organizers.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn event(&self, actor: &Actor, event: EventId) -> Result<Event> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        Ok(ctx.event.clone())
    }

    /// Replaces the event's settings. The segments and tasks must stay valid under the new
    /// settings (a custom field a segment uses cannot go, the default language needs every
    /// task's name). A change that can move participants in or out of segments (default
    /// language, custom fields) re-evaluates every published task, in batches.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn update_event(
        &self,
        actor: &Actor,
        event: EventId,
        settings: EventSettings,
    ) -> Result<Event> {
        settings.validate()?;
        let (updated, sweep) = retry!(self, {
            let ctx = self.context(actor, event).await?;
            actor::require_staff(actor, event, EventId::ENTITY, event)?;
            for segment in ctx.segments.values() {
                segment.rule.validate(&settings).map_err(|e| {
                    Error::invalid(
                        "settings",
                        format!("segment {:?} would no longer be valid: {e}", segment.name),
                    )
                })?;
            }
            for task in ctx.tasks.values() {
                task.config.clone().validate(&settings).map_err(|e| {
                    Error::invalid(
                        "settings",
                        format!("task {} would no longer be valid: {e}", task.id),
                    )
                })?;
            }
            let old = &ctx.event.settings;
            let moves_segments = old.default_language != settings.default_language
                || old.custom_fields != settings.custom_fields;
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
            unit.history(Subject::Event, old, &settings);
            let mut updated = ctx.event.clone();
            updated.settings = settings.clone();
            updated.version += 1;
            let published: Vec<TaskId> = ctx
                .tasks
                .values()
                .filter(|t| t.is_published())
                .map(|t| t.id)
                .collect();
            let sweep = (moves_segments && !published.is_empty())
                .then(|| self.sweep(event, published, Vec::new()));
            unit.bump_config();
            let mut cs = unit.into_changes();
            cs.event_record = Some(updated.clone());
            cs.sweeps.extend(sweep.clone());
            self.commit(cs).await?;
            Ok((updated, sweep))
        })?;
        if let Some(sweep) = sweep {
            self.run_sweep(sweep).await?;
        }
        Ok(updated)
    }

    // ----- segments ---------------------------------------------------------------------

    /// Defines a segment (S1).
    #[instrument(skip_all, fields(event = %event))]
    pub async fn create_segment(
        &self,
        actor: &Actor,
        event: EventId,
        draft: SegmentDraft,
    ) -> Result<Segment> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            actor::require_staff(actor, event, EventId::ENTITY, event)?;
            let name = draft.validate(&ctx.event.settings)?;
            let now = self.now();
            let segment = Segment {
                id: SegmentId::new_at(now),
                event,
                name,
                rule: draft.rule.clone(),
                created_at: now,
                version: 1,
            };
            // A new segment targets nothing yet: participants' writes need not conflict.
            let mut cs = Unit::new(&ctx, now, actor.clone()).into_changes();
            cs.segments.push(segment.clone());
            self.store.apply(cs).await?;
            Ok(segment)
        })
    }

    /// Redefines a segment. Published tasks that target it are re-evaluated in batches:
    /// participants who leave it stop seeing them (their progress is kept), those who
    /// enter it see them, with work already done counted at once (S2, T4).
    #[instrument(skip_all, fields(event = %event, segment = %id))]
    pub async fn update_segment(
        &self,
        actor: &Actor,
        event: EventId,
        id: SegmentId,
        draft: SegmentDraft,
    ) -> Result<Segment> {
        let (segment, sweep) = retry!(self, {
            let ctx = self.context(actor, event).await?;
            let old = ctx
                .segments
                .get(&id)
                .ok_or_else(|| Error::not_found(SegmentId::ENTITY, id))?;
            actor::require_staff(actor, event, SegmentId::ENTITY, id)?;
            let name = draft.validate(&ctx.event.settings)?;
            let mut segment = old.clone();
            segment.name = name;
            segment.rule = draft.rule.clone();
            segment.version += 1;
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
            unit.history(Subject::Segment(id), old, &segment);
            let affected: Vec<TaskId> = ctx
                .tasks
                .values()
                .filter(|t| t.is_published() && t.config.segment == Some(id))
                .map(|t| t.id)
                .collect();
            let sweep = (!affected.is_empty() && old.rule != segment.rule)
                .then(|| self.sweep(event, affected, Vec::new()));
            unit.bump_config();
            let mut cs = unit.into_changes();
            cs.segments.push(segment.clone());
            cs.sweeps.extend(sweep.clone());
            self.commit(cs).await?;
            Ok((segment, sweep))
        })?;
        if let Some(sweep) = sweep {
            self.run_sweep(sweep).await?;
        }
        Ok(segment)
    }

    /// Deletes a segment that no task targets, whatever the task's state (X7): a draft,
    /// published or archived task keeps its segment for targeting and reporting, so a
    /// targeted segment answers [`Error::State`] naming the tasks; retarget or delete
    /// them first. The segment's history stays.
    #[instrument(skip_all, fields(event = %event, segment = %id))]
    pub async fn delete_segment(&self, actor: &Actor, event: EventId, id: SegmentId) -> Result<()> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let old = ctx.task_segment(id)?;
            actor::require_staff(actor, event, SegmentId::ENTITY, id)?;
            let targeting: Vec<String> = ctx
                .tasks
                .values()
                .filter(|t| t.config.segment == Some(id))
                .map(|t| t.id.to_string())
                .collect();
            if !targeting.is_empty() {
                return Err(Error::state(
                    SegmentId::ENTITY,
                    id,
                    format!("is targeted by tasks {}", targeting.join(", ")),
                ));
            }
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
            unit.history_values(
                Subject::Segment(id),
                &serde_json::json!({ "state": "defined" }),
                &serde_json::json!({ "state": "deleted" }),
            );
            unit.bump_config();
            let mut cs = unit.into_changes();
            cs.deleted_segments.push((id, old.version));
            self.commit(cs).await
        })
    }

    /// Every segment of the event.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn segments(&self, actor: &Actor, event: EventId) -> Result<Vec<Segment>> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        Ok(ctx.segments.values().cloned().collect())
    }

    /// Previews a rule before it is saved or published (S3): how many participants it
    /// targets now, and the first `limit` of them. Counting reads the event's participants
    /// in batches (a count over a rule cannot come from an index).
    #[instrument(skip_all, fields(event = %event))]
    pub async fn preview_segment(
        &self,
        actor: &Actor,
        event: EventId,
        rule: &Rule,
        limit: usize,
    ) -> Result<SegmentPreview> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        rule.validate(&ctx.event.settings)?;
        let mut preview = SegmentPreview {
            count: 0,
            members: Vec::new(),
        };
        let mut after = None;
        loop {
            let page = self
                .store
                .participants(event, after, self.config.batch_size)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.participant.id);
            for state in page {
                if rule.matches(&state.participant, &ctx.event.settings) {
                    preview.count += 1;
                    if preview.members.len() < limit {
                        preview.members.push(state.participant);
                    }
                }
            }
        }
        Ok(preview)
    }

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
            let mut cs = Unit::new(&ctx, now, actor.clone()).into_changes();
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
            let mut unit = Unit::new(&ctx, now, actor.clone());
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
            let mut unit = Unit::new(&ctx, now, actor.clone());
            unit.history(Subject::Task(id), &old.config, &task.config);
            let reevaluate = task.is_published()
                && (old.config.segment != task.config.segment
                    || old.config.completion != task.config.completion);
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
    /// conflicts beyond [`Config::get_max_attempts`]), the error is returned but the tasks
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
            let mut unit = Unit::new(&ctx, now, actor.clone());
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
            let notify = tasks
                .iter()
                .filter(|t| t.config.notify_on_publish)
                .map(|t| t.id)
                .collect();
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
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
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
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
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

    // ----- participants -----------------------------------------------------------------

    /// Registers a participant (R1–R4). Published tasks of their segments appear at once,
    /// automatic ones already evaluated.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn register_participant(
        &self,
        actor: &Actor,
        event: EventId,
        new: NewParticipant,
    ) -> Result<Participant> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            actor::require_staff(actor, event, EventId::ENTITY, event)?;
            new.validate(&ctx.event.settings)?;
            if let Some(other) = self
                .store
                .participant_by_external_id(event, &new.external_id)
                .await?
            {
                return Err(Error::invalid(
                    "external_id",
                    format!("already used by participant {other}"),
                ));
            }
            let now = self.now();
            let record = new_record(&new, event, now);
            let mut unit = Unit::new(&ctx, now, actor.clone());
            unit.add_new(record.clone());
            unit.timeline(record.id, TimelineKind::Registered);
            self.commit(unit.into_changes()).await?;
            Ok(record)
        })
    }

    /// Registers many participants (an import of registrants), each validated on its own
    /// with a result per item in order; the valid ones are written in transactions of at
    /// most [`Config::get_batch_size`] participants. An `external_id` already used, in the
    /// event or earlier in the list, is an `Invalid` item. At most [`limits::IMPORT`](crate::limits::IMPORT) per call.
    #[instrument(skip_all, fields(event = %event, items = new.len()))]
    pub async fn register_participants(
        &self,
        actor: &Actor,
        event: EventId,
        new: Vec<NewParticipant>,
    ) -> Result<Vec<Result<Participant>>> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        if new.len() > crate::limits::IMPORT {
            return Err(Error::invalid(
                "participants",
                format!("at most {} participants in one call", crate::limits::IMPORT),
            ));
        }
        let mut results = Vec::with_capacity(new.len());
        for chunk in new.chunks(self.config.batch_size) {
            let outcome = retry!(self, {
                let ctx = self.context(actor, event).await?;
                let now = self.now();
                let mut unit = Unit::new(&ctx, now, actor.clone());
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::with_capacity(chunk.len());
                for item in chunk {
                    if let Err(e) = item.validate(&ctx.event.settings) {
                        out.push(Err(e));
                        continue;
                    }
                    let taken = !seen.insert(item.external_id.clone())
                        || self
                            .store
                            .participant_by_external_id(event, &item.external_id)
                            .await?
                            .is_some();
                    if taken {
                        out.push(Err(Error::invalid(
                            "external_id",
                            format!("{} is already used in this event", item.external_id),
                        )));
                        continue;
                    }
                    let record = new_record(item, event, now);
                    unit.add_new(record.clone());
                    unit.timeline(record.id, TimelineKind::Registered);
                    out.push(Ok(record));
                }
                self.commit(unit.into_changes()).await?;
                Ok(out)
            })?;
            results.extend(outcome);
        }
        Ok(results)
    }

    /// Changes a participant's record, field by field (X8): only the fields the patch
    /// gives change. Organizers may change everything; a participant may change their own
    /// profile and networking interests only. With [`ParticipantPatch::if_version`], a
    /// record changed since that version is refused with [`Error::Conflict`] and nothing
    /// is written. The history gets one line per changed field (R12), and tasks appear or
    /// disappear as segments now say (S2), progress kept.
    #[instrument(skip_all, fields(event = %event, participant = %id))]
    pub async fn update_participant(
        &self,
        actor: &Actor,
        event: EventId,
        id: ParticipantId,
        patch: ParticipantPatch,
    ) -> Result<Participant> {
        // The outer result is what a retry may mend (a concurrent writer); the inner one
        // is final (a stale version stays stale however often it is tried).
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, id).await?;
            actor::require_self_or_staff(actor, event, id)?;
            super::not_erased(&state)?;
            if actor.as_participant().is_some() && patch.is_staff_only() {
                return Err(Error::forbidden(
                    "a participant may change their profile and networking only",
                ));
            }
            let mut record = state.participant.clone();
            if let Some(read) = patch.if_version
                && read != record.record_version
            {
                return Ok(Err(Error::conflict(ParticipantId::ENTITY, id)));
            }
            patch.apply_to(&mut record, &ctx.event.settings)?;
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
            unit.add(state).record = record.clone();
            let changes = unit.into_changes();
            // The record as written, with its version moved if anything changed.
            let written = changes
                .participants
                .iter()
                .find(|w| w.id == id)
                .and_then(|w| w.record.clone())
                .unwrap_or(record);
            self.commit(changes).await?;
            Ok(Ok(super::participant::readable(actor, event, written)))
        })?
    }

    /// Makes `collaborator` a member of `owner`'s team: they can then be assigned the
    /// owner's tasks (P4). This is the same fact as the host reporting "collaborator
    /// added" with the collaborator's `external_id`: the owner's collaborator count moves.
    #[instrument(skip_all, fields(event = %event, owner = %owner, collaborator = %collaborator))]
    pub async fn link_collaborator(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        collaborator: ParticipantId,
    ) -> Result<()> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            actor::require_staff(actor, event, ParticipantId::ENTITY, owner)?;
            let o = self.participant_state(event, owner).await?;
            let c = self.participant_state(event, collaborator).await?;
            let c_has_team = !self
                .store
                .collaborators(event, collaborator)
                .await?
                .is_empty();
            check_can_link(&o.participant, &c.participant, c_has_team)?;
            if c.participant.owner == Some(owner) {
                return Ok(());
            }
            let now = self.now();
            let mut unit = Unit::new(&ctx, now, actor.clone());
            let external = c.participant.external_id.clone();
            unit.add(o).facts.collaborators.record(external, true, now);
            unit.add(c);
            link_in(&mut unit, owner, collaborator);
            self.commit(unit.into_changes()).await
        })
    }

    /// Removes `collaborator` from `owner`'s team; the owner's tasks they held return to
    /// the owner.
    #[instrument(skip_all, fields(event = %event, owner = %owner, collaborator = %collaborator))]
    pub async fn unlink_collaborator(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        collaborator: ParticipantId,
    ) -> Result<()> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            actor::require_staff(actor, event, ParticipantId::ENTITY, owner)?;
            let o = self.participant_state(event, owner).await?;
            let c = self.participant_state(event, collaborator).await?;
            if c.participant.owner != Some(owner) {
                return Err(Error::state(
                    ParticipantId::ENTITY,
                    collaborator,
                    "is not a collaborator of this participant",
                ));
            }
            let now = self.now();
            let mut unit = Unit::new(&ctx, now, actor.clone());
            let external = c.participant.external_id.clone();
            unit.add(o).facts.collaborators.record(external, false, now);
            unit.add(c);
            unlink_in(&mut unit, owner, collaborator);
            self.commit(unit.into_changes()).await
        })
    }

    /// Validates a task for a participant by hand (T3), recorded in their history and
    /// timeline. On an automatic task the organizer's decision stands over the condition
    /// until [`follow_condition`](Self::follow_condition).
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn validate_task(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.decide_one(actor, event, owner, task, Decision::Validate)
            .await
    }

    /// Invalidates a task for a participant by hand (T3): it goes back to do. On an
    /// automatic task the decision stands over the condition until
    /// [`follow_condition`](Self::follow_condition).
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn invalidate_task(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.decide_one(actor, event, owner, task, Decision::Invalidate)
            .await
    }

    /// Hands an automatic task decided by an organizer back to its condition.
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn follow_condition(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.decide_one(actor, event, owner, task, Decision::FollowCondition)
            .await
    }

    /// Accepts a participant's submission of a task under review (T3): it is done.
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn accept_submission(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.decide_one(actor, event, owner, task, Decision::Accept)
            .await
    }

    /// Rejects a participant's submission of a task under review with a reason (T3): it
    /// goes back to do, the reason shows in their list, the one who submitted it is
    /// notified, and they can submit again.
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn reject_submission(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
        reason: &str,
    ) -> Result<Progress> {
        let decision = Decision::Reject(reason.to_owned());
        self.decide_one(actor, event, owner, task, decision).await
    }

    /// Applies one organizer decision on `task` to many participants at once (B5: validate
    /// or review in bulk from the matrix). Each participant gets its own result, in order;
    /// the decisions that apply are committed together in one transaction. At most
    /// [`limits::BULK`](crate::limits::BULK) participants per call.
    #[instrument(skip_all, fields(event = %event, task = %task, participants = owners.len()))]
    pub async fn decide_many(
        &self,
        actor: &Actor,
        event: EventId,
        task: TaskId,
        owners: &[ParticipantId],
        decision: Decision,
    ) -> Result<Vec<Result<Progress>>> {
        actor::require_staff(actor, event, TaskId::ENTITY, task)?;
        if owners.len() > crate::limits::BULK {
            return Err(Error::invalid(
                "participants",
                format!("at most {} participants in one call", crate::limits::BULK),
            ));
        }
        let decision = match decision {
            Decision::Reject(reason) => {
                // 1,000 characters keep every progress change well within what a live
                // stream (PostgreSQL NOTIFY: 8,000 bytes) carries.
                Decision::Reject(text::required_lines("reason", &reason, 1_000)?)
            }
            other => other,
        };
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let t = ctx.task(task)?;
            actor::require_staff(actor, event, TaskId::ENTITY, task)?;
            let now = self.now();
            let mut unit = Unit::new(&ctx, now, actor.clone());
            let mut states: BTreeMap<ParticipantId, ParticipantState> = self
                .store
                .participants_by_id(event, owners)
                .await?
                .into_iter()
                .map(|s| (s.participant.id, s))
                .collect();
            let mut outcomes = Vec::with_capacity(owners.len());
            for owner in owners {
                if !unit.has(*owner) {
                    match states.remove(owner) {
                        Some(s) => {
                            unit.add(s);
                        }
                        None => {
                            outcomes.push(Err(Error::not_found(ParticipantId::ENTITY, owner)));
                            continue;
                        }
                    }
                }
                let w = unit.get(*owner).expect("added above");
                let outcome = decide(t, &mut w.rows, &decision, actor, now);
                if let Ok((before, after, notices)) = &outcome {
                    unit.progress_history(*owner, before, after);
                    for (recipient, message) in notices.clone() {
                        let key = format!("review:{task}:{recipient}:{}", OutboxId::new_at(now));
                        unit.notify(recipient, message, key);
                    }
                }
                outcomes.push(outcome.map(|_| ()));
            }
            unit.settle();
            let results = owners
                .iter()
                .zip(outcomes)
                .map(|(owner, r)| {
                    r.map(|()| {
                        unit.row(*owner, task)
                            .cloned()
                            .expect("the row is in the unit")
                    })
                })
                .collect();
            self.commit(unit.into_changes()).await?;
            Ok(results)
        })
    }

    async fn decide_one(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
        decision: Decision,
    ) -> Result<Progress> {
        self.decide_many(actor, event, task, &[owner], decision)
            .await?
            .remove(0)
    }
}

/// An organizer's decision on a participant's task (T3, B5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Done, by the organizer's hand.
    Validate,
    /// Back to do, by the organizer's hand.
    Invalidate,
    /// An automatic task follows its condition again.
    FollowCondition,
    /// A submission under review is accepted.
    Accept,
    /// A submission under review is refused, with the reason given to the participant.
    Reject(String),
}

/// What a decision does to one row: (before, after, notices to queue). Pure.
#[allow(clippy::type_complexity)]
fn decide(
    task: &Task,
    rows: &mut BTreeMap<TaskId, Progress>,
    decision: &Decision,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Progress, Progress, Vec<(ParticipantId, Notification)>)> {
    let row = rows
        .get_mut(&task.id)
        .filter(|r| task.is_published() && r.targeted)
        .ok_or_else(|| Error::invalid("task", "this task is not published to this participant"))?;
    let before = row.clone();
    let by = |how| {
        Some(Completion {
            at: now,
            by: actor.clone(),
            how,
        })
    };
    let automatic = task.condition().is_some();
    let mut notices = Vec::new();
    match decision {
        Decision::Validate => {
            row.decided_by_organizer = automatic;
            row.rejection = None;
            row.submitted = None;
            if row.status != ProgressStatus::Done {
                row.set_status(ProgressStatus::Done, by(CompletedHow::Organizer), now);
            }
        }
        Decision::Invalidate => {
            row.decided_by_organizer = automatic;
            if row.status != ProgressStatus::Todo {
                row.submitted = None;
                row.set_status(ProgressStatus::Todo, None, now);
            }
        }
        Decision::FollowCondition => {
            if !automatic {
                return Err(Error::invalid(
                    "task",
                    "a manual task has no condition to follow",
                ));
            }
            row.decided_by_organizer = false;
        }
        Decision::Accept | Decision::Reject(_) if row.status != ProgressStatus::AwaitingReview => {
            return Err(Error::state(
                "progress",
                row.task,
                "only a submission waiting for review can be accepted or rejected",
            ));
        }
        Decision::Accept => {
            row.rejection = None;
            row.set_status(ProgressStatus::Done, by(CompletedHow::Reviewed), now);
        }
        Decision::Reject(reason) => {
            row.rejection = Some(Rejection {
                reason: reason.clone(),
                by: actor.clone(),
                at: now,
            });
            row.submitted = None;
            row.set_status(ProgressStatus::Todo, None, now);
            let message = Notification::ReviewRejected {
                task: task.id,
                owner: row.owner,
                reason: reason.clone(),
            };
            notices.push((row.owner, message.clone()));
            if let Some(holder) = row.assignee {
                notices.push((holder, message));
            }
        }
    }
    row.updated_at = now;
    Ok((before, row.clone(), notices))
}

/// The history view of a task's state: one field, `state`.
fn state_json(state: TaskState) -> serde_json::Value {
    serde_json::json!({ "state": state })
}

/// The record of a newly registered participant.
fn new_record(
    new: &NewParticipant,
    event: EventId,
    now: chrono::DateTime<chrono::Utc>,
) -> Participant {
    Participant {
        id: ParticipantId::new_at(now),
        event,
        external_id: new.external_id.clone(),
        profile: new.profile.clone(),
        status: new.status.clone(),
        utm: new.utm.clone(),
        custom_fields: new.custom_fields.clone(),
        owner: None,
        push_subscriptions: Vec::new(),
        networking: Default::default(),
        registered_at: now,
        erased_at: None,
        record_version: 0,
    }
}

/// Checks that `c` may join `owner`'s team; `c_has_team` says whether `c` has
/// collaborators of their own (teams are one level deep).
pub(super) fn check_can_link(owner: &Participant, c: &Participant, c_has_team: bool) -> Result<()> {
    if owner.id == c.id {
        return Err(Error::invalid(
            "collaborator",
            "a participant cannot be their own collaborator",
        ));
    }
    // The rest is the teams as they stand now (one level deep): a state, not a value.
    if c_has_team {
        return Err(Error::state(
            ParticipantId::ENTITY,
            c.id,
            "has collaborators of their own; teams are one level deep",
        ));
    }
    if owner.owner.is_some() {
        return Err(Error::state(
            ParticipantId::ENTITY,
            owner.id,
            "is a collaborator; a collaborator cannot have collaborators of their own",
        ));
    }
    if let Some(other) = c.owner.filter(|x| *x != owner.id) {
        return Err(Error::state(
            ParticipantId::ENTITY,
            c.id,
            format!("is already a collaborator of participant {other}"),
        ));
    }
    Ok(())
}

/// Links `collaborator` to `owner`'s team; both must be in the unit.
pub(super) fn link_in(unit: &mut Unit<'_>, owner: ParticipantId, collaborator: ParticipantId) {
    if let Some(c) = unit.get(collaborator) {
        c.record.owner = Some(owner);
        unit.timeline(collaborator, TimelineKind::CollaboratorLinked { owner });
    }
}

/// Unlinks `collaborator` from `owner`'s team, and gives the owner back the tasks the
/// collaborator held; both must be in the unit.
pub(super) fn unlink_in(unit: &mut Unit<'_>, owner: ParticipantId, collaborator: ParticipantId) {
    let now = unit.now;
    let mut taken_back = Vec::new();
    if let Some(o) = unit.get(owner) {
        for row in o.rows.values_mut() {
            if row.assignee == Some(collaborator) {
                row.assignee = None;
                row.updated_at = now;
                taken_back.push(row.task);
            }
        }
    }
    if let Some(c) = unit.get(collaborator) {
        c.record.owner = None;
    }
    for task in taken_back {
        unit.timeline(
            owner,
            TimelineKind::TaskTakenBack {
                task,
                from: collaborator,
            },
        );
    }
}

/// Validates a task configuration, including that its segment exists in the event.
fn validate_task_config(ctx: &Ctx, config: TaskConfig) -> Result<TaskConfig> {
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
