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
/// a throttling peer's answer (with the latest time one asked for, if any did).
#[derive(Debug, Default, Clone)]
pub(super) struct Outcome {
    pub(super) transient: Option<String>,
    pub(super) permanent: Option<String>,
    pub(super) throttled: Option<(String, Option<DateTime<Utc>>)>,
    /// An address held back by the dispatchers' shared rate limit (N11), and when the
    /// limit lets the next send go.
    pub(super) limited: Option<(String, DateTime<Utc>)>,
}

impl Outcome {
    /// Adds what `other` met (the last failure of each kind, the latest time asked).
    pub(super) fn absorb(&mut self, other: &Outcome) {
        if other.transient.is_some() {
            self.transient.clone_from(&other.transient);
        }
        if other.permanent.is_some() {
            self.permanent.clone_from(&other.permanent);
        }
        if let Some((why, at)) = &other.throttled {
            self.throttled = Some(match self.throttled.take() {
                Some((mine, t)) if t >= *at => (mine, t),
                _ => (why.clone(), *at),
            });
        }
        if let Some((why, at)) = &other.limited {
            self.limit(why.clone(), *at);
        }
    }

    /// Notes that the rate limit held back an address until `at` (the latest wins).
    pub(super) fn limit(&mut self, why: String, at: DateTime<Utc>) {
        if self.limited.as_ref().is_none_or(|(_, t)| *t < at) {
            self.limited = Some((why, at));
        }
    }
}

/// Settles an entry after one attempt on every address.
/// - No failure: sent.
/// - Only peers asking to slow down (N11): due again when the latest asked, or after a
///   backoff growing with the throttles in a row when none said, never sooner than the
///   first backoff (a "now" would spin); no attempt is spent. A wait ending later than
///   the throttle limit after the first throttle makes it a dead letter.
/// - A temporary failure, or a refusal beside a throttle, with attempts left: due again
///   after the backoff, or when a throttling peer asked if later.
/// - Only addresses the dispatchers' shared rate limit held back (N11): due again when it
///   lets the next send go; nothing spent.
/// - Otherwise (only refusals, or the last attempt): a dead letter, the refusal first.
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
        limited,
    } = outcome;
    // Held back by the shared rate limit only (N11): due again when the limit lets it go,
    // with nothing spent and nothing counted.
    if let (None, None, None, Some((why, at))) = (&transient, &permanent, &throttled, &limited) {
        entry.last_error = Some(why.clone());
        entry.not_before = Some(*at);
        return;
    }
    // Beside other outcomes, the limit's time counts like a throttling peer's ask: the
    // held-back address deserves its try, not before then.
    let throttled = match (throttled, limited) {
        (Some((why, asked)), Some((_, at))) => Some((why, Some(asked.map_or(at, |a| a.max(at))))),
        (None, Some((why, at))) => Some((why, Some(at))),
        (t, None) => t,
    };
    if let (None, None, Some((why, asked))) = (&transient, &permanent, &throttled) {
        let since = *entry.throttled_since.get_or_insert(now);
        entry.throttles = entry.throttles.saturating_add(1);
        let at = match asked {
            Some(at) => (*at).max(now + config.backoff_base),
            None => now + config.backoff_after(entry.throttles),
        };
        if at > since + config.throttle_limit {
            let why = format!(
                "{why}; throttled since {since}, and the next try ({at}) would be past the throttle limit of {} hours",
                config.throttle_limit.num_hours()
            );
            return give_up(entry, now, &why);
        }
        entry.last_error = Some(why.clone());
        entry.not_before = Some(at);
        return;
    }
    entry.throttled_since = None;
    entry.throttles = 0;
    entry.attempts += 1;
    let asked = throttled.as_ref().and_then(|(_, at)| *at);
    let retry = |entry: &mut OutboxEntry, why: String| {
        let backoff = now + config.backoff_after(entry.attempts);
        entry.last_error = Some(why);
        entry.not_before = Some(asked.map_or(backoff, |at| at.max(backoff)));
    };
    let left = entry.attempts < config.max_attempts;
    match (transient, permanent) {
        (None, None) => {
            entry.state = OutboxState::Sent;
            entry.finished_at = Some(now);
            entry.not_before = None;
        }
        (Some(why), _) if left => retry(entry, why),
        // A refusal beside a throttled address: the throttled one deserves its try.
        (None, Some(why)) if left && throttled.is_some() => retry(entry, why),
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

    /// N11: an address the rate limit held back beside one refused for good is still
    /// tried, when the limit lets it go; held back alone, nothing is spent.
    #[test]
    fn n11_a_limited_address_beside_a_refusal_is_tried_later() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let config = DispatchConfig::default().with_max_attempts(3);
        let at = now + chrono::Duration::minutes(10);
        let mut e = entry(now);
        let outcome = Outcome {
            permanent: Some("email: 550".into()),
            limited: Some(("chat: waiting for the dispatchers' rate limit".into(), at)),
            ..Outcome::default()
        };
        settle(&mut e, outcome, &config, now);
        assert_eq!(e.state, OutboxState::Pending, "{e:?}");
        assert!(e.not_before.unwrap() >= at, "{e:?}");
        let mut e = entry(now);
        let outcome = Outcome {
            limited: Some(("chat: waiting".into(), at)),
            ..Outcome::default()
        };
        settle(&mut e, outcome, &config, now);
        assert_eq!(
            (e.state, e.attempts, e.not_before),
            (OutboxState::Pending, 0, Some(at))
        );
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
                ..Outcome::default()
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

    /// N11: a peer that names a time is tried again then (never sooner than the first
    /// backoff), one that names none after a growing backoff; neither spends an attempt;
    /// the limit runs from the first throttle; a refusal beside a throttle counts.
    #[test]
    fn n11_a_throttling_peer_is_tried_when_it_asked() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let s = chrono::Duration::seconds;
        let config = DispatchConfig::default()
            .with_max_attempts(3)
            .with_backoff(s(30), chrono::Duration::hours(6))
            .with_throttle_limit(chrono::Duration::hours(6));
        let throttled = |at: Option<DateTime<Utc>>| Outcome {
            throttled: Some(("email: throttled: 429".to_owned(), at)),
            ..Outcome::default()
        };
        let mut e = entry(now);
        e.attempts = 2;
        for _ in 0..10 {
            settle(&mut e, throttled(Some(now + s(120))), &config, now);
            assert_eq!(e.state, OutboxState::Pending);
            assert_eq!(e.attempts, 2, "a throttle spends no attempt");
            assert_eq!(e.not_before, Some(now + s(120)), "when the peer asked");
        }
        assert_eq!((e.throttles, e.throttled_since), (10, Some(now)));
        // "Now", or a time past, waits the first backoff rather than spinning.
        let mut e = entry(now);
        settle(&mut e, throttled(Some(now - s(5))), &config, now);
        assert_eq!(e.not_before, Some(now + s(30)));
        // No time said: a backoff that grows with the throttles in a row.
        let mut e = entry(now);
        let mut waits = Vec::new();
        for _ in 0..4 {
            settle(&mut e, throttled(None), &config, now);
            waits.push((e.not_before.unwrap() - now).num_seconds());
        }
        assert_eq!(e.attempts, 0);
        assert!(waits[3] > waits[0], "{waits:?}");
        // The limit runs from the first throttle, not from the entry's creation.
        let later = now + chrono::Duration::days(10);
        let mut e = entry(now);
        settle(&mut e, throttled(Some(later + s(120))), &config, later);
        assert_eq!(e.state, OutboxState::Pending, "{e:?}");
        settle(
            &mut e,
            throttled(Some(later + chrono::Duration::hours(7))),
            &config,
            later,
        );
        assert_eq!(e.state, OutboxState::Dead);
        assert!(
            e.last_error.as_deref().unwrap().contains("throttle limit"),
            "{e:?}"
        );
        // Another address failing too: the attempt counts, the later time wins.
        let mut e = entry(now);
        let outcome = Outcome {
            transient: Some("chat: 503".into()),
            throttled: Some((
                "web_push: throttled".into(),
                Some(now + chrono::Duration::hours(1)),
            )),
            ..Outcome::default()
        };
        settle(&mut e, outcome, &config, now);
        assert_eq!(e.attempts, 1);
        assert_eq!(e.not_before, Some(now + chrono::Duration::hours(1)));
        // A refusal beside a throttle counts an attempt, and stays for the last one.
        let mut e = entry(now);
        for attempt in 1..=3 {
            let outcome = Outcome {
                permanent: Some("email: 550".into()),
                throttled: Some(("chat: throttled".into(), None)),
                ..Outcome::default()
            };
            settle(&mut e, outcome, &config, now);
            assert_eq!(e.attempts, attempt);
        }
        assert_eq!(e.state, OutboxState::Dead);
        assert_eq!(e.last_error.as_deref(), Some("email: 550"));
        // A requeued dead letter starts afresh.
        e.requeue(now);
        assert_eq!((e.throttles, e.throttled_since), (0, None));
    }
}
