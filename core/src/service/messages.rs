//! Messages between the organizers and a participant (R7).

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, MessageId, ParticipantId};
use crate::limits::PAGE as MAX_PAGE;
use crate::message::{Message, MessagePage, checked_body};
use crate::store::Store;
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Sends a message in `participant`'s thread with the organizers (R7): by the
    /// participant, or by an organizer of the event (the host itself has no voice in the
    /// thread: [`Actor::System`] is refused). The other side's unread count moves in the
    /// same transaction.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn send_message(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        body: &str,
    ) -> Result<Message> {
        actor::require_self_or_staff(actor, event, participant)?;
        if matches!(actor, Actor::System) {
            return Err(Error::forbidden(
                "a message is written by an organizer or the participant",
            ));
        }
        let body = checked_body(body)?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            super::not_erased(&state)?;
            let now = self.now();
            let message = Message {
                id: MessageId::new_at(now),
                event,
                participant,
                sender: actor.clone(),
                at: now,
                body: body.clone(),
            };
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            let unread = &mut unit.add(state).facts_mut().unread;
            if message.from_participant() {
                unread.by_organizers = unread.by_organizers.saturating_add(1);
            } else {
                unread.by_participant = unread.by_participant.saturating_add(1);
            }
            let mut cs = unit.into_changes();
            cs.messages.push(message.clone());
            self.commit(cs).await?;
            Ok(message)
        })
    }

    /// A page of `participant`'s thread, newest first (R7), for them and the event's
    /// organizers, with the reader's side's unread count. Reading does not mark anything
    /// read: see [`mark_messages_read`](Self::mark_messages_read).
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn messages(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<MessagePage> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        let state = self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let unread = state.facts.unread;
        let messages = self
            .store
            .messages(
                event,
                participant,
                before,
                crate::limits::page(limit, MAX_PAGE)?,
            )
            .await?;
        Ok(MessagePage {
            messages,
            unread: if actor.is_staff_of(event) {
                unread.by_organizers
            } else {
                unread.by_participant
            },
        })
    }

    /// Marks `participant`'s thread read for the reader's side (R7): the participant, or
    /// the organizers (one count for all of them). Nothing to mark writes nothing.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn mark_messages_read(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<()> {
        actor::require_self_or_staff(actor, event, participant)?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            let staff = actor.is_staff_of(event);
            let unread = state.facts.unread;
            if (staff && unread.by_organizers == 0) || (!staff && unread.by_participant == 0) {
                return Ok(());
            }
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
            let unread = &mut unit.add(state).facts_mut().unread;
            if staff {
                unread.by_organizers = 0;
            } else {
                unread.by_participant = 0;
            }
            self.commit(unit.into_changes()).await?;
            Ok(())
        })
    }
}
