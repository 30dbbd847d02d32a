//! Notification plumbing the service owns (N4, N5): participants' web push subscriptions,
//! and the organizer's dead letters.

use tracing::instrument;

use super::retry;
use super::{Punchlist, Unit};
use crate::actor::{self, Actor};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, OutboxId, ParticipantId};
use crate::notify::{OutboxEntry, OutboxFilter, OutboxState, PushSubscription};
use crate::store::Store;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Registers a browser's web push subscription for `participant` (N4): by the
    /// participant or the event's staff. A subscription with the same endpoint is
    /// replaced; a participant keeps at most
    /// [`PushSubscription::MAX_PER_PARTICIPANT`], the oldest going first.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn add_push_subscription(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        subscription: PushSubscription,
    ) -> Result<()> {
        actor::require_self_or_staff(actor, event, participant)?;
        subscription.validate()?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            super::not_erased(&state)?;
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
            let w = unit.add(state);
            let subs = &mut w.record.push_subscriptions;
            subs.retain(|s| s.endpoint != subscription.endpoint);
            subs.push(subscription.clone());
            let excess = subs
                .len()
                .saturating_sub(PushSubscription::MAX_PER_PARTICIPANT);
            subs.drain(..excess);
            self.commit(unit.into_changes()).await
        })
    }

    /// Removes `participant`'s subscription with this endpoint (the browser unsubscribed):
    /// by the participant or the event's staff. Answers whether there was one.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn remove_push_subscription(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        endpoint: &str,
    ) -> Result<bool> {
        actor::require_self_or_staff(actor, event, participant)?;
        self.drop_subscription(actor, event, participant, endpoint)
            .await
    }

    /// Removes a subscription the push service said is gone (the dispatcher's call).
    pub(crate) async fn forget_push_subscription(
        &self,
        event: EventId,
        participant: ParticipantId,
        endpoint: &str,
    ) -> Result<bool> {
        self.drop_subscription(&Actor::System, event, participant, endpoint)
            .await
    }

    async fn drop_subscription(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        endpoint: &str,
    ) -> Result<bool> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            if !state
                .participant
                .push_subscriptions
                .iter()
                .any(|s| s.endpoint == endpoint)
            {
                return Ok(false);
            }
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
            unit.add(state)
                .record
                .push_subscriptions
                .retain(|s| s.endpoint != endpoint);
            self.commit(unit.into_changes()).await?;
            Ok(true)
        })
    }

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
}
