//! The live stream (B1), and a helper for stores that deliver the live stream (B1) from a `tokio` broadcast channel.

use futures::StreamExt;
use futures::stream::BoxStream;
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::progress::ProgressChange;

/// The live stream of an event's progress changes (B1), in commit order per participant.
/// An `Err` item means the reader fell behind and missed changes (reload what it shows).
pub type ProgressFeed = BoxStream<'static, Result<ProgressChange>>;

/// Turns a broadcast receiver into a [`ProgressFeed`]: a reader that falls behind gets one
/// [`Error::Unavailable`] item saying how many changes it missed, then the stream goes on.
pub fn from_broadcast(rx: broadcast::Receiver<ProgressChange>) -> ProgressFeed {
    futures::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(change) => Some((Ok(change), rx)),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some((
                Err(Error::Unavailable {
                    source: format!("the live feed fell behind and missed {missed} changes").into(),
                }),
                rx,
            )),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    })
    .boxed()
}
