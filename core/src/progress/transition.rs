//! Changes a participant's row takes by someone's hand: the organizer's decisions (T3,
//! B5). Pure: each takes the row, the task and who acts, and says what follows.

use chrono::{DateTime, Utc};

use super::{CompletedHow, Completion, Progress, ProgressStatus, Rejection};
use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::ids::ParticipantId;
use crate::notify::Notification;
use crate::task::Task;

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

impl Progress {
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
            return Err(Error::invalid(
                "task",
                "this task is not published to this participant",
            ));
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
