//! The reminder schedule (N3): the offsets an event or a task sets, and which reminder is
//! due for a task and recipient at a time.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How long before a deadline a reminder goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReminderOffset(u32);

impl ReminderOffset {
    /// The longest accepted offset: a year.
    pub const MAX_SECONDS: u32 = 366 * 24 * 3600;

    /// An offset of `seconds`.
    pub const fn seconds(seconds: u32) -> Self {
        Self(seconds)
    }
    /// An offset of `hours`.
    pub const fn hours(hours: u32) -> Self {
        Self(hours.saturating_mul(3600))
    }
    /// An offset of `days`.
    pub const fn days(days: u32) -> Self {
        Self(days.saturating_mul(24 * 3600))
    }
    /// The offset in seconds.
    pub const fn as_seconds(self) -> u32 {
        self.0
    }
    /// The offset as a duration.
    pub fn as_duration(self) -> Duration {
        Duration::seconds(i64::from(self.0))
    }
}

/// When reminders go out (N3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPolicy {
    /// Offsets before the deadline, e.g. 7 days and 1 day.
    pub offsets: Vec<ReminderOffset>,
    /// Whether one more reminder goes out once the deadline has passed.
    pub overdue: bool,
}

impl ReminderPolicy {
    /// Checks the offsets: each between 1 second and a year, no repeats, at most 10.
    pub fn validate(&self) -> Result<()> {
        if self.offsets.len() > 10 {
            return Err(Error::invalid("offsets", "at most 10 reminder offsets"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for o in &self.offsets {
            if o.0 == 0 || o.0 > ReminderOffset::MAX_SECONDS {
                return Err(Error::invalid(
                    "offsets",
                    "each offset must be between 1 second and 366 days",
                ));
            }
            if !seen.insert(o) {
                return Err(Error::invalid(
                    "offsets",
                    format!("offset of {} seconds is listed twice", o.0),
                ));
            }
        }
        Ok(())
    }
}

/// Which reminder of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "seconds", rename_all = "snake_case")]
pub enum ReminderSlot {
    /// `offset` before the deadline.
    Before(ReminderOffset),
    /// Once, after the deadline passed.
    Overdue,
}

impl ReminderSlot {
    /// A short stable key (`before-604800`, `overdue`).
    pub fn key(self) -> String {
        match self {
            Self::Before(o) => format!("before-{}", o.as_seconds()),
            Self::Overdue => "overdue".to_owned(),
        }
    }
}

/// A reminder sent for a task, kept on its progress row so it goes out at most once per
/// (task, recipient, slot, deadline) (N3), even when two ticks race: the row is versioned
/// with its owner's state, so the slower tick conflicts and sees the mark on its retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReminderMark {
    /// Which reminder.
    pub slot: ReminderSlot,
    /// Who got it (the assignee when the task was assigned).
    pub recipient: crate::ids::ParticipantId,
    /// The deadline it reminded of (a moved deadline arms the reminders again).
    pub deadline: DateTime<Utc>,
}

/// One reminder of a grouped message (N7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReminderItem {
    /// The task.
    pub task: crate::ids::TaskId,
    /// Its owner.
    pub owner: crate::ids::ParticipantId,
    /// Which reminder.
    pub slot: ReminderSlot,
    /// The deadline it reminds of.
    pub deadline: DateTime<Utc>,
}

/// The reminder due at `now` for an incomplete task with `deadline`, if any.
///
/// Only the most relevant slot is returned: the closest-to-deadline offset whose time has
/// come, or [`ReminderSlot::Overdue`] after the deadline when `overdue` is on. So a host that
/// was down past several offsets sends one reminder that is still relevant, not a burst of
/// stale ones ("7 days left" when one day is left). The caller sends it at most once per
/// (task, recipient, slot, deadline). Pure: completion and assignment are the caller's.
pub fn due_reminder(
    deadline: DateTime<Utc>,
    offsets: &[ReminderOffset],
    overdue: bool,
    now: DateTime<Utc>,
) -> Option<ReminderSlot> {
    if now >= deadline {
        return overdue.then_some(ReminderSlot::Overdue);
    }
    offsets
        .iter()
        .filter(|o| {
            deadline
                .checked_sub_signed(o.as_duration())
                .is_none_or(|at| at <= now)
        })
        .min()
        .map(|o| ReminderSlot::Before(*o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, TimeZone};

    #[test]
    fn n3_schedule_picks_the_closest_relevant_offset() {
        let deadline = Utc.with_ymd_and_hms(2026, 6, 10, 12, 0, 0).unwrap();
        let offsets = [ReminderOffset::days(7), ReminderOffset::days(1)];
        let at = |d: Duration| deadline - d;
        assert_eq!(
            due_reminder(deadline, &offsets, true, at(Duration::days(8))),
            None
        );
        assert_eq!(
            due_reminder(deadline, &offsets, true, at(Duration::days(6))),
            Some(ReminderSlot::Before(ReminderOffset::days(7)))
        );
        assert_eq!(
            due_reminder(deadline, &offsets, true, at(Duration::hours(2))),
            Some(ReminderSlot::Before(ReminderOffset::days(1))),
            "after a long outage only the still relevant reminder is due"
        );
        assert_eq!(
            due_reminder(deadline, &offsets, true, deadline + Duration::hours(1)),
            Some(ReminderSlot::Overdue)
        );
        assert_eq!(
            due_reminder(deadline, &offsets, false, deadline + Duration::hours(1)),
            None
        );
        // Extreme values neither panic nor wrap.
        let far = DateTime::<Utc>::MIN_UTC;
        assert_eq!(due_reminder(far, &offsets, false, far), None);
        assert_eq!(ReminderOffset::days(u32::MAX).as_seconds(), u32::MAX);
    }
}
