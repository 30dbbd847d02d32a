//! A direct message through the host's chat ([`ChatNotifier`]), by the host's webhook.
//!
//! The host runs the chat (or bridges to one) and exposes, per event, a webhook that
//! delivers one message to one person. For each message the adapter asks the host's
//! [`ChatWebhooks`] for the event's [`ChatWebhook`] (URL and secret), and `POST`s:
//!
//! ```text
//! POST {url}
//! Content-Type: application/json
//! Idempotency-Key: {message.idempotency_key}
//! X-Punchlist-Signature: sha256={hex HMAC-SHA256(secret, body)}
//!
//! {"handle": "…", "subject": "…", "text": "one short line", "link": "…" or null,
//!  "event": "…", "recipient": "…", "idempotency_key": "…"}
//! ```
//!
//! The host verifies the signature over the raw body bytes, with its copy of the secret,
//! before trusting anything (compare in constant time), delivers `text` to `handle` alone,
//! and drops a repeat of an `Idempotency-Key` it has already delivered (N5: after a crash
//! the same message may come twice, always with the same key). There is no timestamp in
//! the signature: a replayed request carries an already-seen key and is dropped.
//!
//! Answers: any 2xx is success; 429, or a 5xx with `Retry-After`, is
//! [`SendError::Throttled`] (with the time asked for); 408, 5xx, a timeout or a connection
//! failure is [`SendError::Transient`]; any other status is [`SendError::Permanent`]. An event with no
//! webhook, or an address that is not a chat handle, is [`SendError::Permanent`].
//!
//! [`ChatFormat::SlackSharedChannel`] is an opt-in for hosts whose chat only offers a
//! Slack-style incoming webhook to a shared channel: read its warning first.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use punchlist::{Address, Channel, EventId, Notifier, OutgoingMessage, SendError};
use serde::Serialize;
use sha2::Sha256;

use crate::ConfigError;
use crate::email::hex;

/// The header that carries the signature: `sha256=` and the lowercase hex HMAC-SHA256 of
/// the request body, keyed with the webhook's secret.
pub const SIGNATURE_HEADER: &str = "X-Punchlist-Signature";

/// The header that carries [`OutgoingMessage::idempotency_key`].
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// One event's chat webhook: where to post, and the secret that signs the posts.
#[derive(Clone, PartialEq, Eq)]
pub struct ChatWebhook {
    /// The webhook's URL: `https://…`, or `http://…` for a webhook on the host's own
    /// network (the body then crosses it in clear; the secret never does).
    pub url: String,
    /// The secret shared with the host's webhook (never shown by `Debug`); it must not be
    /// empty, and should be long and random (32 bytes from a CSPRNG, for instance).
    pub secret: String,
}

impl ChatWebhook {
    /// A webhook at `url` signed with `secret`.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
        }
    }
}

impl fmt::Debug for ChatWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatWebhook")
            .field("url", &"<redacted>")
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Where the host keeps each event's chat webhook. The adapter asks on every send, so a
/// change the host makes applies to the next message; the lookup should be cheap (a map
/// or a cache the host keeps up to date), as it runs on the dispatcher's task.
///
/// Implemented for closures `Fn(EventId) -> Option<ChatWebhook>` and for
/// `HashMap<EventId, ChatWebhook>`.
pub trait ChatWebhooks: Send + Sync + 'static {
    /// The webhook of `event`, or `None` if the event has no chat.
    fn webhook(&self, event: EventId) -> Option<ChatWebhook>;
}

impl<F> ChatWebhooks for F
where
    F: Fn(EventId) -> Option<ChatWebhook> + Send + Sync + 'static,
{
    fn webhook(&self, event: EventId) -> Option<ChatWebhook> {
        self(event)
    }
}

impl ChatWebhooks for HashMap<EventId, ChatWebhook> {
    fn webhook(&self, event: EventId) -> Option<ChatWebhook> {
        self.get(&event).cloned()
    }
}

/// What the adapter posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChatFormat {
    /// The JSON described in the [module docs](self), for a webhook that delivers to one
    /// person. The default, and the only format that keeps a participant's messages
    /// private.
    #[default]
    Direct,
    /// A Slack-style incoming-webhook body, `{"text": "@handle: subject\nbody\nlink"}`,
    /// for a chat that can only post to a channel (the same headers are sent).
    ///
    /// **Warning:** such a webhook posts to a channel that everyone in it reads: every
    /// participant's reminders, assignments and links become visible to the whole channel.
    /// Use it only for a channel that the recipient alone reads, or with every
    /// participant's consent.
    SlackSharedChannel,
}

/// Sends [`Address::Chat`] messages through each event's chat webhook (channel
/// [`Channel::Chat`]).
#[derive(Clone)]
pub struct ChatNotifier {
    webhooks: Arc<dyn ChatWebhooks>,
    client: reqwest::Client,
    format: ChatFormat,
}

impl fmt::Debug for ChatNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatNotifier")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl ChatNotifier {
    /// The default time a webhook has to answer: 10 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// An adapter that finds each event's webhook in `webhooks`, posts the
    /// [`ChatFormat::Direct`] body, and waits at most [`Self::DEFAULT_TIMEOUT`].
    pub fn new(webhooks: impl ChatWebhooks) -> Result<Self, ConfigError> {
        Self::with_timeout(webhooks, Self::DEFAULT_TIMEOUT)
    }

    /// The same, waiting at most `timeout` for a webhook (connecting, sending and
    /// answering together) before the send fails as [`SendError::Transient`].
    pub fn with_timeout(
        webhooks: impl ChatWebhooks,
        timeout: Duration,
    ) -> Result<Self, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError::invalid("timeout", "is zero"));
        }
        Ok(Self {
            webhooks: Arc::new(webhooks),
            client: crate::http::client(timeout)?,
            format: ChatFormat::Direct,
        })
    }

    /// Sets what is posted. See the warning on [`ChatFormat::SlackSharedChannel`].
    pub fn with_format(mut self, format: ChatFormat) -> Self {
        self.format = format;
        self
    }

    /// The body posted for one message, as bytes (what the signature covers).
    ///
    /// The text is the message's short line ([`OutgoingMessage::summary`]), not the email's
    /// text part: a chat message needs no greeting or footer, and the footer's unsubscribe
    /// link is a personal credential that must not land in a shared channel. A message
    /// without a short line falls back to its text.
    fn body(&self, handle: &str, message: &OutgoingMessage) -> Result<Vec<u8>, SendError> {
        let text = if message.summary.trim().is_empty() {
            message.body.as_str()
        } else {
            message.summary.as_str()
        };
        let result = match self.format {
            ChatFormat::Direct => serde_json::to_vec(&DirectBody {
                handle,
                subject: &message.subject,
                text,
                link: message.link.as_deref(),
                event: message.event,
                recipient: message.recipient,
                idempotency_key: &message.idempotency_key,
            }),
            ChatFormat::SlackSharedChannel => {
                let short = text;
                let mut text = format!("@{}: {}", handle.trim_start_matches('@'), message.subject);
                if !short.is_empty() {
                    text.push('\n');
                    text.push_str(short);
                }
                if let Some(link) = &message.link {
                    text.push('\n');
                    text.push_str(link);
                }
                serde_json::to_vec(&SlackBody { text: &text })
            }
        };
        result.map_err(|e| SendError::Permanent(format!("could not encode the chat message: {e}")))
    }
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` keyed with `secret`: the value of
/// [`SIGNATURE_HEADER`].
fn signature(secret: &str, body: &[u8]) -> Result<String, SendError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| SendError::Permanent(format!("the chat webhook secret is unusable: {e}")))?;
    mac.update(body);
    Ok(format!("sha256={}", hex(&mac.finalize().into_bytes())))
}

/// Checks a [`SIGNATURE_HEADER`] value against the raw request `body` and the webhook's
/// `secret`, in constant time: what the host's webhook does before trusting a request
/// (a host written in Rust can call this; others compute the same HMAC).
pub fn verify_signature(secret: &str, body: &[u8], header_value: &str) -> bool {
    let Some(hex_mac) = header_value.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = unhex(hex_mac) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let hi = char::from(pair[0]).to_digit(16)?;
            let lo = char::from(pair[1]).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

#[derive(Serialize)]
struct DirectBody<'a> {
    handle: &'a str,
    subject: &'a str,
    text: &'a str,
    link: Option<&'a str>,
    event: EventId,
    recipient: punchlist::ParticipantId,
    idempotency_key: &'a str,
}

#[derive(Serialize)]
struct SlackBody<'a> {
    text: &'a str,
}

#[async_trait]
impl Notifier for ChatNotifier {
    fn channel(&self) -> Channel {
        Channel::Chat
    }

    async fn send(&self, to: &Address, message: &OutgoingMessage) -> Result<(), SendError> {
        let Address::Chat { handle } = to else {
            return Err(SendError::Permanent(format!(
                "the chat adapter cannot send to a {} address",
                to.channel()
            )));
        };
        if handle.trim().is_empty() {
            return Err(SendError::Permanent("the chat handle is empty".into()));
        }
        let Some(webhook) = self.webhooks.webhook(message.event) else {
            return Err(SendError::Permanent(format!(
                "event {} has no chat webhook",
                message.event
            )));
        };
        if webhook.secret.is_empty() {
            return Err(SendError::Permanent(format!(
                "the chat webhook of event {} has an empty secret",
                message.event
            )));
        }
        let url = reqwest::Url::parse(&webhook.url)
            .map_err(|e| SendError::Permanent(format!("the chat webhook URL is invalid: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(SendError::Permanent(format!(
                "the chat webhook URL has scheme {:?}; it must be https",
                url.scheme()
            )));
        }
        let key =
            reqwest::header::HeaderValue::from_str(&message.idempotency_key).map_err(|_| {
                SendError::Permanent("the idempotency key cannot be sent as a header".into())
            })?;
        let body = self.body(handle, message)?;
        let signature = signature(&webhook.secret, &body)?;

        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, key)
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| crate::http::request_error("the chat webhook", e))?;
        let status = response.status();
        if status.is_success() {
            tracing::debug!(outbox = %message.outbox, %status, "chat webhook accepted the message");
            return Ok(());
        }
        let retry_after = crate::http::retry_after(response.headers());
        let text = crate::http::error_body(response).await;
        Err(crate::http::status_error(
            "the chat webhook",
            status,
            retry_after,
            &text,
        ))
    }
}
