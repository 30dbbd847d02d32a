//! The `mock` feature: a host's tests fake the store and the clock with `mockall`.

use chrono::{TimeZone, Utc};
use punchlist::store::EventConfig;
use punchlist::*;

fn event_record(id: EventId) -> Event {
    Event {
        id,
        settings: EventSettings::new("Expo", Language::new("en").unwrap()),
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        version: 1,
    }
}

#[tokio::test]
async fn x5_a_failing_store_surfaces_as_a_typed_error() {
    let mut store = MockStore::new();
    store.expect_event_config().returning(|_| {
        Err(Error::Unavailable {
            source: "connection refused".into(),
        })
    });
    let service = Punchlist::new(store, SystemClock);
    let event = EventId::new_at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    let err = service
        .tasks(&Actor::System, event)
        .await
        .expect_err("the store failed");
    assert!(err.is_transient(), "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept"
    );
}

#[tokio::test]
async fn x4_the_service_retries_a_conflict_then_gives_up() {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let event = EventId::new_at(at);
    let mut store = MockStore::new();
    store.expect_event_config().returning(move |id| {
        Ok(Some(std::sync::Arc::new(EventConfig {
            event: event_record(id),
            tasks: Default::default(),
            segments: Default::default(),
        })))
    });
    store
        .expect_participant_by_external_id()
        .returning(|_, _| Ok(None));
    // Every commit loses to another writer.
    store
        .expect_apply()
        .times(3)
        .returning(|_| Err(Error::conflict("participant", "x")));
    let mut clock = MockClock::new();
    clock.expect_now().return_const(at);
    let service = Punchlist::new(store, clock).with_config(Config::default().with_max_attempts(3));
    let err = service
        .register_participant(
            &Actor::System,
            event,
            NewParticipant::new(ExternalId::new("p1").unwrap()),
        )
        .await
        .expect_err("conflicts all the way");
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
}

#[tokio::test]
async fn x5_the_service_rejects_bad_input_before_touching_the_store() {
    // No expectation is set: any store call would panic.
    let store = MockStore::new();
    let service = Punchlist::new(store, SystemClock);
    let mut settings = EventSettings::new("Expo", Language::new("en").unwrap());
    settings.name = String::new();
    let err = service
        .create_event(&Actor::System, settings)
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("name"));
}
