//! Conformance checks for the outbox (N5, N6): the delivery contract every store keeps for
//! the dispatcher — exclusive claims with leases, backoff, dead letters and their retry —
//! and messages rendered in the recipient's language.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;

use crate::store::StoreExt;
use crate::testkit::{DumpStore, Fixture, RecordingNotifier};
use crate::*;

/// Registers `n` participants and publishes a task with a publication notice to all of
/// them: `n` pending outbox entries.
async fn pending_entries<S: DumpStore>(f: &Fixture<S>, n: usize) -> Vec<OutboxEntry> {
    for i in 0..n {
        f.participant(&format!("p{i}"), &[]).await;
    }
    let mut config = TaskConfig::manual(f.en.clone(), "Book your hotel", Fixture::<S>::web());
    config.notify_on_publish = true;
    f.publish(config).await;
    let outbox = f.outbox().await;
    assert_eq!(outbox.len(), n);
    outbox
}

fn ids(entries: &[OutboxEntry]) -> BTreeSet<OutboxId> {
    entries.iter().map(|e| e.id).collect()
}

/// N5: a claim leases due entries to one dispatcher; another claim skips them while the
/// lease runs and takes them once it ended (a crashed dispatcher's entries come back); a
/// dispatcher that outlived its lease writes nothing back; a sent entry is never due again.
pub async fn n5_claims_are_leased_and_come_back_after_the_lease<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let all = pending_entries(&f, 3).await;
    let store = f.service.store();
    let now = f.clock.now();
    let lease = now + Duration::seconds(60);

    let a = store.claim_outbox("a", now, lease, 2).await.unwrap();
    assert_eq!(a.len(), 2, "limit respected");
    for e in &a {
        assert_eq!(
            e.lease.as_ref().map(|l| (l.owner.as_str(), l.until)),
            Some(("a", lease))
        );
        assert_eq!(e.due_at(), Some(lease), "due again when the lease ends");
    }
    let b = store.claim_outbox("b", now, lease, 10).await.unwrap();
    assert_eq!(b.len(), 1, "only the entry nobody holds");
    assert!(ids(&a).is_disjoint(&ids(&b)));
    assert!(
        store
            .claim_outbox("c", now, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "everything is held"
    );
    assert!(
        store
            .claim_outbox("c", now - Duration::hours(1), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing is due before it was created"
    );
    // The stored entries show the lease.
    let stored = f.outbox().await;
    assert!(stored.iter().all(|e| e.lease.is_some()));

    // "a" crashed: after its lease, "c" gets its entries (and b's, whose lease ended too).
    let later = lease + Duration::seconds(1);
    let c = store
        .claim_outbox("c", later, later + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(&c), ids(&all), "every expired lease came back");

    // "a" wakes up and reports: nothing is written, the entries are c's.
    let before = f.dump().await;
    let mut late = a.clone();
    for e in &mut late {
        e.state = OutboxState::Sent;
        e.lease = None;
        e.finished_at = Some(later);
    }
    assert!(store.release_outbox("a", late).await.unwrap().is_empty());
    assert_eq!(f.dump().await, before, "an outlived lease writes nothing");

    // "c" reports them sent: they are final.
    let mut sent = c.clone();
    for e in &mut sent {
        e.state = OutboxState::Sent;
        e.lease = None;
        e.attempts += 1;
        e.delivered.insert("email".into());
        e.finished_at = Some(later);
    }
    let written: BTreeSet<_> = store
        .release_outbox("c", sent.clone())
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(written, ids(&all));
    let far = later + Duration::days(365);
    assert!(
        store
            .claim_outbox("d", far, far + Duration::seconds(60), 10)
            .await
            .unwrap()
            .is_empty(),
        "a sent entry is never due again"
    );
    let stored = f.outbox().await;
    assert_eq!(stored.len(), 3);
    for e in &stored {
        assert_eq!(e.state, OutboxState::Sent);
        assert_eq!(e.due_at(), None);
        assert!(e.delivered.contains("email"));
        assert_eq!(e.attempts, 1);
    }
    // A second report of the same entries changes nothing: they are no longer held.
    assert!(store.release_outbox("c", sent).await.unwrap().is_empty());
}

/// N5: dispatchers claiming at the same time never get the same entry, and together they
/// get every entry once.
pub async fn n5_concurrent_claims_never_share_an_entry<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let all = pending_entries(&f, 24).await;
    let store: Arc<S> = f.service.store().clone();
    let now = f.clock.now();
    let mut handles = Vec::new();
    for d in 0..3 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let owner = format!("dispatcher-{d}");
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_outbox(&owner, now, now + Duration::minutes(5), 4)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                for e in &got {
                    assert_eq!(e.lease.as_ref().unwrap().owner, owner);
                }
                mine.extend(got.into_iter().map(|e| e.id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut claimed = Vec::new();
    for h in handles {
        claimed.extend(h.await.unwrap());
    }
    let distinct: BTreeSet<_> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), distinct.len(), "no entry claimed twice");
    assert_eq!(distinct, ids(&all), "every entry claimed");
}

/// The outbox filter for dead letters.
fn dead_only() -> OutboxFilter {
    OutboxFilter {
        state: Some(OutboxState::Dead),
        ..OutboxFilter::default()
    }
}

/// N5: a failed entry waits for the end of its backoff; a dead one is listed for the
/// organizer, can be put back in the queue, and leaves the list; other events are apart.
pub async fn n5_backoff_dead_letters_and_requeue<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let all = pending_entries(&f, 2).await;
    let store = f.service.store();
    let now = f.clock.now();
    let claimed = store
        .claim_outbox("a", now, now + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let (mut failed, mut dead) = (claimed[0].clone(), claimed[1].clone());
    failed.lease = None;
    failed.attempts = 1;
    failed.not_before = Some(now + Duration::minutes(10));
    failed.last_error = Some("temporary failure: 451".into());
    dead.lease = None;
    dead.attempts = 5;
    dead.state = OutboxState::Dead;
    dead.last_error = Some("permanent failure: 550 no such user".into());
    dead.finished_at = Some(now);
    let written: BTreeSet<_> = store
        .release_outbox("a", vec![failed.clone(), dead.clone()])
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(written, ids(&all));

    let soon = now + Duration::minutes(5);
    assert!(
        store
            .claim_outbox("b", soon, soon + Duration::seconds(60), 10)
            .await
            .unwrap()
            .is_empty(),
        "not before the end of the backoff, and never the dead one"
    );
    let after = now + Duration::minutes(11);
    let again = store
        .claim_outbox("b", after, after + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(&again), BTreeSet::from([failed.id]));
    assert_eq!(again[0].attempts, 1);
    assert_eq!(again[0].last_error, failed.last_error);

    let letters = store.outbox(f.event, &dead_only(), None, 10).await.unwrap();
    assert_eq!(letters, vec![dead.clone()], "the dead letter, as written");
    assert!(
        store
            .outbox(f.event, &dead_only(), Some(dead.id), 10)
            .await
            .unwrap()
            .is_empty(),
        "keyset paging"
    );
    let other = Fixture::with_store(store.clone()).await;
    assert!(
        store
            .outbox(other.event, &dead_only(), None, 10)
            .await
            .unwrap()
            .is_empty(),
        "another event's list is its own"
    );
    assert!(
        store
            .requeue_dead(other.event, &[dead.id], after)
            .await
            .unwrap()
            .is_empty(),
        "an event cannot requeue another's entries"
    );

    // Requeue: the dead one and the pending one are asked for; only the dead one moves.
    let requeued = store
        .requeue_dead(f.event, &[dead.id, failed.id], after)
        .await
        .unwrap();
    assert_eq!(requeued, vec![dead.id]);
    assert!(
        store
            .outbox(f.event, &dead_only(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let back = store
        .claim_outbox("c", after, after + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(ids(&back), BTreeSet::from([dead.id]), "due again at once");
    assert_eq!(back[0].state, OutboxState::Pending);
    assert_eq!(back[0].attempts, 0);
    assert_eq!(back[0].last_error, None);
}

/// A subscription whose keys have the right shapes (the recording notifier does not
/// encrypt).
fn subscription(n: u8) -> PushSubscription {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let mut key = vec![4u8];
    key.extend([n; 64]);
    PushSubscription {
        endpoint: format!("https://push.example/sub/{n}"),
        p256dh: b64(&key),
        auth: b64(&[n; 16]),
    }
}

/// Every channel on, and a recording adapter for each.
pub(super) async fn all_channels<S: DumpStore>(
    f: &Fixture<S>,
) -> (RecordingNotifier, RecordingNotifier, RecordingNotifier) {
    f.channels(Channels {
        email: true,
        chat: true,
        web_push: true,
    })
    .await;
    (
        RecordingNotifier::new(Channel::Email),
        RecordingNotifier::new(Channel::Chat),
        RecordingNotifier::new(Channel::WebPush),
    )
}

/// Gives `p` a chat handle and a web push subscription.
pub(super) async fn reachable<S: DumpStore>(f: &Fixture<S>, p: &Participant, n: u8) {
    f.chat_handle(p, &format!("@{}", p.external_id)).await;
    f.service
        .add_push_subscription(&f.as_participant(p), f.event, p.id, subscription(n))
        .await
        .unwrap();
}

pub(super) fn dispatcher<S: DumpStore>(
    f: &Fixture<S>,
    notifiers: &(RecordingNotifier, RecordingNotifier, RecordingNotifier),
) -> Dispatcher<S, ManualClock> {
    Dispatcher::new(f.service.clone())
        .with_notifier(notifiers.0.clone())
        .with_notifier(notifiers.1.clone())
        .with_notifier(notifiers.2.clone())
        .with_config(
            DispatchConfig::default()
                .with_batch(3)
                .with_max_attempts(3)
                .with_backoff(Duration::seconds(10), Duration::minutes(5)),
        )
}

/// N4, N5: three dispatchers racing send every entry once on every channel that reaches
/// its recipient, each send carrying the entry's idempotency key; the entries end sent.
pub async fn n5_racing_dispatchers_send_each_entry_once_per_channel<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let mut people = Vec::new();
    for i in 0..7u8 {
        let p = f.participant(&format!("p{i}"), &["exhibitor"]).await;
        if i % 2 == 0 {
            reachable(&f, &p, i).await;
        }
        people.push(p);
    }
    let mut config = TaskConfig::manual(f.en.clone(), "Upload your logo", Fixture::<S>::web());
    config.notify_on_publish = true;
    config.segment = Some(f.exhibitors);
    let t = f
        .service
        .create_task(&f.organizer, f.event, config)
        .await
        .unwrap();
    f.service
        .publish_task(&f.organizer, f.event, t.id)
        .await
        .unwrap();
    let entries = f.outbox().await;
    assert_eq!(entries.len(), 7);

    let mut handles = Vec::new();
    for _ in 0..3 {
        let d = dispatcher(&f, &notifiers);
        handles.push(tokio::spawn(async move {
            loop {
                let r = d.dispatch_once().await.unwrap();
                assert_eq!(r.lost, 0, "{r:?}");
                if r.claimed == 0 {
                    return;
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let (email, chat, push) = (
        notifiers.0.received(),
        notifiers.1.received(),
        notifiers.2.received(),
    );
    assert_eq!(email.len(), 7, "everyone has an email");
    assert_eq!(chat.len(), 4, "four have a chat handle");
    assert_eq!(push.len(), 4, "four have a subscription");
    for channel in [&email, &chat, &push] {
        let keys: BTreeSet<_> = channel
            .iter()
            .map(|r| r.message.idempotency_key.clone())
            .collect();
        assert_eq!(keys.len(), channel.len(), "each entry once per channel");
    }
    let by_id: std::collections::BTreeMap<_, _> =
        entries.iter().map(|e| (e.id, e.clone())).collect();
    for r in email.iter().chain(&chat).chain(&push) {
        let e = &by_id[&r.message.outbox];
        assert_eq!(r.message.idempotency_key, e.idempotency_key);
        assert_eq!(r.message.recipient, e.recipient);
        assert!(
            r.message.subject.contains("Upload your logo"),
            "{:?}",
            r.message
        );
        assert_eq!(r.message.link.as_deref(), Some("https://expo.example/help"));
    }
    for e in f.outbox().await {
        assert_eq!(e.state, OutboxState::Sent, "{e:?}");
        assert_eq!(e.lease, None);
    }
}

/// N5: a failing channel is retried after its backoff without repeating the channels
/// that worked; after the last attempt the entry is a dead letter the organizer lists
/// and sends again; a push subscription the push service says is gone is removed.
pub async fn n5_retries_backoff_dead_letters_and_gone_subscriptions<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let ann = f.participant("ann", &[]).await;
    reachable(&f, &ann, 1).await;
    let bob = f.participant("bob", &[]).await;
    let d = dispatcher(&f, &notifiers);
    let task = f.manual_task("Book your stand", None).await;
    f.service
        .remind_now(
            &f.organizer,
            f.event,
            task.id,
            RemindTarget::Participant(ann.id),
        )
        .await
        .unwrap();
    notifiers
        .1
        .always(Some(Err(SendError::Transient("503".into()))));
    notifiers.2.then([Err(SendError::Gone("410".into()))]);

    let r = d.dispatch_once().await.unwrap();
    assert_eq!(
        (r.claimed, r.retrying, r.gone_subscriptions),
        (1, 1, 1),
        "{r:?}"
    );
    assert_eq!(notifiers.0.received().len(), 1, "the email went");
    let state = f
        .service
        .store()
        .participant(f.event, ann.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        state.participant.push_subscriptions.is_empty(),
        "gone: removed"
    );
    let history = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            ann.id,
            &HistoryFilter::default(),
            100,
        )
        .await
        .unwrap();
    assert!(
        history.iter().all(|h| !h.field.contains("push")),
        "subscriptions stay out of the history: {history:?}"
    );

    // Not before the backoff; then again, chat only; then dead.
    assert_eq!(d.dispatch_once().await.unwrap().claimed, 0, "backing off");
    for attempt in 2..=3 {
        f.clock.advance(Duration::minutes(6));
        let r = d.dispatch_once().await.unwrap();
        assert_eq!(r.claimed, 1, "attempt {attempt}");
    }
    assert_eq!(
        notifiers.0.received().len(),
        1,
        "the email is never repeated"
    );
    assert_eq!(notifiers.1.attempts(), 3);
    f.clock.advance(Duration::hours(1));
    assert_eq!(
        d.dispatch_once().await.unwrap().claimed,
        0,
        "dead: never due"
    );
    let e = f
        .service
        .dead_letters(&f.as_participant(&ann), f.event, None, 10)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .dead_letters(&f.organizer, f.event, None, crate::limits::PAGE + 1)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("limit"));
    let dead = f
        .service
        .dead_letters(&f.organizer, f.event, None, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    assert!(dead[0].last_error.as_deref().unwrap_or("").contains("503"));

    // The organizer sends it again once the chat works: only the chat goes out.
    notifiers.1.always(None);
    let requeued = f
        .service
        .retry_dead_letters(&f.organizer, f.event, &[dead[0].id])
        .await
        .unwrap();
    assert_eq!(requeued, vec![dead[0].id]);
    let r = d.dispatch_once().await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    assert_eq!(notifiers.0.received().len(), 1);
    assert_eq!(notifiers.1.received().len(), 1);
    assert!(
        f.service
            .dead_letters(&f.organizer, f.event, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Bob has no chat, no push, and email fails for good: a dead letter at once.
    notifiers
        .0
        .then([Err(SendError::Permanent("550 no such user".into()))]);
    f.service
        .remind_now(
            &f.organizer,
            f.event,
            task.id,
            RemindTarget::Participant(bob.id),
        )
        .await
        .unwrap();
    let r = d.dispatch_once().await.unwrap();
    assert_eq!(r.dead, 1, "{r:?}");
}

/// N5: a dispatcher that dies after claiming holds its entries only until its lease
/// ends; another then sends them, once.
pub async fn n5_a_dead_dispatchers_claims_are_sent_after_its_lease<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let notifiers = all_channels(&f).await;
    let entries = pending_entries(&f, 4).await;
    let now = f.clock.now();
    // The dead one claimed and never came back.
    let ghost = f
        .service
        .store()
        .claim_outbox("ghost", now, now + Duration::minutes(5), 10)
        .await
        .unwrap();
    assert_eq!(ghost.len(), 4);
    let d = dispatcher(&f, &notifiers);
    assert_eq!(
        d.dispatch_once().await.unwrap().claimed,
        0,
        "held by the ghost"
    );
    f.clock.advance(Duration::minutes(5) + Duration::seconds(1));
    let mut sent = 0;
    loop {
        let r = d.dispatch_once().await.unwrap();
        if r.claimed == 0 {
            break;
        }
        sent += r.sent;
    }
    assert_eq!(sent, 4);
    let keys: BTreeSet<_> = notifiers
        .0
        .received()
        .into_iter()
        .map(|r| r.message.idempotency_key)
        .collect();
    assert_eq!(
        keys,
        entries.iter().map(|e| e.idempotency_key.clone()).collect()
    );
    assert_eq!(notifiers.0.received().len(), 4, "once each");
}
