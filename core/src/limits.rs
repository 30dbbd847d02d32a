//! Every bound on the library's inputs, in one place (X7).
//!
//! Each input has a bound on its size, its time or its count, so that one bad payload,
//! one wrong clock or one loop in a host cannot grow a store, freeze a task or slow every
//! page. A value over its bound is refused with [`Error::Invalid`] naming the field, before
//! anything is written, the same way on every store.
//!
//! Some bounds belong to a type and are kept on it, where its checks read them:
//! [`ExternalId::MAX_LEN`](crate::ExternalId::MAX_LEN) and the other string ids',
//! [`Rule::MAX_DEPTH`](crate::Rule::MAX_DEPTH) and
//! [`Rule::MAX_MEMBERS`](crate::Rule::MAX_MEMBERS),
//! [`Condition::MAX_DEPTH`](crate::Condition::MAX_DEPTH),
//! [`ReminderOffset::MAX_SECONDS`](crate::ReminderOffset::MAX_SECONDS),
//! [`PushSubscription::MAX_PER_PARTICIPANT`](crate::PushSubscription::MAX_PER_PARTICIPANT)
//! and [`Progress::MAX_REMINDER_MARKS`](crate::Progress::MAX_REMINDER_MARKS). Every other
//! bound is here.
//!
//! # Paging
//!
//! Every call that answers a page takes a `limit` and reads it the same way, through
//! [`page`]: `0` means "not set" and gives [`DEFAULT_PAGE`] items; `1..=max` gives that
//! many at most; above the call's maximum ([`PAGE`] for lists, [`MATRIX_PAGE`] for the
//! matrix) is refused with [`Error::Invalid`] on `limit`, never clamped silently. A page
//! shorter than the limit is the last.
//!
//! # Time
//!
//! Facts and actions the host dates itself (`occurred_at`) may be late by any amount, but
//! at most [`MAX_CLOCK_SKEW`] ahead of the library's clock. On/off facts keep their latest
//! occurrence (T4), so a fact dated far ahead would otherwise win against every genuine
//! report that follows it. Within the skew the host's dates are taken as they are: a host
//! whose clock runs up to five minutes fast can have its report win against one made
//! during those five minutes by a correct clock, and never for longer.

use chrono::Duration;
use serde::Serialize;

use crate::error::{Error, Result};

/// How far ahead of the library's clock a host may date a fact or an action.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

/// Host events in one [`ingest_batch`](crate::Punchlist::ingest_batch).
pub const BATCH: usize = 10_000;
/// Actions in one [`report_actions`](crate::Punchlist::report_actions).
pub const ACTIONS: usize = 10_000;
/// Items of one bulk operation (decisions, remind now, dead letters retried).
pub const BULK: usize = 1_000;
/// Participants in one import ([`register_participants`](crate::Punchlist::register_participants)).
pub const IMPORT: usize = 100_000;

/// The longest message of a participant's thread (R7), in characters.
pub const MESSAGE_CHARS: usize = 10_000;

/// The page a paged call gives when its limit is left at `0`.
pub const DEFAULT_PAGE: usize = 50;
/// The largest page of a list (timeline, history, messages, registrants, outbox, dead
/// letters, previews).
pub const PAGE: usize = 1_000;
/// The largest page of the participants × tasks matrix (each row carries every task).
pub const MATRIX_PAGE: usize = 500;

/// The encoded size (JSON bytes) of one structured input: a segment rule, a task's
/// condition, an event's settings with their templates. Depth and width are bounded
/// too; this bounds the whole, since every operation of the event loads its
/// configuration.
pub const STRUCTURED_BYTES: usize = 64 * 1024;

/// The encoded size (JSON bytes) of an event's settings, templates included (at most 100
/// templates of at most 20,000 characters each, and this for all of them together).
pub const SETTINGS_BYTES: usize = 256 * 1024;

/// Meeting requests one participant may have pending (asked and not yet answered) at
/// once (R9).
pub const PENDING_MEETING_REQUESTS: usize = 50;

/// The page size a paged call uses for `limit` (see [Paging](self#paging)).
pub fn page(limit: usize, max: usize) -> Result<usize> {
    match limit {
        0 => Ok(DEFAULT_PAGE.min(max)),
        n if n > max => Err(Error::invalid(
            "limit",
            format!("at most {max} per page (0 gives the default page of {DEFAULT_PAGE})"),
        )),
        n => Ok(n),
    }
}

/// Refuses `value` if its JSON encoding is over `max` bytes.
pub(crate) fn encoded<T: Serialize + ?Sized>(field: &str, value: &T, max: usize) -> Result<()> {
    let mut counter = Counter(0);
    // Counting through a writer keeps a huge value from being copied to measure it.
    serde_json::to_writer(&mut counter, value).map_err(Error::backend)?;
    if counter.0 > max {
        return Err(Error::invalid(
            field.to_owned(),
            format!("is {} bytes encoded; at most {max}", counter.0),
        ));
    }
    Ok(())
}

struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x7_one_paging_policy() {
        assert_eq!(page(0, PAGE).unwrap(), DEFAULT_PAGE);
        assert_eq!(page(1, PAGE).unwrap(), 1);
        assert_eq!(page(PAGE, PAGE).unwrap(), PAGE);
        assert_eq!(page(PAGE + 1, PAGE).unwrap_err().field(), Some("limit"));
        assert_eq!(page(0, 10).unwrap(), 10);
    }

    #[test]
    fn x7_encoded_size() {
        assert!(encoded("rule", &"a".repeat(10), 12).is_ok());
        let e = encoded("rule", &"a".repeat(11), 12).unwrap_err();
        assert_eq!(e.field(), Some("rule"));
    }
}
