//! What the host reports (X3, T4, R5): facts, one at a time or in batches, and actions
//! for the timeline.

use super::{Punchlist, UnitOfWork, retry};
use crate::actor::Actor;
use crate::change::ChangeSet;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::host_event::{HostAction, HostEvent, HostFact, IngestOutcome};
use crate::ids::{EventId, ParticipantId};
use crate::participant::FactKind;
use crate::participant::team::{TeamChange, check_can_link, team_change};
use crate::progress;
use crate::store::{ParticipantState, Store, StoreExt};
use crate::{actor, limits};
use std::collections::{BTreeSet, HashMap, HashSet};
use tracing::instrument;

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
            // T4: a fact can only move the rows of the tasks whose condition reads its kind,
            // so those rows alone are loaded and reconciled, unless a fact links a team
            // (a record change, which can move targeting on any task).
            let links = events.iter().any(|e| e.kind() == FactKind::Collaborators);
            let slice = (!links).then(|| {
                let kinds: BTreeSet<FactKind> = events.iter().map(HostEvent::kind).collect();
                progress::tasks_reading(ctx.tasks.values(), &kinds)
            });
            let loaded = match &slice {
                Some(tasks) => self.store.participant_slices(event, &wanted, tasks).await?,
                None => self.store.participants_by_id(event, &wanted).await?,
            };
            let mut states: HashMap<ParticipantId, ParticipantState> =
                loaded.into_iter().map(|s| (s.participant.id, s)).collect();
            let now = self.now();
            let mut unit = UnitOfWork::new(&ctx, now, Actor::System);
            if let Some(tasks) = slice {
                unit.restrict_to(tasks);
            }
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
                e.apply_to(w.facts_mut());
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
    pub(super) async fn link_from_fact(
        &self,
        unit: &mut UnitOfWork<'_>,
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
        match team_change(owner, &c_record, present) {
            Some(TeamChange::Link) => {
                let c_has_team = !self.store.collaborators(event, cid).await?.is_empty();
                match check_can_link(&owner_record, &c_record, c_has_team) {
                    Ok(()) => unit.link(owner, cid),
                    Err(why) => {
                        tracing::warn!(%owner, collaborator = %cid, %why, "collaborator fact not linked")
                    }
                }
            }
            Some(TeamChange::Unlink) => unit.unlink(owner, cid),
            None => {}
        }
        Ok(())
    }

    /// Records actions the host reports on participants' timelines (R5), for the host
    /// ([`Actor::System`]) or the event's organizers. Like
    /// [`ingest_batch`](Self::ingest_batch): every item is checked and gets its own result,
    /// in order; the valid ones are written in one transaction; an id already reported
    /// (as an action or a fact: one id space per event, X3) answers
    /// [`IngestOutcome::Duplicate`] and writes nothing.
    ///
    /// Per item: a kind the library writes itself, a participant named as their own other
    /// party, or a date more than [`MAX_CLOCK_SKEW`](crate::limits::MAX_CLOCK_SKEW) ahead
    /// of the clock is `Invalid` (field `kind` or `occurred_at`); an unknown participant
    /// (by the library's id or the host's), or an unknown
    /// participant named in the action (a contact, a partner, an exhibitor), is `NotFound`.
    ///
    /// The entry's time is the action's, to the millisecond: an action reported late
    /// takes its place in the timeline, not the top.
    #[instrument(skip_all, fields(event = %event, items = actions.len()))]
    pub async fn report_actions(
        &self,
        actor: &Actor,
        event: EventId,
        actions: Vec<HostAction>,
    ) -> Result<Vec<Result<IngestOutcome>>> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        if actions.len() > limits::ACTIONS {
            return Err(Error::invalid(
                "actions",
                format!("at most {} actions in one report", limits::ACTIONS),
            ));
        }
        retry!(self, {
            let loaded = self.store.event(event).await?;
            let record = loaded.ok_or_else(|| Error::not_found(EventId::ENTITY, event))?;
            let external = self
                .resolve_external(event, actions.iter().map(|a| &a.participant))
                .await?;
            let owners: Vec<Option<ParticipantId>> = actions
                .iter()
                .map(|a| super::resolved(&external, &a.participant))
                .collect();
            let ids: Vec<_> = actions.iter().map(|a| a.id.clone()).collect();
            let mut seen: HashSet<_> = self
                .store
                .ingested(event, &ids)
                .await?
                .into_iter()
                .collect();
            let mut wanted: Vec<ParticipantId> = actions
                .iter()
                .zip(&owners)
                .flat_map(|(a, o)| o.iter().copied().chain(a.kind.participants_named()))
                .collect();
            wanted.sort();
            wanted.dedup();
            // Known participants, and whether each was erased (X6).
            let known: HashMap<ParticipantId, bool> = self
                .store
                .participant_records(event, &wanted)
                .await?
                .into_iter()
                .map(|p| (p.id, p.erased_at.is_some()))
                .collect();
            let now = self.now();
            // The host's reports change no participant: no version moves, so reporting
            // never conflicts with the participants' own writes.
            let mut cs = ChangeSet::new(event);
            let mut results = Vec::with_capacity(actions.len());
            for (a, owner) in actions.iter().zip(&owners) {
                if let Err(e) = a.validate(now) {
                    results.push(Err(e));
                    continue;
                }
                if seen.contains(&a.id) {
                    results.push(Ok(IngestOutcome::Duplicate));
                    continue;
                }
                let Some(owner) = *owner else {
                    results.push(Err(super::unknown(&a.participant)));
                    continue;
                };
                if let Err(e) = a.check_other_party(owner) {
                    results.push(Err(e));
                    continue;
                }
                let missing = std::iter::once(owner)
                    .chain(a.kind.participants_named())
                    .find(|p| !known.contains_key(p));
                if let Some(p) = missing {
                    results.push(Err(Error::not_found(ParticipantId::ENTITY, p)));
                    continue;
                }
                if known.get(&owner) == Some(&true) {
                    results.push(Err(super::erased_error(owner)));
                    continue;
                }
                seen.insert(a.id.clone());
                cs.host_events.push(a.id.clone());
                cs.timeline.push(a.clone().into_entry(record.id, owner));
                results.push(Ok(IngestOutcome::Applied));
            }
            self.commit(cs).await?;
            Ok(results)
        })
    }
}
