//! An event and its settings: time zone, languages, channels, reminder offsets, the Tasks
//! switch and the organizer's custom fields.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::EventId;
use crate::notify::{Channel, NotificationDefaults, ReminderOffset, ReminderPolicy};
use crate::text::{self, Language};

/// An event: the scope of every other object (X1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Its id.
    pub id: EventId,
    /// Its settings.
    pub settings: EventSettings,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Bumped by every write; a write of a stale version is a conflict.
    pub version: u64,
}

/// What an organizer configures for an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSettings {
    /// The event's name (1..=200 characters).
    pub name: String,
    /// Deadlines and agendas are shown in this time zone.
    pub time_zone: Tz,
    /// The language texts fall back to when a translation is missing.
    pub default_language: Language,
    /// Every language of the event; includes the default one.
    pub languages: Vec<Language>,
    /// The channels notifications go out on (N4).
    pub channels: Channels,
    /// When reminders go out before a task's deadline (N3); a task may override.
    pub reminders: ReminderPolicy,
    /// Whether the Tasks feature is on (T2). While off, participants see no Tasks section
    /// and nothing is sent; facts are still recorded, so switching it on shows the truth.
    pub tasks_enabled: bool,
    /// The organizer's custom fields (R4), by key. Never shown to participants.
    pub custom_fields: BTreeMap<String, CustomFieldDef>,
    /// The organizer's own message templates (N6, N12), replacing the shipped ones, by
    /// `kind.language.part`: kind `publication`, `assignment`, `reminder`, `reminders`,
    /// `nudge` or `review_rejected`; a language of the event; part `subject`, `intro` (the
    /// message's own sentences, shown in the text and the HTML email alike), `body` (the
    /// whole text part), `html` (the whole HTML part), `title` or `summary` (a push
    /// notification's two lines), e.g. `reminder.fr.intro`. Jinja syntax (minijinja); the
    /// variables are listed in the dispatcher's documentation. A template that does not
    /// compile is refused when set, with its line and the reason.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub templates: BTreeMap<String, String>,
    /// How its messages look and who they come from (N12).
    #[serde(default, skip_serializing_if = "Branding::is_unset")]
    pub branding: Branding,
    /// Which channels each kind of message goes out on by default, and the kinds nobody
    /// may turn off (N8).
    #[serde(default, skip_serializing_if = "NotificationDefaults::is_unset")]
    pub notifications: NotificationDefaults,
}

/// How an event's messages look and who they come from (N12): the HTML email shows the
/// logo above the event's name and uses the colour for its header line and its button.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Branding {
    /// The logo's address (`https`, at most 2,048 characters), shown at most 200 pixels
    /// wide; the image stays on the host's server.
    pub logo_url: Option<String>,
    /// The accent colour, `#rrggbb`.
    pub colour: Option<String>,
    /// The sender's display name (at most 200 characters); `None`: the adapter's.
    pub sender_name: Option<String>,
    /// The sender's address (`From`); `None`: the adapter's. The host's mail server must
    /// be allowed to send for its domain.
    pub sender_address: Option<String>,
    /// Where replies go (`Reply-To`).
    pub reply_to: Option<String>,
}

impl Branding {
    /// The accent colour when the event sets none.
    pub const DEFAULT_COLOUR: &'static str = "#1f5fbf";

    /// Whether nothing is set.
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// Checks it; the error names the field (`branding.logo_url`, …).
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.logo_url {
            text::web_url("branding.logo_url", url)?;
            if !url.starts_with("https://") {
                return Err(Error::invalid(
                    "branding.logo_url",
                    "must be an https:// address (mail clients block images over http)",
                ));
            }
        }
        if let Some(c) = &self.colour {
            let hex = c.strip_prefix('#').unwrap_or_default();
            if hex.len() != 6 || !hex.chars().all(|d| d.is_ascii_hexdigit()) {
                return Err(Error::invalid(
                    "branding.colour",
                    format!("{c:?} is not a colour written #rrggbb"),
                ));
            }
        }
        if let Some(name) = &self.sender_name {
            text::required_text("branding.sender_name", name, 200)?;
        }
        if let Some(a) = &self.sender_address {
            text::sender_address("branding.sender_address", a)?;
        }
        if let Some(a) = &self.reply_to {
            text::sender_address("branding.reply_to", a)?;
        }
        Ok(())
    }

    /// The accent colour: the event's, or [`Branding::DEFAULT_COLOUR`].
    pub fn colour(&self) -> &str {
        self.colour.as_deref().unwrap_or(Self::DEFAULT_COLOUR)
    }
}

impl EventSettings {
    /// Settings with one language, UTC, email only, reminders 7 days and 1 day before,
    /// Tasks on and no custom field: a starting point to adjust.
    pub fn new(name: impl Into<String>, default_language: Language) -> Self {
        Self {
            name: name.into(),
            time_zone: Tz::UTC,
            languages: vec![default_language.clone()],
            default_language,
            channels: Channels {
                email: true,
                chat: false,
                web_push: false,
            },
            reminders: ReminderPolicy {
                offsets: vec![ReminderOffset::days(7), ReminderOffset::days(1)],
                overdue: false,
            },
            tasks_enabled: true,
            custom_fields: BTreeMap::new(),
            templates: BTreeMap::new(),
            branding: Branding::default(),
            notifications: NotificationDefaults::default(),
        }
    }

    /// Checks the settings; the error names the field.
    pub fn validate(&self) -> Result<()> {
        text::required_text("name", &self.name, 200)?;
        if self.languages.len() > 50 {
            return Err(Error::invalid("languages", "at most 50 languages"));
        }
        if self.languages.is_empty() {
            return Err(Error::invalid(
                "languages",
                "an event needs at least one language",
            ));
        }
        if !self.languages.contains(&self.default_language) {
            return Err(Error::invalid(
                "default_language",
                format!(
                    "{} is not among the event's languages",
                    self.default_language
                ),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for l in &self.languages {
            if !seen.insert(l) {
                return Err(Error::invalid("languages", format!("{l} is listed twice")));
            }
        }
        self.reminders
            .validate()
            .map_err(|e| e.within("reminders"))?;
        if self.custom_fields.len() > 200 {
            return Err(Error::invalid("custom_fields", "at most 200 custom fields"));
        }
        for (key, def) in &self.custom_fields {
            text::key(&format!("custom_fields.{key}"), key)?;
            text::required_text(&format!("custom_fields.{key}.label"), &def.label, 200)?;
        }
        if self.templates.len() > 100 {
            return Err(Error::invalid("templates", "at most 100 templates"));
        }
        for (key, source) in &self.templates {
            let field = format!("templates.{key}");
            let parts: Vec<&str> = key.split('.').collect();
            let known = matches!(parts.as_slice(), [kind, language, part]
                if crate::notify::template::MessageKind::ALL.iter().any(|k| k.as_str() == *kind)
                    && self.languages.iter().any(|l| l.as_str() == *language)
                    && crate::notify::template::PARTS.contains(part));
            if !known {
                return Err(Error::invalid(
                    field,
                    "the key is kind.language.part: a message kind, a language of the event, and subject, intro, body, html, title or summary",
                ));
            }
            if source.len() > 20_000 {
                return Err(Error::invalid(field, "at most 20,000 characters"));
            }
            let multiline = matches!(parts.last(), Some(&("body" | "html" | "intro")));
            text::no_controls(&field, source, multiline)?;
            crate::notify::template::check_template(&field, source)?;
        }
        self.branding.validate()?;
        self.notifications.validate()?;
        crate::limits::encoded("settings", self, crate::limits::SETTINGS_BYTES)
    }

    /// The language to show a participant: theirs if the event has it, else the default.
    pub fn language_for(&self, preferred: Option<&Language>) -> &Language {
        preferred
            .and_then(|p| self.languages.iter().find(|l| *l == p))
            .unwrap_or(&self.default_language)
    }
}

/// The channels an event sends notifications on (N4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    /// Email.
    pub email: bool,
    /// A chat message through the host's chat.
    pub chat: bool,
    /// Web push.
    pub web_push: bool,
}

impl Channels {
    /// Whether `channel` is on.
    pub fn has(&self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email,
            Channel::Chat => self.chat,
            Channel::WebPush => self.web_push,
        }
    }

    /// The channels that are on, in a stable order.
    pub fn enabled(&self) -> Vec<Channel> {
        Channel::ALL.into_iter().filter(|c| self.has(*c)).collect()
    }
}

/// The definition of a custom field (R4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldDef {
    /// What the organizer calls it.
    pub label: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated() {
        let en = Language::new("en").unwrap();
        let mut s = EventSettings::new("Expo", en.clone());
        assert!(s.validate().is_ok());
        s.name = " ".into();
        assert_eq!(s.validate().unwrap_err().field(), Some("name"));
        s.name = "Expo".into();
        s.default_language = Language::new("fr").unwrap();
        assert_eq!(s.validate().unwrap_err().field(), Some("default_language"));
        s.default_language = en;
        s.reminders.offsets.push(ReminderOffset::days(7));
        assert_eq!(s.validate().unwrap_err().field(), Some("reminders.offsets"));
    }
}
