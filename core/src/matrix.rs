//! The tracking matrix (B2): participants × tasks, filtered, sorted and paged by keyset.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{ParticipantId, SegmentId, TaskId};
use crate::participant::Participant;
use crate::progress::{Progress, ProgressStatus, ProgressSummary, is_overdue, is_visible};
use crate::segment::Rule;
use crate::task::Task;
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

/// A participant's cells in the order of `columns`, and their done / total over the
/// columns' tasks that are visible to them (B2). A cell is empty (`status: None`) where
/// the task does not target them; it is overdue where the task's deadline passed at `now`
/// and the row is not done.
pub(crate) fn cells(
    columns: &[&Task],
    progress: &BTreeMap<TaskId, Progress>,
    now: DateTime<Utc>,
) -> (Vec<MatrixCell>, ProgressSummary) {
    let (mut done, mut total) = (0, 0);
    let cells = columns
        .iter()
        .map(|t| {
            let row = progress.get(&t.id).filter(|r| r.targeted);
            if let Some(r) = row.filter(|r| is_visible(t, r)) {
                total += 1;
                done += u32::from(r.is_done());
            }
            MatrixCell {
                task: t.id,
                status: row.map(|r| r.status),
                overdue: row.is_some_and(|r| is_overdue(t.config.deadline, r.status, now)),
                assignee: row.and_then(|r| r.assignee),
            }
        })
        .collect();
    (cells, ProgressSummary::new(done, total))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::ids::EventId;
    use crate::task::{HelpLink, TaskConfig, TaskState};
    use crate::text::Language;

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap() + Duration::hours(hours)
    }

    fn task(n: i64, state: TaskState, deadline: Option<DateTime<Utc>>) -> Task {
        let help = HelpLink::WebPage {
            url: "https://x.org".into(),
        };
        let mut config = TaskConfig::manual(Language::new("en").unwrap(), "t", help);
        config.deadline = deadline;
        Task {
            id: TaskId::new_at(at(n)),
            event: EventId::min(),
            config,
            state,
            created_at: at(0),
            updated_at: at(0),
            published_at: None,
            version: 1,
        }
    }

    /// B2: each column's cell, and what the summary counts, for each kind of row.
    #[test]
    fn b2_cells_and_summary_of_a_row() {
        let owner = ParticipantId::new_at(at(0));
        let helper = ParticipantId::new_at(at(1));
        let now = at(10);
        let (past, future) = (Some(at(5)), Some(at(20)));
        // (task state, deadline, the row: None for none, Some((targeted, status, assignee)),
        //  the cell's status, overdue, counted in total, counted done)
        type Row = Option<(bool, ProgressStatus, Option<ParticipantId>)>;
        type Case = (
            TaskState,
            Option<DateTime<Utc>>,
            Row,
            Option<ProgressStatus>,
            bool,
            bool,
            bool,
        );
        let cases: [Case; 8] = [
            (TaskState::Published, None, None, None, false, false, false),
            (
                TaskState::Published,
                past,
                Some((false, ProgressStatus::Todo, None)),
                None,
                false,
                false,
                false,
            ),
            (
                TaskState::Published,
                future,
                Some((true, ProgressStatus::Todo, None)),
                Some(ProgressStatus::Todo),
                false,
                true,
                false,
            ),
            (
                TaskState::Published,
                past,
                Some((true, ProgressStatus::Todo, Some(helper))),
                Some(ProgressStatus::Todo),
                true,
                true,
                false,
            ),
            (
                TaskState::Published,
                past,
                Some((true, ProgressStatus::Done, None)),
                Some(ProgressStatus::Done),
                false,
                true,
                true,
            ),
            (
                TaskState::Published,
                past,
                Some((true, ProgressStatus::AwaitingReview, None)),
                Some(ProgressStatus::AwaitingReview),
                true,
                true,
                false,
            ),
            (
                TaskState::Archived,
                None,
                Some((true, ProgressStatus::Done, None)),
                Some(ProgressStatus::Done),
                false,
                false,
                false,
            ),
            (
                TaskState::Draft,
                None,
                Some((true, ProgressStatus::Todo, None)),
                Some(ProgressStatus::Todo),
                false,
                false,
                false,
            ),
        ];
        let tasks: Vec<Task> = cases
            .iter()
            .enumerate()
            .map(|(i, (state, deadline, ..))| task(i as i64, *state, *deadline))
            .collect();
        let mut progress = BTreeMap::new();
        for (t, (_, _, row, ..)) in tasks.iter().zip(&cases) {
            if let Some((targeted, status, assignee)) = row {
                let mut p = Progress::new(t.id, owner, at(0));
                p.targeted = *targeted;
                p.status = *status;
                p.assignee = *assignee;
                progress.insert(t.id, p);
            }
        }
        let columns: Vec<&Task> = tasks.iter().collect();
        let (cells, summary) = cells(&columns, &progress, now);
        let (mut total, mut done) = (0, 0);
        for ((cell, t), (state, _, row, status, overdue, counted, is_done)) in
            cells.iter().zip(&tasks).zip(&cases)
        {
            let case = format!("{state:?} {row:?}");
            assert_eq!(cell.task, t.id, "{case}: cells follow the columns");
            assert_eq!(cell.status, *status, "{case}");
            assert_eq!(cell.overdue, *overdue, "{case}");
            assert_eq!(
                cell.assignee,
                row.and_then(|r| r.2).filter(|_| row.is_some_and(|r| r.0)),
                "{case}"
            );
            total += u32::from(*counted);
            done += u32::from(*is_done);
        }
        assert_eq!(summary, ProgressSummary::new(done, total));
        assert_eq!((summary.done, summary.total), (1, 4));
    }
}
