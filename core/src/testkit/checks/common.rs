//! Helpers the check files share: waits on the live stream, a participant's list item and
//! state, a published or reviewed task, a reminder tick, the host's actions and sessions.
//!
//! The live-stream waits are bounded by a timer thread rather than `tokio::time`, so the
//! suite needs no more of `tokio` than the `testkit` feature enables.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;

use crate::store::ParticipantState;
use crate::testkit::{DumpStore, EventDump, Fixture};
use crate::*;

/// How long a check waits for a change it expects on the live stream.
const FEED_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a check listens to prove that no further change arrives.
const QUIET_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// Runs `fut` for at most `limit`; `None` when the time ran out. The timer is a plain
/// thread, so this works on any runtime and needs no `tokio` timer.
async fn within<F: Future>(limit: std::time::Duration, fut: F) -> Option<F::Output> {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        let _ = tx.send(());
    });
    let fut = std::pin::pin!(fut);
    match futures::future::select(fut, rx).await {
        futures::future::Either::Left((out, _)) => Some(out),
        futures::future::Either::Right(_) => None,
    }
}

/// The next change on the feed, or a panic naming `what` if none comes in time.
pub(super) async fn next_change(feed: &mut ProgressFeed, what: &str) -> ProgressChange {
    within(FEED_WAIT, feed.next())
        .await
        .unwrap_or_else(|| panic!("no change on the live stream for {what}"))
        .unwrap_or_else(|| panic!("the live stream ended while waiting for {what}"))
        .unwrap_or_else(|e| panic!("the live stream failed while waiting for {what}: {e}"))
}

/// Asserts that no change arrives on the feed for a short while.
pub(super) async fn assert_quiet(feed: &mut ProgressFeed, why: &str) {
    if let Some(item) = within(QUIET_WAIT, feed.next()).await {
        panic!("unexpected item on the live stream ({why}): {item:?}");
    }
}

/// The item of `task` owned by `owner` in `reader`'s list.
pub(super) async fn item_of<S: DumpStore>(
    f: &Fixture<S>,
    reader: &Participant,
    owner: &Participant,
    task: TaskId,
) -> Option<TaskItem> {
    f.list(reader)
        .await
        .items
        .into_iter()
        .find(|i| i.task == task && i.owner == owner.id)
}

/// A participant's state in a dump.
pub(super) fn state_in<'d>(dump: &'d EventDump, p: &Participant) -> &'d ParticipantState {
    dump.participants
        .iter()
        .find(|s| s.participant.id == p.id)
        .expect("participant in dump")
}

/// Creates a task from `config` and publishes it.
pub(super) async fn publish_config<S: DumpStore>(f: &Fixture<S>, config: TaskConfig) -> Task {
    f.publish(config).await
}

/// Creates a manual task whose completions the organizer reviews, and publishes it.
pub(super) async fn review_task<S: DumpStore>(f: &Fixture<S>, name: &str) -> Task {
    let mut config = TaskConfig::manual(f.en.clone(), name, Fixture::<S>::web());
    config.review = true;
    let t = f
        .service
        .create_task(&f.organizer, f.event, config)
        .await
        .unwrap();
    f.service
        .publish_task(&f.organizer, f.event, t.id)
        .await
        .unwrap()
}

/// Runs the reminder tick of the fixture's event, as the system.
pub(super) async fn tick<S: DumpStore>(f: &Fixture<S>) -> ReminderTick {
    f.service
        .tick_reminders(&Actor::System, f.event)
        .await
        .expect("tick")
}

/// The host action `id` of `kind` about `p`, at `at`.
pub(super) fn action(
    id: &str,
    p: &Participant,
    at: DateTime<Utc>,
    kind: TimelineKind,
) -> HostAction {
    HostAction {
        id: HostEventId::new(id).unwrap(),
        participant: p.id.into(),
        occurred_at: at,
        kind,
    }
}

/// The external id `id`.
pub(super) fn email(id: &str) -> ExternalId {
    ExternalId::new(id).unwrap()
}

/// A participant's whole timeline, as the organizer reads it.
pub(super) async fn everything<S: DumpStore>(
    f: &Fixture<S>,
    p: &Participant,
) -> Vec<TimelineEntry> {
    f.service
        .timeline(
            &f.organizer,
            f.event,
            p.id,
            &TimelineFilter::default(),
            1_000,
        )
        .await
        .expect("timeline")
}

/// A one-hour session in Room 2.
pub(super) fn session(id: &str, starts_at: DateTime<Utc>, title: &str) -> Session {
    Session {
        id: ExternalId::new(id).unwrap(),
        title: title.into(),
        starts_at,
        ends_at: starts_at + Duration::hours(1),
        place: Some("Room 2".into()),
    }
}

/// A host event's id.
pub(super) fn host_id(id: &str) -> HostEventId {
    HostEventId::new(id).unwrap()
}
