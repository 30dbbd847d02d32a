//! Paged work over an event's participants (publishing, re-evaluation): each page one
//! change set, resumed after a crash.

use super::{Punchlist, UnitOfWork, retry};
use crate::actor;
use crate::actor::Actor;
use crate::change::ChangeSet;
use crate::clock::Clock;
use crate::error::Result;
use crate::ids::{EventId, SweepId, TaskId};
use crate::progress::publication_notice;
use crate::store::Store;
use crate::sweep::Sweep;
use tracing::instrument;

impl<S: Store + ?Sized, C: Clock> Punchlist<S, C> {
    /// Runs a sweep to its end, batch by batch; each batch is one change set that also
    /// moves the sweep's cursor, so a crash resumes where it stopped.
    pub(super) async fn run_sweep(&self, mut sweep: Sweep) -> Result<()> {
        let event = sweep.event;
        loop {
            let done = retry!(self, {
                let ctx = self.context(&Actor::System, event).await?;
                // The page's participants with only the rows of the sweep's tasks: a
                // sweep changes no record, and brings those tasks alone up to date.
                let ids = self
                    .store
                    .participant_ids(event, sweep.after, self.config.batch_size)
                    .await?;
                let mut cs = ChangeSet::new(event);
                let Some(last) = ids.last().copied() else {
                    cs.finished_sweeps.push(sweep.id);
                    self.commit(cs).await?;
                    return Ok(true);
                };
                let page = self
                    .store
                    .participant_slices(event, &ids, &sweep.tasks)
                    .await?;
                let now = self.now();
                let mut unit = UnitOfWork::new(&ctx, now, Actor::System);
                unit.restrict_to(sweep.tasks.clone());
                // A sweep follows a change of configuration: rows' next reminders too.
                unit.refresh_reminders();
                for state in page {
                    unit.add(state);
                }
                unit.settle();
                if ctx.event.settings.tasks_enabled && !sweep.notify.is_empty() {
                    // N1: one notice per participant for the tasks of the sweep (N7).
                    let notices: Vec<_> = unit
                        .people_mut()
                        .filter_map(|(pid, w)| {
                            publication_notice(&mut w.rows, &sweep.notify).map(|n| (*pid, n))
                        })
                        .collect();
                    for (pid, notice) in notices {
                        unit.notify(pid, notice, format!("publication:{}:{pid}", sweep.id));
                    }
                }
                let mut cs = unit.into_changes();
                let mut next = sweep.clone();
                next.after = Some(last);
                cs.sweeps.push(next);
                self.commit(cs).await?;
                sweep.after = Some(last);
                Ok(false)
            })?;
            if done {
                tracing::debug!(sweep = %sweep.id, "sweep finished");
                return Ok(());
            }
        }
    }

    /// A new sweep over `tasks`, notifying for `notify`.
    pub(super) fn sweep(&self, event: EventId, tasks: Vec<TaskId>, notify: Vec<TaskId>) -> Sweep {
        let now = self.now();
        Sweep {
            id: SweepId::new_at(now),
            event,
            tasks,
            notify,
            after: None,
            started_at: now,
        }
    }

    /// Finishes the paged work a crash interrupted (publishing, re-evaluation). Call it at
    /// start-up for each event; returns how many sweeps it finished.
    #[instrument(skip_all, fields(event = %event))]
    pub async fn resume_sweeps(&self, actor: &Actor, event: EventId) -> Result<usize> {
        actor::require_staff(actor, event, EventId::ENTITY, event)?;
        let sweeps = self.store.sweeps(event).await?;
        let n = sweeps.len();
        for sweep in sweeps {
            self.run_sweep(sweep).await?;
        }
        Ok(n)
    }
}
