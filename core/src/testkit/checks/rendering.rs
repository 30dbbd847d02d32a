//! Conformance checks for rendering (N6, N9, N12): the recipient's language and time
//! zone, the deadline in words, the forms a message takes, and the event's own templates
//! and branding, through the dispatcher on every store.

use chrono::Duration;

use super::common::tick;
use super::outbox::{all_channels, dispatcher};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// N6, N9, N12: a message is rendered in its recipient's language, else the event's; it
/// carries the task's name, its deadline in words in the recipient's time zone (else the
/// event's), the link, and the short forms a phone shows.
pub async fn n6_messages_in_the_recipients_language<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let ann = f.participant("ann", &[]).await;
    let zoe = f.participant("zoe", &[]).await;
    f.change_status(&zoe, |status| {
        status.language = Some(f.fr.clone());
        status.time_zone = Some(chrono_tz::America::Montreal);
    })
    .await;
    let deadline = f.clock.now() + Duration::hours(20);
    let mut config = TaskConfig::manual(f.en.clone(), "Upload your logo", Fixture::<S>::web());
    config.texts.insert(
        f.fr.clone(),
        TaskText {
            name: "Déposez votre logo".into(),
            description: String::new(),
        },
    );
    config.deadline = Some(deadline);
    let t = f
        .service
        .create_task(&f.organizer, f.event, config)
        .await
        .unwrap();
    f.service
        .publish_task(&f.organizer, f.event, t.id)
        .await
        .unwrap();
    tick(&f).await;
    let d = dispatcher(&f, &notifiers);
    d.dispatch_once().await.unwrap();
    let email = notifiers.0.received();
    assert_eq!(email.len(), 2);
    let to = |p: &Participant| {
        email
            .iter()
            .find(|r| r.message.recipient == p.id)
            .unwrap()
            .message
            .clone()
    };
    let (en, fr) = (to(&ann), to(&zoe));
    // The event is in Paris (UTC+1 in March), Zoé in Montréal (UTC-5): each reads the
    // deadline on their own clock.
    let paris = deadline.with_timezone(&chrono_tz::Europe::Paris);
    let montreal = deadline.with_timezone(&chrono_tz::America::Montreal);
    let en_time = format!("at {}", paris.format("%H:%M"));
    let fr_time = format!("à {}", montreal.format("%H h %M"));
    assert_eq!(en.language, f.en);
    assert!(en.subject.contains("Upload your logo"), "{}", en.subject);
    assert!(en.subject.contains(&en_time), "{}", en.subject);
    assert!(
        en.body
            .contains(&format!("{} {en_time}", paris.format("%Y"))),
        "the deadline in words: {}",
        en.body
    );
    assert!(en.body.contains("https://expo.example/help"), "{}", en.body);
    assert_eq!(
        en.body.matches("https://expo.example/help").count(),
        1,
        "the link once: {}",
        en.body
    );
    assert!(
        en.html
            .as_deref()
            .is_some_and(|h| h.contains("Upload your logo"))
    );
    assert_eq!(en.title, "Upload your logo");
    assert!(en.summary.starts_with("Due "), "{}", en.summary);
    assert!(
        en.ttl_seconds <= 20 * 3600,
        "no longer than the deadline is ahead"
    );
    assert_eq!(fr.language, f.fr);
    assert!(fr.subject.starts_with("Rappel"), "{}", fr.subject);
    assert!(fr.subject.contains("Déposez votre logo"), "{}", fr.subject);
    assert!(fr.subject.contains(&fr_time), "{}", fr.subject);
    assert!(fr.body.contains("Bonjour zoe"), "{}", fr.body);
    assert!(fr.body.contains(&fr_time), "{}", fr.body);
    assert!(
        !fr.body.contains(&paris.format("%H h %M").to_string()),
        "{}",
        fr.body
    );
    assert!(fr.summary.starts_with("À faire avant "), "{}", fr.summary);
    assert_eq!(
        fr.html.as_deref().map(|h| h.contains("<html lang=\"fr\">")),
        Some(true)
    );
    assert_eq!(en.urgency, Urgency::High, "the day before");
}

/// N6, N12: an organizer's own template (a whole part, or the intro both parts show) and
/// branding shape their event's messages; an own template replaces the shipped one; a template
/// that does not compile, or a key that names no kind, language or part, is refused when
/// set, naming the field (with the line for a syntax error), and nothing is written.
pub async fn n6_event_templates_override_and_are_checked_when_set<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let ann = f.participant("ann", &[]).await;
    let task = f.manual_task("Book your stand", None).await;
    let settings = f
        .service
        .event(&f.organizer, f.event)
        .get()
        .await
        .unwrap()
        .settings;
    let before = f.dump().await;
    for (key, source, field) in [
        (
            "nudge.en.subject",
            "Hello {% if %}",
            "templates.nudge.en.subject",
        ),
        ("nudge.de.subject", "Hallo", "templates.nudge.de.subject"),
        ("nope.en.subject", "Hello", "templates.nope.en.subject"),
        ("nudge.en.footer", "Hello", "templates.nudge.en.footer"),
    ] {
        let mut bad = settings.clone();
        bad.templates.insert(key.into(), source.into());
        let e = f
            .service
            .update_event(&f.organizer, f.event, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
        if key == "nudge.en.subject" {
            assert!(e.to_string().contains("line 1"), "{e}");
        }
    }
    assert_eq!(f.dump().await, before, "a refused template writes nothing");

    // Branding (N12): each value is checked, naming its field, and nothing is written.
    for (field, set) in [
        (
            "branding.logo_url",
            (|b: &mut crate::Branding| b.logo_url = Some("http://expo.example/logo.png".into()))
                as fn(&mut crate::Branding),
        ),
        ("branding.logo_url", |b| {
            b.logo_url = Some("logo.png".into())
        }),
        ("branding.colour", |b| b.colour = Some("blue".into())),
        ("branding.colour", |b| b.colour = Some("#12345".into())),
        ("branding.sender_name", |b| {
            b.sender_name = Some("Expo\nBcc: x@y.z".into())
        }),
        ("branding.sender_address", |b| {
            b.sender_address = Some("not an address".into())
        }),
        ("branding.reply_to", |b| b.reply_to = Some("x@".into())),
        ("branding.reply_to", |b| {
            b.reply_to = Some("a<b>@expo.example".into())
        }),
        ("branding.sender_address", |b| {
            b.sender_address = Some("a,b@expo.example".into())
        }),
    ] {
        let mut bad = settings.clone();
        set(&mut bad.branding);
        let e = f
            .service
            .update_event(&f.organizer, f.event, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    assert_eq!(f.dump().await, before, "refused branding writes nothing");

    let mut good = settings.clone();
    good.templates.insert(
        "nudge.en.subject".into(),
        "Psst {{ recipient }}: {{ task.name }} ({{ event }})".into(),
    );
    good.templates
        .insert("nudge.en.intro".into(), "Your stand is waiting <3".into());
    good.branding = crate::Branding {
        logo_url: Some("https://expo.example/logo.png".into()),
        colour: Some("#aa3300".into()),
        sender_name: Some("Expo 2026 team".into()),
        sender_address: Some("team@expo.example".into()),
        reply_to: Some("help@expo.example".into()),
    };
    f.service
        .update_event(&f.organizer, f.event, good)
        .await
        .unwrap();
    f.service
        .remind_now(
            &f.organizer,
            f.event,
            task.id,
            RemindTarget::Participant(ann.id),
        )
        .await
        .unwrap();
    dispatcher(&f, &notifiers).dispatch_once().await.unwrap();
    let sent = notifiers.0.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].message.subject,
        "Psst ann: Book your stand (Expo 2026)"
    );
    let m = &sent[0].message;
    assert!(
        m.body.contains("Your stand is waiting <3") && m.body.contains("Book your stand"),
        "the shipped layout around the event's intro: {}",
        m.body
    );
    let html = m.html.as_deref().unwrap_or_default();
    assert!(html.contains("Your stand is waiting &lt;3"), "{html}");
    assert!(
        html.contains("src=\"https://expo.example/logo.png\""),
        "{html}"
    );
    assert!(html.contains("#aa3300"), "{html}");
    assert_eq!(
        m.sender,
        Some(crate::Sender {
            name: "Expo 2026 team".into(),
            address: Some("team@expo.example".into()),
            reply_to: Some("help@expo.example".into()),
        })
    );
    assert_eq!(m.event_name, "Expo 2026");
}
