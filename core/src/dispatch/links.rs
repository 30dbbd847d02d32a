//! One-click unsubscribe links (N8): how the dispatcher signs the link each message that
//! can be stopped carries.

use chrono::Duration;

use super::MessageKind;
use crate::error::Result;
use crate::ids::{EventId, ParticipantId};

/// How the dispatcher signs one-click unsubscribe links (N8): the host's key, the host's
/// route that hands the token to [`Punchlist::unsubscribe`](crate::Punchlist::unsubscribe), and how long a link works.
#[derive(Debug, Clone)]
pub struct UnsubscribeLinks {
    key: crate::notify::UnsubscribeKey,
    url: String,
    valid_for: Duration,
}

impl UnsubscribeLinks {
    /// Links to `url` (the host's route, e.g. `https://expo.example/unsubscribe`; the token
    /// is added as the `token` query parameter), signed with `key`, working for 90 days.
    /// The error names `url` when it is not an absolute `https` address (RFC 8058; `http`
    /// only on a loopback address, for tests) or has a fragment (the token would not reach
    /// the server).
    pub fn new(key: crate::notify::UnsubscribeKey, url: impl Into<String>) -> Result<Self> {
        let url = url.into();
        crate::text::web_url("url", &url)?;
        let loopback = ["http://127.0.0.1", "http://[::1]", "http://localhost"]
            .iter()
            .any(|p| {
                url.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/', '?']))
            });
        if !url.starts_with("https://") && !loopback {
            return Err(crate::error::Error::invalid(
                "url",
                "must be an https:// address (RFC 8058), http only on a loopback address",
            ));
        }
        if url.contains('#') {
            return Err(crate::error::Error::invalid(
                "url",
                "must not have a fragment (#…): the token would not reach the server",
            ));
        }
        Ok(Self {
            key,
            url,
            valid_for: Duration::days(90),
        })
    }

    /// How long a link works (between 1 day and 2 years).
    pub fn valid_for(mut self, valid_for: Duration) -> Self {
        self.valid_for = valid_for.clamp(Duration::days(1), Duration::days(730));
        self
    }

    /// The link that stops `kind` for `recipient` of `event` (everything that may stop,
    /// for a digest), signed at `now`.
    pub(crate) fn link(
        &self,
        event: EventId,
        recipient: ParticipantId,
        kind: MessageKind,
        now: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let token = self.key.sign(&crate::notify::UnsubscribeToken {
            event,
            participant: recipient,
            // A digest holds several kinds: its link stops every message that may stop.
            kind: (kind != MessageKind::Digest).then(|| kind.preference_kind()),
            expires_at: now + self.valid_for,
        });
        let join = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{join}token={token}", self.url)
    }
}
