//! Conformance checks for the outbox's lanes (N11): a claim takes every due assignment
//! and review notice before any reminder, and every reminder before any publication
//! notice, whatever their age; within a lane, the earliest due first.

use chrono::Duration;

use crate::testkit::{DumpStore, Fixture};
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
