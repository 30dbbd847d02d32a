//! The participant's history (R12): pages with filters, and its CSV export.

use super::Punchlist;
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::Result;
use crate::export::{CsvExport, HISTORY_COLUMNS, history_record};
use crate::history::{HistoryEntry, HistoryFilter, Subject, is_under};
use crate::ids::{EventId, ParticipantId};
use crate::limits::PAGE as MAX_PAGE;
use crate::store::Store;
use std::io;
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// A page of a participant's history, newest first (R12): one line per changed field
    /// with old and new value, when and who. For the organizers whole; for the participant
    /// without the lines about custom fields (R4). `filter` narrows it to fields and
    /// dates; the next page is `filter.before` = the last line's id, and a page shorter
    /// than `limit` (up to 1,000) is the last.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn participant_history(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &HistoryFilter,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        filter.validate()?;
        actor::require_same_event(actor, event, ParticipantId::ENTITY, participant)?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        self.history_page(
            actor,
            event,
            participant,
            filter,
            crate::limits::page(limit, MAX_PAGE)?,
        )
        .await
    }

    /// Writes a participant's history as CSV to `out` (R12), newest first, with
    /// `filter`'s fields and dates (its cursor is ignored), page by page. Same readers
    /// and lines as [`participant_history`](Self::participant_history). Columns: `at`
    /// (RFC 3339 in the event's time zone), `field`, `old`, `new` (text as is, other
    /// values as JSON), `by`. Values are what participants typed: cells a spreadsheet
    /// would run as a formula are neutralised as in B4. Returns the number of lines.
    #[instrument(skip_all, fields(event = %event, participant = %participant))]
    pub async fn export_participant_history_csv<W: io::Write + Send>(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &HistoryFilter,
        out: W,
    ) -> Result<u64> {
        filter.validate()?;
        let ctx = self.context(actor, event).await?;
        self.participant_state(event, participant).await?;
        actor::require_self_or_staff(actor, event, participant)?;
        let zone = ctx.event.settings.time_zone;
        let mut csv = CsvExport::new(out, HISTORY_COLUMNS)?;
        let mut filter = HistoryFilter {
            before: None,
            ..filter.clone()
        };
        loop {
            let page = self
                .history_page(actor, event, participant, &filter, MAX_PAGE)
                .await?;
            for line in &page {
                csv.record(history_record(line, zone, participant))?;
            }
            match page.last() {
                Some(last) if page.len() == MAX_PAGE => filter.before = Some(last.id),
                _ => break,
            }
        }
        csv.finish()
    }

    /// Up to `limit` lines of the filter, reading on past the lines the reader may not
    /// see or the filter leaves out, so a page is full whenever older matching lines
    /// exist.
    pub(super) async fn history_page(
        &self,
        actor: &Actor,
        event: EventId,
        participant: ParticipantId,
        filter: &HistoryFilter,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let subject = Subject::Participant(participant);
        let staff = actor.is_staff_of(event);
        let mut lines = Vec::with_capacity(limit);
        let mut cursor = filter.upper();
        while lines.len() < limit {
            let page = self.store.history(event, subject, cursor, limit).await?;
            let Some(last) = page.last() else { break };
            cursor = Some(last.id);
            let exhausted = page.len() < limit;
            for line in page {
                if filter.is_past(&line) {
                    return Ok(lines);
                }
                // A participant never sees lines about custom fields (R4).
                let visible = staff || !is_under(&line.field, "custom_fields");
                if visible && filter.wants(&line) && lines.len() < limit {
                    lines.push(line);
                }
            }
            if exhausted {
                break;
            }
        }
        Ok(lines)
    }
}
