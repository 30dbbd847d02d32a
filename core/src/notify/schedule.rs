//! The reminder schedule (N3, N7): the offsets an event or a task sets, which reminder is
//! due for a task and recipient at a time, and how the reminders due together are grouped
//! into one message per recipient.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::Notification;
use crate::error::{Error, Result};
use crate::ids::ParticipantId;

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

impl ReminderSlot {
    /// The reminder to send `recipient` for an incomplete task with `deadline` (N3),
    /// given the marks of the reminders already `sent` for the row: the slot
    /// [`due_reminder`] gives at `now` unless it went to them for this deadline already
    /// (`true`: due now), else the slot due by `soon`, the end of the grouping window,
    /// unless it went already (`false`: it may only go with a reminder due now, N7).
    /// `None` when neither is left to send.
    pub(crate) fn next_for(
        recipient: ParticipantId,
        deadline: DateTime<Utc>,
        offsets: &[ReminderOffset],
        overdue: bool,
        sent: &[ReminderMark],
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> Option<(Self, bool)> {
        let unsent = |slot: &ReminderSlot| {
            !sent
                .iter()
                .any(|m| m.slot == *slot && m.recipient == recipient && m.deadline == deadline)
        };
        if let Some(slot) = due_reminder(deadline, offsets, overdue, now).filter(unsent) {
            return Some((slot, true));
        }
        due_reminder(deadline, offsets, overdue, soon)
            .filter(unsent)
            .map(|slot| (slot, false))
    }
}

impl ReminderSlot {
    /// The earliest instant a reminder of a row can fall due (N3): the start of the first
    /// slot after the last one already sent to `recipient` for this deadline (slots in the
    /// order time reaches them: the offsets from the largest, then overdue when the event
    /// asks for it). `None` when no slot is left. It does not depend on the time it is
    /// asked at, so a row keeps it until the row, its task's deadline or the offsets
    /// change; and since a mark is only made while its slot is the one due, a reminder due
    /// at any instant `t` has `next_due(…) <= t`: an index of rows by this instant finds
    /// every row with a reminder due (and, past the last mark, only those).
    pub(crate) fn next_due(
        recipient: ParticipantId,
        deadline: DateTime<Utc>,
        offsets: &[ReminderOffset],
        overdue: bool,
        sent: &[ReminderMark],
    ) -> Option<DateTime<Utc>> {
        let mut slots: Vec<(DateTime<Utc>, ReminderSlot)> = offsets
            .iter()
            .map(|o| {
                let at = deadline
                    .checked_sub_signed(o.as_duration())
                    .unwrap_or(DateTime::<Utc>::MIN_UTC);
                (at, ReminderSlot::Before(*o))
            })
            .collect();
        // Equal instants (offsets reaching before the earliest date): the smaller offset
        // is the one `due_reminder` gives, so it comes last.
        slots.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        if overdue {
            slots.push((deadline, ReminderSlot::Overdue));
        }
        let sent_to = |slot: ReminderSlot| {
            sent.iter()
                .any(|m| m.slot == slot && m.recipient == recipient && m.deadline == deadline)
        };
        let next = slots
            .iter()
            .rposition(|(_, slot)| sent_to(*slot))
            .map_or(0, |last| last + 1);
        slots.get(next).map(|(at, _)| *at)
    }
}

impl ReminderItem {
    /// The mark this reminder leaves on its row once sent to `recipient` (N3).
    pub(crate) fn mark(&self, recipient: ParticipantId) -> ReminderMark {
        ReminderMark {
            slot: self.slot,
            recipient,
            deadline: self.deadline,
        }
    }

    /// Groups reminders per recipient (N7), in recipient order, from (recipient,
    /// reminder, due now) triples: a recipient gets nothing unless one of theirs is due
    /// now, and then everything due within the window goes with it, by deadline then
    /// task (reminders that tie keep the order they came in). No group is empty.
    pub(crate) fn group(
        candidates: impl IntoIterator<Item = (ParticipantId, ReminderItem, bool)>,
    ) -> Vec<(ParticipantId, Vec<ReminderItem>)> {
        let mut by_recipient: BTreeMap<ParticipantId, Vec<(ReminderItem, bool)>> = BTreeMap::new();
        for (recipient, item, due_now) in candidates {
            by_recipient
                .entry(recipient)
                .or_default()
                .push((item, due_now));
        }
        by_recipient
            .into_iter()
            .filter(|(_, group)| group.iter().any(|(_, due_now)| *due_now))
            .map(|(recipient, mut group)| {
                group.sort_by_key(|(item, _)| (item.deadline, item.task));
                (recipient, group.into_iter().map(|(item, _)| item).collect())
            })
            .collect()
    }
}

impl Notification {
    /// The message of the reminders going together to `recipient` (N7), and its
    /// idempotency key: one reminder alone is a [`Notification::Reminder`] keyed by
    /// [`Notification::reminder_key`]; several are one [`Notification::Reminders`] keyed
    /// `reminders:` and the first one's key (unique: the first item is marked sent, so it
    /// starts no other group). `items` is not empty.
    pub(crate) fn reminders_to(recipient: ParticipantId, items: &[ReminderItem]) -> (Self, String) {
        let first = items[0];
        let first_key = Notification::reminder_key(
            first.task,
            first.owner,
            recipient,
            first.slot,
            first.deadline,
        );
        if let [only] = items {
            let message = Notification::Reminder {
                task: only.task,
                owner: only.owner,
                slot: only.slot,
                deadline: only.deadline,
            };
            (message, first_key)
        } else {
            let items = items.to_vec();
            (
                Notification::Reminders { items },
                format!("reminders:{first_key}"),
            )
        }
    }
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

    fn id(n: i64) -> ParticipantId {
        ParticipantId::new_at(DateTime::<Utc>::from_timestamp(1_800_000_000 + n, 0).unwrap())
    }

    /// One row of the next-reminder table: how long before the deadline it is, the
    /// grouping window, whether the overdue reminder is on, the marks already on the
    /// row, and the reminder (its slot, and whether it is due now).
    type NextRow = (
        i64,
        i64,
        bool,
        Vec<ReminderMark>,
        Option<(ReminderSlot, bool)>,
    );

    /// The next-reminder cases in hours, one per line, for the offsets 7 days and 1 day
    /// of a `deadline`, for the recipient `me` (`other` is someone else).
    #[rustfmt::skip]
    fn next_table(deadline: DateTime<Utc>, me: ParticipantId, other: ParticipantId) -> Vec<NextRow> {
        use ReminderSlot::{Before, Overdue};
        let (d7, d1) = (ReminderOffset::days(7), ReminderOffset::days(1));
        let to = |slot, recipient| ReminderMark { slot, recipient, deadline };
        let moved = ReminderMark { slot: Before(d7), recipient: me, deadline: deadline + Duration::days(3) };
        vec![
            (8 * 24, 1, true, vec![], None),
            (8 * 24, 2 * 24, true, vec![], Some((Before(d7), false))),
            (6 * 24, 1, true, vec![], Some((Before(d7), true))),
            (6 * 24, 1, true, vec![to(Before(d7), me)], None),
            (6 * 24, 140, true, vec![to(Before(d7), me)], Some((Before(d1), false))),
            (6 * 24, 1, true, vec![to(Before(d7), other)], Some((Before(d7), true))),
            (6 * 24, 1, true, vec![moved], Some((Before(d7), true))),
            (2, 1, true, vec![], Some((Before(d1), true))),
            (2, 3, true, vec![to(Before(d1), me)], Some((Overdue, false))),
            (2, 3, false, vec![to(Before(d1), me)], None),
            (-1, 1, true, vec![], Some((Overdue, true))),
            (-1, 1, true, vec![to(Overdue, me)], None),
            (-1, 1, false, vec![], None),
        ]
    }

    /// N3: which slot goes out now, which only with a reminder due now (N7), and none
    /// twice to the same recipient for the same deadline (a moved deadline arms them).
    #[test]
    fn n3_the_next_reminder_of_a_row() {
        let deadline = Utc.with_ymd_and_hms(2026, 6, 10, 12, 0, 0).unwrap();
        let offsets = [ReminderOffset::days(7), ReminderOffset::days(1)];
        let me = id(1);
        for (before, window, overdue, sent, want) in next_table(deadline, me, id(2)) {
            let now = deadline - Duration::hours(before);
            let soon = now + Duration::hours(window);
            let got = ReminderSlot::next_for(me, deadline, &offsets, overdue, &sent, now, soon);
            let case = format!("{before}h before, window {window}h, overdue {overdue}, {sent:?}");
            assert_eq!(got, want, "{case}");
        }
    }

    /// N7: reminders go to each recipient as one message when one is due now, by
    /// deadline then task, and not at all otherwise.
    #[test]
    fn n7_reminders_are_grouped_per_recipient() {
        let deadline = |h| Utc.with_ymd_and_hms(2026, 6, 10, h, 0, 0).unwrap();
        // Made once: an id is new at each call.
        let ids: Vec<crate::ids::TaskId> = (0..5)
            .map(|n| crate::ids::TaskId::new_at(deadline(0) + Duration::seconds(n)))
            .collect();
        let task = |n: usize| ids[n];
        let (a, b, c, owner) = (id(1), id(2), id(3), id(9));
        let item = |t, h| ReminderItem {
            task: task(t),
            owner,
            slot: ReminderSlot::Overdue,
            deadline: deadline(h),
        };
        let due = |recipient, t, h, due_now| (recipient, item(t, h), due_now);
        // (what each row could get: recipient, task, deadline hour, due now; the groups)
        type Candidates = Vec<(ParticipantId, ReminderItem, bool)>;
        type Groups = Vec<(ParticipantId, Vec<ReminderItem>)>;
        let table: Vec<(Candidates, Groups)> = vec![
            (vec![], vec![]),
            (vec![due(a, 1, 5, false)], vec![]),
            (vec![due(a, 1, 5, true)], vec![(a, vec![item(1, 5)])]),
            (
                vec![due(a, 1, 9, false), due(a, 2, 5, true), due(a, 3, 5, false)],
                vec![(a, vec![item(2, 5), item(3, 5), item(1, 9)])],
            ),
            (
                vec![
                    due(c, 1, 5, true),
                    due(b, 2, 5, false),
                    due(a, 3, 5, true),
                    due(b, 4, 6, false),
                ],
                vec![(a, vec![item(3, 5)]), (c, vec![item(1, 5)])],
            ),
        ];
        for (candidates, want) in table {
            let case = format!("{candidates:?}");
            assert_eq!(ReminderItem::group(candidates), want, "{case}");
        }
    }

    /// N7: one reminder is a `Reminder` under its own key; several are one `Reminders`
    /// under the first one's key. N3: each leaves its mark for its recipient.
    #[test]
    fn n7_the_message_of_a_group() {
        let deadline = Utc.with_ymd_and_hms(2026, 6, 10, 12, 0, 0).unwrap();
        let (recipient, owner) = (id(1), id(2));
        let ids: Vec<crate::ids::TaskId> = (0..3)
            .map(|n| crate::ids::TaskId::new_at(deadline + Duration::seconds(n)))
            .collect();
        let item = |n: usize| ReminderItem {
            task: ids[n],
            owner,
            slot: ReminderSlot::Before(ReminderOffset::days(1)),
            deadline,
        };
        let first = item(1);
        let key = Notification::reminder_key(first.task, owner, recipient, first.slot, deadline);
        let table: Vec<(Vec<ReminderItem>, Notification, String)> = vec![
            (
                vec![first],
                Notification::Reminder {
                    task: first.task,
                    owner,
                    slot: first.slot,
                    deadline,
                },
                key.clone(),
            ),
            (
                vec![first, item(2)],
                Notification::Reminders {
                    items: vec![first, item(2)],
                },
                format!("reminders:{key}"),
            ),
        ];
        for (items, message, want_key) in table {
            let got = Notification::reminders_to(recipient, &items);
            assert_eq!(got, (message, want_key));
        }
        let mark = first.mark(recipient);
        assert_eq!(
            (mark.slot, mark.recipient, mark.deadline),
            (first.slot, recipient, deadline)
        );
    }

    proptest::proptest! {
        /// N3: ticks at increasing instants, each sending the reminder due then (and
        /// marking it), with the recipient and the deadline moving between them: at every
        /// tick a reminder is due exactly when the row's `next_due` has come and a slot is
        /// reached, so an index of rows by `next_due` misses no reminder and, past the last
        /// mark, finds no row with nothing due.
        #[test]
        fn n3_next_due_has_come_exactly_when_a_reminder_is_due(
            offsets in proptest::collection::btree_set(1u32..40, 0..4),
            overdue in proptest::bool::ANY,
            steps in proptest::collection::vec((1i64..15, 0u8..2, 0u8..2), 1..30),
        ) {
            let offsets: Vec<ReminderOffset> =
                offsets.into_iter().map(ReminderOffset::hours).collect();
            let start = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
            let people = [
                ParticipantId::new_at(start),
                ParticipantId::new_at(start + Duration::seconds(1)),
            ];
            let deadlines = [start + Duration::hours(30), start + Duration::hours(45)];
            let mut sent: Vec<ReminderMark> = Vec::new();
            let mut now = start;
            for (hours, who, which) in steps {
                now += Duration::hours(hours);
                let (recipient, deadline) = (people[who as usize], deadlines[which as usize]);
                let next = ReminderSlot::next_due(recipient, deadline, &offsets, overdue, &sent);
                let due = ReminderSlot::next_for(recipient, deadline, &offsets, overdue, &sent, now, now)
                    .filter(|(_, due_now)| *due_now);
                let reached = due_reminder(deadline, &offsets, overdue, now).is_some();
                proptest::prop_assert_eq!(
                    due.is_some(),
                    reached && next.is_some_and(|n| n <= now),
                    "next {:?} at {} (deadline {})", next, now, deadline
                );
                if let Some((slot, _)) = due {
                    sent.push(ReminderMark { slot, recipient, deadline });
                    let after = ReminderSlot::next_due(recipient, deadline, &offsets, overdue, &sent);
                    proptest::prop_assert!(after.is_none_or(|n| n > now), "sent: the next is later");
                }
            }
        }
    }
}
