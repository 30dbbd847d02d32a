//! Conformance checks for notices (N1, N2): the publication notice to a segment, and the
//! assignment notice.

use std::collections::{BTreeMap, BTreeSet};

use super::common::publish_config;
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// N1, N7: a publication notice goes once to every participant of the segment and only to
/// them; tasks published together give one notice listing them; a task published without
/// notice queues nothing.
pub async fn n1_publication_notice_only_to_segment<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut exhibitors = BTreeSet::new();
    let mut visitors = BTreeSet::new();
    for i in 0..10 {
        exhibitors.insert(f.participant(&format!("ex{i}"), &["exhibitor"]).await.id);
    }
    for i in 0..4 {
        visitors.insert(f.participant(&format!("vi{i}"), &["visitor"]).await.id);
    }
    let notifying = |name: &str, segment: Option<SegmentId>| {
        let mut c = TaskConfig::manual(f.en.clone(), name, Fixture::<S>::web());
        c.segment = segment;
        c.notify_on_publish = true;
        c
    };
    let logo = publish_config(&f, notifying("Upload your logo", Some(f.exhibitors))).await;
    let outbox = f.outbox().await;
    assert_eq!(
        outbox.len(),
        exhibitors.len(),
        "one notice per exhibitor: {outbox:#?}"
    );
    let recipients: BTreeSet<_> = outbox.iter().map(|e| e.recipient).collect();
    assert_eq!(recipients, exhibitors, "each exhibitor once, no visitor");
    for e in &outbox {
        assert_eq!(
            e.message,
            Notification::Publication {
                tasks: vec![logo.id]
            }
        );
        assert_eq!(e.event, f.event);
        assert_eq!(e.state, OutboxState::Pending);
    }
    let keys: BTreeSet<_> = outbox.iter().map(|e| e.idempotency_key.clone()).collect();
    assert_eq!(keys.len(), outbox.len(), "idempotency keys are distinct");

    // Two tasks published together: one notice per participant, listing what they get.
    let stand = f
        .service
        .create_task(
            &f.organizer,
            f.event,
            notifying("Book your stand", Some(f.exhibitors)),
        )
        .await
        .unwrap();
    let hotel = f
        .service
        .create_task(&f.organizer, f.event, notifying("Book your hotel", None))
        .await
        .unwrap();
    f.service
        .publish_tasks(&f.organizer, f.event, &[stand.id, hotel.id])
        .await
        .unwrap();
    let all = f.outbox().await;
    let new: Vec<&OutboxEntry> = all.iter().filter(|e| !outbox.contains(e)).collect();
    assert_eq!(
        new.len(),
        exhibitors.len() + visitors.len(),
        "one notice per participant: {new:#?}"
    );
    let mut per_recipient: BTreeMap<ParticipantId, Vec<&OutboxEntry>> = BTreeMap::new();
    for e in &new {
        per_recipient.entry(e.recipient).or_default().push(e);
    }
    for (who, entries) in &per_recipient {
        assert_eq!(entries.len(), 1, "grouped into one notice");
        let Notification::Publication { tasks } = &entries[0].message else {
            panic!("not a publication notice: {:?}", entries[0]);
        };
        let tasks: BTreeSet<_> = tasks.iter().copied().collect();
        if exhibitors.contains(who) {
            assert_eq!(
                tasks,
                BTreeSet::from([stand.id, hotel.id]),
                "both tasks listed"
            );
        } else {
            assert!(visitors.contains(who));
            assert_eq!(
                tasks,
                BTreeSet::from([hotel.id]),
                "only the task targeting them"
            );
        }
    }
    assert_eq!(per_recipient.len(), exhibitors.len() + visitors.len());

    // Without the option: nothing.
    let before = f.dump().await.outbox;
    let quiet = f.manual_task("Read the rules", None).await;
    assert!(!quiet.config.notify_on_publish);
    assert_eq!(
        f.dump().await.outbox,
        before,
        "a task published without notice queued something"
    );
    // Participants registered later are not notified of what was published before.
    f.participant("late", &["exhibitor"]).await;
    assert_eq!(
        f.dump().await.outbox,
        before,
        "a notice went to someone outside the publication"
    );
}

/// N2: every assignment notifies the assignee, with a distinct idempotency key each time;
/// taking back or re-assigning to the same holder queues nothing.
pub async fn n2_assignment_always_notifies<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let task = f.manual_task("Stand", Some(f.exhibitors)).await;
    assert!(!task.config.notify_on_publish);
    let as_owner = f.as_participant(&owner);
    assert!(f.outbox().await.is_empty());

    f.service
        .assign_task(&as_owner, f.event, owner.id, task.id, team.id)
        .await
        .unwrap();
    let first = f.outbox().await;
    assert_eq!(first.len(), 1, "{first:#?}");
    assert_eq!(first[0].recipient, team.id);
    assert_eq!(
        first[0].message,
        Notification::Assignment {
            task: task.id,
            owner: owner.id
        }
    );

    f.service
        .assign_task(&as_owner, f.event, owner.id, task.id, team.id)
        .await
        .unwrap();
    assert_eq!(
        f.outbox().await.len(),
        1,
        "assigning to the holder again changes nothing"
    );
    f.service
        .take_back_task(&as_owner, f.event, owner.id, task.id)
        .await
        .unwrap();
    assert_eq!(
        f.outbox().await.len(),
        1,
        "taking back queues no assignment notice"
    );

    f.service
        .assign_task(&as_owner, f.event, owner.id, task.id, team.id)
        .await
        .unwrap();
    let second = f.outbox().await;
    assert_eq!(
        second.len(),
        2,
        "a second assignment is notified again: {second:#?}"
    );
    assert!(second.iter().all(|e| e.recipient == team.id
        && e.message
            == Notification::Assignment {
                task: task.id,
                owner: owner.id
            }));
    assert_ne!(
        second[0].idempotency_key, second[1].idempotency_key,
        "distinct idempotency keys"
    );

    // An organizer assigning on the owner's behalf notifies too.
    let team2 = f.participant("acme-team2", &[]).await;
    f.service
        .link_collaborator(&f.organizer, f.event, owner.id, team2.id)
        .await
        .unwrap();
    f.service
        .assign_task(&f.organizer, f.event, owner.id, task.id, team2.id)
        .await
        .unwrap();
    let third = f.outbox().await;
    assert_eq!(third.len(), 3);
    let last = third.iter().find(|e| !second.contains(e)).unwrap();
    assert_eq!(last.recipient, team2.id);
    let keys: BTreeSet<_> = third.iter().map(|e| e.idempotency_key.clone()).collect();
    assert_eq!(keys.len(), 3);
}
