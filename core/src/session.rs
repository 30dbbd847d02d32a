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
