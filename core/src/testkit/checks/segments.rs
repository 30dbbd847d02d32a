//! Conformance checks for segments (S1–S3): their rules, the tasks that follow a
//! participant in and out of them, and the preview.

use std::collections::BTreeSet;

use super::common::{item_of, state_in};
use crate::testkit::assert::{assert_forbidden, assert_not_found, invalid_field};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

/// S1: a segment combines all / any / not over categories, a custom field, UTM and
/// language, and its preview lists exactly the participants it holds; a rule on an unknown
/// custom field or a blank name is refused with the field's path and writes nothing.
pub async fn s1_segment_rules_and_unknown_custom_field<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let register =
        |ext: &str, cats: &[&str], stand: Option<&str>, source: Option<&str>, fr: bool| {
            let mut new = NewParticipant::new(ExternalId::new(ext).unwrap());
            new.status.categories = cats.iter().map(|c| c.to_string()).collect();
            if let Some(s) = stand {
                new.custom_fields.insert("stand".into(), s.into());
            }
            new.utm.source = source.map(str::to_owned);
            if fr {
                new.status.language = Some(f.fr.clone());
            }
            let service = &f.service;
            let (organizer, event) = (&f.organizer, f.event);
            async move {
                service
                    .register_participant(organizer, event, new)
                    .await
                    .expect("register participant")
            }
        };
    let nl = Some("newsletter");
    let a = register("a", &["exhibitor"], Some("B12"), nl, true).await;
    let b = register("b", &["sponsor"], Some("A1"), nl, true).await;
    let banned = register("c", &["exhibitor", "banned"], Some("C3"), nl, true).await;
    let no_stand = register("d", &["exhibitor"], None, nl, true).await;
    let other_source = register("e", &["exhibitor"], Some("D4"), Some("ads"), true).await;
    let english = register("g", &["exhibitor"], Some("E5"), nl, false).await;
    let visitor = register("h", &["visitor"], Some("F6"), nl, true).await;

    let rule = Rule::all([
        Rule::any([Rule::category("exhibitor"), Rule::category("sponsor")]),
        Rule::negate(Rule::category("banned")),
        Rule::CustomField {
            field: "stand".into(),
            value: None,
        },
        Rule::Utm {
            field: UtmField::Source,
            value: "newsletter".into(),
        },
        Rule::Language {
            language: f.fr.clone(),
        },
    ]);
    let segment = f
        .service
        .create_segment(
            &f.organizer,
            f.event,
            SegmentDraft {
                name: "  French partners  ".into(),
                rule: rule.clone(),
            },
        )
        .await
        .expect("create segment");
    assert_eq!(segment.name, "French partners", "the name is trimmed");
    assert_eq!(segment.rule, rule);
    let listed = f.service.segments(&f.organizer, f.event).await.unwrap();
    assert!(listed.iter().any(|s| s.id == segment.id && s.rule == rule));

    let ids = |ps: &[&Participant]| ps.iter().map(|p| p.id).collect::<BTreeSet<_>>();
    let preview = f
        .service
        .preview_segment(&f.organizer, f.event, &segment.rule, 100)
        .await
        .unwrap();
    let got: BTreeSet<_> = preview.members.iter().map(|p| p.id).collect();
    assert_eq!(
        got,
        ids(&[&a, &b]),
        "all/any/not over category, stand, UTM and language"
    );
    assert_eq!(preview.count, 2);
    for out in [&banned, &no_stand, &other_source, &english, &visitor] {
        assert!(
            !got.contains(&out.id),
            "{} should not be in the segment",
            out.external_id
        );
    }

    // Each leaf on its own, so a store or a rule cannot get one right by accident.
    let count = |rule: Rule| {
        let service = &f.service;
        let (organizer, event) = (&f.organizer, f.event);
        async move {
            let p = service
                .preview_segment(organizer, event, &rule, 100)
                .await
                .unwrap();
            p.members.iter().map(|m| m.id).collect::<BTreeSet<_>>()
        }
    };
    assert_eq!(
        count(Rule::Language {
            language: f.en.clone()
        })
        .await,
        ids(&[&english]),
        "no language of their own: the event's default"
    );
    assert_eq!(
        count(Rule::CustomField {
            field: "stand".into(),
            value: Some("A1".into())
        })
        .await,
        ids(&[&b])
    );
    assert_eq!(
        count(Rule::Utm {
            field: UtmField::Source,
            value: "ads".into()
        })
        .await,
        ids(&[&other_source])
    );
    assert_eq!(
        count(Rule::negate(Rule::CustomField {
            field: "stand".into(),
            value: None
        }))
        .await,
        ids(&[&no_stand])
    );
    assert_eq!(
        count(Rule::any([])).await,
        BTreeSet::new(),
        "an empty any holds for no one"
    );

    // Refused definitions write nothing.
    let before = f.dump().await;
    let unknown = Rule::any([
        Rule::category("exhibitor"),
        Rule::negate(Rule::CustomField {
            field: "booth".into(),
            value: None,
        }),
    ]);
    let r = f
        .service
        .create_segment(
            &f.organizer,
            f.event,
            SegmentDraft {
                name: "Booths".into(),
                rule: unknown.clone(),
            },
        )
        .await;
    assert_eq!(
        invalid_field(r, "unknown custom field"),
        "rule.rules[1].rule.field"
    );
    let r = f
        .service
        .update_segment(
            &f.organizer,
            f.event,
            segment.id,
            SegmentDraft {
                name: "Booths".into(),
                rule: unknown.clone(),
            },
        )
        .await;
    assert_eq!(
        invalid_field(r, "unknown custom field on update"),
        "rule.rules[1].rule.field"
    );
    let r = f
        .service
        .preview_segment(&f.organizer, f.event, &unknown, 10)
        .await;
    assert_eq!(
        invalid_field(r, "unknown custom field in preview"),
        "rule.rules[1].rule.field"
    );
    let r = f
        .service
        .create_segment(
            &f.organizer,
            f.event,
            SegmentDraft {
                name: "German".into(),
                rule: Rule::Language {
                    language: Language::new("de").unwrap(),
                },
            },
        )
        .await;
    assert_eq!(
        invalid_field(r, "language not of the event"),
        "rule.language"
    );
    for name in ["", "   "] {
        let r = f
            .service
            .create_segment(
                &f.organizer,
                f.event,
                SegmentDraft {
                    name: name.into(),
                    rule: Rule::Everyone,
                },
            )
            .await;
        assert_eq!(invalid_field(r, "blank segment name"), "name");
    }
    let r = f
        .service
        .create_segment(
            &f.organizer,
            f.event,
            SegmentDraft {
                name: "x".repeat(201),
                rule: Rule::Everyone,
            },
        )
        .await;
    assert_eq!(invalid_field(r, "segment name too long"), "name");
    let r = f
        .service
        .create_segment(
            &f.as_participant(&a),
            f.event,
            SegmentDraft {
                name: "Mine".into(),
                rule: Rule::Everyone,
            },
        )
        .await;
    assert_forbidden(r, "a participant defines a segment");
    assert_eq!(f.dump().await, before, "a refused segment wrote something");
}

/// Sets a participant's categories (keeping the rest of their status), as an organizer.
async fn set_categories<S: DumpStore>(f: &Fixture<S>, p: &Participant, categories: &[&str]) {
    let current = f
        .service
        .participant(&f.organizer, f.event, p.id)
        .await
        .expect("read participant");
    let mut status = current.status;
    status.categories = categories.iter().map(|c| c.to_string()).collect();
    let patch = ParticipantPatch {
        status: status.into(),
        ..ParticipantPatch::default()
    };
    f.service
        .update_participant(&f.organizer, f.event, p.id, patch)
        .await
        .expect("update participant");
}

/// S2: a participant sees a task when they enter its segment and stops seeing it when
/// they leave; progress made is kept when they come back.
pub async fn s2_tasks_follow_segment_changes_and_keep_progress<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let vera = f.participant("vera", &["visitor"]).await;
    let task = f
        .manual_task("Send your stand plan", Some(f.exhibitors))
        .await;
    assert_eq!(
        f.status(&vera, task.id).await,
        None,
        "a visitor does not see an exhibitor task"
    );
    let r = f
        .service
        .complete_task(&f.as_participant(&vera), f.event, vera.id, task.id)
        .await;
    assert_not_found(r, "completing a task outside one's segment");

    set_categories(&f, &vera, &["visitor", "exhibitor"]).await;
    assert_eq!(
        f.status(&vera, task.id).await,
        Some(ProgressStatus::Todo),
        "entering the segment shows the task"
    );
    f.service
        .complete_task(&f.as_participant(&vera), f.event, vera.id, task.id)
        .await
        .expect("complete");
    assert_eq!(f.status(&vera, task.id).await, Some(ProgressStatus::Done));
    assert_eq!(f.list(&vera).await.summary, ProgressSummary::new(1, 1));

    set_categories(&f, &vera, &["visitor"]).await;
    assert_eq!(
        f.status(&vera, task.id).await,
        None,
        "leaving the segment hides the task"
    );
    assert_eq!(f.list(&vera).await.summary, ProgressSummary::new(0, 0));
    let dump = f.dump().await;
    let row = &state_in(&dump, &vera).progress[&task.id];
    assert!(
        row.is_done() && !row.targeted,
        "the progress is kept while hidden: {row:?}"
    );

    set_categories(&f, &vera, &["exhibitor"]).await;
    let item = item_of(&f, &vera, &vera, task.id)
        .await
        .expect("back in the list");
    assert_eq!(
        item.status,
        ProgressStatus::Done,
        "progress already made is kept"
    );
    assert_eq!(
        item.completion.as_ref().map(|c| c.how),
        Some(CompletedHow::Manual),
        "still the participant's own completion"
    );
    assert_eq!(f.list(&vera).await.summary, ProgressSummary::new(1, 1));
}

/// S2: redefining a segment re-evaluates the published tasks that target it, for every
/// participant (more than one batch): tasks appear and disappear, and automatic tasks
/// whose condition already holds are done at once for those who enter.
pub async fn s2_segment_redefinition_reevaluates<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let segment = f
        .service
        .create_segment(
            &f.organizer,
            f.event,
            SegmentDraft {
                name: "Target".into(),
                rule: Rule::category("exhibitor"),
            },
        )
        .await
        .unwrap();
    let mut people = Vec::new();
    for i in 0..20 {
        let category = if i % 2 == 0 { "exhibitor" } else { "visitor" };
        let p = f.participant(&format!("p{i:02}"), &[category]).await;
        // Every third participant already has a logo.
        if i % 3 == 0 {
            f.fact(&format!("logo-{i}"), &p, HostFact::LogoUploaded)
                .await;
        }
        people.push((p, category == "exhibitor", i % 3 == 0));
    }
    let manual = f.manual_task("Book your stand", Some(segment.id)).await;
    let logo = f
        .auto_task("Logo", Condition::LogoUploaded, Some(segment.id))
        .await;
    let untouched = f.manual_task("Exhibitor badge", Some(f.exhibitors)).await;
    let first_exhibitor = &people[2].0;
    f.service
        .complete_task(
            &f.as_participant(first_exhibitor),
            f.event,
            first_exhibitor.id,
            manual.id,
        )
        .await
        .unwrap();
    let expect_logo = |has_logo: bool| {
        if has_logo {
            ProgressStatus::Done
        } else {
            ProgressStatus::Todo
        }
    };
    for (p, exhibitor, has_logo) in &people {
        if *exhibitor {
            assert!(f.status(p, manual.id).await.is_some());
            assert_eq!(f.status(p, logo.id).await, Some(expect_logo(*has_logo)));
        } else {
            assert_eq!(f.status(p, manual.id).await, None);
            assert_eq!(f.status(p, logo.id).await, None);
        }
    }

    // Now the segment is the visitors.
    f.service
        .update_segment(
            &f.organizer,
            f.event,
            segment.id,
            SegmentDraft {
                name: "Target".into(),
                rule: Rule::category("visitor"),
            },
        )
        .await
        .expect("update segment");
    assert!(
        f.dump().await.sweeps.is_empty(),
        "the re-evaluation finished"
    );
    for (p, exhibitor, has_logo) in &people {
        let who = &p.external_id;
        if *exhibitor {
            assert_eq!(f.status(p, manual.id).await, None, "{who} left the segment");
            assert_eq!(f.status(p, logo.id).await, None, "{who} left the segment");
            assert_eq!(
                f.status(p, untouched.id).await,
                Some(ProgressStatus::Todo),
                "other segments are untouched"
            );
        } else {
            assert_eq!(
                f.status(p, manual.id).await,
                Some(ProgressStatus::Todo),
                "{who} entered the segment"
            );
            assert_eq!(
                f.status(p, logo.id).await,
                Some(expect_logo(*has_logo)),
                "{who}: work already done counts at once"
            );
            assert_eq!(f.status(p, untouched.id).await, None);
        }
    }

    // Everyone: the exhibitors come back, with their progress.
    f.service
        .update_segment(
            &f.organizer,
            f.event,
            segment.id,
            SegmentDraft {
                name: "Target".into(),
                rule: Rule::any([Rule::category("visitor"), Rule::category("exhibitor")]),
            },
        )
        .await
        .unwrap();
    for (p, _, has_logo) in &people {
        let want = if p.id == first_exhibitor.id {
            ProgressStatus::Done
        } else {
            ProgressStatus::Todo
        };
        assert_eq!(
            f.status(p, manual.id).await,
            Some(want),
            "{}",
            p.external_id
        );
        assert_eq!(f.status(p, logo.id).await, Some(expect_logo(*has_logo)));
    }
}

/// S3: a preview gives the exact count and at most `limit` members, over more
/// participants than one batch, and writes nothing.
pub async fn s3_preview_counts_and_pages<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut exhibitors = BTreeSet::new();
    for i in 0..20 {
        let cats: &[&str] = if i % 3 == 2 {
            &["visitor"]
        } else {
            &["exhibitor"]
        };
        let p = f.participant(&format!("p{i:02}"), cats).await;
        if cats == ["exhibitor"] {
            exhibitors.insert(p.id);
        }
    }
    assert_eq!(exhibitors.len(), 14);
    let before = f.dump().await;
    let rule = Rule::category("exhibitor");
    for limit in [0, 1, 5, 7, 8, 14, 100] {
        let preview = f
            .service
            .preview_segment(&f.organizer, f.event, &rule, limit)
            .await
            .unwrap();
        assert_eq!(preview.count, 14, "limit {limit}: the count is exact");
        assert_eq!(preview.members.len(), limit.min(14), "limit {limit}");
        let ids: Vec<_> = preview.members.iter().map(|m| m.id).collect();
        assert!(
            ids.iter().all(|id| exhibitors.contains(id)),
            "limit {limit}: only members"
        );
        let expected: Vec<_> = exhibitors.iter().copied().take(limit).collect();
        assert_eq!(
            ids, expected,
            "limit {limit}: the first members in id order"
        );
    }
    let everyone = f
        .service
        .preview_segment(&f.organizer, f.event, &Rule::Everyone, 3)
        .await
        .unwrap();
    assert_eq!((everyone.count, everyone.members.len()), (20, 3));
    let nobody = f
        .service
        .preview_segment(&f.organizer, f.event, &Rule::category("speaker"), 10)
        .await
        .unwrap();
    assert_eq!((nobody.count, nobody.members.len()), (0, 0));
    let someone = f.dump().await.participants[0].participant.clone();
    let r = f
        .service
        .preview_segment(&f.as_participant(&someone), f.event, &rule, 10)
        .await;
    assert_forbidden(r, "a participant previews a segment");
    assert_eq!(f.dump().await, before, "a preview writes nothing");
}
