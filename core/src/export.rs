//! CSV exports (B4, R5, R12): the text of a matrix cell, and records written with every
//! cell neutralised against spreadsheet formula injection. Pure but for the writer the
//! host hands in.

use std::io;

use crate::error::{Error, Result};
use crate::matrix::MatrixCell;
use crate::progress::ProgressStatus;

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
    use super::*;

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
}
