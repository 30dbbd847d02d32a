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

/// What one attempt on every address of an entry met: the last failure of each kind, and
/// the latest time a throttling peer asked to be tried again.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub(super) transient: Option<String>,
    pub(super) permanent: Option<String>,
    pub(super) throttled: Option<(String, DateTime<Utc>)>,
}

/// Settles an entry after one attempt on every address. No failure: sent. A peer that
/// asked to be tried again at a time, and no other temporary failure: due then, without
/// spending an attempt (N11), unless that is beyond the throttle limit (a dead letter). A
/// temporary failure with attempts left: due again after the backoff, or when a throttling
/// peer asked if later. Only permanent failures, or the last attempt: a dead letter, the
/// permanent reason first.
pub(super) fn settle(
    entry: &mut OutboxEntry,
    outcome: Outcome,
    config: &DispatchConfig,
    now: DateTime<Utc>,
) {
    let Outcome {
        transient,
        permanent,
        throttled,
    } = outcome;
    if let (None, Some((why, at))) = (&transient, &throttled) {
        if *at > entry.created_at + config.throttle_limit {
            let why = format!(
                "{why}; the peer asked to wait until {at}, beyond the throttle limit of {} hours",
                config.throttle_limit.num_hours()
            );
            return give_up(entry, now, &why);
        }
        entry.last_error = Some(why.clone());
        entry.not_before = Some((*at).max(now));
        return;
    }
    entry.attempts += 1;
    match (transient, permanent) {
        (None, None) => {
            entry.state = OutboxState::Sent;
            entry.finished_at = Some(now);
            entry.not_before = None;
        }
        (Some(why), _) if entry.attempts < config.max_attempts => {
            let backoff = now + config.backoff_after(entry.attempts);
            entry.last_error = Some(why);
            entry.not_before = Some(throttled.map_or(backoff, |(_, at)| at.max(backoff)));
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
            let outcome = Outcome {
                transient,
                permanent,
                throttled: None,
            };
            settle(&mut e, outcome, &config, now);
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

    /// N11: a peer that names a time is tried again then, without spending an attempt,
    /// within the throttle limit; past it the entry is a dead letter.
    #[test]
    fn n11_a_throttling_peer_is_tried_when_it_asked() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let config = DispatchConfig::default()
            .with_max_attempts(3)
            .with_throttle_limit(chrono::Duration::hours(6));
        let asked = now + chrono::Duration::seconds(120);
        let throttled = || Some(("email: throttled: 429".to_owned(), asked));
        let mut e = entry(now);
        e.attempts = 2;
        for _ in 0..10 {
            let outcome = Outcome {
                throttled: throttled(),
                ..Outcome::default()
            };
            settle(&mut e, outcome, &config, now);
            assert_eq!(e.state, OutboxState::Pending);
            assert_eq!(e.attempts, 2, "a throttle spends no attempt");
            assert_eq!(
                e.not_before,
                Some(asked),
                "when the peer asked, not the backoff"
            );
        }
        // With another address failing too, the attempt counts and the later time wins.
        let outcome = Outcome {
            transient: Some("chat: 503".into()),
            throttled: Some((
                "web_push: throttled".into(),
                now + chrono::Duration::hours(1),
            )),
            ..Outcome::default()
        };
        let mut e = entry(now);
        settle(&mut e, outcome, &config, now);
        assert_eq!(e.attempts, 1);
        assert_eq!(e.not_before, Some(now + chrono::Duration::hours(1)));
        // Beyond the limit: given up, saying why.
        let mut e = entry(now);
        let outcome = Outcome {
            throttled: Some(("email: throttled".into(), now + chrono::Duration::hours(7))),
            ..Outcome::default()
        };
        settle(&mut e, outcome, &config, now);
        assert_eq!(e.state, OutboxState::Dead);
        assert!(
            e.last_error.as_deref().unwrap().contains("throttle limit"),
            "{e:?}"
        );
    }
}
