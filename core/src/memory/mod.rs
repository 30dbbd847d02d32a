//! The in-memory store: complete and thread-safe, for tests, demos and single-process hosts
//! that need no durability.
//!
//! Each event has its own lock, taken only for the short time of one read or one commit:
//! reads and the commit of a change set are separate steps, so concurrent operations really
//! interleave and the version check catches the loser, exactly as on a database.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, btree_map};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

mod write;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::change::{ChangeSet, StoredState};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::figures::TaskCounters;
use crate::history::{HistoryEntry, Subject};
use crate::ids::{
    EventId, ExternalId, HistoryId, HostEventId, MessageId, OutboxId, ParticipantId, SegmentId,
    SweepId, TaskId, TimelineId,
};
use crate::matrix::{MatrixQuery, MatrixSort};
use crate::message::Message;
use crate::notify::{LimiterStep, MessageKind, OutboxEntry, OutboxFilter, OutboxState};
use crate::participant::Participant;
use crate::progress::{Progress, ProgressChange, ProgressStatus};
use crate::segment::Segment;
use crate::store::{
    EventConfig, EventStore, OutboxStore, ParticipantState, ParticipantStore, ProgressFeed,
    RecordStore, TrackingStore,
};
use crate::sweep::Sweep;
use crate::task::Task;
use crate::timeline::{TimelineEntry, TimelineFilter};

/// How many changes a slow feed reader may fall behind before it is told it missed some.
const FEED_CAPACITY: usize = 4096;

/// The in-memory store. Cheap to clone: clones share the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    events: RwLock<HashMap<EventId, Arc<RwLock<EventData>>>>,
    feeds: Mutex<HashMap<EventId, broadcast::Sender<ProgressChange>>>,
    /// The dispatchers' rate limiters (N11), by name.
    limiters: Mutex<HashMap<String, DateTime<Utc>>>,
}

#[derive(Debug, Default)]
struct EventData {
    event: Option<Event>,
    segments: BTreeMap<SegmentId, Segment>,
    tasks: BTreeMap<TaskId, Task>,
    participants: BTreeMap<ParticipantId, ParticipantState>,
    by_external_id: HashMap<ExternalId, ParticipantId>,
    collaborators: BTreeMap<ParticipantId, BTreeSet<ParticipantId>>,
    assigned: BTreeMap<ParticipantId, BTreeSet<(ParticipantId, TaskId)>>,
    host_events: HashSet<HostEventId>,
    timeline: BTreeMap<(ParticipantId, TimelineId), TimelineEntry>,
    history: BTreeMap<(Subject, HistoryId), HistoryEntry>,
    messages: BTreeMap<(ParticipantId, MessageId), Message>,
    outbox: BTreeMap<OutboxId, OutboxEntry>,
    outbox_keys: HashSet<String>,
    /// Pending entries by lane and due time ([`OutboxEntry::lane`],
    /// [`OutboxEntry::due_at`]).
    outbox_due: BTreeSet<(u8, DateTime<Utc>, OutboxId)>,
    /// Dead letters.
    outbox_dead: BTreeSet<OutboxId>,
    /// Pending entries that waited for their send window, by recipient (N9).
    outbox_waiting: BTreeSet<(ParticipantId, OutboxId)>,
    sweeps: BTreeMap<SweepId, Sweep>,
    counters: BTreeMap<TaskId, TaskCounters>,
    /// The matrix's orders (B2): (sort key, participant) per sort of [`SORTS`].
    sorted: [BTreeSet<(String, ParticipantId)>; 3],
    /// Targeted rows by (task, status): the matrix's status filter (B2) skips the others
    /// without looking at them.
    by_status: HashMap<(TaskId, ProgressStatus), HashSet<ParticipantId>>,
    /// Targeted rows still to do by their next reminder (N3): the tick's range.
    reminders_due: HashMap<TaskId, BTreeSet<(DateTime<Utc>, ParticipantId)>>,
    /// The event's configuration as last committed, built by the first read after a write
    /// that changed the event, a task or a segment, then shared by every read.
    config: OnceLock<Arc<EventConfig>>,
}

/// The matrix orders kept as ordered sets (registration order is the participants' map).
const SORTS: [MatrixSort; 3] = [MatrixSort::Name, MatrixSort::Company, MatrixSort::Email];

fn poisoned<T>(_: T) -> Error {
    Error::backend("a thread panicked while holding the memory store's lock")
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self, event: EventId) -> Result<Option<Arc<RwLock<EventData>>>> {
        Ok(self
            .inner
            .events
            .read()
            .map_err(poisoned)?
            .get(&event)
            .cloned())
    }

    fn read<T>(&self, event: EventId, default: T, f: impl FnOnce(&EventData) -> T) -> Result<T> {
        match self.data(event)? {
            None => Ok(default),
            Some(data) => Ok(f(&*data.read().map_err(poisoned)?)),
        }
    }

    fn sender(&self, event: EventId) -> Result<broadcast::Sender<ProgressChange>> {
        let mut feeds = self.inner.feeds.lock().map_err(poisoned)?;
        Ok(feeds
            .entry(event)
            .or_insert_with(|| broadcast::channel(FEED_CAPACITY).0)
            .clone())
    }
}

/// The values of `map` under `key` whose id is in `lower..upper`, newest (highest id)
/// first: the keyset pages of timelines, histories and threads.
fn newest_first<K: Ord + Copy, I: Ord + Copy, V>(
    map: &BTreeMap<(K, I), V>,
    key: K,
    lower: I,
    upper: I,
) -> impl Iterator<Item = &V> {
    map.range((key, lower)..(key, upper)).rev().map(|(_, v)| v)
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn event_config(&self, event: EventId) -> Result<Option<Arc<EventConfig>>> {
        self.read(event, None, |d| {
            let record = d.event.as_ref()?;
            Some(Arc::clone(d.config.get_or_init(|| {
                Arc::new(EventConfig {
                    event: record.clone(),
                    tasks: d.tasks.clone(),
                    segments: d.segments.clone(),
                })
            })))
        })
    }

    async fn apply(&self, changes: ChangeSet) -> Result<()> {
        let data = match self.data(changes.event)? {
            Some(d) => d,
            None if changes.event_record.is_some() => {
                let mut events = self.inner.events.write().map_err(poisoned)?;
                events.entry(changes.event).or_default().clone()
            }
            None => return Err(Error::not_found(EventId::ENTITY, changes.event)),
        };
        let sender = self.sender(changes.event)?;
        let mut data = data.write().map_err(poisoned)?;
        crate::change::check(&changes, &mut &*data)?;
        let mut changes = changes;
        let published = std::mem::take(&mut changes.progress_changes);
        data.write(changes);
        // Sent under the event's lock, so readers see changes in commit order.
        for change in published {
            // No receiver is not an error: nobody is watching.
            let _ = sender.send(change);
        }
        Ok(())
    }

    async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed> {
        let rx = self.sender(event)?.subscribe();
        Ok(crate::store::from_broadcast(rx))
    }
}

#[async_trait]
impl ParticipantStore for MemoryStore {
    async fn participants_by_id(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<ParticipantState>> {
        self.read(event, Vec::new(), |d| {
            ids.iter()
                .filter_map(|id| d.participants.get(id).cloned())
                .collect()
        })
    }

    async fn participant_slices(
        &self,
        event: EventId,
        ids: &[ParticipantId],
        tasks: &[TaskId],
    ) -> Result<Vec<ParticipantState>> {
        self.read(event, Vec::new(), |d| {
            ids.iter()
                .filter_map(|id| d.participants.get(id))
                .map(|s| ParticipantState {
                    participant: Arc::clone(&s.participant),
                    facts: Arc::clone(&s.facts),
                    progress: tasks
                        .iter()
                        .filter_map(|t| s.progress.get(t).map(|r| (*t, r.clone())))
                        .collect(),
                    version: s.version,
                })
                .collect()
        })
    }

    async fn participant_records(
        &self,
        event: EventId,
        ids: &[ParticipantId],
    ) -> Result<Vec<Participant>> {
        self.read(event, Vec::new(), |d| {
            ids.iter()
                .filter_map(|id| {
                    d.participants
                        .get(id)
                        .map(|s| Participant::clone(&s.participant))
                })
                .collect()
        })
    }

    async fn participant_by_external_id(
        &self,
        event: EventId,
        external_id: &ExternalId,
    ) -> Result<Option<ParticipantId>> {
        self.read(event, None, |d| d.by_external_id.get(external_id).copied())
    }

    async fn participants_by_external_id(
        &self,
        event: EventId,
        external_ids: &[ExternalId],
    ) -> Result<Vec<(ExternalId, ParticipantId)>> {
        self.read(event, Vec::new(), |d| {
            external_ids
                .iter()
                .filter_map(|x| d.by_external_id.get(x).map(|id| (x.clone(), *id)))
                .collect()
        })
    }

    async fn participant_ids(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantId>> {
        use std::ops::Bound::{Excluded, Unbounded};
        let lower = after.map_or(Unbounded, Excluded);
        self.read(event, Vec::new(), |d| {
            d.participants
                .range((lower, Unbounded))
                .take(limit)
                .map(|(id, _)| *id)
                .collect()
        })
    }

    async fn participants(
        &self,
        event: EventId,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<ParticipantState>> {
        use std::ops::Bound::{Excluded, Unbounded};
        let lower = after.map_or(Unbounded, Excluded);
        self.read(event, Vec::new(), |d| {
            d.participants
                .range((lower, Unbounded))
                .take(limit)
                .map(|(_, s)| s.clone())
                .collect()
        })
    }

    async fn collaborators(
        &self,
        event: EventId,
        owner: ParticipantId,
    ) -> Result<Vec<ParticipantId>> {
        self.read(event, Vec::new(), |d| {
            d.collaborators
                .get(&owner)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default()
        })
    }

    async fn assigned_to(&self, event: EventId, assignee: ParticipantId) -> Result<Vec<Progress>> {
        self.read(event, Vec::new(), |d| {
            d.assigned
                .get(&assignee)
                .into_iter()
                .flatten()
                .filter_map(|(owner, task)| d.participants.get(owner)?.progress.get(task).cloned())
                .collect()
        })
    }

    async fn ingested(&self, event: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>> {
        self.read(event, Vec::new(), |d| {
            ids.iter()
                .filter(|i| d.host_events.contains(*i))
                .cloned()
                .collect()
        })
    }
}

#[async_trait]
impl TrackingStore for MemoryStore {
    async fn matrix(&self, event: EventId, query: &MatrixQuery) -> Result<Vec<ParticipantState>> {
        self.read(event, Vec::new(), |d| {
            let Some(settings) = d.event.as_ref().map(|e| &e.settings) else {
                return Vec::new();
            };
            // Walk the participants in the page's order from the cursor; stop when full.
            use std::ops::Bound::{Excluded, Unbounded};
            let candidates: Box<dyn Iterator<Item = ParticipantId> + '_> = match SORTS
                .iter()
                .position(|s| *s == query.sort)
            {
                Some(i) => {
                    let range = match &query.after {
                        None => d.sorted[i].range::<(String, ParticipantId), _>(..),
                        Some(a) if query.descending => {
                            d.sorted[i].range((Unbounded, Excluded((a.key.clone(), a.id))))
                        }
                        Some(a) => d.sorted[i].range((Excluded((a.key.clone(), a.id)), Unbounded)),
                    };
                    if query.descending {
                        Box::new(range.rev().map(|(_, id)| *id))
                    } else {
                        Box::new(range.map(|(_, id)| *id))
                    }
                }
                None => {
                    let range = match &query.after {
                        None => d.participants.range(..),
                        Some(a) if query.descending => {
                            d.participants.range((Unbounded, Excluded(a.id)))
                        }
                        Some(a) => d.participants.range((Excluded(a.id), Unbounded)),
                    };
                    if query.descending {
                        Box::new(range.rev().map(|(id, _)| *id))
                    } else {
                        Box::new(range.map(|(id, _)| *id))
                    }
                }
            };
            // With a status filter, only members of the status index are looked at.
            let members: Option<Vec<&HashSet<ParticipantId>>> =
                query.progress.as_ref().map(|(task, statuses)| {
                    statuses
                        .iter()
                        .filter_map(|s| d.by_status.get(&(*task, *s)))
                        .filter(|set| !set.is_empty())
                        .collect()
                });
            if members.as_ref().is_some_and(|m| m.is_empty()) {
                return Vec::new();
            }
            candidates
                .filter(|id| {
                    members
                        .as_ref()
                        .is_none_or(|sets| sets.iter().any(|set| set.contains(id)))
                })
                .filter_map(|id| d.participants.get(&id))
                .filter(|s| query.matches(&s.participant, &s.progress, settings))
                .take(query.limit)
                .cloned()
                .collect()
        })
    }

    async fn task_counters(&self, event: EventId) -> Result<BTreeMap<TaskId, TaskCounters>> {
        self.read(event, BTreeMap::new(), |d| d.counters.clone())
    }

    async fn sweeps(&self, event: EventId) -> Result<Vec<Sweep>> {
        self.read(event, Vec::new(), |d| d.sweeps.values().cloned().collect())
    }

    async fn rows_due(
        &self,
        event: EventId,
        task: TaskId,
        now: DateTime<Utc>,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<Vec<Progress>> {
        self.read(event, Vec::new(), |d| {
            let Some(due) = d.reminders_due.get(&task) else {
                return Vec::new();
            };
            let mut owners: Vec<ParticipantId> = due
                .range(..=(now, ParticipantId::from_uuid(uuid::Uuid::max())))
                .map(|(_, p)| *p)
                .filter(|p| after.is_none_or(|a| *p > a))
                .collect();
            owners.sort_unstable();
            owners
                .into_iter()
                .filter_map(|p| d.participants.get(&p)?.progress.get(&task).cloned())
                .take(limit)
                .collect()
        })
    }
}

#[async_trait]
impl RecordStore for MemoryStore {
    async fn timeline(
        &self,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        let (lower, upper) = filter.id_range();
        if lower >= upper {
            return Ok(Vec::new());
        }
        self.read(event, Vec::new(), |d| {
            newest_first(&d.timeline, participant, lower, upper)
                .filter(|e| filter.wants(e))
                .take(limit)
                .cloned()
                .collect()
        })
    }

    async fn history(
        &self,
        event: EventId,
        subject: Subject,
        before: Option<HistoryId>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let upper = before.unwrap_or_else(|| HistoryId::from_uuid(uuid::Uuid::max()));
        self.read(event, Vec::new(), |d| {
            newest_first(&d.history, subject, HistoryId::min(), upper)
                .take(limit)
                .cloned()
                .collect()
        })
    }

    async fn messages(
        &self,
        event: EventId,
        participant: ParticipantId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let upper = before.unwrap_or_else(|| MessageId::from_uuid(uuid::Uuid::max()));
        self.read(event, Vec::new(), |d| {
            newest_first(&d.messages, participant, MessageId::min(), upper)
                .take(limit)
                .cloned()
                .collect()
        })
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn outbox(
        &self,
        event: EventId,
        filter: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        use std::ops::Bound::{Excluded, Unbounded};
        let lower = after.map_or(Unbounded, Excluded);
        self.read(event, Vec::new(), |d| {
            if filter.state == Some(OutboxState::Dead) {
                // The dead letters have an index of their own.
                d.outbox_dead
                    .range((lower, Unbounded))
                    .filter_map(|id| d.outbox.get(id))
                    .filter(|e| filter.matches(e))
                    .take(limit)
                    .cloned()
                    .collect()
            } else {
                d.outbox
                    .range((lower, Unbounded))
                    .map(|(_, e)| e)
                    .filter(|e| filter.matches(e))
                    .take(limit)
                    .cloned()
                    .collect()
            }
        })
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        let events: Vec<Arc<RwLock<EventData>>> = self
            .inner
            .events
            .read()
            .map_err(poisoned)?
            .values()
            .cloned()
            .collect();
        // By lane, then earliest due, across events: gather each event's first due
        // entries of each lane, then lease the first under that event's write lock,
        // checking again that they are still due (another claim may have taken them).
        let mut candidates = Vec::new();
        for (i, data) in events.iter().enumerate() {
            let data = data.read().map_err(poisoned)?;
            for lane in 0..MessageKind::LANES {
                let from = (
                    lane,
                    DateTime::<Utc>::MIN_UTC,
                    OutboxId::from_uuid(uuid::Uuid::nil()),
                );
                candidates.extend(
                    data.outbox_due
                        .range(from..)
                        .take_while(|(l, due, _)| *l == lane && *due <= now)
                        .take(limit)
                        .map(|(l, due, id)| (*l, *due, i, *id)),
                );
            }
        }
        candidates.sort();
        candidates.truncate(limit);
        let mut claimed = Vec::new();
        for (lane, due, i, id) in candidates {
            let mut data = events[i].write().map_err(poisoned)?;
            if !data.outbox_due.contains(&(lane, due, id)) {
                continue;
            }
            let Some(mut entry) = data.outbox.get(&id).cloned() else {
                continue;
            };
            entry.lease_to(owner, lease_until);
            let waiting = entry.is_waiting().then_some(entry.recipient);
            claimed.push(entry.clone());
            data.put_outbox(entry);
            // What waited for one recipient comes together, so one dispatcher sends it.
            if let Some(recipient) = waiting {
                let more = data.claim_waiting(
                    recipient,
                    owner,
                    now,
                    lease_until,
                    crate::store::WAITING_TOGETHER,
                );
                claimed.extend(more);
            }
        }
        Ok(claimed)
    }

    async fn update_limiter(&self, name: &str, step: LimiterStep) -> Result<Option<DateTime<Utc>>> {
        let mut limiters = self.inner.limiters.lock().map_err(poisoned)?;
        let before = limiters.get(name).copied();
        limiters.insert(name.to_owned(), step.apply(before));
        Ok(before)
    }

    async fn release_outbox(
        &self,
        owner: &str,
        entries: Vec<OutboxEntry>,
    ) -> Result<Vec<OutboxId>> {
        let mut written = Vec::new();
        for entry in entries {
            let Some(data) = self.data(entry.event)? else {
                continue;
            };
            let mut data = data.write().map_err(poisoned)?;
            if data
                .outbox
                .get(&entry.id)
                .is_some_and(|o| o.is_held_by(owner))
            {
                written.push(entry.id);
                data.put_outbox(entry);
            }
        }
        Ok(written)
    }

    async fn requeue_dead(
        &self,
        event: EventId,
        ids: &[OutboxId],
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxId>> {
        let Some(data) = self.data(event)? else {
            return Ok(Vec::new());
        };
        let mut data = data.write().map_err(poisoned)?;
        let mut done = Vec::new();
        for id in ids {
            if !data.outbox_dead.contains(id) {
                continue;
            }
            if let Some(mut entry) = data.outbox.get(id).cloned() {
                entry.requeue(now);
                data.put_outbox(entry);
                done.push(*id);
            }
        }
        Ok(done)
    }
}

#[cfg(feature = "testkit")]
#[async_trait]
impl crate::store::DumpStore for MemoryStore {
    async fn dump(&self, event: EventId) -> Result<crate::store::EventDump> {
        self.read(event, crate::store::EventDump::default(), |d| {
            let mut host_events: Vec<HostEventId> = d.host_events.iter().cloned().collect();
            host_events.sort();
            crate::store::EventDump {
                event: d.event.clone(),
                segments: d.segments.values().cloned().collect(),
                tasks: d.tasks.values().cloned().collect(),
                participants: d.participants.values().cloned().collect(),
                host_events,
                timeline: d.timeline.values().cloned().collect(),
                messages: d.messages.values().cloned().collect(),
                history: d.history.values().cloned().collect(),
                outbox: d.outbox.values().cloned().collect(),
                sweeps: d.sweeps.values().cloned().collect(),
                counters: d.counters.clone(),
            }
            .canonical()
        })
    }
}
