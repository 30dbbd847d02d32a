//! What notifications a change causes (N1, N2) as outbox entries, and the reminder
//! schedule (N3). Sending is the dispatcher's job; here the library only decides.

mod reminder;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use reminder::{ReminderSlot, due_reminder};

use crate::ids::{EventId, OutboxId, ParticipantId, TaskId};

/// A notification to send, written in the same change set as its cause (N5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Its id (time-ordered).
    pub id: OutboxId,
    /// The event.
    pub event: EventId,
    /// Who gets it.
    pub recipient: ParticipantId,
    /// What it says.
    pub message: Notification,
    /// A key unique per event that the receiver can drop repeats by (N5); a store refuses
    /// a second entry with the same key.
    pub idempotency_key: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub state: OutboxState,
}

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutboxState {
    /// Waiting for a dispatcher.
    Pending,
}

/// What a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Notification {
    /// Tasks were published to the recipient (N1); tasks published together are grouped
    /// into one notice (N7).
    Publication {
        /// The tasks.
        tasks: Vec<TaskId>,
    },
    /// The owner assigned a task to the recipient (N2).
    Assignment {
        /// The task.
        task: TaskId,
        /// Its owner.
        owner: ParticipantId,
    },
    /// An organizer asked to remind the recipient of a task now (B5).
    Nudge {
        /// The task.
        task: TaskId,
        /// Its owner.
        owner: ParticipantId,
    },
    /// The organizer rejected a submission; the recipient can submit again (T3).
    ReviewRejected {
        /// The task.
        task: TaskId,
        /// Its owner.
        owner: ParticipantId,
        /// The organizer's reason.
        reason: String,
    },
    /// A reminder before a deadline, or once overdue (N3).
    Reminder {
        /// The task.
        task: TaskId,
        /// Its owner.
        owner: ParticipantId,
        /// Which reminder.
        slot: ReminderSlot,
        /// The deadline it reminds of.
        deadline: DateTime<Utc>,
    },
}

impl Notification {
    /// The idempotency key of a reminder: one per (task, recipient, slot, deadline), so a
    /// moved deadline arms its reminders again.
    pub fn reminder_key(
        task: TaskId,
        recipient: ParticipantId,
        slot: ReminderSlot,
        deadline: DateTime<Utc>,
    ) -> String {
        format!(
            "reminder:{task}:{recipient}:{}:{}",
            slot.key(),
            deadline.timestamp()
        )
    }
}
