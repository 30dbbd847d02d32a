//! Who wants which messages on which channel (N8): the event's defaults and locked kinds,
//! the participant's own choices, and the one rule that decides from both. Pure.
//!
//! The rule, for a message of some kind on some channel:
//! 1. a locked kind is sent on the channels the event sends it on, whatever the
//!    participant chose (the assignment notice always is, on every channel: a task handed
//!    to someone must reach them);
//! 2. else the participant's own choice for that kind and channel, if they made one;
//! 3. else nothing, if they stopped every message they may stop (one-click unsubscribe
//!    from all);
//! 4. else the event's default for that kind (every channel the event enables, unless it
//!    lists fewer).
//!
//! Grouped reminders follow the reminder's settings: a participant chooses "reminders",
//! not "one reminder" and "several reminders at once".

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::channel::Channel;
use super::template::MessageKind;
use super::window::SendWindow;
use crate::error::{Error, Result};

/// The kinds a participant or an event chooses for: every [`MessageKind`] but the grouped
/// reminders, which follow [`MessageKind::Reminder`].
pub const PREFERENCE_KINDS: [MessageKind; 5] = [
    MessageKind::Publication,
    MessageKind::Assignment,
    MessageKind::Reminder,
    MessageKind::Nudge,
    MessageKind::ReviewRejected,
];

impl MessageKind {
    /// The kind whose preferences apply to this one: grouped reminders follow the
    /// reminder's.
    pub fn preference_kind(self) -> MessageKind {
        match self {
            MessageKind::Reminders => MessageKind::Reminder,
            other => other,
        }
    }

    /// Whether no event or participant may turn it off (the assignment notice).
    pub fn always_sent(self) -> bool {
        self.preference_kind() == MessageKind::Assignment
    }
}

/// What an event decides about its messages (N8): the channels each kind goes out on by
/// default, and the kinds nobody may turn off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationDefaults {
    /// Per kind, the channels it goes out on by default; a kind not listed goes out on
    /// every channel the event enables. An empty set: off by default.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub channels: BTreeMap<MessageKind, BTreeSet<Channel>>,
    /// Kinds participants may not turn off, besides the assignment notice (always on).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub locked: BTreeSet<MessageKind>,
    /// When, on the recipient's clock, messages may reach them (N9); `None`: at any hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<SendWindow>,
}

impl NotificationDefaults {
    /// Whether nothing is set.
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// Whether participants may not turn `kind` off.
    pub fn is_locked(&self, kind: MessageKind) -> bool {
        let kind = kind.preference_kind();
        kind.always_sent() || self.locked.contains(&kind)
    }

    /// Whether `kind` goes out on `channel` for someone who chose nothing.
    pub fn default_on(&self, kind: MessageKind, channel: Channel) -> bool {
        self.channels
            .get(&kind.preference_kind())
            .is_none_or(|on| on.contains(&channel))
    }

    /// Checks it; the error names the field (`notifications.channels.reminders`, …).
    pub fn validate(&self) -> Result<()> {
        for kind in self.channels.keys() {
            check_kind("notifications.channels", *kind)?;
        }
        for kind in &self.locked {
            check_kind("notifications.locked", *kind)?;
        }
        if let Some(w) = &self.window {
            w.validate("notifications.window")?;
        }
        for (kind, on) in &self.channels {
            if kind.always_sent() && on.len() < Channel::ALL.len() {
                return Err(Error::invalid(
                    format!("notifications.channels.{}", kind.as_str()),
                    "the assignment notice always goes out on every enabled channel",
                ));
            }
        }
        Ok(())
    }
}

/// A participant's own choices about their messages (N8), kept on their record (its
/// history shows every change, R12).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// Per kind and channel: on or off, where they chose.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<MessageKind, BTreeMap<Channel, bool>>,
    /// They stopped every message they may stop (unsubscribed from all); a choice made
    /// since still counts.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stopped: bool,
}

impl Preferences {
    /// Whether nothing was chosen.
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// Whether a message of `kind` goes out to them on `channel`: the rule of this module.
    pub fn allows(
        &self,
        defaults: &NotificationDefaults,
        kind: MessageKind,
        channel: Channel,
    ) -> bool {
        let kind = kind.preference_kind();
        if defaults.is_locked(kind) {
            return defaults.default_on(kind, channel);
        }
        if let Some(on) = self.choices.get(&kind).and_then(|c| c.get(&channel)) {
            return *on;
        }
        !self.stopped && defaults.default_on(kind, channel)
    }

    /// Applies `update`, checked first against the event's `defaults` (a locked kind
    /// cannot be turned off); on an error nothing changed. Answers whether anything did.
    pub fn apply(
        &mut self,
        defaults: &NotificationDefaults,
        update: &PreferencesUpdate,
    ) -> Result<bool> {
        update.validate(defaults)?;
        let before = self.clone();
        if let Some(stop) = update.stop_all {
            self.stopped = stop;
            if stop {
                // "Stop everything" is the latest word: earlier "on" choices go, the "off"
                // ones stay (resuming later does not turn them back on).
                for c in self.choices.values_mut() {
                    c.retain(|_, on| !*on);
                }
                self.choices.retain(|_, c| !c.is_empty());
            }
        }
        for change in &update.changes {
            let channels: Vec<Channel> = match change.channel {
                Some(c) => vec![c],
                None => Channel::ALL.to_vec(),
            };
            let kind = change.kind.preference_kind();
            for channel in channels {
                match change.on {
                    Some(on) => {
                        self.choices.entry(kind).or_default().insert(channel, on);
                    }
                    None => {
                        if let Some(c) = self.choices.get_mut(&kind) {
                            c.remove(&channel);
                        }
                    }
                }
            }
            self.choices.retain(|_, c| !c.is_empty());
        }
        Ok(*self != before)
    }

    /// Every kind and channel as it stands for them: what a preferences page shows.
    pub fn effective(
        &self,
        defaults: &NotificationDefaults,
        enabled: &[Channel],
    ) -> Vec<PreferenceRow> {
        PREFERENCE_KINDS
            .iter()
            .map(|kind| PreferenceRow {
                kind: *kind,
                locked: defaults.is_locked(*kind),
                channels: enabled
                    .iter()
                    .map(|c| PreferenceCell {
                        channel: *c,
                        on: self.allows(defaults, *kind, *c),
                        default_on: defaults.default_on(*kind, *c),
                        chosen: self.choices.get(kind).and_then(|m| m.get(c)).copied(),
                    })
                    .collect(),
            })
            .collect()
    }
}

/// One kind of message on a preferences page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceRow {
    /// The kind.
    pub kind: MessageKind,
    /// Whether the participant may not turn it off.
    pub locked: bool,
    /// Each channel the event enables.
    pub channels: Vec<PreferenceCell>,
}

/// One kind on one channel, as it stands for a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceCell {
    /// The channel.
    pub channel: Channel,
    /// Whether such messages go out to them on it.
    pub on: bool,
    /// What the event decides for someone who chose nothing.
    pub default_on: bool,
    /// Their own choice, if they made one.
    pub chosen: Option<bool>,
}

/// A change to a participant's preferences (N8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PreferencesUpdate {
    /// Choices to make or undo, in order.
    pub changes: Vec<PreferenceChange>,
    /// Stop every message they may stop (`Some(true)`), or no longer (`Some(false)`).
    pub stop_all: Option<bool>,
}

/// One choice: a kind on one channel (or every channel), on, off, or back to the event's
/// default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceChange {
    /// The kind (grouped reminders follow `reminder`).
    pub kind: MessageKind,
    /// One channel; `None`: every channel.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// On or off; `None`: back to the event's default.
    #[serde(default)]
    pub on: Option<bool>,
}

impl PreferencesUpdate {
    /// The most changes one update makes.
    pub const MAX_CHANGES: usize = 50;

    /// Turns `kind` off on every channel.
    pub fn off(kind: MessageKind) -> Self {
        Self {
            changes: vec![PreferenceChange {
                kind,
                channel: None,
                on: Some(false),
            }],
            stop_all: None,
        }
    }

    /// Stops every message that may be stopped.
    pub fn stop_all() -> Self {
        Self {
            changes: Vec::new(),
            stop_all: Some(true),
        }
    }

    /// Checks it against the event's defaults; the error names the field
    /// (`changes[2].kind`).
    pub fn validate(&self, defaults: &NotificationDefaults) -> Result<()> {
        if self.changes.len() > Self::MAX_CHANGES {
            return Err(Error::invalid(
                "changes",
                format!("at most {} changes at once", Self::MAX_CHANGES),
            ));
        }
        if self.changes.is_empty() && self.stop_all.is_none() {
            return Err(Error::invalid("changes", "nothing to change"));
        }
        for (i, c) in self.changes.iter().enumerate() {
            let field = format!("changes[{i}].kind");
            check_kind(&field, c.kind).map_err(|e| match e {
                Error::Invalid { reason, .. } => Error::invalid(field.clone(), reason),
                other => other,
            })?;
            if c.on == Some(false) && defaults.is_locked(c.kind) {
                return Err(Error::invalid(
                    field,
                    format!(
                        "the event keeps {} messages on: they cannot be turned off",
                        c.kind.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Refuses the grouped reminders and digests as kinds of their own.
fn check_kind(field: &str, kind: MessageKind) -> Result<()> {
    if kind == MessageKind::Digest {
        return Err(Error::invalid(
            format!("{field}.{}", kind.as_str()),
            "messages sent together follow their own kinds' settings",
        ));
    }
    if kind == MessageKind::Reminders {
        return Err(Error::invalid(
            format!("{field}.{}", kind.as_str()),
            "grouped reminders follow the reminder's settings: choose `reminder`",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked_reviews() -> NotificationDefaults {
        NotificationDefaults {
            channels: BTreeMap::from([(
                MessageKind::Publication,
                BTreeSet::from([Channel::Email]),
            )]),
            locked: BTreeSet::from([MessageKind::ReviewRejected]),
            window: None,
        }
    }

    /// N8: the rule, case by case.
    #[test]
    fn n8_locked_then_choice_then_stop_then_default() {
        let d = locked_reviews();
        let mut p = Preferences::default();
        // Defaults: publication by email only; everything else everywhere.
        assert!(p.allows(&d, MessageKind::Publication, Channel::Email));
        assert!(!p.allows(&d, MessageKind::Publication, Channel::Chat));
        assert!(p.allows(&d, MessageKind::Reminders, Channel::WebPush));
        // A choice wins over the default, for grouped reminders too.
        let off = PreferencesUpdate {
            changes: vec![PreferenceChange {
                kind: MessageKind::Reminder,
                channel: Some(Channel::Email),
                on: Some(false),
            }],
            stop_all: None,
        };
        assert!(p.apply(&d, &off).unwrap());
        assert!(!p.allows(&d, MessageKind::Reminder, Channel::Email));
        assert!(!p.allows(&d, MessageKind::Reminders, Channel::Email));
        assert!(p.allows(&d, MessageKind::Reminder, Channel::Chat));
        assert!(
            !p.apply(&d, &off).unwrap(),
            "the same choice again changes nothing"
        );
        // Stop all: everything but the locked kinds.
        assert!(p.apply(&d, &PreferencesUpdate::stop_all()).unwrap());
        for kind in PREFERENCE_KINDS {
            for channel in Channel::ALL {
                assert_eq!(
                    p.allows(&d, kind, channel),
                    d.is_locked(kind),
                    "{kind:?} {channel:?}"
                );
            }
        }
        // A choice made since counts; undoing it goes back to "stopped".
        let on = PreferencesUpdate {
            changes: vec![PreferenceChange {
                kind: MessageKind::Nudge,
                channel: None,
                on: Some(true),
            }],
            stop_all: None,
        };
        p.apply(&d, &on).unwrap();
        assert!(p.allows(&d, MessageKind::Nudge, Channel::Chat));
        let reset = PreferencesUpdate {
            changes: vec![PreferenceChange {
                on: None,
                ..on.changes[0]
            }],
            stop_all: None,
        };
        p.apply(&d, &reset).unwrap();
        assert!(!p.allows(&d, MessageKind::Nudge, Channel::Chat));
        // What is left: the reminder by email, off (kept through the stop).
        assert_eq!(
            p.choices,
            BTreeMap::from([(
                MessageKind::Reminder,
                BTreeMap::from([(Channel::Email, false)])
            )])
        );
    }

    /// N8: locked kinds cannot be turned off, grouped reminders are not a kind of their
    /// own, and a refused update changes nothing.
    #[test]
    fn n8_bad_updates_are_refused_naming_the_field() {
        let d = locked_reviews();
        let mut p = Preferences::default();
        for (update, field) in [
            (
                PreferencesUpdate::off(MessageKind::Assignment),
                "changes[0].kind",
            ),
            (
                PreferencesUpdate::off(MessageKind::ReviewRejected),
                "changes[0].kind",
            ),
            (
                PreferencesUpdate::off(MessageKind::Reminders),
                "changes[0].kind",
            ),
            (PreferencesUpdate::default(), "changes"),
            (
                PreferencesUpdate {
                    changes: vec![PreferencesUpdate::off(MessageKind::Nudge).changes[0]; 51],
                    stop_all: None,
                },
                "changes",
            ),
        ] {
            let e = p.apply(&d, &update).unwrap_err();
            assert_eq!(e.field(), Some(field), "{e}");
            assert!(p.is_unset());
        }
        let bad = NotificationDefaults {
            channels: BTreeMap::from([(MessageKind::Assignment, BTreeSet::new())]),
            ..NotificationDefaults::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().field(),
            Some("notifications.channels.assignment")
        );
        let bad = NotificationDefaults {
            locked: BTreeSet::from([MessageKind::Reminders]),
            ..NotificationDefaults::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().field(),
            Some("notifications.locked.reminders")
        );
    }

    /// N8: a locked kind goes out on the event's channels for it, whatever was chosen; a
    /// stop then a resume brings back what was on, not what the participant turned off.
    #[test]
    fn n8_locked_kinds_keep_their_channels_and_resume_keeps_opt_outs() {
        let mut d = locked_reviews();
        d.channels.insert(
            MessageKind::ReviewRejected,
            BTreeSet::from([Channel::Email]),
        );
        let mut p = Preferences::default();
        assert!(p.allows(&d, MessageKind::ReviewRejected, Channel::Email));
        assert!(!p.allows(&d, MessageKind::ReviewRejected, Channel::Chat));
        p.apply(&d, &PreferencesUpdate::off(MessageKind::Nudge))
            .unwrap();
        p.apply(&d, &PreferencesUpdate::stop_all()).unwrap();
        assert!(p.allows(&d, MessageKind::ReviewRejected, Channel::Email));
        let resume = PreferencesUpdate {
            changes: Vec::new(),
            stop_all: Some(false),
        };
        p.apply(&d, &resume).unwrap();
        assert!(p.allows(&d, MessageKind::Reminder, Channel::Email));
        assert!(
            !p.allows(&d, MessageKind::Nudge, Channel::Email),
            "an earlier opt-out survives stop and resume"
        );
    }

    /// N8: what a preferences page shows.
    #[test]
    fn n8_effective_rows_show_each_kind_on_each_enabled_channel() {
        let d = locked_reviews();
        let mut p = Preferences::default();
        p.apply(&d, &PreferencesUpdate::off(MessageKind::Nudge))
            .unwrap();
        let rows = p.effective(&d, &[Channel::Email, Channel::Chat]);
        assert_eq!(rows.len(), PREFERENCE_KINDS.len());
        let nudge = rows.iter().find(|r| r.kind == MessageKind::Nudge).unwrap();
        assert!(!nudge.locked);
        assert_eq!(nudge.channels.len(), 2);
        assert!(
            nudge
                .channels
                .iter()
                .all(|c| !c.on && c.chosen == Some(false))
        );
        let assignment = rows
            .iter()
            .find(|r| r.kind == MessageKind::Assignment)
            .unwrap();
        assert!(assignment.locked && assignment.channels.iter().all(|c| c.on));
        let publication = rows
            .iter()
            .find(|r| r.kind == MessageKind::Publication)
            .unwrap();
        assert_eq!(
            publication
                .channels
                .iter()
                .map(|c| c.default_on)
                .collect::<Vec<_>>(),
            [true, false]
        );
    }
}
