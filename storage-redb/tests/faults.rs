//! Faults of the redb store (X4):
//!
//! - a process dispatching notifications is killed with SIGKILL mid-run: nothing is lost,
//!   and an entry is repeated only as DESIGN.md N5 allows (once, with the same
//!   idempotency key, and only if it was delivered but not yet marked sent);
//! - the disk fills up (I/O errors from a custom redb `StorageBackend`): every write is
//!   refused with a typed error, nothing is half-written, and once the disk is freed and
//!   the database reopened everything acknowledged is there and new writes succeed.
//!
//! The kill test re-executes this binary to run itself as the child: with the child's
//! environment variables set, `x4_redb_killed_during_dispatch_loses_nothing` only
//! dispatches the file's outbox until it is killed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::Write as _;
use std::ops::Bound;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use punchlist::store::OutboxStore;
use punchlist::store::{DumpStore, EventDump};
use punchlist::testkit::{Fixture, RecordingNotifier};
use punchlist::*;
use punchlist_redb::RedbStore;
use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

// ---------------------------------------------------------------------------------------
// 1. A dispatching process killed mid-run.
// ---------------------------------------------------------------------------------------

/// The child's redb file (set by the parent only).
const CHILD_DB: &str = "PUNCHLIST_FAULTS_CHILD_DB";
/// The child's sent log (set by the parent only).
const CHILD_LOG: &str = "PUNCHLIST_FAULTS_CHILD_LOG";
/// The test the child runs (this very test, in child mode), as the harness knows it.
const CHILD_TEST: &str = "x4_redb_killed_during_dispatch_loses_nothing";
/// Outbox entries to dispatch (one per participant, email only).
const ENTRIES: usize = 200;
/// The child's claim batch: the most entries it holds delivered-but-unmarked at once.
const CHILD_BATCH: usize = 20;
/// The child's lease.
const LEASE_SECONDS: i64 = 60;
/// How long one send takes, so the parent can kill the child mid-run.
const SEND_PAUSE: StdDuration = StdDuration::from_millis(3);
/// The parent kills the child once the sent log has this many lines.
const KILL_AFTER: usize = 70;

/// The fixture's clock start (2026-03-01 09:00 UTC): the entries are created then.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("a valid time")
}

/// The child's time: a minute after the entries were queued.
fn child_time() -> DateTime<Utc> {
    start() + Duration::minutes(1)
}

/// An email adapter that "delivers" by appending `outbox id, channel, idempotency key` to
/// a log file and syncing it before it returns success: a line in the log is a message the
/// provider accepted.
#[derive(Debug)]
struct LogNotifier {
    log: Mutex<std::fs::File>,
}

impl LogNotifier {
    fn open(path: &Path) -> Self {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open the sent log");
        Self {
            log: Mutex::new(log),
        }
    }
}

#[async_trait]
impl Notifier for LogNotifier {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, to: &Address, message: &OutgoingMessage) -> Result<(), SendError> {
        tokio::time::sleep(SEND_PAUSE).await;
        let line = format!(
            "{}\t{}\t{}\n",
            message.outbox,
            to.channel(),
            message.idempotency_key
        );
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.write_all(line.as_bytes())
            .and_then(|()| log.sync_data())
            .map_err(|e| SendError::Transient(e.to_string()))
    }
}

/// One delivery read back from the sent log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Delivery {
    outbox: String,
    channel: String,
    key: String,
}

/// The complete lines of the sent log (a line cut by the kill would not count: the
/// adapter had not returned).
fn read_log(path: &Path) -> Vec<Delivery> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    complete
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, '\t');
            let mut next = || parts.next().expect("a full log line").to_owned();
            Delivery {
                outbox: next(),
                channel: next(),
                key: next(),
            }
        })
        .collect()
}

/// A dispatcher over `store` at `now`, logging to `log`.
fn log_dispatcher(
    store: Arc<RedbStore>,
    now: DateTime<Utc>,
    log: &Path,
) -> Dispatcher<RedbStore, ManualClock> {
    Dispatcher::new(Arc::new(Punchlist::new(store, ManualClock::new(now))))
        .with_notifier(LogNotifier::open(log))
        .with_config(
            DispatchConfig::default()
                .with_batch(CHILD_BATCH)
                .with_lease(Duration::seconds(LEASE_SECONDS)),
        )
}

/// Every outbox entry of the event, by id.
async fn outbox(store: &RedbStore, event: EventId) -> BTreeMap<String, OutboxEntry> {
    store
        .outbox(event, &punchlist::OutboxFilter::default(), None, usize::MAX)
        .await
        .expect("read the outbox")
        .into_iter()
        .map(|e| (e.id.to_string(), e))
        .collect()
}

/// The dump without the outbox (which dispatching changes) and checked against a recount.
fn without_outbox(mut dump: EventDump) -> EventDump {
    assert_eq!(
        dump.counters,
        dump.recount(),
        "B3: the stored counters differ from a recount of the progress rows"
    );
    dump.outbox.clear();
    dump
}

/// The child: dispatches the file's outbox until it is killed (or has nothing left).
async fn dispatch_until_killed(db: &std::ffi::OsStr, log: &std::ffi::OsStr) {
    let store = Arc::new(
        RedbStore::open_async(&db)
            .await
            .expect("the child opens the file"),
    );
    let dispatcher = log_dispatcher(store, child_time(), Path::new(&log));
    loop {
        let report = dispatcher.dispatch_once().await.expect("a dispatch round");
        if report.claimed == 0 {
            break;
        }
    }
}

/// X4, N5: a process dispatching notifications from a redb file is killed with SIGKILL
/// mid-run. The file opens again (redb's crash recovery), every entry ends sent and
/// delivered, and the only repeats are the entries the child had delivered and not yet
/// marked sent, once each, with the same idempotency key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x4_redb_killed_during_dispatch_loses_nothing() {
    if let (Some(db), Some(log)) = (std::env::var_os(CHILD_DB), std::env::var_os(CHILD_LOG)) {
        return dispatch_until_killed(&db, &log).await;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("dispatch.redb");
    let log = dir.path().join("sent.log");

    // Seed: ENTRIES participants with an email, one task published with a notice.
    let (event, seeded) = {
        let f = Fixture::with_store(Arc::new(
            RedbStore::open_async(&db).await.expect("open the file"),
        ))
        .await;
        // Email only (the default of `EventSettings::new`, said here explicitly).
        f.channels(Channels {
            email: true,
            chat: false,
            web_push: false,
        })
        .await;
        for i in 0..ENTRIES {
            f.participant(&format!("p{i:03}"), &[]).await;
        }
        let mut config =
            TaskConfig::manual(f.en.clone(), "Book your hotel", Fixture::<RedbStore>::web());
        config.notify_on_publish = true;
        f.publish(config).await;
        let queued = outbox(f.service.store(), f.event).await;
        assert_eq!(
            queued.len(),
            ENTRIES,
            "one publication notice per participant"
        );
        assert!(
            queued.values().all(|e| e.state == OutboxState::Pending),
            "nothing sent yet"
        );
        (f.event, f.dump().await)
        // Every handle is dropped here: the file is closed for the child.
    };

    // The child dispatches; the parent kills it once some, not all, are delivered.
    let mut child = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--exact", CHILD_TEST, "--nocapture"])
        .env(CHILD_DB, &db)
        .env(CHILD_LOG, &log)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the child");
    let deadline = Instant::now() + StdDuration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            panic!(
                "the child ended ({status}) before the kill, after {} deliveries",
                read_log(&log).len()
            );
        }
        if read_log(&log).len() >= KILL_AFTER {
            break;
        }
        assert!(Instant::now() < deadline, "the child delivered too slowly");
        tokio::time::sleep(StdDuration::from_millis(1)).await;
    }
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("reap the child");
    assert!(!status.success(), "the child was killed, not finished");
    let by_child = read_log(&log);
    assert!(
        by_child.len() < ENTRIES,
        "the kill came before the child delivered everything"
    );

    // The file opens (redb recovers from the kill) and is consistent.
    let store = Arc::new(
        RedbStore::open_async(&db)
            .await
            .expect("the file opens after the kill"),
    );
    let at_kill = outbox(&store, event).await;
    assert_eq!(at_kill.len(), ENTRIES, "no entry lost by the kill");
    let child_ids: BTreeSet<String> = by_child.iter().map(|d| d.outbox.clone()).collect();
    let marked: BTreeSet<String> = at_kill
        .values()
        .filter(|e| e.state == OutboxState::Sent)
        .map(|e| e.id.to_string())
        .collect();
    assert!(
        marked.is_subset(&child_ids),
        "nothing is marked sent that was not delivered"
    );
    // Claimed by the child, neither released nor expired: its batch in flight.
    let in_flight: BTreeSet<String> = at_kill
        .values()
        .filter(|e| e.lease.is_some())
        .map(|e| e.id.to_string())
        .collect();
    let owners: BTreeSet<String> = at_kill
        .values()
        .filter_map(|e| e.lease.as_ref().map(|l| l.owner.clone()))
        .collect();
    assert!(owners.len() <= 1, "one dispatcher held leases: {owners:?}");
    assert!(
        in_flight.len() <= CHILD_BATCH,
        "at most one claim batch in flight ({} leased)",
        in_flight.len()
    );
    assert!(
        at_kill.values().all(|e| e.state != OutboxState::Dead),
        "nothing given up"
    );
    let delivered_unmarked: BTreeSet<String> = child_ids.difference(&marked).cloned().collect();
    assert!(
        delivered_unmarked.is_subset(&in_flight),
        "every delivered-but-unmarked entry is one the child still held"
    );

    // A dispatcher after the child's lease ended sends everything left.
    let after_lease = child_time() + Duration::seconds(LEASE_SECONDS + 1);
    let parent = log_dispatcher(store.clone(), after_lease, &log);
    let mut rounds = 0;
    loop {
        let report = parent.dispatch_once().await.expect("a dispatch round");
        if report.claimed == 0 {
            break;
        }
        assert_eq!(report.lost, 0, "the parent's claims are its own");
        rounds += 1;
        assert!(rounds <= ENTRIES, "the outbox drains");
    }
    drop(parent);

    let all = read_log(&log);
    let end = outbox(&store, event).await;
    assert_eq!(end.len(), ENTRIES);
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for d in &all {
        let entry = end
            .get(&d.outbox)
            .unwrap_or_else(|| panic!("a delivery of an unknown entry {}", d.outbox));
        assert_eq!(d.channel, "email", "email is the only channel");
        assert_eq!(
            d.key, entry.idempotency_key,
            "every delivery carries the entry's idempotency key"
        );
        *count.entry(d.outbox.clone()).or_default() += 1;
    }
    for (id, entry) in &end {
        assert_eq!(entry.state, OutboxState::Sent, "entry {id} ends sent");
        assert!(entry.lease.is_none(), "entry {id} holds no lease");
        assert!(count.contains_key(id), "entry {id} was delivered");
    }
    // N5's bound: the one gap is a crash after the provider accepted a message and before
    // the entry was marked sent; it yields at most one repeat per entry, with the same
    // idempotency key. This dispatcher marks a whole claim batch in one transaction after
    // sending it, so the gap covers the entries of the batch in flight at the kill that it
    // had already delivered: repeats <= CHILD_BATCH, each entry delivered at most twice,
    // and exactly the delivered-but-unmarked entries are repeated (the survivor resends
    // every unmarked entry once; nothing marked sent is sent again).
    let repeated: BTreeSet<String> = count
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(
        count.values().all(|n| *n <= 2),
        "no entry delivered more than twice"
    );
    assert_eq!(
        repeated, delivered_unmarked,
        "repeated are exactly the entries delivered before the kill and not marked sent"
    );
    assert!(repeated.len() <= CHILD_BATCH, "at most one batch repeated");
    assert_eq!(all.len(), ENTRIES + repeated.len(), "nothing else repeated");

    // Nothing else in the event changed, and the file still opens cleanly.
    let after = store.dump(event).await.expect("dump");
    assert_eq!(without_outbox(after), without_outbox(seeded.clone()));
    drop(store);
    let reopened = RedbStore::open_async(&db)
        .await
        .expect("the file opens again");
    assert_eq!(
        without_outbox(reopened.dump(event).await.expect("dump")),
        without_outbox(seeded)
    );

    let mut err = std::io::stderr();
    writeln!(
        err,
        "x4 redb kill during dispatch: {ENTRIES} entries; the child (batch {CHILD_BATCH}) \
         delivered {} and marked {} sent before SIGKILL; {} claimed in flight; after the \
         lease the survivor sent {} in {rounds} rounds; {} delivered twice (same \
         idempotency key, bound {CHILD_BATCH}); lost 0",
        by_child.len(),
        marked.len(),
        in_flight.len(),
        all.len() - by_child.len(),
        repeated.len(),
    )
    .ok();
}

// ---------------------------------------------------------------------------------------
// 2. Disk full: I/O errors through a custom redb StorageBackend.
// ---------------------------------------------------------------------------------------

/// The disk shared by every backend opened over the test's file.
#[derive(Debug, Default)]
struct Disk {
    state: Mutex<DiskState>,
    /// Writes and growths that reached the file.
    writes: AtomicUsize,
    /// Writes, growths and syncs refused.
    refused: AtomicUsize,
}

#[derive(Debug, Default)]
struct DiskState {
    /// Writes (and file growths) it takes before it is full; `None`: any number.
    room: Option<u64>,
    /// A write was refused: syncs fail too (what they would flush has nowhere to go).
    full: bool,
    /// Syncs fail even though writes land (an fsync `EIO`).
    sync_fails: bool,
}

impl Disk {
    fn state(&self) -> std::sync::MutexGuard<'_, DiskState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Full now.
    fn fill(&self) {
        self.fill_after(0);
    }

    /// Full after `n` more writes.
    fn fill_after(&self, n: u64) {
        self.state().room = Some(n);
    }

    /// Writes land, but syncs fail.
    fn fail_syncs(&self) {
        self.state().sync_fails = true;
    }

    /// Space freed, syncs work again.
    fn free(&self) {
        *self.state() = DiskState::default();
    }

    fn error() -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "no space left on device (injected)",
        )
    }

    /// Takes room for one write, or refuses it.
    fn take(&self) -> std::io::Result<()> {
        let mut state = self.state();
        match state.room {
            None => {}
            Some(0) => {
                state.full = true;
                self.refused.fetch_add(1, Ordering::SeqCst);
                return Err(Self::error());
            }
            Some(n) => state.room = Some(n - 1),
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// A sync, refused once a write was refused or while syncs fail.
    fn sync(&self) -> std::io::Result<()> {
        let state = self.state();
        if state.full || state.sync_fails {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Self::error());
        }
        Ok(())
    }
}

/// redb's file backend over a disk that fills up: writes, growths and syncs fail with
/// `StorageFull` while it is full; reads, shrinks and locks pass through.
#[derive(Debug)]
struct FullDiskBackend {
    file: FileBackend,
    disk: Arc<Disk>,
}

impl FullDiskBackend {
    fn open(path: &Path, disk: &Arc<Disk>) -> Self {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .expect("open the database file");
        Self {
            file: FileBackend::new(file).expect("a file backend"),
            disk: disk.clone(),
        }
    }
}

impl StorageBackend for FullDiskBackend {
    fn len(&self) -> std::io::Result<u64> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        self.file.read(offset, out)
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        if len > self.file.len()? {
            self.disk.take()?;
        }
        self.file.set_len(len)
    }

    fn sync_data(&self) -> std::io::Result<()> {
        self.disk.sync()?;
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.disk.take()?;
        self.file.write(offset, data)
    }

    fn close(&self) -> std::io::Result<()> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

/// Opens the store over the file through the full-disk backend.
async fn open_faulty(path: &Path, disk: &Arc<Disk>) -> Arc<RedbStore> {
    let backend = FullDiskBackend::open(path, disk);
    let store = tokio::task::spawn_blocking(move || RedbStore::open_with_backend(backend))
        .await
        .expect("the open ran")
        .expect("the database opens");
    Arc::new(store)
}

/// The fixture over a freshly opened store (the previous one dropped first, so its
/// database is closed before the file is opened again).
async fn reopen(f: Fixture<RedbStore>, path: &Path, disk: &Arc<Disk>) -> Fixture<RedbStore> {
    let Fixture {
        service,
        clock,
        event,
        organizer,
        en,
        fr,
        exhibitors,
    } = f;
    drop(service);
    let service = Punchlist::new(open_faulty(path, disk).await, clock.clone())
        .with_config(Config::default().with_batch_size(7));
    Fixture {
        service: Arc::new(service),
        clock,
        event,
        organizer,
        en,
        fr,
        exhibitors,
    }
}

/// An error with its sources, one after the other.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Whether a blocking task panicked on the way (the store maps a `JoinError` to a
/// backend error: a panic must not hide behind it).
fn panicked(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<tokio::task::JoinError>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Asserts that `result` is a typed storage refusal (never a panic), and returns it.
fn refused<T: std::fmt::Debug>(what: &str, result: punchlist::Result<T>) -> String {
    match result {
        Err(e @ (Error::Backend { .. } | Error::Unavailable { .. })) => {
            assert!(!panicked(&e), "{what}: a panic surfaced as {}", chain(&e));
            chain(&e)
        }
        other => panic!("{what}: expected a storage error on a full disk, got {other:?}"),
    }
}

/// The participant's status for `task` in their own list.
async fn status_of(f: &Fixture<RedbStore>, p: &Participant, task: TaskId) -> ProgressStatus {
    f.status(p, task).await.expect("the task is in the list")
}

/// What the write operations under a full disk work on.
struct Seeded {
    ann: Participant,
    team: Participant,
    badge: TaskId,
    draft: TaskConfig,
    zoe: NewParticipant,
    email: RecordingNotifier,
}

/// A write operation of the service (or the dispatcher) tried on a full disk.
#[derive(Debug, Clone, Copy)]
enum Op {
    Ingest,
    CompleteTask,
    CreateTask,
    SendMessage,
    AssignTask,
    RegisterParticipant,
    Dispatch,
}

impl Op {
    const ALL: [Op; 7] = [
        Op::Ingest,
        Op::CompleteTask,
        Op::CreateTask,
        Op::SendMessage,
        Op::AssignTask,
        Op::RegisterParticipant,
        Op::Dispatch,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::Ingest => "ingest",
            Op::CompleteTask => "complete_task",
            Op::CreateTask => "create_task",
            Op::SendMessage => "send_message",
            Op::AssignTask => "assign_task",
            Op::RegisterParticipant => "register_participant",
            Op::Dispatch => "dispatch_once",
        }
    }
}

/// Runs `op` once.
async fn attempt(f: &Fixture<RedbStore>, op: Op, s: &Seeded) -> punchlist::Result<()> {
    let ann = f.as_participant(&s.ann);
    match op {
        Op::Ingest => f
            .service
            .ingest(
                &Actor::System,
                f.event,
                f.host_event("logo-ann", &s.ann, HostFact::LogoUploaded),
            )
            .await
            .map(drop),
        Op::CompleteTask => f
            .service
            .complete_task(&ann, f.event, s.ann.id, s.badge)
            .await
            .map(drop),
        Op::CreateTask => f
            .service
            .create_task(&f.organizer, f.event, s.draft.clone())
            .await
            .map(drop),
        Op::SendMessage => f
            .service
            .send_message(&f.organizer, f.event, s.ann.id, "Your stand is ready")
            .await
            .map(drop),
        Op::AssignTask => f
            .service
            .assign_task(&ann, f.event, s.ann.id, s.badge, s.team.id)
            .await
            .map(drop),
        Op::RegisterParticipant => f
            .service
            .register_participant(&f.organizer, f.event, s.zoe.clone())
            .await
            .map(drop),
        Op::Dispatch => {
            let dispatcher = Dispatcher::new(f.service.clone()).with_notifier(s.email.clone());
            dispatcher.dispatch_once().await.map(drop)
        }
    }
}

/// X4: the disk fills up under a redb store (a custom `StorageBackend` failing writes,
/// growths and syncs). Every write operation is refused with `Error::Backend`, none
/// panics, none is half-applied; redb then refuses every write (`PreviousIo`), even once
/// the disk is freed, until the database is reopened (reads are still answered), after which the event is exactly as before the failures and new
/// operations succeed. Then the disk fills up at every point of one commit in turn: each
/// time the reopened file holds the commit entirely or not at all, and never loses one
/// that was acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x4_redb_io_errors_fail_cleanly_and_write_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("faults.redb");
    let disk = Arc::new(Disk::default());
    let mut err = std::io::stderr();

    // Seed.
    let f = Fixture::with_store(open_faulty(&path, &disk).await).await;
    let (ann, team) = f.exhibitor_with_collaborator("ann").await;
    let bob = f.participant("bob", &["exhibitor"]).await;
    let badge = f.manual_task("Collect your badge", None).await;
    let logo = f
        .auto_task(
            "Upload your logo",
            Condition::LogoUploaded,
            Some(f.exhibitors),
        )
        .await;
    f.fact("logo-bob", &bob, HostFact::LogoUploaded).await;
    let mut notice =
        TaskConfig::manual(f.en.clone(), "Book your hotel", Fixture::<RedbStore>::web());
    notice.notify_on_publish = true;
    f.publish(notice).await;
    let pending = f
        .outbox()
        .await
        .iter()
        .filter(|e| e.state == OutboxState::Pending)
        .count();
    assert!(pending > 0, "publication notices are waiting");
    let before = f.dump().await;

    // The disk is full: each write operation, on a database that has not failed yet,
    // meets the I/O error itself and is refused, typed; then the disk is freed and the
    // database reopened, and the file is exactly as before.
    let email = RecordingNotifier::new(Channel::Email);
    let mut draft = TaskConfig::manual(
        f.en.clone(),
        "Sign the charter",
        Fixture::<RedbStore>::web(),
    );
    draft.segment = Some(f.exhibitors);
    let mut zoe = NewParticipant::new(ExternalId::new("zoe").expect("an id"));
    zoe.profile.email = Some("zoe@example.org".into());
    let seeded = Seeded {
        ann: ann.clone(),
        team: team.clone(),
        badge: badge.id,
        draft,
        zoe,
        email: email.clone(),
    };
    let mut f = f;
    let mut refusals: Vec<(Op, String)> = Vec::new();
    let mut latched = None;
    for op in Op::ALL {
        disk.fill();
        refusals.push((op, refused(op.name(), attempt(&f, op, &seeded).await)));
        if latched.is_none() {
            // redb latches the I/O error: what a host sees next, disk still full, then
            // freed, before reopening.
            let read = match f.service.my_tasks(&f.as_participant(&ann), f.event).await {
                Ok(_) => "answered".to_owned(),
                Err(e) => format!("refused: {}", chain(&e)),
            };
            let next = refused(
                "the next write",
                attempt(&f, Op::SendMessage, &seeded).await,
            );
            disk.free();
            let freed = refused(
                "a write after the disk is freed, before reopening",
                attempt(&f, Op::SendMessage, &seeded).await,
            );
            assert!(
                next.contains("Previous I/O error") && freed.contains("Previous I/O error"),
                "redb refuses every write until the database is reopened: {next} / {freed}"
            );
            latched = Some((read, freed));
        }
        disk.free();
        f = reopen(f, &path, &disk).await;
        assert_eq!(
            f.dump().await,
            before,
            "nothing of the refused {} is in the file",
            op.name()
        );
    }
    assert!(
        email.received().is_empty(),
        "nothing sent from a claim that was not written"
    );
    let (read_seen, still) = latched.expect("at least one operation");

    // And new operations succeed.
    let writes_before = disk.writes.load(Ordering::SeqCst);
    f.service
        .ingest(
            &Actor::System,
            f.event,
            f.host_event("logo-ann", &ann, HostFact::LogoUploaded),
        )
        .await
        .expect("ingest after the disk is freed");
    let ingest_writes = disk.writes.load(Ordering::SeqCst) - writes_before;
    for op in Op::ALL.into_iter().skip(1) {
        attempt(&f, op, &seeded)
            .await
            .unwrap_or_else(|e| panic!("{} after the disk is freed: {e:?}", op.name()));
    }
    // The publication notices waiting before the failures, and the assignment notice
    // (N2) just queued, all go out.
    let sent = f.outbox().await;
    assert!(sent.iter().all(|e| e.state == OutboxState::Sent));
    assert_eq!(sent.len(), pending + 1);
    assert_eq!(
        email.received().len(),
        sent.len(),
        "the waiting notices go out"
    );
    assert_eq!(status_of(&f, &ann, logo.id).await, ProgressStatus::Done);
    assert_eq!(status_of(&f, &ann, badge.id).await, ProgressStatus::Done);
    let assigned = f
        .list(&team)
        .await
        .items
        .into_iter()
        .any(|i| i.task == badge.id && i.owner == ann.id);
    assert!(assigned, "the badge task is assigned to ann's collaborator");
    let acknowledged = f.dump().await;

    // The disk fills up at each point of one commit in turn (an ingest), from its first
    // write to the room it needs: after reopening, the commit is there entirely or not at
    // all, and there if it was acknowledged. Then once with every write landing and the
    // sync failing.
    let mut torn = Torn::default();
    let mut room = 0u64;
    loop {
        let p = f.participant(&format!("x{room:02}"), &["exhibitor"]).await;
        let acked = torn_ingest(f, &path, &disk, &p, logo.id, Fault::Room(room), &mut torn).await;
        f = acked.0;
        if acked.1 {
            break;
        }
        room += 1;
        assert!(room <= 256, "an ingest commits with room for 256 writes");
    }
    let p = f.participant("sync-eio", &["exhibitor"]).await;
    f = torn_ingest(f, &path, &disk, &p, logo.id, Fault::Sync, &mut torn)
        .await
        .0;

    // Everything acknowledged before the sweep is still there.
    let end = f.dump().await;
    let ids = |d: &EventDump| -> BTreeSet<String> {
        d.participants
            .iter()
            .map(|p| p.participant.id.to_string())
            .chain(d.tasks.iter().map(|t| t.id.to_string()))
            .chain(d.host_events.iter().map(|h| h.to_string()))
            .chain(d.messages.iter().map(|m| m.id.to_string()))
            .chain(d.timeline.iter().map(|t| t.id.to_string()))
            .chain(d.outbox.iter().map(|o| o.id.to_string()))
            .collect()
    };
    assert!(
        ids(&acknowledged).is_subset(&ids(&end)),
        "every acknowledged participant, task, host event, message, timeline entry and \
         outbox entry is kept"
    );
    drop(f);

    // The file is an ordinary redb file again.
    let plain = RedbStore::open_async(&path)
        .await
        .expect("the file opens without the faulty backend");
    assert_eq!(
        plain
            .dump(end.event.as_ref().expect("the event").id)
            .await
            .expect("dump"),
        end
    );

    for (op, why) in &refusals {
        writeln!(err, "x4 redb disk full: {} refused: {why}", op.name()).ok();
    }
    writeln!(
        err,
        "x4 redb disk full: {} operations refused (Error::Backend), each meeting the full \
         disk itself, 0 panics; after the first, a read was {read_seen}; after freeing the disk, before reopening: {still}; after \
         reopening the dump equals the one before the failures; {} writes refused by the \
         backend in all. Torn commits: an ingest took {ingest_writes} writes after a reopen; the disk \
         filled after 0..={room} writes, then an fsync failed: {} refused and absent, {} \
         acknowledged, {} refused yet committed ({}; the host's redelivery is a no-op); \
         lost 0",
        refusals.len(),
        disk.refused.load(Ordering::SeqCst),
        torn.absent,
        torn.acknowledged,
        torn.kept.len(),
        torn.kept.join(", "),
    )
    .ok();
}

/// Outcomes of ingests under a fault.
#[derive(Debug, Default)]
struct Torn {
    /// Refused, and absent after reopening.
    absent: usize,
    /// Acknowledged (and present after reopening).
    acknowledged: usize,
    /// Refused, yet present after reopening: the faults it happened under.
    kept: Vec<String>,
}

/// A fault for [`torn_ingest`].
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// The disk is full after this many writes.
    Room(u64),
    /// Writes land, syncs fail.
    Sync,
}

/// Ingests `p`'s logo under `fault`, frees the disk, reopens, and checks the commit is
/// all or nothing, and there if acknowledged; then redelivers it. Returns the reopened
/// fixture and whether the ingest was acknowledged without a refused write.
async fn torn_ingest(
    f: Fixture<RedbStore>,
    path: &Path,
    disk: &Arc<Disk>,
    p: &Participant,
    logo: TaskId,
    fault: Fault,
    torn: &mut Torn,
) -> (Fixture<RedbStore>, bool) {
    let id = format!("logo-{}", p.external_id);
    let before = f.dump().await;
    let refused_before = disk.refused.load(Ordering::SeqCst);
    match fault {
        Fault::Room(n) => disk.fill_after(n),
        Fault::Sync => disk.fail_syncs(),
    }
    let outcome = f
        .service
        .ingest(
            &Actor::System,
            f.event,
            f.host_event(&id, p, HostFact::LogoUploaded),
        )
        .await;
    let clean = disk.refused.load(Ordering::SeqCst) == refused_before;
    disk.free();
    if let Err(e) = &outcome {
        assert!(!panicked(e), "no panic under {fault:?}: {}", chain(e));
        assert!(
            matches!(e, Error::Backend { .. } | Error::Unavailable { .. }),
            "a typed storage error under {fault:?}: {e:?}"
        );
    }
    let f = reopen(f, path, disk).await;
    let after = f.dump().await; // also checks the counters against a recount
    let kept = after.host_events.iter().any(|h| h.as_str() == id.as_str());
    match (&outcome, kept) {
        (Ok(_), true) => torn.acknowledged += 1,
        (Ok(_), false) => panic!("an acknowledged ingest is lost under {fault:?}"),
        (Err(_), false) => {
            assert_eq!(
                after, before,
                "a refused ingest left nothing under {fault:?}"
            );
            torn.absent += 1;
        }
        (Err(_), true) => torn.kept.push(format!("{fault:?}")),
    }
    if kept {
        assert_eq!(
            status_of(&f, p, logo).await,
            ProgressStatus::Done,
            "a kept ingest is whole under {fault:?}"
        );
    }
    // The host redelivers what was refused; a kept one is a duplicate.
    f.service
        .ingest(
            &Actor::System,
            f.event,
            f.host_event(&id, p, HostFact::LogoUploaded),
        )
        .await
        .expect("redelivery after the disk is freed");
    assert_eq!(status_of(&f, p, logo).await, ProgressStatus::Done);
    (f, outcome.is_ok() && clean)
}
