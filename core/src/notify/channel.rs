//! The channels notifications go out on (N4), and the trait a channel adapter implements.
//!
//! The library decides what to send and renders it (N6); an adapter only delivers one
//! rendered message to one address. The crate `punchlist-notify` has the email (SMTP),
//! chat (the host's webhook) and web push adapters; a host may write its own, and tests
//! use [`MockNotifier`] (feature `mock`). Credentials (SMTP passwords, webhook secrets,
//! VAPID keys) are given to the adapters by the host: the store never holds them.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, OutboxId, ParticipantId};
use crate::text::Language;

/// A channel a notification can go out on (N4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// Email over SMTP.
    Email,
    /// A direct message through the host's chat.
    Chat,
    /// Web push (RFC 8030, with VAPID and an encrypted payload).
    WebPush,
}

impl Channel {
    /// Every channel, in a stable order.
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Chat, Channel::WebPush];

    /// A short stable name (`email`, `chat`, `web_push`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Chat => "chat",
            Self::WebPush => "web_push",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A browser's web push subscription (the `PushSubscription` of the Push API).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PushSubscription {
    /// The push service's URL for this browser.
    pub endpoint: String,
    /// The browser's public key (P-256, uncompressed point, base64url without padding).
    pub p256dh: String,
    /// The browser's authentication secret (16 bytes, base64url without padding).
    pub auth: String,
}

impl PushSubscription {
    /// The most subscriptions one participant keeps.
    pub const MAX_PER_PARTICIPANT: usize = 10;

    /// Checks the subscription: an `https` endpoint (`http` only on a loopback address, for
    /// tests and local push services), a P-256 public key (65 bytes, uncompressed) and a
    /// 16-byte authentication secret, both base64url. The error names the field.
    pub fn validate(&self) -> crate::error::Result<()> {
        use crate::error::Error;
        use base64::Engine;
        let endpoint = self.endpoint.trim();
        let loopback = ["http://127.0.0.1", "http://[::1]", "http://localhost"]
            .iter()
            .any(|p| {
                endpoint
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
            });
        if endpoint.len() > 2_000
            || !(endpoint.starts_with("https://") && endpoint.len() > 8 || loopback)
            || endpoint.chars().any(char::is_whitespace)
        {
            return Err(Error::invalid(
                "subscription.endpoint",
                "an https URL (http only on a loopback address), at most 2,000 characters",
            ));
        }
        let decode = |field: &'static str, value: &str, len: usize| {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(value.trim_end_matches('='))
                .map_err(|_| Error::invalid(field, "not base64url"))?;
            if bytes.len() != len {
                return Err(Error::invalid(field, format!("must be {len} bytes")));
            }
            Ok(bytes)
        };
        let key = decode("subscription.p256dh", &self.p256dh, 65)?;
        if key[0] != 4 {
            return Err(Error::invalid(
                "subscription.p256dh",
                "must be an uncompressed P-256 point",
            ));
        }
        decode("subscription.auth", &self.auth, 16)?;
        Ok(())
    }
}

/// Where one message goes on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Address {
    /// An email address, with the recipient's display name.
    Email {
        /// The address.
        address: String,
        /// The name to show (may be empty).
        name: String,
    },
    /// The recipient's handle in the host's chat.
    Chat {
        /// The handle.
        handle: String,
    },
    /// One of the recipient's web push subscriptions.
    WebPush(PushSubscription),
}

impl Address {
    /// The channel this address belongs to.
    pub fn channel(&self) -> Channel {
        match self {
            Self::Email { .. } => Channel::Email,
            Self::Chat { .. } => Channel::Chat,
            Self::WebPush(_) => Channel::WebPush,
        }
    }
}

/// How soon a message matters (web push `Urgency`, RFC 8030 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Can wait (a publication notice).
    Low,
    /// The default.
    Normal,
    /// Soon (an overdue task, a reminder the day before).
    High,
}

impl Urgency {
    /// The header value (`low`, `normal`, `high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
        }
    }
}

/// A rendered message, ready for one address.
///
/// One message has every form a channel needs: the email's subject, text and HTML parts,
/// the short title and line a phone shows, the link, and what the list headers of a bulk
/// email carry (N12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// The event.
    pub event: EventId,
    /// The event's name (the `List-Id` phrase).
    pub event_name: String,
    /// The outbox entry it comes from.
    pub outbox: OutboxId,
    /// Who gets it.
    pub recipient: ParticipantId,
    /// The same on every attempt of the same entry, so a receiver drops repeats (N5):
    /// email `Message-ID`, chat `Idempotency-Key` header, web push `Topic` (derived).
    pub idempotency_key: String,
    /// The language it was rendered in.
    pub language: Language,
    /// The email's subject.
    pub subject: String,
    /// The whole text: the email's plain-text part, which reads well on its own (the link
    /// and the footer are in it).
    pub body: String,
    /// The email's HTML part, rendered from the same texts (`None`: text only).
    pub html: Option<String>,
    /// A short title: the task's name, or "3 tasks due" (a push notification's title).
    pub title: String,
    /// One short line under the title ("due tomorrow at 18:00").
    pub summary: String,
    /// Where to go to act on it (the task's help link, or the host's Tasks page).
    pub link: Option<String>,
    /// Where the recipient stops this kind of message in one click (RFC 8058), when the
    /// dispatcher can sign such links.
    pub unsubscribe_url: Option<String>,
    /// Who the message comes from, as the event sets it (`None`: the adapter's own).
    pub sender: Option<Sender>,
    /// How soon it matters.
    pub urgency: Urgency,
    /// How long a push service may keep it for an offline browser, in seconds: never
    /// longer than the time left until the deadline it is about.
    pub ttl_seconds: u32,
}

/// Who a message comes from, as an event sets it (N12).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sender {
    /// The display name (e.g. "Salon Bois & Habitat"); empty: the adapter's.
    pub name: String,
    /// The address (`From`); `None`: the adapter's. The host's mail server must be allowed
    /// to send for its domain (SPF, DKIM).
    pub address: Option<String>,
    /// Where replies go (`Reply-To`).
    pub reply_to: Option<String>,
}

/// When a peer that asked to slow down wants the next try (HTTP `Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// After this long.
    Delay(std::time::Duration),
    /// At this time.
    At(chrono::DateTime<chrono::Utc>),
}

/// Why a send failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// Worth trying again later (a timeout, a 5xx, a temporary SMTP refusal).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The peer asked to slow down (HTTP 429, or a 503 with `Retry-After`; SMTP 421, 451,
    /// 454). With a time, the dispatcher tries again then, and the wait does not spend an
    /// attempt (N11); without one it counts as a temporary failure.
    #[error("throttled: {reason}")]
    Throttled {
        /// What the peer said.
        reason: String,
        /// When it wants the next try, if it said.
        retry_after: Option<RetryAfter>,
    },
    /// Trying again will not help (a refused address, a 4xx other than gone).
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// The address no longer exists (a push subscription answered 404 or 410): the
    /// dispatcher removes it from the participant, and the send counts as done.
    #[error("address gone: {0}")]
    Gone(String),
}

/// A channel adapter: delivers one rendered message to one address.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    /// The channel it serves.
    fn channel(&self) -> Channel;

    /// Sends `message` to `to` (an address of [`Notifier::channel`]). Must carry
    /// `message.idempotency_key` the channel's way.
    async fn send(&self, to: &Address, message: &OutgoingMessage) -> Result<(), SendError>;
}
