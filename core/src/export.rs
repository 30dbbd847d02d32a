//! CSV exports (B3, B4, R5, R12): the columns and cells of every export, and a writer
//! that neutralises every cell against spreadsheet formula injection. The service only
//! reads the pages and hands each item to a record function here. Pure but for the
//! writer the host hands in.

use std::io;

use chrono_tz::Tz;
use serde_json::Value;

use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::figures::TaskFigures;
use crate::history::HistoryEntry;
use crate::ids::ParticipantId;
use crate::matrix::{MatrixCell, MatrixRow};
use crate::progress::ProgressStatus;
use crate::task::TaskState;
use crate::timeline::TimelineEntry;

/// The matrix export's fixed columns; a column per task follows, named in the event's
/// default language (B4).
pub(crate) const MATRIX_COLUMNS: [&str; 8] = [
    "external_id",
    "first_name",
    "last_name",
    "company",
    "email",
    "categories",
    "done",
    "total",
];

/// The figures export's columns (B3).
pub(crate) const FIGURES_COLUMNS: [&str; 8] = [
    "task_id",
    "task",
    "state",
    "targeted",
    "done",
    "awaiting_review",
    "overdue",
    "rate_percent",
];

/// The history export's columns (R12).
pub(crate) const HISTORY_COLUMNS: [&str; 5] = ["at", "field", "old", "new", "by"];

/// The timeline export's columns (R5).
pub(crate) const TIMELINE_COLUMNS: [&str; 4] = ["at", "kind", "by", "details"];

/// A CSV export being written: a header, then records, every cell neutralised
/// ([`neutralise_formula`]); a failing writer is [`Error::Io`].
pub(crate) struct CsvExport<W: io::Write> {
    csv: csv::Writer<W>,
    records: u64,
}

impl<W: io::Write> CsvExport<W> {
    /// Starts an export to `out` with its header.
    pub(crate) fn new<H: AsRef<str>>(out: W, header: impl IntoIterator<Item = H>) -> Result<Self> {
        let mut csv = csv::Writer::from_writer(out);
        write_record(
            &mut csv,
            header.into_iter().map(|h| h.as_ref().to_owned()).collect(),
        )?;
        Ok(Self { csv, records: 0 })
    }

    /// Writes one record.
    pub(crate) fn record(&mut self, record: Vec<String>) -> Result<()> {
        write_record(&mut self.csv, record)?;
        self.records += 1;
        Ok(())
    }

    /// Flushes the writer; the number of records written (the header is not one).
    pub(crate) fn finish(mut self) -> Result<u64> {
        self.csv.flush().map_err(|source| Error::Io { source })?;
        Ok(self.records)
    }
}

/// A matrix row as a record: the participant's columns, done and total, then one cell
/// per task in the page's order (B4).
pub(crate) fn matrix_record(row: &MatrixRow) -> Vec<String> {
    let p = &row.participant;
    let categories: Vec<&str> = p.status.categories.iter().map(String::as_str).collect();
    let mut record = vec![
        p.external_id.to_string(),
        p.profile.first_name.clone(),
        p.profile.last_name.clone(),
        p.profile.company.clone(),
        p.profile.email.clone().unwrap_or_default(),
        categories.join(", "),
        row.summary.done.to_string(),
        row.summary.total.to_string(),
    ];
    record.extend(row.cells.iter().map(cell_text));
    record
}

/// A task's figures as a record, with its name in the export's language (B3).
pub(crate) fn figures_record(figures: &TaskFigures, name: &str, state: TaskState) -> Vec<String> {
    let state = match state {
        TaskState::Draft => "draft",
        TaskState::Published => "published",
        TaskState::Archived => "archived",
    };
    vec![
        figures.task.to_string(),
        name.to_owned(),
        state.to_owned(),
        figures.targeted.to_string(),
        figures.done.to_string(),
        figures.awaiting_review.to_string(),
        figures.overdue.to_string(),
        figures.rate.to_string(),
    ]
}

/// A history line about `owner` as a record: the time in the event's zone (RFC 3339),
/// the field, the old and new values (text as is, other values as JSON) and who (R12).
pub(crate) fn history_record(line: &HistoryEntry, zone: Tz, owner: ParticipantId) -> Vec<String> {
    vec![
        line.at.with_timezone(&zone).to_rfc3339(),
        line.field.clone(),
        value_text(&line.old),
        value_text(&line.new),
        actor_label(&line.actor, owner),
    ]
}

/// A timeline entry of `owner` as a record: the time in the event's zone (RFC 3339), the
/// kind, who, and the action's fields as JSON (R5).
pub(crate) fn timeline_record(
    entry: &TimelineEntry,
    zone: Tz,
    owner: ParticipantId,
) -> Vec<String> {
    vec![
        entry.at.with_timezone(&zone).to_rfc3339(),
        entry.kind.action_kind().as_str().to_owned(),
        actor_label(&entry.actor, owner),
        entry.kind.details(),
    ]
}

/// How an export names who acted on `owner`'s record: `participant` for the owner,
/// `participant:<id>` for another, `organizer:<admin>`, or `system` for the host.
pub(crate) fn actor_label(actor: &Actor, owner: ParticipantId) -> String {
    match actor {
        Actor::Participant { id, .. } if *id == owner => "participant".into(),
        Actor::Participant { id, .. } => format!("participant:{id}"),
        Actor::Organizer { admin, .. } => format!("organizer:{admin}"),
        Actor::System => "system".into(),
    }
}

/// A value's text in a cell: a string as it is, nothing for null, other values as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The CSV text of a cell.
pub(crate) fn cell_text(cell: &MatrixCell) -> String {
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

/// Writes one CSV record, every cell neutralised ([`neutralise_formula`]); a failing
/// writer is [`Error::Io`].
pub(crate) fn write_record<W: io::Write>(
    csv: &mut csv::Writer<W>,
    record: Vec<String>,
) -> Result<()> {
    csv.write_record(record.iter().map(|c| neutralise_formula(c).into_owned()))
        .map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(source) => Error::Io { source },
            other => Error::backend(format!("CSV: {other:?}")),
        })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::figures::TaskCounters;
    use crate::history::Subject;
    use crate::ids::{AdminId, EventId, HistoryId, TaskId};

    /// B4: a cell that a spreadsheet would run as a formula gets a leading quote.
    #[test]
    fn b4_formula_cells_are_neutralised() {
        for (cell, out) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("ACME", "ACME"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralise_formula(cell), out, "{cell:?}");
        }
        let mut csv = csv::Writer::from_writer(Vec::new());
        write_record(&mut csv, vec!["=1+1".into(), "ok".into()]).unwrap();
        let text = String::from_utf8(csv.into_inner().unwrap()).unwrap();
        assert_eq!(text, "'=1+1,ok\n");
    }

    /// R5, R12: who acted, as the exports name them, for each kind of actor.
    #[test]
    fn r12_exports_name_who_acted() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let (event, owner) = (EventId::new_at(at), ParticipantId::new_at(at));
        let other = ParticipantId::new_at(at + chrono::Duration::seconds(1));
        for (actor, label) in [
            (Actor::participant(owner, event), "participant".to_owned()),
            (
                Actor::participant(other, event),
                format!("participant:{other}"),
            ),
            (
                Actor::organizer(AdminId::new("alice").unwrap(), event),
                "organizer:alice".to_owned(),
            ),
            (Actor::System, "system".to_owned()),
        ] {
            assert_eq!(actor_label(&actor, owner), label, "{actor:?}");
        }
    }

    /// R12: a history line's cells: the time in the event's zone, text values as they
    /// are, null as nothing, other values as JSON, and a formula neutralised on writing.
    #[test]
    fn r12_history_line_cells() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        let (event, owner) = (EventId::new_at(at), ParticipantId::new_at(at));
        let zone: Tz = "Europe/Paris".parse().unwrap();
        for (old, new, cells) in [
            (
                json!("Acme"),
                json!("=HYPERLINK()"),
                ["Acme", "=HYPERLINK()"],
            ),
            (Value::Null, json!(3), ["", "3"]),
            (
                json!(["a"]),
                json!({"k": true}),
                [r#"["a"]"#, r#"{"k":true}"#],
            ),
        ] {
            let line = HistoryEntry {
                id: HistoryId::new_at(at),
                event,
                subject: Subject::Participant(owner),
                at,
                actor: Actor::System,
                field: "profile.company".into(),
                old,
                new,
            };
            assert_eq!(
                history_record(&line, zone, owner),
                vec![
                    "2026-01-01T13:00:00+01:00".to_owned(),
                    "profile.company".into(),
                    cells[0].into(),
                    cells[1].into(),
                    "system".into(),
                ]
            );
        }
        let mut out = CsvExport::new(Vec::new(), HISTORY_COLUMNS).unwrap();
        out.record(["=1", "b", "c", "d", "e"].map(String::from).to_vec())
            .unwrap();
        assert!(
            out.record(vec!["short".into()]).is_err(),
            "a record as wide as the header"
        );
        assert_eq!(out.finish().unwrap(), 1, "the header is not a record");
    }

    /// B3: a task's figures as cells, for each state.
    #[test]
    fn b3_figures_cells() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let task = TaskId::new_at(at);
        let counters = TaskCounters {
            targeted: 4,
            done: 1,
            ..Default::default()
        };
        let figures = TaskFigures::new(task, counters, Some(at - chrono::Duration::days(1)), at);
        for (state, text) in [
            (TaskState::Draft, "draft"),
            (TaskState::Published, "published"),
            (TaskState::Archived, "archived"),
        ] {
            assert_eq!(
                figures_record(&figures, "Logo", state),
                [&task.to_string(), "Logo", text, "4", "1", "0", "3", "25"]
                    .map(String::from)
                    .to_vec()
            );
        }
    }
}
