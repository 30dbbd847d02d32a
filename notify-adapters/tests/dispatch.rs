//! N4/N5 end to end: the dispatcher with the real adapters, against real peers on loopback
//! (an SMTP server, the host's chat webhook, a push service), on every store. What the
//! peers received is counted by idempotency key: with two reminder ticks and three
//! dispatchers racing, each notification arrives once per channel; a dispatcher killed after
//! the provider accepted a message and before it marked it yields one repeat at most, with
//! the same key.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use common::smtp::{Mail, smtp_server};
use common::{HttpPeer, Reply};
use mail_parser::MessageParser;
use p256::SecretKey;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use punchlist::store::DumpStore;
use punchlist::testkit::Fixture;
use punchlist::{
    Address, Channel, Channels, Clock, DispatchConfig, Dispatcher, ManualClock, Notifier,
    OutgoingMessage, PushSubscription, SendError, TaskConfig,
};
use punchlist_notify::{
    ChatNotifier, ChatWebhook, SmtpConfig, SmtpNotifier, SmtpTls, VapidKey, WebPushConfig,
    WebPushNotifier,
};
use sha2::{Digest, Sha256};

fn key(seed: &str) -> SecretKey {
    SecretKey::from_slice(&Sha256::digest(seed.as_bytes())).expect("a valid scalar")
}

/// The three peers and the adapters pointed at them.
struct Peers {
    mails: Arc<std::sync::Mutex<Vec<Mail>>>,
    chat: HttpPeer,
    push: HttpPeer,
    email: Arc<dyn Notifier>,
    chat_adapter: Arc<dyn Notifier>,
    push_adapter: Arc<dyn Notifier>,
}

async fn peers(event: punchlist::EventId) -> Peers {
    let (port, mails) = smtp_server();
    let chat = HttpPeer::start(vec![Reply::Status(200)]).await;
    let push = HttpPeer::start(vec![Reply::Status(201)]).await;
    let email = SmtpNotifier::new(
        SmtpConfig::new("127.0.0.1", port, SmtpTls::None, "tasks@expo.example")
            .with_timeout(StdDuration::from_secs(10)),
    )
    .expect("smtp");
    let mut hooks = HashMap::new();
    hooks.insert(
        event,
        ChatWebhook::new(chat.url("/hooks/punchlist"), "webhook secret"),
    );
    let chat_adapter = ChatNotifier::new(hooks).expect("chat");
    let vapid =
        VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode(key("vapid").to_bytes())).expect("vapid");
    let push_adapter = WebPushNotifier::new(
        WebPushConfig::new(vapid, "mailto:ops@expo.example")
            .with_timeout(StdDuration::from_secs(10))
            .allow_http_endpoints(true),
    )
    .expect("push");
    Peers {
        mails,
        chat,
        push,
        email: Arc::new(email),
        chat_adapter: Arc::new(chat_adapter),
        push_adapter: Arc::new(push_adapter),
    }
}

/// Every channel on; `n` participants reachable on all three.
async fn event_with_people<S: DumpStore>(f: &Fixture<S>, peers: &Peers, n: usize) {
    f.channels(Channels {
        email: true,
        chat: true,
        web_push: true,
    })
    .await;
    for i in 0..n {
        let p = f.participant(&format!("p{i}"), &["exhibitor"]).await;
        f.chat_handle(&p, &format!("@p{i}")).await;
        let browser = key(&format!("browser {i}"));
        let subscription = PushSubscription {
            endpoint: peers.push.url(&format!("/push/{i}")),
            p256dh: URL_SAFE_NO_PAD.encode(browser.public_key().to_encoded_point(false).as_bytes()),
            auth: URL_SAFE_NO_PAD.encode([i as u8; 16]),
        };
        f.service
            .add_push_subscription(&f.as_participant(&p), f.event, p.id, subscription)
            .await
            .unwrap();
    }
}

fn dispatcher<S: DumpStore>(
    f: &Fixture<S>,
    email: Arc<dyn Notifier>,
    peers: &Peers,
) -> Dispatcher<S, ManualClock> {
    Dispatcher::new(f.service.clone())
        .with_shared_notifier(email)
        .with_shared_notifier(peers.chat_adapter.clone())
        .with_shared_notifier(peers.push_adapter.clone())
        .with_config(
            DispatchConfig::default()
                .with_batch(4)
                .with_lease(Duration::seconds(60)),
        )
}

/// How many times each key arrived, per channel.
fn counts(peers: &Peers) -> [BTreeMap<String, usize>; 3] {
    let mut email = BTreeMap::new();
    for m in peers.mails.lock().unwrap().iter() {
        let parsed = MessageParser::default().parse(&m.raw).expect("a mail");
        let id = parsed.message_id().expect("Message-ID").to_owned();
        *email.entry(id).or_default() += 1;
    }
    let by = |peer: &HttpPeer, header: &str| {
        let mut out = BTreeMap::new();
        for r in peer.received() {
            *out.entry(r.header(header).expect("header").to_owned())
                .or_default() += 1;
        }
        out
    };
    [
        email,
        by(&peers.chat, "idempotency-key"),
        by(&peers.push, "topic"),
    ]
}

/// A notifier that delivers through the real one, then never returns: a dispatcher stuck
/// (or killed) after the provider accepted a message and before it marked it.
struct StallsAfterSending {
    inner: Arc<dyn Notifier>,
    sent: Arc<AtomicUsize>,
}

#[async_trait]
impl Notifier for StallsAfterSending {
    fn channel(&self) -> Channel {
        self.inner.channel()
    }

    async fn send(&self, to: &Address, message: &OutgoingMessage) -> Result<(), SendError> {
        self.inner.send(to, message).await?;
        self.sent.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
        Ok(())
    }
}

async fn scenario<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let peers = peers(f.event).await;
    event_with_people(&f, &peers, 5).await;

    // Publication notices (N1) and reminders (N3) from two racing ticks.
    let mut notice = TaskConfig::manual(f.en.clone(), "Upload your logo", Fixture::<S>::web());
    notice.notify_on_publish = true;
    notice.segment = Some(f.exhibitors);
    let mut due = TaskConfig::manual(f.en.clone(), "Book your stand", Fixture::<S>::web());
    due.deadline = Some(f.clock.now() + Duration::hours(20));
    for config in [notice, due] {
        f.publish(config).await;
    }
    let (a, b) = tokio::join!(
        f.service.tick_reminders(&punchlist::Actor::System, f.event),
        f.service.tick_reminders(&punchlist::Actor::System, f.event),
    );
    assert_eq!(a.unwrap().reminders + b.unwrap().reminders, 5);
    let entries = f.outbox().await;
    assert_eq!(entries.len(), 10, "5 notices and 5 reminders");

    // Three dispatchers racing.
    let mut handles = Vec::new();
    for _ in 0..3 {
        let d = dispatcher(&f, peers.email.clone(), &peers);
        handles.push(tokio::spawn(async move {
            loop {
                if d.dispatch_once().await.unwrap().claimed == 0 {
                    return;
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    for (channel, received) in ["email", "chat", "push"].iter().zip(counts(&peers)) {
        assert_eq!(
            received.len(),
            10,
            "{channel}: every entry arrived: {received:?}"
        );
        assert!(
            received.values().all(|n| *n == 1),
            "{channel}: each once: {received:?}"
        );
    }

    // A dispatcher stuck after the SMTP server accepted its first message: after its
    // lease another sends everything; the one message it got out arrives twice, with the
    // same Message-ID; nothing else repeats.
    let before = counts(&peers);
    let task = f.manual_task("Send your plan", None).await;
    f.service
        .remind_now(
            &f.organizer,
            f.event,
            task.id,
            punchlist::RemindTarget::AllIncomplete,
        )
        .await
        .unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let stuck: Arc<dyn Notifier> = Arc::new(StallsAfterSending {
        inner: peers.email.clone(),
        sent: sent.clone(),
    });
    // It claims the whole batch of five at once.
    let ghost = dispatcher(&f, stuck, &peers).with_config(
        DispatchConfig::default()
            .with_batch(10)
            .with_lease(Duration::seconds(60)),
    );
    let ghost = tokio::spawn(async move { ghost.dispatch_once().await });
    for _ in 0..500 {
        if sent.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    assert_eq!(
        sent.load(Ordering::SeqCst),
        1,
        "the stuck one sent one email"
    );
    let rescuer = dispatcher(&f, peers.email.clone(), &peers);
    assert_eq!(
        rescuer.dispatch_once().await.unwrap().claimed,
        0,
        "held while the lease runs"
    );
    f.clock.advance(Duration::seconds(61));
    while rescuer.dispatch_once().await.unwrap().claimed > 0 {}
    ghost.abort();
    let after = counts(&peers);
    let new = |i: usize| -> Vec<usize> {
        after[i]
            .iter()
            .filter(|(k, _)| !before[i].contains_key(*k))
            .map(|(_, n)| *n)
            .collect()
    };
    let mut email = new(0);
    email.sort();
    assert_eq!(
        email,
        vec![1, 1, 1, 1, 2],
        "one repeat, with the same Message-ID"
    );
    assert_eq!(new(1), vec![1; 5], "chat: once each");
    assert_eq!(new(2), vec![1; 5], "push: once each");
    for e in f.outbox().await {
        assert_eq!(e.state, punchlist::OutboxState::Sent, "{e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n5_end_to_end_once_per_channel_on_memory() {
    scenario(punchlist::MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n5_end_to_end_once_per_channel_on_redb() {
    scenario(
        punchlist_redb::RedbStore::open_async_temporary()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n5_end_to_end_once_per_channel_on_postgres() {
    let Some(url) =
        punchlist_sqlx::testing::database_url("n5_end_to_end_once_per_channel_on_postgres")
    else {
        return;
    };
    let store =
        punchlist_sqlx::testing::isolated_store(&url, punchlist_sqlx::PoolConfig::default()).await;
    scenario(store).await;
}

/// N11 end to end: a chat webhook that answers `429` with `Retry-After: 120` is tried again
/// when it asked, not after the dispatcher's 30-second backoff, and the wait spends no
/// attempt (even with a single attempt allowed); the channels that took the message are
/// not sent it twice.
async fn throttled<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut peers = peers(f.event).await;
    peers.chat = HttpPeer::start(vec![
        Reply::RetryAfter(429, "120"),
        Reply::RetryAfter(429, "120"),
        Reply::Status(200),
    ])
    .await;
    let mut hooks = HashMap::new();
    hooks.insert(
        f.event,
        ChatWebhook::new(peers.chat.url("/hooks/punchlist"), "webhook secret"),
    );
    peers.chat_adapter = Arc::new(ChatNotifier::new(hooks).expect("chat"));
    event_with_people(&f, &peers, 1).await;
    let task = f.manual_task("Send your plan", None).await;
    f.service
        .remind_now(
            &f.organizer,
            f.event,
            task.id,
            punchlist::RemindTarget::AllIncomplete,
        )
        .await
        .unwrap();
    let d = dispatcher(&f, peers.email.clone(), &peers).with_config(
        DispatchConfig::default()
            .with_max_attempts(1)
            .with_backoff(Duration::seconds(30), Duration::seconds(30)),
    );
    for round in 0..2 {
        let start = f.clock.now();
        assert_eq!(d.dispatch_once().await.unwrap().claimed, 1, "round {round}");
        let [entry] = f.outbox().await.try_into().expect("one entry");
        assert_eq!(entry.state, punchlist::OutboxState::Pending, "{entry:?}");
        assert_eq!(entry.attempts, 0, "a throttle spends no attempt");
        assert_eq!(entry.not_before, Some(start + Duration::seconds(120)));
        assert!(entry.last_error.as_deref().unwrap().contains("throttled"));
        f.clock.advance(Duration::seconds(60));
        assert_eq!(
            d.dispatch_once().await.unwrap().claimed,
            0,
            "not before 120 s"
        );
        f.clock.advance(Duration::seconds(60));
    }
    assert_eq!(d.dispatch_once().await.unwrap().sent, 1);
    let [entry] = f.outbox().await.try_into().expect("one entry");
    assert_eq!(entry.state, punchlist::OutboxState::Sent);
    assert_eq!(entry.attempts, 1);
    let [email, chat, push] = counts(&peers);
    assert_eq!(
        chat.values().sum::<usize>(),
        3,
        "two throttled tries, then sent"
    );
    assert_eq!(email.values().sum::<usize>(), 1, "email once");
    assert_eq!(push.values().sum::<usize>(), 1, "push once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n11_retry_after_is_honoured_on_memory() {
    throttled(punchlist::MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n11_retry_after_is_honoured_on_redb() {
    throttled(
        punchlist_redb::RedbStore::open_async_temporary()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n11_retry_after_is_honoured_on_postgres() {
    let Some(url) =
        punchlist_sqlx::testing::database_url("n11_retry_after_is_honoured_on_postgres")
    else {
        return;
    };
    let store =
        punchlist_sqlx::testing::isolated_store(&url, punchlist_sqlx::PoolConfig::default()).await;
    throttled(store).await;
}
