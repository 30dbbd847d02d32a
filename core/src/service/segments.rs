//! Segments (S1–S3): defining, redefining, deleting and previewing them.

use std::sync::Arc;

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::history::Subject;
use crate::ids::{EventId, SegmentId, TaskId};
use crate::segment::{Rule, Segment, SegmentDraft, SegmentPreview};
use crate::store::Store;
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
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
            let mut cs = UnitOfWork::new(&ctx, now, actor.clone()).into_changes();
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
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
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
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
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
                        preview
                            .members
                            .push(Arc::unwrap_or_clone(state.participant));
                    }
                }
            }
        }
        Ok(preview)
    }
}
