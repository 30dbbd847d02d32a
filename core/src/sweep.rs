//! Paged work over an event's participants: publishing tasks and re-evaluating them after
//! an edit run in bounded batches, each its own change set, and resume after a crash.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, ParticipantId, SweepId, TaskId};

/// A piece of paged work in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sweep {
    /// Its id.
    pub id: SweepId,
    /// The event.
    pub event: EventId,
    /// The tasks to bring up to date for every participant.
    pub tasks: Vec<TaskId>,
    /// The tasks whose newly targeted participants get a publication notice (N1); all
    /// of one participant's are grouped into one notice (N7).
    pub notify: Vec<TaskId>,
    /// The last participant done; the next batch starts after it.
    pub after: Option<ParticipantId>,
    /// When it started.
    pub started_at: DateTime<Utc>,
}
