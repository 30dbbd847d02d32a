//! A participant's data on request (X6): everything held about them as one JSON document,
//! and erasure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::history::HistoryEntry;
use crate::message::Message;
use crate::notify::OutboxEntry;
use crate::participant::{Facts, Participant};
use crate::progress::Progress;
use crate::timeline::TimelineEntry;

/// Everything the library holds about one participant (X6), for them or the event's
/// organizers. Serialize it with `serde_json` for the JSON export. A participant's own
/// export leaves out what they may not read: custom fields, and history lines about them
/// (R4).
///
/// Erasure replaces personal data ([`Participant::erase`], [`Facts::erase`]) and keeps
/// what the organizer's figures rest on: the progress rows stay as they were (an erased
/// participant's progress is frozen, so every figure is unchanged and still equal to a
/// recount), the timeline stays (its entries name host objects and participants by id),
/// the history stays with every personal value replaced by `"[erased]"`, and so does every
/// message of their thread (R7). Outbox entries to them are dropped, their push
/// subscriptions removed, tasks assigned to them taken back by their owners, and nothing
/// is queued for them any more. Both export and erasure are recorded in the participant's
/// history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantExport {
    /// When it was made.
    pub exported_at: DateTime<Utc>,
    /// The record.
    pub participant: Participant,
    /// The facts and activity kept with them (host facts, sessions, meetings, last seen).
    pub facts: Facts,
    /// Their progress on their tasks.
    pub progress: Vec<Progress>,
    /// Other owners' tasks assigned to them.
    pub assigned_to_them: Vec<Progress>,
    /// Their whole timeline, newest first.
    pub timeline: Vec<TimelineEntry>,
    /// Their whole history, newest first.
    pub history: Vec<HistoryEntry>,
    /// Their message thread with the organizers, newest first (R7).
    pub messages: Vec<Message>,
    /// Notifications queued or sent to them.
    pub notifications: Vec<OutboxEntry>,
}
