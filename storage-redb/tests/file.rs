//! The redb file itself (X4): durability across reopening, the format version, and typed
//! errors for paths that are not a punchlist database.

use punchlist::store::DumpStore;
use punchlist::store::{OutboxStore, StoreExt};
use punchlist::testkit::Fixture;
use punchlist::{HostFact, ProgressStatus};
use punchlist_redb::{OpenError, RedbStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x4_data_survives_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("expo.redb");
    let (event, before, logo, ann_id) = {
        let f = Fixture::new(RedbStore::open_async(&path).await.unwrap()).await;
        let ann = f.participant("ann", &["exhibitor"]).await;
        let logo = f
            .auto_task(
                "Logo",
                punchlist::Condition::LogoUploaded,
                Some(f.exhibitors),
            )
            .await;
        f.fact("logo-1", &ann, HostFact::LogoUploaded).await;
        (f.event, f.dump().await, logo.id, ann.id)
    };
    // Every handle is dropped: the file is closed. Open it again.
    let store = RedbStore::open_async(&path).await.unwrap();
    let after = store.dump(event).await.unwrap();
    assert_eq!(after, before, "everything written is there after reopening");
    let state = store.participant(event, ann_id).await.unwrap().unwrap();
    assert_eq!(state.progress[&logo].status, ProgressStatus::Done);
    assert!(!after.host_events.is_empty() && !after.timeline.is_empty());
}

#[test]
fn x5_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    match RedbStore::open(dir.path()) {
        Err(OpenError::IsADirectory(p)) => assert_eq!(p, dir.path()),
        other => panic!("expected IsADirectory, got {other:?}"),
    }
}

#[test]
fn x5_a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are not the bytes of a database ".repeat(200)).unwrap();
    match RedbStore::open(&path) {
        Err(OpenError::NotADatabase { path: p, .. }) => assert_eq!(p, path),
        other => panic!("expected NotADatabase, got {other:?}"),
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("these are not"),
        "the file was left as it was"
    );
}

#[test]
fn x5_a_file_of_a_newer_format_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.redb");
    let store = RedbStore::open(&path).unwrap();
    store.set_format_for_tests(99).unwrap();
    drop(store);
    match RedbStore::open(&path) {
        Err(OpenError::NewerFormat { found, supported }) => {
            assert_eq!((found, supported), (99, 5));
        }
        other => panic!("expected NewerFormat, got {other:?}"),
    }
}

/// A file of format 1 (before the outbox's due index and the progress status index) is
/// migrated when opened: its pending notifications can be claimed, and the matrix's
/// status filter finds its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x5_a_format_1_file_is_migrated_when_opened() {
    use chrono::Duration;
    use punchlist::{MatrixRequest, StatusFilter, TaskConfig};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.redb");
    let (event, organizer, task, before) = {
        let f = Fixture::new(RedbStore::open_async(&path).await.unwrap()).await;
        for name in ["ann", "bob", "cyd"] {
            f.participant(name, &["exhibitor"]).await;
        }
        let mut config = TaskConfig::manual(f.en.clone(), "Logo", Fixture::<RedbStore>::web());
        config.notify_on_publish = true;
        let t = f
            .service
            .create_task(&f.organizer, f.event, config)
            .await
            .unwrap();
        f.service
            .publish_task(&f.organizer, f.event, t.id)
            .await
            .unwrap();
        (f.event, f.organizer.clone(), t.id, f.dump().await)
    };
    // Make it a format 1 file: no index tables, version 1.
    {
        let store = RedbStore::open(&path).unwrap();
        store.set_format_for_tests(1).unwrap();
        drop(store);
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        for name in ["outbox_due", "outbox_dead", "progress_status"] {
            let table: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new(name);
            assert!(txn.delete_table(table).unwrap(), "{name} existed");
        }
        txn.commit().unwrap();
    }
    let store = RedbStore::open_async(&path).await.unwrap();
    assert_eq!(store.dump(event).await.unwrap(), before, "nothing lost");
    let now = before.outbox[0].created_at;
    let claimed = store
        .claim_outbox("d", now, now + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3, "the pending notices are due");
    let service = punchlist::Punchlist::new(store, punchlist::SystemClock);
    let page = service
        .matrix(
            &organizer,
            event,
            &MatrixRequest {
                task: Some(task),
                status: Some(StatusFilter::ToDo),
                ..MatrixRequest::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.rows.len(), 3, "the status index was rebuilt");
    // Opened again, it is a file of the current format.
    drop(service);
    let again = RedbStore::open(&path);
    assert!(again.is_ok());
}

/// N3, X4: a file of format 2 (before each row kept its next reminder, and before the
/// index of rows by it) is migrated when opened: it reads back the same dump, every row
/// still to do reads as due since 1970, the next tick whose reminder time has come looks at
/// each once and sends what is due, and the tick after reads no row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n3_a_format_2_file_gets_its_reminder_index_when_opened() {
    use chrono::Duration;
    use punchlist::store::TrackingStore;
    use punchlist::{Actor, Clock, ManualClock, Progress, Punchlist, TaskConfig};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("format2.redb");
    let (event, task, start, before) = {
        let f = Fixture::new(RedbStore::open_async(&path).await.unwrap()).await;
        for name in ["ann", "bob", "cyd"] {
            f.participant(name, &["exhibitor"]).await;
        }
        let start = f.clock.now();
        let mut config =
            TaskConfig::manual(f.en.clone(), "Stand plan", Fixture::<RedbStore>::web());
        config.deadline = Some(start + Duration::days(10));
        let t = f.publish(config).await;
        (f.event, t.id, start, f.dump().await)
    };
    // Make it a format 2 file: no index of next reminders, rows without the field.
    {
        let store = RedbStore::open(&path).unwrap();
        store.set_format_for_tests(2).unwrap();
        drop(store);
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let index: redb::TableDefinition<&[u8], &[u8]> =
                redb::TableDefinition::new("reminders_due");
            assert!(txn.delete_table(index).unwrap(), "the index existed");
        }
        assert_eq!(strip_progress_field(&txn, "next_reminder_at"), (3, 3));
        txn.commit().unwrap();
    }
    let store = RedbStore::open_async(&path).await.unwrap();
    let unknown = |mut d: punchlist::store::EventDump| {
        for s in &mut d.participants {
            for row in s.progress.values_mut() {
                assert_eq!(row.next_reminder_at, Some(Progress::UNKNOWN_NEXT_REMINDER));
                row.next_reminder_at = None;
            }
        }
        d
    };
    let mut expected = before.clone();
    for s in &mut expected.participants {
        for row in s.progress.values_mut() {
            row.next_reminder_at = None;
        }
    }
    assert_eq!(
        unknown(store.dump(event).await.unwrap()),
        expected,
        "nothing lost"
    );
    assert_eq!(
        store
            .rows_due(event, task, start, None, 10)
            .await
            .unwrap()
            .len(),
        3,
        "every row still to do is looked at once"
    );
    let clock = ManualClock::new(start + Duration::days(3));
    let service = Punchlist::new(store, clock.clone());
    let tick = service.tick_reminders(&Actor::System, event).await.unwrap();
    assert_eq!((tick.participants, tick.reminders), (3, 3), "{tick:?}");
    let again = service.tick_reminders(&Actor::System, event).await.unwrap();
    assert_eq!((again.participants, again.reminders), (0, 0), "{again:?}");
}

/// T2, X4: a file of format 3 (before each row kept its resolved deadline) is migrated
/// when opened: it reads back the same dump as the library wrote it now, every row of a
/// task with a deadline holding that deadline, the rows of a task without one none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_a_format_3_file_gets_every_rows_deadline_when_opened() {
    use chrono::Duration;
    use punchlist::{Clock, TaskConfig};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("format3.redb");
    let (event, due, before) = {
        let f = Fixture::new(RedbStore::open_async(&path).await.unwrap()).await;
        for name in ["ann", "bob", "cyd"] {
            f.participant(name, &["exhibitor"]).await;
        }
        let deadline = f.clock.now() + Duration::days(10);
        let mut config =
            TaskConfig::manual(f.en.clone(), "Stand plan", Fixture::<RedbStore>::web());
        config.deadline = Some(deadline);
        let t = f.publish(config).await;
        f.manual_task("Hotel", None).await;
        (f.event, (t.id, deadline), f.dump().await)
    };
    for s in &before.participants {
        for row in s.progress.values() {
            let expected = (row.task == due.0).then_some(due.1);
            assert_eq!(row.due_at, expected, "{row:?}");
        }
    }
    // Make it a format 3 file: rows without the field.
    {
        let store = RedbStore::open(&path).unwrap();
        store.set_format_for_tests(3).unwrap();
        drop(store);
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        assert_eq!(
            strip_progress_field(&txn, "due_at"),
            (6, 3),
            "the dated task's rows"
        );
        txn.commit().unwrap();
    }
    let store = RedbStore::open_async(&path).await.unwrap();
    assert_eq!(
        store.dump(event).await.unwrap(),
        before,
        "nothing lost, deadlines kept"
    );
    drop(store);
    let again = RedbStore::open(&path).unwrap();
    assert_eq!(
        again.dump(event).await.unwrap(),
        before,
        "opened again: the same"
    );
}

/// N11: a file of format 4 (the outbox's due keys without the lane) is migrated when
/// opened: the due index is built again with each entry's lane first, the dump is the
/// same, and a claim takes the assignment before the older publication notices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n11_a_format_4_file_gets_lanes_in_its_due_index_when_opened() {
    use chrono::Duration;
    use punchlist::{Clock, MessageKind, TaskConfig};
    use redb::ReadableTable;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("format4.redb");
    let (event, now, before) = {
        let f = Fixture::new(RedbStore::open_async(&path).await.unwrap()).await;
        let (owner, team) = f.exhibitor_with_collaborator("acme").await;
        f.participant("bob", &["exhibitor"]).await;
        let mut config = TaskConfig::manual(f.en.clone(), "Logo", Fixture::<RedbStore>::web());
        config.notify_on_publish = true;
        config.segment = Some(f.exhibitors);
        let t = f.publish(config).await;
        f.clock.advance(Duration::minutes(1));
        f.service
            .assign_task(&f.as_participant(&owner), f.event, owner.id, t.id, team.id)
            .await
            .unwrap();
        (f.event, f.clock.now(), f.dump().await)
    };
    assert_eq!(before.outbox.len(), 3, "two notices and an assignment");
    // Make it a format 4 file: due keys of time · event · entry.
    {
        let store = RedbStore::open(&path).unwrap();
        store.set_format_for_tests(4).unwrap();
        drop(store);
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("outbox_due");
            let mut due = txn.open_table(def).unwrap();
            let keys: Vec<Vec<u8>> = due
                .iter()
                .unwrap()
                .map(|item| item.unwrap().0.value().to_vec())
                .collect();
            assert_eq!(keys.len(), 3);
            for k in keys {
                due.remove(k.as_slice()).unwrap();
                due.insert(&k[1..], &[][..]).unwrap();
            }
        }
        txn.commit().unwrap();
    }
    let store = RedbStore::open_async(&path).await.unwrap();
    assert_eq!(store.dump(event).await.unwrap(), before, "nothing lost");
    let claimed = store
        .claim_outbox("d", now, now + Duration::seconds(30), 10)
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

#[test]
fn x5_another_applications_redb_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.redb");
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let table: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("stock");
            txn.open_table(table).unwrap().insert("apples", 3).unwrap();
        }
        txn.commit().unwrap();
    }
    assert!(matches!(
        RedbStore::open(&path),
        Err(OpenError::NotPunchlist(_))
    ));
}

#[test]
fn x5_a_file_already_open_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.redb");
    let _first = RedbStore::open(&path).unwrap();
    assert!(matches!(
        RedbStore::open(&path),
        Err(OpenError::AlreadyOpen)
    ));
}

#[test]
fn x5_open_errors_are_storage_errors_of_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let err: punchlist::Error = RedbStore::open(dir.path()).unwrap_err().into();
    assert!(matches!(err, punchlist::Error::Backend { .. }));
    assert!(std::error::Error::source(&err).is_some());
}

/// Removes `field` from the body of every progress row, as a file written before the
/// library kept it holds them; returns the rows read and the rows that had the field.
fn strip_progress_field(txn: &redb::WriteTransaction, field: &str) -> (usize, usize) {
    use redb::ReadableTable;
    let def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("progress");
    let mut progress = txn.open_table(def).unwrap();
    let mut had = 0;
    let rows: Vec<(Vec<u8>, Vec<u8>)> = progress
        .iter()
        .unwrap()
        .map(|item| {
            let (k, v) = item.unwrap();
            let mut body: serde_json::Value = serde_json::from_slice(v.value()).unwrap();
            had += usize::from(body.as_object_mut().unwrap().remove(field).is_some());
            (k.value().to_vec(), serde_json::to_vec(&body).unwrap())
        })
        .collect();
    for (k, v) in &rows {
        progress.insert(k.as_slice(), v.as_slice()).unwrap();
    }
    (rows.len(), had)
}
