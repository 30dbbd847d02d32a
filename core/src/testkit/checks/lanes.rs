//! Conformance checks for the outbox's lanes and the shared rate limits (N11): a claim
//! takes every due assignment and review notice before any reminder, and every reminder
//! before any publication notice, whatever their age; dispatchers sharing a store send no
//! faster together than a channel's rate, and what the limit holds back spends nothing.

use chrono::Duration;

use crate::testkit::{DumpStore, Fixture, RecordingNotifier};
use crate::*;

/// N11: publication notices to a segment queued first, then reminders, then an
/// assignment: claims one at a time take the assignment, then the reminders, then the
/// notices; an entry not yet due waits whatever its lane.
pub async fn n11_claims_take_assignments_then_reminders_then_notices<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    for name in ["bob", "cat", "dan"] {
        f.participant(name, &["exhibitor"]).await;
    }
    let mut notice = TaskConfig::manual(f.en.clone(), "Upload your logo", Fixture::<S>::web());
    notice.notify_on_publish = true;
    notice.segment = Some(f.exhibitors);
    f.publish(notice).await;
    f.clock.advance(Duration::minutes(1));
    let mut due = TaskConfig::manual(f.en.clone(), "Book your stand", Fixture::<S>::web());
    due.deadline = Some(f.clock.now() + Duration::hours(20));
    due.segment = Some(f.exhibitors);
    let due = f.publish(due).await;
    f.service
        .tick_reminders(&Actor::System, f.event)
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(1));
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            due.id,
            team.id,
        )
        .await
        .unwrap();
    let queued = f.outbox().await;
    let count = |k: MessageKind| queued.iter().filter(|e| e.message.kind() == k).count();
    assert_eq!(count(MessageKind::Publication), 4, "{queued:?}");
    assert_eq!(count(MessageKind::Reminder), 4);
    assert_eq!(count(MessageKind::Assignment), 1);
    let now = f.clock.now();
    let mut order = Vec::new();
    loop {
        let claimed = f
            .service
            .store()
            .claim_outbox("lanes", now, now + Duration::minutes(5), 1)
            .await
            .unwrap();
        let Some(e) = claimed.first() else { break };
        order.push((e.lane(), e.message.kind(), e.created_at));
    }
    assert_eq!(order.len(), queued.len(), "each claimed once");
    let kinds: Vec<MessageKind> = order.iter().map(|o| o.1).collect();
    let mut expected = vec![MessageKind::Assignment];
    expected.extend([MessageKind::Reminder; 4]);
    expected.extend([MessageKind::Publication; 4]);
    assert_eq!(kinds, expected, "by lane, whatever their age");
    for pair in order.windows(2) {
        assert!(
            (pair[0].0, pair[0].2) <= (pair[1].0, pair[1].2),
            "earliest due first within a lane: {order:?}"
        );
    }
    // Something of the first lane not due yet does not jump ahead of what is due.
    let later = f
        .service
        .store()
        .claim_outbox(
            "lanes",
            now + Duration::minutes(6),
            now + Duration::minutes(11),
            2,
        )
        .await
        .unwrap();
    assert_eq!(later.len(), 2, "leases ended: due again");
    assert_eq!(later[0].message.kind(), MessageKind::Assignment);
    assert_eq!(later[1].message.kind(), MessageKind::Reminder);
    // A batch larger than a lane spills into the next, in order.
    let rest = f
        .service
        .store()
        .claim_outbox(
            "lanes",
            now + Duration::minutes(6),
            now + Duration::minutes(11),
            5,
        )
        .await
        .unwrap();
    let kinds: Vec<MessageKind> = rest.iter().map(|e| e.message.kind()).collect();
    let mut expected = vec![MessageKind::Reminder; 3];
    expected.extend([MessageKind::Publication; 2]);
    assert_eq!(kinds, expected);
}

/// N11: two dispatchers sharing the store, email at 6 a minute with a burst of 2, and
/// seven notices: 2 go at once, then one every 10 seconds, whichever dispatcher runs;
/// every one is sent once, none spends an attempt, and a round with nothing to do leaves
/// the limiter as it was.
pub async fn n11_dispatchers_share_a_rate_limit<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    f.channels(Channels {
        email: true,
        chat: false,
        web_push: false,
    })
    .await;
    for name in ["ann", "bob", "cat", "dan", "eve", "fay", "gus"] {
        f.participant(name, &["exhibitor"]).await;
    }
    let mut notice = TaskConfig::manual(f.en.clone(), "Upload your logo", Fixture::<S>::web());
    notice.notify_on_publish = true;
    notice.segment = Some(f.exhibitors);
    f.publish(notice).await;
    let email = RecordingNotifier::new(Channel::Email);
    let limit = RateLimit::per_minute(6, 2).unwrap();
    let make = || {
        Dispatcher::new(f.service.clone())
            .with_notifier(email.clone())
            .with_config(
                DispatchConfig::default()
                    .with_batch(4)
                    .with_rate_limit(Channel::Email, limit),
            )
    };
    let (one, two) = (make(), make());
    let start = f.clock.now();
    let mut seen = Vec::new();
    for step in 0..8 {
        f.clock.set(start + Duration::seconds(10 * step));
        let d = if step % 2 == 0 { &one } else { &two };
        while d.dispatch_once().await.unwrap().sent > 0 {}
        let other = if step % 2 == 0 { &two } else { &one };
        other.dispatch_once().await.unwrap();
        seen.push(email.received().len());
    }
    assert_eq!(
        seen,
        vec![2, 3, 4, 5, 6, 7, 7, 7],
        "a burst of 2, then one per 10 s"
    );
    let mut keys: Vec<String> = email
        .received()
        .into_iter()
        .map(|r| r.message.idempotency_key)
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 7, "each once");
    for e in f.outbox().await {
        assert_eq!(e.state, OutboxState::Sent, "{e:?}");
        assert_eq!(
            e.attempts, 1,
            "the send that went is the only attempt; waiting spent none: {e:?}"
        );
    }
    // Idle, the limiter fills up to its burst again, no more.
    f.clock.set(start + Duration::minutes(10));
    let mut more = TaskConfig::manual(f.en.clone(), "Print your badge", Fixture::<S>::web());
    more.notify_on_publish = true;
    more.segment = Some(f.exhibitors);
    f.publish(more).await;
    while one.dispatch_once().await.unwrap().sent > 0 {}
    assert_eq!(email.received().len(), 9, "a burst of 2 after a long pause");
    let waiting = f
        .outbox()
        .await
        .into_iter()
        .filter(|e| e.state == OutboxState::Pending)
        .count();
    assert_eq!(waiting, 5);
}

/// N11: under a tight shared rate limit, a round sends in lane order across events: an
/// event's assignment claimed beside another event's publication notices takes the one
/// send the limit allows, and the notices wait for theirs.
pub async fn n11_sends_follow_the_lanes_across_events<S: DumpStore>(store: S) {
    let store = std::sync::Arc::new(store);
    let notices = Fixture::with_store(store.clone()).await;
    let handover = Fixture::with_store(store).await;
    let email_only = Channels {
        email: true,
        chat: false,
        web_push: false,
    };
    notices.channels(email_only).await;
    handover.channels(email_only).await;
    for name in ["ann", "bob", "cat"] {
        notices.participant(name, &["exhibitor"]).await;
    }
    let mut c = TaskConfig::manual(notices.en.clone(), "Upload your logo", Fixture::<S>::web());
    c.notify_on_publish = true;
    c.segment = Some(notices.exhibitors);
    notices.publish(c).await;
    let (owner, team) = handover.exhibitor_with_collaborator("acme").await;
    let task = handover.manual_task("Book your stand", None).await;
    handover
        .service
        .assign_task(
            &handover.as_participant(&owner),
            handover.event,
            owner.id,
            task.id,
            team.id,
        )
        .await
        .unwrap();
    let email = RecordingNotifier::new(Channel::Email);
    let d = Dispatcher::new(notices.service.clone())
        .with_notifier(email.clone())
        .with_config(
            DispatchConfig::default()
                .with_batch(10)
                .with_rate_limit(Channel::Email, RateLimit::per_minute(1, 1).unwrap()),
        );
    let r = d.dispatch_once().await.unwrap();
    assert_eq!((r.claimed, r.sent), (4, 1), "{r:?}");
    let sent = email.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].message.recipient, team.id,
        "the assignment went first"
    );
    assert!(sent[0].message.idempotency_key.starts_with("assignment"));
}
