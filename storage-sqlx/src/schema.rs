//! The SQL schema in one place: the tables the migrations (`migrations/` beside the crate)
//! create, and the columns this crate computes from a record when it writes one.
//!
//! Every key starts with the event's id, then what the queries range over, so one event's
//! rows, one participant's rows or one subject's history are each one range of a primary
//! key. Ids are UUID v7, so they sort by time and new rows land at the end of their range.
//! Documents are JSONB; the columns beside them are the ones queries filter, join or sort
//! on, and the ones hosts' reports read (a progress row's completion and deadline, an
//! outbox entry's recipient, kind and channels), kept in step with the body by every
//! statement that writes it.
//!
//! | table | key | what it holds |
//! |---|---|---|
//! | `events` | event | JSON `Event`, version |
//! | `segments` | event · segment | JSON `Segment`, version |
//! | `tasks` | event · task | JSON `Task`, version |
//! | `participants` | event · participant | JSON record and facts, version, the host's id (unique in the event), the owner, and the derived columns below (indexed by owner and by each sort key) |
//! | `progress` | event · participant · task | JSON `Progress`, with targeted, status, assignee, next reminder, completion (at, by participant or administrator, how) and resolved deadline (`due_at`) beside it (indexed by task and status for targeted rows, by assignee, and by next reminder for rows still to do) |
//! | `host_events` | event · host event id | — (the host events already ingested) |
//! | `timeline` | event · participant · entry | JSON `TimelineEntry`, its kind beside it |
//! | `history` | event · subject kind · subject · line | JSON `HistoryEntry` (subject kinds: `subject_parts`) |
//! | `messages` | event · participant · message | JSON `Message` |
//! | `outbox` | event · entry | JSON `OutboxEntry`, its idempotency key (unique in the event), state, due time, recipient, kind and the channels it was delivered on (indexed by due time, by recipient, and dead letters by event) |
//! | `sweeps` | event · sweep | JSON `Sweep` |
//! | `counters` | event · task | targeted, done, awaiting review (`TaskCounters`) |
//! | `_sqlx_migrations` | version | the migrations applied (sqlx's ledger) |
//!
//! Computed by the library, written with every participant record (`derived`):
//!
//! | column | what it holds |
//! |---|---|
//! | `sort_name`, `sort_company`, `sort_email` | the matrix's sort keys ([`MatrixSort::key`]), in the "C" collation (byte order, as the other stores sort) |
//! | `search` | first name, last name, company and email, lower-cased, joined by U+001F: the text the matrix search looks in |
//! | `categories` | the status's categories, as a `text[]` |
//!
//! Progress changes go out on a channel per event and schema, named in `feed.rs`.

use punchlist::Subject;
use punchlist::{MatrixSort, Participant};
use uuid::Uuid;

/// The `subject_kind` and `subject_id` columns of a history subject: 0 for the event (with
/// the nil id), 1 a participant, 2 a task, 3 a segment.
pub(crate) fn subject_parts(subject: Subject) -> (i16, Uuid) {
    match subject {
        Subject::Event => (0, Uuid::nil()),
        Subject::Participant(p) => (1, p.as_uuid()),
        Subject::Task(t) => (2, t.as_uuid()),
        Subject::Segment(s) => (3, s.as_uuid()),
    }
}

/// The columns of a participant row computed from the record.
pub(crate) struct Derived {
    pub(crate) sort_name: String,
    pub(crate) sort_company: String,
    pub(crate) sort_email: String,
    pub(crate) search: String,
    pub(crate) categories: Vec<String>,
}

/// The computed columns of `p`'s row.
pub(crate) fn derived(p: &Participant) -> Derived {
    let pr = &p.profile;
    Derived {
        sort_name: MatrixSort::Name.key(p),
        sort_company: MatrixSort::Company.key(p),
        sort_email: MatrixSort::Email.key(p),
        search: [
            pr.first_name.as_str(),
            pr.last_name.as_str(),
            pr.company.as_str(),
            pr.email.as_deref().unwrap_or_default(),
        ]
        .map(str::to_lowercase)
        .join("\u{1f}"),
        categories: p.status.categories.iter().cloned().collect(),
    }
}
