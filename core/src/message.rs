//! Messages between the organizers and a participant (R7): one thread per participant,
//! with an unread count for each side.
//!
//! A thread's messages are stored apart from the participant's state (a thread may be
//! long); the unread counts are kept with the participant, moved in the same transaction
//! as the message or the read receipt, so they are exact and cost nothing to read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::error::Result;
use crate::ids::{EventId, MessageId, ParticipantId};
use crate::text;

/// One message of a participant's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Its id (time-ordered).
    pub id: MessageId,
    /// The event.
    pub event: EventId,
    /// Whose thread: the participant the organizers talk with.
    pub participant: ParticipantId,
    /// Who wrote it: an organizer, or the participant.
    pub sender: Actor,
    /// When.
    pub at: DateTime<Utc>,
    /// The text (1 to 10,000 bytes, trimmed).
    pub body: String,
}

impl Message {
    /// Whether the participant wrote it (otherwise an organizer did).
    pub fn from_participant(&self) -> bool {
        matches!(self.sender, Actor::Participant { .. })
    }
}

/// Checks a message's text; returns it trimmed (field `body`).
pub(crate) fn checked_body(body: &str) -> Result<String> {
    text::required_lines("body", body, crate::limits::MESSAGE_CHARS)
}

/// The unread counts of a thread, kept with the participant (R7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Unread {
    /// Messages from the organizers the participant has not read.
    pub by_participant: u32,
    /// Messages from the participant the organizers have not read.
    pub by_organizers: u32,
}

impl Unread {
    /// Whether both are zero.
    pub fn is_zero(&self) -> bool {
        self.by_participant == 0 && self.by_organizers == 0
    }
}

/// A page of a thread, newest first, with the reader's unread count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    /// The messages, newest first.
    pub messages: Vec<Message>,
    /// How many messages the reader's side has not read.
    pub unread: u32,
}
