//! Conformance checks for the online status (R13): from the host's pings, on the injected
//! clock, for one participant and over all registrants.

use std::sync::Arc;

use chrono::Duration;

use super::common::{action, everything};
use crate::testkit::{DumpStore, Fixture, Interleaving};
use crate::*;

/// R13: the status follows the pings and the thresholds on the injected clock; the first
/// ping puts "first login" on the timeline once; pings are not history and most write
/// nothing (a repeated ping touches no store; another instance finds the stored time
/// fresh and writes nothing); the registrants list filters by status and pages; X2 rules.
pub async fn r13_online_status_from_pings<S: DumpStore>(store: S) {
    let store = Arc::new(Interleaving::new(Arc::new(store)));
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store.clone()).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    let cid = f.participant("cid", &["exhibitor"]).await;
    let dan = f.participant("dan", &["exhibitor"]).await;
    let status = |p: &Participant| {
        let f = &f;
        let id = p.id;
        async move {
            f.service
                .online_status(&f.organizer, f.event, id)
                .await
                .unwrap()
                .status
        }
    };
    assert_eq!(status(&ann).await, OnlineStatus::NeverConnected);

    // The first ping: active, and "first login" on the timeline.
    let before = f.dump().await;
    f.service
        .ping(&Actor::System, f.event, ann.id, LoginChannel::Web)
        .await
        .unwrap();
    let presence = f
        .service
        .online_status(&f.as_participant(&ann), f.event, ann.id)
        .await
        .unwrap();
    assert_eq!(presence.status, OnlineStatus::Active);
    assert_eq!(presence.last_seen, Some(f.clock.now()));
    let logins = |dump: &testkit::EventDump| {
        dump.timeline
            .iter()
            .filter(|e| e.participant == ann.id && e.kind.action_kind() == ActionKind::FirstLogin)
            .count()
    };
    let after_first = f.dump().await;
    assert_eq!(logins(&after_first), 1);
    assert_eq!(after_first.history, before.history, "pings are not history");

    // Pinged again within half the threshold: no store call at all.
    f.clock.advance(Duration::seconds(20));
    let calls = store.calls();
    f.service
        .ping(&f.as_participant(&ann), f.event, ann.id, LoginChannel::App)
        .await
        .unwrap();
    assert_eq!(store.calls(), calls, "answered from the service's memory");
    // Another instance (its own memory) reads the fresh stored time and writes nothing.
    let second: Punchlist<Interleaving<S>, ManualClock> =
        Punchlist::new(store.clone(), f.clock.clone());
    let commits = store.commits();
    second
        .ping(&Actor::System, f.event, ann.id, LoginChannel::App)
        .await
        .unwrap();
    assert_eq!(store.commits(), commits, "another instance found it fresh");
    assert_eq!(
        f.dump().await,
        after_first,
        "nothing written between the two"
    );

    // Past half the threshold: the time is written again, no second first login.
    f.clock.advance(Duration::seconds(45));
    second
        .ping(&Actor::System, f.event, ann.id, LoginChannel::App)
        .await
        .unwrap();
    let later = f.dump().await;
    assert_eq!(logins(&later), 1);
    assert_eq!(later.history, before.history);
    let seen = |dump: &testkit::EventDump| {
        dump.participants
            .iter()
            .find(|s| s.participant.id == ann.id)
            .and_then(|s| s.facts.last_seen)
    };
    assert_eq!(seen(&later), Some(f.clock.now()));

    // The thresholds on the clock: 2 minutes active, up to 15 a few minutes.
    f.service
        .ping(&Actor::System, f.event, bob.id, LoginChannel::App)
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(3));
    assert_eq!(status(&ann).await, OnlineStatus::RecentlyInactive);
    f.service
        .ping(&Actor::System, f.event, cid.id, LoginChannel::Web)
        .await
        .unwrap();
    f.clock.advance(Duration::minutes(13));
    assert_eq!(status(&ann).await, OnlineStatus::Inactive);
    assert_eq!(status(&cid).await, OnlineStatus::RecentlyInactive);
    // The host reported Dan's first login itself: the first ping adds no second one.
    f.service
        .report_actions(
            &Actor::System,
            f.event,
            vec![action(
                "dan-login",
                &dan,
                f.clock.now() - Duration::minutes(1),
                TimelineKind::FirstLogin {
                    channel: LoginChannel::App,
                },
            )],
        )
        .await
        .unwrap();
    f.service
        .ping(&Actor::System, f.event, dan.id, LoginChannel::Web)
        .await
        .unwrap();
    assert_eq!(status(&dan).await, OnlineStatus::Active);
    let dan_logins = everything(&f, &dan)
        .await
        .iter()
        .filter(|e| e.kind.action_kind() == ActionKind::FirstLogin)
        .count();
    assert_eq!(dan_logins, 1);
    // Thresholds of another configuration read the same times differently.
    let strict: Punchlist<Interleaving<S>, ManualClock> =
        Punchlist::new(store.clone(), f.clock.clone()).with_config(
            Config::default().with_presence(
                PresenceThresholds::new(Duration::seconds(30), Duration::hours(1)).unwrap(),
            ),
        );
    let p = strict
        .online_status(&f.organizer, f.event, ann.id)
        .await
        .unwrap();
    assert_eq!(p.status, OnlineStatus::RecentlyInactive);

    // The registrants list: every status, filtered, paged.
    let page = f
        .service
        .registrants(&f.organizer, f.event, None, None, 100)
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 4);
    assert_eq!(page.next, None);
    let by_status = |s: OnlineStatus| {
        let f = &f;
        async move {
            f.service
                .registrants(&f.organizer, f.event, Some(s), None, 100)
                .await
                .unwrap()
                .rows
                .into_iter()
                .map(|r| r.participant.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(by_status(OnlineStatus::Active).await, [dan.id]);
    assert_eq!(by_status(OnlineStatus::RecentlyInactive).await, [cid.id]);
    let mut inactive = by_status(OnlineStatus::Inactive).await;
    inactive.sort();
    let mut expected = vec![ann.id, bob.id];
    expected.sort();
    assert_eq!(inactive, expected);
    assert!(by_status(OnlineStatus::NeverConnected).await.is_empty());
    let first = f
        .service
        .registrants(&f.organizer, f.event, Some(OnlineStatus::Inactive), None, 1)
        .await
        .unwrap();
    assert_eq!(first.rows.len(), 1);
    let rest = f
        .service
        .registrants(
            &f.organizer,
            f.event,
            Some(OnlineStatus::Inactive),
            first.next,
            1,
        )
        .await
        .unwrap();
    assert_eq!(rest.rows.len(), 1);
    assert_ne!(rest.rows[0].participant.id, first.rows[0].participant.id);
    let end = f
        .service
        .registrants(
            &f.organizer,
            f.event,
            Some(OnlineStatus::Inactive),
            rest.next,
            1,
        )
        .await
        .unwrap();
    assert!(end.rows.is_empty() && end.next.is_none());

    // X2: a participant pings and reads only themselves; the list is the organizers'.
    let before = f.dump().await;
    let e = f
        .service
        .ping(&f.as_participant(&ann), f.event, bob.id, LoginChannel::Web)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .online_status(&f.as_participant(&ann), f.event, bob.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .registrants(&f.as_participant(&ann), f.event, None, None, 10)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .registrants(&other.organizer, f.event, None, None, 10)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = f
        .service
        .ping(&other.organizer, f.event, ann.id, LoginChannel::Web)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = f
        .service
        .ping(
            &Actor::System,
            f.event,
            ParticipantId::new_at(f.clock.now()),
            LoginChannel::Web,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        Error::NotFound {
            entity: "participant",
            ..
        }
    ));
    assert_eq!(f.dump().await, before, "refused calls write nothing");
}
