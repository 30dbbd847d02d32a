//! Conformance checks for the timeline (R5): the host's actions in time order and once per
//! id, filters, keyset pages of a constant cost, access and the CSV export.

use std::sync::Arc;

use chrono::Duration;

use super::common::{action, email, everything};
use crate::testkit::{DumpStore, Fixture, Interleaving};
use crate::*;

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
