//! The hand-written baseline on redb: one write transaction doing the library's reads and
//! writes by hand on narrow tables, keys starting with the event, values a few fixed bytes.
//!
//! | table | key | value |
//! |---|---|---|
//! | `hw_host_events` | event · host id | — |
//! | `hw_members` | event · participant · kind · object | time (12 bytes) · present |
//! | `hw_facts` | event · participant | erased, counts (4 × i32), version (u64) |
//! | `hw_progress` | event · participant · task | status byte (high bit: targeted) |
//! | `hw_status` | event · task · status · participant | — (the (task, status) index) |
//! | `hw_counters` | event · task | targeted, done, awaiting review (3 × i64) |
//! | `hw_timeline` | event · participant · entry (UUID v7) | kind · task · time |
//! | `hw_conditions` | event · task | fact · threshold |
//!
//! After the commit, each status change goes out on a broadcast channel, as the library's
//! redb store publishes its progress changes.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::{
    Clock, HostEvent, HostFact, ManualClock, ParticipantId, ParticipantRef, TaskCounters, TaskId,
    TimelineId,
};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::broadcast;

use super::{
    AWAITING, COLLABORATORS, COMPLETED, DONE, INVITATIONS, Ingest, LOGO, PRODUCTS, REOPENED, Seen,
    Snapshot, TODO,
};

type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;
type Keys = TableDefinition<'static, &'static [u8], ()>;

const HOST_EVENTS: Keys = TableDefinition::new("hw_host_events");
const MEMBERS: Bytes = TableDefinition::new("hw_members");
const FACTS: Bytes = TableDefinition::new("hw_facts");
const PROGRESS: Bytes = TableDefinition::new("hw_progress");
const STATUS: Keys = TableDefinition::new("hw_status");
const COUNTERS: Bytes = TableDefinition::new("hw_counters");
const TIMELINE: Bytes = TableDefinition::new("hw_timeline");
const CONDITIONS: Bytes = TableDefinition::new("hw_conditions");

/// The targeted bit of a progress value.
const TARGETED: u8 = 0x80;

/// A status change, as sent on the channel.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    /// Whose.
    pub participant: [u8; 16],
    /// Which task.
    pub task: [u8; 16],
    /// The new status byte.
    pub status: u8,
}

/// The baseline's database, in a file of its own beside the library's.
pub struct RedbBaseline {
    db: Database,
    path: PathBuf,
    event: [u8; 16],
    feed: broadcast::Sender<Change>,
    clock: ManualClock,
}

fn k(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A time as 12 bytes in time order (as the library's redb keys write it).
fn time_bytes(t: DateTime<Utc>) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&((t.timestamp() as u64) ^ (1 << 63)).to_be_bytes());
    out[8..].copy_from_slice(&t.timestamp_subsec_nanos().to_be_bytes());
    out
}

/// A participant's facts row: erased, the four counts, the version.
#[derive(Clone, Copy)]
struct FactsRow {
    erased: bool,
    counts: [i32; 4],
    version: u64,
}

impl FactsRow {
    fn encode(&self) -> [u8; 25] {
        let mut v = [0u8; 25];
        v[0] = u8::from(self.erased);
        for (i, c) in self.counts.iter().enumerate() {
            v[1 + 4 * i..5 + 4 * i].copy_from_slice(&c.to_be_bytes());
        }
        v[17..].copy_from_slice(&self.version.to_be_bytes());
        v
    }
    fn decode(v: &[u8]) -> Self {
        let mut counts = [0i32; 4];
        for (i, c) in counts.iter_mut().enumerate() {
            *c = i32::from_be_bytes(v[1 + 4 * i..5 + 4 * i].try_into().unwrap());
        }
        FactsRow {
            erased: v[0] != 0,
            counts,
            version: u64::from_be_bytes(v[17..25].try_into().unwrap()),
        }
    }
}

fn counters_encode(c: &TaskCounters) -> [u8; 24] {
    let mut v = [0u8; 24];
    v[..8].copy_from_slice(&c.targeted.to_be_bytes());
    v[8..16].copy_from_slice(&c.done.to_be_bytes());
    v[16..].copy_from_slice(&c.awaiting_review.to_be_bytes());
    v
}

fn counters_decode(v: &[u8]) -> TaskCounters {
    let at = |i: usize| i64::from_be_bytes(v[i..i + 8].try_into().unwrap());
    TaskCounters {
        targeted: at(0),
        done: at(8),
        awaiting_review: at(16),
    }
}

fn timeline_row(kind: u8, task: Option<TaskId>, at: DateTime<Utc>) -> [u8; 29] {
    let mut v = [0u8; 29];
    v[0] = kind;
    if let Some(t) = task {
        v[1..17].copy_from_slice(t.as_uuid().as_bytes());
    }
    v[17..].copy_from_slice(&time_bytes(at));
    v
}

/// The counted fact of a host fact: kind, object, present.
fn member_of(fact: &HostFact) -> Option<(u8, &str, bool)> {
    Some(match fact {
        HostFact::LogoUploaded => (LOGO, "logo", true),
        HostFact::LogoRemoved => (LOGO, "logo", false),
        HostFact::ProductAdded { product } => (PRODUCTS, product.as_str(), true),
        HostFact::ProductRemoved { product } => (PRODUCTS, product.as_str(), false),
        HostFact::InvitationSent { invitation } => (INVITATIONS, invitation.as_str(), true),
        HostFact::InvitationWithdrawn { invitation } => (INVITATIONS, invitation.as_str(), false),
        HostFact::CollaboratorAdded { collaborator } => {
            (COLLABORATORS, collaborator.as_str(), true)
        }
        HostFact::CollaboratorRemoved { collaborator } => {
            (COLLABORATORS, collaborator.as_str(), false)
        }
        _ => return None,
    })
}

impl RedbBaseline {
    /// A new file seeded with `snapshot`, in big write transactions.
    pub fn seeded(snapshot: &Snapshot) -> Self {
        let path = std::env::temp_dir().join(format!(
            "punchlist-handwritten-{}-{}.redb",
            std::process::id(),
            snapshot.people.len()
        ));
        let db = Database::create(&path).unwrap();
        let ev = *snapshot.event.as_uuid().as_bytes();
        for chunk in snapshot.people.chunks(5_000) {
            let txn = db.begin_write().unwrap();
            {
                let mut facts = txn.open_table(FACTS).unwrap();
                let mut members = txn.open_table(MEMBERS).unwrap();
                let mut progress = txn.open_table(PROGRESS).unwrap();
                let mut status = txn.open_table(STATUS).unwrap();
                let mut timeline = txn.open_table(TIMELINE).unwrap();
                for p in chunk {
                    let pid = p.id.as_uuid().into_bytes();
                    let row = FactsRow {
                        erased: p.erased,
                        counts: p.counts,
                        version: p.version,
                    };
                    facts
                        .insert(k(&[&ev, &pid]).as_slice(), row.encode().as_slice())
                        .unwrap();
                    for m in &p.members {
                        let mut v = time_bytes(m.at).to_vec();
                        v.push(u8::from(m.present));
                        let key = k(&[&ev, &pid, &[m.kind], m.object.as_bytes()]);
                        members.insert(key.as_slice(), v.as_slice()).unwrap();
                    }
                    for r in &p.rows {
                        let task = r.task.as_uuid().into_bytes();
                        let byte = r.status | if r.targeted { TARGETED } else { 0 };
                        progress
                            .insert(k(&[&ev, &pid, &task]).as_slice(), [byte].as_slice())
                            .unwrap();
                        if r.targeted {
                            status
                                .insert(k(&[&ev, &task, &[r.status], &pid]).as_slice(), ())
                                .unwrap();
                        }
                    }
                    for (id, kind, task, at) in &p.timeline {
                        let key = k(&[&ev, &pid, id.as_bytes()]);
                        timeline
                            .insert(key.as_slice(), timeline_row(*kind, *task, *at).as_slice())
                            .unwrap();
                    }
                }
            }
            txn.commit().unwrap();
        }
        let txn = db.begin_write().unwrap();
        {
            let mut hosts = txn.open_table(HOST_EVENTS).unwrap();
            for id in &snapshot.host_ids {
                hosts
                    .insert(k(&[&ev, id.as_bytes()]).as_slice(), ())
                    .unwrap();
            }
            let mut counters = txn.open_table(COUNTERS).unwrap();
            for (task, c) in &snapshot.counters {
                let key = k(&[&ev, task.as_uuid().as_bytes()]);
                counters
                    .insert(key.as_slice(), counters_encode(c).as_slice())
                    .unwrap();
            }
            let mut conditions = txn.open_table(CONDITIONS).unwrap();
            for c in &snapshot.conditions {
                let mut v = vec![c.fact];
                v.extend_from_slice(&c.at_least.to_be_bytes());
                let key = k(&[&ev, c.task.as_uuid().as_bytes()]);
                conditions.insert(key.as_slice(), v.as_slice()).unwrap();
            }
        }
        txn.commit().unwrap();
        RedbBaseline {
            db,
            path,
            event: ev,
            feed: broadcast::channel(4096).0,
            clock: snapshot.clock.clone(),
        }
    }

    /// Ingests `batch` in one write transaction; returns the status changes it made.
    pub fn ingest_now(&self, batch: &[HostEvent]) -> usize {
        let ev = self.event;
        let now = self.clock.now();
        let txn = self.db.begin_write().unwrap();
        let mut changes = Vec::new();
        {
            let mut hosts = txn.open_table(HOST_EVENTS).unwrap();
            let mut members = txn.open_table(MEMBERS).unwrap();
            let mut facts = txn.open_table(FACTS).unwrap();
            let mut progress = txn.open_table(PROGRESS).unwrap();
            let mut status = txn.open_table(STATUS).unwrap();
            let mut counters = txn.open_table(COUNTERS).unwrap();
            let mut timeline = txn.open_table(TIMELINE).unwrap();
            let conditions = txn.open_table(CONDITIONS).unwrap();
            let mut end = ev.to_vec();
            end.push(0xff);
            let conds: Vec<([u8; 16], u8, i32)> = conditions
                .range(ev.as_slice()..end.as_slice())
                .unwrap()
                .map(|item| {
                    let (key, v) = item.unwrap();
                    let (key, v) = (key.value(), v.value());
                    let task: [u8; 16] = key[16..32].try_into().unwrap();
                    (task, v[0], i32::from_be_bytes(v[1..5].try_into().unwrap()))
                })
                .collect();
            // Each participant's facts row, read once (before, after, whether it changed).
            let mut touched: HashMap<[u8; 16], (FactsRow, FactsRow, bool)> = HashMap::new();
            let mut seen: HashSet<&str> = HashSet::with_capacity(batch.len());
            for e in batch {
                let ParticipantRef::Id(p) = &e.participant else {
                    continue; // the host's ids are not resolved by this baseline
                };
                let pid = p.as_uuid().into_bytes();
                let host_key = k(&[&ev, e.id.as_str().as_bytes()]);
                if !seen.insert(e.id.as_str()) || hosts.get(host_key.as_slice()).unwrap().is_some()
                {
                    continue; // a duplicate
                }
                if let Entry::Vacant(slot) = touched.entry(pid) {
                    let Some(v) = facts.get(k(&[&ev, &pid]).as_slice()).unwrap() else {
                        continue; // unknown participant
                    };
                    let row = FactsRow::decode(v.value());
                    slot.insert((row, row, false));
                }
                let row = touched.get_mut(&pid).expect("loaded above");
                if row.0.erased {
                    continue;
                }
                hosts.insert(host_key.as_slice(), ()).unwrap();
                let Some((kind, object, present)) = member_of(&e.fact) else {
                    continue;
                };
                let key = k(&[&ev, &pid, &[kind], object.as_bytes()]);
                let at = time_bytes(e.occurred_at);
                let old = members.get(key.as_slice()).unwrap().map(|v| {
                    let v = v.value();
                    (<[u8; 12]>::try_from(&v[..12]).unwrap(), v[12] != 0)
                });
                // The latest occurrence wins; on a tie, the removal.
                let wins = match old {
                    None => true,
                    Some((old_at, old_present)) => {
                        at > old_at || (at == old_at && old_present && !present)
                    }
                };
                if !wins || old == Some((at, present)) {
                    continue;
                }
                let mut v = at.to_vec();
                v.push(u8::from(present));
                members.insert(key.as_slice(), v.as_slice()).unwrap();
                let was = old.is_some_and(|o| o.1);
                row.1.counts[usize::from(kind)] += i32::from(present) - i32::from(was);
                row.2 = true;
            }
            let mut deltas: BTreeMap<[u8; 16], i64> = BTreeMap::new();
            for (pid, (before, mut after, changed)) in touched {
                if !changed {
                    continue;
                }
                after.version += 1;
                facts
                    .insert(k(&[&ev, &pid]).as_slice(), after.encode().as_slice())
                    .unwrap();
                for (task, fact, at_least) in &conds {
                    let f = usize::from(*fact);
                    let done = after.counts[f] >= *at_least;
                    if (before.counts[f] >= *at_least) == done {
                        continue;
                    }
                    let pkey = k(&[&ev, &pid, task]);
                    let Some(byte) = progress.get(pkey.as_slice()).unwrap().map(|v| v.value()[0])
                    else {
                        continue;
                    };
                    let (old, new) = (byte & !TARGETED, if done { DONE } else { TODO });
                    if byte & TARGETED == 0 || old == new || old == AWAITING {
                        continue;
                    }
                    progress
                        .insert(pkey.as_slice(), [new | TARGETED].as_slice())
                        .unwrap();
                    status
                        .remove(k(&[&ev, task, &[old], &pid]).as_slice())
                        .unwrap();
                    status
                        .insert(k(&[&ev, task, &[new], &pid]).as_slice(), ())
                        .unwrap();
                    *deltas.entry(*task).or_default() += if done { 1 } else { -1 };
                    let kind = if done { COMPLETED } else { REOPENED };
                    let entry = TimelineId::happened_at(now).as_uuid();
                    let row = timeline_row(
                        kind,
                        Some(TaskId::from_uuid(uuid::Uuid::from_bytes(*task))),
                        now,
                    );
                    timeline
                        .insert(k(&[&ev, &pid, entry.as_bytes()]).as_slice(), row.as_slice())
                        .unwrap();
                    changes.push(Change {
                        participant: pid,
                        task: *task,
                        status: new,
                    });
                }
            }
            for (task, delta) in deltas {
                let key = k(&[&ev, &task]);
                let mut c = counters
                    .get(key.as_slice())
                    .unwrap()
                    .map(|v| counters_decode(v.value()))
                    .unwrap_or_default();
                c.done += delta;
                counters
                    .insert(key.as_slice(), counters_encode(&c).as_slice())
                    .unwrap();
            }
        }
        txn.commit().unwrap();
        let n = changes.len();
        for change in changes {
            // Nobody listening is not an error, as in the library.
            let _ = self.feed.send(change);
        }
        n
    }
}

impl Drop for RedbBaseline {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[async_trait]
impl Ingest for RedbBaseline {
    async fn ingest(&self, batch: Vec<HostEvent>) {
        self.ingest_now(&batch);
    }

    async fn seen(
        &self,
        people: &[ParticipantId],
        tasks: &[TaskId],
    ) -> (Vec<Seen>, BTreeMap<TaskId, TaskCounters>) {
        let ev = self.event;
        let txn = self.db.begin_read().unwrap();
        let facts = txn.open_table(FACTS).unwrap();
        let progress = txn.open_table(PROGRESS).unwrap();
        let counters = txn.open_table(COUNTERS).unwrap();
        let seen = people
            .iter()
            .map(|p| {
                let pid = p.as_uuid().into_bytes();
                let row = FactsRow::decode(
                    facts
                        .get(k(&[&ev, &pid]).as_slice())
                        .unwrap()
                        .unwrap()
                        .value(),
                );
                let statuses = tasks
                    .iter()
                    .map(|t| {
                        let key = k(&[&ev, &pid, t.as_uuid().as_bytes()]);
                        let byte = progress.get(key.as_slice()).unwrap().unwrap().value()[0];
                        (*t, byte & !TARGETED)
                    })
                    .collect();
                (row.counts[usize::from(PRODUCTS)], statuses)
            })
            .collect();
        let counted = tasks
            .iter()
            .filter_map(|t| {
                let key = k(&[&ev, t.as_uuid().as_bytes()]);
                counters
                    .get(key.as_slice())
                    .unwrap()
                    .map(|v| (*t, counters_decode(v.value())))
            })
            .collect();
        (seen, counted)
    }
}
