//! Conformance checks for quiet hours (N9): what is due while the recipient's send window
//! is closed waits for it to open, on their clock; what waited for one recipient goes out
//! as one message, keyed by its members, without what was done meanwhile and with the
//! choices made meanwhile; the members are marked together; kinds the event lets through go at once; a bad window is refused.

use chrono::{Duration, NaiveTime, TimeZone, Utc};

use super::outbox::{all_channels, dispatcher, reachable};
use crate::testkit::{DumpStore, Fixture, RecordingNotifier};
use crate::*;

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// The event sends 08:00–20:00 on each recipient's clock; `Nudge` goes at any hour.
async fn quiet_nights<S: DumpStore>(f: &Fixture<S>) {
    f.change_settings(|settings| {
        settings.notifications.window = Some(
            SendWindow::daily(hm(8, 0), hm(20, 0))
                .unwrap()
                .bypassed_by(MessageKind::Nudge),
        );
    })
    .await;
}

fn to(notifier: &RecordingNotifier, p: &Participant) -> Vec<OutgoingMessage> {
    notifier
        .received()
        .into_iter()
        .filter(|r| r.message.recipient == p.id)
        .map(|r| r.message)
        .collect()
}

async fn drain<S: DumpStore>(d: &Dispatcher<S, ManualClock>) -> DispatchReport {
    let mut total = DispatchReport::default();
    loop {
        let r = d.dispatch_once().await.unwrap();
        total.held += r.held;
        total.together += r.together;
        total.sent += r.sent;
        total.skipped += r.skipped;
        if r.claimed == 0 {
            return total;
        }
    }
}

/// N9: at 23:00 in Paris, Ann's publication notices and reminder wait for 08:00 Paris
/// while Bob, in New York at 17:00, gets his at once, and an organizer's nudge (a kind the
/// event lets through) reaches Ann at once. At 08:00 Ann gets one message per address
/// carrying what is still worth saying (the task she did overnight is left out and its
/// notice marked skipped), with a key made from its members; every member is sent, and
/// nothing is sent twice.
pub async fn n9_held_messages_wait_for_the_window_and_go_out_together<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let bob = f.participant("bob", &["exhibitor"]).await;
    reachable(&f, &ann, 1).await;
    reachable(&f, &bob, 2).await;
    f.change_status(&bob, |s| s.time_zone = Some(chrono_tz::America::New_York))
        .await;
    quiet_nights(&f).await;
    // 22:00 UTC: 23:00 in Paris (the event's zone, Ann's), 17:00 in New York.
    let night = Utc.with_ymd_and_hms(2026, 3, 1, 22, 0, 0).unwrap();
    f.clock.set(night);
    let mut logo = TaskConfig::manual(f.en.clone(), "Upload your logo", Fixture::<S>::web());
    logo.notify_on_publish = true;
    logo.segment = Some(f.exhibitors);
    let logo = f.publish(logo).await;
    let mut badge = TaskConfig::manual(f.en.clone(), "Print your badge", Fixture::<S>::web());
    badge.notify_on_publish = true;
    badge.segment = Some(f.exhibitors);
    let badge = f.publish(badge).await;
    let mut stand = TaskConfig::manual(f.en.clone(), "Book your stand", Fixture::<S>::web());
    stand.deadline = Some(night + Duration::hours(20));
    stand.segment = Some(f.exhibitors);
    let stand = f.publish(stand).await;
    f.service
        .tick_reminders(&Actor::System, f.event)
        .await
        .unwrap();
    let d = dispatcher(&f, &notifiers);
    let first = drain(&d).await;
    let queued_for_ann = f
        .outbox()
        .await
        .into_iter()
        .filter(|e| e.recipient == ann.id)
        .count();
    assert_eq!(queued_for_ann, 3, "two notices and a reminder for Ann");
    assert_eq!(first.held, 3, "Ann's three wait: {first:?}");
    for n in [&notifiers.0, &notifiers.1, &notifiers.2] {
        assert!(to(n, &ann).is_empty(), "nothing reaches Ann at night");
        assert_eq!(to(n, &bob).len(), 3, "Bob's afternoon: each of his three");
    }
    let opening = Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap(); // 08:00 in Paris
    for e in f
        .outbox()
        .await
        .into_iter()
        .filter(|e| e.recipient == ann.id)
    {
        assert_eq!(e.state, OutboxState::Pending);
        assert_eq!((e.held_since, e.not_before), (Some(night), Some(opening)));
        assert_eq!(
            (e.attempts, e.lease.as_ref()),
            (0, None),
            "waiting spends nothing"
        );
    }
    // A nudge goes at any hour.
    f.service
        .remind_now(
            &f.organizer,
            f.event,
            stand.id,
            RemindTarget::Participant(ann.id),
        )
        .await
        .unwrap();
    drain(&d).await;
    assert_eq!(to(&notifiers.0, &ann).len(), 1, "the nudge went at once");
    assert!(
        to(&notifiers.0, &ann)[0]
            .idempotency_key
            .starts_with("nudge")
    );
    // Overnight, Ann prints her badge and turns publication notices off in the chat; a
    // round before the opening changes nothing.
    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, badge.id)
        .await
        .unwrap();
    f.service
        .update_notification_preferences(
            &f.as_participant(&ann),
            f.event,
            ann.id,
            PreferencesUpdate {
                changes: vec![PreferenceChange {
                    kind: MessageKind::Publication,
                    channel: Some(Channel::Chat),
                    on: Some(false),
                }],
                stop_all: None,
            },
        )
        .await
        .unwrap();
    f.clock.set(opening - Duration::minutes(1));
    assert_eq!(drain(&d).await, DispatchReport::default());
    // 08:00 in Paris: one message per address, with what is still worth saying.
    f.clock.set(opening);
    let morning = drain(&d).await;
    assert_eq!(morning.together, 1, "{morning:?}");
    let mut keys = Vec::new();
    for n in [&notifiers.0, &notifiers.1, &notifiers.2] {
        let got = to(n, &ann);
        assert_eq!(
            got.len(),
            2,
            "the nudge, then one message on {:?}",
            n.channel()
        );
        let m = &got[1];
        if n.channel() == Channel::Chat {
            // Her choice made while it waited: the chat gets the reminder alone, as itself.
            assert!(
                m.idempotency_key.starts_with("reminder:"),
                "{}",
                m.idempotency_key
            );
            assert_eq!(m.title, "Book your stand");
            continue;
        }
        assert!(
            m.idempotency_key.starts_with("together:"),
            "{}",
            m.idempotency_key
        );
        keys.push(m.idempotency_key.clone());
        if n.channel() == Channel::Email {
            assert!(m.subject.contains("2 updates"), "{}", m.subject);
            assert!(m.body.contains("Upload your logo"), "{}", m.body);
            assert!(m.body.contains("Book your stand"), "{}", m.body);
            assert!(m.body.contains("[New task]") && m.body.contains("[Reminder]"));
            assert!(
                !m.body.contains("Print your badge"),
                "done overnight: left out"
            );
        }
    }
    keys.dedup();
    assert_eq!(keys.len(), 1, "one message, one key, by email and push");
    let ann_entries: Vec<OutboxEntry> = f
        .outbox()
        .await
        .into_iter()
        .filter(|e| e.recipient == ann.id && e.held_since.is_some())
        .collect();
    let delivered = ann_entries
        .iter()
        .find(|e| matches!(e.message, Notification::Reminder { .. }))
        .map(|e| e.delivered.clone())
        .unwrap();
    assert_eq!(delivered.len(), 3, "email, chat and push: {delivered:?}");
    for e in &ann_entries {
        let about_badge =
            matches!(&e.message, Notification::Publication { tasks } if tasks == &vec![badge.id]);
        if about_badge {
            assert_eq!(e.state, OutboxState::Skipped, "{e:?}");
            assert!(e.skipped.contains_key("*"), "{:?}", e.skipped);
        } else {
            assert_eq!(e.state, OutboxState::Sent, "{e:?}");
            if matches!(e.message, Notification::Publication { .. }) {
                assert!(!e.delivered.contains("chat"), "{e:?}");
                assert!(e.skipped.contains_key("chat"), "held back and said: {e:?}");
            } else {
                assert_eq!(e.delivered, delivered, "{e:?}");
            }
        }
    }
    assert!(ann_entries.iter().any(
        |e| matches!(&e.message, Notification::Publication { tasks } if tasks == &vec![logo.id])
    ));
    // Nothing more, and nothing twice.
    assert_eq!(drain(&d).await, DispatchReport::default());
    for n in [&notifiers.0, &notifiers.1, &notifiers.2] {
        assert_eq!(to(n, &ann).len(), 2);
    }
}

/// N9: when the message that carries what waited fails on one channel, every member is
/// due again at the same time and keeps the channels already reached; the next round sends
/// it once on the failed channel, with the same key, and nothing again on the others.
pub async fn n9_members_sent_together_retry_together<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    reachable(&f, &ann, 1).await;
    quiet_nights(&f).await;
    let night = Utc.with_ymd_and_hms(2026, 3, 1, 22, 0, 0).unwrap();
    f.clock.set(night);
    for name in ["Upload your logo", "Print your badge"] {
        let mut c = TaskConfig::manual(f.en.clone(), name, Fixture::<S>::web());
        c.notify_on_publish = true;
        c.segment = Some(f.exhibitors);
        f.publish(c).await;
    }
    let d = dispatcher(&f, &notifiers);
    assert_eq!(drain(&d).await.held, 2);
    let opening = Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap();
    f.clock.set(opening);
    notifiers
        .0
        .then([Err(SendError::Transient("421 try later".into()))]);
    drain(&d).await;
    let entries = f.outbox().await;
    assert_eq!(entries.len(), 2);
    let due: Vec<_> = entries.iter().map(|e| (e.state, e.not_before)).collect();
    assert_eq!(due[0], due[1], "due again together: {due:?}");
    assert_eq!(due[0].0, OutboxState::Pending);
    for e in &entries {
        assert!(
            !e.delivered.contains("email") && e.delivered.contains("chat"),
            "{e:?}"
        );
        assert_eq!(e.attempts, 1);
    }
    assert!(to(&notifiers.0, &ann).is_empty());
    let chat = to(&notifiers.1, &ann);
    assert_eq!(chat.len(), 1);
    assert_eq!(
        chat[0].title, "2 new tasks",
        "publication notices merge into one"
    );
    f.clock.set(due[0].1.unwrap());
    drain(&d).await;
    let email = to(&notifiers.0, &ann);
    assert_eq!(email.len(), 1, "the email once");
    assert_eq!(
        email[0].idempotency_key, chat[0].idempotency_key,
        "the same message"
    );
    assert_eq!(to(&notifiers.1, &ann).len(), 1, "chat not again");
    assert_eq!(to(&notifiers.2, &ann).len(), 1, "push not again");
    assert!(
        f.outbox()
            .await
            .iter()
            .all(|e| e.state == OutboxState::Sent)
    );
}

/// N9: what waited for one recipient is claimed together, in one claim, whatever the
/// batch: two dispatchers claiming one entry each at the opening take one recipient's
/// entries each, never some of both.
pub async fn n9_a_claim_takes_what_waited_for_a_recipient_together<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let bob = f.participant("bob", &["exhibitor"]).await;
    quiet_nights(&f).await;
    let night = Utc.with_ymd_and_hms(2026, 3, 1, 22, 0, 0).unwrap();
    f.clock.set(night);
    for name in ["Upload your logo", "Print your badge", "Book your stand"] {
        let mut c = TaskConfig::manual(f.en.clone(), name, Fixture::<S>::web());
        c.notify_on_publish = true;
        c.segment = Some(f.exhibitors);
        f.publish(c).await;
    }
    let d = dispatcher(&f, &notifiers);
    assert_eq!(drain(&d).await.held, 6);
    let opening = Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap();
    let lease = opening + Duration::minutes(5);
    let store = f.service.store();
    let first = store.claim_outbox("one", opening, lease, 1).await.unwrap();
    let second = store.claim_outbox("two", opening, lease, 1).await.unwrap();
    assert!(
        store
            .claim_outbox("three", opening, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    for claimed in [&first, &second] {
        assert_eq!(claimed.len(), 3, "one recipient's three: {claimed:?}");
        assert!(claimed.iter().all(|e| e.recipient == claimed[0].recipient));
    }
    let mut whose = [first[0].recipient, second[0].recipient];
    whose.sort();
    let mut both = [ann.id, bob.id];
    both.sort();
    assert_eq!(whose, both);
    // And none of it is held by two.
    let mut ids: Vec<OutboxId> = first.iter().chain(&second).map(|e| e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6);
}

/// N9: a window that closes before it opens, one shorter than an hour, and a digest or
/// grouped reminders as a bypassing kind are refused, naming the field, and write nothing.
pub async fn n9_bad_windows_are_refused_and_write_nothing<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let settings = f
        .service
        .event(&f.organizer, f.event)
        .get()
        .await
        .unwrap()
        .settings;
    let before = f.dump().await;
    let window = |opens, closes, overnight, bypass: &[MessageKind]| SendWindow {
        opens,
        closes,
        overnight,
        bypass: bypass.iter().copied().collect(),
    };
    for (w, field) in [
        (
            window(hm(20, 0), hm(8, 0), false, &[]),
            "notifications.window.closes",
        ),
        (
            window(hm(8, 0), hm(20, 0), true, &[]),
            "notifications.window.closes",
        ),
        (
            window(hm(8, 0), hm(8, 30), false, &[]),
            "notifications.window",
        ),
        (
            window(hm(8, 0), hm(20, 0), false, &[MessageKind::Digest]),
            "notifications.window.bypass.digest",
        ),
        (
            window(hm(8, 0), hm(20, 0), false, &[MessageKind::Reminders]),
            "notifications.window.bypass.reminders",
        ),
    ] {
        let mut s = settings.clone();
        s.notifications.window = Some(w);
        let e = f
            .service
            .update_event(&f.organizer, f.event, s)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Invalid { .. }), "{e}");
        assert_eq!(e.field(), Some(field), "{e}");
    }
    assert_eq!(f.dump().await, before, "a refused window writes nothing");
    // An overnight one is fine.
    let mut s = settings;
    s.notifications.window = Some(SendWindow::overnight(hm(18, 0), hm(2, 0)).unwrap());
    f.service
        .update_event(&f.organizer, f.event, s)
        .await
        .unwrap();
}
