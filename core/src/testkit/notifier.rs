//! A channel adapter for tests: records what it is asked to send, and fails on demand.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::notify::{Address, Channel, Notifier, OutgoingMessage, SendError};

/// One message a [`RecordingNotifier`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Where it went.
    pub to: Address,
    /// What it said.
    pub message: OutgoingMessage,
}

#[derive(Debug, Default)]
struct State {
    received: Vec<Received>,
    /// Outcomes to give, in order, before accepting everything.
    script: VecDeque<Result<(), SendError>>,
    /// An outcome to give every time, after the script.
    always: Option<Result<(), SendError>>,
    attempts: usize,
}

/// A [`Notifier`] for one channel that records every message it accepts. Clones share
/// the record, so a test keeps one clone and gives another to a dispatcher.
#[derive(Debug, Clone)]
pub struct RecordingNotifier {
    channel: Channel,
    state: Arc<Mutex<State>>,
}

impl RecordingNotifier {
    /// A notifier for `channel` that accepts everything.
    pub fn new(channel: Channel) -> Self {
        Self {
            channel,
            state: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives these outcomes to the next sends, in order (then accepts again).
    pub fn then(&self, outcomes: impl IntoIterator<Item = Result<(), SendError>>) -> &Self {
        self.state().script.extend(outcomes);
        self
    }

    /// Gives this outcome to every send from now on (`None`: accept again).
    pub fn always(&self, outcome: Option<Result<(), SendError>>) -> &Self {
        self.state().always = outcome;
        self
    }

    /// Every accepted message, in order.
    pub fn received(&self) -> Vec<Received> {
        self.state().received.clone()
    }

    /// How many sends were attempted (accepted or not).
    pub fn attempts(&self) -> usize {
        self.state().attempts
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    fn channel(&self) -> Channel {
        self.channel
    }

    async fn send(&self, to: &Address, message: &OutgoingMessage) -> Result<(), SendError> {
        let mut state = self.state();
        state.attempts += 1;
        let outcome = match state.script.pop_front() {
            Some(o) => o,
            None => state.always.clone().unwrap_or(Ok(())),
        };
        if outcome.is_ok() {
            state.received.push(Received {
                to: to.clone(),
                message: message.clone(),
            });
        }
        outcome
    }
}
