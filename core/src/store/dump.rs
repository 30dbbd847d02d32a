//! A canonical dump of an event's whole state (feature `testkit`): what the conformance
//! suite compares to prove "a failed operation wrote nothing" and "two stores agree".

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{ParticipantState, Store};
use crate::error::Result;
use crate::event::Event;
use crate::history::HistoryEntry;
use crate::ids::{EventId, HostEventId};
use crate::notify::OutboxEntry;
use crate::segment::Segment;
use crate::sweep::Sweep;
use crate::task::Task;
use crate::timeline::TimelineEntry;

/// Everything a store holds about one event, in a canonical order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventDump {
    /// The event.
    pub event: Option<Event>,
    /// Its segments, by id.
    pub segments: Vec<Segment>,
    /// Its tasks, by id.
    pub tasks: Vec<Task>,
    /// Its participants' states, by id.
    pub participants: Vec<ParticipantState>,
    /// The host event ids ingested, sorted.
    pub host_events: Vec<HostEventId>,
    /// Timeline entries, by (participant, id).
    pub timeline: Vec<TimelineEntry>,
    /// History lines, by (subject, id).
    pub history: Vec<HistoryEntry>,
    /// Messages, by (participant, id).
    #[serde(default)]
    pub messages: Vec<crate::message::Message>,
    /// Outbox entries, by id.
    pub outbox: Vec<OutboxEntry>,
    /// Unfinished sweeps, by id.
    pub sweeps: Vec<Sweep>,
    /// The per-task counters (B3), without zero entries.
    pub counters: std::collections::BTreeMap<crate::ids::TaskId, crate::figures::TaskCounters>,
}

impl EventDump {
    /// Sorts every list into the canonical order, whatever order a store read them in.
    pub fn canonical(mut self) -> Self {
        self.segments.sort_by_key(|s| s.id);
        self.tasks.sort_by_key(|t| t.id);
        self.participants.sort_by_key(|p| p.participant.id);
        self.host_events.sort();
        self.timeline.sort_by_key(|t| (t.participant, t.id));
        self.history.sort_by_key(|h| (h.subject, h.id));
        self.messages.sort_by_key(|m| (m.participant, m.id));
        self.outbox.sort_by_key(|o| o.id);
        self.sweeps.sort_by_key(|s| s.id);
        self.counters.retain(|_, c| !c.is_zero());
        self
    }
}

impl EventDump {
    /// The counters a recount of the participants' progress rows gives (B3): a store's
    /// stored counters must always equal this.
    pub fn recount(
        &self,
    ) -> std::collections::BTreeMap<crate::ids::TaskId, crate::figures::TaskCounters> {
        crate::figures::TaskCounters::recount(
            self.participants.iter().flat_map(|p| p.progress.values()),
        )
    }
}

/// A store that can dump an event, for tests.
#[async_trait]
pub trait DumpStore: Store {
    /// The canonical dump of `event` (empty if it does not exist).
    async fn dump(&self, event: EventId) -> Result<EventDump>;
}
