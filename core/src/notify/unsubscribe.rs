//! One-click unsubscribe (N8, RFC 8058): a signed, expiring token naming the event, the
//! participant and the kind of message (or all), which the dispatcher puts in every
//! message it can stop (`List-Unsubscribe`, the footer's link) and the host's route hands
//! back to [`Punchlist::unsubscribe`](crate::Punchlist::unsubscribe). Pure.
//!
//! The token is `payload.signature`, both base64url without padding: the payload is a
//! version byte, the event's and the participant's ids (16 bytes each), the kind (0 for
//! every kind) and the expiry (seconds since 1970, 8 bytes); the signature is its
//! HMAC-SHA256 under the host's key. Nothing in it is secret (the ids are the library's
//! own), and nothing in it can be changed without the key. The key comes from the host,
//! like the VAPID key; the store never holds it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::preferences::PREFERENCE_KINDS;
use super::template::MessageKind;
use crate::error::{Error, Result};
use crate::ids::{EventId, ParticipantId};

const VERSION: u8 = 1;
const PAYLOAD: usize = 1 + 16 + 16 + 1 + 8;
/// The longest token read: the payload and the signature in base64url, and a dot.
const MAX_TOKEN: usize = 128;

/// The host's key for unsubscribe links: at least 32 bytes, kept like a password. Rotating
/// it invalidates the links already sent.
#[derive(Clone)]
pub struct UnsubscribeKey(Vec<u8>);

impl fmt::Debug for UnsubscribeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnsubscribeKey(<redacted>)")
    }
}

impl UnsubscribeKey {
    /// The key from its bytes (at least 32); the error names `unsubscribe_key`.
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self> {
        let bytes = bytes.as_ref();
        if bytes.len() < 32 {
            return Err(Error::invalid(
                "unsubscribe_key",
                format!("at least 32 bytes (got {})", bytes.len()),
            ));
        }
        if bytes.len() > 1024 {
            return Err(Error::invalid("unsubscribe_key", "at most 1,024 bytes"));
        }
        Ok(Self(bytes.to_vec()))
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }

    /// The token for `what`.
    pub fn sign(&self, what: &UnsubscribeToken) -> String {
        let mut payload = Vec::with_capacity(PAYLOAD);
        payload.push(VERSION);
        payload.extend_from_slice(what.event.as_uuid().as_bytes());
        payload.extend_from_slice(what.participant.as_uuid().as_bytes());
        payload.push(kind_byte(what.kind));
        payload.extend_from_slice(&what.expires_at.timestamp().to_be_bytes());
        let mut mac = self.mac();
        mac.update(&payload);
        let signature = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// Reads a token signed with this key and not expired at `now`. A token that does not
    /// parse, was not signed with this key or was changed is refused as `Invalid` on
    /// `token` ("not an unsubscribe link of this platform"); an expired one too, saying so.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<UnsubscribeToken> {
        let forged = || Error::invalid("token", "is not an unsubscribe link of this platform");
        let token = token.trim();
        if token.len() > MAX_TOKEN {
            return Err(forged());
        }
        let (payload, signature) = token.split_once('.').ok_or_else(forged)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| forged())?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| forged())?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&signature).map_err(|_| forged())?;
        if payload.len() != PAYLOAD || payload[0] != VERSION {
            return Err(forged());
        }
        let uuid = |at: usize| {
            let mut b = [0u8; 16];
            b.copy_from_slice(&payload[at..at + 16]);
            Uuid::from_bytes(b)
        };
        let kind = match payload[33] {
            0 => None,
            n => Some(
                *PREFERENCE_KINDS
                    .get(usize::from(n) - 1)
                    .ok_or_else(forged)?,
            ),
        };
        let mut secs = [0u8; 8];
        secs.copy_from_slice(&payload[34..42]);
        let expires_at =
            DateTime::from_timestamp(i64::from_be_bytes(secs), 0).ok_or_else(forged)?;
        if expires_at <= now {
            return Err(Error::invalid(
                "token",
                "has expired: the links of the latest message still work",
            ));
        }
        Ok(UnsubscribeToken {
            event: EventId::from_uuid(uuid(1)),
            participant: ParticipantId::from_uuid(uuid(17)),
            kind,
            expires_at,
        })
    }
}

fn kind_byte(kind: Option<MessageKind>) -> u8 {
    kind.and_then(|k| {
        PREFERENCE_KINDS
            .iter()
            .position(|p| *p == k.preference_kind())
    })
    .map_or(0, |i| i as u8 + 1)
}

/// What an unsubscribe token says: who stops which messages of which event, until when
/// the link works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsubscribeToken {
    /// The event.
    pub event: EventId,
    /// The participant.
    pub participant: ParticipantId,
    /// The kind they stop; `None`: every kind they may stop.
    pub kind: Option<MessageKind>,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn token(kind: Option<MessageKind>) -> UnsubscribeToken {
        let now = Utc.with_ymd_and_hms(2027, 1, 20, 9, 0, 0).unwrap();
        UnsubscribeToken {
            event: EventId::new_at(now),
            participant: ParticipantId::new_at(now),
            kind,
            expires_at: now + Duration::days(90),
        }
    }

    /// N8: a token reads back as signed, for every kind and for all.
    #[test]
    fn n8_unsubscribe_token_round_trips() {
        let key = UnsubscribeKey::new([7u8; 32]).unwrap();
        for kind in PREFERENCE_KINDS.into_iter().map(Some).chain([None]) {
            let t = token(kind);
            let signed = key.sign(&t);
            assert!(signed.len() <= MAX_TOKEN, "{}", signed.len());
            assert!(
                signed
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
                "URL-safe: {signed}"
            );
            let now = t.expires_at - Duration::days(1);
            assert_eq!(key.verify(&signed, now).unwrap(), t);
        }
        // Grouped reminders stop what reminders stop.
        let t = token(Some(MessageKind::Reminders));
        let back = key.verify(&key.sign(&t), t.expires_at - Duration::days(1));
        assert_eq!(back.unwrap().kind, Some(MessageKind::Reminder));
    }

    /// N8: a forged, changed, foreign or expired token is refused, naming `token`; none
    /// panics.
    #[test]
    fn n8_forged_or_expired_tokens_are_refused() {
        let key = UnsubscribeKey::new([7u8; 32]).unwrap();
        let other = UnsubscribeKey::new([8u8; 40]).unwrap();
        let t = token(Some(MessageKind::Reminder));
        let now = t.expires_at - Duration::days(1);
        let signed = key.sign(&t);
        let (payload, signature) = signed.split_once('.').unwrap();
        // Another participant's id, with the signature of the first.
        let mut bytes = URL_SAFE_NO_PAD.decode(payload).unwrap();
        bytes[20] ^= 1;
        let changed = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(&bytes));
        for bad in [
            other.sign(&t),
            changed,
            String::new(),
            ".".into(),
            "abc".into(),
            format!("{payload}."),
            format!("{payload}.{signature}x"),
            "é.é".into(),
            "a".repeat(10_000),
        ] {
            let e = key.verify(&bad, now).unwrap_err();
            assert_eq!(e.field(), Some("token"), "{bad}: {e}");
        }
        let e = key.verify(&signed, t.expires_at).unwrap_err();
        assert!(e.to_string().contains("expired"), "{e}");
        assert_eq!(
            UnsubscribeKey::new([1u8; 31]).unwrap_err().field(),
            Some("unsubscribe_key")
        );
        assert!(!format!("{key:?}").contains('7'));
    }
}
