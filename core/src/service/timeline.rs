//! Reading the timeline (R5): pages with filters, and its CSV export.

use super::Punchlist;
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::Result;
use crate::export::{CsvExport, TIMELINE_COLUMNS, timeline_record};
use crate::ids::{EventId, ParticipantId};
use crate::limits::PAGE as MAX_PAGE;
use crate::store::Store;
use crate::timeline::{TimelineEntry, TimelineFilter};
use std::io;
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// A page of a participant's timeline, newest first (R5), for them and the event's
    /// organizers: the kinds, date range and cursor of `filter`, at most `limit` entries
    /// (up to 1,000). The next page is `filter.before` = the last entry's id; a page shorter
    /// than `limit` is the last.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn timeline(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        filter.validate()?;
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        self.store
            .timeline(
                event,
                participant,
                filter,
                crate::limits::page(limit, MAX_PAGE)?,
            )
            .await
    }

    /// Writes a participant's timeline as CSV to `out` (R5), newest first, with `filter`'s
    /// kinds and dates (its cursor is ignored: the export starts at the newest), page by
    /// page so memory does not grow with the timeline. For the participant and the
    /// event's organizers. Columns: `at` (RFC 3339 in the event's time zone), `kind`,
    /// `by` (`participant`, `organizer:<admin>` or `system`), `details` (the action's
    /// fields as JSON). Cells a spreadsheet would run as a formula are neutralised as in
    /// B4. `out` is written synchronously between store reads (see
    /// [`export_matrix_csv`](Self::export_matrix_csv)). Returns the number of entries.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn export_timeline_csv<W: io::Write + Send>(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &TimelineFilter,
        out: W,
    ) -> Result<u64> {
        filter.validate()?;
        let ctx = self.context(actor, event).await?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let zone = ctx.event.settings.time_zone;
        let mut csv = CsvExport::new(out, TIMELINE_COLUMNS)?;
        let mut filter = TimelineFilter {
            before: None,
            ..filter.clone()
        };
        loop {
            let page = self
                .store
                .timeline(event, participant, &filter, MAX_PAGE)
                .await?;
            for entry in &page {
                csv.record(timeline_record(entry, zone, participant))?;
            }
            match page.last() {
                Some(last) if page.len() == MAX_PAGE => filter.before = Some(last.id),
                _ => break,
            }
        }
        csv.finish()
    }

    /// Every entry of `participant`'s timeline that `filter` selects, newest first, read
    /// page by page from the filter's cursor.
    pub(super) async fn whole_timeline(
        &self,
        event: EventId,
        participant: ParticipantId,
        mut filter: TimelineFilter,
    ) -> Result<Vec<TimelineEntry>> {
        let mut out = Vec::new();
        loop {
            let page = self
                .store
                .timeline(event, participant, &filter, MAX_PAGE)
                .await?;
            let full = page.len() == MAX_PAGE;
            filter.before = page.last().map(|e| e.id);
            out.extend(page);
            if !full {
                return Ok(out);
            }
        }
    }
}
