//! Participants (R1–R4): registering them (one or many), changing their record, reading
//! it, their team (collaborators) and their browsers' push subscriptions.

use std::sync::Arc;

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, ExternalId, ParticipantId};
use crate::notify::PushSubscription;
use crate::participant::team::{check_can_link, check_can_unlink, team_change};
use crate::participant::{NewParticipant, Participant, ParticipantPatch};
use crate::store::Store;
use crate::timeline::TimelineKind;
use tracing::instrument;

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
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
            let w = unit.add(state);
            let subs = &mut w.record_mut().push_subscriptions;
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

    pub(super) async fn drop_subscription(
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
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
            unit.add(state)
                .record_mut()
                .push_subscriptions
                .retain(|s| s.endpoint != endpoint);
            self.commit(unit.into_changes()).await?;
            Ok(true)
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
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            unit.add_new(record.clone());
            unit.timeline(record.id, TimelineKind::Registered);
            self.commit(unit.into_changes()).await?;
            Ok(record)
        })
    }

    /// Registers many participants (an import of registrants), each validated on its own
    /// with a result per item in order; the valid ones are written in transactions of at
    /// most [`Config::batch_size`](crate::Config::batch_size) participants. An `external_id` already used, in the
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
                let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
                // Each item is checked on its own, then the external ids of those that
                // passed are looked up in one read.
                let mut seen = std::collections::HashSet::new();
                let checked: Vec<Result<bool>> = chunk
                    .iter()
                    .map(|item| {
                        item.validate(&ctx.event.settings)
                            .map(|()| seen.insert(item.external_id.clone()))
                    })
                    .collect();
                let fresh: Vec<ExternalId> = chunk
                    .iter()
                    .zip(&checked)
                    .filter(|(_, c)| matches!(c, Ok(true)))
                    .map(|(item, _)| item.external_id.clone())
                    .collect();
                let stored: std::collections::HashSet<ExternalId> = self
                    .store
                    .participants_by_external_id(event, &fresh)
                    .await?
                    .into_iter()
                    .map(|(x, _)| x)
                    .collect();
                let mut out = Vec::with_capacity(chunk.len());
                for (item, checked) in chunk.iter().zip(checked) {
                    match checked {
                        Err(e) => out.push(Err(e)),
                        Ok(first) if !first || stored.contains(&item.external_id) => {
                            out.push(Err(Error::invalid(
                                "external_id",
                                format!("{} is already used in this event", item.external_id),
                            )));
                        }
                        Ok(_) => {
                            let record = new_record(item, event, now);
                            unit.add_new(record.clone());
                            unit.timeline(record.id, TimelineKind::Registered);
                            out.push(Ok(record));
                        }
                    }
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
            let mut record = Participant::clone(&state.participant);
            if let Some(read) = patch.if_version
                && read != record.record_version
            {
                return Ok(Err(Error::conflict(ParticipantId::ENTITY, id)));
            }
            patch.apply_to(&mut record, &ctx.event.settings)?;
            let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
            unit.add(state).record = Arc::new(record.clone());
            let changes = unit.into_changes();
            // The record as written, with its version moved if anything changed.
            let written = changes
                .participants
                .iter()
                .find(|w| w.id == id)
                .and_then(|w| w.record.clone())
                .unwrap_or(record);
            self.commit(changes).await?;
            Ok(Ok(written.read_by(actor)))
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
            if team_change(owner, &c.participant, true).is_none() {
                // Linked already: nothing to do.
                return Ok(());
            }
            let now = self.now();
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            let external = c.participant.external_id.clone();
            unit.add(o)
                .facts_mut()
                .collaborators
                .record(external, true, now);
            unit.add(c);
            unit.link(owner, collaborator);
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
            check_can_unlink(owner, &c.participant)?;
            let now = self.now();
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            let external = c.participant.external_id.clone();
            unit.add(o)
                .facts_mut()
                .collaborators
                .record(external, false, now);
            unit.add(c);
            unit.unlink(owner, collaborator);
            self.commit(unit.into_changes()).await
        })
    }

    /// The collaborators of `owner` (to choose an assignee from), for the owner and the
    /// organizers. A participant reader gets their team's profiles and categories only:
    /// custom fields, UTM values, discount codes and web push subscriptions (an endpoint is
    /// a capability) are left out.
    #[instrument(skip_all, fields(event = %event, owner = %owner))]
    pub async fn collaborators(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
    ) -> Result<Vec<Participant>> {
        self.participant_state(event, owner).await?;
        actor::require_self_or_staff(actor, event, owner)?;
        let ids = self.store.collaborators(event, owner).await?;
        let mut out: Vec<Participant> = self
            .store
            .participants_by_id(event, &ids)
            .await?
            .into_iter()
            .map(|s| {
                let mut p = Arc::unwrap_or_clone(s.participant).read_by(actor);
                if !actor.is_staff_of(event) {
                    p.utm = Default::default();
                    p.status.discount_code = None;
                    p.push_subscriptions.clear();
                }
                p
            })
            .collect();
        out.sort_by_key(|p| p.id);
        Ok(out)
    }

    /// A participant's record: for organizers whole, for the participant themselves
    /// without custom fields (R4, X2).
    #[instrument(skip_all, fields(event = %event, participant = %id))]
    pub async fn participant(
        &self,
        actor: &Actor,
        event: EventId,
        id: ParticipantId,
    ) -> Result<Participant> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, id)?;
        let state = self.participant_state(event, id).await?;
        actor::require_self_or_staff(actor, event, id)?;
        Ok(Arc::unwrap_or_clone(state.participant).read_by(actor))
    }

    /// The participant the host knows as `external_id`, for the event's staff.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn participant_by_external_id(
        &self,
        actor: &Actor,
        event: EventId,
        external_id: &crate::ids::ExternalId,
    ) -> Result<Participant> {
        actor::require_staff(actor, event, ParticipantId::ENTITY, external_id)?;
        let id = self
            .store
            .participant_by_external_id(event, external_id)
            .await?
            .ok_or_else(|| Error::not_found(ParticipantId::ENTITY, external_id))?;
        Ok(Arc::unwrap_or_clone(
            self.participant_state(event, id).await?.participant,
        ))
    }
}

/// The record of a newly registered participant.
pub(super) fn new_record(
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
        notifications: Default::default(),
        networking: Default::default(),
        registered_at: now,
        erased_at: None,
        record_version: 0,
    }
}
