//! The participant's record beyond tasks (R5–R13): the timeline (R5), the agenda and
//! sessions (R6, R8), the history (R12) and the online status (R13).

use std::collections::{HashMap, HashSet};
use std::io;

use chrono::{DateTime, Utc};

use tracing::instrument;

use super::backoffice::write_record;
use super::{Punchlist, Unit, retry};
use crate::actor::{self, Actor};
use crate::change::ChangeSet;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::history::{HistoryEntry, HistoryFilter, Subject, is_under};
use crate::host_event::IngestOutcome;
use crate::ids::ExternalId;
use crate::ids::{EventId, ParticipantId};
use crate::ids::{MeetingId, MessageId};
use crate::limits;
use crate::limits::PAGE as MAX_PAGE;
use crate::message::{Message, MessagePage, checked_body};
use crate::participant::{Networking, Participant};
use crate::presence::{OnlineStatus, Presence, Registrant, RegistrantsPage};
use crate::session::{
    Agenda, AgendaItem, Booker, Meeting, MeetingStatus, NewMeeting, Session, SessionRegistration,
};
use crate::store::{Store, StoreExt};
use crate::timeline::{
    ActionKind, HostAction, LoginChannel, Partner, Partners, ScanPlace, TimelineEntry,
    TimelineFilter, TimelineKind,
};

/// How many last-seen times a service remembers before it forgets the stale ones.
const SEEN_CAPACITY: usize = 100_000;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
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

    /// A page of a participant's timeline, newest first (R5), for them and the event's
    /// organizers: the kinds, date range and cursor of `filter`, at most `limit` entries
    /// (up to 1,000). The next page is `filter.before` = the last entry's id; a page shorter
    /// than `limit` is the last.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn timeline(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        filter.validate()?;
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        self.store
            .timeline(
                event,
                participant,
                filter,
                crate::limits::page(limit, MAX_PAGE)?,
            )
            .await
    }

    /// Writes a participant's timeline as CSV to `out` (R5), newest first, with `filter`'s
    /// kinds and dates (its cursor is ignored: the export starts at the newest), page by
    /// page so memory does not grow with the timeline. For the participant and the
    /// event's organizers. Columns: `at` (RFC 3339 in the event's time zone), `kind`,
    /// `by` (`participant`, `organizer:<admin>` or `system`), `details` (the action's
    /// fields as JSON). Cells a spreadsheet would run as a formula are neutralised as in
    /// B4. `out` is written synchronously between store reads (see
    /// [`export_matrix_csv`](Self::export_matrix_csv)). Returns the number of entries.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn export_timeline_csv<W: io::Write + Send>(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        out: W,
    ) -> Result<u64> {
        filter.validate()?;
        let ctx = self.context(actor, event).await?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let zone = ctx.event.settings.time_zone;
        let mut csv = csv::Writer::from_writer(out);
        write_record(
            &mut csv,
            ["at", "kind", "by", "details"].map(String::from).to_vec(),
        )?;
        let mut filter = TimelineFilter {
            before: None,
            ..filter.clone()
        };
        let mut written = 0u64;
        loop {
            let page = self
                .store
                .timeline(event, participant, &filter, MAX_PAGE)
                .await?;
            for e in &page {
                let by = actor_label(&e.actor, participant);
                write_record(
                    &mut csv,
                    vec![
                        e.at.with_timezone(&zone).to_rfc3339(),
                        e.kind.action_kind().as_str().to_owned(),
                        by,
                        e.kind.details(),
                    ],
                )?;
                written += 1;
            }
            match page.last() {
                Some(last) if page.len() == MAX_PAGE => filter.before = Some(last.id),
                _ => break,
            }
        }
        csv.flush().map_err(|source| Error::Io { source })?;
        Ok(written)
    }

    /// Reports that `participant` is active on the site or the app now (R13): from the
    /// host ([`Actor::System`]), an organizer, or the participant themselves. The first
    /// ping ever puts "first login" (with `channel`) on their timeline. Pings are not
    /// history, and most write nothing: see [`presence`](crate::presence) for when the
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
        let every = self.config.get_presence().write_every();
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
            let mut unit = Unit::new(&ctx, now, actor.clone());
            unit.add(state).facts.last_seen = Some(stored.map_or(now, |s| s.max(now)));
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
        let batch = limit.max(self.config.get_batch_size());
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
                        participant: state.participant,
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

    fn presence_of(
        &self,
        participant: ParticipantId,
        last_seen: Option<DateTime<Utc>>,
    ) -> Presence {
        Presence {
            participant,
            status: OnlineStatus::at(last_seen, self.now(), &self.config.get_presence()),
            last_seen,
        }
    }

    fn remembered(&self, event: EventId, participant: ParticipantId) -> Option<DateTime<Utc>> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&(event, participant)).copied()
    }

    fn remember(
        &self,
        event: EventId,
        participant: ParticipantId,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let every = self.config.get_presence().write_every();
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

    /// A page of a participant's history, newest first (R12): one line per changed field
    /// with old and new value, when and who. For the organizers whole; for the participant
    /// without the lines about custom fields (R4). `filter` narrows it to fields and
    /// dates; the next page is `filter.before` = the last line's id, and a page shorter
    /// than `limit` (up to 1,000) is the last.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn participant_history(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &HistoryFilter,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        filter.validate()?;
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        self.history_page(
            actor,
            event,
            participant,
            filter,
            crate::limits::page(limit, MAX_PAGE)?,
        )
        .await
    }

    /// Writes a participant's history as CSV to `out` (R12), newest first, with
    /// `filter`'s fields and dates (its cursor is ignored), page by page. Same readers
    /// and lines as [`participant_history`](Self::participant_history). Columns: `at`
    /// (RFC 3339 in the event's time zone), `field`, `old`, `new` (text as is, other
    /// values as JSON), `by`. Values are what participants typed: cells a spreadsheet
    /// would run as a formula are neutralised as in B4. Returns the number of lines.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn export_participant_history_csv<W: io::Write + Send>(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &HistoryFilter,
        out: W,
    ) -> Result<u64> {
        filter.validate()?;
        let ctx = self.context(actor, event).await?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let zone = ctx.event.settings.time_zone;
        let mut csv = csv::Writer::from_writer(out);
        write_record(
            &mut csv,
            ["at", "field", "old", "new", "by"]
                .map(String::from)
                .to_vec(),
        )?;
        let mut filter = HistoryFilter {
            before: None,
            ..filter.clone()
        };
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let mut written = 0u64;
        loop {
            let page = self
                .history_page(actor, event, participant, &filter, MAX_PAGE)
                .await?;
            for line in &page {
                write_record(
                    &mut csv,
                    vec![
                        line.at.with_timezone(&zone).to_rfc3339(),
                        line.field.clone(),
                        text(&line.old),
                        text(&line.new),
                        actor_label(&line.actor, participant),
                    ],
                )?;
                written += 1;
            }
            match page.last() {
                Some(last) if page.len() == MAX_PAGE => filter.before = Some(last.id),
                _ => break,
            }
        }
        csv.flush().map_err(|source| Error::Io { source })?;
        Ok(written)
    }

    /// Up to `limit` lines of the filter, reading on past the lines the reader may not
    /// see or the filter leaves out, so a page is full whenever older matching lines
    /// exist.
    pub(super) async fn history_page(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &HistoryFilter,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let subject = Subject::Participant(participant);
        let staff = actor.is_staff_of(event);
        let mut lines = Vec::with_capacity(limit);
        let mut cursor = filter.upper();
        while lines.len() < limit {
            let page = self.store.history(event, subject, cursor, limit).await?;
            let Some(last) = page.last() else { break };
            cursor = Some(last.id);
            let exhausted = page.len() < limit;
            for line in page {
                if filter.is_past(&line) {
                    return Ok(lines);
                }
                // A participant never sees lines about custom fields (R4).
                let visible = staff || !is_under(&line.field, "custom_fields");
                if visible && filter.wants(&line) && lines.len() < limit {
                    lines.push(line);
                }
            }
            if exhausted {
                break;
            }
        }
        Ok(lines)
    }

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
        let mut out: Vec<_> = state.facts.sessions.into_values().collect();
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
        let facts = state.facts;
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
            let booked = Meeting {
                id: MeetingId::new_at(now),
                booker: meeting.booker,
                with: meeting.with,
                starts_at: meeting.starts_at,
                ends_at: meeting.ends_at,
                place: meeting.place.clone(),
                status: if actor.is_staff_of(event) {
                    MeetingStatus::Accepted
                } else {
                    MeetingStatus::Requested
                },
            };
            let mut unit = Unit::new(&ctx, now, actor.clone());
            for state in states.drain(..) {
                let id = state.participant.id;
                unit.add(state)
                    .facts
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
            if found.status == status {
                return Ok(found);
            }
            if let Some(me) = actor.as_participant() {
                let allowed = match status {
                    MeetingStatus::Accepted | MeetingStatus::Declined => {
                        me == found.with && found.status == MeetingStatus::Requested
                    }
                    MeetingStatus::Cancelled => found.status.is_on(),
                    MeetingStatus::Requested => false,
                };
                if !allowed {
                    return Err(Error::forbidden(format!(
                        "a participant cannot move a {:?} meeting to {:?} here",
                        found.status, status
                    )));
                }
            }
            let other = self
                .participant_state(event, found.other(participant))
                .await?;
            let now = self.now();
            let updated = Meeting {
                status,
                ..found.clone()
            };
            let mut unit = Unit::new(&ctx, now, actor.clone());
            for s in [state.clone(), other] {
                let id = s.participant.id;
                unit.add(s).facts.meetings.insert(meeting, updated.clone());
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
        let mut out: Vec<_> = state.facts.meetings.into_values().collect();
        out.sort_by_key(|m| (m.starts_at, m.id));
        Ok(out)
    }

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
            let mut record = state.participant.clone();
            if record.status.networking != networking {
                record.status.networking = networking;
                let mut unit = Unit::new(&ctx, self.now(), actor.clone());
                unit.add(state).record = record.clone();
                self.commit(unit.into_changes()).await?;
            }
            Ok(super::participant::readable(actor, event, record))
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
            let mut unit = Unit::new(&ctx, now, actor.clone());
            let unread = &mut unit.add(state).facts.unread;
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
            let mut unit = Unit::new(&ctx, self.now(), actor.clone());
            let unread = &mut unit.add(state).facts.unread;
            if staff {
                unread.by_organizers = 0;
            } else {
                unread.by_participant = 0;
            }
            self.commit(unit.into_changes()).await?;
            Ok(())
        })
    }

    /// Every entry of `participant`'s timeline that `filter` selects, newest first, read
    /// page by page from the filter's cursor.
    pub(super) async fn whole_timeline(
        &self,
        event: EventId,
        participant: ParticipantId,
        mut filter: TimelineFilter,
    ) -> Result<Vec<TimelineEntry>> {
        let mut out = Vec::new();
        loop {
            let page = self
                .store
                .timeline(event, participant, &filter, MAX_PAGE)
                .await?;
            let full = page.len() == MAX_PAGE;
            filter.before = page.last().map(|e| e.id);
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }

    /// Loads the participant, lets `change` edit their registration to `session` (and
    /// say what to put on the timeline), and commits with the history line and the
    /// re-evaluated tasks; returns the registration as it stands (or as it was, if it
    /// left the record).
    async fn change_session(
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
            let mut unit = Unit::new(&ctx, now, actor.clone());
            let w = unit.add(state);
            match &after {
                Some(r) => w.facts.sessions.insert(session.clone(), r.clone()),
                None => w.facts.sessions.remove(session),
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
fn meeting_history(
    unit: &mut Unit<'_>,
    participant: ParticipantId,
    meeting: MeetingId,
    old: Option<MeetingStatus>,
    new: Option<MeetingStatus>,
) {
    let line = |s: Option<MeetingStatus>| serde_json::json!({ "meetings": { meeting.to_string(): { "status": s } } });
    unit.history_values(Subject::Participant(participant), &line(old), &line(new));
}

/// Who did it, for CSV exports: `participant` (the record's owner), `participant:<id>`,
/// `organizer:<admin>` or `system`.
fn actor_label(actor: &Actor, owner: ParticipantId) -> String {
    match actor {
        Actor::Participant { id, .. } if *id == owner => "participant".into(),
        Actor::Participant { id, .. } => format!("participant:{id}"),
        Actor::Organizer { admin, .. } => format!("organizer:{admin}"),
        Actor::System => "system".into(),
    }
}
