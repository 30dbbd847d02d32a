//! Figures (B3): per-task counters kept by commutative deltas in the same change set as
//! the progress they count, so reading them costs the same at any population, and two
//! completions never conflict over them. A recount from the progress rows always equals
//! them (the conformance suite checks it on every dump).
//!
//! Decisions: archiving a task freezes its counters for reporting (its rows no longer
//! move, and the figures still list it); only drafts can be deleted, and drafts have no
//! rows, so deletion moves nothing. A participant's own done / total is derived from that
//! participant's rows when read (their Tasks section, a matrix row): it costs one
//! participant's rows, never a scan, so it needs no stored counter.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::TaskId;
use crate::progress::{Progress, ProgressStatus};

/// The stored counters of one task: over the rows whose owner is targeted now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCounters {
    /// Participants targeted (in the task's segment, once published).
    pub targeted: i64,
    /// Of them, done.
    pub done: i64,
    /// Of them, waiting for the organizer's review.
    pub awaiting_review: i64,
}

impl TaskCounters {
    /// What one row contributes.
    pub fn of(row: &Progress) -> Self {
        if !row.targeted {
            return Self::default();
        }
        Self {
            targeted: 1,
            done: i64::from(row.status == ProgressStatus::Done),
            awaiting_review: i64::from(row.status == ProgressStatus::AwaitingReview),
        }
    }

    /// Adds `other` (a delta) to these counters.
    pub fn add(&mut self, other: Self) {
        self.targeted += other.targeted;
        self.done += other.done;
        self.awaiting_review += other.awaiting_review;
    }

    /// `self - other`.
    pub fn minus(self, other: Self) -> Self {
        Self {
            targeted: self.targeted - other.targeted,
            done: self.done - other.done,
            awaiting_review: self.awaiting_review - other.awaiting_review,
        }
    }

    /// Whether every counter is zero.
    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// The counters a full recount of `rows` gives, by task (zero entries left out).
    pub fn recount<'a>(rows: impl IntoIterator<Item = &'a Progress>) -> BTreeMap<TaskId, Self> {
        let mut out: BTreeMap<TaskId, Self> = BTreeMap::new();
        for row in rows {
            let c = Self::of(row);
            if !c.is_zero() {
                out.entry(row.task).or_default().add(c);
            }
        }
        out
    }
}

/// The figures of one task (B3), as the back office shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskFigures {
    /// The task.
    pub task: TaskId,
    /// Participants targeted.
    pub targeted: u64,
    /// Done.
    pub done: u64,
    /// Waiting for review.
    pub awaiting_review: u64,
    /// Not done once the deadline has passed (derived: targeted − done), else 0.
    pub overdue: u64,
    /// `done / targeted` in percent, rounded down (0 when nobody is targeted).
    pub rate: u8,
}

impl TaskFigures {
    /// Figures from counters and the task's deadline, at `now`.
    pub fn new(
        task: TaskId,
        c: TaskCounters,
        deadline: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        let (targeted, done) = (n(c.targeted), n(c.done));
        let overdue = if deadline.is_some_and(|d| d < now) {
            targeted.saturating_sub(done)
        } else {
            0
        };
        let rate = (done.min(targeted) * 100)
            .checked_div(targeted)
            .map_or(0, |r| u8::try_from(r).unwrap_or(100));
        Self {
            task,
            targeted,
            done,
            awaiting_review: n(c.awaiting_review),
            overdue,
            rate,
        }
    }
}
