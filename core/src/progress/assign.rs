//! Handing a task to a collaborator and taking it back (P4): what it does to the row.
//! Who may hold a task (the owner's team, one level deep) is the team's rule
//! (`participant::team`). Pure.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Progress, ProgressStatus, transition::Hand};
use crate::error::{Error, Result};
use crate::ids::{ParticipantId, TaskId};

/// What handing a row over changed (P4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handover {
    /// Nothing: the row already is where it was asked to go.
    Unchanged,
    /// Handed to a collaborator; `from` held it before (a reassignment), if anyone did.
    Assigned {
        /// Who held it before.
        from: Option<ParticipantId>,
    },
    /// Back with the owner, from the collaborator who held it.
    TakenBack {
        /// Who held it.
        from: ParticipantId,
    },
}

impl Hand {
    /// Refuses the holder's hand on what only the task's owner (or an organizer) does to
    /// it, such as assigning it or taking it back: `Forbidden`, saying "only the task's
    /// owner can `what`".
    pub(crate) fn require_owner(self, what: &str) -> Result<()> {
        match self {
            Hand::Holder => Err(Error::forbidden(format!(
                "only the task's owner can {what}"
            ))),
            Hand::Staff | Hand::Owner => Ok(()),
        }
    }
}

impl Progress {
    /// Hands the row to `assignee` (P4), or to another collaborator (a reassignment). A
    /// submission waiting for review stays submitted; any other submission is forgotten,
    /// since the new holder starts from the row as it is. Assigning it to the one
    /// already holding it changes nothing.
    pub(crate) fn assign(&mut self, assignee: ParticipantId, now: DateTime<Utc>) -> Handover {
        if self.assignee == Some(assignee) {
            return Handover::Unchanged;
        }
        let from = self.assignee.replace(assignee);
        self.updated_at = now;
        if self.status != ProgressStatus::AwaitingReview {
            self.submitted = None;
        }
        Handover::Assigned { from }
    }

    /// Takes the row back from the collaborator holding it (P4); its status and its
    /// submission stay as they are. Taking back a row no one holds changes nothing.
    pub(crate) fn take_back(&mut self, now: DateTime<Utc>) -> Handover {
        match self.assignee.take() {
            Some(from) => {
                self.updated_at = now;
                Handover::TakenBack { from }
            }
            None => Handover::Unchanged,
        }
    }
}

/// Takes back every row of `rows` that `from` holds (P4: a collaborator leaving the
/// owner's team gives back what they held), and returns their tasks in task order.
pub(crate) fn take_back_all(
    rows: &mut BTreeMap<TaskId, Progress>,
    from: ParticipantId,
    now: DateTime<Utc>,
) -> Vec<TaskId> {
    rows.values_mut()
        .filter(|row| row.assignee == Some(from))
        .filter_map(|row| match row.take_back(now) {
            Handover::TakenBack { .. } => Some(row.task),
            Handover::Unchanged | Handover::Assigned { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::progress::{CompletedHow, Completion};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn person(n: i64) -> ParticipantId {
        ParticipantId::new_at(at(n))
    }

    fn row(status: ProgressStatus, holder: Option<ParticipantId>) -> Progress {
        let mut row = Progress::new(TaskId::new_at(at(0)), person(0), at(0));
        row.status = status;
        row.assignee = holder;
        row.submitted = Some(Completion {
            at: at(1),
            by: Actor::System,
            how: CompletedHow::Manual,
        });
        row
    }

    /// One row of the assign table: the status, who holds the row, to whom it is
    /// assigned, what changed, and whether a submission is kept.
    type AssignRow = (
        ProgressStatus,
        Option<ParticipantId>,
        ParticipantId,
        Handover,
        bool,
    );

    /// Every (status, holder, assignee) of an assignment, one per line.
    #[rustfmt::skip]
    fn assign_table(a: ParticipantId, b: ParticipantId) -> Vec<AssignRow> {
        use ProgressStatus::{AwaitingReview as Review, Done, Todo};
        use Handover::{Assigned, Unchanged};
        vec![
            (Todo, None, a, Assigned { from: None }, false),
            (Done, None, a, Assigned { from: None }, false),
            (Review, None, a, Assigned { from: None }, true),
            (Todo, Some(a), b, Assigned { from: Some(a) }, false),
            (Done, Some(a), b, Assigned { from: Some(a) }, false),
            (Review, Some(a), b, Assigned { from: Some(a) }, true),
            (Todo, Some(a), a, Unchanged, true),
            (Review, Some(a), a, Unchanged, true),
        ]
    }

    /// P4: what assigning does to a row, for every status and holder.
    #[test]
    fn p4_assigning_a_row() {
        let table = assign_table(person(1), person(2));
        for (status, holder, to, want, kept) in table {
            let case = format!("{status:?} held by {holder:?}, to {to:?}");
            let mut r = row(status, holder);
            let before = r.clone();
            assert_eq!(r.assign(to, at(10)), want, "{case}");
            assert_eq!(r.assignee, Some(to), "{case}");
            assert_eq!(r.status, status, "{case}: the status stays");
            assert_eq!(r.submitted.is_some(), kept, "{case}");
            if want == Handover::Unchanged {
                assert_eq!(r, before, "{case}: nothing changes");
            } else {
                assert_eq!(r.updated_at, at(10), "{case}");
            }
        }
    }

    /// P4: taking a row back, and the holder's hand refused on assigning and taking back.
    #[test]
    fn p4_taking_a_row_back() {
        let a = person(1);
        let table: Vec<(Option<ParticipantId>, Handover)> = vec![
            (Some(a), Handover::TakenBack { from: a }),
            (None, Handover::Unchanged),
        ];
        for (holder, want) in table {
            let mut r = row(ProgressStatus::AwaitingReview, holder);
            let before = r.clone();
            assert_eq!(r.take_back(at(10)), want, "{holder:?}");
            assert_eq!(r.assignee, None);
            assert_eq!(r.status, before.status, "the status stays");
            assert_eq!(r.submitted, before.submitted, "the submission stays");
            let moved = if holder.is_some() { at(10) } else { at(0) };
            assert_eq!(r.updated_at, moved, "{holder:?}");
        }
        let table: Vec<(Hand, bool)> = vec![
            (Hand::Staff, true),
            (Hand::Owner, true),
            (Hand::Holder, false),
        ];
        for (hand, allowed) in table {
            match hand.require_owner("assign it") {
                Ok(()) => assert!(allowed, "{hand:?}"),
                Err(Error::Forbidden { reason }) => {
                    assert!(!allowed, "{hand:?}");
                    assert_eq!(reason, "only the task's owner can assign it");
                }
                Err(other) => panic!("{hand:?}: {other:?}"),
            }
        }
    }

    /// P4: a collaborator leaving the team gives back what they held, and only that.
    #[test]
    fn p4_unlinking_takes_back_every_row_held() {
        let (a, b) = (person(1), person(2));
        let holders = [Some(a), None, Some(b), Some(a)];
        let mut rows: BTreeMap<TaskId, Progress> = holders
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let mut r = row(ProgressStatus::Todo, *h);
                r.task = TaskId::new_at(at(i as i64 + 100));
                (r.task, r)
            })
            .collect();
        let ids: Vec<TaskId> = rows.keys().copied().collect();
        let taken = take_back_all(&mut rows, a, at(10));
        assert_eq!(taken, [ids[0], ids[3]]);
        let after: Vec<Option<ParticipantId>> = rows.values().map(|r| r.assignee).collect();
        assert_eq!(after, [None, None, Some(b), None]);
        assert_eq!(
            rows[&ids[2]].updated_at,
            at(0),
            "another holder's row is untouched"
        );
        assert!(
            take_back_all(&mut rows, a, at(11)).is_empty(),
            "twice is nothing"
        );
    }
}
