//! A participant's timeline (R5): dated actions. The library adds its own (task completed,
//! task assigned…) in the same change set as the change they record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::ids::{EventId, ParticipantId, TaskId, TimelineId};

/// One dated action of a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Its id (time-ordered).
    pub id: TimelineId,
    /// The event.
    pub event: EventId,
    /// Whose timeline.
    pub participant: ParticipantId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    pub kind: TimelineKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimelineKind {
    /// Registered to the event.
    Registered,
    /// A task was completed (by hand, by its condition or by an organizer).
    TaskCompleted {
        /// The task.
        task: TaskId,
    },
    /// A completed task went back to do.
    TaskReopened {
        /// The task.
        task: TaskId,
    },
    /// The participant handed a task to a collaborator.
    TaskAssigned {
        /// The task.
        task: TaskId,
        /// The collaborator.
        assignee: ParticipantId,
    },
    /// A task was assigned to this participant by its owner.
    TaskReceived {
        /// The task.
        task: TaskId,
        /// The owner.
        owner: ParticipantId,
    },
    /// The owner took a task back from their collaborator.
    TaskTakenBack {
        /// The task.
        task: TaskId,
        /// The collaborator who held it.
        from: ParticipantId,
    },
    /// Became a collaborator of another participant.
    CollaboratorLinked {
        /// The owner.
        owner: ParticipantId,
    },
}
