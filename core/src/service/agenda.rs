//! The agenda (R6, R8, R9): sessions registered and attended, and meetings.

use std::sync::Arc;

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::history::Subject;
use crate::ids::{EventId, ExternalId, MeetingId, ParticipantId};
use crate::participant::Networking;
use crate::session::{
    Agenda, AgendaItem, Booker, Meeting, MeetingStatus, NewMeeting, Session, SessionRegistration,
};
use crate::store::Store;
use crate::timeline::TimelineKind;
use chrono::{DateTime, Utc};
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Registers `participant` to a session (R6, R8): for them, the event's organizers, or
    /// the host. The session is described as the host knows it (checked: title, times,
    /// place); registering again updates the description and changes nothing else. The
    /// timeline gets "session registered", the history a line, and automatic tasks
    /// counting sessions are re-evaluated in the same transaction.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn register_to_session(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        session: Session,
    ) -> Result<SessionRegistration> {
        let session = session.validated()?;
        self.change_session(
            actor,
            event,
            participant,
            &session.id.clone(),
            |reg, now| {
                let was = reg.as_ref().is_some_and(|r| r.registered);
                let mut r = reg.take().unwrap_or_else(|| SessionRegistration {
                    session: session.clone(),
                    registered: false,
                    registered_at: None,
                    attended_at: None,
                });
                r.session = session.clone();
                if !was {
                    r.registered = true;
                    r.registered_at = Some(now);
                }
                *reg = Some(r);
                Ok((!was).then(|| TimelineKind::SessionRegistered {
                    session: session.id.clone(),
                }))
            },
        )
        .await
    }

    /// Unregisters `participant` from a session (R6, R8): for them, the organizers or the
    /// host. `NotFound` (entity `session`) when they are not registered to it. An
    /// attendance already recorded is kept.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn unregister_from_session(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        session: &ExternalId,
    ) -> Result<SessionRegistration> {
        self.change_session(actor, event, participant, session, |reg, _| {
            match reg {
                Some(r) if r.registered => {
                    r.registered = false;
                    r.registered_at = None;
                }
                _ => return Err(Error::not_found("session", session)),
            }
            if reg.as_ref().is_some_and(|r| r.attended_at.is_none()) {
                // Nothing left to keep: the session leaves the record.
                let gone = reg.take();
                return Ok(gone.map(|r| TimelineKind::SessionUnregistered {
                    session: r.session.id,
                }));
            }
            Ok(Some(TimelineKind::SessionUnregistered {
                session: session.clone(),
            }))
        })
        .await
    }

    /// Records that `participant` attended a session at `at` (R8): for the organizers and
    /// the host (a scan at the entrance, a check-in). A walk-in who was not registered is
    /// recorded as attending, not registered. Recording it again keeps the first time.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn record_attendance(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        session: Session,
        at: DateTime<Utc>,
    ) -> Result<SessionRegistration> {
        actor::require_staff(actor, event, ParticipantId::ENTITY, participant)?;
        let session = session.validated()?;
        crate::host_event::check_occurred_at(at, self.now()).map_err(|e| match e {
            Error::Invalid { reason, .. } => Error::invalid("at", reason),
            other => other,
        })?;
        self.change_session(actor, event, participant, &session.id.clone(), |reg, _| {
            let mut r = reg.take().unwrap_or_else(|| SessionRegistration {
                session: session.clone(),
                registered: false,
                registered_at: None,
                attended_at: None,
            });
            r.session = session.clone();
            let first = r.attended_at.is_none();
            if first {
                r.attended_at = Some(crate::timeline::to_millisecond(at));
            }
            *reg = Some(r);
            Ok(first.then(|| TimelineKind::SessionAttended {
                session: session.id.clone(),
            }))
        })
        .await
    }

    /// The sessions `participant` registered to or attended (R8), earliest first: for them
    /// and the organizers.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn sessions(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<Vec<SessionRegistration>> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        let state = self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let mut out: Vec<_> = Arc::unwrap_or_clone(state.facts)
            .sessions
            .into_values()
            .collect();
        out.sort_by(|a, b| {
            (a.session.starts_at, &a.session.id).cmp(&(b.session.starts_at, &b.session.id))
        });
        Ok(out)
    }

    /// The agenda of `participant` (R6): the sessions they are registered to and the
    /// meetings that take place (requested or accepted), in time order, with the event's
    /// time zone to show them in. For them and the organizers.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn agenda(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<Agenda> {
        let ctx = self.context(actor, event).await?;
        let state = self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let facts = Arc::unwrap_or_clone(state.facts);
        let mut items: Vec<AgendaItem> = facts
            .sessions
            .into_values()
            .filter(|r| r.registered)
            .map(|r| AgendaItem::Session {
                attended: r.attended_at.is_some(),
                session: r.session,
            })
            .chain(
                facts
                    .meetings
                    .into_values()
                    .filter(|m| m.status.is_on())
                    .map(|meeting| AgendaItem::Meeting { meeting }),
            )
            .collect();
        items.sort_by_key(AgendaItem::starts_at);
        Ok(Agenda {
            time_zone: ctx.event.settings.time_zone,
            items,
        })
    }

    /// Books a meeting between two participants (R9): by the booker themselves or an
    /// organizer (from the agenda tab). A participant's booking is
    /// [`MeetingStatus::Requested`] until the other answers; an organizer's is
    /// [`MeetingStatus::Accepted`]. Both participants get it on their record, their
    /// timeline ("meeting booked" / "meeting received") and their history, in one
    /// transaction.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn book_meeting(
        &self,
        actor: &Actor,
        event: EventId,
        meeting: NewMeeting,
    ) -> Result<Meeting> {
        meeting.validate()?;
        actor::require_self_or_staff(actor, event, meeting.booker)?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let mut states = self
                .store
                .participants_by_id(event, &[meeting.booker, meeting.with])
                .await?;
            for p in [meeting.booker, meeting.with] {
                match states.iter().find(|s| s.participant.id == p) {
                    None => return Err(Error::not_found(ParticipantId::ENTITY, p)),
                    Some(s) => super::not_erased(s)?,
                }
            }
            // R9, X7: consent, one meeting per pair and slot, a bound on pending requests.
            let by = if actor.is_staff_of(event) {
                Booker::Organizer
            } else {
                Booker::Participant
            };
            let find = |id| states.iter().find(|s| s.participant.id == id);
            let (Some(booker), Some(with)) = (find(meeting.booker), find(meeting.with)) else {
                return Err(Error::not_found(ParticipantId::ENTITY, meeting.with));
            };
            if let Err(refused) = meeting.check_booking(
                by,
                with.participant.status.networking == Networking::Allowed,
                booker.facts.meetings.values(),
            ) {
                // Final: a retry would meet the same meetings and the same consent.
                return Ok(Err(refused));
            }
            let now = self.now();
            let booked = meeting.book(MeetingId::new_at(now), by);
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            for state in states.drain(..) {
                let id = state.participant.id;
                unit.add(state)
                    .facts_mut()
                    .meetings
                    .insert(booked.id, booked.clone());
                meeting_history(&mut unit, id, booked.id, None, Some(booked.status));
            }
            unit.timeline(
                booked.booker,
                TimelineKind::MeetingBooked {
                    meeting: booked.id,
                    with: booked.with,
                },
            );
            unit.timeline(
                booked.with,
                TimelineKind::MeetingReceived {
                    meeting: booked.id,
                    from: booked.booker,
                },
            );
            self.commit(unit.into_changes()).await?;
            Ok(Ok(booked.clone()))
        })?
    }

    /// Answers or cancels a meeting (R9), found on `participant`'s record: the other
    /// participant accepts or declines a requested meeting; either of them cancels; an
    /// organizer may set any status. Setting the status it has changes nothing. Both
    /// records, histories and timelines move together.
    #[instrument(skip_all, fields(event = %event, meeting = %meeting))]
    pub async fn set_meeting_status(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        meeting: MeetingId,
        status: MeetingStatus,
    ) -> Result<Meeting> {
        actor::require_self_or_staff(actor, event, participant)?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            let found = state
                .facts
                .meetings
                .get(&meeting)
                .cloned()
                .ok_or_else(|| Error::not_found(MeetingId::ENTITY, meeting))?;
            let Some(updated) = found.set_status(status, actor.as_participant())? else {
                return Ok(found);
            };
            let other = self
                .participant_state(event, found.other(participant))
                .await?;
            let now = self.now();
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            for s in [state.clone(), other] {
                let id = s.participant.id;
                unit.add(s)
                    .facts_mut()
                    .meetings
                    .insert(meeting, updated.clone());
                meeting_history(&mut unit, id, meeting, Some(found.status), Some(status));
                unit.timeline(id, TimelineKind::MeetingStatusChanged { meeting, status });
            }
            self.commit(unit.into_changes()).await?;
            Ok(updated.clone())
        })
    }

    /// Every meeting of `participant` (R9), earliest first, whatever its status: for them
    /// and the organizers.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn meetings(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
    ) -> Result<Vec<Meeting>> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        let state = self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let mut out: Vec<_> = Arc::unwrap_or_clone(state.facts)
            .meetings
            .into_values()
            .collect();
        out.sort_by_key(|m| (m.starts_at, m.id));
        Ok(out)
    }

    /// Loads the participant, lets `change` edit their registration to `session` (and
    /// say what to put on the timeline), and commits with the history line and the
    /// re-evaluated tasks; returns the registration as it stands (or as it was, if it
    /// left the record).
    pub(super) async fn change_session(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        session: &ExternalId,
        change: impl Fn(&mut Option<SessionRegistration>, DateTime<Utc>) -> Result<Option<TimelineKind>>
        + Send
        + Sync,
    ) -> Result<SessionRegistration> {
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let state = self.participant_state(event, participant).await?;
            actor::require_self_or_staff(actor, event, participant)?;
            super::not_erased(&state)?;
            let now = self.now();
            let before = state.facts.sessions.get(session).cloned();
            let mut after = before.clone();
            let entry = change(&mut after, now)?;
            // What it is now; a registration that left the record is returned unregistered.
            let result = after
                .clone()
                .or_else(|| {
                    before.clone().map(|mut r| {
                        r.registered = false;
                        r.registered_at = None;
                        r
                    })
                })
                .ok_or_else(|| Error::not_found("session", session))?;
            if after == before {
                return Ok(result);
            }
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            let w = unit.add(state);
            match &after {
                Some(r) => w.facts_mut().sessions.insert(session.clone(), r.clone()),
                None => w.facts_mut().sessions.remove(session),
            };
            let line = |r: &Option<SessionRegistration>| {
                serde_json::json!({ "sessions": { session.as_str(): r.as_ref().map(|r| {
                    serde_json::json!({
                        "registered": r.registered,
                        "attended_at": r.attended_at,
                    })
                })}})
            };
            unit.history_values(
                Subject::Participant(participant),
                &line(&before),
                &line(&after),
            );
            if let Some(kind) = entry {
                // An attendance is on the timeline at the time it happened.
                let at = match (&kind, &after) {
                    (TimelineKind::SessionAttended { .. }, Some(r)) => r.attended_at.unwrap_or(now),
                    _ => now,
                };
                unit.timeline_at(participant, kind, actor.clone(), at);
            }
            self.commit(unit.into_changes()).await?;
            Ok(result)
        })
    }
}

/// The history line of a meeting's status on one participant (R12).
pub(super) fn meeting_history(
    unit: &mut UnitOfWork<'_>,
    participant: ParticipantId,
    meeting: MeetingId,
    old: Option<MeetingStatus>,
    new: Option<MeetingStatus>,
) {
    let line = |s: Option<MeetingStatus>| serde_json::json!({ "meetings": { meeting.to_string(): { "status": s } } });
    unit.history_values(Subject::Participant(participant), &line(old), &line(new));
}
