//! Tasks (T1–T3): what an organizer configures, and its lifecycle.

mod condition;
mod template;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use condition::Condition;
pub use template::Template;

use crate::error::{Error, Result};
use crate::event::EventSettings;
use crate::ids::{EventId, SegmentId, TaskId};
use crate::notify::{ReminderOffset, ReminderPolicy};
use crate::text::{self, Language};

/// A task as stored: its configuration plus its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// Its event.
    pub event: EventId,
    /// What the organizer configured.
    pub config: TaskConfig,
    /// Draft, published or archived.
    pub state: TaskState,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// Bumped by every write; a write of a stale version is a conflict.
    pub version: u64,
}

impl Task {
    /// The text in `language`, falling back to the event's default language (T1).
    pub fn text<'a>(&'a self, language: &Language, settings: &EventSettings) -> &'a TaskText {
        self.config
            .texts
            .get(language)
            .or_else(|| self.config.texts.get(&settings.default_language))
            .or_else(|| self.config.texts.values().next())
            .expect("a validated task has the default language's text")
    }

    /// Whether participants see it.
    pub fn is_published(&self) -> bool {
        self.state == TaskState::Published
    }

    /// Whether it completes automatically from a condition.
    pub fn condition(&self) -> Option<&Condition> {
        match &self.config.completion {
            CompletionMode::Automatic { condition } => Some(condition),
            CompletionMode::Manual => None,
        }
    }

    /// The reminder offsets in force: the task's own, else the event's.
    pub fn reminder_offsets<'a>(&'a self, policy: &'a ReminderPolicy) -> &'a [ReminderOffset] {
        self.config
            .reminder_offsets
            .as_deref()
            .unwrap_or(&policy.offsets)
    }
}

/// A task's lifecycle (T2): draft → published → archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Being prepared; participants do not see it; it can be deleted.
    Draft,
    /// Seen by the participants of its segment.
    Published,
    /// Hidden from participants; its progress is kept for reporting.
    Archived,
}

/// The name and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskText {
    /// The name (1..=200 characters after trim).
    pub name: String,
    /// The description shown to the participant (up to 10,000 characters).
    #[serde(default)]
    pub description: String,
}

/// How a task gets done (T3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum CompletionMode {
    /// The participant (or their assignee) marks it done, and can undo.
    Manual,
    /// Done as soon as the condition holds; not tickable by hand.
    Automatic {
        /// The condition.
        condition: Condition,
    },
}

/// Where the participant goes to do the task: "you must link the step" (T1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HelpLink {
    /// A web page (`http` or `https`).
    WebPage {
        /// Its address.
        url: String,
    },
    /// A step of a form of the host's form builder.
    FormStep {
        /// The form's key.
        form: String,
        /// The step's key.
        step: String,
    },
}

/// Everything an organizer configures on a task (T1). Editing a task replaces its whole
/// configuration; the history records one line per field that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskConfig {
    /// Name and description per language; the event's default language is required.
    pub texts: BTreeMap<Language, TaskText>,
    /// The deadline, if any.
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    /// The targeted segment; `None` targets every participant of the event.
    #[serde(default)]
    pub segment: Option<SegmentId>,
    /// Manual or automatic.
    pub completion: CompletionMode,
    /// Where the participant goes to do it.
    pub help: HelpLink,
    /// Display position (ascending; ties are ordered by deadline).
    #[serde(default)]
    pub position: i32,
    /// Whether publishing notifies the targeted participants (N1).
    #[serde(default)]
    pub notify_on_publish: bool,
    /// Reminder offsets for this task; `None` uses the event's (N3).
    #[serde(default)]
    pub reminder_offsets: Option<Vec<ReminderOffset>>,
    /// A manual task whose completion the organizer reviews: the participant submits, the
    /// organizer accepts, or rejects with a reason (T3, "validate a supporting document").
    #[serde(default)]
    pub review: bool,
}

impl TaskConfig {
    /// A manual task named `name` in `language`, linking to `help`.
    pub fn manual(language: Language, name: impl Into<String>, help: HelpLink) -> Self {
        Self {
            texts: [(
                language,
                TaskText {
                    name: name.into(),
                    description: String::new(),
                },
            )]
            .into(),
            deadline: None,
            segment: None,
            completion: CompletionMode::Manual,
            help,
            position: 0,
            notify_on_publish: false,
            reminder_offsets: None,
            review: false,
        }
    }

    /// An automatic task named `name` in `language`, done when `condition` holds.
    pub fn automatic(
        language: Language,
        name: impl Into<String>,
        condition: Condition,
        help: HelpLink,
    ) -> Self {
        Self {
            completion: CompletionMode::Automatic { condition },
            ..Self::manual(language, name, help)
        }
    }

    /// Checks the configuration against the event's settings and returns it normalised
    /// (names trimmed). The error names the field (`texts.en.name`, `help.url`, …).
    pub fn validate(mut self, settings: &EventSettings) -> Result<Self> {
        if !self.texts.contains_key(&settings.default_language) {
            return Err(Error::invalid(
                format!("texts.{}", settings.default_language),
                "the event's default language must have a name",
            ));
        }
        for (lang, t) in &mut self.texts {
            if !settings.languages.contains(lang) {
                return Err(Error::invalid(
                    format!("texts.{lang}"),
                    "not one of the event's languages",
                ));
            }
            t.name = text::required_text(&format!("texts.{lang}.name"), &t.name, 200)?;
            text::bounded_lines(&format!("texts.{lang}.description"), &t.description, 10_000)?;
        }
        if let CompletionMode::Automatic { condition } = &self.completion {
            condition.validate()?;
            if self.review {
                return Err(Error::invalid(
                    "review",
                    "only a manual task can require the organizer's review",
                ));
            }
        }
        if let Some(d) = self.deadline
            && !(2000..2200).contains(&chrono::Datelike::year(&d))
        {
            return Err(Error::invalid(
                "deadline",
                "must fall between the years 2000 and 2199",
            ));
        }
        match &self.help {
            HelpLink::WebPage { url } => text::web_url("help.url", url)?,
            HelpLink::FormStep { form, step } => {
                text::key("help.form", form)?;
                text::key("help.step", step)?;
            }
        }
        if let Some(offsets) = &self.reminder_offsets {
            ReminderPolicy {
                offsets: offsets.clone(),
                overdue: false,
            }
            .validate()
            .map_err(|e| match e {
                Error::Invalid { reason, .. } => Error::invalid("reminder_offsets", reason),
                other => other,
            })?;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EventSettings {
        let mut s = EventSettings::new("Expo", Language::new("en").unwrap());
        s.languages.push(Language::new("fr").unwrap());
        s
    }

    fn web(url: &str) -> HelpLink {
        HelpLink::WebPage { url: url.into() }
    }

    #[test]
    fn t1_config_is_validated_and_names_trimmed() {
        let en = Language::new("en").unwrap();
        let fr = Language::new("fr").unwrap();
        let ok = TaskConfig::manual(en.clone(), "  Book your hotel ", web("https://x.org"))
            .validate(&settings())
            .unwrap();
        assert_eq!(ok.texts[&en].name, "Book your hotel");

        let e = TaskConfig::manual(fr.clone(), "Réserver", web("https://x.org"))
            .validate(&settings())
            .unwrap_err();
        assert_eq!(e.field(), Some("texts.en"));

        let e = TaskConfig::manual(en.clone(), "x".repeat(201), web("https://x.org"))
            .validate(&settings())
            .unwrap_err();
        assert_eq!(e.field(), Some("texts.en.name"));

        let e = TaskConfig::manual(en.clone(), "ok", web("mailto:a@b.c"))
            .validate(&settings())
            .unwrap_err();
        assert_eq!(e.field(), Some("help.url"));

        let mut de = TaskConfig::manual(en.clone(), "ok", web("https://x.org"));
        de.texts.insert(
            Language::new("de").unwrap(),
            TaskText {
                name: "x".into(),
                description: String::new(),
            },
        );
        assert_eq!(
            de.validate(&settings()).unwrap_err().field(),
            Some("texts.de")
        );

        let e = TaskConfig::automatic(
            en,
            "x",
            Condition::Products { at_least: 0 },
            web("https://x.org"),
        )
        .validate(&settings())
        .unwrap_err();
        assert_eq!(e.field(), Some("condition.at_least"));
    }

    #[test]
    fn t1_missing_translation_falls_back_to_default_language() {
        let s = settings();
        let en = Language::new("en").unwrap();
        let t = Task {
            id: TaskId::min(),
            event: EventId::min(),
            config: TaskConfig::manual(en, "Upload", web("https://x.org")),
            state: TaskState::Draft,
            created_at: DateTime::<Utc>::MIN_UTC,
            updated_at: DateTime::<Utc>::MIN_UTC,
            published_at: None,
            version: 1,
        };
        assert_eq!(t.text(&Language::new("fr").unwrap(), &s).name, "Upload");
    }
}
