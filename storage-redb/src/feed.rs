//! The live feed: one broadcast channel per event, shared by every clone of the store.
//! `apply` publishes a change set's progress changes once committed, in commit order, and
//! [`EventStore::progress_feed`](punchlist::store::EventStore::progress_feed) subscribes.

use punchlist::store::from_broadcast;
use punchlist::{EventId, ProgressChange, ProgressFeed};
use tokio::sync::broadcast;

use crate::RedbStore;

impl RedbStore {
    /// The channel of `event`'s progress changes, created on first use.
    pub(crate) fn sender(&self, event: EventId) -> broadcast::Sender<ProgressChange> {
        let mut feeds = self
            .inner
            .feeds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        feeds
            .entry(event)
            .or_insert_with(|| broadcast::channel(4096).0)
            .clone()
    }
}

/// Sends committed progress changes to the event's subscribers.
pub(crate) fn publish(sender: &broadcast::Sender<ProgressChange>, changes: Vec<ProgressChange>) {
    for change in changes {
        // No receiver is not an error: nobody is watching.
        let _ = sender.send(change);
    }
}

/// A new subscription to `event`'s progress changes.
pub(crate) fn progress_feed(store: &RedbStore, event: EventId) -> ProgressFeed {
    from_broadcast(store.sender(event).subscribe())
}
