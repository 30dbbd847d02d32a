//! The outbox for the organizers (N5): listing it by recipient, kind and state, the dead
//! letters, and sending them again.

use super::Punchlist;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, OutboxId};
use crate::notify::{OutboxEntry, OutboxFilter, OutboxState};
use crate::store::Store;
use crate::{actor, limits};
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// The event's dead letters (N5): notifications given up after their attempts, with
    /// the last error, in id order after `after` (a page: see [paging](crate::limits#paging)).
    pub async fn dead_letters(
        &self,
        actor: &Actor,
        event: EventId,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let limit = crate::limits::page(limit, crate::limits::PAGE)?;
        self.context(actor, event).await?;
        let dead = OutboxFilter {
            state: Some(OutboxState::Dead),
            ..OutboxFilter::default()
        };
        self.store.outbox(event, &dead, after, limit).await
    }

    /// Sends dead letters again (N5): each goes back in the queue, due now, with its
    /// attempts reset; addresses an earlier attempt reached are not sent to again. Answers
    /// the ids requeued (an id that is not a dead letter of the event is left alone).
    pub async fn retry_dead_letters(
        &self,
        actor: &Actor,
        event: EventId,
        ids: &[OutboxId],
    ) -> Result<Vec<OutboxId>> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        if ids.len() > crate::limits::BULK {
            return Err(Error::invalid(
                "ids",
                format!("at most {} at once", crate::limits::BULK),
            ));
        }
        self.context(actor, event).await?;
        self.store.requeue_dead(event, ids, self.now()).await
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
}
