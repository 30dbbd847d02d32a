//! Conformance checks for messages (R7): one thread per participant with the organizers,
//! and each side's unread count.

use std::sync::Arc;

use chrono::Duration;

use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// R7: one thread per participant between them and the organizers; each side's unread
/// count moves with the messages and the read receipts, in the same transaction; pages
/// newest first; X2 (another participant, another event, the host has no voice) and X5.
pub async fn r7_messages_thread_and_unread_counts<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    let me = f.as_participant(&ann);
    let page = |actor: Actor, before: Option<MessageId>, limit: usize| {
        let f = &f;
        let id = ann.id;
        async move {
            f.service
                .messages(&actor, f.event, id, before, limit)
                .await
                .unwrap()
        }
    };
    assert_eq!(page(me.clone(), None, 10).await.messages.len(), 0);
    for (i, text) in ["Where is my badge?", "  And the parking?  "]
        .iter()
        .enumerate()
    {
        f.clock.advance(Duration::minutes(i as i64 + 1));
        f.service
            .send_message(&me, f.event, ann.id, text)
            .await
            .unwrap();
    }
    f.clock.advance(Duration::minutes(5));
    let reply = f
        .service
        .send_message(&f.organizer, f.event, ann.id, "At the desk, hall A.")
        .await
        .unwrap();
    assert_eq!(reply.sender, f.organizer);
    let staff = page(f.organizer.clone(), None, 10).await;
    assert_eq!(staff.unread, 2, "two from the participant");
    let bodies: Vec<_> = staff.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "At the desk, hall A.",
            "And the parking?",
            "Where is my badge?"
        ],
        "newest first, trimmed"
    );
    assert_eq!(page(me.clone(), None, 10).await.unread, 1);
    // Pages by keyset.
    let first = page(me.clone(), None, 2).await;
    let rest = page(me.clone(), first.messages.last().map(|m| m.id), 2).await;
    assert_eq!(first.messages.len(), 2);
    assert_eq!(rest.messages.len(), 1);
    assert_eq!(rest.messages[0].body, "Where is my badge?");
    // Read receipts, per side; nothing to mark writes nothing.
    f.service
        .mark_messages_read(&f.organizer, f.event, ann.id)
        .await
        .unwrap();
    assert_eq!(page(f.organizer.clone(), None, 1).await.unread, 0);
    assert_eq!(page(me.clone(), None, 1).await.unread, 1);
    let before = f.dump().await;
    f.service
        .mark_messages_read(&f.organizer, f.event, ann.id)
        .await
        .unwrap();
    assert_eq!(f.dump().await, before);
    f.service
        .mark_messages_read(&me, f.event, ann.id)
        .await
        .unwrap();
    assert_eq!(page(me.clone(), None, 1).await.unread, 0);

    // Refusals write nothing.
    let before = f.dump().await;
    let as_bob = f.as_participant(&bob);
    for e in [
        f.service
            .send_message(&as_bob, f.event, ann.id, "hi")
            .await
            .unwrap_err(),
        f.service
            .messages(&as_bob, f.event, ann.id, None, 10)
            .await
            .unwrap_err(),
        f.service
            .mark_messages_read(&as_bob, f.event, ann.id)
            .await
            .unwrap_err(),
        f.service
            .send_message(&Actor::System, f.event, ann.id, "hi")
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    }
    let e = f
        .service
        .messages(&other.organizer, f.event, ann.id, None, 10)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    for bad in ["   ", &"x".repeat(crate::limits::MESSAGE_CHARS + 1)] {
        let e = f
            .service
            .send_message(&me, f.event, ann.id, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("body"));
    }
    assert_eq!(f.dump().await, before, "refused calls write nothing");
}
