//! Changes a participant's row takes by someone's hand: a tick or an undo, a submission
//! for review (P3, T3), and the organizer's decisions (T3, B5). Pure: each takes the row,
//! the task and who acts, and says what follows.

use chrono::{DateTime, Utc};

use super::{CompletedHow, Completion, Progress, ProgressStatus, Rejection};
use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::ids::ParticipantId;
use crate::notify::Notification;
use crate::task::Task;

/// Whose hand is on a participant's task row (P3, P4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hand {
    /// An organizer of the event, or the host.
    Staff,
    /// The participant who owns the task.
    Owner,
    /// The collaborator the owner handed the task to.
    Holder,
}

impl Hand {
    /// Whose hand `actor` is on the row of `owner` held by `holder`: a participant other
    /// than these two is `Forbidden` (the task belongs to someone else).
    pub(crate) fn of(
        actor: &Actor,
        owner: ParticipantId,
        holder: Option<ParticipantId>,
    ) -> Result<Self> {
        match actor {
            Actor::Participant { id, .. } if *id == owner => Ok(Self::Owner),
            Actor::Participant { id, .. } if holder == Some(*id) => Ok(Self::Holder),
            Actor::Participant { .. } => {
                Err(Error::forbidden("this task belongs to another participant"))
            }
            _ => Ok(Self::Staff),
        }
    }

    /// Whether it is an organizer's (or the host's) hand.
    pub(crate) fn is_staff(self) -> bool {
        self == Self::Staff
    }
}

/// Which way a tick by hand goes (P3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Marked done (by a participant on a task under review: submitted, T3).
    Done,
    /// Put back to do.
    Undo,
}

/// An organizer's decision on a participant's task (T3, B5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Done, by the organizer's hand.
    Validate,
    /// Back to do, by the organizer's hand.
    Invalidate,
    /// An automatic task follows its condition again.
    FollowCondition,
    /// A submission under review is accepted.
    Accept,
    /// A submission under review is refused, with the reason given to the participant.
    Reject(String),
}

impl Decision {
    /// The decision with its input checked: a rejection's reason is 1 to 1,000
    /// characters (`Invalid` on `reason`), which keeps every progress change well within
    /// what a live stream (PostgreSQL NOTIFY: 8,000 bytes) carries.
    pub(crate) fn validated(self) -> Result<Self> {
        match self {
            Decision::Reject(reason) => Ok(Decision::Reject(crate::text::required_lines(
                "reason", &reason, 1_000,
            )?)),
            other => Ok(other),
        }
    }
}

/// The refusal of a decision on a task that is not published to the participant (no
/// row, or a row the owner does not see): `Invalid` on `task`.
pub(crate) fn not_published() -> Error {
    Error::invalid("task", "this task is not published to this participant")
}

impl Progress {
    /// Ticks or unticks this row of a manual `task` by `hand` (P3) and says whether the
    /// row changed (ticking a done task, or unticking one to do, changes nothing).
    ///
    /// - An organizer's tick makes it done, validated by the organizer.
    /// - A participant's tick on a task under review submits it (T3): it awaits the
    ///   organizer's review and the last rejection is cleared; ticking a submission
    ///   again changes nothing. On any other task it makes it done.
    /// - An undo puts it back to do and withdraws a submission; a task an organizer
    ///   validated or accepted is reopened by an organizer only (`Forbidden` otherwise).
    ///
    /// An automatic task is refused with `Invalid` on `task`: its condition completes it.
    /// On a refusal the row is unchanged.
    pub(crate) fn tick(
        &mut self,
        task: &Task,
        tick: Tick,
        hand: Hand,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if task.condition().is_some() {
            return Err(Error::invalid(
                "task",
                "an automatic task completes from its condition and cannot be ticked by hand",
            ));
        }
        let staff = hand.is_staff();
        let by = |how| Completion {
            at: now,
            by: actor.clone(),
            how,
        };
        match (tick, self.status) {
            (Tick::Done, ProgressStatus::Done) | (Tick::Undo, ProgressStatus::Todo) => {
                return Ok(false);
            }
            (Tick::Done, ProgressStatus::AwaitingReview) if !staff => return Ok(false),
            (Tick::Done, _) if staff => {
                self.set_status(ProgressStatus::Done, Some(by(CompletedHow::Organizer)), now)
            }
            (Tick::Done, _) if task.config.review => {
                // T3: the participant's completion is a submission to the organizer.
                self.submitted = Some(by(CompletedHow::Manual));
                self.rejection = None;
                self.set_status(ProgressStatus::AwaitingReview, None, now);
            }
            (Tick::Done, _) => {
                self.set_status(ProgressStatus::Done, Some(by(CompletedHow::Manual)), now)
            }
            (Tick::Undo, _) => {
                let decided = self.completion.as_ref().is_some_and(|c| {
                    matches!(c.how, CompletedHow::Organizer | CompletedHow::Reviewed)
                });
                if decided && !staff {
                    return Err(Error::forbidden(
                        "an organizer validated this task; only an organizer can reopen it",
                    ));
                }
                self.submitted = None;
                self.set_status(ProgressStatus::Todo, None, now);
            }
        }
        Ok(true)
    }

    /// Applies an organizer's decision to this row of `task` (T3, B5) and returns the row
    /// as it was and the notices to queue (a rejection is told to the owner and the
    /// holder). Refused with `Invalid` on `task` when the task is not published to the
    /// owner or the decision does not fit its mode, and with `State` when the row's status
    /// does not allow it (accepting what awaits no review). On a refusal the row is
    /// unchanged.
    pub fn decide(
        &mut self,
        task: &Task,
        decision: &Decision,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Progress, Vec<(ParticipantId, Notification)>)> {
        if !(task.is_published() && self.targeted) {
            return Err(not_published());
        }
        let before = self.clone();
        let row = self;
        let by = |how| {
            Some(Completion {
                at: now,
                by: actor.clone(),
                how,
            })
        };
        let automatic = task.condition().is_some();
        let mut notices = Vec::new();
        match decision {
            Decision::Validate => {
                row.decided_by_organizer = automatic;
                row.rejection = None;
                row.submitted = None;
                if row.status != ProgressStatus::Done {
                    row.set_status(ProgressStatus::Done, by(CompletedHow::Organizer), now);
                }
            }
            Decision::Invalidate => {
                row.decided_by_organizer = automatic;
                if row.status != ProgressStatus::Todo {
                    row.submitted = None;
                    row.set_status(ProgressStatus::Todo, None, now);
                }
            }
            Decision::FollowCondition => {
                if !automatic {
                    return Err(Error::invalid(
                        "task",
                        "a manual task has no condition to follow",
                    ));
                }
                row.decided_by_organizer = false;
            }
            Decision::Accept | Decision::Reject(_)
                if row.status != ProgressStatus::AwaitingReview =>
            {
                return Err(Error::state(
                    "progress",
                    row.task,
                    "only a submission waiting for review can be accepted or rejected",
                ));
            }
            Decision::Accept => {
                row.rejection = None;
                row.set_status(ProgressStatus::Done, by(CompletedHow::Reviewed), now);
            }
            Decision::Reject(reason) => {
                row.rejection = Some(Rejection {
                    reason: reason.clone(),
                    by: actor.clone(),
                    at: now,
                });
                row.submitted = None;
                row.set_status(ProgressStatus::Todo, None, now);
                let message = Notification::ReviewRejected {
                    task: task.id,
                    owner: row.owner,
                    reason: reason.clone(),
                };
                notices.push((row.owner, message.clone()));
                if let Some(holder) = row.assignee {
                    notices.push((holder, message));
                }
            }
        }
        row.updated_at = now;
        Ok((before, notices))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, TaskId};
    use crate::task::{Condition, HelpLink, TaskConfig, TaskState};
    use crate::text::Language;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn task(automatic: bool, state: TaskState) -> Task {
        let en = Language::new("en").unwrap();
        let help = HelpLink::WebPage {
            url: "https://x.org".into(),
        };
        let config = if automatic {
            TaskConfig::automatic(en, "t", Condition::LogoUploaded, help)
        } else {
            TaskConfig::manual(en, "t", help)
        };
        Task {
            id: TaskId::new_at(at(0)),
            event: EventId::min(),
            config,
            state,
            created_at: at(0),
            updated_at: at(0),
            published_at: None,
            version: 1,
        }
    }

    #[derive(Debug, PartialEq)]
    enum Want {
        Status(ProgressStatus),
        Invalid,
        State,
    }

    /// T3, B5: every (mode, status, decision) of the organizer, with what it gives.
    #[test]
    fn t3_every_decision_on_every_status() {
        use Decision as D;
        use ProgressStatus::{AwaitingReview as Review, Done, Todo};
        use Want::*;
        let reject = || D::Reject("blurry".into());
        let table: Vec<(bool, ProgressStatus, Decision, Want)> = vec![
            // manual task
            (false, Todo, D::Validate, Status(Done)),
            (false, Review, D::Validate, Status(Done)),
            (false, Done, D::Validate, Status(Done)),
            (false, Todo, D::Invalidate, Status(Todo)),
            (false, Review, D::Invalidate, Status(Todo)),
            (false, Done, D::Invalidate, Status(Todo)),
            (false, Todo, D::FollowCondition, Invalid),
            (false, Done, D::FollowCondition, Invalid),
            (false, Todo, D::Accept, State),
            (false, Review, D::Accept, Status(Done)),
            (false, Done, D::Accept, State),
            (false, Todo, reject(), State),
            (false, Review, reject(), Status(Todo)),
            (false, Done, reject(), State),
            // automatic task
            (true, Todo, D::Validate, Status(Done)),
            (true, Done, D::Invalidate, Status(Todo)),
            (true, Todo, D::FollowCondition, Status(Todo)),
            (true, Done, D::FollowCondition, Status(Done)),
            (true, Todo, D::Accept, State),
            (true, Done, reject(), State),
        ];
        let organizer = Actor::System;
        for (automatic, status, decision, want) in table {
            let t = task(automatic, TaskState::Published);
            let mut row = Progress::new(t.id, crate::ids::ParticipantId::new_at(at(0)), at(0));
            row.status = status;
            row.assignee = Some(crate::ids::ParticipantId::new_at(at(1)));
            let before = row.clone();
            let case = format!("automatic {automatic}, {status:?}, {decision:?}");
            match (row.decide(&t, &decision, &organizer, at(10)), want) {
                (Ok((old, notices)), Status(s)) => {
                    assert_eq!(old, before, "{case}");
                    assert_eq!(row.status, s, "{case}");
                    assert_eq!(
                        row.decided_by_organizer,
                        automatic && matches!(decision, D::Validate | D::Invalidate),
                        "{case}"
                    );
                    let told = if matches!(decision, D::Reject(_)) {
                        2
                    } else {
                        0
                    };
                    assert_eq!(
                        notices.len(),
                        told,
                        "{case}: owner and holder are told of a rejection"
                    );
                }
                (Err(Error::Invalid { field, .. }), Invalid) => {
                    assert_eq!(field, "task", "{case}");
                    assert_eq!(row, before, "{case}: a refusal changes nothing");
                }
                (Err(Error::State { .. }), State) => {
                    assert_eq!(row, before, "{case}: a refusal changes nothing");
                }
                (got, want) => panic!("{case}: expected {want:?}, got {got:?}"),
            }
        }
    }

    #[derive(Debug, PartialEq)]
    enum Ticked {
        /// Nothing changes.
        Same,
        /// The new status, how it was completed, and whether it is a submission.
        To(ProgressStatus, Option<CompletedHow>, bool),
        Forbidden,
        Invalid,
    }

    /// One row of the tick table: review, status, how it got there, tick, hand, outcome.
    type TickRow = (
        bool,
        ProgressStatus,
        Option<CompletedHow>,
        Tick,
        Hand,
        Ticked,
    );

    /// Every (review, status, how it got there, tick, hand) of a tick by hand, one per
    /// line so the table reads as one.
    #[rustfmt::skip]
    fn tick_table() -> Vec<TickRow> {
        use CompletedHow::{Manual, Organizer, Reviewed};
        use Hand::{Holder, Owner, Staff};
        use ProgressStatus::{AwaitingReview as Review, Done, Todo};
        use Tick::{Done as Tick_, Undo};
        use Ticked::*;
        vec![
            // a manual task without review
            (false, Todo, None, Tick_, Owner, To(Done, Some(Manual), false)),
            (false, Todo, None, Tick_, Holder, To(Done, Some(Manual), false)),
            (false, Todo, None, Tick_, Staff, To(Done, Some(Organizer), false)),
            (false, Done, Some(Manual), Tick_, Owner, Same),
            (false, Done, Some(Organizer), Tick_, Staff, Same),
            (false, Todo, None, Undo, Owner, Same),
            (false, Todo, None, Undo, Staff, Same),
            (false, Done, Some(Manual), Undo, Owner, To(Todo, None, false)),
            (false, Done, Some(Manual), Undo, Holder, To(Todo, None, false)),
            (false, Done, Some(Manual), Undo, Staff, To(Todo, None, false)),
            (false, Done, Some(Organizer), Undo, Owner, Forbidden),
            (false, Done, Some(Organizer), Undo, Holder, Forbidden),
            (false, Done, Some(Organizer), Undo, Staff, To(Todo, None, false)),
            // a task under review
            (true, Todo, None, Tick_, Owner, To(Review, None, true)),
            (true, Todo, None, Tick_, Holder, To(Review, None, true)),
            (true, Todo, None, Tick_, Staff, To(Done, Some(Organizer), false)),
            (true, Review, None, Tick_, Owner, Same),
            (true, Review, None, Tick_, Holder, Same),
            (true, Review, None, Tick_, Staff, To(Done, Some(Organizer), false)),
            (true, Review, None, Undo, Owner, To(Todo, None, false)),
            (true, Review, None, Undo, Staff, To(Todo, None, false)),
            (true, Done, Some(Reviewed), Tick_, Owner, Same),
            (true, Done, Some(Reviewed), Undo, Owner, Forbidden),
            (true, Done, Some(Reviewed), Undo, Holder, Forbidden),
            (true, Done, Some(Reviewed), Undo, Staff, To(Todo, None, false)),
            (true, Done, Some(Organizer), Undo, Owner, Forbidden),
        ]
    }

    /// P3, T3: every tick of [`tick_table`], with what it gives.
    #[test]
    fn p3_every_tick_on_every_status() {
        use Ticked::*;
        let table = tick_table();
        let actor = Actor::System;
        for (review, status, how, tick, hand, want) in table {
            let mut t = task(false, TaskState::Published);
            t.config.review = review;
            let mut row = Progress::new(t.id, crate::ids::ParticipantId::new_at(at(0)), at(0));
            row.status = status;
            row.completion = how.map(|how| Completion {
                at: at(1),
                by: actor.clone(),
                how,
            });
            row.rejection = Some(Rejection {
                reason: "blurry".into(),
                by: actor.clone(),
                at: at(1),
            });
            let before = row.clone();
            let case = format!("review {review}, {status:?} ({how:?}), {tick:?} by {hand:?}");
            match (row.tick(&t, tick, hand, &actor, at(10)), want) {
                (Ok(false), Same) => assert_eq!(row, before, "{case}"),
                (Ok(true), To(s, how, submitted)) => {
                    assert_eq!(row.status, s, "{case}");
                    assert_eq!(row.completion.as_ref().map(|c| c.how), how, "{case}");
                    assert_eq!(row.submitted.is_some(), submitted, "{case}");
                    assert_eq!(
                        row.rejection.is_none(),
                        submitted,
                        "{case}: a submission clears the last rejection"
                    );
                    assert_eq!(row.updated_at, at(10), "{case}");
                }
                (Err(Error::Forbidden { .. }), Forbidden) => {
                    assert_eq!(row, before, "{case}: a refusal changes nothing");
                }
                (got, want) => panic!("{case}: expected {want:?}, got {got:?}"),
            }
        }
        // An automatic task is never ticked by hand, whoever's hand and whatever its status.
        for (status, tick, hand) in [
            (ProgressStatus::Todo, Tick::Done, Hand::Owner),
            (ProgressStatus::Done, Tick::Undo, Hand::Owner),
            (ProgressStatus::Todo, Tick::Done, Hand::Staff),
            (ProgressStatus::Done, Tick::Undo, Hand::Holder),
        ] {
            let t = task(true, TaskState::Published);
            let mut row = Progress::new(t.id, crate::ids::ParticipantId::new_at(at(0)), at(0));
            row.status = status;
            let before = row.clone();
            let got = row.tick(&t, tick, hand, &actor, at(10));
            assert!(
                matches!(&got, Err(Error::Invalid { field, .. }) if field == "task"),
                "{status:?} {tick:?} {hand:?}: expected {:?}, got {got:?}",
                Invalid
            );
            assert_eq!(row, before);
        }
    }

    /// X2: whose hand an actor is on a row.
    #[test]
    fn p3_whose_hand_is_on_a_row() {
        let owner = crate::ids::ParticipantId::new_at(at(1));
        let holder = crate::ids::ParticipantId::new_at(at(2));
        let stranger = crate::ids::ParticipantId::new_at(at(3));
        let event = EventId::min();
        let as_ = |id| Actor::participant(id, event);
        let organizer = Actor::organizer(crate::ids::AdminId::new("alice").unwrap(), event);
        let table: Vec<(Actor, Option<crate::ids::ParticipantId>, Option<Hand>)> = vec![
            (as_(owner), None, Some(Hand::Owner)),
            (as_(owner), Some(holder), Some(Hand::Owner)),
            (as_(holder), Some(holder), Some(Hand::Holder)),
            (as_(holder), None, None),
            (as_(stranger), Some(holder), None),
            (organizer, Some(holder), Some(Hand::Staff)),
            (Actor::System, None, Some(Hand::Staff)),
        ];
        for (actor, held_by, want) in table {
            match (Hand::of(&actor, owner, held_by), want) {
                (Ok(hand), Some(w)) => assert_eq!(hand, w, "{actor:?}"),
                (Err(Error::Forbidden { .. }), None) => {}
                (got, want) => panic!("{actor:?}: expected {want:?}, got {got:?}"),
            }
        }
    }

    /// T3: a rejection's reason is checked before anything is loaded.
    #[test]
    fn t3_a_rejection_needs_a_reason() {
        let long = "x".repeat(1_001);
        let table: Vec<(Decision, Option<Decision>)> = vec![
            (
                Decision::Reject("  blurry ".into()),
                Some(Decision::Reject("blurry".into())),
            ),
            (Decision::Reject(String::new()), None),
            (Decision::Reject("   ".into()), None),
            (Decision::Reject(long), None),
            (Decision::Validate, Some(Decision::Validate)),
            (Decision::Accept, Some(Decision::Accept)),
        ];
        for (decision, want) in table {
            let case = format!("{decision:?}");
            match (decision.validated(), want) {
                (Ok(got), Some(want)) => assert_eq!(got, want, "{case}"),
                (Err(e), None) => assert_eq!(e.field(), Some("reason"), "{case}"),
                (got, want) => panic!("{case}: expected {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn t3_a_task_not_published_to_the_owner_takes_no_decision() {
        for (state, targeted) in [
            (TaskState::Draft, true),
            (TaskState::Archived, true),
            (TaskState::Published, false),
        ] {
            let t = task(false, state);
            let mut row = Progress::new(t.id, crate::ids::ParticipantId::new_at(at(0)), at(0));
            row.targeted = targeted;
            let r = row.decide(&t, &Decision::Validate, &Actor::System, at(1));
            assert_eq!(r.unwrap_err().field(), Some("task"), "{state:?} {targeted}");
        }
    }
}
