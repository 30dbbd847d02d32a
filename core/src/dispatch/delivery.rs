//! What the sends' outcomes do to an outbox entry (N5): sent, due again after a backoff,
//! or a dead letter. Pure.

use chrono::{DateTime, Utc};

use super::DispatchConfig;
use crate::notify::{OutboxEntry, OutboxState};

/// Makes the entry a dead letter, saying why.
pub(super) fn give_up(entry: &mut OutboxEntry, now: DateTime<Utc>, why: &str) {
    entry.state = OutboxState::Dead;
    entry.last_error = Some(why.to_owned());
    entry.finished_at = Some(now);
    entry.not_before = None;
}

/// Settles an entry after one attempt on every address: `transient` and `permanent` are
/// the last failure of each kind, if any. No failure: sent. A temporary failure with
/// attempts left: due again after the backoff (a retry may still reach that address).
/// Only permanent failures, or the last attempt: a dead letter, the permanent reason
/// first.
pub(super) fn settle(
    entry: &mut OutboxEntry,
    transient: Option<String>,
    permanent: Option<String>,
    config: &DispatchConfig,
    now: DateTime<Utc>,
) {
    entry.attempts += 1;
    match (transient, permanent) {
        (None, None) => {
            entry.state = OutboxState::Sent;
            entry.finished_at = Some(now);
            entry.not_before = None;
        }
        (Some(why), _) if entry.attempts < config.max_attempts => {
            entry.last_error = Some(why);
            entry.not_before = Some(now + config.backoff_after(entry.attempts));
        }
        (t, p) => {
            let why = p.or(t).unwrap_or_default();
            give_up(entry, now, &why);
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::{EventId, ParticipantId, TaskId};
    use crate::notify::Notification;

    fn entry(now: DateTime<Utc>) -> OutboxEntry {
        let id = ParticipantId::new_at(now);
        OutboxEntry::new(
            EventId::new_at(now),
            id,
            Notification::Assignment {
                task: TaskId::new_at(now),
                owner: id,
            },
            "k".into(),
            now,
        )
    }

    /// N5: every outcome of an attempt, and what it makes of the entry.
    #[test]
    fn n5_outcomes_settle_the_entry() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let config = DispatchConfig::default().with_max_attempts(3);
        let t = || Some("chat: 503".to_owned());
        let p = || Some("email: 550".to_owned());
        // (attempts before, transient, permanent) -> (state, retried, error)
        let table = [
            (0, None, None, OutboxState::Sent, false, None),
            (0, t(), None, OutboxState::Pending, true, t()),
            (1, t(), p(), OutboxState::Pending, true, t()),
            (0, None, p(), OutboxState::Dead, false, p()),
            (2, t(), None, OutboxState::Dead, false, t()),
            (2, t(), p(), OutboxState::Dead, false, p()),
        ];
        for (before, transient, permanent, state, retried, error) in table {
            let mut e = entry(now);
            e.attempts = before;
            let case = format!("{before} {transient:?} {permanent:?}");
            settle(&mut e, transient, permanent, &config, now);
            assert_eq!(e.attempts, before + 1, "{case}");
            assert_eq!(e.state, state, "{case}");
            assert_eq!(e.not_before.is_some(), retried, "{case}");
            if retried {
                assert!(e.not_before.unwrap() > now, "{case}: after a backoff");
                assert_eq!(e.finished_at, None, "{case}");
            } else {
                assert_eq!(e.finished_at, Some(now), "{case}");
            }
            assert_eq!(e.last_error, error, "{case}");
        }
    }
}
