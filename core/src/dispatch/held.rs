//! Quiet hours (N9): entries due while their recipient's send window is closed wait for
//! its opening, and what waited for one recipient goes out then as one message.
//!
//! The rule, for the entries of one recipient whose window has opened:
//! 1. what is no longer needed is left out and marked skipped (`*`): a reminder or a
//!    notice of a task done, archived or no longer theirs, an assignment taken back;
//! 2. each address gets the messages the recipient's preferences let through on its
//!    channel and that did not reach it yet, merged into one: reminders into grouped
//!    reminders, publication notices into one notice, anything else into a digest;
//! 3. the merged message's idempotency key is made from its members' keys (the same
//!    members make the same key, so a retry of the same members is recognised as the same
//!    message; a member that joins later makes a new one);
//! 4. each member takes the outcomes of the messages it went in: sent, or due again (all
//!    the members due again at the same time, so they stay together), or dead.
//!
//! A claim brings a recipient's waiting entries along with the first of them
//! ([`OutboxStore::claim_outbox`](crate::store::OutboxStore::claim_outbox)), so however
//! many dispatchers claim at the opening, one of them holds them all; what waits longer
//! than one claim's bringing (more than [`WAITING_TOGETHER`](crate::store::WAITING_TOGETHER))
//! goes in a next message.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::delivery::{Outcome, give_up, settle};
use super::*;
use crate::progress::{Progress, ProgressStatus};
use crate::task::TaskState;

/// The idempotency key of the message that carries `keys` together: the member's own key
/// for one, else one made from all of them, whatever their order.
pub(super) fn together_key(keys: &[&str]) -> String {
    if let [one] = keys {
        return (*one).to_owned();
    }
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut hash = Sha256::new();
    for k in sorted {
        hash.update(k.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("together:{hex}")
}

/// Messages sent together as one: reminders grouped, publication notices as one notice,
/// anything else a digest. `None` when there is nothing.
pub(super) fn merge(mut messages: Vec<Notification>) -> Option<Notification> {
    if messages.len() <= 1 {
        return messages.pop();
    }
    let reminders = messages.iter().all(|m| {
        matches!(
            m,
            Notification::Reminder { .. } | Notification::Reminders { .. }
        )
    });
    if reminders {
        let mut items: Vec<_> = messages.iter().flat_map(|m| m.reminder_items()).collect();
        items.sort_by_key(|i| (i.deadline, i.task, i.owner));
        // Each task of each owner once (its earliest deadline), wherever it sorts.
        let mut seen = std::collections::HashSet::new();
        items.retain(|i| seen.insert((i.task, i.owner)));
        return Some(Notification::Reminders { items });
    }
    if messages
        .iter()
        .all(|m| matches!(m, Notification::Publication { .. }))
    {
        let mut tasks = Vec::new();
        for m in &messages {
            if let Notification::Publication { tasks: t } = m {
                for id in t {
                    if !tasks.contains(id) {
                        tasks.push(*id);
                    }
                }
            }
        }
        return Some(Notification::Publication { tasks });
    }
    Some(Notification::Digest { messages })
}

/// What is still worth saying of `message` to `recipient`, given the tasks and the rows of
/// the owners it names: `None` when nothing is (the task was done, archived, taken back).
pub(super) fn still_needed(
    message: &Notification,
    recipient: ParticipantId,
    tasks: &HashMap<TaskId, Task>,
    rows: &HashMap<(ParticipantId, TaskId), Progress>,
) -> Option<Notification> {
    let live = |task: &TaskId| {
        tasks
            .get(task)
            .is_some_and(|t| t.state == TaskState::Published)
    };
    let open = |owner: ParticipantId, task: &TaskId| {
        live(task)
            && rows
                .get(&(owner, *task))
                .is_some_and(|r| r.targeted && r.status == ProgressStatus::Todo)
    };
    match message {
        Notification::Publication { tasks } => {
            let tasks: Vec<TaskId> = tasks
                .iter()
                .filter(|t| open(recipient, t))
                .copied()
                .collect();
            (!tasks.is_empty()).then_some(Notification::Publication { tasks })
        }
        Notification::Assignment { task, owner } => (open(*owner, task)
            && rows
                .get(&(*owner, *task))
                .is_some_and(|r| r.assignee == Some(recipient)))
        .then(|| message.clone()),
        Notification::Nudge { task, owner }
        | Notification::ReviewRejected { task, owner, .. }
        | Notification::Reminder { task, owner, .. } => open(*owner, task).then(|| message.clone()),
        Notification::Reminders { items } => {
            let items: Vec<_> = items
                .iter()
                .filter(|i| open(i.owner, &i.task))
                .cloned()
                .collect();
            match items.len() {
                0 => None,
                1 => items.into_iter().next().map(|i| Notification::Reminder {
                    task: i.task,
                    owner: i.owner,
                    slot: i.slot,
                    deadline: i.deadline,
                }),
                _ => Some(Notification::Reminders { items }),
            }
        }
        Notification::Digest { messages } => merge(
            messages
                .iter()
                .filter_map(|m| still_needed(m, recipient, tasks, rows))
                .collect(),
        ),
    }
}

impl<S: Store + ?Sized, C: Clock> Dispatcher<S, C> {
    /// When `entry` must wait for its recipient's send window (N9): its next opening, or
    /// `None` to send it now (no window, a kind that bypasses it, or open).
    pub(super) fn opening(
        &self,
        ctx: &Context,
        entry: &OutboxEntry,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let event = ctx.event.as_ref()?;
        let window = event.settings.notifications.window.as_ref()?;
        if !window.holds(entry.message.kind()) {
            return None;
        }
        let recipient = ctx.people.get(&entry.recipient)?;
        let zone = recipient
            .status
            .time_zone
            .unwrap_or(event.settings.time_zone);
        window.next_opening(now, zone)
    }

    /// The rows of the owners `entries` name, for their tasks: what tells a message that
    /// is no longer needed.
    pub(super) async fn rows_of(
        &self,
        event: EventId,
        entries: &[OutboxEntry],
    ) -> Result<HashMap<(ParticipantId, TaskId), Progress>> {
        let mut owners: Vec<ParticipantId> = Vec::new();
        let mut tasks: Vec<TaskId> = Vec::new();
        for e in entries {
            owners.push(e.recipient);
            owners.extend(e.message.owners());
            for line in compose::digest_lines(&e.message) {
                tasks.push(line.task);
            }
        }
        owners.sort();
        owners.dedup();
        tasks.sort();
        tasks.dedup();
        let states = self
            .service
            .store()
            .participant_slices(event, &owners, &tasks)
            .await?;
        Ok(states
            .into_iter()
            .flat_map(|s| {
                s.progress
                    .into_values()
                    .map(|p| ((p.owner, p.task), p))
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    /// Sends what waited for one recipient (`members`, all theirs, all due now) as one
    /// message per set of addresses, and settles every member (the rule of this module).
    pub(super) async fn deliver_together(
        &self,
        ctx: &Context,
        rows: &HashMap<(ParticipantId, TaskId), Progress>,
        members: &mut [OutboxEntry],
        gone: &mut Vec<(EventId, ParticipantId, String)>,
    ) {
        let now = self.service.clock().now();
        let Some(first) = members.first() else {
            return;
        };
        let recipient_id = first.recipient;
        let (Some(event), Some(recipient)) = (&ctx.event, ctx.people.get(&recipient_id)) else {
            for m in members.iter_mut() {
                m.lease = None;
                give_up(m, now, "the event or the recipient no longer exists");
            }
            return;
        };
        // 1. What is still worth saying.
        let mut live: Vec<(usize, Notification)> = Vec::new();
        for (i, m) in members.iter_mut().enumerate() {
            m.lease = None;
            m.skipped.clear();
            match still_needed(&m.message, recipient_id, &ctx.tasks, rows) {
                Some(n) => live.push((i, n)),
                None => {
                    m.skipped.insert(
                        "*".into(),
                        "no longer needed when the send window opened".into(),
                    );
                    m.state = OutboxState::Skipped;
                    m.finished_at = Some(now);
                    m.not_before = None;
                    m.last_error = None;
                }
            }
        }
        if live.is_empty() {
            return;
        }
        // 2. Per address, the members it takes; addresses taking the same members share
        // one message.
        let reachable = addresses(event, recipient, |c| self.notifiers.contains_key(&c));
        if reachable.is_empty() {
            for (i, _) in &live {
                give_up(
                    &mut members[*i],
                    now,
                    "no enabled channel with an adapter reaches the recipient",
                );
            }
            return;
        }
        let defaults = &event.settings.notifications;
        let mut sets: BTreeMap<Vec<usize>, Vec<Address>> = BTreeMap::new();
        for address in reachable {
            let key = OutboxEntry::address_key(&address);
            let mut takes = Vec::new();
            for (i, _) in &live {
                let m = &mut members[*i];
                if m.delivered.contains(&key) {
                    continue;
                }
                let kind = m.message.kind();
                if recipient
                    .notifications
                    .allows(defaults, kind, address.channel())
                {
                    takes.push(*i);
                } else {
                    m.skipped.insert(
                        key.clone(),
                        format!(
                            "{} messages are off on {} for the recipient",
                            kind.preference_kind().as_str(),
                            address.channel()
                        ),
                    );
                }
            }
            if !takes.is_empty() {
                sets.entry(takes).or_default().push(address);
            }
        }
        // 3. One message per set, keyed by its members.
        let mut outcomes: BTreeMap<usize, Outcome> = BTreeMap::new();
        let sent_in: std::collections::BTreeSet<usize> = sets.keys().flatten().copied().collect();
        for (takes, addresses) in sets {
            let keys: Vec<&str> = takes
                .iter()
                .map(|i| members[*i].idempotency_key.as_str())
                .collect();
            let key = together_key(&keys);
            let messages: Vec<Notification> = live
                .iter()
                .filter(|(i, _)| takes.contains(i))
                .map(|(_, n)| n.clone())
                .collect();
            let Some(message) = merge(messages) else {
                continue;
            };
            let mut draft = members[takes[0]].clone();
            draft.message = message;
            draft.idempotency_key = key;
            // Each member takes the outcomes of the messages it went in, and only those.
            let mut outcome = Outcome::default();
            match self.compose().render(ctx, event, recipient, &draft, now) {
                Ok(rendered) => {
                    for address in addresses {
                        if self
                            .send_one(&address, &rendered, &mut outcome, gone, &draft)
                            .await
                        {
                            let key = OutboxEntry::address_key(&address);
                            for i in &takes {
                                members[*i].delivered.insert(key.clone());
                            }
                        }
                    }
                }
                Err(e) => outcome.permanent = Some(format!("rendering failed: {e}")),
            }
            for i in &takes {
                outcomes.entry(*i).or_default().absorb(&outcome);
            }
        }
        // 4. Every live member takes its outcomes; those due again stay due together. One that no
        // address took was held back everywhere (or had reached every address already).
        let mut due_again = None;
        for (i, _) in &live {
            let m = &mut members[*i];
            if !sent_in.contains(i) {
                m.state = if m.delivered.is_empty() {
                    OutboxState::Skipped
                } else {
                    OutboxState::Sent
                };
                m.finished_at = Some(now);
                m.not_before = None;
                m.last_error = None;
                continue;
            }
            settle(m, outcomes.remove(i).unwrap_or_default(), &self.config, now);
            if m.state == OutboxState::Pending {
                let at = *due_again.get_or_insert(m.not_before);
                m.not_before = at;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reminder(task: TaskId, owner: ParticipantId, hours: i64) -> Notification {
        use chrono::TimeZone;
        Notification::Reminder {
            task,
            owner,
            slot: ReminderSlot::Overdue,
            deadline: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
                + chrono::Duration::hours(hours),
        }
    }

    /// N9, N7: reminders merge into grouped reminders (by deadline, each task once),
    /// notices into one notice, anything else into a digest.
    #[test]
    fn n9_what_waited_merges_by_kind() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let (a, b) = (TaskId::new_at(now), TaskId::new_at(now));
        let p = ParticipantId::new_at(now);
        assert_eq!(merge(Vec::new()), None);
        let one = reminder(a, p, 1);
        assert_eq!(merge(vec![one.clone()]), Some(one.clone()));
        let Some(Notification::Reminders { items }) =
            merge(vec![reminder(b, p, 5), one.clone(), reminder(a, p, 1)])
        else {
            panic!("grouped reminders")
        };
        assert_eq!(items.iter().map(|i| i.task).collect::<Vec<_>>(), vec![a, b]);
        let notices = merge(vec![
            Notification::Publication { tasks: vec![a] },
            Notification::Publication { tasks: vec![b, a] },
        ]);
        assert_eq!(
            notices,
            Some(Notification::Publication { tasks: vec![a, b] })
        );
        let mixed = merge(vec![Notification::Publication { tasks: vec![a] }, one]);
        assert!(matches!(mixed, Some(Notification::Digest { messages }) if messages.len() == 2));
    }

    /// N9: the same members make the same key, whatever their order; one member keeps
    /// its own.
    #[test]
    fn n9_together_key_is_made_from_the_members() {
        assert_eq!(together_key(&["a"]), "a");
        let ab = together_key(&["a", "b"]);
        assert_eq!(ab, together_key(&["b", "a"]));
        assert!(ab.starts_with("together:") && ab.len() == 41, "{ab}");
        assert_ne!(ab, together_key(&["a", "b", "c"]));
        assert_ne!(together_key(&["ab", "c"]), together_key(&["a", "bc"]));
    }
}
