//! Networking (R10, R11): the participant's choice, and partners.

use std::sync::Arc;

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::Result;
use crate::ids::{EventId, ParticipantId};
use crate::participant::{Networking, Participant};
use crate::store::Store;
use crate::timeline::{ActionKind, Partner, Partners, ScanPlace, TimelineFilter, TimelineKind};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Switches networking on or off for `participant` (R11, the R2 status): for them and
    /// the organizers. The timeline gets "networking enabled" / "disabled" and the history
    /// a line; the same value again changes nothing.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn set_networking(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        networking: Networking,
    ) -> Result<Participant> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            actor::require_self_or_staff(actor, event, participant)?;
            super::not_erased(&state)?;
            let mut record = Participant::clone(&state.participant);
            if record.status.networking != networking {
                record.status.networking = networking;
                let mut unit = UnitOfWork::new(&ctx, self.now(), actor.clone());
                unit.add(state).record = Arc::new(record.clone());
                self.commit(unit.into_changes()).await?;
            }
            Ok(record.read_by(actor))
        })
    }

    /// The partners tab of `participant`'s record (R10): exhibitors they bookmarked and
    /// partners that scanned them, each once with the last time, most recent first; read
    /// from their timeline. For them (partners' companies only) and the organizers.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn partners(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<Partners> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let filter = TimelineFilter {
            kinds: [ActionKind::ExhibitorBookmarked, ActionKind::Scanned].into(),
            ..TimelineFilter::default()
        };
        // Newest first: the first time a partner is met is their last time.
        let mut bookmarked: Vec<(ParticipantId, DateTime<Utc>)> = Vec::new();
        let mut scanned_by: Vec<(ParticipantId, DateTime<Utc>)> = Vec::new();
        for e in self.whole_timeline(event, participant, filter).await? {
            let (list, who) = match &e.kind {
                TimelineKind::ExhibitorBookmarked { exhibitor } => (&mut bookmarked, *exhibitor),
                TimelineKind::Scanned {
                    place: ScanPlace::Partner { partner },
                } => (&mut scanned_by, *partner),
                _ => continue,
            };
            if !list.iter().any(|(p, _)| *p == who) {
                list.push((who, e.at));
            }
        }
        let mut ids: Vec<_> = bookmarked
            .iter()
            .chain(&scanned_by)
            .map(|(p, _)| *p)
            .collect();
        ids.sort();
        ids.dedup();
        let records: HashMap<ParticipantId, Participant> = self
            .store
            .participant_records(event, &ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let staff = actor.is_staff_of(event);
        let partner = |(id, at): (ParticipantId, DateTime<Utc>)| {
            let record = records.get(&id)?;
            Some(Partner {
                participant: id,
                company: record.profile.company.clone(),
                name: staff.then(|| record.profile.display_name()),
                at,
            })
        };
        Ok(Partners {
            bookmarked: bookmarked.into_iter().filter_map(partner).collect(),
            scanned_by: scanned_by.into_iter().filter_map(partner).collect(),
        })
    }
}
