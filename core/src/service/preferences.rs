//! A participant's choices about their messages (N8): reading and changing them, and the
//! one-click unsubscribe a host's route hands a signed token to.

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, ParticipantId};
use crate::notify::{MessageKind, PreferenceRow, PreferencesUpdate, UnsubscribeKey};
use crate::store::Store;
use tracing::instrument;

/// What [`Punchlist::unsubscribe`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unsubscribed {
    /// The event.
    pub event: EventId,
    /// Who unsubscribed.
    pub participant: ParticipantId,
    /// The kind they stopped; `None`: every kind they may stop.
    pub kind: Option<MessageKind>,
    /// Whether anything changed (`false`: they had stopped it already).
    pub changed: bool,
}

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Every kind of message on every channel the event enables, as it stands for
    /// `participant` (N8): on or off, the event's default, their own choice, and whether
    /// the event keeps it on. By the participant or the event's staff.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn notification_preferences(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<Vec<PreferenceRow>> {
        actor::require_self_or_staff(actor, event, participant)?;
        let ctx = self.context(actor, event).await?;
        let state = self.participant_state(event, participant).await?;
        let settings = &ctx.event.settings;
        Ok(state
            .participant
            .notifications
            .effective(&settings.notifications, &settings.channels.enabled()))
    }

    /// Changes `participant`'s choices (N8), by the participant or the event's staff. A
    /// kind the event keeps on cannot be turned off (`Invalid`, naming the change); the
    /// change is in their history (R12), and applies to messages already queued: the
    /// dispatcher reads the choices when it sends. Answers the preferences as they now
    /// stand.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn update_notification_preferences(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        update: PreferencesUpdate,
    ) -> Result<Vec<PreferenceRow>> {
        actor::require_self_or_staff(actor, event, participant)?;
        self.change_preferences(actor, event, participant, &update, false)
            .await
            .map(|(rows, _)| rows)
    }

    /// One-click unsubscribe (N8, RFC 8058): reads a token the dispatcher signed with
    /// `key` and stops what it names for its participant, in their history as their own
    /// choice. The host's route calls it (the library serves no HTTP), for a `POST` of
    /// `List-Unsubscribe=One-Click` or a click on the footer's link. Idempotent: a second
    /// call changes nothing and says so. A forged, changed or expired token is refused as
    /// `Invalid` on `token`, and nothing is written.
    #[instrument(skip_all)]
    pub async fn unsubscribe(&self, key: &UnsubscribeKey, token: &str) -> Result<Unsubscribed> {
        let t = key.verify(token, self.now())?;
        let update = match t.kind {
            Some(kind) => PreferencesUpdate::off(kind),
            None => PreferencesUpdate::stop_all(),
        };
        let actor = Actor::participant(t.participant, t.event);
        let (_, changed) = self
            .change_preferences(&actor, t.event, t.participant, &update, true)
            .await
            .map_err(|e| match e {
                // The event locked the kind since the link was sent.
                Error::Invalid { reason, .. } => Error::invalid("token", reason),
                other => other,
            })?;
        Ok(Unsubscribed {
            event: t.event,
            participant: t.participant,
            kind: t.kind,
            changed,
        })
    }

    /// Applies `update`; with `only_if_effective`, writes only if what is sent changes (a
    /// second unsubscribe, or one from someone who stopped everything already, writes
    /// nothing). Answers the rows as they now stand and whether anything was written.
    async fn change_preferences(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        update: &PreferencesUpdate,
        only_if_effective: bool,
    ) -> Result<(Vec<PreferenceRow>, bool)> {
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            super::not_erased(&state)?;
            let settings = &ctx.event.settings;
            let channels = settings.channels.enabled();
            let before = state
                .participant
                .notifications
                .effective(&settings.notifications, &channels);
            let mut preferences = state.participant.notifications.clone();
            let mut changed = preferences.apply(&settings.notifications, update)?;
            let rows = preferences.effective(&settings.notifications, &channels);
            let sends = |rows: &[PreferenceRow]| -> Vec<bool> {
                rows.iter()
                    .flat_map(|r| r.channels.iter().map(|c| c.on))
                    .collect()
            };
            if only_if_effective && sends(&before) == sends(&rows) {
                changed = false;
            }
            if changed {
                let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
                unit.add(state).record_mut().notifications = preferences;
                self.commit(unit.into_changes()).await?;
            }
            Ok((rows, changed))
        })
    }
}
