//! Rendering notifications from templates (N6, N12), with `minijinja`.
//!
//! Each kind of notification has its own subject and opening sentences (`intro`) per
//! language, French and English shipped; the text part, the HTML part and a push
//! notification's two lines are laid out around them by layouts shared by every kind,
//! whose words come from the language's phrases (`say`). The recipient's language is
//! used when it has templates, else the event's default language, else English. An event
//! may override any part, per kind and language (`reminder.fr.intro`, `publication.en.html`).
//! A template sees:
//!
//! | variable | what |
//! |---|---|
//! | `kind` | the message kind (`publication`, `assignment`, `reminder`, `reminders`, `nudge`, `review_rejected`, `digest`) |
//! | `lang` | the language it is rendered in |
//! | `event` | the event's name |
//! | `recipient` | the recipient's first name (may be empty) |
//! | `owner` | the task owner's full name (assignments, rejections, reminders of a teammate's task) |
//! | `tasks` | the tasks concerned, each with `name`, `description`, `excerpt` (the description's first lines), `deadline` (in words, in the recipient's time zone and language: "jeudi 21 janvier 2027 à 18 h 00"), `deadline_short` ("demain à 18 h 00"), `deadline_iso` (RFC 3339), `overdue`, `link`, `when` (for reminders: `week`, `day`, `overdue`…), and in a digest `what` (the kind each line came as: `publication`, `assignment`, `reminder`, `overdue`, `nudge`, `review_rejected`), `by` (who handed it over) and `note` (the organizer's comment) |
//! | `task` | the first of `tasks` |
//! | `reason` | the organizer's reason (a rejection) |
//! | `link` | where to act: the task's link for one task, else the host's Tasks page |
//! | `unsubscribe_url` | the one-click unsubscribe link, or empty |
//! | `logo_url`, `colour` | the event's branding (`colour` always set) |
//! | `intro` | the rendered `intro` (in `subject`, `body`, `html`, `title`, `summary`) |
//! | `subject`, `title`, `summary` | the rendered parts (in `body` and `html`) |
//! | `say` | the layouts' words in the language (`say.hello`, `say.due`, …) |
//!
//! The `html` part is rendered with HTML escaping on; every other part is plain text.

use std::collections::BTreeMap;

use minijinja::Environment;
use serde::Serialize;

use super::shipped::{BODY, EN, FR, HTML, SAY, SUMMARY, TITLE};
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
    /// Messages of several kinds that waited for the recipient's send window, sent
    /// together when it opened (N9); each follows its own kind's preferences.
    Digest,
}

impl MessageKind {
    /// Every kind.
    pub const ALL: [MessageKind; 7] = [
        MessageKind::Publication,
        MessageKind::Assignment,
        MessageKind::Reminder,
        MessageKind::Reminders,
        MessageKind::Nudge,
        MessageKind::ReviewRejected,
        MessageKind::Digest,
    ];

    /// Its lane in the outbox (N11): dispatchers claim every due entry of a lower lane
    /// before any of a higher one, so that a notice to 100,000 never delays an
    /// assignment. 0: a task handed over, a submission decided; 1: reminders, the
    /// organizers' included; 2: publication notices (and anything else).
    pub fn lane(self) -> u8 {
        match self {
            Self::Assignment | Self::ReviewRejected => 0,
            Self::Reminder | Self::Reminders | Self::Nudge => 1,
            Self::Publication | Self::Digest => 2,
        }
    }

    /// The number of lanes ([`MessageKind::lane`] is below it).
    pub const LANES: u8 = 3;

    /// Its name in template names (`publication`, `assignment`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publication => "publication",
            Self::Assignment => "assignment",
            Self::Reminder => "reminder",
            Self::Reminders => "reminders",
            Self::Nudge => "nudge",
            Self::ReviewRejected => "review_rejected",
            Self::Digest => "digest",
        }
    }
}

/// The parts of a message an event may override.
pub(crate) const PARTS: [&str; 6] = ["subject", "intro", "body", "html", "title", "summary"];

/// One task as a template sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct TaskView {
    pub name: String,
    pub description: String,
    pub excerpt: String,
    pub deadline: String,
    pub deadline_short: String,
    pub deadline_iso: String,
    pub overdue: bool,
    pub link: String,
    pub when: String,
    /// In a digest (N9), what the line is: the kind it came as (`publication`,
    /// `assignment`, `reminder`, `overdue`, `nudge`, `review_rejected`); else empty.
    pub what: String,
    /// In a digest, who handed the task over (an assignment).
    pub by: String,
    /// In a digest, the organizer's comment (a refused submission).
    pub note: String,
}

/// What a template sees, besides what the renderer lays over it: `say` (the layouts'
/// words), and for the parts that show them `intro`, `subject`, `title` and `summary`.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct View {
    pub kind: &'static str,
    pub lang: String,
    pub event: String,
    pub recipient: String,
    pub owner: String,
    pub tasks: Vec<TaskView>,
    pub task: Option<TaskView>,
    pub reason: String,
    pub link: String,
    pub unsubscribe_url: String,
    pub logo_url: String,
    pub colour: String,
}

/// A message rendered in every form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub subject: String,
    pub body: String,
    pub html: String,
    pub title: String,
    pub summary: String,
}

/// The work one render of an organizer's template may do (minijinja's fuel: about one
/// unit per instruction and per 64 bytes of data made), so that a template that compiles
/// but would loop for hours or build gigabytes (`{% for a in range(100000) %}{% for b in
/// range(100000) %}…`) fails to render — a dead letter the organizer can list — instead of
/// stalling or exhausting the dispatcher of every event (X5). The shipped templates need a
/// few thousand units; this leaves room for grouped messages of hundreds of tasks.
const TEMPLATE_FUEL: u64 = 200_000;

/// A template's name: `kind.language.part`.
fn name(kind: MessageKind, language: &str, part: &str) -> String {
    format!("{}.{language}.{part}", kind.as_str())
}

/// HTML escaping for the `html` part, none for the others.
fn escape(name: &str) -> minijinja::AutoEscape {
    if name.ends_with(".html") {
        minijinja::AutoEscape::Html
    } else {
        minijinja::AutoEscape::None
    }
}

/// Writes a value into a template's output: in HTML, escaping `&`, `<`, `>`, `"` and `'`
/// only (minijinja's own escaping also writes `/` as `&#x2f;`, which makes every link of an
/// email unreadable in its source and to the filters that read it); elsewhere as
/// minijinja does.
fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> std::result::Result<(), minijinja::Error> {
    use std::fmt::Write;
    if matches!(state.auto_escape(), minijinja::AutoEscape::Html)
        && !value.is_safe()
        && !value.is_undefined()
        && !value.is_none()
    {
        let text = value.to_string();
        for c in text.chars() {
            let written = match c {
                '&' => out.write_str("&amp;"),
                '<' => out.write_str("&lt;"),
                '>' => out.write_str("&gt;"),
                '"' => out.write_str("&quot;"),
                '\'' => out.write_str("&#39;"),
                c => out.write_char(c),
            };
            written.map_err(|_| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "could not write")
            })?;
        }
        return Ok(());
    }
    minijinja::escape_formatter(out, state, value)
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
    say: BTreeMap<&'static str, BTreeMap<&'static str, &'static str>>,
    /// The words of each language as a template value, made once: every part of every
    /// message reads them.
    say_values: BTreeMap<&'static str, minijinja::Value>,
}

impl Renderer {
    /// The shipped French and English templates.
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(escape);
        env.set_formatter(format_value);
        for (language, set) in [("en", EN), ("fr", FR)] {
            for (kind, subject, intro) in set {
                // The shipped templates are tested to compile (see the tests below).
                let _ = env.add_template_owned(name(*kind, language, "subject"), *subject);
                let _ = env.add_template_owned(name(*kind, language, "intro"), *intro);
            }
        }
        for (part, source) in [
            ("body", BODY),
            ("html", HTML),
            ("title", TITLE),
            ("summary", SUMMARY),
        ] {
            let _ = env.add_template_owned(format!("layout.{part}"), source);
        }
        let say = SAY
            .iter()
            .map(|(l, words)| (*l, words.iter().copied().collect()))
            .collect::<BTreeMap<_, BTreeMap<_, _>>>();
        let say_values = say
            .iter()
            .map(|(l, words)| (*l, minijinja::Value::from(minijinja::value::Serde(words))))
            .collect();
        Self {
            env,
            say,
            say_values,
        }
    }

    /// The language to render in: the recipient's if it has templates, else the event's
    /// default, else English.
    pub(crate) fn language<'a>(&self, wanted: &'a Language, default: &'a Language) -> String {
        [wanted.as_str(), default.as_str()]
            .into_iter()
            .find(|l| self.say.contains_key(*l))
            .unwrap_or("en")
            .to_owned()
    }

    /// Renders every part of `kind` in `language`, with the event's own templates
    /// (`overrides`, by `kind.language.part`) where it has them: the intro first, then
    /// the subject, the push title and line, then the text and HTML parts that show them.
    pub(crate) fn render(
        &self,
        kind: MessageKind,
        language: &str,
        view: &View,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Rendered> {
        let mut view = view.clone();
        view.kind = kind.as_str();
        view.lang = language.to_owned();
        // The view becomes a template value once; the words, and the parts rendered first
        // (intro, subject, title, summary) for the parts that show them, are laid over it,
        // rather than the whole view converted again for each of the six parts.
        let say = self
            .say_values
            .get(language)
            .cloned()
            .unwrap_or_else(|| minijinja::Value::from(()));
        let base = minijinja::Value::from(minijinja::value::Serde(&view));
        let first = minijinja::context! { say => say, ..base };
        let part = |context: &minijinja::Value, part: &str| -> Result<String> {
            let key = name(kind, language, part);
            let context = context.clone();
            match overrides.get(&key) {
                Some(source) => {
                    // The organizer's template is the input at fault: say which and why.
                    let bad = |e: minijinja::Error| {
                        Error::invalid(format!("templates.{key}"), format!("does not render: {e}"))
                    };
                    let mut env = Environment::new();
                    env.set_auto_escape_callback(escape);
                    env.set_formatter(format_value);
                    env.set_fuel(Some(TEMPLATE_FUEL));
                    env.add_template_owned(key.clone(), source.clone())
                        .map_err(bad)?;
                    let t = env.get_template(&key).map_err(bad)?;
                    t.render(context).map_err(bad)
                }
                None => {
                    let shipped = if matches!(part, "subject" | "intro") {
                        key
                    } else {
                        format!("layout.{part}")
                    };
                    self.env
                        .get_template(&shipped)
                        .map_err(Error::backend)?
                        .render(context)
                        .map_err(Error::backend)
                }
            }
        };
        let intro = part(&first, "intro")?.trim().to_owned();
        let second = minijinja::context! { intro => intro, ..first };
        let subject = one_line(&part(&second, "subject")?);
        let title = one_line(&part(&second, "title")?);
        let summary = one_line(&part(&second, "summary")?);
        let last = minijinja::context! {
            subject => subject.clone(),
            title => title.clone(),
            summary => summary.clone(),
            ..second
        };
        let body = tidy(&part(&last, "body")?);
        let html = part(&last, "html")?;
        Ok(Rendered {
            subject,
            body,
            html,
            title,
            summary,
        })
    }
}

/// A text on one line: its lines joined by spaces.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A text part as a mail client shows it best: no trailing spaces (but the signature
/// line `-- `), at most one blank line in a row, none at the start, one line break at the
/// end.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = true;
    for line in s.lines() {
        let line = if line == "-- " { line } else { line.trim_end() };
        if line.is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
        blank = false;
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests;
