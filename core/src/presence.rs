//! Online status (R13): whether a participant is on the event's site or app now, from the
//! host's activity pings.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::ParticipantId;
use crate::participant::Participant;

/// A participant's online status (R13).
///
/// The status is computed at read time from the last time the participant was seen and
/// the injected clock, with two thresholds ([`PresenceThresholds`]): seen within `active`
/// is [`OnlineStatus::Active`], within `recent` is [`OnlineStatus::RecentlyInactive`]
/// ("inactive for a few minutes"), longer ago is [`OnlineStatus::Inactive`], never is
/// [`OnlineStatus::NeverConnected`].
///
/// Pings are not history. The last-seen time is kept with the participant's facts and
/// written at most once per participant per half `active` threshold: a service remembers
/// what it wrote and answers other pings from memory, and a ping that finds a recent
/// enough time in the store (written by another instance) writes nothing either. So a
/// redb host does not sync the disk per ping, and PostgreSQL instances share one value.
/// The status can lag by at most half the `active` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineStatus {
    /// Never seen on the site or the app of this event.
    NeverConnected,
    /// Seen before, but not for a while.
    Inactive,
    /// Left a few minutes ago.
    RecentlyInactive,
    /// On the site or the app now.
    Active,
}

impl OnlineStatus {
    /// The status of someone last seen at `last_seen`, at `now`.
    pub fn at(
        last_seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        thresholds: &PresenceThresholds,
    ) -> Self {
        match last_seen {
            None => Self::NeverConnected,
            Some(seen) if now - seen <= thresholds.active => Self::Active,
            Some(seen) if now - seen <= thresholds.recent => Self::RecentlyInactive,
            Some(_) => Self::Inactive,
        }
    }
}

/// The thresholds of the online status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresenceThresholds {
    active: Duration,
    recent: Duration,
}

impl Default for PresenceThresholds {
    /// Active within 2 minutes; inactive for a few minutes up to 15.
    fn default() -> Self {
        Self {
            active: Duration::minutes(2),
            recent: Duration::minutes(15),
        }
    }
}

impl PresenceThresholds {
    /// Seen within `active`: active; within `recent`: inactive for a few minutes. `active`
    /// must be at least one second, and `recent` longer than `active`.
    pub fn new(active: Duration, recent: Duration) -> Result<Self> {
        if active < Duration::seconds(1) {
            return Err(Error::invalid("active", "at least one second"));
        }
        if recent <= active {
            return Err(Error::invalid("recent", "longer than `active`"));
        }
        Ok(Self { active, recent })
    }

    /// Seen within this long: active.
    pub fn active(&self) -> Duration {
        self.active
    }

    /// Seen within this long (and not active): inactive for a few minutes.
    pub fn recent(&self) -> Duration {
        self.recent
    }

    /// How old a stored last-seen time may be before a ping writes a new one.
    pub fn write_every(&self) -> Duration {
        self.active / 2
    }
}

/// One participant's presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// The participant.
    pub participant: ParticipantId,
    /// Their status now.
    pub status: OnlineStatus,
    /// When they were last seen (to within half the `active` threshold).
    pub last_seen: Option<DateTime<Utc>>,
}

/// A row of the registrants list with its online status column (R13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registrant {
    /// The record.
    pub participant: Participant,
    /// Their presence.
    pub presence: Presence,
}

/// A page of the registrants list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrantsPage {
    /// The rows, in registration (id) order.
    pub rows: Vec<Registrant>,
    /// The cursor of the next page (`after`), if there may be one.
    pub next: Option<ParticipantId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn r13_status_by_thresholds() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let t = PresenceThresholds::default();
        let at = |ago: i64| OnlineStatus::at(Some(now - Duration::seconds(ago)), now, &t);
        assert_eq!(
            OnlineStatus::at(None, now, &t),
            OnlineStatus::NeverConnected
        );
        assert_eq!(at(0), OnlineStatus::Active);
        assert_eq!(at(120), OnlineStatus::Active);
        assert_eq!(at(121), OnlineStatus::RecentlyInactive);
        assert_eq!(at(900), OnlineStatus::RecentlyInactive);
        assert_eq!(at(901), OnlineStatus::Inactive);
        assert_eq!(t.write_every(), Duration::minutes(1));
    }

    #[test]
    fn r13_thresholds_are_checked() {
        let e = PresenceThresholds::new(Duration::zero(), Duration::minutes(1)).unwrap_err();
        assert_eq!(e.field(), Some("active"));
        let e = PresenceThresholds::new(Duration::minutes(5), Duration::minutes(5)).unwrap_err();
        assert_eq!(e.field(), Some("recent"));
        let t = PresenceThresholds::new(Duration::seconds(30), Duration::minutes(5)).unwrap();
        assert_eq!(
            (t.active(), t.recent()),
            (Duration::seconds(30), Duration::minutes(5))
        );
    }
}
