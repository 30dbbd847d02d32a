//! The paged work by hand on redb, in a file of its own, keys starting with the event:
//!
//! | table | key | value |
//! |---|---|---|
//! | `hp_people` | event · participant | erased · category |
//! | `hp_external` | event · external id | participant |
//! | `hp_tasks` | event · task | deadline (13 bytes: set, time) · category |
//! | `hp_progress` | event · participant · task | status byte (high bit: targeted) · next reminder (13 bytes) |
//! | `hp_status` | event · task · status · participant | — (the (task, status) index) |
//! | `hp_due` | event · next reminder · participant · task | — (the due-reminder index) |
//! | `hp_counters` | event · task | targeted, done, awaiting review (3 × i64) |
//! | `hp_outbox` | event · entry (UUID v7) | recipient · kind · tasks |
//! | `hp_outbox_keys` | event · idempotency key | — |
//! | `hp_timeline` | event · participant · entry (UUID v7) | kind · task · time |
//!
//! New progress rows go out on a broadcast channel after each commit, as the library's
//! redb store publishes its progress changes.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::{Clock, ManualClock, ParticipantId, TimelineId};
use redb::{Database, ReadableTable, TableDefinition};
use tokio::sync::broadcast;

use super::{Counts, Op, Paged, Seed, first_slot, newcomers, next_slot};
use crate::handwritten::TODO;

/// The targeted bit of a progress value.
const TARGETED: u8 = 0x80;

type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;
type Keys = TableDefinition<'static, &'static [u8], ()>;

const PEOPLE: Bytes = TableDefinition::new("hp_people");
const EXTERNAL: Bytes = TableDefinition::new("hp_external");
const TASKS: Bytes = TableDefinition::new("hp_tasks");
const PROGRESS: Bytes = TableDefinition::new("hp_progress");
const STATUS: Keys = TableDefinition::new("hp_status");
const DUE: Keys = TableDefinition::new("hp_due");
const COUNTERS: Bytes = TableDefinition::new("hp_counters");
const OUTBOX: Bytes = TableDefinition::new("hp_outbox");
const OUTBOX_KEYS: Keys = TableDefinition::new("hp_outbox_keys");
const TIMELINE: Bytes = TableDefinition::new("hp_timeline");

/// Outbox kinds.
const PUBLICATION: u8 = 1;
const REMINDERS: u8 = 2;
/// Timeline kinds.
const REGISTERED: u8 = 3;
const REMINDED: u8 = 4;

/// The batch size of the paged work (the library's `Config::batch_size` in the benches).
const BATCH: usize = 1_000;

fn k(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn time_bytes(t: DateTime<Utc>) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&((t.timestamp() as u64) ^ (1 << 63)).to_be_bytes());
    out[8..].copy_from_slice(&t.timestamp_subsec_nanos().to_be_bytes());
    out
}

fn time_of(b: &[u8]) -> DateTime<Utc> {
    let secs = u64::from_be_bytes(b[..8].try_into().unwrap()) ^ (1 << 63);
    let nanos = u32::from_be_bytes(b[8..12].try_into().unwrap());
    DateTime::from_timestamp(secs as i64, nanos).unwrap()
}

/// An optional time: a set byte, then the time.
fn opt_time(t: Option<DateTime<Utc>>) -> [u8; 13] {
    let mut out = [0u8; 13];
    if let Some(t) = t {
        out[0] = 1;
        out[1..].copy_from_slice(&time_bytes(t));
    }
    out
}

fn opt_time_of(b: &[u8]) -> Option<DateTime<Utc>> {
    (b[0] == 1).then(|| time_of(&b[1..13]))
}

fn progress_value(targeted: bool, status: u8, next: Option<DateTime<Utc>>) -> [u8; 14] {
    let mut v = [0u8; 14];
    v[0] = status | if targeted { TARGETED } else { 0 };
    v[1..].copy_from_slice(&opt_time(next));
    v
}

/// A new progress row (to do, targeted) with everything that indexes and counts it.
struct Writer<'t> {
    progress: redb::Table<'t, &'static [u8], &'static [u8]>,
    status: redb::Table<'t, &'static [u8], ()>,
    due: redb::Table<'t, &'static [u8], ()>,
}

impl Writer<'_> {
    fn row(&mut self, ev: &[u8], pid: &[u8], task: &[u8], next: Option<DateTime<Utc>>) -> bool {
        let key = k(&[ev, pid, task]);
        if self.progress.get(key.as_slice()).unwrap().is_some() {
            return false; // already there: whoever made it, it stays
        }
        let v = progress_value(true, TODO, next);
        self.progress.insert(key.as_slice(), v.as_slice()).unwrap();
        self.status
            .insert(k(&[ev, task, &[TODO], pid]).as_slice(), ())
            .unwrap();
        if let Some(t) = next {
            self.due
                .insert(k(&[ev, &time_bytes(t), pid, task]).as_slice(), ())
                .unwrap();
        }
        true
    }
}

fn add_targeted(
    counters: &mut redb::Table<'_, &'static [u8], &'static [u8]>,
    ev: &[u8],
    task: &[u8],
    by: i64,
) {
    let key = k(&[ev, task]);
    let mut v = counters
        .get(key.as_slice())
        .unwrap()
        .map(|v| v.value().to_vec())
        .unwrap_or_else(|| vec![0; 24]);
    let targeted = i64::from_be_bytes(v[..8].try_into().unwrap()) + by;
    v[..8].copy_from_slice(&targeted.to_be_bytes());
    counters.insert(key.as_slice(), v.as_slice()).unwrap();
}

fn entry_id(now: DateTime<Utc>) -> [u8; 16] {
    TimelineId::happened_at(now).as_uuid().into_bytes()
}

/// A timeline row: kind, task, time.
fn timeline_value(kind: u8, task: Option<&[u8]>, at: DateTime<Utc>) -> [u8; 29] {
    let mut v = [0u8; 29];
    v[0] = kind;
    if let Some(t) = task {
        v[1..17].copy_from_slice(t);
    }
    v[17..].copy_from_slice(&time_bytes(at));
    v
}

/// A published task as the import reads it: id, its rows' first reminder, category (empty:
/// everyone).
type Published = ([u8; 16], Option<DateTime<Utc>>, Vec<u8>);

/// The baseline's database.
pub struct RedbPaged {
    db: Database,
    path: PathBuf,
    event: [u8; 16],
    feed: broadcast::Sender<([u8; 16], [u8; 16])>,
    clock: ManualClock,
}

impl RedbPaged {
    /// A new file seeded with `seed`.
    pub fn seeded(seed: &Seed) -> Self {
        let path = std::env::temp_dir().join(format!(
            "punchlist-handwritten-paged-{}-{}.redb",
            std::process::id(),
            seed.people.len()
        ));
        let db = Database::create(&path).unwrap();
        let ev = *seed.event.as_uuid().as_bytes();
        for chunk in seed.people.chunks(5_000) {
            let txn = db.begin_write().unwrap();
            {
                let mut people = txn.open_table(PEOPLE).unwrap();
                let mut external = txn.open_table(EXTERNAL).unwrap();
                let mut progress = txn.open_table(PROGRESS).unwrap();
                let mut status = txn.open_table(STATUS).unwrap();
                let mut due = txn.open_table(DUE).unwrap();
                for p in chunk {
                    let pid = p.id.as_uuid().into_bytes();
                    let v = k(&[&[u8::from(p.erased)], p.category.as_bytes()]);
                    people
                        .insert(k(&[&ev, &pid]).as_slice(), v.as_slice())
                        .unwrap();
                    external
                        .insert(k(&[&ev, p.external.as_bytes()]).as_slice(), pid.as_slice())
                        .unwrap();
                    for (task, targeted, s, next) in &p.rows {
                        let task = task.as_uuid().into_bytes();
                        let v = progress_value(*targeted, *s, *next);
                        progress
                            .insert(k(&[&ev, &pid, &task]).as_slice(), v.as_slice())
                            .unwrap();
                        if *targeted {
                            status
                                .insert(k(&[&ev, &task, &[*s], &pid]).as_slice(), ())
                                .unwrap();
                        }
                        if let Some(t) = next {
                            due.insert(k(&[&ev, &time_bytes(*t), &pid, &task]).as_slice(), ())
                                .unwrap();
                        }
                    }
                }
            }
            txn.commit().unwrap();
        }
        let txn = db.begin_write().unwrap();
        {
            let mut tasks = txn.open_table(TASKS).unwrap();
            for t in &seed.tasks {
                let v = k(&[
                    &opt_time(t.deadline),
                    t.category.as_deref().unwrap_or("").as_bytes(),
                ]);
                let key = k(&[&ev, t.id.as_uuid().as_bytes()]);
                tasks.insert(key.as_slice(), v.as_slice()).unwrap();
            }
            let mut counters = txn.open_table(COUNTERS).unwrap();
            for (task, c) in &seed.counters {
                let mut v = [0u8; 24];
                v[..8].copy_from_slice(&c.targeted.to_be_bytes());
                v[8..16].copy_from_slice(&c.done.to_be_bytes());
                v[16..].copy_from_slice(&c.awaiting_review.to_be_bytes());
                let key = k(&[&ev, task.as_uuid().as_bytes()]);
                counters.insert(key.as_slice(), v.as_slice()).unwrap();
            }
            txn.open_table(OUTBOX).unwrap();
            txn.open_table(OUTBOX_KEYS).unwrap();
            txn.open_table(TIMELINE).unwrap();
        }
        txn.commit().unwrap();
        RedbPaged {
            db,
            path,
            event: ev,
            feed: broadcast::channel(4096).0,
            clock: seed.clock.clone(),
        }
    }

    fn open_writer<'t>(txn: &'t redb::WriteTransaction) -> Writer<'t> {
        Writer {
            progress: txn.open_table(PROGRESS).unwrap(),
            status: txn.open_table(STATUS).unwrap(),
            due: txn.open_table(DUE).unwrap(),
        }
    }

    /// Publishes a new task to everyone (`deadline`, with notice or not): the task row,
    /// then pages of 1,000 participants, each its own transaction. Returns (rows, notices).
    pub fn publish(&self, deadline: Option<DateTime<Utc>>, notify: bool) -> (u64, u64) {
        let ev = self.event;
        let now = self.clock.now();
        let task = entry_id(now); // a time-ordered id, as the library's
        let txn = self.db.begin_write().unwrap();
        {
            let mut tasks = txn.open_table(TASKS).unwrap();
            let v = opt_time(deadline); // no category: everyone
            tasks
                .insert(k(&[&ev, &task]).as_slice(), v.as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
        let first = deadline.and_then(|d| first_slot(d, now));
        let (mut rows, mut notices) = (0u64, 0u64);
        let mut after = ev.to_vec();
        let mut end = ev.to_vec();
        end.push(0xff);
        loop {
            let txn = self.db.begin_write().unwrap();
            let mut made = Vec::new();
            let page_len;
            {
                let people = txn.open_table(PEOPLE).unwrap();
                let mut w = Self::open_writer(&txn);
                let mut counters = txn.open_table(COUNTERS).unwrap();
                let mut outbox = txn.open_table(OUTBOX).unwrap();
                let mut keys = txn.open_table(OUTBOX_KEYS).unwrap();
                let page: Vec<(Vec<u8>, bool)> = people
                    .range::<&[u8]>((
                        std::ops::Bound::Excluded(after.as_slice()),
                        std::ops::Bound::Excluded(end.as_slice()),
                    ))
                    .unwrap()
                    .take(BATCH)
                    .map(|item| {
                        let (key, v) = item.unwrap();
                        (key.value().to_vec(), v.value()[0] != 0)
                    })
                    .collect();
                page_len = page.len();
                for (key, erased) in &page {
                    let pid: [u8; 16] = key[16..32].try_into().unwrap();
                    if *erased || !w.row(&ev, &pid, &task, first) {
                        continue;
                    }
                    made.push(pid);
                    if notify {
                        let ikey = format!(
                            "publication:{}:{}",
                            uuid::Uuid::from_bytes(task),
                            uuid::Uuid::from_bytes(pid)
                        );
                        if keys
                            .insert(k(&[&ev, ikey.as_bytes()]).as_slice(), ())
                            .unwrap()
                            .is_none()
                        {
                            let v = k(&[&pid, &[PUBLICATION], &task]);
                            outbox
                                .insert(k(&[&ev, &entry_id(now)]).as_slice(), v.as_slice())
                                .unwrap();
                            notices += 1;
                        }
                    }
                }
                add_targeted(&mut counters, &ev, &task, made.len() as i64);
                if let Some((last, _)) = page.last() {
                    after = last.clone();
                }
            }
            txn.commit().unwrap();
            rows += made.len() as u64;
            for pid in made {
                let _ = self.feed.send((pid, task));
            }
            if page_len < BATCH {
                return (rows, notices);
            }
        }
    }

    /// The reminder tick: due rows through `hp_due`, 1,000 per transaction. Returns
    /// (reminders, messages).
    pub fn tick(&self) -> (u64, u64) {
        let ev = self.event;
        let now = self.clock.now();
        let start = ev.to_vec();
        let mut end = k(&[&ev, &time_bytes(now)]);
        end.push(0xff);
        let (mut reminders, mut messages) = (0u64, 0u64);
        let mut deadlines: HashMap<[u8; 16], Option<DateTime<Utc>>> = HashMap::new();
        loop {
            let txn = self.db.begin_write().unwrap();
            let batch_len;
            {
                let mut due = txn.open_table(DUE).unwrap();
                let mut progress = txn.open_table(PROGRESS).unwrap();
                let tasks = txn.open_table(TASKS).unwrap();
                let mut outbox = txn.open_table(OUTBOX).unwrap();
                let mut keys = txn.open_table(OUTBOX_KEYS).unwrap();
                let mut timeline = txn.open_table(TIMELINE).unwrap();
                let batch: Vec<Vec<u8>> = due
                    .range(start.as_slice()..end.as_slice())
                    .unwrap()
                    .take(BATCH)
                    .map(|item| item.unwrap().0.value().to_vec())
                    .collect();
                batch_len = batch.len();
                let mut groups: BTreeMap<[u8; 16], Vec<[u8; 16]>> = BTreeMap::new();
                for key in &batch {
                    due.remove(key.as_slice()).unwrap();
                    let pid: [u8; 16] = key[28..44].try_into().unwrap();
                    let task: [u8; 16] = key[44..60].try_into().unwrap();
                    let pkey = k(&[&ev, &pid, &task]);
                    let Some(v) = progress.get(pkey.as_slice()).unwrap().map(|v| v.value()[0])
                    else {
                        continue;
                    };
                    if v != (TODO | TARGETED) {
                        continue; // done, waiting for review or no longer targeted
                    }
                    let deadline = *deadlines.entry(task).or_insert_with(|| {
                        let v = tasks.get(k(&[&ev, &task]).as_slice()).unwrap();
                        v.and_then(|v| opt_time_of(v.value()))
                    });
                    let next = deadline.and_then(|d| next_slot(d, now));
                    let nv = progress_value(true, TODO, next);
                    progress.insert(pkey.as_slice(), nv.as_slice()).unwrap();
                    if let Some(t) = next {
                        due.insert(k(&[&ev, &time_bytes(t), &pid, &task]).as_slice(), ())
                            .unwrap();
                    }
                    groups.entry(pid).or_default().push(task);
                }
                for (pid, tasks) in groups {
                    let ikey = format!(
                        "reminders:{}:{}:{}",
                        uuid::Uuid::from_bytes(pid),
                        uuid::Uuid::from_bytes(tasks[0]),
                        now.timestamp_millis()
                    );
                    if keys
                        .insert(k(&[&ev, ikey.as_bytes()]).as_slice(), ())
                        .unwrap()
                        .is_some()
                    {
                        continue;
                    }
                    let mut v = k(&[&pid, &[REMINDERS]]);
                    for t in &tasks {
                        v.extend_from_slice(t);
                    }
                    outbox
                        .insert(k(&[&ev, &entry_id(now)]).as_slice(), v.as_slice())
                        .unwrap();
                    let row = timeline_value(REMINDED, Some(&tasks[0]), now);
                    timeline
                        .insert(k(&[&ev, &pid, &entry_id(now)]).as_slice(), row.as_slice())
                        .unwrap();
                    reminders += tasks.len() as u64;
                    messages += 1;
                }
            }
            txn.commit().unwrap();
            if batch_len < BATCH {
                return (reminders, messages);
            }
        }
    }

    /// Imports round `round`'s newcomers in one write transaction. Returns (participants,
    /// progress rows).
    pub fn import(&self, round: u64, n: usize) -> (u64, u64) {
        let ev = self.event;
        let now = self.clock.now();
        let txn = self.db.begin_write().unwrap();
        let (mut made, mut rows) = (0u64, 0u64);
        {
            let mut people = txn.open_table(PEOPLE).unwrap();
            let mut external = txn.open_table(EXTERNAL).unwrap();
            let tasks = txn.open_table(TASKS).unwrap();
            let mut w = Self::open_writer(&txn);
            let mut counters = txn.open_table(COUNTERS).unwrap();
            let mut timeline = txn.open_table(TIMELINE).unwrap();
            let mut end = ev.to_vec();
            end.push(0xff);
            let published: Vec<Published> = tasks
                .range(ev.as_slice()..end.as_slice())
                .unwrap()
                .map(|item| {
                    let (key, v) = item.unwrap();
                    let (key, v) = (key.value(), v.value());
                    let first = opt_time_of(v).and_then(|d| first_slot(d, now));
                    (key[16..32].try_into().unwrap(), first, v[13..].to_vec())
                })
                .collect();
            let mut targeted: BTreeMap<[u8; 16], i64> = BTreeMap::new();
            for c in newcomers(round, n) {
                let ekey = k(&[&ev, c.external.as_bytes()]);
                if external.get(ekey.as_slice()).unwrap().is_some() {
                    continue; // the external id is taken
                }
                let pid = ParticipantId::from_uuid(uuid::Uuid::from_bytes(entry_id(now)));
                let pid = pid.as_uuid().into_bytes();
                external.insert(ekey.as_slice(), pid.as_slice()).unwrap();
                let v = k(&[&[0], c.category.as_bytes()]);
                people
                    .insert(k(&[&ev, &pid]).as_slice(), v.as_slice())
                    .unwrap();
                made += 1;
                for (task, first, category) in &published {
                    if !category.is_empty() && category.as_slice() != c.category.as_bytes() {
                        continue;
                    }
                    if w.row(&ev, &pid, task, *first) {
                        *targeted.entry(*task).or_default() += 1;
                        rows += 1;
                    }
                }
                let row = timeline_value(REGISTERED, None, now);
                timeline
                    .insert(k(&[&ev, &pid, &entry_id(now)]).as_slice(), row.as_slice())
                    .unwrap();
            }
            for (task, by) in targeted {
                add_targeted(&mut counters, &ev, &task, by);
            }
        }
        txn.commit().unwrap();
        (made, rows)
    }
}

impl Drop for RedbPaged {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[async_trait]
impl Paged for RedbPaged {
    async fn round(&self, op: Op, round: u64, n: usize) -> (Duration, Counts) {
        match op {
            Op::Publish => {
                let started = Instant::now();
                let (rows, notices) = self.publish(None, true);
                (started.elapsed(), [rows, notices, 0])
            }
            Op::TickDue | Op::TickNone => {
                if op == Op::TickDue {
                    let due = self.clock.now() + chrono::Duration::hours(20);
                    self.publish(Some(due), false);
                }
                let started = Instant::now();
                let (reminders, messages) = self.tick();
                (started.elapsed(), [reminders, messages, 0])
            }
            Op::Import => {
                let started = Instant::now();
                let (made, rows) = self.import(round, n);
                (started.elapsed(), [made, rows, 0])
            }
        }
    }
}
