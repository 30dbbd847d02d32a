//! Events (X1): creating one, reading it, changing its settings.

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::change::ChangeSet;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::event::{Event, EventSettings};
use crate::history::Subject;
use crate::ids::{EventId, TaskId};
use crate::store::Store;
use tracing::instrument;

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
    pub(crate) async fn event_record(&self, actor: &Actor, event: EventId) -> Result<Event> {
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
            // Segments read the language and the custom fields; every row's next reminder
            // reads the reminder policy (N3): either way the sweep rewrites the rows.
            let moves_segments = old.default_language != settings.default_language
                || old.custom_fields != settings.custom_fields
                || old.reminders != settings.reminders;
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
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
}
