//! Conformance checks, group E: the participant's record beyond tasks (R5–R13, X6).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{DumpStore, Fixture, Interleaving};
use crate::*;

fn action(id: &str, p: &Participant, at: DateTime<Utc>, kind: TimelineKind) -> HostAction {
    HostAction {
        id: HostEventId::new(id).unwrap(),
        participant: p.id.into(),
        occurred_at: at,
        kind,
    }
}

fn email(id: &str) -> ExternalId {
    ExternalId::new(id).unwrap()
}

async fn everything<S: DumpStore>(f: &Fixture<S>, p: &Participant) -> Vec<TimelineEntry> {
    f.service
        .timeline(
            &f.organizer,
            f.event,
            p.id,
            &TimelineFilter::default(),
            1_000,
        )
        .await
        .expect("timeline")
}

/// R5: the host's actions land on the timeline at the time they happened, once per id
/// (one id space with facts, X3), each checked on its own (X5); the valid ones of a report
/// are written together, the others write nothing.
pub async fn r5_host_actions_land_once_in_time_order_and_are_checked<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let acme = f.participant("acme", &["exhibitor"]).await;
    f.fact("shared-id", &ann, HostFact::LogoUploaded).await;
    f.clock.advance(Duration::minutes(1));
    let now = f.clock.now();
    let report = vec![
        action(
            "login",
            &ann,
            now - Duration::hours(1),
            TimelineKind::FirstLogin {
                channel: LoginChannel::App,
            },
        ),
        // Reported after, happened before: lands below the login.
        action(
            "mail-1",
            &ann,
            now - Duration::days(2),
            TimelineKind::EmailReceived {
                email: email("invite"),
            },
        ),
        action(
            "scan-1",
            &ann,
            now - Duration::minutes(30),
            TimelineKind::Scanned {
                place: ScanPlace::Partner { partner: acme.id },
            },
        ),
        action(
            "bookmark-1",
            &ann,
            now,
            TimelineKind::ExhibitorBookmarked { exhibitor: acme.id },
        ),
        // The same id twice in one report: the second is a duplicate.
        action(
            "login",
            &ann,
            now,
            TimelineKind::FirstLogin {
                channel: LoginChannel::Web,
            },
        ),
        // An id a fact already used.
        action(
            "shared-id",
            &ann,
            now,
            TimelineKind::SurveyAnswered {
                survey: email("nps"),
            },
        ),
        // Written by the library only.
        action(
            "forged",
            &ann,
            now,
            TimelineKind::TaskCompleted {
                task: TaskId::new_at(now),
            },
        ),
        // Naming oneself as the other party.
        action(
            "self",
            &ann,
            now,
            TimelineKind::ContactRequestSent { to: ann.id },
        ),
        // Too far in the future.
        action(
            "future",
            &ann,
            now + Duration::hours(1),
            TimelineKind::BadgePrinted {
                place: BadgePlace::OnSite,
            },
        ),
        // An unknown participant, and an unknown one named in the action.
        HostAction {
            participant: ParticipantId::new_at(now).into(),
            ..action(
                "nobody",
                &ann,
                now,
                TimelineKind::EmailOpened {
                    email: email("invite"),
                },
            )
        },
        action(
            "ghost-partner",
            &ann,
            now,
            TimelineKind::ContactRequestReceived {
                from: ParticipantId::new_at(now),
            },
        ),
    ];
    let results = f
        .service
        .report_actions(&Actor::System, f.event, report.clone())
        .await
        .unwrap();
    let outcome = |i: usize| results[i].as_ref().map(|o| *o);
    assert_eq!(outcome(0).unwrap(), IngestOutcome::Applied);
    assert_eq!(outcome(1).unwrap(), IngestOutcome::Applied);
    assert_eq!(outcome(2).unwrap(), IngestOutcome::Applied);
    assert_eq!(outcome(3).unwrap(), IngestOutcome::Applied);
    assert_eq!(outcome(4).unwrap(), IngestOutcome::Duplicate);
    assert_eq!(outcome(5).unwrap(), IngestOutcome::Duplicate);
    assert_eq!(outcome(6).unwrap_err().field(), Some("kind"));
    assert_eq!(outcome(7).unwrap_err().field(), Some("kind"));
    assert_eq!(outcome(8).unwrap_err().field(), Some("occurred_at"));
    assert!(matches!(
        outcome(9).unwrap_err(),
        Error::NotFound {
            entity: "participant",
            ..
        }
    ));
    assert!(matches!(
        outcome(10).unwrap_err(),
        Error::NotFound {
            entity: "participant",
            ..
        }
    ));

    let kinds: Vec<ActionKind> = everything(&f, &ann)
        .await
        .iter()
        .map(|e| e.kind.action_kind())
        .collect();
    assert_eq!(
        kinds,
        [
            ActionKind::ExhibitorBookmarked,
            ActionKind::Registered,
            ActionKind::Scanned,
            ActionKind::FirstLogin,
            ActionKind::EmailReceived,
        ],
        "newest first, by the time each happened"
    );
    let first_login = everything(&f, &ann)
        .await
        .into_iter()
        .find(|e| e.kind.action_kind() == ActionKind::FirstLogin)
        .unwrap();
    assert_eq!(first_login.at, now - Duration::hours(1));
    assert_eq!(first_login.actor, Actor::System);
    assert_eq!(
        first_login.kind,
        TimelineKind::FirstLogin {
            channel: LoginChannel::App
        },
        "the first report of an id wins"
    );

    // Reported again: every item is a duplicate or the same error, and nothing moves.
    let before = f.dump().await;
    let again = f
        .service
        .report_actions(&Actor::System, f.event, report)
        .await
        .unwrap();
    assert!(
        again[..6]
            .iter()
            .all(|r| matches!(r, Ok(IngestOutcome::Duplicate)))
    );
    assert!(again[6..].iter().all(Result::is_err));
    assert_eq!(f.dump().await, before, "a repeated report writes nothing");

    // Who may report, and how much at once.
    let one = vec![action(
        "late",
        &ann,
        now,
        TimelineKind::EmailOpened {
            email: email("invite"),
        },
    )];
    let e = f
        .service
        .report_actions(&f.as_participant(&ann), f.event, one.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .report_actions(&other.organizer, f.event, one.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let too_many = vec![one[0].clone(); crate::limits::ACTIONS + 1];
    let e = f
        .service
        .report_actions(&f.organizer, f.event, too_many)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("actions"));
    assert_eq!(f.dump().await, before, "refused reports write nothing");
    // The organizers may report too.
    let r = f
        .service
        .report_actions(&f.organizer, f.event, one)
        .await
        .unwrap();
    assert_eq!(r[0].as_ref().unwrap(), &IngestOutcome::Applied);
}

/// R5: filters by kinds and by a date range (inclusive, to the millisecond), pages by
/// keyset cursor without repeats or gaps; the library's own actions are there (networking
/// switched on and off through the record, R2).
pub async fn r5_timeline_filters_by_kind_and_dates_and_pages<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let start = f.clock.now() - Duration::days(10);
    let mut report = Vec::new();
    for day in 0..10 {
        let at = start + Duration::days(day);
        report.push(action(
            &format!("mail-{day}"),
            &ann,
            at,
            TimelineKind::EmailOpened {
                email: email(&format!("news-{day}")),
            },
        ));
        report.push(action(
            &format!("zone-{day}"),
            &ann,
            at + Duration::hours(1),
            TimelineKind::Scanned {
                place: ScanPlace::Zone {
                    zone: email("hall-a"),
                },
            },
        ));
    }
    f.service
        .report_actions(&Actor::System, f.event, report)
        .await
        .unwrap()
        .into_iter()
        .for_each(|r| assert_eq!(r.unwrap(), IngestOutcome::Applied));
    // Networking on, then off: two library actions by the organizer.
    for networking in [Networking::Allowed, Networking::NotAllowed] {
        let mut status = ann.status.clone();
        status.networking = networking;
        f.service
            .update_participant(
                &f.organizer,
                f.event,
                ann.id,
                ParticipantPatch {
                    status: status.into(),
                    ..ParticipantPatch::default()
                },
            )
            .await
            .unwrap();
        f.clock.advance(Duration::seconds(1));
    }
    let all = everything(&f, &ann).await;
    assert_eq!(
        all.len(),
        23,
        "20 reported, registered, networking on and off"
    );
    assert!(
        all.windows(2)
            .all(|w| w[0].id > w[1].id && w[0].at >= w[1].at)
    );
    assert_eq!(all[0].kind, TimelineKind::NetworkingDisabled);
    assert_eq!(all[1].kind, TimelineKind::NetworkingEnabled);
    assert_eq!(all[0].actor, f.organizer);

    let read = |filter: TimelineFilter, limit: usize| {
        let f = &f;
        let ann = &ann;
        async move {
            f.service
                .timeline(&f.organizer, f.event, ann.id, &filter, limit)
                .await
                .unwrap()
        }
    };
    // Kinds.
    let mails = read(
        TimelineFilter {
            kinds: [ActionKind::EmailOpened].into(),
            ..TimelineFilter::default()
        },
        100,
    )
    .await;
    assert_eq!(mails.len(), 10);
    assert!(
        mails
            .iter()
            .all(|e| e.kind.action_kind() == ActionKind::EmailOpened)
    );
    let two_kinds = read(
        TimelineFilter {
            kinds: [ActionKind::NetworkingEnabled, ActionKind::Registered].into(),
            ..TimelineFilter::default()
        },
        100,
    )
    .await;
    assert_eq!(two_kinds.len(), 2);
    // Dates: both ends inclusive.
    let window = read(
        TimelineFilter {
            from: Some(start + Duration::days(2)),
            until: Some(start + Duration::days(4)),
            ..TimelineFilter::default()
        },
        100,
    )
    .await;
    let at: Vec<_> = window.iter().map(|e| e.at).collect();
    assert_eq!(
        at,
        [
            start + Duration::days(4),
            start + Duration::days(3) + Duration::hours(1),
            start + Duration::days(3),
            start + Duration::days(2) + Duration::hours(1),
            start + Duration::days(2),
        ]
    );
    // Kinds and dates together, paged by two.
    let mut filter = TimelineFilter {
        kinds: [ActionKind::Scanned].into(),
        from: Some(start + Duration::days(1)),
        until: Some(start + Duration::days(8)),
        before: None,
    };
    let mut pages = Vec::new();
    loop {
        let page = read(filter.clone(), 2).await;
        let Some(last) = page.last() else { break };
        filter.before = Some(last.id);
        let short = page.len() < 2;
        pages.push(page);
        if short {
            break;
        }
    }
    let walked: Vec<_> = pages.iter().flatten().map(|e| e.at).collect();
    let expected: Vec<_> = (1..8)
        .rev()
        .map(|d| start + Duration::days(d) + Duration::hours(1))
        .collect();
    assert_eq!(walked, expected, "no repeat, no gap, newest first");
    assert!(pages.iter().all(|p| p.len() <= 2));

    // A reversed range is refused, naming the field.
    let e = f
        .service
        .timeline(
            &f.organizer,
            f.event,
            ann.id,
            &TimelineFilter {
                from: Some(start + Duration::days(3)),
                until: Some(start),
                ..TimelineFilter::default()
            },
            10,
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("from"));
}

/// R5, X2: the participant reads and exports their own timeline; another participant of
/// the event is refused; another event's organizer finds nothing. The CSV export has the
/// filter's entries, newest first, dates in the event's time zone, and the details as
/// JSON (a host's id that looks like a formula stays inside it; the history's export
/// shows neutralisation, r12).
pub async fn r5_timeline_access_and_csv_export<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    let now = f.clock.now();
    f.service
        .report_actions(
            &Actor::System,
            f.event,
            vec![
                action(
                    "m1",
                    &ann,
                    now - Duration::hours(2),
                    TimelineKind::EmailClicked {
                        email: email("=HYPERLINK(\"x\")"),
                    },
                ),
                action(
                    "b1",
                    &ann,
                    now - Duration::hours(1),
                    TimelineKind::BadgePrinted {
                        place: BadgePlace::SelfService,
                    },
                ),
            ],
        )
        .await
        .unwrap();
    let mine = f
        .service
        .timeline(
            &f.as_participant(&ann),
            f.event,
            ann.id,
            &TimelineFilter::default(),
            10,
        )
        .await
        .unwrap();
    assert_eq!(mine.len(), 3);
    let e = f
        .service
        .timeline(
            &f.as_participant(&bob),
            f.event,
            ann.id,
            &TimelineFilter::default(),
            10,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .timeline(
            &other.organizer,
            f.event,
            ann.id,
            &TimelineFilter::default(),
            10,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = f
        .service
        .export_timeline_csv(
            &f.as_participant(&bob),
            f.event,
            ann.id,
            &TimelineFilter::default(),
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");

    let mut out = Vec::new();
    let written = f
        .service
        .export_timeline_csv(
            &f.as_participant(&ann),
            f.event,
            ann.id,
            &TimelineFilter {
                kinds: [ActionKind::EmailClicked, ActionKind::BadgePrinted].into(),
                ..TimelineFilter::default()
            },
            &mut out,
        )
        .await
        .unwrap();
    assert_eq!(written, 2);
    let text = String::from_utf8(out).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rows.headers().unwrap().iter().collect::<Vec<_>>(),
        ["at", "kind", "by", "details"]
    );
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    // 09:00 UTC on 1 March is 10:00 in Paris.
    assert_eq!(&rows[0][0], "2026-03-01T09:00:00+01:00");
    assert_eq!(&rows[0][1], "badge_printed");
    assert_eq!(&rows[0][2], "system");
    assert_eq!(&rows[0][3], r#"{"place":"self_service"}"#);
    assert_eq!(&rows[1][1], "email_clicked");
    assert!(
        rows[1][3].starts_with('{'),
        "details are JSON: {}",
        &rows[1][3]
    );
}

/// R5: a timeline of 100,000 entries pages by keyset cursor with the same number of
/// store reads at every depth (counted, not timed).
pub async fn r5_deep_timeline_pages_cost_the_same_reads<S: DumpStore>(store: S) {
    let store = Arc::new(Interleaving::new(Arc::new(store)));
    let f = Fixture::with_store(store.clone()).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let start = f.clock.now() - Duration::days(100);
    const ENTRIES: i64 = 100_000;
    for batch in 0..ENTRIES / crate::limits::ACTIONS as i64 {
        let actions = (0..crate::limits::ACTIONS as i64)
            .map(|i| {
                let n = batch * crate::limits::ACTIONS as i64 + i;
                action(
                    &format!("open-{n}"),
                    &ann,
                    start + Duration::seconds(n),
                    TimelineKind::EmailOpened {
                        email: email("daily"),
                    },
                )
            })
            .collect();
        let results = f
            .service
            .report_actions(&Actor::System, f.event, actions)
            .await
            .unwrap();
        assert!(results.iter().all(|r| r.is_ok()));
    }
    let mut filter = TimelineFilter::default();
    let mut reads = Vec::new();
    let mut total = 0usize;
    let mut previous: Option<TimelineId> = None;
    loop {
        let calls = store.calls();
        let page = f
            .service
            .timeline(&f.organizer, f.event, ann.id, &filter, 1_000)
            .await
            .unwrap();
        reads.push(store.calls() - calls);
        if let (Some(p), Some(first)) = (previous, page.first()) {
            assert!(first.id < p, "pages follow each other");
        }
        total += page.len();
        let Some(last) = page.last() else { break };
        previous = Some(last.id);
        filter.before = Some(last.id);
        if page.len() < 1_000 {
            break;
        }
    }
    assert_eq!(
        total,
        ENTRIES as usize + 1,
        "every entry once, and registered"
    );
    assert!(reads.len() >= 100);
    assert!(
        reads.iter().all(|r| *r == reads[0]),
        "store reads per page: {reads:?}"
    );
    // A page deep in the range, by date, reads the same.
    let calls = store.calls();
    let deep = f
        .service
        .timeline(
            &f.organizer,
            f.event,
            ann.id,
            &TimelineFilter {
                until: Some(start + Duration::seconds(10)),
                ..TimelineFilter::default()
            },
            1_000,
        )
        .await
        .unwrap();
    assert_eq!(store.calls() - calls, reads[0]);
    assert_eq!(deep.len(), 11);
}

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
            Config::default().presence(
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

/// R12: the history filters by fields and dates, pages, and exports as CSV (values
/// participants typed are neutralised, B4); the participant reads and exports their own
/// without custom fields (R4), nobody else's (X2); a bad filter names its field.
pub async fn r12_history_filters_and_csv_export<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    let me = f.as_participant(&ann);
    let t0 = f.clock.now();
    // t0 + 1 min: the participant edits their own name (a formula, as typed).
    f.clock.advance(Duration::minutes(1));
    let mut profile = ann.profile.clone();
    profile.first_name = "=HYPERLINK(\"http://x\")".into();
    f.service
        .update_participant(
            &me,
            f.event,
            ann.id,
            ParticipantPatch {
                profile: profile.clone().into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    // t0 + 2 min: the organizer sets a custom field and the company.
    f.clock.advance(Duration::minutes(1));
    profile.company = "Acme".into();
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            ann.id,
            ParticipantPatch {
                profile: profile.into(),
                custom_fields: [("stand".to_owned(), Some("B12".to_owned()))].into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let read = |actor: Actor, filter: HistoryFilter| {
        let f = &f;
        let id = ann.id;
        async move {
            f.service
                .participant_history(&actor, f.event, id, &filter, 100)
                .await
                .unwrap()
        }
    };
    let fields = |lines: &[HistoryEntry]| lines.iter().map(|l| l.field.clone()).collect::<Vec<_>>();
    let all = read(f.organizer.clone(), HistoryFilter::default()).await;
    assert!(all.iter().any(|l| l.field == "custom_fields.stand"));
    // Fields: a prefix matches what is below it, not a longer name.
    let profile_lines = read(
        f.organizer.clone(),
        HistoryFilter {
            fields: vec!["profile".into()],
            ..HistoryFilter::default()
        },
    )
    .await;
    assert_eq!(
        fields(&profile_lines),
        ["profile.company", "profile.first_name"]
    );
    let none = read(
        f.organizer.clone(),
        HistoryFilter {
            fields: vec!["profile.first".into()],
            ..HistoryFilter::default()
        },
    )
    .await;
    assert!(none.is_empty(), "{none:?}");
    // Dates: the first edit alone.
    let first = read(
        f.organizer.clone(),
        HistoryFilter {
            from: Some(t0 + Duration::minutes(1)),
            until: Some(t0 + Duration::minutes(1)),
            ..HistoryFilter::default()
        },
    )
    .await;
    assert_eq!(fields(&first), ["profile.first_name"]);
    assert_eq!(first[0].actor, me);
    // Paging by one over a filter: no repeat, no gap.
    let mut filter = HistoryFilter {
        from: Some(t0 + Duration::minutes(1)),
        ..HistoryFilter::default()
    };
    let mut walked = Vec::new();
    loop {
        let page = f
            .service
            .participant_history(&f.organizer, f.event, ann.id, &filter, 1)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        filter.before = Some(last.id);
        walked.push(last.field.clone());
    }
    // Lines of one change are written in field order, so read newest first they come
    // in reverse field order.
    assert_eq!(
        walked,
        [
            "profile.company",
            "custom_fields.stand",
            "profile.first_name"
        ]
    );
    // The participant: no custom field, even when asked for.
    let mine = read(me.clone(), HistoryFilter::default()).await;
    assert!(mine.iter().all(|l| !l.field.starts_with("custom_fields")));
    assert!(
        read(
            me.clone(),
            HistoryFilter {
                fields: vec!["custom_fields".into()],
                ..HistoryFilter::default()
            }
        )
        .await
        .is_empty()
    );

    // CSV, for the organizer.
    let mut out = Vec::new();
    let n = f
        .service
        .export_participant_history_csv(
            &f.organizer,
            f.event,
            ann.id,
            &HistoryFilter {
                from: Some(t0 + Duration::minutes(1)),
                ..HistoryFilter::default()
            },
            &mut out,
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    let text = String::from_utf8(out).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["at", "field", "old", "new", "by"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[1][1], "custom_fields.stand");
    assert_eq!(&rows[1][2], "", "no value before");
    assert_eq!(&rows[1][3], "B12");
    assert_eq!(&rows[1][4], "organizer:alice");
    assert_eq!(&rows[2][1], "profile.first_name");
    assert_eq!(
        &rows[2][3], "'=HYPERLINK(\"http://x\")",
        "formula neutralised"
    );
    assert_eq!(&rows[2][4], "participant");
    // 09:01 UTC is 10:01 in Paris.
    assert_eq!(&rows[2][0], "2026-03-01T10:01:00+01:00");
    // CSV, for the participant: the same without custom fields.
    let mut out = Vec::new();
    let n = f
        .service
        .export_participant_history_csv(
            &me,
            f.event,
            ann.id,
            &HistoryFilter {
                from: Some(t0 + Duration::minutes(1)),
                ..HistoryFilter::default()
            },
            &mut out,
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert!(!String::from_utf8(out).unwrap().contains("custom_fields"));

    // X2 and X5: nobody else's; bad filters name their field.
    let before = f.dump().await;
    let as_bob = f.as_participant(&bob);
    let e = f
        .service
        .participant_history(&as_bob, f.event, ann.id, &HistoryFilter::default(), 10)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .export_participant_history_csv(
            &as_bob,
            f.event,
            ann.id,
            &HistoryFilter::default(),
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    for (bad, field) in [
        (
            HistoryFilter {
                fields: vec!["profile..name".into()],
                ..HistoryFilter::default()
            },
            "fields",
        ),
        (
            HistoryFilter {
                from: Some(t0 + Duration::minutes(2)),
                until: Some(t0),
                ..HistoryFilter::default()
            },
            "from",
        ),
    ] {
        let e = f
            .service
            .participant_history(&f.organizer, f.event, ann.id, &bad, 10)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field));
    }
    assert_eq!(f.dump().await, before, "reads write nothing");
}

fn session(id: &str, starts_at: DateTime<Utc>, title: &str) -> Session {
    Session {
        id: ExternalId::new(id).unwrap(),
        title: title.into(),
        starts_at,
        ends_at: starts_at + Duration::hours(1),
        place: Some("Room 2".into()),
    }
}

/// R6, R8: registrations and attendance land on the record, the timeline and the history;
/// "registered to at least N sessions" completes and reopens with them (T3, T4, and the
/// visitors' template); the agenda lists registered sessions in time order; X2 and X5.
pub async fn r8_sessions_agenda_and_the_session_condition<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let vera = f.participant("vera", &["visitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    let me = f.as_participant(&vera);
    let task = f
        .auto_task(
            "Choose two sessions",
            Condition::Sessions { at_least: 2 },
            None,
        )
        .await;
    let day = f.clock.now() + Duration::days(20);
    let keynote = session("keynote", day, "Keynote");
    let workshop = session("ws-7", day + Duration::hours(3), "Workshop: Rust");
    let panel = session("panel", day + Duration::hours(1), "Panel");

    // The participant registers herself, then the organizer adds a second session.
    let r = f
        .service
        .register_to_session(&me, f.event, vera.id, keynote.clone())
        .await
        .unwrap();
    assert!(r.registered && r.attended_at.is_none());
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Todo));
    f.service
        .register_to_session(&f.organizer, f.event, vera.id, workshop.clone())
        .await
        .unwrap();
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Done));
    // Again, same description: nothing written.
    let before = f.dump().await;
    f.service
        .register_to_session(&me, f.event, vera.id, keynote.clone())
        .await
        .unwrap();
    assert_eq!(f.dump().await, before, "registering again writes nothing");
    let timeline = everything(&f, &vera).await;
    let registered: Vec<_> = timeline
        .iter()
        .filter_map(|e| match &e.kind {
            TimelineKind::SessionRegistered { session } => Some(session.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(registered, ["ws-7", "keynote"]);
    let history = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            vera.id,
            &HistoryFilter {
                fields: vec!["sessions".into()],
                ..HistoryFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0].field, "sessions.ws-7");
    assert_eq!(history[0].actor, f.organizer);
    assert_eq!(history[1].actor, me);

    // Unregistering reopens the task; a second time, there is nothing to unregister.
    let r = f
        .service
        .unregister_from_session(&me, f.event, vera.id, &workshop.id)
        .await
        .unwrap();
    assert!(!r.registered);
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Todo));
    let before = f.dump().await;
    let e = f
        .service
        .unregister_from_session(&me, f.event, vera.id, &workshop.id)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                entity: "session",
                ..
            }
        ),
        "{e}"
    );

    // Bad descriptions and wrong actors write nothing.
    let mut untitled = panel.clone();
    untitled.title = "  ".into();
    let mut backwards = panel.clone();
    backwards.ends_at = backwards.starts_at - Duration::minutes(1);
    for (bad, field) in [(untitled, "session.title"), (backwards, "session.ends_at")] {
        let e = f
            .service
            .register_to_session(&me, f.event, vera.id, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field));
    }
    let e = f
        .service
        .register_to_session(&f.as_participant(&bob), f.event, vera.id, panel.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .record_attendance(&me, f.event, vera.id, keynote.clone(), f.clock.now())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .record_attendance(
            &f.organizer,
            f.event,
            vera.id,
            keynote.clone(),
            f.clock.now() + Duration::days(1),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("at"));
    let e = f
        .service
        .sessions(&other.organizer, f.event, vera.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = f
        .service
        .agenda(&f.as_participant(&bob), f.event, vera.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(f.dump().await, before, "refused calls write nothing");

    // Attendance: registered or walk-in; the first time is kept.
    f.clock.set(day + Duration::minutes(5));
    let at = f.clock.now();
    let r = f
        .service
        .record_attendance(&Actor::System, f.event, vera.id, keynote.clone(), at)
        .await
        .unwrap();
    assert!(r.registered);
    assert_eq!(r.attended_at, Some(at));
    let again = f
        .service
        .record_attendance(
            &f.organizer,
            f.event,
            vera.id,
            keynote.clone(),
            at + Duration::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(again.attended_at, Some(at));
    // Reported an hour late: on the timeline at the time she walked in.
    f.clock.advance(Duration::hours(1));
    let walk_in = f
        .service
        .record_attendance(&f.organizer, f.event, vera.id, panel.clone(), at)
        .await
        .unwrap();
    let entry = everything(&f, &vera)
        .await
        .into_iter()
        .find(|e| {
            e.kind
                == TimelineKind::SessionAttended {
                    session: panel.id.clone(),
                }
        })
        .unwrap();
    assert_eq!(entry.at, at, "at the time it happened");
    assert!(!walk_in.registered && walk_in.attended_at == Some(at));
    assert_eq!(
        f.status(&vera, task.id).await,
        Some(ProgressStatus::Todo),
        "attending without registering does not count"
    );
    let attended = everything(&f, &vera)
        .await
        .iter()
        .filter(|e| e.kind.action_kind() == ActionKind::SessionAttended)
        .count();
    assert_eq!(attended, 2);

    // The sessions tab and the agenda.
    let sessions = f.service.sessions(&me, f.event, vera.id).await.unwrap();
    let ids: Vec<_> = sessions.iter().map(|r| r.session.id.as_str()).collect();
    assert_eq!(
        ids,
        ["keynote", "panel"],
        "earliest first, the workshop left"
    );
    let agenda = f.service.agenda(&me, f.event, vera.id).await.unwrap();
    assert_eq!(agenda.time_zone, chrono_tz::Europe::Paris);
    assert_eq!(
        agenda.items,
        [AgendaItem::Session {
            session: keynote.clone(),
            attended: true
        }]
    );
    f.service
        .register_to_session(&me, f.event, vera.id, workshop.clone())
        .await
        .unwrap();
    let agenda = f
        .service
        .agenda(&f.organizer, f.event, vera.id)
        .await
        .unwrap();
    let starts: Vec<_> = agenda.items.iter().map(AgendaItem::starts_at).collect();
    assert_eq!(starts, [keynote.starts_at, workshop.starts_at]);
    assert_eq!(
        agenda.items[0].local_start(agenda.time_zone).to_rfc3339(),
        "2026-03-21T10:00:00+01:00",
        "09:00 UTC on 21 March is 10:00 in Paris"
    );
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Done));

    // The visitors' template counts sessions.
    let draft = f
        .service
        .create_task_from_template(
            &f.organizer,
            f.event,
            &Template::VisitorChooseSession { at_least: 1 },
            Fixture::<S>::web(),
        )
        .await
        .unwrap();
    assert_eq!(
        draft.condition(),
        Some(&Condition::Sessions { at_least: 1 })
    );
}

/// R9, R6: a meeting lands on both records, timelines and histories in one transaction;
/// the other participant answers, either cancels, an organizer's booking is accepted; the
/// agenda shows the meetings that take place with the sessions, in time order; X2, X5.
pub async fn r9_meetings_on_both_records_and_in_the_agenda<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let acme = f.participant("acme", &["exhibitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    let as_ann = f.as_participant(&ann);
    let as_acme = f.as_participant(&acme);
    f.allow_networking(&acme).await;
    let day = f.clock.now() + Duration::days(20);
    let new = |booker: &Participant, with: &Participant, hours: i64| NewMeeting {
        booker: booker.id,
        with: with.id,
        starts_at: day + Duration::hours(hours),
        ends_at: day + Duration::hours(hours) + Duration::minutes(30),
        place: Some("Booth B12".into()),
    };

    // Errors first: nothing is written.
    let before = f.dump().await;
    let mut backwards = new(&ann, &acme, 2);
    backwards.ends_at = backwards.starts_at;
    for (bad, field) in [(new(&ann, &ann, 2), "with"), (backwards, "ends_at")] {
        let e = f
            .service
            .book_meeting(&as_ann, f.event, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some(field));
    }
    let mut ghost = new(&ann, &acme, 2);
    ghost.with = ParticipantId::new_at(f.clock.now());
    let e = f
        .service
        .book_meeting(&as_ann, f.event, ghost)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                entity: "participant",
                ..
            }
        ),
        "{e}"
    );
    let e = f
        .service
        .book_meeting(&f.as_participant(&bob), f.event, new(&ann, &acme, 2))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .book_meeting(&other.organizer, f.event, new(&ann, &acme, 2))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert_eq!(f.dump().await, before, "refused bookings write nothing");

    // Ann books Acme: requested, on both records.
    let m = f
        .service
        .book_meeting(&as_ann, f.event, new(&ann, &acme, 2))
        .await
        .unwrap();
    assert_eq!(m.status, MeetingStatus::Requested);
    for p in [&ann, &acme] {
        let list = f
            .service
            .meetings(&f.organizer, f.event, p.id)
            .await
            .unwrap();
        assert_eq!(list, std::slice::from_ref(&m));
    }
    assert!(everything(&f, &ann).await.iter().any(|e| e.kind
        == TimelineKind::MeetingBooked {
            meeting: m.id,
            with: acme.id
        }));
    assert!(everything(&f, &acme).await.iter().any(|e| e.kind
        == TimelineKind::MeetingReceived {
            meeting: m.id,
            from: ann.id
        }));
    let status_line = format!("meetings.{}.status", m.id);
    let lines = |p: &Participant| {
        let f = &f;
        let id = p.id;
        let field = status_line.clone();
        async move {
            f.service
                .participant_history(
                    &f.organizer,
                    f.event,
                    id,
                    &HistoryFilter {
                        fields: vec![field],
                        ..HistoryFilter::default()
                    },
                    10,
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(lines(&acme).await.len(), 1);

    // Only the other participant answers; the booker cannot accept for them.
    let e = f
        .service
        .set_meeting_status(&as_ann, f.event, ann.id, m.id, MeetingStatus::Accepted)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .set_meeting_status(&as_acme, f.event, ann.id, m.id, MeetingStatus::Accepted)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let e = f
        .service
        .set_meeting_status(
            &as_acme,
            f.event,
            acme.id,
            MeetingId::new_at(f.clock.now()),
            MeetingStatus::Accepted,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                entity: "meeting",
                ..
            }
        ),
        "{e}"
    );
    let accepted = f
        .service
        .set_meeting_status(&as_acme, f.event, acme.id, m.id, MeetingStatus::Accepted)
        .await
        .unwrap();
    assert_eq!(accepted.status, MeetingStatus::Accepted);
    assert_eq!(
        f.service.meetings(&as_ann, f.event, ann.id).await.unwrap()[0].status,
        MeetingStatus::Accepted,
        "both records moved"
    );
    for p in [&ann, &acme] {
        let answered = everything(&f, p).await.into_iter().any(|e| {
            e.kind
                == TimelineKind::MeetingStatusChanged {
                    meeting: m.id,
                    status: MeetingStatus::Accepted,
                }
                && e.actor == as_acme
        });
        assert!(answered, "the answer is on both timelines");
    }
    let history = lines(&ann).await;
    assert_eq!(history[0].new, serde_json::json!("accepted"));
    assert_eq!(history[0].old, serde_json::json!("requested"));
    assert_eq!(history[0].actor, as_acme);

    // An organizer books Ann with Bob earlier that day: accepted at once.
    let by_organizer = f
        .service
        .book_meeting(&f.organizer, f.event, new(&ann, &bob, 0))
        .await
        .unwrap();
    assert_eq!(by_organizer.status, MeetingStatus::Accepted);
    f.service
        .register_to_session(
            &as_ann,
            f.event,
            ann.id,
            session("keynote", day + Duration::hours(1), "Keynote"),
        )
        .await
        .unwrap();
    let agenda = f.service.agenda(&as_ann, f.event, ann.id).await.unwrap();
    let kinds: Vec<_> = agenda
        .items
        .iter()
        .map(|i| match i {
            AgendaItem::Meeting { meeting } => meeting.id.to_string(),
            AgendaItem::Session { session, .. } => session.id.as_str().to_owned(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            by_organizer.id.to_string(),
            "keynote".into(),
            m.id.to_string()
        ]
    );

    // Ann cancels; the agenda drops it, the meetings tab keeps it.
    f.service
        .set_meeting_status(&as_ann, f.event, ann.id, m.id, MeetingStatus::Cancelled)
        .await
        .unwrap();
    let agenda = f.service.agenda(&as_ann, f.event, ann.id).await.unwrap();
    assert_eq!(agenda.items.len(), 2);
    let acme_meetings = f
        .service
        .meetings(&as_acme, f.event, acme.id)
        .await
        .unwrap();
    assert_eq!(acme_meetings[0].status, MeetingStatus::Cancelled);
    let e = f
        .service
        .meetings(&as_acme, f.event, ann.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
}

/// R10: bookmarked exhibitors and partners that scanned the participant, each once with
/// the last time, from the timeline; the participant sees companies, not names (X2).
/// R11: interests and preferences are the participant's to edit (history, checked keys);
/// networking on / off is an R2 status and a timeline action, once per change.
pub async fn r10_r11_partners_and_networking<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let vera = f.participant("vera", &["visitor"]).await;
    let acme = f.participant("acme", &["exhibitor"]).await;
    let globex = f.participant("globex", &["exhibitor"]).await;
    for (p, company, first) in [(&acme, "Acme", "Amélie"), (&globex, "Globex", "Hank")] {
        let mut profile = p.profile.clone();
        profile.company = company.into();
        profile.first_name = first.into();
        f.service
            .update_participant(
                &f.organizer,
                f.event,
                p.id,
                ParticipantPatch {
                    profile: profile.into(),
                    ..ParticipantPatch::default()
                },
            )
            .await
            .unwrap();
    }
    let me = f.as_participant(&vera);
    let now = f.clock.now();
    let at = |minutes: i64| now - Duration::minutes(minutes);
    let actions = vec![
        action(
            "b1",
            &vera,
            at(50),
            TimelineKind::ExhibitorBookmarked { exhibitor: acme.id },
        ),
        action(
            "s1",
            &vera,
            at(40),
            TimelineKind::Scanned {
                place: ScanPlace::Partner { partner: globex.id },
            },
        ),
        action(
            "b2",
            &vera,
            at(30),
            TimelineKind::ExhibitorBookmarked {
                exhibitor: globex.id,
            },
        ),
        action(
            "z1",
            &vera,
            at(20),
            TimelineKind::Scanned {
                place: ScanPlace::Zone {
                    zone: email("hall-b"),
                },
            },
        ),
        action(
            "b3",
            &vera,
            at(10),
            TimelineKind::ExhibitorBookmarked { exhibitor: acme.id },
        ),
    ];
    f.service
        .report_actions(&Actor::System, f.event, actions)
        .await
        .unwrap()
        .into_iter()
        .for_each(|r| assert_eq!(r.unwrap(), IngestOutcome::Applied));
    let partners = f
        .service
        .partners(&f.organizer, f.event, vera.id)
        .await
        .unwrap();
    let view = |list: &[Partner]| {
        list.iter()
            .map(|p| (p.company.clone(), p.name.clone(), p.at))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        view(&partners.bookmarked),
        [
            ("Acme".to_owned(), Some("Amélie".to_owned()), at(10)),
            ("Globex".to_owned(), Some("Hank".to_owned()), at(30)),
        ]
    );
    assert_eq!(
        view(&partners.scanned_by),
        [("Globex".to_owned(), Some("Hank".to_owned()), at(40))]
    );
    let mine = f.service.partners(&me, f.event, vera.id).await.unwrap();
    assert!(
        mine.bookmarked
            .iter()
            .chain(&mine.scanned_by)
            .all(|p| p.name.is_none())
    );
    assert_eq!(mine.bookmarked.len(), 2);
    let e = f
        .service
        .partners(&f.as_participant(&acme), f.event, vera.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");

    // R11: interests and preferences, by the participant.
    let networking = NetworkingProfile {
        interests: ["ai".to_owned(), "retail".to_owned()].into(),
        preferences: ["one_to_one".to_owned()].into(),
    };
    let updated = f
        .service
        .update_participant(
            &me,
            f.event,
            vera.id,
            ParticipantPatch {
                networking: Some(networking.clone()),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.networking, networking);
    let history = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            vera.id,
            &HistoryFilter {
                fields: vec!["networking".into()],
                ..HistoryFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    let fields: Vec<_> = history.iter().map(|h| h.field.as_str()).collect();
    assert_eq!(fields, ["networking.preferences", "networking.interests"]);
    assert_eq!(history[0].actor, me);
    let before = f.dump().await;
    let e = f
        .service
        .update_participant(
            &me,
            f.event,
            vera.id,
            ParticipantPatch {
                networking: Some(NetworkingProfile {
                    interests: ["not a key".to_owned()].into(),
                    ..NetworkingProfile::default()
                }),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("networking.interests"));
    let e = f
        .service
        .set_networking(
            &f.as_participant(&acme),
            f.event,
            vera.id,
            Networking::Allowed,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(f.dump().await, before, "refused changes write nothing");

    // Networking on, by the participant: the R2 status, the timeline, the history.
    let on = f
        .service
        .set_networking(&me, f.event, vera.id, Networking::Allowed)
        .await
        .unwrap();
    assert_eq!(on.status.networking, Networking::Allowed);
    assert!(on.custom_fields.is_empty(), "the participant's own view");
    let before = f.dump().await;
    f.service
        .set_networking(&me, f.event, vera.id, Networking::Allowed)
        .await
        .unwrap();
    assert_eq!(
        f.dump().await,
        before,
        "the same value again writes nothing"
    );
    f.service
        .set_networking(&f.organizer, f.event, vera.id, Networking::NotAllowed)
        .await
        .unwrap();
    let switches: Vec<_> = everything(&f, &vera)
        .await
        .into_iter()
        .filter(|e| {
            matches!(
                e.kind,
                TimelineKind::NetworkingEnabled | TimelineKind::NetworkingDisabled
            )
        })
        .map(|e| (e.kind, e.actor))
        .collect();
    assert_eq!(
        switches,
        [
            (TimelineKind::NetworkingDisabled, f.organizer.clone()),
            (TimelineKind::NetworkingEnabled, me.clone()),
        ]
    );
}

/// X6: the export holds everything about the participant (for them, without custom
/// fields); erasure leaves no personal value anywhere in the event's canonical dump, keeps
/// history and timeline, leaves every figure as it was, drops the outbox entries to them,
/// removes push subscriptions, gives their tasks back to the owner and keeps the team's
/// count; both are in the history; X2 and idempotence.
pub async fn x6_export_and_erasure_leave_no_personal_value<S: DumpStore>(store: S) {
    use base64::Engine;
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    f.channels(Channels {
        email: true,
        chat: true,
        web_push: true,
    })
    .await;
    let owner = f.participant("owner-qx", &["exhibitor"]).await;
    // The collaborator to erase, with a distinctive value in every personal field.
    let personal = [
        "bruno.qx@example.org",
        "Brunoqx",
        "Durandqx",
        "Globexqx Industries",
        "Chief Qx Officer",
        "bruno-private-qx@example.org",
        "Bio of Brunoqx",
        "https://brunoqx.example",
        "https://social.example/brunoqx",
        "@brunoqx",
        "B12-qx",
        "newsletter-qx",
        "DISCOUNT-QX",
        "interest_qx",
        "https://push.example/qx-endpoint",
        "Renamedqx",
        "Typed-field-qx",
        "call me on 0611-qx",
        "his passport photo, Qx-rejected",
        "Café Qx, table 4",
    ];
    let mut new = NewParticipant::new(ExternalId::new(personal[0]).unwrap());
    new.profile = Profile {
        first_name: personal[1].into(),
        last_name: personal[2].into(),
        company: personal[3].into(),
        job_title: personal[4].into(),
        email: Some(personal[5].into()),
        description: personal[6].into(),
        website: Some(personal[7].into()),
        social_links: vec![personal[8].into()],
        chat_handle: Some(personal[9].into()),
    };
    new.status.categories = ["exhibitor".to_owned()].into();
    new.status.discount_code = Some(personal[12].into());
    new.custom_fields
        .insert("stand".into(), personal[10].into());
    new.utm.source = Some(personal[11].into());
    let bruno = f
        .service
        .register_participant(&f.organizer, f.event, new)
        .await
        .unwrap();
    f.service
        .link_collaborator(&f.organizer, f.event, owner.id, bruno.id)
        .await
        .unwrap();
    let as_bruno = f.as_participant(&bruno);
    // His networking, a renamed first name (old and new values in the history), a push
    // subscription, a profile field reported by the host.
    let mut profile = bruno.profile.clone();
    profile.first_name = personal[15].into();
    f.service
        .update_participant(
            &as_bruno,
            f.event,
            bruno.id,
            ParticipantPatch {
                profile: profile.into(),
                networking: Some(NetworkingProfile {
                    interests: [personal[13].to_owned()].into(),
                    ..NetworkingProfile::default()
                }),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let mut key = vec![4u8];
    key.extend([7u8; 64]);
    f.service
        .add_push_subscription(
            &as_bruno,
            f.event,
            bruno.id,
            PushSubscription {
                endpoint: personal[14].into(),
                p256dh: b64(&key),
                auth: b64(&[7u8; 16]),
            },
        )
        .await
        .unwrap();
    f.fact(
        "bio-1",
        &bruno,
        HostFact::FieldSet {
            field: "biography".into(),
            value: personal[16].into(),
        },
    )
    .await;
    // Tasks: a team task (done by the link), a manual task assigned to him (notified),
    // a task he completed himself.
    let team = f
        .auto_task(
            "Build your team",
            Condition::Collaborators { at_least: 1 },
            Some(f.exhibitors),
        )
        .await;
    let hotel = f.manual_task("Book the hotel", Some(f.exhibitors)).await;
    let badge = f.manual_task("Print the badge", Some(f.exhibitors)).await;
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            hotel.id,
            bruno.id,
        )
        .await
        .unwrap();
    f.service
        .complete_task(&as_bruno, f.event, bruno.id, badge.id)
        .await
        .unwrap();
    f.service
        .report_actions(
            &Actor::System,
            f.event,
            vec![action(
                "open-1",
                &bruno,
                f.clock.now(),
                TimelineKind::EmailOpened {
                    email: email("kit"),
                },
            )],
        )
        .await
        .unwrap();
    assert!(f.outbox().await.iter().any(|o| o.recipient == bruno.id));
    f.service
        .send_message(&as_bruno, f.event, bruno.id, personal[17])
        .await
        .unwrap();
    // A rejected submission (the organizer's words about him) and a meeting he booked
    // (its place is free text, on both records).
    let mut reviewed = TaskConfig::manual(f.en.clone(), "Send your ID", Fixture::<S>::web());
    reviewed.review = true;
    reviewed.segment = Some(f.exhibitors);
    let id_task = f.publish(reviewed).await;
    f.service
        .complete_task(&as_bruno, f.event, bruno.id, id_task.id)
        .await
        .unwrap();
    f.service
        .reject_submission(&f.organizer, f.event, bruno.id, id_task.id, personal[18])
        .await
        .unwrap();
    let day = f.clock.now() + Duration::days(3);
    f.allow_networking(&owner).await;
    f.service
        .book_meeting(
            &as_bruno,
            f.event,
            NewMeeting {
                booker: bruno.id,
                with: owner.id,
                starts_at: day,
                ends_at: day + Duration::hours(1),
                place: Some(personal[19].into()),
            },
        )
        .await
        .unwrap();
    f.service
        .send_message(&f.organizer, f.event, bruno.id, "Noted, we will call you.")
        .await
        .unwrap();

    // Export, by the organizer: everything.
    let export = f
        .service
        .export_participant(&f.organizer, f.event, bruno.id)
        .await
        .unwrap();
    let json = serde_json::to_string(&export).unwrap();
    for value in personal {
        assert!(json.contains(value), "the export holds {value}");
    }
    assert!(
        export
            .timeline
            .iter()
            .any(|e| e.kind.action_kind() == ActionKind::EmailOpened)
    );
    assert!(export.notifications.iter().all(|o| o.recipient == bruno.id));
    assert!(!export.notifications.is_empty());
    assert_eq!(export.assigned_to_them.len(), 1);
    assert!(
        export
            .progress
            .iter()
            .any(|r| r.task == badge.id && r.is_done())
    );
    // By himself: no custom fields, nor lines about them.
    let own = f
        .service
        .export_participant(&as_bruno, f.event, bruno.id)
        .await
        .unwrap();
    assert!(own.participant.custom_fields.is_empty());
    assert!(
        own.history
            .iter()
            .all(|l| !l.field.starts_with("custom_fields"))
    );
    assert!(!serde_json::to_string(&own).unwrap().contains(personal[10]));
    let e = f
        .service
        .export_participant(&f.as_participant(&owner), f.event, bruno.id)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    let exported = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            bruno.id,
            &HistoryFilter {
                fields: vec!["exported".into()],
                ..HistoryFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(exported.len(), 2, "each export is in the history");

    // Who may erase.
    let before = f.dump().await;
    for (actor, not_found) in [
        (as_bruno.clone(), false),
        (f.as_participant(&owner), false),
        (other.organizer.clone(), true),
    ] {
        let e = f
            .service
            .erase_participant(&actor, f.event, bruno.id)
            .await
            .unwrap_err();
        assert_eq!(matches!(e, Error::NotFound { .. }), not_found, "{e}");
    }
    let e = f
        .service
        .erase_participant(&f.organizer, f.event, ParticipantId::new_at(f.clock.now()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                entity: "participant",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(f.dump().await, before, "refused erasures write nothing");

    // Erasure.
    let figures = f.service.task_figures(&f.organizer, f.event).await.unwrap();
    f.service
        .erase_participant(&f.organizer, f.event, bruno.id)
        .await
        .unwrap();
    let dump = f.dump().await;
    let text = serde_json::to_string(&dump).unwrap();
    for value in personal {
        assert!(!text.contains(value), "{value} is still in the dump");
    }
    assert_eq!(
        f.service.task_figures(&f.organizer, f.event).await.unwrap(),
        figures,
        "every figure as it was"
    );
    assert!(
        dump.outbox.iter().all(|o| o.recipient != bruno.id),
        "entries to him dropped"
    );
    let erased = dump
        .participants
        .iter()
        .find(|s| s.participant.id == bruno.id)
        .unwrap();
    assert!(erased.participant.erased_at.is_some());
    assert!(erased.participant.push_subscriptions.is_empty());
    assert_eq!(
        erased.participant.external_id.as_str(),
        format!("erased-{}", bruno.id)
    );
    assert_eq!(
        erased.progress[&badge.id].status,
        ProgressStatus::Done,
        "frozen as it was"
    );
    // The timeline and history stay, without personal values.
    assert!(
        dump.timeline
            .iter()
            .any(|e| e.participant == bruno.id && e.kind.action_kind() == ActionKind::EmailOpened)
    );
    let history = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            bruno.id,
            &HistoryFilter::default(),
            1000,
        )
        .await
        .unwrap();
    assert_eq!(history[0].field, "erased");
    assert_eq!(history[0].actor, f.organizer);
    let renamed = history
        .iter()
        .find(|l| l.field == "profile.first_name" && l.old != serde_json::Value::Null)
        .expect("the rename is still in the history");
    assert_eq!(renamed.new, serde_json::json!(crate::participant::ERASED));
    // The owner keeps his team's count, and takes the hotel task back.
    assert_eq!(f.status(&owner, team.id).await, Some(ProgressStatus::Done));
    let owner_state = dump
        .participants
        .iter()
        .find(|s| s.participant.id == owner.id)
        .unwrap();
    assert_eq!(owner_state.facts.collaborators.count(), 1);
    assert_eq!(owner_state.progress[&hotel.id].assignee, None);
    // The thread stays, every message erased.
    let thread = f
        .service
        .messages(&f.organizer, f.event, bruno.id, None, 10)
        .await
        .unwrap();
    assert_eq!(thread.messages.len(), 2);
    assert!(
        thread
            .messages
            .iter()
            .all(|m| m.body == crate::participant::ERASED)
    );
    let e = f
        .service
        .send_message(&f.organizer, f.event, bruno.id, "Hello?")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::State { .. }), "{e}");
    // An erased record takes no more changes: nothing personal comes back.
    let frozen = f.dump().await;
    let profile = Profile {
        first_name: "Back again".into(),
        ..Profile::default()
    };
    let refusals = [
        f.service
            .update_participant(
                &f.organizer,
                f.event,
                bruno.id,
                ParticipantPatch {
                    profile: profile.into(),
                    ..ParticipantPatch::default()
                },
            )
            .await
            .unwrap_err(),
        f.service
            .register_to_session(
                &f.organizer,
                f.event,
                bruno.id,
                session("keynote", f.clock.now() + Duration::days(1), "Keynote"),
            )
            .await
            .unwrap_err(),
        f.service
            .set_networking(&f.organizer, f.event, bruno.id, Networking::Allowed)
            .await
            .unwrap_err(),
        f.service
            .add_push_subscription(
                &f.organizer,
                f.event,
                bruno.id,
                PushSubscription {
                    endpoint: "https://push.example/again".into(),
                    p256dh: b64(&key),
                    auth: b64(&[7u8; 16]),
                },
            )
            .await
            .unwrap_err(),
        f.service
            .ingest_batch(
                &Actor::System,
                f.event,
                vec![f.host_event(
                    "bio-2",
                    &bruno,
                    HostFact::FieldSet {
                        field: "biography".into(),
                        value: "Back again".into(),
                    },
                )],
            )
            .await
            .unwrap()
            .remove(0)
            .unwrap_err(),
        f.service
            .report_actions(
                &Actor::System,
                f.event,
                vec![action(
                    "open-2",
                    &bruno,
                    f.clock.now(),
                    TimelineKind::EmailOpened {
                        email: email("kit"),
                    },
                )],
            )
            .await
            .unwrap()
            .remove(0)
            .unwrap_err(),
    ];
    for e in refusals {
        assert!(matches!(e, Error::State { .. }), "{e}");
    }
    f.service
        .ping(&Actor::System, f.event, bruno.id, LoginChannel::Web)
        .await
        .unwrap();
    assert_eq!(
        f.dump().await,
        frozen,
        "refused or ignored: nothing written"
    );
    // Nothing more is queued for him: his own hotel row is still to do, yet a reminder
    // to everyone incomplete reaches the owner only.
    assert_eq!(
        erased.progress[&hotel.id].status,
        ProgressStatus::Todo,
        "his own row of the task"
    );
    let before = f.outbox().await.len();
    f.service
        .remind_now(&f.organizer, f.event, hotel.id, RemindTarget::AllIncomplete)
        .await
        .unwrap();
    let outbox = f.outbox().await;
    assert!(outbox.len() > before, "the owner is reminded");
    assert!(outbox.iter().all(|o| o.recipient != bruno.id));
    let e = f
        .service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            hotel.id,
            bruno.id,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::State { .. }),
        "an erased collaborator holds nothing: {e}"
    );
    // Again: nothing changes.
    let after = f.dump().await;
    f.service
        .erase_participant(&f.organizer, f.event, bruno.id)
        .await
        .unwrap();
    assert_eq!(f.dump().await, after, "erasing again changes nothing");
}

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
    for bad in ["   ", &"x".repeat(crate::message::MAX_MESSAGE + 1)] {
        let e = f
            .service
            .send_message(&me, f.event, ann.id, bad)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("body"));
    }
    assert_eq!(f.dump().await, before, "refused calls write nothing");
}

/// X2 over every read of the participant's record (R5–R13, X6): the event's organizers
/// and the participant read; another participant of the event is refused; an organizer
/// of another event finds nothing. A participant's own reads carry no custom field.
pub async fn x2_every_part_of_the_record_for_the_right_readers<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let bob = f.participant("bob", &["visitor"]).await;
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            ann.id,
            ParticipantPatch {
                custom_fields: [("stand".to_owned(), Some("secret-stand".to_owned()))].into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    // Something in every part: a session, a meeting with an exhibitor she bookmarked and
    // who scanned her, a message, a ping.
    let cid = f.participant("cid", &["exhibitor"]).await;
    let mut profile = cid.profile.clone();
    profile.first_name = "Cidqx".into();
    profile.company = "Cid Corp".into();
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            cid.id,
            ParticipantPatch {
                profile: profile.into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let me = f.as_participant(&ann);
    let day = f.clock.now() + Duration::days(5);
    f.service
        .register_to_session(&me, f.event, ann.id, session("keynote", day, "Keynote"))
        .await
        .unwrap();
    f.service
        .book_meeting(
            &f.organizer,
            f.event,
            NewMeeting {
                booker: ann.id,
                with: cid.id,
                starts_at: day + Duration::hours(2),
                ends_at: day + Duration::hours(3),
                place: None,
            },
        )
        .await
        .unwrap();
    f.service
        .report_actions(
            &Actor::System,
            f.event,
            vec![
                action(
                    "bm",
                    &ann,
                    f.clock.now(),
                    TimelineKind::ExhibitorBookmarked { exhibitor: cid.id },
                ),
                action(
                    "sc",
                    &ann,
                    f.clock.now(),
                    TimelineKind::Scanned {
                        place: ScanPlace::Partner { partner: cid.id },
                    },
                ),
            ],
        )
        .await
        .unwrap();
    f.service
        .send_message(&me, f.event, ann.id, "Hello")
        .await
        .unwrap();
    f.service
        .ping(&me, f.event, ann.id, LoginChannel::Web)
        .await
        .unwrap();
    let (ev, id) = (f.event, ann.id);
    let svc = &f.service;
    // Each read, as a JSON text of what it returns.
    let read = |actor: Actor, part: &'static str| async move {
        let value: Result<serde_json::Value> = match part {
            "timeline" => svc
                .timeline(&actor, ev, id, &TimelineFilter::default(), 10)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "timeline csv" => {
                let mut out = Vec::new();
                svc.export_timeline_csv(&actor, ev, id, &TimelineFilter::default(), &mut out)
                    .await
                    .map(|_| serde_json::json!(String::from_utf8(out).unwrap()))
            }
            "history" => svc
                .participant_history(&actor, ev, id, &HistoryFilter::default(), 100)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "history csv" => {
                let mut out = Vec::new();
                svc.export_participant_history_csv(
                    &actor,
                    ev,
                    id,
                    &HistoryFilter::default(),
                    &mut out,
                )
                .await
                .map(|_| serde_json::json!(String::from_utf8(out).unwrap()))
            }
            "sessions" => svc
                .sessions(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "agenda" => svc
                .agenda(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "meetings" => svc
                .meetings(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "partners" => svc
                .partners(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "messages" => svc
                .messages(&actor, ev, id, None, 10)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "online status" => svc
                .online_status(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            "export" => svc
                .export_participant(&actor, ev, id)
                .await
                .map(|v| serde_json::to_value(v).unwrap()),
            _ => unreachable!("no such part: {part}"),
        };
        value
    };
    let parts = [
        "timeline",
        "timeline csv",
        "history",
        "history csv",
        "sessions",
        "agenda",
        "meetings",
        "partners",
        "messages",
        "online status",
        "export",
    ];
    for part in parts {
        let own = read(f.as_participant(&ann), part)
            .await
            .unwrap_or_else(|e| panic!("{part}, own: {e}"));
        let own = own.to_string();
        assert!(
            !own.contains("secret-stand"),
            "{part}: no custom field for the participant"
        );
        assert!(
            !own.contains("Cidqx"),
            "{part}: no other participant's name for the participant"
        );
        let staff = read(f.organizer.clone(), part)
            .await
            .unwrap_or_else(|e| panic!("{part}, organizer: {e}"));
        let empty = matches!(&staff, serde_json::Value::Array(a) if a.is_empty());
        assert!(!empty, "{part}: the check reads something");
        let e = read(f.as_participant(&bob), part).await.unwrap_err();
        assert!(
            matches!(e, Error::Forbidden { .. }),
            "{part}, other participant: {e}"
        );
        let e = read(other.organizer.clone(), part).await.unwrap_err();
        assert!(
            matches!(e, Error::NotFound { .. }),
            "{part}, other event: {e}"
        );
    }
    // The organizers do see the custom field, and the partner's name.
    let full = read(f.organizer.clone(), "export").await.unwrap();
    assert!(full.to_string().contains("secret-stand"));
    let partners = read(f.organizer.clone(), "partners").await.unwrap();
    assert!(partners.to_string().contains("Cidqx"));
    let csv = read(f.organizer.clone(), "timeline csv").await.unwrap();
    assert!(csv.to_string().contains("exhibitor_bookmarked"));
}
