//! Rendering notifications from templates (N6), with `minijinja`.
//!
//! Each kind of notification has a subject and a body template per language; French and
//! English ship with the library. The recipient's language is used when it has templates,
//! else the event's default language, else English. A template sees:
//!
//! | variable | what |
//! |---|---|
//! | `event` | the event's name |
//! | `recipient` | the recipient's first name (may be empty) |
//! | `owner` | the task owner's full name (assignments, rejections, reminders of a teammate's task) |
//! | `tasks` | the tasks concerned, each with `name`, `description`, `deadline` (in the event's time zone, or empty), `link` and `when` (for reminders: `week`, `day`, `overdue`…) |
//! | `task` | the first of `tasks` |
//! | `reason` | the organizer's reason (a rejection) |
//! | `link` | where to act (the first task's link, else the host's Tasks page) |

use std::collections::BTreeMap;

use minijinja::Environment;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::text::Language;

/// The kinds of messages, each with its own templates.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageKind {
    /// Tasks published to the recipient (N1).
    Publication,
    /// A task assigned to the recipient (N2).
    Assignment,
    /// One reminder (N3).
    Reminder,
    /// Reminders grouped into one message (N7).
    Reminders,
    /// An organizer's "remind now" (B5).
    Nudge,
    /// A submission refused by the organizer (T3).
    ReviewRejected,
}

impl MessageKind {
    /// Every kind.
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Publication,
        MessageKind::Assignment,
        MessageKind::Reminder,
        MessageKind::Reminders,
        MessageKind::Nudge,
        MessageKind::ReviewRejected,
    ];

    /// Its name in template names (`publication`, `assignment`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publication => "publication",
            Self::Assignment => "assignment",
            Self::Reminder => "reminder",
            Self::Reminders => "reminders",
            Self::Nudge => "nudge",
            Self::ReviewRejected => "review_rejected",
        }
    }
}

/// One task as a template sees it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TaskView {
    pub name: String,
    pub description: String,
    pub deadline: String,
    pub link: String,
    pub when: String,
}

/// What a template sees.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct View {
    pub event: String,
    pub recipient: String,
    pub owner: String,
    pub tasks: Vec<TaskView>,
    pub task: Option<TaskView>,
    pub reason: String,
    pub link: String,
}

const EN: &[(MessageKind, &str, &str)] = &[
    (
        MessageKind::Publication,
        "{% if tasks|length == 1 %}New task for {{ event }}: {{ task.name }}{% else %}{{ tasks|length }} new tasks for {{ event }}{% endif %}",
        "Hello {{ recipient }},\n\n{% if tasks|length == 1 %}A new task awaits you{% else %}New tasks await you{% endif %} for {{ event }}:\n{% for t in tasks %}\n- {{ t.name }}{% if t.deadline %} (before {{ t.deadline }}){% endif %}{% if t.link %}: {{ t.link }}{% endif %}{% endfor %}\n",
    ),
    (
        MessageKind::Assignment,
        "{{ owner }} handed you a task: {{ task.name }}",
        "Hello {{ recipient }},\n\n{{ owner }} handed you the task \"{{ task.name }}\" for {{ event }}.{% if task.deadline %}\nDeadline: {{ task.deadline }}.{% endif %}\n{% if link %}\n{{ link }}\n{% endif %}",
    ),
    (
        MessageKind::Reminder,
        "{% if task.when == 'overdue' %}Overdue: {{ task.name }}{% else %}Reminder: {{ task.name }} is due {{ task.deadline }}{% endif %}",
        "Hello {{ recipient }},\n\n{% if task.when == 'overdue' %}The deadline of \"{{ task.name }}\" ({{ task.deadline }}) has passed and it is not done yet.{% else %}\"{{ task.name }}\" is due {{ task.deadline }}.{% endif %}{% if owner %} (a task of {{ owner }}){% endif %}\n{% if link %}\n{{ link }}\n{% endif %}",
    ),
    (
        MessageKind::Reminders,
        "Reminder: {{ tasks|length }} tasks due soon for {{ event }}",
        "Hello {{ recipient }},\n\nThese tasks for {{ event }} are due soon:\n{% for t in tasks %}\n- {{ t.name }}: {% if t.when == 'overdue' %}overdue since {{ t.deadline }}{% else %}due {{ t.deadline }}{% endif %}{% if t.link %} ({{ t.link }}){% endif %}{% endfor %}\n",
    ),
    (
        MessageKind::Nudge,
        "A reminder from the organizers: {{ task.name }}",
        "Hello {{ recipient }},\n\nThe organizers of {{ event }} remind you of the task \"{{ task.name }}\"{% if task.deadline %}, due {{ task.deadline }}{% endif %}.\n{% if link %}\n{{ link }}\n{% endif %}",
    ),
    (
        MessageKind::ReviewRejected,
        "Your submission needs another look: {{ task.name }}",
        "Hello {{ recipient }},\n\nThe organizers of {{ event }} could not accept \"{{ task.name }}\" yet:\n\n{{ reason }}\n\nYou can submit it again.\n{% if link %}\n{{ link }}\n{% endif %}",
    ),
];

const FR: &[(MessageKind, &str, &str)] = &[
    (
        MessageKind::Publication,
        "{% if tasks|length == 1 %}Nouvelle tâche pour {{ event }} : {{ task.name }}{% else %}{{ tasks|length }} nouvelles tâches pour {{ event }}{% endif %}",
        "Bonjour {{ recipient }},\n\n{% if tasks|length == 1 %}Une nouvelle tâche vous attend{% else %}De nouvelles tâches vous attendent{% endif %} pour {{ event }} :\n{% for t in tasks %}\n- {{ t.name }}{% if t.deadline %} (avant le {{ t.deadline }}){% endif %}{% if t.link %} : {{ t.link }}{% endif %}{% endfor %}\n",
    ),
    (
        MessageKind::Assignment,
        "{{ owner }} vous a confié une tâche : {{ task.name }}",
        "Bonjour {{ recipient }},\n\n{{ owner }} vous a confié la tâche « {{ task.name }} » pour {{ event }}.{% if task.deadline %}\nÉchéance : {{ task.deadline }}.{% endif %}\n{% if link %}\n{{ link }}\n{% endif %}",
    ),
    (
        MessageKind::Reminder,
        "{% if task.when == 'overdue' %}En retard : {{ task.name }}{% else %}Rappel : {{ task.name }} à faire avant le {{ task.deadline }}{% endif %}",
        "Bonjour {{ recipient }},\n\n{% if task.when == 'overdue' %}L'échéance de « {{ task.name }} » ({{ task.deadline }}) est passée et la tâche n'est pas encore faite.{% else %}« {{ task.name }} » est à faire avant le {{ task.deadline }}.{% endif %}{% if owner %} (une tâche de {{ owner }}){% endif %}\n{% if link %}\n{{ link }}\n{% endif %}",
    ),
    (
        MessageKind::Reminders,
        "Rappel : {{ tasks|length }} tâches à faire bientôt pour {{ event }}",
        "Bonjour {{ recipient }},\n\nCes tâches pour {{ event }} arrivent à échéance :\n{% for t in tasks %}\n- {{ t.name }} : {% if t.when == 'overdue' %}en retard depuis le {{ t.deadline }}{% else %}avant le {{ t.deadline }}{% endif %}{% if t.link %} ({{ t.link }}){% endif %}{% endfor %}\n",
    ),
    (
        MessageKind::Nudge,
        "Un rappel des organisateurs : {{ task.name }}",
        "Bonjour {{ recipient }},\n\nLes organisateurs de {{ event }} vous rappellent la tâche « {{ task.name }} »{% if task.deadline %}, à faire avant le {{ task.deadline }}{% endif %}.\n{% if link %}\n{{ link }}\n{% endif %}",
    ),
    (
        MessageKind::ReviewRejected,
        "Votre envoi est à reprendre : {{ task.name }}",
        "Bonjour {{ recipient }},\n\nLes organisateurs de {{ event }} n'ont pas encore pu accepter « {{ task.name }} » :\n\n{{ reason }}\n\nVous pouvez l'envoyer à nouveau.\n{% if link %}\n{{ link }}\n{% endif %}",
    ),
];

/// The work one render of an organizer's template may do (minijinja's fuel: about one
/// unit per instruction and per 64 bytes of data made), so that a template that compiles
/// but would loop for hours or build gigabytes (`{% for a in range(100000) %}{% for b in
/// range(100000) %}…`) fails to render — a dead letter the organizer can list — instead of
/// stalling or exhausting the dispatcher of every event (X5). The shipped templates need a
/// few hundred units; this leaves room for grouped messages of hundreds of tasks.
const TEMPLATE_FUEL: u64 = 200_000;

/// A template's name: `kind.language.part`, `part` being `subject` or `body`.
fn name(kind: MessageKind, language: &str, part: &str) -> String {
    format!("{}.{language}.{part}", kind.as_str())
}

/// Checks a template's syntax; the error names the field and gives the line and reason.
pub(crate) fn check_template(field: &str, source: &str) -> Result<()> {
    let mut env = Environment::new();
    env.add_template_owned("t".to_owned(), source.to_owned())
        .map(|_| ())
        .map_err(|e| {
            Error::invalid(
                field.to_owned(),
                format!(
                    "the template does not compile (line {}): {}",
                    e.line().unwrap_or(0),
                    e.detail().unwrap_or("syntax error")
                ),
            )
        })
}

/// The shipped templates, and any overrides, compiled once.
pub(crate) struct Renderer {
    env: Environment<'static>,
    languages: BTreeMap<String, ()>,
}

impl Renderer {
    /// The shipped French and English templates.
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let mut languages = BTreeMap::new();
        for (language, set) in [("en", EN), ("fr", FR)] {
            languages.insert(language.to_owned(), ());
            for (kind, subject, body) in set {
                // The shipped templates are tested to compile (see the tests below).
                let _ = env.add_template_owned(name(*kind, language, "subject"), *subject);
                let _ = env.add_template_owned(name(*kind, language, "body"), *body);
            }
        }
        Self { env, languages }
    }

    /// The language to render in: the recipient's if it has templates, else the event's
    /// default, else English.
    pub(crate) fn language<'a>(&self, wanted: &'a Language, default: &'a Language) -> String {
        [wanted.as_str(), default.as_str()]
            .into_iter()
            .find(|l| self.languages.contains_key(*l))
            .unwrap_or("en")
            .to_owned()
    }

    /// Renders the subject and body of `kind` in `language`, with the event's own
    /// templates (`overrides`, by `kind.language.part`) where it has them.
    pub(crate) fn render(
        &self,
        kind: MessageKind,
        language: &str,
        view: &View,
        overrides: &BTreeMap<String, String>,
    ) -> Result<(String, String)> {
        let render = |part: &str| -> Result<String> {
            let key = name(kind, language, part);
            let context = minijinja::value::Serde(view);
            match overrides.get(&key) {
                Some(source) => {
                    // The organizer's template is the input at fault: say which and why.
                    let bad = |e: minijinja::Error| {
                        Error::invalid(format!("templates.{key}"), format!("does not render: {e}"))
                    };
                    let mut env = Environment::new();
                    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
                    env.set_fuel(Some(TEMPLATE_FUEL));
                    env.add_template_owned(key.clone(), source.clone())
                        .map_err(bad)?;
                    let t = env.get_template(&key).map_err(bad)?;
                    t.render(context).map_err(bad)
                }
                None => self
                    .env
                    .get_template(&key)
                    .map_err(Error::backend)?
                    .render(context)
                    .map_err(Error::backend),
            }
        };
        Ok((render("subject")?.trim().to_owned(), render("body")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(n: usize) -> View {
        let task = |i: usize| TaskView {
            name: format!("Task {i}"),
            description: String::new(),
            deadline: "2026-03-11 13:00 (Europe/Paris)".into(),
            link: format!("https://expo.example/help/{i}"),
            when: if i == 1 {
                "overdue".into()
            } else {
                "day".into()
            },
        };
        let tasks: Vec<_> = (0..n).map(task).collect();
        View {
            event: "Expo 2026".into(),
            recipient: "Ann".into(),
            owner: "Bob Martin".into(),
            task: tasks.first().cloned(),
            tasks,
            reason: "The logo is blurred".into(),
            link: "https://expo.example/help/0".into(),
        }
    }

    #[test]
    fn n6_every_shipped_template_compiles_and_renders_in_both_languages() {
        let r = Renderer::new();
        for language in ["en", "fr"] {
            for kind in MessageKind::ALL {
                let (subject, body) = r
                    .render(kind, language, &view(2), &BTreeMap::new())
                    .unwrap();
                assert!(
                    !subject.is_empty() && !subject.contains('\n'),
                    "{kind:?} {language}"
                );
                assert!(body.contains("Ann"), "{kind:?} {language}: {body}");
                assert!(
                    body.contains("Task 0")
                        || subject.contains("Task 0")
                        || kind == MessageKind::Reminders && body.contains("Task 0"),
                    "{kind:?} {language}: {body}"
                );
            }
        }
        let (subject, body) = r
            .render(MessageKind::Reminder, "fr", &view(1), &BTreeMap::new())
            .unwrap();
        assert_eq!(
            subject,
            "Rappel : Task 0 à faire avant le 2026-03-11 13:00 (Europe/Paris)"
        );
        assert!(body.contains("https://expo.example/help/0"), "{body}");
        let (subject, _) = r
            .render(MessageKind::Publication, "en", &view(3), &BTreeMap::new())
            .unwrap();
        assert_eq!(subject, "3 new tasks for Expo 2026");
    }

    #[test]
    fn n6_language_falls_back_to_the_events_then_english() {
        let r = Renderer::new();
        let (fr, en, de) = (
            Language::new("fr").unwrap(),
            Language::new("en").unwrap(),
            Language::new("de").unwrap(),
        );
        assert_eq!(r.language(&fr, &en), "fr");
        assert_eq!(r.language(&de, &fr), "fr");
        assert_eq!(r.language(&de, &de), "en");
    }

    #[test]
    fn n6_a_template_that_does_not_compile_is_refused_with_line_and_reason() {
        let e =
            check_template("templates.reminder.en.body", "Hello\n{% if x %}\nno end").unwrap_err();
        assert_eq!(e.field(), Some("templates.reminder.en.body"));
        let text = e.to_string();
        assert!(text.contains("line"), "{text}");
        assert!(check_template("t", "Hello {{ recipient }}").is_ok());
    }
}
