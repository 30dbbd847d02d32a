//! N4/N5: the web push adapter against a push service on loopback. The received body is
//! decrypted and the VAPID token verified here with RustCrypto primitives, following RFC
//! 8291 and RFC 8292 directly, independently of the crate's own web push code.

mod common;

use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use common::{HttpPeer, Reply, message};
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use punchlist::{
    Address, Channel, Clock, ManualClock, Notifier, PushSubscription, SendError, SystemClock,
    Urgency,
};
use punchlist_notify::webpush::topic;
use punchlist_notify::{VapidKey, WebPushConfig, WebPushNotifier};
use sha2::{Digest, Sha256};

const CONTACT: &str = "mailto:ops@expo.example";

/// A deterministic P-256 secret key from a seed.
fn secret(seed: &str) -> SecretKey {
    SecretKey::from_slice(&Sha256::digest(seed.as_bytes())).expect("a valid scalar")
}

/// The browser's side of a subscription: its key pair and auth secret.
struct Browser {
    secret: SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Self {
        Self {
            secret: secret("the browser"),
            auth: *b"sixteen byte key",
        }
    }

    fn public_bytes(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    fn subscription(&self, endpoint: String) -> PushSubscription {
        PushSubscription {
            endpoint,
            p256dh: URL_SAFE_NO_PAD.encode(self.public_bytes()),
            auth: URL_SAFE_NO_PAD.encode(self.auth),
        }
    }

    /// RFC 8291 §3.4 and RFC 8188 §2, one record.
    fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        assert!(body.len() > 21, "body too short");
        let salt = &body[..16];
        let rs = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
        let idlen = usize::from(body[20]);
        assert_eq!(idlen, 65, "keyid is the sender's uncompressed public key");
        let as_public_bytes = &body[21..21 + idlen];
        let ciphertext = &body[21 + idlen..];
        // RFC 8291 §4: one record, and the record size strictly larger than it (N12).
        assert!(
            ciphertext.len() < rs,
            "the record size {rs} must be larger than the record ({} bytes)",
            ciphertext.len()
        );
        let as_public = PublicKey::from_sec1_bytes(as_public_bytes).expect("sender key");

        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), as_public.as_affine());
        let mut key_info = b"WebPush: info\0".to_vec();
        key_info.extend_from_slice(&self.public_bytes());
        key_info.extend_from_slice(as_public_bytes);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes())
            .expand(&key_info, &mut ikm)
            .expect("ikm");

        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let mut cek = [0u8; 16];
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .expect("cek");
        let mut nonce = [0u8; 12];
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .expect("nonce");

        let cipher = Aes128Gcm::new_from_slice(&cek).expect("cek length");
        let mut plain = cipher
            .decrypt(Nonce::from_slice(&nonce), ciphertext)
            .expect("the body decrypts with the subscription's keys");
        // The last record ends with the delimiter 0x02, then zero padding.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "last-record delimiter");
        plain
    }
}

fn vapid_secret() -> SecretKey {
    secret("the host's VAPID key")
}

fn notifier() -> WebPushNotifier {
    let key = VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode(vapid_secret().to_bytes()))
        .expect("vapid key");
    WebPushNotifier::new(
        WebPushConfig::new(key, CONTACT)
            .with_timeout(Duration::from_secs(5))
            .allow_http_endpoints(true),
    )
    .expect("notifier")
}

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

fn now_secs() -> i64 {
    SystemClock.now().timestamp()
}

/// Parses `vapid t=<jwt>, k=<key>`, checks the JWT's ES256 signature against `k`, and
/// returns `k` and the claims.
fn check_vapid(authorization: &str) -> (String, serde_json::Value) {
    let rest = authorization.strip_prefix("vapid ").expect("vapid scheme");
    let mut token = None;
    let mut k = None;
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=').expect("name=value");
        match name {
            "t" => token = Some(value.to_owned()),
            "k" => k = Some(value.to_owned()),
            other => panic!("unexpected parameter {other}"),
        }
    }
    let (token, k) = (token.expect("t"), k.expect("k"));
    let pieces: Vec<&str> = token.split('.').collect();
    assert_eq!(pieces.len(), 3, "header.claims.signature");
    let header: serde_json::Value = serde_json::from_slice(&b64(pieces[0])).expect("header json");
    assert_eq!(header["alg"], "ES256");
    let verifying = VerifyingKey::from_sec1_bytes(&b64(&k)).expect("verifying key");
    let signature = Signature::from_slice(&b64(pieces[2])).expect("r||s signature");
    verifying
        .verify(
            format!("{}.{}", pieces[0], pieces[1]).as_bytes(),
            &signature,
        )
        .expect("the JWT is signed by k");
    let claims = serde_json::from_slice(&b64(pieces[1])).expect("claims json");
    (k, claims)
}

#[tokio::test]
async fn n4_web_push_encrypted_payload_and_vapid_headers() {
    let peer = HttpPeer::start(vec![Reply::Status(201)]).await;
    let push = notifier();
    assert_eq!(push.channel(), Channel::WebPush);
    let browser = Browser::new();
    let to = Address::WebPush(browser.subscription(peer.url("/push/v2/abc123")));
    let mut msg = message(
        "reminders:0190-k",
        "fr",
        "Rappel : votre logo",
        "Il reste un jour pour déposer votre logo.",
    );
    msg.urgency = Urgency::High;
    msg.ttl_seconds = 3600;
    msg.title = "Déposez votre logo".into();
    msg.summary = "À faire avant demain à 18 h 00".into();

    push.send(&to, &msg).await.expect("sent");

    let got = peer.received();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/push/v2/abc123");
    assert_eq!(req.header("content-encoding"), Some("aes128gcm"));
    // RFC 8291 §4: the header's record size is larger than the one record.
    let rs = u32::from_be_bytes([req.body[16], req.body[17], req.body[18], req.body[19]]);
    assert_eq!(rs, punchlist_notify::webpush::RECORD_SIZE);
    assert_eq!(req.header("ttl"), Some("3600"));
    assert_eq!(req.header("urgency"), Some("high"));

    // Topic: at most 32 characters of the base64url alphabet, derived from the key.
    let topic_header = req.header("topic").expect("topic");
    assert!(topic_header.len() <= 32, "{topic_header}");
    assert!(
        topic_header
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{topic_header}"
    );
    assert_eq!(topic_header, topic("reminders:0190-k"));
    assert_ne!(topic_header, topic("reminders:0190-l"));

    // The payload, decrypted with the browser's keys: what a phone shows, the task and
    // one short line (N12), not the email's text.
    let plain = browser.decrypt(&req.body);
    let json: serde_json::Value = serde_json::from_slice(&plain).expect("json payload");
    assert_eq!(
        json,
        serde_json::json!({
            "title": "Déposez votre logo",
            "body": "À faire avant demain à 18 h 00",
            "link": "https://expo.example/tasks/logo",
            "key": "reminders:0190-k",
        })
    );

    // VAPID: `vapid t=<jwt>, k=<key>`, signed by the host's key.
    let (k, claims) = check_vapid(req.header("authorization").expect("authorization"));
    let expected_k = vapid_secret().public_key().to_encoded_point(false);
    assert_eq!(b64(&k), expected_k.as_bytes(), "k is the host's public key");
    assert_eq!(push.public_key_base64url(), k);
    assert_eq!(
        claims["aud"], peer.base,
        "aud is the endpoint's origin, port included"
    );
    assert_eq!(claims["sub"], CONTACT);
    let exp = claims["exp"].as_i64().expect("exp");
    let now = now_secs();
    assert!(exp > now, "exp {exp} is in the future (now {now})");
    assert!(exp <= now + 24 * 3600, "exp {exp} is at most 24 h away");
}

#[tokio::test]
async fn n4_web_push_vapid_expiry_comes_from_the_clock() {
    let peer = HttpPeer::start(vec![Reply::Status(201)]).await;
    let at = DateTime::from_timestamp(1_900_000_000, 0).expect("a time");
    let push = notifier().with_clock(ManualClock::new(at));
    let to = Address::WebPush(Browser::new().subscription(peer.url("/p")));
    push.send(&to, &message("k", "en", "s", "b"))
        .await
        .expect("sent");
    let got = peer.received();
    let (_, claims) = check_vapid(got[0].header("authorization").expect("authorization"));
    assert_eq!(claims["exp"], 1_900_000_000 + 12 * 3600);
}

#[tokio::test]
async fn n5_web_push_repeat_has_the_same_topic() {
    let peer = HttpPeer::start(vec![Reply::Status(500), Reply::Status(201)]).await;
    let push = notifier();
    let browser = Browser::new();
    let to = Address::WebPush(browser.subscription(peer.url("/p")));
    let mut msg = message("publication:s:p", "en", "New task", "Upload your logo.");
    msg.urgency = Urgency::Low;
    msg.ttl_seconds = 0;

    let first = push.send(&to, &msg).await;
    assert!(matches!(first, Err(SendError::Transient(_))), "{first:?}");
    push.send(&to, &msg).await.expect("second try");

    let got = peer.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("topic"), got[1].header("topic"));
    assert_eq!(got[1].header("urgency"), Some("low"));
    assert_eq!(got[1].header("ttl"), Some("0"));
    // Each copy is encrypted afresh, and both decrypt to the same payload.
    assert_ne!(got[0].body, got[1].body);
    assert_eq!(browser.decrypt(&got[0].body), browser.decrypt(&got[1].body));
}

#[tokio::test]
async fn n4_web_push_status_codes_map_to_send_errors() {
    let browser = Browser::new();
    for (code, expect) in [
        (410, "gone"),
        (404, "gone"),
        (500, "transient"),
        (429, "throttled"),
        (400, "permanent"),
        (413, "permanent"),
        (201, "ok"),
    ] {
        let peer = HttpPeer::start(vec![Reply::Status(code)]).await;
        let to = Address::WebPush(browser.subscription(peer.url("/p")));
        let result = notifier().send(&to, &message("k", "en", "s", "b")).await;
        let got = match result {
            Ok(()) => "ok",
            Err(SendError::Gone(_)) => "gone",
            Err(SendError::Transient(_)) => "transient",
            Err(SendError::Throttled {
                retry_after: None, ..
            }) => "throttled",
            Err(SendError::Permanent(_)) => "permanent",
            Err(other) => panic!("{code}: unexpected {other:?}"),
        };
        assert_eq!(got, expect, "status {code}");
    }
}

#[tokio::test]
async fn n4_web_push_push_service_that_never_answers_is_transient() {
    let peer = HttpPeer::start(vec![Reply::Hang]).await;
    let key = VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode(vapid_secret().to_bytes()))
        .expect("vapid key");
    let push = WebPushNotifier::new(
        WebPushConfig::new(key, CONTACT)
            .with_timeout(Duration::from_millis(300))
            .allow_http_endpoints(true),
    )
    .expect("notifier");
    let to = Address::WebPush(Browser::new().subscription(peer.url("/p")));
    let result = push.send(&to, &message("k", "en", "s", "b")).await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
}

#[tokio::test]
async fn n4_web_push_malformed_subscription_is_permanent_not_a_panic() {
    let peer = HttpPeer::start(vec![Reply::Status(201)]).await;
    let push = notifier();
    let good = Browser::new().subscription(peer.url("/p"));
    let msg = message("k", "en", "s", "b");
    let cases = [
        PushSubscription {
            p256dh: "not base64!".into(),
            ..good.clone()
        },
        PushSubscription {
            p256dh: URL_SAFE_NO_PAD.encode([4u8; 65]),
            ..good.clone()
        },
        PushSubscription {
            p256dh: String::new(),
            ..good.clone()
        },
        PushSubscription {
            auth: URL_SAFE_NO_PAD.encode([1u8; 15]),
            ..good.clone()
        },
        PushSubscription {
            auth: "%%%".into(),
            ..good.clone()
        },
        PushSubscription {
            endpoint: "not a url".into(),
            ..good.clone()
        },
        PushSubscription {
            endpoint: "ftp://127.0.0.1/p".into(),
            ..good.clone()
        },
    ];
    for sub in cases {
        let result = push.send(&Address::WebPush(sub.clone()), &msg).await;
        assert!(
            matches!(result, Err(SendError::Permanent(_))),
            "{sub:?}: {result:?}"
        );
    }
    // An address of another channel.
    let chat = Address::Chat {
        handle: "marie".into(),
    };
    assert!(matches!(
        push.send(&chat, &msg).await,
        Err(SendError::Permanent(_))
    ));
    // http: endpoints are refused unless allowed.
    let key = VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode(vapid_secret().to_bytes()))
        .expect("vapid key");
    let strict = WebPushNotifier::new(WebPushConfig::new(key, CONTACT)).expect("notifier");
    let result = strict.send(&Address::WebPush(good), &msg).await;
    assert!(matches!(result, Err(SendError::Permanent(_))), "{result:?}");
    assert!(peer.received().is_empty(), "nothing was posted");
}

#[tokio::test]
async fn n4_web_push_long_text_is_shortened_to_fit() {
    let peer = HttpPeer::start(vec![Reply::Status(201)]).await;
    let browser = Browser::new();
    let to = Address::WebPush(browser.subscription(peer.url("/p")));
    let long = "é\"".repeat(3000);
    let mut msg = message("k", "fr", "Titre", "Texte");
    msg.summary = long.clone();
    notifier().send(&to, &msg).await.expect("sent");
    let got = peer.received();
    assert!(got[0].body.len() <= 4096, "{}", got[0].body.len());
    let json: serde_json::Value =
        serde_json::from_slice(&browser.decrypt(&got[0].body)).expect("json");
    let body = json["body"].as_str().expect("body");
    assert!(body.ends_with('…'));
    assert!(long.starts_with(body.trim_end_matches('…')));
    assert_eq!(json["key"], "k");
}

#[test]
fn n4_web_push_bad_configuration_is_an_error() {
    assert!(VapidKey::from_base64url("short").is_err());
    assert!(VapidKey::from_base64url("!!!").is_err());
    assert!(VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode([0u8; 32])).is_err());
    assert!(
        VapidKey::from_pem("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----").is_err()
    );
    // PKCS#8 and SEC1 PEM give the same key as the raw scalar.
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let raw =
        VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode(vapid_secret().to_bytes())).expect("raw");
    let pkcs8 = vapid_secret().to_pkcs8_pem(LineEnding::LF).expect("pkcs8");
    let sec1 = vapid_secret().to_sec1_pem(LineEnding::LF).expect("sec1");
    for pem in [pkcs8.as_str(), sec1.as_str()] {
        let key = VapidKey::from_pem(pem).expect("pem");
        assert_eq!(key.public_key_base64url(), raw.public_key_base64url());
    }
    let key = VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode(vapid_secret().to_bytes()))
        .expect("vapid key");
    assert!(WebPushNotifier::new(WebPushConfig::new(key.clone(), "ops@expo.example")).is_err());
    assert!(WebPushNotifier::new(WebPushConfig::new(key.clone(), "http://expo.example")).is_err());
    assert!(
        WebPushNotifier::new(WebPushConfig::new(
            key.clone(),
            "https://expo.example/contact"
        ))
        .is_ok()
    );
    // Debug never shows the private key.
    let shown = format!("{key:?}");
    assert!(!shown.contains(&URL_SAFE_NO_PAD.encode(vapid_secret().to_bytes())));
}
