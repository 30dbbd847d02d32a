//! A participant's data on request (X6): export and erasure. See [`ParticipantExport`](crate::ParticipantExport).

use std::sync::Arc;

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::change::ChangeSet;
use crate::clock::Clock;
use crate::error::Result;
use crate::history::{HistoryEntry, HistoryFilter, Subject};
use crate::ids::{EventId, HistoryId, OutboxId, ParticipantId};
use crate::limits::PAGE as MAX_PAGE;
use crate::message::Message;
use crate::notify::{OutboxEntry, OutboxFilter};
use crate::participant::{ERASED, Participant};
use crate::privacy::ParticipantExport;
use crate::store::Store;
use crate::timeline::{TimelineFilter, TimelineKind};
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Everything held about `participant` (X6), for them or the event's organizers: see
    /// [`ParticipantExport`]. The export is recorded in their history (`exported`).
    ///
    /// It reads the whole timeline and history page by page, and the event's outbox to
    /// find the notifications to them: a rare call, priced by the event's outbox.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn export_participant(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<ParticipantExport> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        let state = self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let timeline = self
            .whole_timeline(event, participant, TimelineFilter::default())
            .await?;
        let mut history = Vec::new();
        let mut filter = HistoryFilter::default();
        loop {
            let page = self
                .history_page(actor, event, participant, &filter, MAX_PAGE)
                .await?;
            let full = page.len() == MAX_PAGE;
            filter.before = page.last().map(|l| l.id);
            history.extend(page);
            if !full {
                break;
            }
        }
        let notifications = self.outbox_to(event, participant).await?;
        let messages = self.thread(event, participant).await?;
        let assigned_to_them = self.store.assigned_to(event, participant).await?;
        let now = self.now();
        let mut cs = ChangeSet::new(event);
        cs.history.push(HistoryEntry {
            id: HistoryId::happened_at(now),
            event,
            subject: Subject::Participant(participant),
            at: crate::timeline::to_millisecond(now),
            actor: actor.clone(),
            field: "exported".into(),
            old: serde_json::Value::Null,
            new: serde_json::json!(now),
        });
        self.commit(cs).await?;
        Ok(ParticipantExport {
            exported_at: now,
            participant: Arc::unwrap_or_clone(state.participant).read_by(actor),
            facts: Arc::unwrap_or_clone(state.facts),
            progress: state.progress.into_values().collect(),
            assigned_to_them,
            timeline,
            history,
            messages,
            notifications,
        })
    }

    /// Erases `participant`'s personal data (X6), for the event's organizers: see
    /// [`ParticipantExport`](crate::ParticipantExport) for what goes and what stays. In one transaction: the record and
    /// facts are erased, the history lines about them rewritten without personal values,
    /// their outbox entries dropped, tasks assigned to them taken back, their external
    /// id renamed in their team owner's counted collaborators (the owner's count does not
    /// move), and an `erased` line added to their history. Erasing again changes nothing.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn erase_participant(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<()> {
        actor::require_staff(actor, event, ParticipantId::ENTITY, participant)?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            if state.participant.erased_at.is_some() {
                return Ok(());
            }
            let now = self.now();
            let subject = Subject::Participant(participant);
            let old_external = state.participant.external_id.clone();
            let owner = state.participant.owner;
            // Their stored history, to rewrite.
            let mut lines = Vec::new();
            let mut cursor = None;
            loop {
                let page = self.store.history(event, subject, cursor, MAX_PAGE).await?;
                let full = page.len() == MAX_PAGE;
                cursor = page.last().map(|l| l.id);
                lines.extend(page);
                if !full {
                    break;
                }
            }
            let dropped: Vec<OutboxId> = self
                .outbox_to(event, participant)
                .await?
                .into_iter()
                .map(|o| o.id)
                .collect();
            let thread = self.thread(event, participant).await?;
            let assigned = self.store.assigned_to(event, participant).await?;
            let mut others: Vec<ParticipantId> = assigned.iter().map(|r| r.owner).collect();
            others.extend(owner);
            // The other party of each meeting keeps it, without its place (free text).
            let meetings: Vec<_> = state.facts.meetings.values().cloned().collect();
            others.extend(meetings.iter().map(|m| m.other(participant)));
            others.sort();
            others.dedup();
            let other_states = self.store.participants_by_id(event, &others).await?;

            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            let w = unit.add(state);
            w.record_mut().erase(now);
            w.facts_mut().erase();
            // The organizers' words about them (rejection reasons) are free text too.
            for row in w.rows.values_mut() {
                if let Some(r) = &mut row.rejection {
                    r.reason = ERASED.to_owned();
                }
            }
            let new_external = w.record.external_id.clone();
            for s in other_states {
                unit.add(s);
            }
            for m in &meetings {
                if let Some(o) = unit.get(m.other(participant))
                    && let Some(copy) = o.facts_mut().meetings.get_mut(&m.id)
                {
                    copy.place = None;
                }
            }
            // Tasks assigned to them go back to their owners.
            for row in &assigned {
                if let Some(o) = unit.get(row.owner)
                    && let Some(r) = o.rows.get_mut(&row.task)
                    && r.assignee == Some(participant)
                {
                    r.assignee = None;
                    r.updated_at = now;
                    unit.timeline(
                        row.owner,
                        TimelineKind::TaskTakenBack {
                            task: row.task,
                            from: participant,
                        },
                    );
                }
            }
            // Their team owner counts them under their new external id.
            if let Some(o) = owner.and_then(|o| unit.get(o)) {
                o.facts_mut()
                    .collaborators
                    .rename(&old_external, new_external);
            }
            let mut cs = unit.into_changes();
            // The unit's own lines for this change carry the old values: erase them too.
            for line in &mut cs.history {
                if line.subject == subject && Participant::is_personal_field(&line.field) {
                    scrub(line);
                }
            }
            // Stored lines about personal data are rewritten (same id: replaced).
            cs.history.extend(
                lines
                    .into_iter()
                    .filter(|l| Participant::is_personal_field(&l.field))
                    .filter_map(|mut l| scrub(&mut l).then_some(l)),
            );
            cs.history.push(HistoryEntry {
                id: HistoryId::happened_at(now),
                event,
                subject,
                at: crate::timeline::to_millisecond(now),
                actor: actor.clone(),
                field: "erased".into(),
                old: serde_json::Value::Null,
                new: serde_json::Value::Bool(true),
            });
            cs.deleted_outbox = dropped;
            cs.messages = thread
                .into_iter()
                .filter(|m| m.body != ERASED)
                .map(|m| Message {
                    body: ERASED.to_owned(),
                    ..m
                })
                .collect();
            self.commit(cs).await?;
            Ok(())
        })
    }

    /// Every message of `participant`'s thread, newest first.
    pub(super) async fn thread(
        &self,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .store
                .messages(event, participant, before, MAX_PAGE)
                .await?;
            let full = page.len() == MAX_PAGE;
            before = page.last().map(|m| m.id);
            out.extend(page);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// Every outbox entry of `event` to `participant`, in id order.
    pub(super) async fn outbox_to(
        &self,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<Vec<OutboxEntry>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store
                .outbox(event, &OutboxFilter::default(), after, MAX_PAGE)
                .await?;
            let full = page.len() == MAX_PAGE;
            after = page.last().map(|o| o.id);
            out.extend(page.into_iter().filter(|o| o.recipient == participant));
            if !full {
                break;
            }
        }
        Ok(out)
    }
}

/// Replaces the values of a line about personal data; returns whether it changed.
pub(super) fn scrub(line: &mut HistoryEntry) -> bool {
    let mut changed = false;
    for value in [&mut line.old, &mut line.new] {
        let erased = serde_json::Value::String(ERASED.to_owned());
        if !value.is_null() && *value != erased {
            *value = erased;
            changed = true;
        }
    }
    changed
}
