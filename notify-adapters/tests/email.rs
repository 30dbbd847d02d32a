//! N4/N5: the email adapter against a real SMTP server (mailin-embedded) on loopback.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::message;
use common::smtp::{fixture, smtp_server, smtp_server_with_tls};
use mail_parser::{MessageParser, MimeHeaders};
use punchlist::{Address, Channel, Notifier, SendError};
use punchlist_notify::email::message_id;
use punchlist_notify::{SmtpConfig, SmtpCredentials, SmtpNotifier, SmtpTls};

fn notifier(port: u16) -> SmtpNotifier {
    SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", port, SmtpTls::None, "tasks@expo.example")
            .with_from_name("Expo 2026")
            .with_timeout(Duration::from_secs(5)),
    )
    .expect("notifier")
}

fn to(address: &str, name: &str) -> Address {
    Address::Email {
        address: address.to_owned(),
        name: name.to_owned(),
    }
}

fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
}

#[tokio::test]
async fn n4_email_delivers_subject_text_link_and_language() {
    let (port, mails) = smtp_server();
    let smtp = notifier(port);
    assert_eq!(smtp.channel(), Channel::Email);

    let fr = message(
        "publication:0190a:0190b",
        "fr",
        "Nouvelle tâche : déposez votre logo",
        "Bonjour Marie,\nDéposez votre logo avant le 12 mai. Merci !\n\nhttps://expo.example/tasks/logo\n",
    );
    smtp.send(&to("marie@exposant.example", "Marie Curie"), &fr)
        .await
        .expect("sent");
    let mut en = message(
        "reminders:0190c",
        "en",
        "Reminder: upload your logo",
        "Hello Pierre, your logo is due tomorrow.",
    );
    en.link = None;
    smtp.send(&to("pierre@exposant.example", ""), &en)
        .await
        .expect("sent");

    let mails = mails.lock().expect("lock").clone();
    assert_eq!(mails.len(), 2);

    let (fr_mail, en_mail) = (&mails[0], &mails[1]);
    assert_eq!(fr_mail.from, "tasks@expo.example");
    assert_eq!(fr_mail.to, vec!["marie@exposant.example".to_owned()]);
    let parsed = MessageParser::default()
        .parse(&fr_mail.raw)
        .expect("a parseable email");
    assert_eq!(
        parsed.subject(),
        Some("Nouvelle tâche : déposez votre logo")
    );
    let recipient = parsed.to().and_then(|a| a.first()).expect("To");
    assert_eq!(recipient.address(), Some("marie@exposant.example"));
    assert_eq!(recipient.name(), Some("Marie Curie"));
    let sender = parsed.from().and_then(|a| a.first()).expect("From");
    assert_eq!(sender.address(), Some("tasks@expo.example"));
    assert_eq!(sender.name(), Some("Expo 2026"));
    assert_eq!(
        parsed.header_raw("Content-Language").map(str::trim),
        Some("fr")
    );
    let text = normalize(&parsed.body_text(0).expect("a text body"));
    assert!(
        text.contains("Bonjour Marie,\nDéposez votre logo avant le 12 mai. Merci !"),
        "{text}"
    );
    // The text part is the rendered text, the link once (the adapter adds nothing).
    assert_eq!(
        text.matches("https://expo.example/tasks/logo").count(),
        1,
        "{text}"
    );
    assert_eq!(
        parsed.header_raw("MIME-Version").map(str::trim),
        Some("1.0")
    );
    assert!(parsed.date().is_some(), "a Date header");
    assert_eq!(
        parsed.message_id(),
        Some("pl.publication=3A0190a=3A0190b@expo.example")
    );

    assert_eq!(en_mail.to, vec!["pierre@exposant.example".to_owned()]);
    let parsed = MessageParser::default()
        .parse(&en_mail.raw)
        .expect("a parseable email");
    assert_eq!(parsed.subject(), Some("Reminder: upload your logo"));
    assert_eq!(
        parsed.header_raw("Content-Language").map(str::trim),
        Some("en")
    );
    let text = normalize(&parsed.body_text(0).expect("a text body"));
    assert!(
        text.contains("Hello Pierre, your logo is due tomorrow."),
        "{text}"
    );
    assert!(!text.contains("https://"), "no link: {text}");
}

#[tokio::test]
async fn n5_email_same_key_gives_the_same_message_id() {
    let (port, mails) = smtp_server();
    let smtp = notifier(port);
    let first = message("reminders:k-1", "en", "Reminder", "Due tomorrow.");
    let other = message("reminders:k-2", "en", "Reminder", "Due tomorrow.");
    let address = to("marie@exposant.example", "Marie");
    smtp.send(&address, &first).await.expect("first");
    smtp.send(&address, &first).await.expect("repeat");
    smtp.send(&address, &other).await.expect("other");

    let ids: Vec<String> = mails
        .lock()
        .expect("lock")
        .iter()
        .map(|m| {
            MessageParser::default()
                .parse(&m.raw)
                .and_then(|p| p.message_id().map(str::to_owned))
                .expect("Message-ID")
        })
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[1], "a repeat carries the same Message-ID");
    assert_ne!(ids[0], ids[2], "another key gives another Message-ID");
}

#[test]
fn n5_email_message_id_is_valid_stable_and_distinct() {
    let id = message_id("reminders:k-1", "expo.example");
    assert_eq!(id, "<pl.reminders=3Ak-1@expo.example>");
    assert_eq!(id, message_id("reminders:k-1", "expo.example"));
    // Escaping keeps distinct keys distinct.
    assert_ne!(message_id("a:b", "d"), message_id("a/b", "d"));
    assert_ne!(message_id("a=3Ab", "d"), message_id("a:b", "d"));
    // Long keys are hashed, to a valid id of bounded length.
    let long = "x".repeat(500);
    let hashed = message_id(&long, "expo.example");
    assert!(
        hashed.starts_with("<plh.") && hashed.len() < 100,
        "{hashed}"
    );
    assert_eq!(hashed, message_id(&long, "expo.example"));
    assert_ne!(hashed, message_id(&"x".repeat(501), "expo.example"));
    // Whatever the key, the id-left has only atext characters and dots.
    for key in ["", "é ü <>@\"\r\n", "a..b", &long] {
        let id = message_id(key, "expo.example");
        let left = id
            .strip_prefix('<')
            .and_then(|s| s.split_once('@'))
            .map(|(l, _)| l)
            .expect("<left@right>");
        assert!(
            !left.is_empty()
                && left
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=.".contains(c))
                && !left.contains(".."),
            "{id}"
        );
    }
}

#[tokio::test]
async fn n4_email_starttls_and_auth() {
    let (port, mails) = smtp_server_with_tls();
    let ca = std::fs::read_to_string(fixture("ca.pem")).expect("test CA");
    let config = |password: &str| {
        SmtpConfig::new("127.0.0.1", port, SmtpTls::StartTls, "tasks@expo.example")
            .with_credentials(SmtpCredentials::new("tasks", password))
            .with_extra_root_certificate(ca.clone())
            .with_timeout(Duration::from_secs(5))
    };
    let msg = message("k-tls", "fr", "Sujet chiffré", "Texte envoyé sous TLS.");

    // The server only offers AUTH once the connection is encrypted: a delivery proves both.
    let smtp = SmtpNotifier::new(config("hunter2")).expect("notifier");
    smtp.send(&to("marie@exposant.example", "Marie"), &msg)
        .await
        .expect("sent over STARTTLS with AUTH PLAIN");
    {
        let mails = mails.lock().expect("lock");
        assert_eq!(mails.len(), 1);
        let parsed = MessageParser::default()
            .parse(&mails[0].raw)
            .expect("parse");
        assert_eq!(parsed.subject(), Some("Sujet chiffré"));
    }

    // A wrong password is refused for good (535).
    let wrong = SmtpNotifier::new(config("wrong")).expect("notifier");
    let result = wrong.send(&to("marie@exposant.example", ""), &msg).await;
    assert!(matches!(result, Err(SendError::Permanent(_))), "{result:?}");

    // Without the test CA, the certificate is not trusted: nothing is sent, and the
    // failure is not taken for a refusal of the address.
    let untrusted = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", port, SmtpTls::StartTls, "tasks@expo.example")
            .with_credentials(SmtpCredentials::new("tasks", "hunter2"))
            .with_timeout(Duration::from_secs(5)),
    )
    .expect("notifier");
    let result = untrusted
        .send(&to("marie@exposant.example", ""), &msg)
        .await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");

    // A server that does not offer STARTTLS is not used in clear.
    let (plain_port, plain_mails) = smtp_server();
    let required = SmtpNotifier::new(
        SmtpConfig::new(
            "127.0.0.1",
            plain_port,
            SmtpTls::StartTls,
            "tasks@expo.example",
        )
        .with_extra_root_certificate(ca.clone())
        .with_timeout(Duration::from_secs(5)),
    )
    .expect("notifier");
    let result = required.send(&to("marie@exposant.example", ""), &msg).await;
    assert!(result.is_err(), "{result:?}");
    assert!(plain_mails.lock().expect("lock").is_empty());
    assert_eq!(mails.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn n4_email_refused_recipient_is_permanent() {
    let (port, mails) = smtp_server();
    let smtp = notifier(port);
    let msg = message("k", "en", "s", "b");
    let result = smtp.send(&to("nobody@exposant.example", ""), &msg).await;
    assert!(matches!(result, Err(SendError::Permanent(_))), "{result:?}");
    // The adapter still works afterwards.
    smtp.send(&to("marie@exposant.example", ""), &msg)
        .await
        .expect("sent after a refusal");
    assert_eq!(mails.lock().expect("lock").len(), 1);
}

/// N11: `451` is the server asking to slow down: throttled, with no time given (the
/// dispatcher's backoff decides).
#[tokio::test]
async fn n11_email_busy_server_is_throttled() {
    let (port, _mails) = smtp_server();
    let smtp = notifier(port);
    let result = smtp
        .send(
            &to("busy@exposant.example", ""),
            &message("k", "en", "s", "b"),
        )
        .await;
    assert!(
        matches!(
            result,
            Err(SendError::Throttled {
                retry_after: None,
                ..
            })
        ),
        "{result:?}"
    );
}

/// N12: a message with an HTML part goes as `multipart/alternative`, text first, with the
/// event's sender, its list and the one-click unsubscribe headers; bounces still go to
/// the adapter's address.
#[tokio::test]
async fn n12_email_is_text_and_html_with_list_headers() {
    let (port, mails) = smtp_server();
    let smtp = notifier(port);
    let mut msg = message(
        "publication:0190a:0190b",
        "fr",
        "Nouvelle tâche pour Salon Bois & Habitat : logo",
        "Bonjour Amélie,\n\nUne nouvelle tâche vous attend.\n\nOuvrir la tâche : https://expo.example/tasks/logo\n",
    );
    msg.event_name = "Salon Bois & Habitat".into();
    msg.html = Some(
        "<!DOCTYPE html><html lang=\"fr\"><body><p>Bonjour Amélie,</p><a href=\"https://expo.example/tasks/logo\">Ouvrir la tâche</a></body></html>".into(),
    );
    msg.unsubscribe_url = Some("https://expo.example/unsubscribe?token=abc.def".into());
    msg.sender = Some(punchlist::Sender {
        name: "Salon Bois & Habitat".into(),
        address: Some("salon@bois.example".into()),
        reply_to: Some("exposants@bois.example".into()),
    });
    smtp.send(&to("amelie@exposant.example", "Amélie Poulain"), &msg)
        .await
        .expect("sent");

    let mail = mails.lock().expect("lock")[0].clone();
    assert_eq!(
        mail.from, "tasks@expo.example",
        "the envelope sender is the adapter's"
    );
    assert_eq!(
        mail.hello, "expo.example",
        "greets with the sender's domain by default"
    );
    let parsed = MessageParser::default()
        .parse(&mail.raw)
        .expect("a parseable email");
    let ct = parsed.content_type().expect("a content type");
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(
        parsed.header_raw("MIME-Version").map(str::trim),
        Some("1.0")
    );
    assert!(parsed.date().is_some(), "a Date header");
    let from = parsed.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some("salon@bois.example"));
    assert_eq!(from.name(), Some("Salon Bois & Habitat"));
    let reply = parsed.reply_to().and_then(|a| a.first()).expect("Reply-To");
    assert_eq!(reply.address(), Some("exposants@bois.example"));
    assert_eq!(
        parsed.header_raw("List-Unsubscribe").map(str::trim),
        Some("<https://expo.example/unsubscribe?token=abc.def>")
    );
    assert_eq!(
        parsed.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(
        parsed.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
    // The list: the event's name as the phrase, its own identifier.
    let list = parsed
        .header("List-Id")
        .and_then(|h| h.as_address())
        .and_then(|a| a.first())
        .expect("List-Id");
    assert_eq!(list.name(), Some("Salon Bois & Habitat"), "{list:?}");
    assert_eq!(
        list.address(),
        Some(format!("e-{}.expo.example", common::event()).as_str())
    );
    // Text first, then HTML: mail clients show the last part they can.
    assert_eq!(parsed.text_body_count(), 1);
    assert_eq!(parsed.html_body_count(), 1);
    let text = normalize(&parsed.body_text(0).expect("text"));
    assert_eq!(text, msg.body);
    let html = parsed.body_html(0).expect("html");
    assert!(html.contains("<p>Bonjour Amélie,</p>"), "{html}");
    let parts: Vec<_> = parsed
        .parts
        .iter()
        .filter_map(|p| p.content_type())
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
        .collect();
    assert_eq!(parts, ["multipart/alternative", "text/plain", "text/html"]);

    // A name with accents: the identifier alone (no encoded-word inside quotes).
    assert_eq!(
        punchlist_notify::email::list_id("Salon Équip'Hôtel", "abc", "expo.example"),
        "<e-abc.expo.example>"
    );
    assert_eq!(
        punchlist_notify::email::list_id("Expo \"2026\"", "abc", "expo.example"),
        "\"Expo 2026\" <e-abc.expo.example>"
    );

    // Without an unsubscribe link, no list-unsubscribe headers; without HTML, text only.
    let plain = message("k-2", "en", "Reminder", "Due tomorrow.\n");
    smtp.send(&to("amelie@exposant.example", ""), &plain)
        .await
        .expect("sent");
    let mail = mails.lock().expect("lock")[1].clone();
    let parsed = MessageParser::default().parse(&mail.raw).expect("parse");
    assert!(parsed.header_raw("List-Unsubscribe").is_none());
    assert_eq!(parsed.content_type().map(|c| c.ctype()), Some("text"));
    assert_eq!(
        parsed.header_raw("MIME-Version").map(str::trim),
        Some("1.0")
    );
    let from = parsed.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some("tasks@expo.example"));
    assert_eq!(from.name(), Some("Expo 2026"));
}

/// N12: a relay that refuses a greeting that is not fully qualified (504) takes the
/// configured name; a name that could never be accepted is refused when configured.
#[tokio::test]
async fn n12_email_greeting_name_is_configurable() {
    let (port, mails) = smtp_server();
    let smtp = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", port, SmtpTls::None, "tasks@expo.example")
            .with_hello_name("mail.expo.example")
            .with_timeout(Duration::from_secs(5)),
    )
    .expect("notifier");
    smtp.send(
        &to("marie@exposant.example", ""),
        &message("k", "en", "s", "b"),
    )
    .await
    .expect("sent");
    assert_eq!(mails.lock().expect("lock")[0].hello, "mail.expo.example");

    let literal = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", port, SmtpTls::None, "tasks@expo.example")
            .with_hello_name("[127.0.0.1]")
            .with_timeout(Duration::from_secs(5)),
    )
    .expect("an address literal");
    literal
        .send(
            &to("marie@exposant.example", ""),
            &message("k2", "en", "s", "b"),
        )
        .await
        .expect("sent");
    assert_eq!(mails.lock().expect("lock")[1].hello, "[127.0.0.1]");

    for bad in [
        "localhost",
        "",
        "mail..example",
        "-mail.example",
        "[300.1.1.1]",
        "mail example.org",
    ] {
        let e = SmtpNotifier::new(
            SmtpConfig::new("127.0.0.1", port, SmtpTls::None, "tasks@expo.example")
                .with_hello_name(bad),
        )
        .expect_err(bad);
        assert!(e.to_string().contains("hello_name"), "{bad}: {e}");
    }
}

#[tokio::test]
async fn n4_email_unreachable_server_is_transient() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let smtp = notifier(port);
    let result = smtp
        .send(
            &to("marie@exposant.example", ""),
            &message("k", "en", "s", "b"),
        )
        .await;
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
}

#[tokio::test]
async fn n4_email_server_that_never_answers_is_transient() {
    // Accepts the connection and never sends a greeting.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let _held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(60));
    });
    let smtp = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", port, SmtpTls::None, "tasks@expo.example")
            .with_timeout(Duration::from_millis(300)),
    )
    .expect("notifier");
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        smtp.send(
            &to("marie@exposant.example", ""),
            &message("k", "en", "s", "b"),
        ),
    )
    .await
    .expect("the adapter's own timeout fires first");
    assert!(matches!(result, Err(SendError::Transient(_))), "{result:?}");
}

#[tokio::test]
async fn n4_email_bad_address_is_permanent_not_a_panic() {
    let (port, mails) = smtp_server();
    let smtp = notifier(port);
    let msg = message("k", "en", "s", "b");
    for address in [
        to("not an address", ""),
        to("", ""),
        to("marie@", ""),
        to("marie@exposant.example\r\nBcc: x@y.z", ""),
        Address::Chat {
            handle: "marie".into(),
        },
    ] {
        let result = smtp.send(&address, &msg).await;
        assert!(
            matches!(result, Err(SendError::Permanent(_))),
            "{address:?}: {result:?}"
        );
    }
    // A display name or subject with a line break cannot inject a header.
    let mut sneaky = msg.clone();
    sneaky.subject = "Hello\r\nBcc: spy@evil.example".into();
    smtp.send(
        &to("marie@exposant.example", "Marie\r\nBcc: spy@evil.example"),
        &sneaky,
    )
    .await
    .expect("sent");
    let mails = mails.lock().expect("lock").clone();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["marie@exposant.example".to_owned()]);
    let parsed = MessageParser::default()
        .parse(&mails[0].raw)
        .expect("parse");
    assert!(parsed.header_raw("Bcc").is_none());
}

#[tokio::test]
async fn n4_email_bad_configuration_is_an_error() {
    let bad_from = SmtpNotifier::new(SmtpConfig::new(
        "127.0.0.1",
        25,
        SmtpTls::None,
        "not an address",
    ));
    assert!(bad_from.is_err());
    let no_host = SmtpNotifier::new(SmtpConfig::new("", 25, SmtpTls::None, "a@b.example"));
    assert!(no_host.is_err());
    let zero = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", 25, SmtpTls::None, "a@b.example").with_timeout(Duration::ZERO),
    );
    assert!(zero.is_err());
    let bad_root = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", 25, SmtpTls::StartTls, "a@b.example")
            .with_extra_root_certificate("not a certificate"),
    );
    assert!(bad_root.is_err());
    // STARTTLS and implicit TLS set up with rustls (nothing connects yet).
    for tls in [SmtpTls::StartTls, SmtpTls::Implicit] {
        assert!(
            SmtpNotifier::new(SmtpConfig::new("smtp.example.org", 587, tls, "a@b.example")).is_ok()
        );
    }
}

#[test]
fn n4_email_is_built_without_a_runtime_and_hides_the_password() {
    let smtp = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", 25, SmtpTls::None, "a@b.example")
            .with_credentials(SmtpCredentials::new("tasks", "hunter2")),
    )
    .expect("no runtime needed to build it");
    let config = SmtpConfig::new("127.0.0.1", 25, SmtpTls::None, "a@b.example")
        .with_credentials(SmtpCredentials::new("tasks", "hunter2"));
    assert!(!format!("{smtp:?}{config:?}").contains("hunter2"));
}
