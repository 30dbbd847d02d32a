//! # punchlist-notify
//!
//! The channel adapters of [`punchlist`] notifications (N4): each implements
//! [`punchlist::Notifier`] and delivers one rendered [`OutgoingMessage`] to one
//! [`Address`]:
//!
//! | adapter | channel | address | idempotency key carried as (N5) |
//! |---|---|---|---|
//! | [`SmtpNotifier`] | [`Channel::Email`] | [`Address::Email`] | `Message-ID` ([`email::message_id`]) |
//! | [`ChatNotifier`] | [`Channel::Chat`] | [`Address::Chat`] | `Idempotency-Key` header |
//! | [`WebPushNotifier`] | [`Channel::WebPush`] | [`Address::WebPush`] | `Topic` header ([`webpush::topic`]) |
//!
//! Every failure is a [`SendError`]: [`Throttled`](SendError::Throttled) when the peer
//! asks to slow down (HTTP 429, or a 5xx with `Retry-After`, whose time it carries; SMTP
//! 421, 451, 454), [`Transient`](SendError::Transient) when another try may work (a
//! timeout, a connection failure, another SMTP 4xx, an HTTP 408 or 5xx),
//! [`Permanent`](SendError::Permanent) when it will not (an SMTP 5xx, another HTTP 4xx, an
//! address that does not parse or belongs to another channel), and
//! [`Gone`](SendError::Gone) when a push service says the subscription no longer exists
//! (404, 410). Bad input never panics.
//!
//! Credentials (SMTP password, webhook secrets, the VAPID private key) come from the
//! host and stay in the adapters: the store never sees them, and `Debug` never shows them.
//!
//! ## Building the adapters
//!
//! ```no_run
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use punchlist::{EventId, Notifier};
//! use punchlist_notify::{
//!     ChatNotifier, ChatWebhook, SmtpConfig, SmtpCredentials, SmtpNotifier, SmtpTls, VapidKey,
//!     WebPushConfig, WebPushNotifier,
//! };
//!
//! # async fn build(expo: EventId) -> Result<(), Box<dyn std::error::Error>> {
//! // Email: the host's SMTP submission server, upgraded with STARTTLS.
//! let email = SmtpNotifier::new(
//!     SmtpConfig::new("smtp.example.org", 587, SmtpTls::StartTls, "tasks@expo.example")
//!         .with_from_name("Expo 2026")
//!         .with_credentials(SmtpCredentials::new("tasks", "secret from the vault"))
//!         .with_timeout(Duration::from_secs(20)),
//! )?;
//!
//! // Chat: each event's webhook (URL and signing secret), looked up per message. A map, or
//! // any `Fn(EventId) -> Option<ChatWebhook>` reading the host's own settings.
//! let mut webhooks = HashMap::new();
//! webhooks.insert(
//!     expo,
//!     ChatWebhook::new("https://chat.expo.example/hooks/punchlist", "webhook secret"),
//! );
//! let chat = ChatNotifier::new(webhooks)?;
//!
//! // Web push: the host's VAPID key (base64url, as `web-push generate-vapid-keys` prints
//! // it) and a contact for the push services.
//! let vapid = VapidKey::from_base64url("Cq0ZbDdNcmuYz7uQe_4YBd7hv7EdCL-sdnMcEaANjCE")?;
//! let browsers_need_this = vapid.public_key_base64url().to_owned(); // applicationServerKey
//! let push = WebPushNotifier::new(WebPushConfig::new(vapid, "mailto:ops@expo.example"))?;
//!
//! // The dispatcher takes them all.
//! let notifiers: Vec<Arc<dyn Notifier>> = vec![Arc::new(email), Arc::new(chat), Arc::new(push)];
//! # let _ = (notifiers, browsers_need_this);
//! # Ok(())
//! # }
//! ```
//!
//! All three send on the caller's Tokio runtime (with its time driver enabled, as
//! `#[tokio::main]` does), each within its own timeout.
//!
//! ## TLS
//!
//! SMTP (lettre) and HTTP (reqwest) both use rustls with the aws-lc-rs provider; neither
//! OpenSSL nor native-tls is linked. SMTP checks the server's certificate against the
//! Mozilla roots (webpki-roots), HTTP against the platform's trust store.

#![deny(missing_docs)]

pub mod chat;
pub mod email;
mod error;
mod http;
pub mod webpush;

pub use chat::{ChatFormat, ChatNotifier, ChatWebhook, ChatWebhooks};
pub use email::{SmtpConfig, SmtpCredentials, SmtpNotifier, SmtpTls};
pub use error::ConfigError;
pub use webpush::{VapidKey, WebPushConfig, WebPushNotifier};

#[doc(no_inline)]
pub use punchlist::{Address, Channel, Notifier, OutgoingMessage, PushSubscription, SendError};
