//! Online status (R13): pings, one participant's status, the registrants list.

use std::sync::Arc;

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, ParticipantId};
use crate::limits::PAGE as MAX_PAGE;
use crate::presence::{OnlineStatus, Presence, Registrant, RegistrantsPage};
use crate::store::{Store, StoreExt};
use crate::timeline::{ActionKind, LoginChannel, TimelineFilter, TimelineKind};
use chrono::{DateTime, Utc};
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Reports that `participant` is active on the site or the app now (R13): from the
    /// host ([`Actor::System`]), an organizer, or the participant themselves. The first
    /// ping ever puts "first login" (with `channel`) on their timeline. Pings are not
    /// history, and most write nothing: see [`OnlineStatus`](crate::OnlineStatus) for when the
    /// last-seen time is written.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn ping(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        channel: LoginChannel,
    ) -> Result<()> {
        actor::require_self_or_staff(actor, event, participant)?;
        let now = self.now();
        let every = self.config.presence().write_every();
        let fresh = |seen: DateTime<Utc>| now - seen < every;
        if self.remembered(event, participant).is_some_and(fresh) {
            return Ok(());
        }
        retry!(self, {
            let state = self.participant_state(event, participant).await?;
            if state.participant.erased_at.is_some() {
                // X6: an erased participant's activity is not kept.
                return Ok(());
            }
            let stored = state.facts.last_seen;
            if let Some(seen) = stored.filter(|s| fresh(*s)) {
                self.remember(event, participant, seen, now);
                return Ok(());
            }
            let ctx = self.context(&Actor::System, event).await?;
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            unit.add(state).facts_mut().last_seen = Some(stored.map_or(now, |s| s.max(now)));
            // The first ping is the first login, unless the host reported one already.
            let reported = stored.is_none()
                && !self
                    .store
                    .timeline(
                        event,
                        participant,
                        &TimelineFilter {
                            kinds: [ActionKind::FirstLogin].into(),
                            ..TimelineFilter::default()
                        },
                        1,
                    )
                    .await?
                    .is_empty();
            if stored.is_none() && !reported {
                unit.timeline(participant, TimelineKind::FirstLogin { channel });
            }
            self.commit(unit.into_changes()).await?;
            self.remember(event, participant, now, now);
            Ok(())
        })
    }

    /// A participant's online status now (R13), for them and the event's organizers.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn online_status(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<Presence> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        let state = self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        Ok(self.presence_of(participant, state.facts.last_seen))
    }

    /// The registrants list with its online status column (R13), for the event's
    /// organizers: participants in registration (id) order after `after`, only those
    /// whose status is `status` when given, at most `limit` (up to 1,000) per page. The
    /// status is computed from the clock at the time of the call.
    ///
    /// A filtered page reads participants in batches until it is full, so a status few
    /// participants have costs a walk over the event.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn registrants(
        &self,
        actor: &Actor,
        event: EventId,
        status: Option<OnlineStatus>,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<RegistrantsPage> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        if self.store.event(event).await?.is_none() {
            return Err(Error::not_found(EventId::ENTITY, event));
        }
        let limit = crate::limits::page(limit, MAX_PAGE)?;
        let batch = limit.max(self.config.batch_size());
        let mut rows = Vec::with_capacity(limit);
        let mut cursor = after;
        loop {
            let page = self.store.participants(event, cursor, batch).await?;
            let exhausted = page.len() < batch;
            for state in page {
                cursor = Some(state.participant.id);
                let presence = self.presence_of(state.participant.id, state.facts.last_seen);
                if status.is_none_or(|s| s == presence.status) {
                    rows.push(Registrant {
                        participant: Arc::unwrap_or_clone(state.participant),
                        presence,
                    });
                    if rows.len() == limit {
                        return Ok(RegistrantsPage { rows, next: cursor });
                    }
                }
            }
            if exhausted {
                return Ok(RegistrantsPage { rows, next: None });
            }
        }
    }

    pub(super) fn presence_of(
        &self,
        participant: ParticipantId,
        last_seen: Option<DateTime<Utc>>,
    ) -> Presence {
        Presence {
            participant,
            status: OnlineStatus::at(last_seen, self.now(), &self.config.presence()),
            last_seen,
        }
    }

    pub(super) fn remembered(
        &self,
        event: EventId,
        participant: ParticipantId,
    ) -> Option<DateTime<Utc>> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&(event, participant)).copied()
    }

    pub(super) fn remember(
        &self,
        event: EventId,
        participant: ParticipantId,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let every = self.config.presence().write_every();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= SEEN_CAPACITY {
            seen.retain(|_, s| now - *s < every);
            if seen.len() >= SEEN_CAPACITY / 2 {
                // Only an optimisation: start afresh rather than scan on every ping.
                seen.clear();
            }
        }
        seen.insert((event, participant), at);
    }
}

/// How many last-seen times a service remembers before it forgets the stale ones.
pub(super) const SEEN_CAPACITY: usize = 100_000;
