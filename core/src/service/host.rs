//! Host events (X3, T4): facts the platform reports, one at a time or in batches.

use std::collections::{HashMap, HashSet};

use tracing::instrument;

use super::organizer::{check_can_link, link_in, unlink_in};
use super::retry;
use super::{Punchlist, Unit};
use crate::actor::{self, Actor};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::host_event::{HostEvent, HostFact, IngestOutcome};
use crate::ids::{EventId, ParticipantId};
use crate::limits;
use crate::store::{ParticipantState, Store, StoreExt};

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Ingests one fact reported by the host. A repeated id answers
    /// [`IngestOutcome::Duplicate`] and changes nothing.
    #[instrument(skip_all, fields(event = %event, id = %host_event.id))]
    pub async fn ingest(
        &self,
        actor: &Actor,
        event: EventId,
        host_event: HostEvent,
    ) -> Result<IngestOutcome> {
        self.ingest_batch(actor, event, vec![host_event])
            .await?
            .remove(0)
    }

    /// Ingests a batch of facts (X3): every item is validated and gets its own result (in
    /// the batch's order); the valid ones are committed together in one transaction, and
    /// automatic tasks of the participants concerned are re-evaluated in it (T4).
    ///
    /// The outer `Err` is for the whole batch (not allowed, too large, storage failed);
    /// then nothing was written.
    #[instrument(skip_all, fields(event = %event, items = events.len()))]
    pub async fn ingest_batch(
        &self,
        actor: &Actor,
        event: EventId,
        events: Vec<HostEvent>,
    ) -> Result<Vec<Result<IngestOutcome>>> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        if events.len() > limits::BATCH {
            return Err(Error::invalid(
                "events",
                format!("at most {} events in one batch", limits::BATCH),
            ));
        }
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let ids: Vec<_> = events.iter().map(|e| e.id.clone()).collect();
            let mut seen: HashSet<_> = self
                .store
                .ingested(event, &ids)
                .await?
                .into_iter()
                .collect();
            let external = self
                .resolve_external(event, events.iter().map(|e| &e.participant))
                .await?;
            let owners: Vec<Option<ParticipantId>> = events
                .iter()
                .map(|e| super::resolved(&external, &e.participant))
                .collect();
            let wanted: Vec<ParticipantId> = {
                let mut v: Vec<_> = owners.iter().flatten().copied().collect();
                v.sort();
                v.dedup();
                v
            };
            let mut states: HashMap<ParticipantId, ParticipantState> = self
                .store
                .participants_by_id(event, &wanted)
                .await?
                .into_iter()
                .map(|s| (s.participant.id, s))
                .collect();
            let now = self.now();
            let mut unit = Unit::new(&ctx, now, Actor::System);
            let mut results = Vec::with_capacity(events.len());
            for (e, owner) in events.iter().zip(&owners) {
                if let Err(err) = e.validate(now) {
                    results.push(Err(err));
                    continue;
                }
                if seen.contains(&e.id) {
                    results.push(Ok(IngestOutcome::Duplicate));
                    continue;
                }
                let Some(owner) = *owner else {
                    results.push(Err(super::unknown(&e.participant)));
                    continue;
                };
                if !unit.has(owner) {
                    match states.remove(&owner) {
                        Some(s) if s.participant.erased_at.is_some() => {
                            // X6: an erased participant's facts take no new values.
                            states.insert(owner, s);
                            results.push(Err(super::erased_error(owner)));
                            continue;
                        }
                        Some(s) => {
                            unit.add(s);
                        }
                        None => {
                            results.push(Err(super::unknown(&e.participant)));
                            continue;
                        }
                    }
                }
                seen.insert(e.id.clone());
                let w = unit.get(owner).expect("added above");
                e.apply_to(&mut w.facts);
                self.link_from_fact(&mut unit, owner, e).await?;
                unit.changes().host_events.push(e.id.clone());
                results.push(Ok(IngestOutcome::Applied));
            }
            self.commit(unit.into_changes()).await?;
            Ok(results)
        })
    }

    /// "Collaborator added/removed" with the `external_id` of a participant of the event
    /// links or unlinks them: linking through the service and reporting the fact are one
    /// fact. A link the rules refuse (a collaborator already in another team, …) is left
    /// out and logged; the count of the owner's collaborators still moves.
    async fn link_from_fact(
        &self,
        unit: &mut Unit<'_>,
        owner: ParticipantId,
        e: &HostEvent,
    ) -> Result<()> {
        let external = match &e.fact {
            HostFact::CollaboratorAdded { collaborator }
            | HostFact::CollaboratorRemoved { collaborator } => collaborator,
            _ => return Ok(()),
        };
        let event = unit.changes().event;
        let Some(cid) = self
            .store
            .participant_by_external_id(event, external)
            .await?
        else {
            return Ok(());
        };
        if !unit.has(cid) {
            let Some(s) = self.store.participant(event, cid).await? else {
                return Ok(());
            };
            unit.add(s);
        }
        let Some(o) = unit
            .get(owner)
            .map(|w| (w.record.clone(), w.facts.collaborators.contains(external)))
        else {
            return Ok(());
        };
        let (owner_record, present) = o;
        let c_record = unit.get(cid).expect("added above").record.clone();
        if present && c_record.owner != Some(owner) {
            let c_has_team = !self.store.collaborators(event, cid).await?.is_empty();
            match check_can_link(&owner_record, &c_record, c_has_team) {
                Ok(()) => link_in(unit, owner, cid),
                Err(why) => {
                    tracing::warn!(%owner, collaborator = %cid, %why, "collaborator fact not linked")
                }
            }
        } else if !present && c_record.owner == Some(owner) {
            unlink_in(unit, owner, cid);
        }
        Ok(())
    }
}
