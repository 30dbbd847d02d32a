//! What notifications a change causes (N1, N2) as outbox entries, the reminder schedule
//! (N3), the delivery state of an entry (N5), and the channels and their adapters (N4).
//! Sending is the dispatcher's job; here the library only decides.

mod channel;
mod preferences;
mod rate;
mod schedule;
mod shipped;
pub(crate) mod template;
mod unsubscribe;
mod window;
pub(crate) mod words;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "mock")]
pub use channel::MockNotifier;
pub use channel::{
    Address, Channel, Notifier, OutgoingMessage, PushSubscription, RetryAfter, SendError, Sender,
    Urgency,
};
pub use preferences::{
    NotificationDefaults, PREFERENCE_KINDS, PreferenceCell, PreferenceChange, PreferenceRow,
    Preferences, PreferencesUpdate,
};
pub use rate::{LimiterStep, RateLimit, Taken};
pub use schedule::{
    ReminderItem, ReminderMark, ReminderOffset, ReminderPolicy, ReminderSlot, due_reminder,
};
pub(crate) use template::MessageKind;
pub use unsubscribe::{UnsubscribeKey, UnsubscribeToken};
pub use window::SendWindow;

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
    /// Attempts made so far (N5).
    #[serde(default)]
    pub attempts: u32,
    /// Not to be sent before this time: the end of the backoff after a failed attempt
    /// (`None`: from its creation).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    /// The dispatcher holding it while it sends it (N5).
    #[serde(default)]
    pub lease: Option<Lease>,
    /// The addresses it was delivered to already ([`Address`] keys, see
    /// [`OutboxEntry::address_key`]): a retry after a partial failure skips them, so one
    /// channel failing neither blocks nor repeats the others (N4).
    #[serde(default)]
    pub delivered: BTreeSet<String>,
    /// The addresses it was held back from ([`OutboxEntry::address_key`] → why: the
    /// recipient's preference, a suppressed address), decided when it was sent (N8); `*`
    /// for every address, when it was no longer needed by the time its recipient's send
    /// window opened (N9: the task was done meanwhile).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, String>,
    /// Since when peers have been asking to slow down, with no other outcome since (N11):
    /// the throttle limit runs from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled_since: Option<DateTime<Utc>>,
    /// How many times in a row a peer asked to slow down (the wait grows with it; none of
    /// them spends an attempt).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttles: u32,
    /// Since when it has waited for its recipient's send window to open (N9): the
    /// entries waiting for one recipient go out together, as one message, when it opens.
    /// Kept once it is sent, as a record that it waited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_since: Option<DateTime<Utc>>,
    /// The last failure, as the adapter told it.
    #[serde(default)]
    pub last_error: Option<String>,
    /// When it was sent or given up.
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl OutboxEntry {
    /// A new pending entry for `recipient`, created at `now` and due at once. The
    /// idempotency key is unique per event: a second entry with the same key is a conflict,
    /// which is how a notification is queued at most once.
    pub fn new(
        event: EventId,
        recipient: ParticipantId,
        message: Notification,
        idempotency_key: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: OutboxId::new_at(now),
            event,
            recipient,
            message,
            idempotency_key,
            created_at: now,
            state: OutboxState::Pending,
            attempts: 0,
            not_before: None,
            lease: None,
            delivered: Default::default(),
            skipped: BTreeMap::new(),
            throttled_since: None,
            throttles: 0,
            held_since: None,
            last_error: None,
            finished_at: None,
        }
    }

    /// Whether it is pending and has waited for its recipient's send window (N9): a claim
    /// of one brings the recipient's others along
    /// ([`claim_outbox`](crate::store::OutboxStore::claim_outbox)).
    pub fn is_waiting(&self) -> bool {
        self.state == OutboxState::Pending && self.held_since.is_some()
    }

    /// Makes it wait, unleased and with no attempt spent, for its recipient's send window
    /// to open at `opening` (N9), noting since when it waits.
    pub fn hold_until(&mut self, opening: DateTime<Utc>, now: DateTime<Utc>) {
        self.lease = None;
        self.not_before = Some(opening);
        self.held_since.get_or_insert(now);
    }

    /// When a dispatcher may claim it: while pending, at the end of its lease if it has
    /// one (so a crashed dispatcher's claims come back), else at the end of its backoff, else
    /// at once. Sent and dead entries are never due.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        if self.state != OutboxState::Pending {
            return None;
        }
        Some(match &self.lease {
            Some(l) => l.until,
            None => self.not_before.unwrap_or(self.created_at),
        })
    }

    /// Its lane (N11, [`MessageKind::lane`](template::MessageKind::lane)): a claim takes
    /// every due entry of a lower lane first.
    pub fn lane(&self) -> u8 {
        self.message.kind().lane()
    }

    /// Leases the entry to `owner` until `until` (what a claim stores).
    pub fn lease_to(&mut self, owner: &str, until: DateTime<Utc>) {
        self.lease = Some(Lease {
            owner: owner.to_owned(),
            until,
        });
    }

    /// Whether `owner` holds it: pending and leased to them (what a store checks before
    /// writing back a dispatcher's result).
    pub fn is_held_by(&self, owner: &str) -> bool {
        self.state == OutboxState::Pending && self.lease.as_ref().is_some_and(|l| l.owner == owner)
    }

    /// Puts a dead entry back in the queue at `now` (the organizer's retry): pending, no
    /// lease, attempts and last error cleared; addresses already reached stay reached.
    pub fn requeue(&mut self, now: DateTime<Utc>) {
        self.state = OutboxState::Pending;
        self.attempts = 0;
        self.not_before = Some(now);
        self.lease = None;
        self.last_error = None;
        self.finished_at = None;
        self.throttled_since = None;
        self.throttles = 0;
        self.held_since = None;
    }

    /// The channels it was delivered on so far, from [`OutboxEntry::delivered`]: what a
    /// report of "sent by email" reads (a store may keep it in a column of its own).
    pub fn delivered_channels(&self) -> BTreeSet<Channel> {
        self.delivered
            .iter()
            .filter_map(|key| {
                let name = key.split_once(':').map_or(key.as_str(), |(c, _)| c);
                Channel::ALL.into_iter().find(|c| c.as_str() == name)
            })
            .collect()
    }

    /// The stable key of an address in [`OutboxEntry::delivered`]: the channel, and for
    /// web push the subscription's endpoint.
    pub fn address_key(address: &Address) -> String {
        match address {
            Address::WebPush(s) => format!("web_push:{}", s.endpoint),
            other => other.channel().as_str().to_owned(),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Which outbox entries an organizer lists ([`Punchlist::outbox`](crate::Punchlist::outbox)):
/// each filter given must hold; the default lists every entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutboxFilter {
    /// Only this recipient's.
    pub recipient: Option<ParticipantId>,
    /// Only this kind.
    pub kind: Option<template::MessageKind>,
    /// Only entries in this state.
    pub state: Option<OutboxState>,
}

impl OutboxFilter {
    /// Whether `entry` passes every filter given.
    pub fn matches(&self, entry: &OutboxEntry) -> bool {
        self.recipient.is_none_or(|r| r == entry.recipient)
            && self.kind.is_none_or(|k| k == entry.message.kind())
            && self.state.is_none_or(|s| s == entry.state)
    }

    /// Whether it lets every entry through.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A dispatcher's hold on an outbox entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The dispatcher (unique per running instance).
    pub owner: String,
    /// When the hold ends if the dispatcher does not finish first.
    pub until: DateTime<Utc>,
}

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutboxState {
    /// Waiting for a dispatcher (or held by one, see [`OutboxEntry::lease`]).
    Pending,
    /// Delivered on every channel the recipient could be reached on.
    Sent,
    /// Given up after the configured number of attempts; the organizer can list it and
    /// send it again (N5).
    Dead,
    /// Not sent to anyone: every address was held back by the recipient's preferences or
    /// a suppression (N8), as [`OutboxEntry::skipped`] says.
    Skipped,
}

impl OutboxState {
    /// A short stable name (`pending`, `sent`, `dead`, `skipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Dead => "dead",
            Self::Skipped => "skipped",
        }
    }
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
    /// Reminders for one recipient due close together, grouped into one message (N7).
    Reminders {
        /// The reminders, by deadline.
        items: Vec<ReminderItem>,
    },
    /// Messages that waited for the recipient's send window, sent together when it opened
    /// (N9): made by the dispatcher when it sends them, never queued itself.
    Digest {
        /// The messages, in the order they were queued, without what is no longer needed.
        messages: Vec<Notification>,
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
    /// Its kind: which templates render it.
    pub fn kind(&self) -> template::MessageKind {
        use template::MessageKind as K;
        match self {
            Self::Publication { .. } => K::Publication,
            Self::Assignment { .. } => K::Assignment,
            Self::Nudge { .. } => K::Nudge,
            Self::ReviewRejected { .. } => K::ReviewRejected,
            Self::Reminders { .. } => K::Reminders,
            Self::Reminder { .. } => K::Reminder,
            Self::Digest { .. } => K::Digest,
        }
    }

    /// The participants it names besides its recipient: the tasks' owners (whose names a
    /// message may show).
    pub fn owners(&self) -> Vec<ParticipantId> {
        match self {
            Self::Assignment { owner, .. }
            | Self::Nudge { owner, .. }
            | Self::ReviewRejected { owner, .. }
            | Self::Reminder { owner, .. } => vec![*owner],
            Self::Reminders { items } => items.iter().map(|i| i.owner).collect(),
            Self::Digest { messages } => messages.iter().flat_map(Self::owners).collect(),
            Self::Publication { .. } => Vec::new(),
        }
    }

    /// The reminders this notification carries (N3): one for a `Reminder`, each item of a
    /// grouped `Reminders`, none for any other kind.
    pub fn reminder_items(&self) -> Vec<ReminderItem> {
        match self {
            Self::Reminder {
                task,
                owner,
                slot,
                deadline,
            } => vec![ReminderItem {
                task: *task,
                owner: *owner,
                slot: *slot,
                deadline: *deadline,
            }],
            Self::Reminders { items } => items.clone(),
            Self::Digest { messages } => messages.iter().flat_map(Self::reminder_items).collect(),
            _ => Vec::new(),
        }
    }

    /// The idempotency key of a reminder: one per (task, owner, recipient, slot,
    /// deadline), so a moved deadline arms its reminders again. The owner is part of it:
    /// a collaborator can hold the same task twice, their own row and one their team's
    /// owner handed them, and each has its reminders.
    pub fn reminder_key(
        task: TaskId,
        owner: ParticipantId,
        recipient: ParticipantId,
        slot: ReminderSlot,
        deadline: DateTime<Utc>,
    ) -> String {
        format!(
            "reminder:{task}:{owner}:{recipient}:{}:{}",
            slot.key(),
            deadline.timestamp()
        )
    }
}
