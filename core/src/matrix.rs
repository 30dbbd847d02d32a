//! The tracking matrix (B2): participants × tasks, filtered, sorted and paged by keyset.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{ParticipantId, SegmentId, TaskId};
use crate::participant::Participant;
use crate::progress::{Progress, ProgressStatus, ProgressSummary};
use crate::segment::Rule;
use crate::text;

/// The status of the chosen task a matrix can be filtered by (B2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// Done.
    Done,
    /// Not done and not waiting for review (overdue ones included).
    ToDo,
    /// Not done once the deadline has passed (waiting for review included).
    Overdue,
    /// Submitted and waiting for the organizer's review.
    AwaitingReview,
}

/// How the matrix is ordered.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum MatrixSort {
    /// By last name, then first name (case-insensitive).
    #[default]
    Name,
    /// By company (case-insensitive).
    Company,
    /// By email (case-insensitive).
    Email,
    /// By registration (the order participants were registered in).
    Registration,
}

impl MatrixSort {
    /// The sort key of a participant (ties are broken by id).
    pub fn key(self, p: &Participant) -> String {
        match self {
            Self::Name => format!(
                "{}\u{1f}{}",
                p.profile.last_name.to_lowercase(),
                p.profile.first_name.to_lowercase()
            ),
            Self::Company => p.profile.company.to_lowercase(),
            Self::Email => p
                .profile
                .email
                .as_deref()
                .unwrap_or_default()
                .to_lowercase(),
            Self::Registration => String::new(),
        }
    }
}

/// Where a page ends: the next page starts strictly after it (keyset paging, so a page
/// costs the same at any depth and rows added meanwhile do not shift pages).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MatrixCursor {
    /// The sort key of the last row.
    pub key: String,
    /// The id of the last row.
    pub id: ParticipantId,
}

/// What an organizer asks of the matrix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatrixRequest {
    /// The chosen task: `status` filters on it.
    pub task: Option<TaskId>,
    /// Keep participants whose progress on `task` has this status (requires `task`).
    pub status: Option<StatusFilter>,
    /// Keep participants in this segment now.
    pub segment: Option<SegmentId>,
    /// Keep participants with this category.
    pub category: Option<String>,
    /// Keep participants whose name, company or email contains this text
    /// (case-insensitive; at most 200 characters).
    pub search: Option<String>,
    /// The order.
    pub sort: MatrixSort,
    /// Descending instead of ascending.
    pub descending: bool,
    /// Start after this row (from the previous page's `next`).
    pub after: Option<MatrixCursor>,
    /// Rows per page: `0` for the default page, at most
    /// [`MATRIX_PAGE`](crate::limits::MATRIX_PAGE) (see [paging](crate::limits#paging)).
    pub limit: usize,
}

impl MatrixRequest {
    /// Checks the request; returns the page size to use.
    pub fn validate(&self) -> Result<usize> {
        if self.status.is_some() && self.task.is_none() {
            return Err(Error::invalid(
                "status",
                "a status filter needs a chosen task",
            ));
        }
        if let Some(s) = &self.search {
            text::bounded_text("search", s, 200)?;
        }
        if let Some(c) = &self.category {
            text::required_text("category", c, 100)?;
        }
        crate::limits::page(self.limit, crate::limits::MATRIX_PAGE)
    }
}

/// The query a store answers for the matrix: every filter resolved to stored values.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MatrixQuery {
    /// Keep participants whose row for this task is targeted and has one of these statuses.
    pub progress: Option<(TaskId, Vec<ProgressStatus>)>,
    /// Keep participants matching this rule (the chosen segment's).
    pub rule: Option<Rule>,
    /// Keep participants with this category.
    pub category: Option<String>,
    /// Keep participants whose first or last name, company or email contains this,
    /// already lower-cased (compare lower-cased).
    pub search: Option<String>,
    /// The order.
    pub sort: MatrixSort,
    /// Descending.
    pub descending: bool,
    /// Start strictly after this row, in the order.
    pub after: Option<MatrixCursor>,
    /// At most this many rows.
    pub limit: usize,
}

impl MatrixQuery {
    /// A query with no filter, in name order, of `limit` rows; set the fields to filter.
    pub fn new(limit: usize) -> Self {
        Self {
            progress: None,
            rule: None,
            category: None,
            search: None,
            sort: MatrixSort::Name,
            descending: false,
            after: None,
            limit,
        }
    }

    /// Whether `p` with `progress` passes every filter (a reference implementation stores
    /// may use; the conformance suite checks their answers against it).
    pub fn matches(
        &self,
        p: &Participant,
        progress: &std::collections::BTreeMap<TaskId, Progress>,
        settings: &crate::event::EventSettings,
    ) -> bool {
        if let Some((task, statuses)) = &self.progress {
            match progress.get(task) {
                Some(r) if r.targeted && statuses.contains(&r.status) => {}
                _ => return false,
            }
        }
        if let Some(c) = &self.category
            && !p.status.categories.contains(c)
        {
            return false;
        }
        if let Some(needle) = &self.search {
            let pr = &p.profile;
            let hay = [
                pr.first_name.as_str(),
                pr.last_name.as_str(),
                pr.company.as_str(),
                pr.email.as_deref().unwrap_or_default(),
            ];
            if !hay
                .iter()
                .any(|h| h.to_lowercase().contains(needle.as_str()))
            {
                return false;
            }
        }
        self.rule.as_ref().is_none_or(|r| r.matches(p, settings))
    }

    /// Whether a row with `cursor` comes after `self.after` in the order.
    pub fn is_after(&self, cursor: &MatrixCursor) -> bool {
        match &self.after {
            None => true,
            Some(a) if self.descending => cursor < a,
            Some(a) => cursor > a,
        }
    }
}

/// One cell: a participant's progress on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixCell {
    /// The task.
    pub task: TaskId,
    /// `None`: the task does not target the participant.
    pub status: Option<ProgressStatus>,
    /// Not done and the deadline passed.
    pub overdue: bool,
    /// The collaborator holding it.
    pub assignee: Option<ParticipantId>,
}

/// One row: a participant and their cells, one per column of [`MatrixPage::tasks`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixRow {
    /// The participant (with custom fields: the matrix is for organizers).
    pub participant: Participant,
    /// Done / total over the published tasks targeting them.
    pub summary: ProgressSummary,
    /// The cells, in the order of the page's tasks.
    pub cells: Vec<MatrixCell>,
}

/// A page of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixPage {
    /// The columns: published and archived tasks, by position.
    pub tasks: Vec<TaskId>,
    /// The rows.
    pub rows: Vec<MatrixRow>,
    /// The cursor of the next page, if there may be one.
    pub next: Option<MatrixCursor>,
    /// When it was read (overdue flags are as of then).
    pub at: DateTime<Utc>,
}
