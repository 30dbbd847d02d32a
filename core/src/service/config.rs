//! The service's tuning: [`Config`], built with `Config::default()` and the `with_*`
//! setters, which keep every value in range; each value reads back by its plain name.

use crate::presence::PresenceThresholds;

/// Tuning of the service: built with `Config::default()` and the setters, which keep
/// every value in range.
#[derive(Debug, Clone)]
pub struct Config {
    pub(super) batch_size: usize,
    pub(super) max_attempts: u32,
    pub(super) reminder_window: chrono::Duration,
    pub(super) presence: PresenceThresholds,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            batch_size: 500,
            max_attempts: 16,
            reminder_window: chrono::Duration::hours(6),
            presence: PresenceThresholds::default(),
        }
    }
}

impl Config {
    /// Participants per batch of paged work (publishing, re-evaluation, previews). Each
    /// batch is one change set, so no transaction grows with the event. Default 500.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// How many times an operation runs before a version conflict is returned. Default 16.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// How close together reminders for one recipient must fall to go out as one message
    /// (N7). Default 6 hours.
    pub fn reminder_window(&self) -> chrono::Duration {
        self.reminder_window
    }

    /// Sets the reminder grouping window (N7): when a recipient has a reminder due, the
    /// reminders they would get within this window go out with it, in one message
    /// (negative: zero, no grouping ahead of time).
    pub fn with_reminder_window(mut self, window: chrono::Duration) -> Self {
        self.reminder_window = window.max(chrono::Duration::zero());
        self
    }

    /// The online status's thresholds (R13). Default: active within 2 minutes, inactive
    /// for a few minutes up to 15.
    pub fn presence(&self) -> PresenceThresholds {
        self.presence
    }

    /// Sets the online status's thresholds (R13), checked by [`PresenceThresholds::new`].
    pub fn with_presence(mut self, thresholds: PresenceThresholds) -> Self {
        self.presence = thresholds;
        self
    }

    /// Sets the batch size (at least 1).
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Sets the number of attempts (at least 1).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
}
