//! Sessions, meetings and the agenda (R6, R8, R9): the sessions a participant registered
//! to or attended, the meetings they booked or received, and their agenda in time order.
//!
//! The session catalogue is the host's: a registration carries the session as the host
//! describes it ([`Session`]: its id, title, times, place), and the library keeps it with
//! the participant, beside their facts. So "registered to at least N sessions" is a task
//! condition like the others ([`Condition::Sessions`](crate::Condition::Sessions)),
//! evaluated in the same transaction as the registration (T3, T4).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{ExternalId, MeetingId, ParticipantId};
use crate::text;

/// A session or workshop of the event, as the host describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The host's id for the session.
    pub id: ExternalId,
    /// Its title (1 to 300 characters).
    pub title: String,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends (after it starts).
    pub ends_at: DateTime<Utc>,
    /// Where: a room, a stage, or a link (up to 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
}

impl Session {
    /// Checks the description; returns it with its title trimmed. Fields are named
    /// `session.<field>`.
    pub fn validated(mut self) -> Result<Self> {
        self.title = text::required_text("session.title", &self.title, 300)?;
        if self.ends_at <= self.starts_at {
            return Err(Error::invalid(
                "session.ends_at",
                "must be after `starts_at`",
            ));
        }
        if let Some(place) = &self.place {
            text::bounded_text("session.place", place, 500)?;
        }
        Ok(self)
    }
}

/// A participant's relation to one session (R8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRegistration {
    /// The session, as last described by the host.
    pub session: Session,
    /// Whether the participant is registered to it now (a walk-in who attended without
    /// registering is not).
    pub registered: bool,
    /// When they registered (the last time, if they registered again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<DateTime<Utc>>,
    /// When they were seen attending it, if they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attended_at: Option<DateTime<Utc>>,
}

/// Where a meeting stands (R9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Booked, waiting for the other participant's answer.
    Requested,
    /// Accepted by the other participant (or booked by an organizer as accepted).
    Accepted,
    /// Declined by the other participant.
    Declined,
    /// Cancelled by either participant or an organizer.
    Cancelled,
}

impl MeetingStatus {
    /// Whether the meeting still takes place (or may): requested or accepted.
    pub fn is_on(self) -> bool {
        matches!(self, Self::Requested | Self::Accepted)
    }
}

/// A networking or business meeting between two participants of the event (R9). Kept
/// with both participants, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// Its id.
    pub id: MeetingId,
    /// Who booked it.
    pub booker: ParticipantId,
    /// Whom it was booked with.
    pub with: ParticipantId,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
    /// Where: a booth, a meeting point, or a video link (up to 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Where it stands.
    pub status: MeetingStatus,
}

impl Meeting {
    /// The other participant, seen from `me`.
    pub fn other(&self, me: ParticipantId) -> ParticipantId {
        if self.booker == me {
            self.with
        } else {
            self.booker
        }
    }

    /// The meeting with its status moved to `status` (R9), by `by`: one of its two
    /// participants (`Some`), or an organizer or the host (`None`), who may set any
    /// status. `Ok(None)` when it has that status already: nothing changes.
    ///
    /// A participant answers a request made to them (accepts or declines it) and cancels
    /// a meeting that still takes place (requested or accepted); anything else is
    /// `Forbidden` (a request is never made again, an answer never changed, a meeting
    /// declined or cancelled never revived).
    pub(crate) fn set_status(
        &self,
        status: MeetingStatus,
        by: Option<ParticipantId>,
    ) -> Result<Option<Meeting>> {
        if self.status == status {
            return Ok(None);
        }
        if let Some(me) = by {
            let allowed = match status {
                MeetingStatus::Accepted | MeetingStatus::Declined => {
                    me == self.with && self.status == MeetingStatus::Requested
                }
                MeetingStatus::Cancelled => self.status.is_on(),
                MeetingStatus::Requested => false,
            };
            if !allowed {
                return Err(Error::forbidden(format!(
                    "a participant cannot move a {:?} meeting to {:?} here",
                    self.status, status
                )));
            }
        }
        Ok(Some(Meeting {
            status,
            ..self.clone()
        }))
    }
}

/// A meeting to book (R9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMeeting {
    /// Who books it.
    pub booker: ParticipantId,
    /// With whom (another participant of the event).
    pub with: ParticipantId,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends (after it starts).
    pub ends_at: DateTime<Utc>,
    /// Where: a booth, a meeting point, or a video link (up to 500 characters).
    #[serde(default)]
    pub place: Option<String>,
}

impl NewMeeting {
    /// Checks the meeting on its own (not that the participants exist).
    pub fn validate(&self) -> Result<()> {
        if self.with == self.booker {
            return Err(Error::invalid("with", "a meeting is with someone else"));
        }
        if self.ends_at <= self.starts_at {
            return Err(Error::invalid("ends_at", "must be after `starts_at`"));
        }
        if let Some(place) = &self.place {
            text::bounded_text("place", place, 500)?;
        }
        Ok(())
    }
}

/// Who books a meeting (R9), for [`NewMeeting::check_booking`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Booker {
    /// An organizer, booking a business meeting: accepted at once, whatever the other's
    /// networking consent.
    Organizer,
    /// The participant themselves: a request the other answers.
    Participant,
}

impl NewMeeting {
    /// The meeting booked as `id` by `by` (R9): an organizer's is
    /// [`MeetingStatus::Accepted`] at once, a participant's is
    /// [`MeetingStatus::Requested`] until the other answers. Whether it may be booked is
    /// [`NewMeeting::check_booking`], asked before.
    pub(crate) fn book(&self, id: MeetingId, by: Booker) -> Meeting {
        Meeting {
            id,
            booker: self.booker,
            with: self.with,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            place: self.place.clone(),
            status: match by {
                Booker::Organizer => MeetingStatus::Accepted,
                Booker::Participant => MeetingStatus::Requested,
            },
        }
    }

    /// Whether the meeting may be booked now (R9, X7), given the meetings already on the
    /// booker's record and whether the other participant gave their networking consent
    /// (`Networking::Allowed`; "not given" is no consent):
    /// - a participant asks only someone who consents: `Forbidden` otherwise;
    /// - a meeting between the same two people for the same slot that still takes place
    ///   (requested or accepted) is a `Conflict`, whoever booked it;
    /// - a participant has at most
    ///   [`PENDING_MEETING_REQUESTS`](crate::limits::PENDING_MEETING_REQUESTS) requests
    ///   waiting for an answer: `State` beyond, until one is answered or cancelled.
    pub(crate) fn check_booking<'m>(
        &self,
        by: Booker,
        with_consents: bool,
        booker_meetings: impl IntoIterator<Item = &'m Meeting>,
    ) -> Result<()> {
        let mut pending = 0usize;
        for m in booker_meetings {
            let same_pair = (m.booker == self.booker && m.with == self.with)
                || (m.booker == self.with && m.with == self.booker);
            if same_pair
                && m.status.is_on()
                && m.starts_at == self.starts_at
                && m.ends_at == self.ends_at
            {
                return Err(Error::conflict(MeetingId::ENTITY, m.id));
            }
            if m.booker == self.booker && m.status == MeetingStatus::Requested {
                pending += 1;
            }
        }
        if by == Booker::Organizer {
            return Ok(());
        }
        if !with_consents {
            return Err(Error::forbidden(
                "the other participant has not given their consent to networking meetings",
            ));
        }
        if pending >= crate::limits::PENDING_MEETING_REQUESTS {
            return Err(Error::state(
                ParticipantId::ENTITY,
                self.booker,
                format!(
                    "has {} meeting requests waiting for an answer already",
                    crate::limits::PENDING_MEETING_REQUESTS
                ),
            ));
        }
        Ok(())
    }
}

/// One line of a participant's agenda (R6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AgendaItem {
    /// A session they are registered to.
    Session {
        /// The session.
        session: Session,
        /// Whether they attended it already.
        attended: bool,
    },
    /// A meeting that takes place (requested or accepted).
    Meeting {
        /// The meeting.
        meeting: Meeting,
    },
}

impl AgendaItem {
    /// When it starts.
    pub fn starts_at(&self) -> DateTime<Utc> {
        match self {
            Self::Session { session, .. } => session.starts_at,
            Self::Meeting { meeting } => meeting.starts_at,
        }
    }

    /// When it starts, in `zone` (the event's time zone).
    pub fn local_start(&self, zone: Tz) -> DateTime<Tz> {
        self.starts_at().with_timezone(&zone)
    }
}

/// A participant's agenda (R6): the sessions they are registered to and the meetings
/// that take place, in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agenda {
    /// The event's time zone, to show the times in.
    pub time_zone: Tz,
    /// The items, earliest first.
    pub items: Vec<AgendaItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Moved {
        /// It has that status already: nothing changes.
        Same,
        /// The status moves.
        To,
        /// Refused: `Forbidden`.
        No,
    }

    /// One (from, to) of the transition table, and what it gives to the booker, to the
    /// one it was booked with, and to an organizer.
    type StatusRow = (MeetingStatus, MeetingStatus, Moved, Moved, Moved);

    /// Every (from, to) pair of a meeting's status, one per line.
    #[rustfmt::skip]
    fn transitions() -> Vec<StatusRow> {
        use MeetingStatus::{Accepted, Cancelled, Declined, Requested};
        use Moved::{No, Same, To};
        vec![
            // (from, to, by the booker, by the one booked with, by an organizer)
            (Requested, Requested, Same, Same, Same),
            (Requested, Accepted, No, To, To),
            (Requested, Declined, No, To, To),
            (Requested, Cancelled, To, To, To),
            (Accepted, Requested, No, No, To),
            (Accepted, Accepted, Same, Same, Same),
            (Accepted, Declined, No, No, To),
            (Accepted, Cancelled, To, To, To),
            (Declined, Requested, No, No, To),
            (Declined, Accepted, No, No, To),
            (Declined, Declined, Same, Same, Same),
            (Declined, Cancelled, No, No, To),
            (Cancelled, Requested, No, No, To),
            (Cancelled, Accepted, No, No, To),
            (Cancelled, Declined, No, No, To),
            (Cancelled, Cancelled, Same, Same, Same),
        ]
    }

    /// R9: every (from, to) pair of a meeting's status, by each who may move it.
    #[test]
    fn r9_every_meeting_status_transition() {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let (booker, with) = (ParticipantId::new_at(at(1)), ParticipantId::new_at(at(2)));
        let table = transitions();
        assert_eq!(table.len(), 16, "every pair");
        for (from, to, by_booker, by_with, by_organizer) in table {
            let meeting = Meeting {
                id: MeetingId::new_at(at(3)),
                booker,
                with,
                starts_at: at(100),
                ends_at: at(200),
                place: None,
                status: from,
            };
            for (by, want) in [
                (Some(booker), by_booker),
                (Some(with), by_with),
                (None, by_organizer),
            ] {
                let case = format!("{from:?} to {to:?} by {by:?}");
                match (meeting.set_status(to, by), want) {
                    (Ok(None), Moved::Same) => {}
                    (Ok(Some(moved)), Moved::To) => {
                        assert_eq!(moved.status, to, "{case}");
                        assert_eq!(
                            Meeting {
                                status: from,
                                ..moved
                            },
                            meeting,
                            "{case}"
                        );
                    }
                    (Err(Error::Forbidden { reason }), Moved::No) => assert_eq!(
                        reason,
                        format!("a participant cannot move a {from:?} meeting to {to:?} here"),
                        "{case}"
                    ),
                    (got, want) => panic!("{case}: expected {want:?}, got {got:?}"),
                }
            }
        }
    }

    /// R9: a booking is accepted at once by an organizer's hand, a request otherwise.
    #[test]
    fn r9_a_booking_is_a_request_unless_an_organizer_books_it() {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let new = NewMeeting {
            booker: ParticipantId::new_at(at(1)),
            with: ParticipantId::new_at(at(2)),
            starts_at: at(100),
            ends_at: at(200),
            place: Some("Booth 12".into()),
        };
        let id = MeetingId::new_at(at(3));
        for (by, status) in [
            (Booker::Organizer, MeetingStatus::Accepted),
            (Booker::Participant, MeetingStatus::Requested),
        ] {
            let m = new.book(id, by);
            assert_eq!(m.status, status, "{by:?}");
            assert_eq!(
                (m.id, m.booker, m.with, m.starts_at, m.ends_at, m.place),
                (
                    id,
                    new.booker,
                    new.with,
                    new.starts_at,
                    new.ends_at,
                    new.place.clone()
                )
            );
        }
    }
}
