//! Conformance checks for the history (R12): one line per changed field, pages, filters
//! and the CSV export.

use chrono::Duration;

use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// R12: a participant's history pages are full even when lines about custom fields (which
/// they never see) come between.
pub async fn r12_participant_history_pages_skip_custom_fields<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    for i in 0..3 {
        let patch = ParticipantPatch {
            profile: Profile {
                company: format!("Company {i}"),
                ..f.service
                    .participant(&f.organizer, f.event, ann.id)
                    .await
                    .unwrap()
                    .profile
            }
            .into(),
            ..ParticipantPatch::default()
        };
        f.service
            .update_participant(&f.organizer, f.event, ann.id, patch)
            .await
            .unwrap();
        f.clock.advance(Duration::seconds(1));
        for j in 0..4 {
            let patch = ParticipantPatch {
                custom_fields: [("stand".to_owned(), Some(format!("B{i}{j}")))].into(),
                ..ParticipantPatch::default()
            };
            f.service
                .update_participant(&f.organizer, f.event, ann.id, patch)
                .await
                .unwrap();
            f.clock.advance(Duration::seconds(1));
        }
    }
    let me = f.as_participant(&ann);
    let page = f
        .service
        .participant_history(&me, f.event, ann.id, &HistoryFilter::default(), 2)
        .await
        .unwrap();
    assert_eq!(page.len(), 2, "{page:?}");
    assert!(page.iter().all(|h| h.field == "profile.company"));
    assert_eq!(page[0].new, serde_json::json!("Company 2"));
    let next = f
        .service
        .participant_history(
            &me,
            f.event,
            ann.id,
            &HistoryFilter {
                before: Some(page[1].id),
                ..HistoryFilter::default()
            },
            2,
        )
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].new, serde_json::json!("Company 0"));
    let all = f
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
    assert_eq!(all.len(), 15, "the organizer sees every line");
}

/// R12: an update changing three fields writes exactly three history lines, with the
/// field, old and new values, the actor and the time; the participant never sees lines
/// about custom fields.
pub async fn r12_three_edited_fields_three_history_lines<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let lines_before = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            ann.id,
            &HistoryFilter::default(),
            1000,
        )
        .await
        .unwrap();
    f.clock.advance(Duration::hours(1));
    let at = f.clock.now();
    let mut profile = ann.profile.clone();
    profile.first_name = "Annabel".into();
    profile.company = "Acme".into();
    profile.job_title = "Buyer".into();
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            ann.id,
            ParticipantPatch {
                profile: profile.into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let lines = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            ann.id,
            &HistoryFilter::default(),
            1000,
        )
        .await
        .unwrap();
    assert_eq!(
        lines.len(),
        lines_before.len() + 3,
        "one line per changed field: {lines:#?}"
    );
    let mut new_lines: Vec<&HistoryEntry> =
        lines.iter().filter(|l| !lines_before.contains(l)).collect();
    new_lines.sort_by(|a, b| a.field.cmp(&b.field));
    let got: Vec<(&str, serde_json::Value, serde_json::Value)> = new_lines
        .iter()
        .map(|l| (l.field.as_str(), l.old.clone(), l.new.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "profile.company",
                serde_json::json!(""),
                serde_json::json!("Acme")
            ),
            (
                "profile.first_name",
                serde_json::json!("ann"),
                serde_json::json!("Annabel")
            ),
            (
                "profile.job_title",
                serde_json::json!(""),
                serde_json::json!("Buyer")
            ),
        ]
    );
    for l in &new_lines {
        assert_eq!(l.actor, f.organizer, "who");
        assert_eq!(l.at, at, "when");
        assert_eq!(l.subject, Subject::Participant(ann.id));
        assert_eq!(l.event, f.event);
    }
    assert_eq!(
        lines[..3].iter().filter(|l| l.at == at).count(),
        3,
        "newest first"
    );

    // The same patch again changes nothing, so writes no line.
    let again = f
        .service
        .participant(&f.organizer, f.event, ann.id)
        .await
        .unwrap();
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            ann.id,
            ParticipantPatch {
                profile: again.profile.into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let count = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            ann.id,
            &HistoryFilter::default(),
            1000,
        )
        .await
        .unwrap()
        .len();
    assert_eq!(
        count,
        lines.len(),
        "an update that changes nothing writes no line"
    );

    // A custom field and a status change: the participant sees the status line only; a
    // change the participant makes is recorded as theirs.
    f.clock.advance(Duration::minutes(5));
    let mut status = again.status.clone();
    status.categories.insert("exhibitor".into());
    f.service
        .update_participant(
            &f.organizer,
            f.event,
            ann.id,
            ParticipantPatch {
                status: status.into(),
                custom_fields: [("stand".to_owned(), Some("B12".to_owned()))].into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let staff_view = f
        .service
        .participant_history(
            &f.organizer,
            f.event,
            ann.id,
            &HistoryFilter::default(),
            1000,
        )
        .await
        .unwrap();
    let stand = staff_view
        .iter()
        .find(|l| l.field == "custom_fields.stand")
        .expect("a line for the custom field");
    assert_eq!(
        (stand.old.clone(), stand.new.clone()),
        (serde_json::Value::Null, serde_json::json!("B12"))
    );
    assert!(
        staff_view
            .iter()
            .any(|l| l.field.starts_with("status.categories"))
    );
    let me = f.as_participant(&ann);
    let own_view = f
        .service
        .participant_history(&me, f.event, ann.id, &HistoryFilter::default(), 1000)
        .await
        .unwrap();
    assert!(
        own_view
            .iter()
            .all(|l| !l.field.starts_with("custom_fields")),
        "custom fields shown to the participant"
    );
    assert_eq!(own_view.len(), staff_view.len() - 1);

    f.clock.advance(Duration::minutes(5));
    let mut profile = f
        .service
        .participant(&me, f.event, ann.id)
        .await
        .unwrap()
        .profile;
    profile.last_name = "Smith".into();
    f.service
        .update_participant(
            &me,
            f.event,
            ann.id,
            ParticipantPatch {
                profile: profile.into(),
                ..ParticipantPatch::default()
            },
        )
        .await
        .unwrap();
    let newest = &f
        .service
        .participant_history(&f.organizer, f.event, ann.id, &HistoryFilter::default(), 1)
        .await
        .unwrap()[0];
    assert_eq!(newest.field, "profile.last_name");
    assert_eq!(
        newest.actor, me,
        "the participant is recorded as the author"
    );
    assert_eq!(newest.at, f.clock.now());
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
