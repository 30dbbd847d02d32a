//! Conformance checks, group B: segments (S), the Tasks section (P), the record (R),
//! batches (X3), notices (N1, N2) and the live stream (B1).
//!
//! Every check takes a fresh store and panics on failure. "Writes nothing" is proven by
//! comparing the canonical dump before and after.
//!
//! The live-stream checks bound their waits with a timer thread rather than
//! `tokio::time`, so the suite needs no more of `tokio` than the `testkit` feature enables.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use chrono::Duration;
use futures::StreamExt;

use super::assert::{assert_forbidden, assert_not_found, invalid_field};
use super::{DumpStore, EventDump, Fixture};
use crate::*;

// ----- helpers ------------------------------------------------------------------------

/// How long a check waits for a change it expects on the live stream.
const FEED_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a check listens to prove that no further change arrives.
const QUIET_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// Runs `fut` for at most `limit`; `None` when the time ran out. The timer is a plain
/// thread, so this works on any runtime and needs no `tokio` timer.
async fn within<F: Future>(limit: std::time::Duration, fut: F) -> Option<F::Output> {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        let _ = tx.send(());
    });
    let fut = std::pin::pin!(fut);
    match futures::future::select(fut, rx).await {
        futures::future::Either::Left((out, _)) => Some(out),
        futures::future::Either::Right(_) => None,
    }
}

/// The next change on the feed, or a panic naming `what` if none comes in time.
pub(super) async fn next_change(feed: &mut ProgressFeed, what: &str) -> ProgressChange {
    within(FEED_WAIT, feed.next())
        .await
        .unwrap_or_else(|| panic!("no change on the live stream for {what}"))
        .unwrap_or_else(|| panic!("the live stream ended while waiting for {what}"))
        .unwrap_or_else(|e| panic!("the live stream failed while waiting for {what}: {e}"))
}

/// Asserts that no change arrives on the feed for a short while.
pub(super) async fn assert_quiet(feed: &mut ProgressFeed, why: &str) {
    if let Some(item) = within(QUIET_WAIT, feed.next()).await {
        panic!("unexpected item on the live stream ({why}): {item:?}");
    }
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

/// The item of `task` owned by `owner` in `reader`'s list.
async fn item_of<S: DumpStore>(
    f: &Fixture<S>,
    reader: &Participant,
    owner: &Participant,
    task: TaskId,
) -> Option<TaskItem> {
    f.list(reader)
        .await
        .items
        .into_iter()
        .find(|i| i.task == task && i.owner == owner.id)
}

/// A participant's state in a dump.
fn state_in<'d>(dump: &'d EventDump, p: &Participant) -> &'d ParticipantState {
    dump.participants
        .iter()
        .find(|s| s.participant.id == p.id)
        .expect("participant in dump")
}

/// Creates a task from `config` and publishes it.
async fn publish_config<S: DumpStore>(f: &Fixture<S>, config: TaskConfig) -> Task {
    f.publish(config).await
}

// ----- S: segments ---------------------------------------------------------------------

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

// ----- P: the Tasks section ------------------------------------------------------------

/// P1: the list is ordered by position then deadline (none last), each item carries its
/// help link, deadline, manual flag and assignee; drafts and archived tasks are not
/// listed; names are in the reader's language with the default as fallback.
pub async fn p1_list_ordered_with_help_link_and_assignee<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let mut jean = NewParticipant::new(ExternalId::new("jean").unwrap());
    jean.status.language = Some(f.fr.clone());
    let jean = f
        .service
        .register_participant(&f.organizer, f.event, jean)
        .await
        .unwrap();

    let now = f.clock.now();
    let (d1, d2) = (now + Duration::days(3), now + Duration::days(10));
    let web = Fixture::<S>::web();
    let manual = |name: &str, position: i32, deadline| {
        let mut c = TaskConfig::manual(f.en.clone(), name, web.clone());
        c.position = position;
        c.deadline = deadline;
        c
    };
    let late = publish_config(&f, manual("Late", 2, Some(d1))).await;
    let no_deadline = publish_config(&f, manual("Alpha no deadline", 1, None)).await;
    let mut bilingual = manual("Book your hotel", 1, Some(d2));
    bilingual.texts.insert(
        f.fr.clone(),
        TaskText {
            name: "Réservez votre hôtel".into(),
            description: "Avant le salon".into(),
        },
    );
    bilingual.texts.get_mut(&f.en).unwrap().description = "Before the show".into();
    let second = publish_config(&f, bilingual).await;
    let first_deadline = publish_config(&f, manual("Zulu soon", 1, Some(d1))).await;
    let form = HelpLink::FormStep {
        form: "exhibitor-profile".into(),
        step: "logo".into(),
    };
    let mut auto =
        TaskConfig::automatic(f.en.clone(), "Logo", Condition::LogoUploaded, form.clone());
    auto.position = 0;
    let auto = publish_config(&f, auto).await;
    let _draft = f
        .service
        .create_task(&f.organizer, f.event, manual("Draft", -5, None))
        .await
        .unwrap();
    let archived = publish_config(&f, manual("Archived", -5, None)).await;
    f.service
        .archive_task(&f.organizer, f.event, archived.id)
        .await
        .unwrap();
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            first_deadline.id,
            team.id,
        )
        .await
        .unwrap();

    let list = f.list(&owner).await;
    assert!(list.tasks_enabled);
    assert_eq!(list.time_zone, chrono_tz::Europe::Paris);
    let order: Vec<TaskId> = list.items.iter().map(|i| i.task).collect();
    assert_eq!(
        order,
        [
            auto.id,
            first_deadline.id,
            second.id,
            no_deadline.id,
            late.id
        ],
        "position, then deadline (none last); drafts and archived tasks are not listed"
    );
    for item in &list.items {
        assert_eq!(item.owner, owner.id);
        assert_eq!(item.status, ProgressStatus::Todo);
        if item.task == auto.id {
            assert!(!item.manual, "an automatic task is not tickable");
            assert_eq!(item.help, form);
            assert_eq!(item.position, 0);
        } else {
            assert!(item.manual);
            assert_eq!(item.help, web);
        }
        let want_assignee = (item.task == first_deadline.id).then_some(team.id);
        assert_eq!(item.assignee, want_assignee, "{}", item.name);
    }
    let deadlines: Vec<_> = list.items.iter().map(|i| i.deadline).collect();
    assert_eq!(deadlines, [None, Some(d1), Some(d2), None, Some(d1)]);
    let hotel = list.items.iter().find(|i| i.task == second.id).unwrap();
    assert_eq!(
        (hotel.name.as_str(), hotel.description.as_str()),
        ("Book your hotel", "Before the show")
    );

    // Jean reads French where there is French, English elsewhere.
    let jean_list = f.list(&jean).await;
    let names: BTreeMap<TaskId, (String, String)> = jean_list
        .items
        .iter()
        .map(|i| (i.task, (i.name.clone(), i.description.clone())))
        .collect();
    assert_eq!(
        names[&second.id],
        (
            "Réservez votre hôtel".to_owned(),
            "Avant le salon".to_owned()
        )
    );
    assert_eq!(
        names[&late.id].0, "Late",
        "no French name: the default language's"
    );
    assert_eq!(names[&no_deadline.id].0, "Alpha no deadline");
    assert!(!names.contains_key(&archived.id));
    let order: Vec<TaskId> = jean_list.items.iter().map(|i| i.task).collect();
    assert_eq!(
        order,
        [
            auto.id,
            first_deadline.id,
            second.id,
            no_deadline.id,
            late.id
        ]
    );

    // The organizer reads a participant's list as they see it.
    let seen_by_staff = f
        .service
        .tasks_of(&f.organizer, f.event, owner.id)
        .await
        .unwrap();
    assert_eq!(seen_by_staff.items, list.items);
}

/// P2: done / total and percent over the visible tasks the reader owns; tasks assigned to
/// them by another owner count apart.
pub async fn p2_progress_summary<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["visitor"]).await;
    let me = f.as_participant(&ann);
    let m1 = f.manual_task("Hotel", None).await;
    let m2 = f.manual_task("Badge", None).await;
    let m3 = f.manual_task("Survey", None).await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let _other_segment = f.manual_task("Stand plan", Some(f.exhibitors)).await;
    let _draft = f.draft_manual("Draft", None).await;
    let summary = |p: Participant| {
        let f = &f;
        async move { f.list(&p).await.summary }
    };
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 0,
            total: 4,
            percent: 0
        }
    );
    f.service
        .complete_task(&me, f.event, ann.id, m1.id)
        .await
        .unwrap();
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 1,
            total: 4,
            percent: 25
        }
    );
    f.fact("logo", &ann, HostFact::LogoUploaded).await;
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 2,
            total: 4,
            percent: 50
        }
    );
    f.service
        .complete_task(&me, f.event, ann.id, m2.id)
        .await
        .unwrap();
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 3,
            total: 4,
            percent: 75
        }
    );
    f.service
        .undo_task(&me, f.event, ann.id, m2.id)
        .await
        .unwrap();
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 2,
            total: 4,
            percent: 50
        }
    );
    f.service
        .archive_task(&f.organizer, f.event, m3.id)
        .await
        .unwrap();
    assert_eq!(
        summary(ann.clone()).await,
        ProgressSummary {
            done: 2,
            total: 3,
            percent: 66
        },
        "archived tasks leave the summary; percent rounds down"
    );
    assert!(f.list(&ann).await.items.iter().any(|i| i.task == logo.id));

    // A task assigned to me counts in its owner's summary, not in mine.
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    let stand = f.manual_task("Stand", Some(f.exhibitors)).await;
    let team_before = f.list(&team).await.summary;
    let owner_before = f.list(&owner).await.summary;
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            stand.id,
            team.id,
        )
        .await
        .unwrap();
    let team_list = f.list(&team).await;
    assert_eq!(
        team_list.summary, team_before,
        "an assigned task is not the assignee's own"
    );
    assert_eq!(team_list.assigned_to_me, ProgressSummary::new(0, 1));
    f.service
        .complete_task(&f.as_participant(&team), f.event, owner.id, stand.id)
        .await
        .unwrap();
    assert_eq!(
        f.list(&team).await.assigned_to_me,
        ProgressSummary {
            done: 1,
            total: 1,
            percent: 100
        }
    );
    let owner_after = f.list(&owner).await.summary;
    assert_eq!(
        (owner_after.done, owner_after.total),
        (owner_before.done + 1, owner_before.total),
        "the assignee's completion counts for the owner"
    );
}

/// P4: the owner assigns a task to a collaborator, who sees and completes it; the owner
/// sees who holds it; reassigning moves it; taking it back removes it; the assignee can
/// neither assign nor take back.
pub async fn p4_assign_reassign_take_back<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, team1) = f.exhibitor_with_collaborator("acme").await;
    let team2 = f.participant("acme-team2", &[]).await;
    f.service
        .link_collaborator(&f.organizer, f.event, owner.id, team2.id)
        .await
        .unwrap();
    let task = f
        .manual_task("Book the stand furniture", Some(f.exhibitors))
        .await;
    let as_owner = f.as_participant(&owner);
    assert!(
        item_of(&f, &team1, &owner, task.id).await.is_none(),
        "not assigned yet"
    );

    let row = f
        .service
        .assign_task(&as_owner, f.event, owner.id, task.id, team1.id)
        .await
        .expect("assign");
    assert_eq!(row.assignee, Some(team1.id));
    let held = item_of(&f, &team1, &owner, task.id)
        .await
        .expect("the assignee sees it");
    assert_eq!(held.owner, owner.id);
    assert_eq!(held.status, ProgressStatus::Todo);
    assert!(held.manual);
    assert_eq!(
        item_of(&f, &owner, &owner, task.id).await.unwrap().assignee,
        Some(team1.id)
    );
    assert!(item_of(&f, &team2, &owner, task.id).await.is_none());

    f.service
        .complete_task(&f.as_participant(&team1), f.event, owner.id, task.id)
        .await
        .expect("the assignee completes a manual task");
    let mine = item_of(&f, &owner, &owner, task.id).await.unwrap();
    assert_eq!(mine.status, ProgressStatus::Done);
    assert_eq!(
        mine.completion.as_ref().map(|c| c.by.clone()),
        Some(f.as_participant(&team1))
    );
    assert_eq!(
        item_of(&f, &team1, &owner, task.id).await.unwrap().status,
        ProgressStatus::Done
    );
    f.service
        .undo_task(&f.as_participant(&team1), f.event, owner.id, task.id)
        .await
        .expect("the assignee undoes");
    assert_eq!(f.status(&owner, task.id).await, Some(ProgressStatus::Todo));

    // Reassign.
    f.service
        .assign_task(&as_owner, f.event, owner.id, task.id, team2.id)
        .await
        .expect("reassign");
    assert!(
        item_of(&f, &team1, &owner, task.id).await.is_none(),
        "moved away from the first"
    );
    assert_eq!(
        item_of(&f, &team2, &owner, task.id).await.unwrap().owner,
        owner.id
    );
    assert_eq!(
        item_of(&f, &owner, &owner, task.id).await.unwrap().assignee,
        Some(team2.id)
    );
    let before = f.dump().await;
    let r = f
        .service
        .complete_task(&f.as_participant(&team1), f.event, owner.id, task.id)
        .await;
    assert_forbidden(r, "the former assignee completes");
    // The assignee cannot hand it on or take it back.
    let as_team2 = f.as_participant(&team2);
    let r = f
        .service
        .assign_task(&as_team2, f.event, owner.id, task.id, team1.id)
        .await;
    assert_forbidden(r, "the assignee assigns");
    let r = f
        .service
        .take_back_task(&as_team2, f.event, owner.id, task.id)
        .await;
    assert_forbidden(r, "the assignee takes back");
    assert_eq!(f.dump().await, before, "refused calls wrote something");

    // Take back.
    let row = f
        .service
        .take_back_task(&as_owner, f.event, owner.id, task.id)
        .await
        .expect("take back");
    assert_eq!(row.assignee, None);
    assert!(
        item_of(&f, &team2, &owner, task.id).await.is_none(),
        "taken back"
    );
    assert_eq!(
        item_of(&f, &owner, &owner, task.id).await.unwrap().assignee,
        None
    );
    assert_eq!(
        f.list(&team2).await.assigned_to_me,
        ProgressSummary::new(0, 0)
    );
    let r = f
        .service
        .complete_task(&as_team2, f.event, owner.id, task.id)
        .await;
    assert_forbidden(r, "completing a task taken back");
}

/// P4, X2: a task can only be assigned to one of the owner's own collaborators; anything
/// else is Forbidden (whom one may hand a task to is a matter of who may act) and writes
/// nothing.
pub async fn p4_assign_only_to_own_collaborators<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let (owner, _team) = f.exhibitor_with_collaborator("acme").await;
    let (other, other_team) = f.exhibitor_with_collaborator("globex").await;
    let stranger = f.participant("zed", &[]).await;
    let task = f.manual_task("Stand", Some(f.exhibitors)).await;
    let as_owner = f.as_participant(&owner);
    let before = f.dump().await;
    for (who, case) in [
        (&stranger, "a participant of no team"),
        (&other_team, "another exhibitor's collaborator"),
        (&other, "another exhibitor"),
        (&owner, "the owner themselves"),
    ] {
        let r = f
            .service
            .assign_task(&as_owner, f.event, owner.id, task.id, who.id)
            .await;
        assert_forbidden(r, case);
    }
    // Nor may an organizer hand it outside the team.
    let r = f
        .service
        .assign_task(&f.organizer, f.event, owner.id, task.id, other_team.id)
        .await;
    assert_forbidden(r, "organizer assigns outside the team");
    // Nor may the other exhibitor assign the owner's task to their own team.
    let r = f
        .service
        .assign_task(
            &f.as_participant(&other),
            f.event,
            owner.id,
            task.id,
            other_team.id,
        )
        .await;
    assert_forbidden(r, "another owner assigns my task");
    assert_eq!(
        f.dump().await,
        before,
        "a refused assignment wrote something"
    );
    assert!(
        f.outbox().await.is_empty(),
        "no assignment notice was queued"
    );
    assert!(item_of(&f, &other_team, &owner, task.id).await.is_none());
}

/// P5: seconds left and the overdue flag follow the clock; a done task is never overdue.
pub async fn p5_deadline_and_overdue<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &[]).await;
    let deadline = f.clock.now() + Duration::days(2);
    let mut config = TaskConfig::manual(f.en.clone(), "Send your invoice", Fixture::<S>::web());
    config.deadline = Some(deadline);
    let task = publish_config(&f, config).await;
    let open = f.manual_task("No deadline", None).await;
    let item = |t: TaskId| {
        let (f, ann) = (&f, &ann);
        async move { item_of(f, ann, ann, t).await.expect("listed") }
    };
    let i = item(task.id).await;
    assert_eq!(i.deadline, Some(deadline));
    assert_eq!(i.seconds_left, Some(2 * 86_400));
    assert!(!i.overdue);
    let o = item(open.id).await;
    assert_eq!((o.seconds_left, o.overdue), (None, false));

    f.clock.set(deadline);
    let i = item(task.id).await;
    assert_eq!(
        (i.seconds_left, i.overdue),
        (Some(0), false),
        "at the deadline, not yet overdue"
    );

    f.clock.advance(Duration::days(1));
    let i = item(task.id).await;
    assert!(i.overdue, "passed and not done");
    assert_eq!(i.seconds_left, Some(-86_400));
    assert!(!item(open.id).await.overdue, "no deadline, never overdue");

    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, task.id)
        .await
        .unwrap();
    let i = item(task.id).await;
    assert!(!i.overdue, "a done task is not overdue");
    assert_eq!(i.seconds_left, Some(-86_400));
    f.service
        .undo_task(&f.as_participant(&ann), f.event, ann.id, task.id)
        .await
        .unwrap();
    assert!(
        item(task.id).await.overdue,
        "undone after the deadline: overdue again"
    );
}

// ----- R: the participant record -------------------------------------------------------

/// R1–R4: a bad record is refused with the field and writes nothing; custom fields are
/// never shown to the participant; a participant may change their profile only.
pub async fn r1_r4_record_validated_and_custom_fields_hidden<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let mut new = NewParticipant::new(ExternalId::new("ann").unwrap());
    new.profile.first_name = "Ann".into();
    new.profile.email = Some("ann@example.org".into());
    new.profile.website = Some("https://ann.example".into());
    new.status.categories = ["exhibitor".to_owned()].into();
    new.utm.source = Some("newsletter".into());
    new.custom_fields.insert("stand".into(), "B12".into());
    let ann = f
        .service
        .register_participant(&f.organizer, f.event, new)
        .await
        .unwrap();
    assert_eq!(
        ann.custom_fields.get("stand").map(String::as_str),
        Some("B12")
    );

    let before = f.dump().await;
    let base = || {
        let mut n = NewParticipant::new(ExternalId::new("bob").unwrap());
        n.profile.email = Some("bob@example.org".into());
        n
    };
    let mut cases: Vec<(NewParticipant, &str)> = Vec::new();
    for bad in [
        "not-an-email",
        "bob@",
        "@example.org",
        "bob@localhost",
        "bob @example.org",
    ] {
        let mut n = base();
        n.profile.email = Some(bad.into());
        cases.push((n, "profile.email"));
    }
    for bad in ["ftp://bob.example", "bob.example", "https://"] {
        let mut n = base();
        n.profile.website = Some(bad.into());
        cases.push((n, "profile.website"));
    }
    let mut n = base();
    n.custom_fields.insert("x".into(), "1".into());
    cases.push((n, "custom_fields.x"));
    let mut n = base();
    n.external_id = ann.external_id.clone();
    cases.push((n, "external_id"));
    let mut n = base();
    n.status.language = Some(Language::new("de").unwrap());
    cases.push((n, "status.language"));
    for (n, field) in cases {
        let case = format!("{field} {:?}", n.profile);
        let r = f
            .service
            .register_participant(&f.organizer, f.event, n)
            .await;
        assert_eq!(invalid_field(r, &case), field, "{case}");
    }
    assert_eq!(
        f.dump().await,
        before,
        "a refused registration wrote something"
    );

    // Custom fields: the organizer reads them, the participant never does.
    let me = f.as_participant(&ann);
    let by_staff = f
        .service
        .participant(&f.organizer, f.event, ann.id)
        .await
        .unwrap();
    assert_eq!(
        by_staff.custom_fields.get("stand").map(String::as_str),
        Some("B12")
    );
    let by_self = f.service.participant(&me, f.event, ann.id).await.unwrap();
    assert!(
        by_self.custom_fields.is_empty(),
        "custom fields shown to the participant"
    );
    assert_eq!(by_self.profile, by_staff.profile);
    assert_eq!(by_self.status, by_staff.status);
    assert_eq!(by_self.utm, by_staff.utm);

    // The participant may change their own profile…
    let mut profile = by_self.profile.clone();
    profile.company = "Acme".into();
    profile.job_title = "CEO".into();
    let updated = f
        .service
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
        .expect("a participant updates their profile");
    assert_eq!(updated.profile, profile);
    assert!(
        updated.custom_fields.is_empty(),
        "the updated record returned to the participant shows custom fields"
    );
    let by_staff = f
        .service
        .participant(&f.organizer, f.event, ann.id)
        .await
        .unwrap();
    assert_eq!(by_staff.profile, profile);
    assert_eq!(
        by_staff.custom_fields.get("stand").map(String::as_str),
        Some("B12"),
        "custom fields kept"
    );

    // …but nothing else, and bad values are refused.
    let before = f.dump().await;
    let mut status = by_staff.status.clone();
    status.categories.insert("vip".into());
    let forbidden = [
        ParticipantPatch {
            status: status.into(),
            ..ParticipantPatch::default()
        },
        ParticipantPatch {
            utm: Utm {
                source: Some("x".into()),
                ..Utm::default()
            }
            .into(),
            ..ParticipantPatch::default()
        },
        ParticipantPatch {
            custom_fields: [("stand".to_owned(), Some("Z9".to_owned()))].into(),
            ..ParticipantPatch::default()
        },
        ParticipantPatch {
            profile: profile.clone().into(),
            custom_fields: [("stand".to_owned(), None)].into(),
            ..ParticipantPatch::default()
        },
    ];
    for (i, patch) in forbidden.into_iter().enumerate() {
        let r = f
            .service
            .update_participant(&me, f.event, ann.id, patch)
            .await;
        assert_forbidden(r, &format!("participant patch {i}"));
    }
    let mut bad = profile.clone();
    bad.email = Some("nope".into());
    let r = f
        .service
        .update_participant(
            &me,
            f.event,
            ann.id,
            ParticipantPatch {
                profile: bad.into(),
                ..ParticipantPatch::default()
            },
        )
        .await;
    assert_eq!(invalid_field(r, "bad email on update"), "profile.email");
    let r = f
        .service
        .update_participant(
            &f.organizer,
            f.event,
            ann.id,
            ParticipantPatch {
                custom_fields: [("x".to_owned(), Some("1".to_owned()))].into(),
                ..ParticipantPatch::default()
            },
        )
        .await;
    assert_eq!(
        invalid_field(r, "unknown custom field on update"),
        "custom_fields.x"
    );
    assert_eq!(f.dump().await, before, "a refused update wrote something");
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

// ----- X3: host events in batches ------------------------------------------------------

/// X3: every item of a batch gets its own result, in order (applied, duplicate within the
/// batch or from before, unknown participant, invalid); the valid ones are committed in
/// one transaction, with their progress changes on the live stream; an all-bad batch
/// writes nothing.
pub async fn x3_batch_results_per_item_and_one_transaction<S: DumpStore>(store: S) {
    let store = Arc::new(super::Interleaving::new(Arc::new(store)));
    let f = Fixture::with_store(store.clone()).await;
    let ann = f.participant("ann", &[]).await;
    let bob = f.participant("bob", &[]).await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let products = f
        .auto_task("Products", Condition::Products { at_least: 1 }, None)
        .await;
    let sku = |s: &str| ExternalId::new(s).unwrap();
    f.fact("pre-1", &bob, HostFact::ProductAdded { product: sku("p1") })
        .await;
    assert_eq!(
        f.status(&bob, products.id).await,
        Some(ProgressStatus::Done)
    );
    let mut feed = f
        .service
        .progress_feed(&f.organizer, f.event)
        .await
        .unwrap();

    f.clock.advance(Duration::seconds(10));
    let ghost = Participant {
        id: ParticipantId::new_at(f.clock.now()),
        ..ann.clone()
    };
    let batch = vec![
        f.host_event("b-1", &ann, HostFact::LogoUploaded),
        f.host_event("b-2", &ghost, HostFact::LogoUploaded),
        f.host_event(
            "b-3",
            &ann,
            HostFact::FieldSet {
                field: "bad key".into(),
                value: "x".into(),
            },
        ),
        // Same id as item 0: would reopen bob's products if it were applied.
        f.host_event("b-1", &bob, HostFact::ProductRemoved { product: sku("p1") }),
        // Ingested before: would remove ann's logo if it were applied.
        f.host_event("pre-1", &ann, HostFact::LogoRemoved),
        f.host_event("b-4", &bob, HostFact::LogoUploaded),
        f.host_event("b-5", &ann, HostFact::ProductAdded { product: sku("p7") }),
    ];
    let commits = store.commits();
    let results = f
        .service
        .ingest_batch(&Actor::System, f.event, batch)
        .await
        .expect("batch");
    assert_eq!(results.len(), 7, "one result per item");
    assert!(
        matches!(results[0], Ok(IngestOutcome::Applied)),
        "{:?}",
        results[0]
    );
    assert!(
        matches!(
            &results[1],
            Err(Error::NotFound {
                entity: "participant",
                ..
            })
        ),
        "{:?}",
        results[1]
    );
    assert_eq!(
        results[2].as_ref().err().and_then(Error::field),
        Some("fact.field"),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(results[3], Ok(IngestOutcome::Duplicate)),
        "duplicate within the batch: {:?}",
        results[3]
    );
    assert!(
        matches!(results[4], Ok(IngestOutcome::Duplicate)),
        "ingested before: {:?}",
        results[4]
    );
    assert!(
        matches!(results[5], Ok(IngestOutcome::Applied)),
        "{:?}",
        results[5]
    );
    assert!(
        matches!(results[6], Ok(IngestOutcome::Applied)),
        "{:?}",
        results[6]
    );
    assert_eq!(
        store.commits() - commits,
        1,
        "the valid items are committed in one transaction"
    );

    assert_eq!(f.status(&ann, logo.id).await, Some(ProgressStatus::Done));
    assert_eq!(
        f.status(&ann, products.id).await,
        Some(ProgressStatus::Done)
    );
    assert_eq!(f.status(&bob, logo.id).await, Some(ProgressStatus::Done));
    assert_eq!(
        f.status(&bob, products.id).await,
        Some(ProgressStatus::Done),
        "the duplicate was not applied"
    );
    let dump = f.dump().await;
    let ids: BTreeSet<&str> = dump.host_events.iter().map(HostEventId::as_str).collect();
    assert_eq!(
        ids,
        BTreeSet::from(["pre-1", "b-1", "b-4", "b-5"]),
        "refused items are not recorded"
    );
    assert!(state_in(&dump, &ann).facts.has_logo());
    assert_eq!(state_in(&dump, &bob).facts.products.count(), 1);

    // The live stream delivered the batch's three completions, and nothing else.
    let mut seen = BTreeSet::new();
    for _ in 0..3 {
        let c = next_change(&mut feed, "the batch's completions").await;
        assert_eq!(c.event, f.event);
        assert_eq!(c.before, Some(ProgressStatus::Todo));
        assert_eq!(c.after.status, ProgressStatus::Done);
        assert_eq!(c.at, f.clock.now());
        seen.insert((c.participant, c.task));
    }
    assert_eq!(
        seen,
        BTreeSet::from([(ann.id, logo.id), (ann.id, products.id), (bob.id, logo.id)])
    );
    assert_quiet(&mut feed, "the batch made three changes").await;

    // A batch of bad items only writes nothing.
    let before = f.dump().await;
    let commits = store.commits();
    let results = f
        .service
        .ingest_batch(
            &Actor::System,
            f.event,
            vec![
                f.host_event("c-1", &ghost, HostFact::LogoUploaded),
                f.host_event(
                    "c-2",
                    &ann,
                    HostFact::FormCompleted {
                        form: "no spaces allowed".into(),
                    },
                ),
                f.host_event("b-4", &ann, HostFact::LogoRemoved),
            ],
        )
        .await
        .expect("batch");
    assert!(
        matches!(results[0], Err(Error::NotFound { .. })),
        "{:?}",
        results[0]
    );
    assert_eq!(
        results[1].as_ref().err().and_then(Error::field),
        Some("fact.form")
    );
    assert!(matches!(results[2], Ok(IngestOutcome::Duplicate)));
    assert_eq!(store.commits(), commits, "nothing committed");
    assert_eq!(f.dump().await, before, "an all-bad batch wrote something");
    assert_quiet(&mut feed, "an all-bad batch changes nothing").await;

    // Only the system (or the event's organizers) report facts.
    let r = f
        .service
        .ingest_batch(
            &f.as_participant(&ann),
            f.event,
            vec![f.host_event("d-1", &ann, HostFact::LogoUploaded)],
        )
        .await;
    assert_forbidden(r, "a participant reports facts");
    assert_eq!(f.dump().await, before);
}

/// X3, T4: linking a collaborator through the service and the host reporting "collaborator
/// added" with their `external_id` are one fact; "collaborator removed" unlinks; "added"
/// with an unlinked participant's `external_id` links them.
pub async fn x3_collaborator_fact_and_link_are_one_fact<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let owner = f.participant("acme", &["exhibitor"]).await;
    let team = f.participant("acme-team", &[]).await;
    let newcomer = f.participant("acme-new", &[]).await;
    let task = f
        .auto_task(
            "Create a collaborator",
            Condition::Collaborators { at_least: 1 },
            Some(f.exhibitors),
        )
        .await;
    let collaborator_count = || {
        let (f, owner) = (&f, owner.clone());
        async move {
            state_in(&f.dump().await, &owner)
                .facts
                .collaborators
                .count()
        }
    };
    let team_ids = || {
        let (f, owner) = (&f, owner.clone());
        async move {
            f.service
                .collaborators(&f.organizer, f.event, owner.id)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(f.status(&owner, task.id).await, Some(ProgressStatus::Todo));

    f.clock.advance(Duration::seconds(1));
    f.service
        .link_collaborator(&f.organizer, f.event, owner.id, team.id)
        .await
        .unwrap();
    assert_eq!(
        f.status(&owner, task.id).await,
        Some(ProgressStatus::Done),
        "linking counts"
    );
    assert_eq!(collaborator_count().await, 1);
    assert_eq!(team_ids().await, [team.id]);

    f.clock.advance(Duration::seconds(1));
    let outcome = f
        .fact(
            "h-add",
            &owner,
            HostFact::CollaboratorAdded {
                collaborator: team.external_id.clone(),
            },
        )
        .await;
    assert_eq!(outcome, IngestOutcome::Applied);
    assert_eq!(
        collaborator_count().await,
        1,
        "the same collaborator counts once"
    );
    assert_eq!(team_ids().await, [team.id]);
    assert_eq!(f.status(&owner, task.id).await, Some(ProgressStatus::Done));

    f.clock.advance(Duration::seconds(1));
    f.fact(
        "h-remove",
        &owner,
        HostFact::CollaboratorRemoved {
            collaborator: team.external_id.clone(),
        },
    )
    .await;
    assert_eq!(collaborator_count().await, 0);
    assert_eq!(
        f.status(&owner, task.id).await,
        Some(ProgressStatus::Todo),
        "back to do"
    );
    assert!(team_ids().await.is_empty(), "no longer a collaborator");
    let team_now = f
        .service
        .participant(&f.organizer, f.event, team.id)
        .await
        .unwrap();
    assert_eq!(team_now.owner, None);

    f.clock.advance(Duration::seconds(1));
    f.fact(
        "h-new",
        &owner,
        HostFact::CollaboratorAdded {
            collaborator: newcomer.external_id.clone(),
        },
    )
    .await;
    assert_eq!(
        team_ids().await,
        [newcomer.id],
        "the reported collaborator is linked"
    );
    let newcomer_now = f
        .service
        .participant(&f.organizer, f.event, newcomer.id)
        .await
        .unwrap();
    assert_eq!(newcomer_now.owner, Some(owner.id));
    assert_eq!(collaborator_count().await, 1);
    assert_eq!(f.status(&owner, task.id).await, Some(ProgressStatus::Done));
    // The link is real: the owner can hand a task to them.
    let stand = f.manual_task("Stand", Some(f.exhibitors)).await;
    f.service
        .assign_task(
            &f.as_participant(&owner),
            f.event,
            owner.id,
            stand.id,
            newcomer.id,
        )
        .await
        .expect("assign to the collaborator the host reported");
    // Linking through the service afterwards is the same fact: nothing moves.
    let before = f.dump().await;
    f.service
        .link_collaborator(&f.organizer, f.event, owner.id, newcomer.id)
        .await
        .unwrap();
    assert_eq!(
        f.dump().await,
        before,
        "linking an existing collaborator again changed something"
    );
}

// ----- N: notifications ----------------------------------------------------------------

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

// ----- B: back-office tracking ---------------------------------------------------------

/// B1: the live stream delivers each committed progress change (a manual completion, a
/// fact completing an automatic task, a change made by another service instance sharing
/// the store) and nothing of other events; only the event's organizers may subscribe.
pub async fn b1_live_stream_reports_commits<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store.clone()).await;
    let ann = f.participant("ann", &[]).await;
    let manual = f.manual_task("Hotel", None).await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let mut feed = f
        .service
        .progress_feed(&f.organizer, f.event)
        .await
        .expect("subscribe");

    f.clock.advance(Duration::minutes(1));
    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, manual.id)
        .await
        .unwrap();
    let c = next_change(&mut feed, "a manual completion").await;
    assert_eq!(
        (c.event, c.task, c.participant),
        (f.event, manual.id, ann.id)
    );
    assert_eq!(c.before, Some(ProgressStatus::Todo));
    assert_eq!(c.after.status, ProgressStatus::Done);
    assert_eq!(
        c.after.completion.as_ref().map(|c| c.how),
        Some(CompletedHow::Manual)
    );
    assert_eq!(c.at, f.clock.now());
    assert_quiet(&mut feed, "one completion, one change").await;

    f.clock.advance(Duration::minutes(1));
    f.fact("logo-1", &ann, HostFact::LogoUploaded).await;
    let c = next_change(&mut feed, "a fact completing an automatic task").await;
    assert_eq!((c.task, c.participant), (logo.id, ann.id));
    assert_eq!(c.before, Some(ProgressStatus::Todo));
    assert_eq!(c.after.status, ProgressStatus::Done);
    assert_eq!(
        c.after.completion.as_ref().map(|c| c.how),
        Some(CompletedHow::Condition)
    );

    // A redelivered fact changes nothing, so streams nothing.
    f.fact("logo-1", &ann, HostFact::LogoUploaded).await;
    assert_quiet(&mut feed, "a duplicate fact").await;

    // Another event's changes stay on its own stream.
    let bob = other.participant("bob", &[]).await;
    let foreign = other.manual_task("Foreign", None).await;
    other
        .service
        .complete_task(&other.as_participant(&bob), other.event, bob.id, foreign.id)
        .await
        .unwrap();
    assert_quiet(&mut feed, "another event's change").await;

    // A second instance sharing the store: its commits reach this stream too.
    let second: Punchlist<S, ManualClock> = Punchlist::new(store.clone(), f.clock.clone());
    second
        .undo_task(&f.as_participant(&ann), f.event, ann.id, manual.id)
        .await
        .unwrap();
    let c = next_change(&mut feed, "another instance's change").await;
    assert_eq!((c.task, c.participant), (manual.id, ann.id));
    assert_eq!(
        (c.before, c.after.status),
        (Some(ProgressStatus::Done), ProgressStatus::Todo)
    );

    // A newly published task: rows created, `before` None.
    let badge = f.manual_task("Badge", None).await;
    let c = next_change(&mut feed, "a publication").await;
    assert_eq!((c.task, c.participant, c.before), (badge.id, ann.id, None));
    assert_eq!(c.after.status, ProgressStatus::Todo);

    // Who may subscribe.
    let r = f
        .service
        .progress_feed(&f.as_participant(&ann), f.event)
        .await
        .map(drop);
    assert_forbidden(r, "a participant subscribes");
    let r = f
        .service
        .progress_feed(&other.organizer, f.event)
        .await
        .map(drop);
    assert_not_found(r, "another event's organizer subscribes");
    let r = f
        .service
        .progress_feed(&f.organizer, EventId::new_at(f.clock.now()))
        .await
        .map(drop);
    assert_not_found(r, "an unknown event");
}
