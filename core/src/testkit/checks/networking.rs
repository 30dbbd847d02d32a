//! Conformance checks for networking (R10, R11): the exhibitors the participant
//! bookmarked and the partners that scanned them, and the participant's interests and
//! preferences.

use chrono::Duration;

use super::common::{action, email, everything};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

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
