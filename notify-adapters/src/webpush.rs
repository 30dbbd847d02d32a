//! Web push ([`WebPushNotifier`]): RFC 8030 delivery, with the payload encrypted for the
//! browser (RFC 8291, `aes128gcm`) and the sender identified by VAPID (RFC 8292).
//!
//! The browser's service worker receives, decrypted, the JSON
//! `{"title": title, "body": summary, "link": link or null, "key": idempotency key}` and
//! shows it (`self.registration.showNotification(title, {body, data: {link}, tag: key})`):
//! a phone shows the task's name (or "3 tasks due") and one short line ("Due tomorrow at
//! 18:00"), [`OutgoingMessage::title`] and [`OutgoingMessage::summary`] (N12), falling back
//! to the subject and the text when a message has none.
//!
//! Each request carries:
//! - `TTL`: [`OutgoingMessage::ttl_seconds`], how long the push service may keep the
//!   message for a browser that is offline;
//! - `Urgency`: [`OutgoingMessage::urgency`];
//! - `Topic`: derived from the idempotency key ([`topic`]), so that a repeat after a crash
//!   replaces a first copy still waiting at the push service (and the service worker's
//!   `tag: key` replaces one already shown);
//! - `Authorization: vapid t=<JWT>, k=<public key>`: an ES256 JWT whose `aud` is the origin
//!   of the endpoint, `sub` the host's contact, and `exp` 12 hours from the send.
//!
//! Answers: 2xx (usually 201) is success; 404 or 410 is [`SendError::Gone`] (the browser
//! unsubscribed: the dispatcher removes the subscription); 429, or a 5xx with
//! `Retry-After`, is [`SendError::Throttled`] (with the time asked for); 408, 5xx, a
//! timeout or a connection failure is [`SendError::Transient`]; any other status, and a
//! subscription whose keys or endpoint do not parse, is [`SendError::Permanent`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::DecodePrivateKey;
use punchlist::{
    Address, Channel, Clock, Notifier, OutgoingMessage, PushSubscription, SendError, SystemClock,
};
use reqwest::StatusCode;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ConfigError;

/// The largest payload (plaintext JSON) that fits the 4096 bytes every push service must
/// accept, once encrypted as one `aes128gcm` record (RFC 8291 §4: 86 bytes of header, 1
/// delimiter, 16 of tag).
pub const MAX_PAYLOAD: usize = 4096 - 86 - 1 - 16;

/// How long a VAPID token is valid (RFC 8292 allows at most 24 hours).
pub const VAPID_VALIDITY_SECS: i64 = 12 * 60 * 60;

/// The host's VAPID key pair (ECDSA P-256): the private key signs every request, the public
/// key is the `applicationServerKey` the browser subscribes with.
#[derive(Clone)]
pub struct VapidKey {
    signing: Arc<SigningKey>,
    public: String,
}

impl fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    /// The private key as the raw 32-byte scalar in base64url (padding optional): the
    /// format of `web-push generate-vapid-keys` and most push libraries.
    pub fn from_base64url(private_key: &str) -> Result<Self, ConfigError> {
        let bytes = decode_base64url(private_key)
            .ok_or_else(|| ConfigError::invalid("vapid_key", "is not base64url"))?;
        if bytes.len() != 32 {
            return Err(ConfigError::invalid(
                "vapid_key",
                format!("is {} bytes long; a P-256 private key is 32", bytes.len()),
            ));
        }
        let signing = SigningKey::from_slice(&bytes)
            .map_err(|_| ConfigError::invalid("vapid_key", "is not a valid P-256 private key"))?;
        Ok(Self::from_signing(signing))
    }

    /// The private key in PEM: PKCS#8 (`-----BEGIN PRIVATE KEY-----`) or SEC1
    /// (`-----BEGIN EC PRIVATE KEY-----`, as `openssl ecparam -genkey -name prime256v1`
    /// writes it).
    pub fn from_pem(pem: &str) -> Result<Self, ConfigError> {
        let secret = p256::SecretKey::from_pkcs8_pem(pem)
            .or_else(|_| p256::SecretKey::from_sec1_pem(pem))
            .map_err(|_| ConfigError::invalid("vapid_key", "is not a P-256 private key in PEM"))?;
        Ok(Self::from_signing(SigningKey::from(secret)))
    }

    fn from_signing(signing: SigningKey) -> Self {
        let point = p256::PublicKey::from(signing.verifying_key()).to_encoded_point(false);
        Self {
            signing: Arc::new(signing),
            public: URL_SAFE_NO_PAD.encode(point.as_bytes()),
        }
    }

    /// The public key (uncompressed point, base64url without padding): give it to the
    /// browser as `applicationServerKey` in `pushManager.subscribe`.
    pub fn public_key_base64url(&self) -> &str {
        &self.public
    }

    /// An RFC 8292 token: an ES256 JWT with `aud`, `exp` and `sub`.
    fn token(&self, audience: &str, expires: i64, subject: &str) -> Result<String, SendError> {
        #[derive(Serialize)]
        struct VapidClaims<'a> {
            aud: &'a str,
            exp: i64,
            sub: &'a str,
        }
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::to_vec(&VapidClaims {
            aud: audience,
            exp: expires,
            sub: subject,
        })
        .map_err(|e| permanent(format!("could not encode the VAPID claims: {e}")))?;
        let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let signature: Signature = self
            .signing
            .try_sign(signing_input.as_bytes())
            .map_err(|e| permanent(format!("could not sign the VAPID token: {e}")))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

/// The host's web push settings.
#[derive(Debug, Clone)]
pub struct WebPushConfig {
    /// The VAPID key pair.
    pub vapid_key: VapidKey,
    /// The contact a push service can reach the sender at: `mailto:ops@example.org` or
    /// an `https:` URL (the JWT's `sub`).
    pub subject: String,
    /// How long a push service has to answer (connecting, sending and answering
    /// together) before the send fails as [`SendError::Transient`]. Default 10 s.
    pub timeout: Duration,
    /// Accept `http:` endpoints. Browsers' push services are all `https:`; leave this off
    /// except to test against a push service on loopback.
    pub allow_http_endpoints: bool,
}

impl WebPushConfig {
    /// The settings for `vapid_key` and the contact `subject`, with a 10 s timeout and
    /// `https:` endpoints only.
    pub fn new(vapid_key: VapidKey, subject: impl Into<String>) -> Self {
        Self {
            vapid_key,
            subject: subject.into(),
            timeout: Duration::from_secs(10),
            allow_http_endpoints: false,
        }
    }

    /// Sets the timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Accepts `http:` endpoints (tests against a push service on loopback only).
    pub fn allow_http_endpoints(mut self, allow: bool) -> Self {
        self.allow_http_endpoints = allow;
        self
    }
}

/// Sends [`Address::WebPush`] messages to the browser's push service (channel
/// [`Channel::WebPush`]).
#[derive(Clone)]
pub struct WebPushNotifier {
    vapid: VapidKey,
    clock: Arc<dyn Clock>,
    subject: String,
    allow_http: bool,
    client: reqwest::Client,
}

impl fmt::Debug for WebPushNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebPushNotifier")
            .field("vapid", &self.vapid)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl WebPushNotifier {
    /// Builds the adapter; fails if the contact is neither `mailto:` nor `https:`, or the
    /// timeout is zero.
    pub fn new(config: WebPushConfig) -> Result<Self, ConfigError> {
        let subject = config.subject.trim().to_owned();
        let contact_ok = subject
            .strip_prefix("mailto:")
            .is_some_and(|a| a.contains('@'))
            || reqwest::Url::parse(&subject).is_ok_and(|u| u.scheme() == "https");
        if !contact_ok {
            return Err(ConfigError::invalid(
                "subject",
                format!("{subject:?} is neither a mailto: address nor an https: URL"),
            ));
        }
        if config.timeout.is_zero() {
            return Err(ConfigError::invalid("timeout", "is zero"));
        }
        Ok(Self {
            vapid: config.vapid_key,
            clock: Arc::new(SystemClock),
            subject,
            allow_http: config.allow_http_endpoints,
            client: crate::http::client(config.timeout)?,
        })
    }

    /// Takes the time (for the VAPID token's `exp`) from `clock` instead of the system
    /// clock.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The VAPID public key, for the browser's `applicationServerKey`.
    pub fn public_key_base64url(&self) -> &str {
        self.vapid.public_key_base64url()
    }

    /// Builds the push request for one message (encrypted body and headers), without
    /// sending it. Fails as [`SendError::Permanent`] when the subscription does not parse.
    ///
    /// The body is web-push-native's RFC 8291 encryption; the request and its VAPID token
    /// are built here rather than by its `WebPushBuilder`, which (0.5) gives the token an
    /// `aud` without the endpoint's port (not its origin when the port is not the default),
    /// ties the token's lifetime to the `TTL` header (a TTL of 0 would make an expired
    /// token, one over 24 hours a token RFC 8292 forbids), reads the system time rather
    /// than the injected [`Clock`], and brings in `jwt-simple` with its RSA, Ed25519,
    /// secp256k1 and P-384 code for one ES256 signature.
    fn build_request(
        &self,
        subscription: &PushSubscription,
        message: &OutgoingMessage,
    ) -> Result<reqwest::Request, SendError> {
        let endpoint = reqwest::Url::parse(subscription.endpoint.trim())
            .map_err(|e| permanent(format!("the push endpoint is not a URL: {e}")))?;
        match endpoint.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => {
                return Err(permanent(format!(
                    "the push endpoint has scheme {other:?}; it must be https"
                )));
            }
        }
        if endpoint.host_str().is_none_or(str::is_empty) {
            return Err(permanent("the push endpoint has no host"));
        }
        let ua_public = decode_base64url(&subscription.p256dh)
            .and_then(|b| p256::PublicKey::from_sec1_bytes(&b).ok())
            .ok_or_else(|| permanent("the subscription's p256dh is not a P-256 public key"))?;
        let ua_auth = decode_base64url(&subscription.auth)
            .filter(|b| b.len() == 16)
            .and_then(web_push_native::Auth::from_exact_iter)
            .ok_or_else(|| permanent("the subscription's auth secret is not 16 bytes"))?;

        let payload = payload(message)?;
        let mut body = web_push_native::encrypt(payload, &ua_public, &ua_auth)
            .map_err(|e| permanent(format!("could not encrypt the push message: {e}")))?;
        record_size(&mut body)?;

        let audience = endpoint.origin().ascii_serialization();
        let expires = self
            .clock
            .now()
            .timestamp()
            .saturating_add(VAPID_VALIDITY_SECS);
        let token = self.vapid.token(&audience, expires, &self.subject)?;
        let authorization = format!("vapid t={token}, k={}", self.vapid.public);

        self.client
            .post(endpoint)
            .header("TTL", message.ttl_seconds.to_string())
            .header("Urgency", message.urgency.as_str())
            .header("Topic", topic(&message.idempotency_key))
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::AUTHORIZATION, authorization)
            .body(body)
            .build()
            .map_err(|e| crate::http::request_error("the push service", e))
    }
}

#[async_trait]
impl Notifier for WebPushNotifier {
    fn channel(&self) -> Channel {
        Channel::WebPush
    }

    async fn send(&self, to: &Address, message: &OutgoingMessage) -> Result<(), SendError> {
        let Address::WebPush(subscription) = to else {
            return Err(permanent(format!(
                "the web push adapter cannot send to a {} address",
                to.channel()
            )));
        };
        let request = self.build_request(subscription, message)?;
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| crate::http::request_error("the push service", e))?;
        let status = response.status();
        if status.is_success() {
            tracing::debug!(outbox = %message.outbox, %status, "push service accepted the message");
            return Ok(());
        }
        let retry_after = crate::http::retry_after(response.headers());
        let text = crate::http::error_body(response).await;
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Err(SendError::Gone(format!(
                "the push service answered {status}: the subscription has expired or was withdrawn"
            )));
        }
        Err(crate::http::status_error(
            "the push service",
            status,
            retry_after,
            &text,
        ))
    }
}

/// The record size written in the `aes128gcm` header (RFC 8188 §2.1): the largest body a
/// push service takes (RFC 8291 §4 wants it larger than the one record; web-push-native
/// 0.5 writes the record's own length, which strict receivers refuse).
pub const RECORD_SIZE: u32 = 4096;

/// Sets the header's record size (bytes 16..20, after the 16-byte salt) to
/// [`RECORD_SIZE`]. The size is not an input of the key or nonce derivation, so the record
/// decrypts as before; a receiver sees one record shorter than `rs`, the last.
fn record_size(body: &mut [u8]) -> Result<(), SendError> {
    const HEADER: usize = 16 + 4 + 1;
    let record = body
        .get(HEADER)
        .map(|_| body.len() - HEADER - usize::from(body[HEADER - 1]));
    match (body.get_mut(16..20), record) {
        (Some(rs), Some(record)) if record < RECORD_SIZE as usize => {
            rs.copy_from_slice(&RECORD_SIZE.to_be_bytes());
            Ok(())
        }
        _ => Err(permanent(
            "the encrypted push message does not fit one record of 4,096 bytes",
        )),
    }
}

/// The `Topic` header for a message with idempotency key `key`: the base64url (no
/// padding) of the first 24 bytes of the key's SHA-256, 32 characters (RFC 8030 §5.4 allows
/// at most 32 characters of the base64url alphabet).
pub fn topic(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..24])
}

#[derive(Serialize)]
struct Payload<'a> {
    title: &'a str,
    body: &'a str,
    link: Option<&'a str>,
    key: &'a str,
}

/// The JSON the service worker gets, the body shortened (with `…`) if the whole would not
/// fit [`MAX_PAYLOAD`].
fn payload(message: &OutgoingMessage) -> Result<Vec<u8>, SendError> {
    let title = if message.title.trim().is_empty() {
        &message.subject
    } else {
        &message.title
    };
    let text = if message.summary.trim().is_empty() {
        &message.body
    } else {
        &message.summary
    };
    let encode = |body: &str| {
        serde_json::to_vec(&Payload {
            title,
            body,
            link: message.link.as_deref(),
            key: &message.idempotency_key,
        })
        .map_err(|e| permanent(format!("could not encode the push message: {e}")))
    };
    let full = encode(text)?;
    if full.len() <= MAX_PAYLOAD {
        return Ok(full);
    }
    // The longest prefix of the body that fits with an ellipsis, by binary search (escaping
    // makes a character take 1 to 6 bytes, so measure rather than compute).
    let chars: Vec<char> = text.chars().collect();
    let with_ellipsis = |n: usize| -> String { chars[..n].iter().chain(['…'].iter()).collect() };
    let (mut low, mut high) = (0, chars.len());
    while low < high {
        let mid = (low + high).div_ceil(2);
        if encode(&with_ellipsis(mid))?.len() <= MAX_PAYLOAD {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    let shortened = with_ellipsis(low);
    let out = encode(&shortened)?;
    if out.len() > MAX_PAYLOAD {
        return Err(permanent(format!(
            "the push message does not fit {MAX_PAYLOAD} bytes even without its text"
        )));
    }
    Ok(out)
}

fn permanent(text: impl Into<String>) -> SendError {
    SendError::Permanent(text.into())
}

/// Decodes base64url, tolerating padding, surrounding spaces and the standard alphabet
/// (some libraries hand the subscription keys over that way).
fn decode_base64url(s: &str) -> Option<Vec<u8>> {
    let normalized: String = s
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(normalized).ok()
}
