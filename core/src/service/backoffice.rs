//! The organizer's back office: the matrix (B2), CSV exports (B4) and "remind now" (B5).

use std::io;

use tracing::instrument;

use super::{Ctx, Punchlist, Unit};
use crate::actor::{self, Actor};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, OutboxId, ParticipantId, TaskId};
use crate::matrix::{
    MatrixCell, MatrixCursor, MatrixPage, MatrixQuery, MatrixRequest, MatrixRow, StatusFilter,
};
use crate::notify::Notification;
use crate::progress::{ProgressStatus, ProgressSummary, is_overdue, is_visible};
use crate::store::{ParticipantState, Store};
use crate::task::TaskState;

/// Whom "remind now" reaches (B5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemindTarget {
    /// One participant (the reminder goes to whoever holds their task).
    Participant(ParticipantId),
    /// Every targeted participant who has not done the task.
    AllIncomplete,
}

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// A page of the participants × tasks matrix (B2), for organizers: filtered by the
    /// chosen task's status, segment, category and text, sorted, paged by keyset (pass the
    /// page's `next` as the next request's `after`).
    #[instrument(skip_all, fields(event = %event))]
    pub async fn matrix(
        &self,
        actor: &Actor,
        event: EventId,
        request: &MatrixRequest,
    ) -> Result<MatrixPage> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        self.matrix_page(&ctx, request).await
    }

    async fn matrix_page(&self, ctx: &Ctx, request: &MatrixRequest) -> Result<MatrixPage> {
        let limit = request.validate()?;
        let now = self.now();
        let mut columns: Vec<_> = ctx
            .tasks
            .values()
            .filter(|t| t.state != TaskState::Draft)
            .collect();
        columns.sort_by_key(|t| (t.config.position, t.id));
        let mut page = MatrixPage {
            tasks: columns.iter().map(|t| t.id).collect(),
            rows: Vec::new(),
            next: None,
            at: now,
        };
        let progress = match (request.task, request.status) {
            (Some(id), status) => {
                let task = ctx.task(id)?;
                let statuses = match status {
                    None => Some(vec![
                        ProgressStatus::Todo,
                        ProgressStatus::Done,
                        ProgressStatus::AwaitingReview,
                    ]),
                    Some(StatusFilter::Done) => Some(vec![ProgressStatus::Done]),
                    Some(StatusFilter::ToDo) => Some(vec![ProgressStatus::Todo]),
                    Some(StatusFilter::AwaitingReview) => {
                        Some(vec![ProgressStatus::AwaitingReview])
                    }
                    Some(StatusFilter::Overdue) => {
                        if task.config.deadline.is_none_or(|d| d >= now) {
                            return Ok(page);
                        }
                        Some(vec![ProgressStatus::Todo, ProgressStatus::AwaitingReview])
                    }
                };
                statuses.map(|s| (id, s))
            }
            (None, _) => None,
        };
        let rule = match request.segment {
            None => None,
            Some(id) => Some(
                ctx.segments
                    .get(&id)
                    .ok_or_else(|| Error::not_found(crate::ids::SegmentId::ENTITY, id))?
                    .rule
                    .clone(),
            ),
        };
        let query = MatrixQuery {
            progress,
            rule,
            category: request.category.as_deref().map(|c| c.trim().to_owned()),
            search: request
                .search
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase),
            sort: request.sort,
            descending: request.descending,
            after: request.after.clone(),
            limit,
        };
        let states = self.store.matrix(ctx.event.id, &query).await?;
        if states.len() == limit {
            page.next = states.last().map(|s| MatrixCursor {
                key: request.sort.key(&s.participant),
                id: s.participant.id,
            });
        }
        page.rows = states
            .into_iter()
            .map(|s| matrix_row(&columns, s, now))
            .collect();
        Ok(page)
    }

    /// Writes the matrix (with the request's filters and order, every page) as CSV to
    /// `out` (B4), page by page, so memory does not grow with the event. `out` is written
    /// synchronously between store reads: give it a buffer or an in-memory sink, or run
    /// the export in `spawn_blocking` for a slow file or socket. Cells a
    /// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
    /// carriage return) are prefixed with `'`. Returns the number of rows written.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn export_matrix_csv<W: io::Write + Send>(
        &self,
        actor: &Actor,
        event: EventId,
        request: &MatrixRequest,
        out: W,
    ) -> Result<u64> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let mut csv = csv::Writer::from_writer(out);
        let lang = &ctx.event.settings.default_language;
        let mut header: Vec<String> = [
            "external_id",
            "first_name",
            "last_name",
            "company",
            "email",
            "categories",
            "done",
            "total",
        ]
        .map(String::from)
        .to_vec();
        let mut request = request.clone();
        request.after = None;
        let first = self.matrix_page(&ctx, &request).await?;
        for id in &first.tasks {
            header.push(ctx.task(*id)?.text(lang, &ctx.event.settings).name.clone());
        }
        write_record(&mut csv, header)?;
        let mut written = 0u64;
        let mut page = first;
        loop {
            for row in &page.rows {
                let p = &row.participant;
                let mut record = vec![
                    p.external_id.to_string(),
                    p.profile.first_name.clone(),
                    p.profile.last_name.clone(),
                    p.profile.company.clone(),
                    p.profile.email.clone().unwrap_or_default(),
                    p.status
                        .categories
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    row.summary.done.to_string(),
                    row.summary.total.to_string(),
                ];
                record.extend(row.cells.iter().map(cell_text));
                write_record(&mut csv, record)?;
                written += 1;
            }
            let Some(next) = page.next.take() else { break };
            request.after = Some(next);
            page = self.matrix_page(&ctx, &request).await?;
        }
        csv.flush().map_err(|source| Error::Io { source })?;
        Ok(written)
    }

    /// Writes the figures of every published or archived task as CSV to `out` (B3, B4).
    #[instrument(skip_all, fields(event = %event))]
    pub async fn export_figures_csv<W: io::Write + Send>(
        &self,
        actor: &Actor,
        event: EventId,
        out: W,
    ) -> Result<u64> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let figures = self.figures_of(&ctx).await?;
        let lang = &ctx.event.settings.default_language;
        let mut csv = csv::Writer::from_writer(out);
        write_record(
            &mut csv,
            [
                "task_id",
                "task",
                "state",
                "targeted",
                "done",
                "awaiting_review",
                "overdue",
                "rate_percent",
            ]
            .map(String::from)
            .to_vec(),
        )?;
        for f in &figures {
            let task = ctx.task(f.task)?;
            let state = match task.state {
                TaskState::Draft => "draft",
                TaskState::Published => "published",
                TaskState::Archived => "archived",
            };
            write_record(
                &mut csv,
                vec![
                    f.task.to_string(),
                    task.text(lang, &ctx.event.settings).name.clone(),
                    state.to_owned(),
                    f.targeted.to_string(),
                    f.done.to_string(),
                    f.awaiting_review.to_string(),
                    f.overdue.to_string(),
                    f.rate.to_string(),
                ],
            )?;
        }
        csv.flush().map_err(|source| Error::Io { source })?;
        Ok(figures.len() as u64)
    }

    /// Reminds now (B5): queues a reminder of `task` to one participant, or to every
    /// targeted participant who has not done it, each going to whoever holds the task
    /// (the assignee when assigned). Participants who are done, or not targeted, are
    /// skipped. Works in batches, each its own transaction. Returns how many were queued.
    #[instrument(skip_all, fields(event = %event, task = %task))]
    pub async fn remind_now(
        &self,
        actor: &Actor,
        event: EventId,
        task: TaskId,
        target: RemindTarget,
    ) -> Result<u64> {
        actor::require_staff(actor, event, TaskId::ENTITY, task)?;
        let ctx = self.context(actor, event).await?;
        let t = ctx.task(task)?;
        if !t.is_published() {
            return Err(Error::invalid(
                "task",
                "only a published task can be reminded of",
            ));
        }
        if !ctx.event.settings.tasks_enabled {
            return Err(Error::invalid(
                "event",
                "the Tasks feature is off for this event: nothing is sent",
            ));
        }
        // A submission waiting for review is the organizer's to finish: not reminded.
        let incomplete = vec![ProgressStatus::Todo];
        let mut queued = 0u64;
        let mut after = None;
        loop {
            let states = match target {
                RemindTarget::Participant(id) => {
                    let state = self.participant_state(event, id).await?;
                    if !state.progress.get(&task).is_some_and(|r| is_visible(t, r)) {
                        return Err(Error::invalid(
                            "participant",
                            "the task is not published to this participant",
                        ));
                    }
                    vec![state]
                }
                RemindTarget::AllIncomplete => {
                    let query = MatrixQuery {
                        progress: Some((task, incomplete.clone())),
                        rule: None,
                        category: None,
                        search: None,
                        sort: crate::matrix::MatrixSort::Registration,
                        descending: false,
                        after: after.take(),
                        limit: self.config.batch_size,
                    };
                    self.store.matrix(event, &query).await?
                }
            };
            let last = states.last().map(|s| MatrixCursor {
                key: String::new(),
                id: s.participant.id,
            });
            let full = states.len() == self.config.batch_size;
            let now = self.now();
            let mut unit = Unit::new(&ctx, now, actor.clone());
            // X6: an erased participant is reminded of nothing.
            for s in states.iter().filter(|s| s.participant.erased_at.is_none()) {
                let Some(row) = s
                    .progress
                    .get(&task)
                    .filter(|r| r.status == ProgressStatus::Todo)
                else {
                    continue;
                };
                let recipient = row.reminder_recipient();
                let key = format!("nudge:{task}:{recipient}:{}", OutboxId::new_at(now));
                let owner = s.participant.id;
                unit.notify(recipient, Notification::Nudge { task, owner }, key);
                queued += 1;
            }
            let mut cs = unit.into_changes();
            cs.event_version = None; // reminders do not depend on the configuration
            self.commit(cs).await?;
            if matches!(target, RemindTarget::Participant(_)) || !full {
                return Ok(queued);
            }
            after = last;
        }
    }
}

/// Builds a matrix row from a participant's state.
fn matrix_row(
    columns: &[&crate::task::Task],
    state: ParticipantState,
    now: chrono::DateTime<chrono::Utc>,
) -> MatrixRow {
    let (mut done, mut total) = (0, 0);
    let cells = columns
        .iter()
        .map(|t| {
            let row = state.progress.get(&t.id).filter(|r| r.targeted);
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
    MatrixRow {
        participant: state.participant,
        summary: ProgressSummary::new(done, total),
        cells,
    }
}

/// The CSV text of a cell.
fn cell_text(cell: &MatrixCell) -> String {
    match cell.status {
        None => String::new(),
        Some(ProgressStatus::AwaitingReview) if cell.overdue => {
            "awaiting review (overdue)".to_owned()
        }
        Some(_) if cell.overdue => "overdue".to_owned(),
        Some(ProgressStatus::Done) => "done".to_owned(),
        Some(ProgressStatus::AwaitingReview) => "awaiting review".to_owned(),
        Some(_) => "to do".to_owned(),
    }
}

/// Makes a cell safe to open in a spreadsheet: one that would run as a formula gets a
/// leading `'` (B4, CSV injection).
pub fn neutralise_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

pub(super) fn write_record<W: io::Write>(
    csv: &mut csv::Writer<W>,
    record: Vec<String>,
) -> Result<()> {
    csv.write_record(record.iter().map(|c| neutralise_formula(c).into_owned()))
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(source) => Error::Io { source },
            other => Error::backend(format!("CSV: {other:?}")),
        })
}
