//! Databases of an earlier schema (X4): each migration applied to a database as the
//! previous schema left it reads back the same dump, and fills what it adds as the library
//! writes it now. Each test works in a schema of its own; without `DATABASE_URL` they say
//! they skipped.

use std::sync::Arc;

use punchlist::testkit::Fixture;
use punchlist::*;
use punchlist_sqlx::testing::{database_url, isolated_store};
use punchlist_sqlx::{PgStore, PoolConfig};
use sqlx::Row;

/// N3, X4: a database of the previous schema (before each row kept its next reminder: no
/// column, no index, bodies without the field) migrates: it reads back the same dump, every
/// row still to do reads as due since 1970, the next tick whose reminder time has come
/// looks at each once and sends what is due, and the tick after reads no row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n3_a_database_of_the_previous_schema_gets_its_reminder_column() {
    use punchlist::store::{DumpStore, TrackingStore};
    let Some(url) = database_url("n3_a_database_of_the_previous_schema_gets_its_reminder_column")
    else {
        return;
    };
    let store = isolated_store(&url, PoolConfig::default()).await;
    let f = Fixture::with_store(Arc::new(store.clone())).await;
    for name in ["ann", "bob", "cyd"] {
        f.participant(name, &["exhibitor"]).await;
    }
    let start = f.clock.now();
    let mut config = TaskConfig::manual(f.en.clone(), "Stand plan", Fixture::<PgStore>::web());
    config.deadline = Some(start + chrono::Duration::days(10));
    let task = f.publish(config).await.id;
    let before = f.dump().await;
    // The schema as it was before migration 5.
    for statement in [
        "DROP INDEX progress_reminders_due",
        "ALTER TABLE progress DROP COLUMN next_reminder_at",
        "UPDATE progress SET body = body - 'next_reminder_at'",
        "DELETE FROM _sqlx_migrations WHERE version = 5",
    ] {
        sqlx::query(statement).execute(store.pool()).await.unwrap();
    }
    store.migrate().await.expect("migration 5 applies");
    let mut dump = store.dump(f.event).await.unwrap();
    let mut expected = before.clone();
    for (d, e) in dump
        .participants
        .iter_mut()
        .zip(expected.participants.iter_mut())
    {
        for (row, want) in d.progress.values_mut().zip(e.progress.values_mut()) {
            assert_eq!(row.next_reminder_at, Some(Progress::UNKNOWN_NEXT_REMINDER));
            row.next_reminder_at = None;
            want.next_reminder_at = None;
        }
    }
    assert_eq!(dump, expected, "nothing lost");
    assert_eq!(
        store
            .rows_due(f.event, task, start, None, 10)
            .await
            .unwrap()
            .len(),
        3,
        "every row still to do is looked at once"
    );
    f.clock.set(start + chrono::Duration::days(3));
    let tick = f
        .service
        .tick_reminders(&Actor::System, f.event)
        .await
        .unwrap();
    assert_eq!((tick.participants, tick.reminders), (3, 3), "{tick:?}");
    let again = f
        .service
        .tick_reminders(&Actor::System, f.event)
        .await
        .unwrap();
    assert_eq!((again.participants, again.reminders), (0, 0), "{again:?}");
}

/// T2, X4: a database of the schema before migration 6 (completion, resolved deadline,
/// outbox recipient, kind and channels kept only in the bodies, rows without their
/// resolved deadline) migrates: it reads back the same dump as the library writes now,
/// every row's deadline filled from its task, and the new columns hold what the bodies
/// say; rows written after the migration fill them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_a_database_of_the_previous_schema_gets_its_report_columns() {
    use punchlist::store::{DumpStore, OutboxStore};
    let Some(url) = database_url("t2_a_database_of_the_previous_schema_gets_its_report_columns")
    else {
        return;
    };
    let store = isolated_store(&url, PoolConfig::default()).await;
    let f = Fixture::with_store(Arc::new(store.clone())).await;
    let ann = f.participant("ann", &["exhibitor"]).await;
    let bob = f.participant("bob", &["exhibitor"]).await;
    f.participant("cyd", &["exhibitor"]).await;
    let start = f.clock.now();
    let mut config = TaskConfig::manual(f.en.clone(), "Stand plan", Fixture::<PgStore>::web());
    config.deadline = Some(start + chrono::Duration::days(10));
    config.notify_on_publish = true;
    let task = f.publish(config).await.id;
    let hotel = f.manual_task("Hotel", None).await.id;
    f.service
        .complete_task(&f.as_participant(&ann), f.event, ann.id, task)
        .await
        .unwrap();
    f.service
        .validate_task(&f.organizer, f.event, bob.id, hotel)
        .await
        .unwrap();
    // One notice delivered by email and web push.
    let mut claimed = store
        .claim_outbox("d", start, start + chrono::Duration::seconds(30), 1)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    claimed[0].delivered.insert("email".to_owned());
    claimed[0]
        .delivered
        .insert("web_push:https://push.example.test/1".to_owned());
    claimed[0].state = OutboxState::Sent;
    claimed[0].lease = None;
    store.release_outbox("d", claimed).await.unwrap();
    let before = f.dump().await;
    assert!(
        before
            .participants
            .iter()
            .all(|s| s.progress[&task].due_at.is_some())
    );
    // The schema as it was before migration 6.
    for statement in [
        "DROP INDEX outbox_by_recipient",
        "ALTER TABLE progress DROP COLUMN completed_at, DROP COLUMN completed_by_participant, \
         DROP COLUMN completed_by_admin, DROP COLUMN completed_how, DROP COLUMN due_at",
        "ALTER TABLE outbox DROP COLUMN recipient_id, DROP COLUMN kind, \
         DROP COLUMN delivered_channels",
        "UPDATE progress SET body = body - 'due_at'",
        "DELETE FROM _sqlx_migrations WHERE version = 6",
    ] {
        sqlx::query(statement).execute(store.pool()).await.unwrap();
    }
    store.migrate().await.expect("migration 6 applies");
    assert_eq!(store.dump(f.event).await.unwrap(), before, "nothing lost");
    let event = f.event;
    let check_columns = |dump: punchlist::store::EventDump| {
        let store = store.clone();
        async move {
            let rows = sqlx::query(
                "SELECT participant_id, task_id, completed_at, completed_by_participant, \
                 completed_by_admin, completed_how, due_at FROM progress WHERE event_id = $1",
            )
            .bind(event.as_uuid())
            .fetch_all(store.pool())
            .await
            .unwrap();
            let mut seen = 0;
            for r in rows {
                let pid: uuid::Uuid = r.get(0);
                let tid: uuid::Uuid = r.get(1);
                let state = dump
                    .participants
                    .iter()
                    .find(|s| s.participant.id.as_uuid() == pid)
                    .unwrap();
                let row = state
                    .progress
                    .values()
                    .find(|p| p.task.as_uuid() == tid)
                    .unwrap();
                let c = row.completion.as_ref();
                let at: Option<chrono::DateTime<chrono::Utc>> = r.get(2);
                let by_participant: Option<uuid::Uuid> = r.get(3);
                let by_admin: Option<String> = r.get(4);
                let how: Option<String> = r.get(5);
                let due: Option<chrono::DateTime<chrono::Utc>> = r.get(6);
                assert_eq!(at, c.map(|c| c.at), "{row:?}");
                assert_eq!(
                    by_participant,
                    match c.map(|c| &c.by) {
                        Some(Actor::Participant { id, .. }) => Some(id.as_uuid()),
                        _ => None,
                    }
                );
                assert_eq!(
                    by_admin.as_deref(),
                    match c.map(|c| &c.by) {
                        Some(Actor::Organizer { admin, .. }) => Some(admin.as_str()),
                        _ => None,
                    }
                );
                assert_eq!(how.as_deref(), c.map(|c| c.how.as_str()));
                assert_eq!(due, row.due_at);
                seen += 1;
            }
            assert_eq!(seen, 6, "every row");
            let rows = sqlx::query(
                "SELECT outbox_id, recipient_id, kind, delivered_channels FROM outbox \
                 WHERE event_id = $1",
            )
            .bind(event.as_uuid())
            .fetch_all(store.pool())
            .await
            .unwrap();
            assert_eq!(rows.len(), dump.outbox.len());
            for r in rows {
                let id: uuid::Uuid = r.get(0);
                let entry = dump.outbox.iter().find(|e| e.id.as_uuid() == id).unwrap();
                let recipient: uuid::Uuid = r.get(1);
                let kind: String = r.get(2);
                let channels: Vec<String> = r.get(3);
                assert_eq!(recipient, entry.recipient.as_uuid());
                assert_eq!(kind, entry.message.kind().as_str());
                let expected: Vec<&str> = entry
                    .delivered_channels()
                    .into_iter()
                    .map(|c| c.as_str())
                    .collect();
                assert_eq!(channels, expected, "{entry:?}");
            }
        }
    };
    let dump = store.dump(f.event).await.unwrap();
    assert!(
        dump.outbox
            .iter()
            .any(|e| e.delivered_channels().len() == 2),
        "one entry delivered on two channels"
    );
    check_columns(dump).await;
    // Written by the library after the migration: the same columns.
    f.service
        .complete_task(&f.as_participant(&bob), f.event, bob.id, task)
        .await
        .unwrap();
    f.service
        .undo_task(&f.as_participant(&ann), f.event, ann.id, task)
        .await
        .unwrap();
    check_columns(store.dump(f.event).await.unwrap()).await;
    // An organizer's list by recipient reads the column.
    let mine = store
        .outbox(
            f.event,
            &OutboxFilter {
                recipient: Some(ann.id),
                ..OutboxFilter::default()
            },
            None,
            100,
        )
        .await
        .unwrap();
    assert!(!mine.is_empty() && mine.iter().all(|e| e.recipient == ann.id));
}

/// N11, X4: a database of the schema before migration 7 (no lane column; the due index on
/// the due time alone) migrates: every entry takes its kind's lane, the dump is the same,
/// and a claim takes the assignment before the older publication notices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n11_a_database_of_the_previous_schema_gets_its_lanes() {
    use punchlist::store::{DumpStore, OutboxStore};
    let Some(url) = database_url("n11_a_database_of_the_previous_schema_gets_its_lanes") else {
        return;
    };
    let store = isolated_store(&url, PoolConfig::default()).await;
    let f = Fixture::with_store(Arc::new(store.clone())).await;
    let (owner, team) = f.exhibitor_with_collaborator("acme").await;
    f.participant("bob", &["exhibitor"]).await;
    let mut config = TaskConfig::manual(f.en.clone(), "Logo", Fixture::<PgStore>::web());
    config.notify_on_publish = true;
    config.segment = Some(f.exhibitors);
    let task = f.publish(config).await.id;
    f.clock.advance(chrono::Duration::minutes(1));
    f.service
        .assign_task(&f.as_participant(&owner), f.event, owner.id, task, team.id)
        .await
        .unwrap();
    let before = f.dump().await;
    assert_eq!(before.outbox.len(), 3);
    // The schema as it was before migration 7.
    for statement in [
        "DROP INDEX outbox_due",
        "ALTER TABLE outbox DROP COLUMN lane",
        "CREATE INDEX outbox_due ON outbox (due_at) WHERE due_at IS NOT NULL",
        "DELETE FROM _sqlx_migrations WHERE version = 7",
    ] {
        sqlx::query(statement).execute(store.pool()).await.unwrap();
    }
    store.migrate().await.expect("migration 7 applies");
    assert_eq!(store.dump(f.event).await.unwrap(), before, "nothing lost");
    let lanes: Vec<(String, i16)> =
        sqlx::query("SELECT kind, lane FROM outbox ORDER BY lane, kind")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(
        lanes,
        [
            ("assignment".to_owned(), 0),
            ("publication".to_owned(), 2),
            ("publication".to_owned(), 2)
        ]
    );
    let now = f.clock.now();
    let claimed = store
        .claim_outbox("d", now, now + chrono::Duration::seconds(30), 10)
        .await
        .unwrap();
    let kinds: Vec<MessageKind> = claimed.iter().map(|e| e.message.kind()).collect();
    assert_eq!(
        kinds,
        [
            MessageKind::Assignment,
            MessageKind::Publication,
            MessageKind::Publication
        ]
    );
}
