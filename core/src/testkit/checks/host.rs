//! Conformance checks for host events (X3): batches with a result per item in one
//! transaction, one fact however it arrives, and participants named by the host's own id.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;

use super::common::{assert_quiet, host_id, next_change, state_in};
use crate::store::ParticipantState;
use crate::testkit::assert::{Kind, assert_forbidden, assert_kind};
use crate::testkit::{DumpStore, EventDump, Fixture, Interleaving};
use crate::*;

/// X3: every item of a batch gets its own result, in order (applied, duplicate within the
/// batch or from before, unknown participant, invalid); the valid ones are committed in
/// one transaction, with their progress changes on the live stream; an all-bad batch
/// writes nothing.
pub async fn x3_batch_results_per_item_and_one_transaction<S: DumpStore>(store: S) {
    let store = Arc::new(Interleaving::new(Arc::new(store)));
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

/// X3: a host names participants in facts and actions by its own id (`external_id`) as
/// well as by the library's; an unknown one is `NotFound` for that item only.
pub async fn x3_host_reports_name_participants_by_the_hosts_id<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let p = f.participant("crm-42", &["exhibitor"]).await;
    let logo = f
        .auto_task("Logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await;
    let by_host = |id: &str, who: &str| HostEvent {
        id: host_id(id),
        participant: ExternalId::new(who).unwrap().into(),
        occurred_at: f.clock.now(),
        fact: HostFact::LogoUploaded,
    };
    let answers = f
        .service
        .ingest_batch(
            &Actor::System,
            f.event,
            vec![by_host("logo", "crm-42"), by_host("ghost", "crm-404")],
        )
        .await
        .unwrap();
    assert_kind(&answers[0], Kind::Ok, "a fact by the host's id");
    assert_kind(&answers[1], Kind::NotFound, "an unknown host id");
    assert_eq!(f.status(&p, logo.id).await, Some(ProgressStatus::Done));
    let again = f
        .service
        .ingest(&Actor::System, f.event, by_host("logo", "crm-42"))
        .await;
    assert!(matches!(again, Ok(IngestOutcome::Duplicate)), "{again:?}");
    let action = HostAction {
        id: host_id("badge"),
        participant: ExternalId::new("crm-42").unwrap().into(),
        occurred_at: f.clock.now(),
        kind: TimelineKind::BadgePrinted {
            place: BadgePlace::OnSite,
        },
    };
    let answers = f
        .service
        .report_actions(&Actor::System, f.event, vec![action])
        .await
        .unwrap();
    assert_kind(&answers[0], Kind::Ok, "an action by the host's id");
    let timeline = f
        .service
        .timeline(&f.organizer, f.event, p.id, &TimelineFilter::default(), 0)
        .await
        .unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| matches!(e.kind, TimelineKind::BadgePrinted { .. })),
        "the action is on the participant's timeline"
    );
}

/// X3, X1: a store resolves many of the host's ids in one call, each to the participant
/// of this event who holds it; ids nobody holds here (unknown, or held in another event
/// only) are left out. An import resolves its ids this way, so a taken id is still
/// refused item by item.
pub async fn x3_external_ids_resolve_together_within_their_event<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let a = Fixture::with_store(store.clone()).await;
    let b = Fixture::with_store(store.clone()).await;
    let ann = a.participant("ann", &["exhibitor"]).await;
    let bob = a.participant("bob", &["exhibitor"]).await;
    b.participant("cid", &["exhibitor"]).await;
    let x = |s: &str| ExternalId::new(s).unwrap();
    let mut found = store
        .participants_by_external_id(a.event, &[x("bob"), x("nobody"), x("cid"), x("ann")])
        .await
        .unwrap();
    found.sort();
    let mut expected = vec![(x("ann"), ann.id), (x("bob"), bob.id)];
    expected.sort();
    assert_eq!(found, expected);
    assert!(
        store
            .participants_by_external_id(a.event, &[])
            .await
            .unwrap()
            .is_empty()
    );
    let imported = a
        .service
        .register_participants(
            &a.organizer,
            a.event,
            vec![
                NewParticipant::new(x("dan")),
                NewParticipant::new(x("ann")),
                NewParticipant::new(x("dan")),
                NewParticipant::new(x("cid")),
            ],
        )
        .await
        .unwrap();
    let fields: Vec<Option<&str>> = imported
        .iter()
        .map(|r| match r {
            Ok(_) => None,
            Err(Error::Invalid { field, .. }) => Some(field.as_ref()),
            Err(e) => panic!("{e}"),
        })
        .collect();
    assert_eq!(
        fields,
        [None, Some("external_id"), Some("external_id"), None],
        "a new id, one taken here, one repeated in the list, one taken in another event only"
    );
}

/// T4: a store hands out participants' states with only the progress rows of the tasks
/// asked for (record, facts and version whole), leaving out ids it does not hold and
/// other events' rows: what ingest reads.
pub async fn t4_slices_hold_the_rows_of_the_tasks_asked<S: DumpStore>(store: S) {
    let store = Arc::new(store);
    let f = Fixture::with_store(store.clone()).await;
    let other = Fixture::with_store(store.clone()).await;
    let ann = f.participant("ann", &[]).await;
    let bob = f.participant("bob", &[]).await;
    let hotel = f.manual_task("Hotel", None).await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let products = f
        .auto_task("Products", Condition::Products { at_least: 1 }, None)
        .await;
    f.fact("s-1", &ann, HostFact::LogoUploaded).await;
    other.participant("ann", &[]).await;
    let dump = f.dump().await;
    let whole = |p: &Participant| state_in(&dump, p).clone();
    let ghost = ParticipantId::new_at(f.clock.now());

    let mut slices = store
        .participant_slices(f.event, &[ann.id, ghost, bob.id], &[logo.id, products.id])
        .await
        .unwrap();
    slices.sort_by_key(|s| s.participant.id);
    let mut expected: Vec<ParticipantState> = [&ann, &bob]
        .into_iter()
        .map(|p| {
            let mut s = whole(p);
            s.progress.retain(|t, _| *t == logo.id || *t == products.id);
            assert_eq!(s.progress.len(), 2, "{s:?}");
            s
        })
        .collect();
    expected.sort_by_key(|s| s.participant.id);
    assert_eq!(slices, expected);

    let bare = store
        .participant_slices(f.event, &[ann.id], &[])
        .await
        .unwrap();
    assert_eq!(bare.len(), 1);
    assert!(bare[0].progress.is_empty());
    assert_eq!(bare[0].facts, whole(&ann).facts);
    assert_eq!(bare[0].version, whole(&ann).version);

    let one = store
        .participant_slices(f.event, &[bob.id], &[hotel.id])
        .await
        .unwrap();
    assert_eq!(
        one[0].progress.keys().copied().collect::<Vec<_>>(),
        vec![hotel.id]
    );
    assert!(
        store
            .participant_slices(other.event, &[ann.id], &[logo.id])
            .await
            .unwrap()
            .is_empty(),
        "another event's participants are its own"
    );
}

/// T4: a batch of facts moves the automatic tasks whose condition reads them, and leaves
/// every other row of the participant as it was (manual rows, conditions on other
/// facts, a condition that still holds), whatever mix of kinds the batch carries.
pub async fn t4_facts_move_only_the_tasks_that_read_them<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let hotel = f.manual_task("Hotel", None).await;
    let logo = f.auto_task("Logo", Condition::LogoUploaded, None).await;
    let products = f
        .auto_task("Products", Condition::Products { at_least: 2 }, None)
        .await;
    let either = f
        .auto_task(
            "Logo or a product",
            Condition::Any {
                conditions: vec![Condition::LogoUploaded, Condition::Products { at_least: 1 }],
            },
            None,
        )
        .await;
    let bio = f
        .auto_task(
            "Bio",
            Condition::FieldFilled {
                field: "bio".into(),
                value: None,
            },
            None,
        )
        .await;
    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, hotel.id)
        .await
        .unwrap();
    f.fact("m-1", &ann, HostFact::LogoUploaded).await;
    assert_eq!(f.status(&ann, logo.id).await, Some(ProgressStatus::Done));
    assert_eq!(f.status(&ann, either.id).await, Some(ProgressStatus::Done));
    let sku = |s: &str| ExternalId::new(s).unwrap();
    let rows = |d: &EventDump| state_in(d, &ann).progress.clone();

    let before = f.dump().await;
    f.fact("m-2", &ann, HostFact::ProductAdded { product: sku("a") })
        .await;
    let after = f.dump().await;
    assert_eq!(rows(&after), rows(&before), "one product moves nothing");
    assert_eq!(
        state_in(&after, &ann).version,
        state_in(&before, &ann).version + 1,
        "the facts changed"
    );

    let results = f
        .service
        .ingest_batch(
            &Actor::System,
            f.event,
            vec![
                f.host_event("m-3", &ann, HostFact::ProductAdded { product: sku("b") }),
                f.host_event("m-4", &ann, HostFact::LogoRemoved),
                f.host_event(
                    "m-5",
                    &ann,
                    HostFact::FieldSet {
                        field: "bio".into(),
                        value: "Makes lamps".into(),
                    },
                ),
            ],
        )
        .await
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(IngestOutcome::Applied)))
    );
    let mixed = f.dump().await;
    let moved = rows(&mixed);
    let was = rows(&after);
    assert_eq!(
        moved[&hotel.id], was[&hotel.id],
        "a manual row is untouched"
    );
    assert_eq!(moved[&products.id].status, ProgressStatus::Done);
    assert_eq!(moved[&bio.id].status, ProgressStatus::Done);
    assert_eq!(moved[&logo.id].status, ProgressStatus::Todo, "logo removed");
    assert_eq!(
        moved[&either.id], was[&either.id],
        "still holds through the products: unchanged"
    );
    assert_eq!(
        f.service
            .task_figures(&f.organizer, f.event)
            .await
            .unwrap()
            .iter()
            .find(|r| r.task == logo.id)
            .map(|r| r.done),
        Some(0)
    );
}
