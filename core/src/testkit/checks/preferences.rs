//! Conformance checks for preferences and one-click unsubscribe (N8): nothing a
//! preference forbids is ever sent, whenever it was chosen; a locked kind always is; what
//! is held back is recorded on the entry; choices are in the participant's history.

use chrono::Duration;

use super::outbox::{all_channels, dispatcher, reachable};
use crate::testkit::{DumpStore, Fixture, RecordingNotifier};
use crate::*;

fn key() -> UnsubscribeKey {
    UnsubscribeKey::new([42u8; 32]).unwrap()
}

fn unsubscribe_dispatcher<S: DumpStore>(
    f: &Fixture<S>,
    notifiers: &(RecordingNotifier, RecordingNotifier, RecordingNotifier),
) -> Dispatcher<S, ManualClock> {
    let links = UnsubscribeLinks::new(key(), "https://expo.example/unsubscribe").unwrap();
    dispatcher(f, notifiers).with_config(
        DispatchConfig::default()
            .with_batch(50)
            .with_unsubscribe_links(links),
    )
}

/// N8: the event's defaults, a choice made after the entries were queued, a one-click
/// unsubscribe and a locked kind, on every channel: every message that went out is one the
/// rule allows at the time it went; every address held back is recorded on its entry; an
/// entry held back everywhere is `skipped`; the assignment notice always goes.
pub async fn n8_nothing_a_preference_forbids_is_ever_sent<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let bob = f.participant("bob", &["exhibitor"]).await;
    let cat = f.participant("cat", &[]).await;
    for (i, p) in [&ann, &bob, &cat].into_iter().enumerate() {
        reachable(&f, p, i as u8 + 1).await;
    }
    // The event: publication notices by email and push only.
    f.change_settings(|settings| {
        settings.notifications.channels.insert(
            MessageKind::Publication,
            [Channel::Email, Channel::WebPush].into(),
        );
    })
    .await;
    // Queued: a publication notice to the exhibitors, and a reminder to everyone.
    let mut notice = TaskConfig::manual(f.en.clone(), "Upload your logo", Fixture::<S>::web());
    notice.notify_on_publish = true;
    notice.segment = Some(f.exhibitors);
    let notice = f.publish(notice).await;
    let mut due = TaskConfig::manual(f.en.clone(), "Book your stand", Fixture::<S>::web());
    due.deadline = Some(f.clock.now() + Duration::hours(20));
    f.publish(due).await;
    f.service
        .tick_reminders(&Actor::System, f.event)
        .await
        .unwrap();
    // After queueing: Ann turns reminders off by email, as herself.
    let rows = f
        .service
        .update_notification_preferences(
            &f.as_participant(&ann),
            f.event,
            ann.id,
            PreferencesUpdate {
                changes: vec![PreferenceChange {
                    kind: MessageKind::Reminder,
                    channel: Some(Channel::Email),
                    on: Some(false),
                }],
                stop_all: None,
            },
        )
        .await
        .unwrap();
    let reminder = rows
        .iter()
        .find(|r| r.kind == MessageKind::Reminder)
        .unwrap();
    let email = reminder
        .channels
        .iter()
        .find(|c| c.channel == Channel::Email)
        .unwrap();
    assert!(!email.on && email.default_on && email.chosen == Some(false));
    // Bob stops everything from the link of a first message (a nudge sent now).
    f.service
        .remind_now(
            &f.organizer,
            f.event,
            notice.id,
            RemindTarget::Participant(bob.id),
        )
        .await
        .unwrap();
    let d = unsubscribe_dispatcher(&f, &notifiers);
    // The nudge alone first: the newest entry.
    let mut sent_first = 0;
    while d.dispatch_once().await.unwrap().claimed > 0 {
        sent_first += 1;
    }
    assert!(sent_first > 0);
    let (round_one, _) = check_sent(&f, &notifiers, [0, 0, 0]).await;
    let link = notifiers
        .0
        .received()
        .into_iter()
        .find(|r| r.message.recipient == bob.id && r.message.idempotency_key.starts_with("nudge"))
        .and_then(|r| r.message.unsubscribe_url)
        .expect("the nudge carries an unsubscribe link");
    let token = link.split_once("token=").unwrap().1.to_owned();
    let done = f.service.unsubscribe(&key(), &token).await.unwrap();
    assert_eq!(
        (done.participant, done.kind, done.changed),
        (bob.id, Some(MessageKind::Nudge), true)
    );
    let again = f.service.unsubscribe(&key(), &token).await.unwrap();
    assert!(!again.changed, "idempotent");
    let before = f.dump().await;
    let forged = format!("{}x", &token[..token.len() - 1]);
    for bad in [forged.as_str(), "", "nope"] {
        let e = f.service.unsubscribe(&key(), bad).await.unwrap_err();
        assert_eq!(e.field(), Some("token"), "{e}");
    }
    let other = UnsubscribeKey::new([7u8; 32]).unwrap();
    assert!(f.service.unsubscribe(&other, &token).await.is_err());
    f.clock.advance(Duration::days(91));
    let e = f.service.unsubscribe(&key(), &token).await.unwrap_err();
    assert!(e.to_string().contains("expired"), "{e}");
    assert_eq!(f.dump().await, before, "refused tokens write nothing");
    f.clock.advance(Duration::days(-91));
    // A locked kind: the assignment notice reaches Bob all the same.
    f.service
        .link_collaborator(&f.organizer, f.event, ann.id, bob.id)
        .await
        .unwrap();
    f.service
        .assign_task(&f.as_participant(&ann), f.event, ann.id, notice.id, bob.id)
        .await
        .unwrap();
    // Bob stops everything through the service too.
    f.service
        .update_notification_preferences(
            &f.as_participant(&bob),
            f.event,
            bob.id,
            PreferencesUpdate::stop_all(),
        )
        .await
        .unwrap();
    f.service
        .remind_now(
            &f.organizer,
            f.event,
            notice.id,
            RemindTarget::Participant(bob.id),
        )
        .await
        .unwrap();
    while d.dispatch_once().await.unwrap().claimed > 0 {}

    // Everything that went out since was allowed by the choices made by then.
    let (_, assignment_to_bob) = check_sent(&f, &notifiers, round_one).await;
    assert_eq!(
        assignment_to_bob,
        [1, 1, 1],
        "the assignment notice on every channel"
    );
    // No publication notice on chat; Ann's reminder by chat and push, not email.
    assert!(
        notifiers
            .1
            .received()
            .iter()
            .all(|r| !r.message.idempotency_key.starts_with("publication")),
        "publication notices are off on chat by default"
    );
    let outbox = f.outbox().await;
    let ann_reminder = outbox
        .iter()
        .find(|e| e.recipient == ann.id && e.message.kind() == MessageKind::Reminder)
        .unwrap();
    assert_eq!(ann_reminder.state, OutboxState::Sent);
    assert_eq!(
        ann_reminder
            .skipped
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["email"],
        "{ann_reminder:?}"
    );
    assert!(!ann_reminder.delivered.contains("email"));
    // Bob's second nudge: held back everywhere, recorded, not sent.
    let bob_nudges: Vec<_> = outbox
        .iter()
        .filter(|e| e.recipient == bob.id && e.message.kind() == MessageKind::Nudge)
        .collect();
    assert_eq!(bob_nudges.len(), 2);
    let skipped = bob_nudges
        .iter()
        .find(|e| e.state == OutboxState::Skipped)
        .expect("the second nudge is skipped");
    assert!(skipped.delivered.is_empty());
    assert_eq!(skipped.skipped.len(), 3, "{skipped:?}");
    assert!(skipped.finished_at.is_some());
    // The organizer can list them.
    let listed = f
        .service
        .outbox(
            &f.organizer,
            f.event,
            &OutboxFilter {
                state: Some(OutboxState::Skipped),
                ..OutboxFilter::default()
            },
            None,
            100,
        )
        .await
        .unwrap();
    assert!(listed.iter().any(|e| e.id == skipped.id), "{listed:?}");
    assert!(listed.iter().all(|e| e.state == OutboxState::Skipped));
}

/// Checks every message the notifiers received after the first `seen` of each against
/// the recipients' preferences as they stand, and that each message that can be stopped
/// carries its link; answers how many each has received, and how many of the messages
/// checked were assignment notices, per channel.
async fn check_sent<S: DumpStore>(
    f: &Fixture<S>,
    notifiers: &(RecordingNotifier, RecordingNotifier, RecordingNotifier),
    seen: [usize; 3],
) -> ([usize; 3], [usize; 3]) {
    let outbox = f.outbox().await;
    let people: Vec<ParticipantId> = outbox.iter().map(|e| e.recipient).collect();
    let records = f
        .service
        .store()
        .participant_records(f.event, &people)
        .await
        .unwrap();
    let defaults = f
        .service
        .event(&f.organizer, f.event)
        .get()
        .await
        .unwrap()
        .settings
        .notifications;
    let mut counts = [0; 3];
    for (i, n) in [&notifiers.0, &notifiers.1, &notifiers.2]
        .into_iter()
        .enumerate()
    {
        let received = n.received();
        for r in &received[seen[i].min(received.len())..] {
            let m = &r.message;
            let who = records.iter().find(|p| p.id == m.recipient).unwrap();
            let kind = outbox
                .iter()
                .find(|e| e.id == m.outbox)
                .unwrap()
                .message
                .kind();
            assert!(
                who.notifications.allows(&defaults, kind, r.to.channel()),
                "{kind:?} to {} on {}",
                who.external_id,
                r.to.channel()
            );
            assert_eq!(
                m.unsubscribe_url.is_some(),
                kind != MessageKind::Assignment,
                "a link in every message that can be stopped: {kind:?}"
            );
            if kind == MessageKind::Assignment {
                counts[i] += 1;
            }
        }
    }
    let lengths = [
        notifiers.0.received().len(),
        notifiers.1.received().len(),
        notifiers.2.received().len(),
    ];
    (lengths, counts)
}

/// N8, R12: a participant changes their own choices, in their history; a locked kind, a
/// grouped kind or an empty change is refused naming the field; another participant may
/// not change them; and nothing refused is written.
pub async fn n8_preferences_are_the_participants_and_in_their_history<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let bob = f.participant("bob", &[]).await;
    let before = f.dump().await;
    let as_ann = f.as_participant(&ann);
    for (update, field) in [
        (
            PreferencesUpdate::off(MessageKind::Assignment),
            "changes[0].kind",
        ),
        (
            PreferencesUpdate::off(MessageKind::Reminders),
            "changes[0].kind",
        ),
        (PreferencesUpdate::default(), "changes"),
    ] {
        let e = f
            .service
            .update_notification_preferences(&as_ann, f.event, ann.id, update)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    let e = f
        .service
        .update_notification_preferences(
            &f.as_participant(&bob),
            f.event,
            ann.id,
            PreferencesUpdate::stop_all(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(f.dump().await, before, "nothing refused is written");

    f.service
        .update_notification_preferences(
            &as_ann,
            f.event,
            ann.id,
            PreferencesUpdate::off(MessageKind::Publication),
        )
        .await
        .unwrap();
    let rows = f
        .service
        .notification_preferences(&f.organizer, f.event, ann.id)
        .await
        .unwrap();
    let publication = rows
        .iter()
        .find(|r| r.kind == MessageKind::Publication)
        .unwrap();
    assert!(publication.channels.iter().all(|c| !c.on));
    let history = f
        .service
        .participant_history(&f.organizer, f.event, ann.id, &HistoryFilter::default(), 50)
        .await
        .unwrap();
    let line = history
        .iter()
        .find(|h| h.field.starts_with("notifications"))
        .expect("a history line");
    assert_eq!(line.actor, as_ann, "{line:?}");
    // The same choice again writes nothing.
    let before = f.dump().await;
    f.service
        .update_notification_preferences(
            &as_ann,
            f.event,
            ann.id,
            PreferencesUpdate::off(MessageKind::Publication),
        )
        .await
        .unwrap();
    assert_eq!(f.dump().await, before);
}
