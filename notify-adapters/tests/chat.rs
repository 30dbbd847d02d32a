//! N4/N5: the chat adapter against a webhook on loopback.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{HttpPeer, Reply, event, message, recipient};
use punchlist::{Address, Channel, EventId, Notifier, SendError};
use punchlist_notify::chat::verify_signature;
use punchlist_notify::{ChatFormat, ChatNotifier, ChatWebhook};
use uuid::Uuid;

const SECRET: &str = "s3cr3t shared with the host";

fn to(handle: &str) -> Address {
    Address::Chat {
        handle: handle.to_owned(),
    }
}

fn notifier(peer: &HttpPeer, timeout: Duration) -> ChatNotifier {
    let url = peer.url("/hooks/punchlist");
    ChatNotifier::with_timeout(
        move |e: EventId| (e == event()).then(|| ChatWebhook::new(url.clone(), SECRET)),
        timeout,
    )
    .expect("notifier")
}

#[tokio::test]
async fn n4_chat_posts_signed_json_for_one_person() {
    let peer = HttpPeer::start(vec![Reply::Status(200)]).await;
    let chat = notifier(&peer, Duration::from_secs(5));
    assert_eq!(chat.channel(), Channel::Chat);
    let mut msg = message(
        "publication:a:b",
        "fr",
        "Nouvelle tâche : votre logo",
        "Bonjour Marie,\n\n…\n-- \nNe plus recevoir ces messages : https://expo.example/unsubscribe?token=personal",
    );
    msg.summary = "Déposez votre logo avant vendredi.".into();

    chat.send(&to("@marie"), &msg).await.expect("sent");

    let got = peer.received();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hooks/punchlist");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("idempotency-key"), Some("publication:a:b"));

    // The signature is HMAC-SHA256 of the exact body bytes, checked independently here.
    let sig = req
        .header("x-punchlist-signature")
        .expect("signature header");
    assert!(sig.starts_with("sha256="), "{sig}");
    assert_eq!(sig.len(), "sha256=".len() + 64);
    assert!(verify_signature(SECRET, &req.body, sig));
    assert!(!verify_signature("another secret", &req.body, sig));
    let mut tampered = req.body.clone();
    tampered[5] ^= 1;
    assert!(!verify_signature(SECRET, &tampered, sig));
    assert_eq!(sig, hmac_sha256_hex(SECRET.as_bytes(), &req.body));

    let json: serde_json::Value = serde_json::from_slice(&req.body).expect("json body");
    assert_eq!(
        json,
        serde_json::json!({
            "handle": "@marie",
            "subject": "Nouvelle tâche : votre logo",
            "text": "Déposez votre logo avant vendredi.",
            "link": "https://expo.example/tasks/logo",
            "event": event().to_string(),
            "recipient": recipient().to_string(),
            "idempotency_key": "publication:a:b",
        })
    );
}

#[tokio::test]
async fn n5_chat_retry_carries_the_same_idempotency_key() {
    let peer = HttpPeer::start(vec![Reply::Status(500), Reply::Status(200)]).await;
    let chat = notifier(&peer, Duration::from_secs(5));
    let msg = message(
        "reminders:k1",
        "en",
        "Reminder",
        "Your logo is due tomorrow.",
    );

    let first = chat.send(&to("marie"), &msg).await;
    assert!(matches!(first, Err(SendError::Transient(_))), "{first:?}");
    chat.send(&to("marie"), &msg).await.expect("second try");

    let got = peer.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("idempotency-key"), Some("reminders:k1"));
    assert_eq!(got[1].header("idempotency-key"), Some("reminders:k1"));
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(
        got[0].header("x-punchlist-signature"),
        got[1].header("x-punchlist-signature")
    );
}

#[tokio::test]
async fn n4_chat_webhook_that_never_answers_is_transient() {
    let peer = HttpPeer::start(vec![Reply::Hang]).await;
    let chat = notifier(&peer, Duration::from_millis(300));
    let started = Instant::now();
    let result = chat.send(&to("marie"), &message("k", "en", "s", "b")).await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn n4_chat_status_codes_map_to_send_errors() {
    for (code, expect) in [
        (400, "permanent"),
        (401, "permanent"),
        (404, "permanent"),
        (408, "transient"),
        (429, "throttled"),
        (503, "transient"),
        (201, "ok"),
        (204, "ok"),
    ] {
        let peer = HttpPeer::start(vec![Reply::Status(code)]).await;
        let chat = notifier(&peer, Duration::from_secs(5));
        let result = chat.send(&to("marie"), &message("k", "en", "s", "b")).await;
        let got = match result {
            Ok(()) => "ok",
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
async fn n4_chat_connection_refused_is_transient() {
    // Bind then drop a listener, so the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let mut map = HashMap::new();
    map.insert(event(), ChatWebhook::new(url, SECRET));
    let chat = ChatNotifier::with_timeout(map, Duration::from_secs(2)).expect("notifier");
    let result = chat.send(&to("marie"), &message("k", "en", "s", "b")).await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
}

#[tokio::test]
async fn n4_chat_bad_input_is_permanent_not_a_panic() {
    let peer = HttpPeer::start(vec![Reply::Status(200)]).await;
    let chat = notifier(&peer, Duration::from_secs(5));
    let msg = message("k", "en", "s", "b");

    // An address of another channel.
    let email = Address::Email {
        address: "marie@example.org".into(),
        name: String::new(),
    };
    assert!(matches!(
        chat.send(&email, &msg).await,
        Err(SendError::Permanent(_))
    ));
    // An empty handle.
    assert!(matches!(
        chat.send(&to("  "), &msg).await,
        Err(SendError::Permanent(_))
    ));
    // An event with no webhook.
    let mut other = msg.clone();
    other.event = EventId::from_uuid(Uuid::from_u128(99));
    assert!(matches!(
        chat.send(&to("marie"), &other).await,
        Err(SendError::Permanent(_))
    ));
    // A key that cannot be a header value.
    let mut bad_key = msg.clone();
    bad_key.idempotency_key = "line\nbreak".into();
    assert!(matches!(
        chat.send(&to("marie"), &bad_key).await,
        Err(SendError::Permanent(_))
    ));
    // A webhook URL that does not parse, or is not http(s); an empty secret.
    for (url, secret) in [
        ("not a url", SECRET),
        ("ftp://127.0.0.1/hook", SECRET),
        (peer.url("/hooks/punchlist").as_str(), ""),
    ] {
        let mut map = HashMap::new();
        map.insert(event(), ChatWebhook::new(url, secret));
        let chat = ChatNotifier::new(map).expect("notifier");
        assert!(matches!(
            chat.send(&to("marie"), &msg).await,
            Err(SendError::Permanent(_))
        ));
    }
    assert!(peer.received().is_empty(), "nothing was posted");
}

#[tokio::test]
async fn n4_chat_slack_shared_channel_format_is_opt_in() {
    let peer = HttpPeer::start(vec![Reply::Status(200)]).await;
    let chat = notifier(&peer, Duration::from_secs(5)).with_format(ChatFormat::SlackSharedChannel);
    // The short line, never the email's text with its personal unsubscribe link.
    let mut msg = message(
        "k",
        "en",
        "Upload your logo",
        "Hello Marie,\n-- \nStop these emails: https://expo.example/unsubscribe?token=personal",
    );
    msg.summary = "Due Friday.".into();
    chat.send(&to("@marie"), &msg).await.expect("sent");
    let got = peer.received();
    let json: serde_json::Value = serde_json::from_slice(&got[0].body).expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "text": "@marie: Upload your logo\nDue Friday.\nhttps://expo.example/tasks/logo"
        })
    );
    assert_eq!(got[0].header("idempotency-key"), Some("k"));
    assert!(verify_signature(
        SECRET,
        &got[0].body,
        got[0].header("x-punchlist-signature").unwrap_or_default()
    ));
    // The default is the direct format.
    let direct = ChatNotifier::new(HashMap::new()).expect("notifier");
    assert!(format!("{direct:?}").contains("Direct"));
}

#[test]
fn n4_chat_debug_never_shows_the_secret() {
    let hook = ChatWebhook::new("https://chat.example/hook?token=abc", SECRET);
    let shown = format!("{hook:?}");
    assert!(
        !shown.contains(SECRET) && !shown.contains("token=abc"),
        "{shown}"
    );
}

/// HMAC-SHA256 (RFC 2104) written out over `sha2`, independent of the `hmac` crate.
fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(data)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    let hex: String = outer.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// N11: a peer that says when to come back is taken at its word: seconds or an HTTP date,
/// on a 429 or a 503; a 503 that says nothing stays an ordinary temporary failure.
#[tokio::test]
async fn n11_chat_retry_after_is_read_from_the_answer() {
    use punchlist::RetryAfter;
    let cases = [
        (
            Reply::RetryAfter(429, "120"),
            Some(RetryAfter::Delay(Duration::from_secs(120))),
        ),
        (
            Reply::RetryAfter(503, "Wed, 21 Oct 2026 07:28:00 GMT"),
            Some(RetryAfter::At(
                chrono::DateTime::parse_from_rfc3339("2026-10-21T07:28:00Z")
                    .expect("date")
                    .to_utc(),
            )),
        ),
        // Absurdly long waits are cut to 30 days; unreadable ones are ignored.
        (
            Reply::RetryAfter(429, "99999999999999999999"),
            Some(RetryAfter::Delay(Duration::from_secs(30 * 24 * 3600))),
        ),
        (Reply::RetryAfter(429, "soon"), None),
    ];
    for (reply, expected) in cases {
        let peer = HttpPeer::start(vec![reply]).await;
        let chat = notifier(&peer, Duration::from_secs(5));
        let result = chat.send(&to("marie"), &message("k", "en", "s", "b")).await;
        match result {
            Err(SendError::Throttled { retry_after, .. }) => {
                assert_eq!(retry_after, expected, "{reply:?}");
            }
            other => panic!("{reply:?}: {other:?}"),
        }
    }
    let peer = HttpPeer::start(vec![Reply::Status(503)]).await;
    let chat = notifier(&peer, Duration::from_secs(5));
    let result = chat.send(&to("marie"), &message("k", "en", "s", "b")).await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
}
