//! Back-office tracking (B1–B4): the live stream, the figures, the matrix and their
//! CSV exports.

use std::sync::Arc;

use super::{Ctx, Punchlist};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::export::{CsvExport, FIGURES_COLUMNS, MATRIX_COLUMNS, figures_record, matrix_record};
use crate::figures::TaskFigures;
use crate::ids::EventId;
use crate::matrix::{
    self, MatrixCursor, MatrixPage, MatrixQuery, MatrixRequest, MatrixRow, StatusFilter,
};
use crate::progress::ProgressStatus;
use crate::store::{ProgressFeed, Store};
use crate::task::TaskState;
use std::io;
use tracing::instrument;

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

    pub(super) async fn matrix_page(
        &self,
        ctx: &Ctx,
        request: &MatrixRequest,
    ) -> Result<MatrixPage> {
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
            .map(|s| {
                let (cells, summary) = matrix::cells(&columns, &s.progress, now);
                MatrixRow {
                    participant: Arc::unwrap_or_clone(s.participant),
                    summary,
                    cells,
                }
            })
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
        let lang = &ctx.event.settings.default_language;
        let mut request = request.clone();
        request.after = None;
        let mut page = self.matrix_page(&ctx, &request).await?;
        let mut header: Vec<String> = MATRIX_COLUMNS.map(String::from).to_vec();
        for id in &page.tasks {
            header.push(ctx.task(*id)?.text(lang, &ctx.event.settings).name.clone());
        }
        let mut csv = CsvExport::new(out, header)?;
        loop {
            for row in &page.rows {
                csv.record(matrix_record(row))?;
            }
            let Some(next) = page.next.take() else { break };
            request.after = Some(next);
            page = self.matrix_page(&ctx, &request).await?;
        }
        csv.finish()
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
        let mut csv = CsvExport::new(out, FIGURES_COLUMNS)?;
        for f in &figures {
            let task = ctx.task(f.task)?;
            let name = &task.text(lang, &ctx.event.settings).name;
            csv.record(figures_record(f, name, task.state))?;
        }
        csv.finish()
    }

    /// The live stream of the event's progress changes, for its organizers (B1): every
    /// change committed from now on, by this or any other instance sharing the store.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn progress_feed(&self, actor: &Actor, event: EventId) -> Result<ProgressFeed> {
        self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        self.store.progress_feed(event).await
    }

    /// The figures of every published or archived task (B3): targeted, done, awaiting
    /// review, overdue and rate, ordered by position. They are read from counters kept in
    /// the same transactions as the progress they count, so this costs the same at any
    /// population. (A participant's own done / total is the `summary` of
    /// [`tasks_of`](Self::tasks_of), read from that participant's rows only.)
    #[instrument(skip_all, fields(event = %event))]
    pub async fn task_figures(&self, actor: &Actor, event: EventId) -> Result<Vec<TaskFigures>> {
        let ctx = self.context(actor, event).await?;
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        self.figures_of(&ctx).await
    }

    /// The figures of the tasks of `ctx`, read from the counters.
    pub(super) async fn figures_of(&self, ctx: &super::Ctx) -> Result<Vec<TaskFigures>> {
        let counters = self.store.task_counters(ctx.event.id).await?;
        let now = self.now();
        let mut tasks: Vec<_> = ctx
            .tasks
            .values()
            .filter(|t| t.state != TaskState::Draft)
            .collect();
        tasks.sort_by_key(|t| (t.config.position, t.id));
        Ok(tasks
            .into_iter()
            .map(|t| {
                let c = counters.get(&t.id).copied().unwrap_or_default();
                TaskFigures::new(t.id, c, t.config.deadline, now)
            })
            .collect())
    }
}
