//! Conformance checks for the participant record (R1–R4): details, status, UTM and custom
//! fields validated and hidden from the participant, and the import of many registrants.

use crate::testkit::assert::{assert_forbidden, invalid_field};
use crate::testkit::{DumpStore, Fixture};
use crate::*;

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

/// R1–R4 (import): many registrants at once, a result per item; the valid ones are
/// written in bounded transactions and see their tasks at once; duplicates are refused.
pub async fn r1_r4_import_many_registrants<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let hotel = f.manual_task("Hotel", Some(f.exhibitors)).await;
    f.participant("existing", &[]).await;
    let mut items = Vec::new();
    for i in 0..20 {
        let mut n = NewParticipant::new(ExternalId::new(format!("imp{i}")).unwrap());
        n.status.categories = ["exhibitor".to_owned()].into();
        items.push(n);
    }
    items[3].profile.email = Some("not an email".into());
    items[7] = NewParticipant::new(ExternalId::new("existing").unwrap());
    items[11] = NewParticipant::new(ExternalId::new("imp0").unwrap());
    let results = f
        .service
        .register_participants(&f.organizer, f.event, items)
        .await
        .unwrap();
    assert_eq!(results.len(), 20);
    assert_eq!(
        results[3].as_ref().unwrap_err().field(),
        Some("profile.email")
    );
    assert_eq!(
        results[7].as_ref().unwrap_err().field(),
        Some("external_id")
    );
    assert_eq!(
        results[11].as_ref().unwrap_err().field(),
        Some("external_id")
    );
    let ok: Vec<&Participant> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 17);
    for p in &ok {
        assert_eq!(f.status(p, hotel.id).await, Some(ProgressStatus::Todo));
    }
    let figures = f.service.task_figures(&f.organizer, f.event).await.unwrap();
    assert_eq!(figures[0].targeted, 17);
    let e = f
        .service
        .register_participants(&f.as_participant(ok[0]), f.event, Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }));
}
