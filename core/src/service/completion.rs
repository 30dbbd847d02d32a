//! The organizer's decisions on a participant's task (T3, B5): validate, invalidate,
//! follow the condition again, accept or reject a submission, in bulk too.

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ids::{EventId, OutboxId, ParticipantId, TaskId};
use crate::progress::{self, Decision, Progress};
use crate::store::{ParticipantState, Store};
use std::collections::BTreeMap;
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Validates a task for a participant by hand (T3), recorded in their history and
    /// timeline. On an automatic task the organizer's decision stands over the condition
    /// until [`follow_condition`](Self::follow_condition).
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn validate_task(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.decide_one(actor, event, owner, task, Decision::Validate)
            .await
    }

    /// Invalidates a task for a participant by hand (T3): it goes back to do. On an
    /// automatic task the decision stands over the condition until
    /// [`follow_condition`](Self::follow_condition).
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn invalidate_task(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.decide_one(actor, event, owner, task, Decision::Invalidate)
            .await
    }

    /// Hands an automatic task decided by an organizer back to its condition.
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn follow_condition(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.decide_one(actor, event, owner, task, Decision::FollowCondition)
            .await
    }

    /// Accepts a participant's submission of a task under review (T3): it is done.
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn accept_submission(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
    ) -> Result<Progress> {
        self.decide_one(actor, event, owner, task, Decision::Accept)
            .await
    }

    /// Rejects a participant's submission of a task under review with a reason (T3): it
    /// goes back to do, the reason shows in their list, the one who submitted it is
    /// notified, and they can submit again.
    #[instrument(skip_all, fields(event = %event, participant = %owner, task = %task))]
    pub async fn reject_submission(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
        reason: &str,
    ) -> Result<Progress> {
        let decision = Decision::Reject(reason.to_owned());
        self.decide_one(actor, event, owner, task, decision).await
    }

    /// Applies one organizer decision on `task` to many participants at once (B5: validate
    /// or review in bulk from the matrix). Each participant gets its own result, in order;
    /// the decisions that apply are committed together in one transaction. At most
    /// [`limits::BULK`](crate::limits::BULK) participants per call.
    #[instrument(skip_all, fields(event = %event, task = %task, participants = owners.len()))]
    pub async fn decide_many(
        &self,
        actor: &Actor,
        event: EventId,
        task: TaskId,
        owners: &[ParticipantId],
        decision: Decision,
    ) -> Result<Vec<Result<Progress>>> {
        actor::require_staff(actor, event, TaskId::ENTITY, task)?;
        if owners.len() > crate::limits::BULK {
            return Err(Error::invalid(
                "participants",
                format!("at most {} participants in one call", crate::limits::BULK),
            ));
        }
        let decision = decision.validated()?;
        retry!(self, {
            let ctx = self.context(actor, event).await?;
            let t = ctx.task(task)?;
            actor::require_staff(actor, event, TaskId::ENTITY, task)?;
            let now = self.now();
            let mut unit = UnitOfWork::new(&ctx, now, actor.clone());
            let mut states: BTreeMap<ParticipantId, ParticipantState> = self
                .store
                .participants_by_id(event, owners)
                .await?
                .into_iter()
                .map(|s| (s.participant.id, s))
                .collect();
            let mut outcomes = Vec::with_capacity(owners.len());
            for owner in owners {
                if !unit.has(*owner) {
                    match states.remove(owner) {
                        Some(s) => {
                            unit.add(s);
                        }
                        None => {
                            outcomes.push(Err(Error::not_found(ParticipantId::ENTITY, owner)));
                            continue;
                        }
                    }
                }
                let w = unit.get(*owner).expect("added above");
                let outcome = match w.rows.get_mut(&t.id) {
                    Some(row) => row.decide(t, &decision, actor, now),
                    None => Err(progress::not_published()),
                };
                if let Ok((before, notices)) = &outcome {
                    let after = w.rows.get(&t.id).expect("decided above").clone();
                    unit.progress_history(*owner, before, &after);
                    for (recipient, message) in notices.clone() {
                        let key = format!("review:{task}:{recipient}:{}", OutboxId::new_at(now));
                        unit.notify(recipient, message, key);
                    }
                }
                outcomes.push(outcome.map(|_| ()));
            }
            unit.settle();
            let results = owners
                .iter()
                .zip(outcomes)
                .map(|(owner, r)| {
                    r.map(|()| {
                        unit.row(*owner, task)
                            .cloned()
                            .expect("the row is in the unit")
                    })
                })
                .collect();
            self.commit(unit.into_changes()).await?;
            Ok(results)
        })
    }

    pub(super) async fn decide_one(
        &self,
        actor: &Actor,
        event: EventId,
        owner: ParticipantId,
        task: TaskId,
        decision: Decision,
    ) -> Result<Progress> {
        self.decide_many(actor, event, task, &[owner], decision)
            .await?
            .remove(0)
    }
}
