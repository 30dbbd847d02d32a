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
mod tests {
    use super::*;

    fn view(n: usize) -> View {
        let task = |i: usize| TaskView {
            name: format!("Task {i}"),
            description: "Upload it.\nIn colour.".into(),
            excerpt: "Upload it.\nIn colour.".into(),
            deadline: "Wednesday 11 March 2026 at 13:00".into(),
            deadline_short: "tomorrow at 13:00".into(),
            deadline_iso: "2026-03-11T12:00:00Z".into(),
            overdue: i == 1,
            link: format!("https://expo.example/help/{i}"),
            when: if i == 1 {
                "overdue".into()
            } else {
                "day".into()
            },
            ..TaskView::default()
        };
        let tasks: Vec<_> = (0..n).map(task).collect();
        View {
            event: "Expo <2026>".into(),
            recipient: "Ann".into(),
            owner: "Bob Martin".into(),
            task: tasks.first().cloned(),
            tasks,
            reason: "The logo is blurred".into(),
            link: "https://expo.example/help/0".into(),
            colour: "#1f5fbf".into(),
            ..View::default()
        }
    }

    #[test]
    fn n12_every_shipped_template_renders_every_part_in_both_languages() {
        let r = Renderer::new();
        for language in ["en", "fr"] {
            for kind in MessageKind::ALL {
                for n in [1, 2] {
                    let m = r
                        .render(kind, language, &view(n), &BTreeMap::new())
                        .unwrap();
                    let case = format!("{kind:?} {language} {n}");
                    for line in [&m.subject, &m.title, &m.summary] {
                        assert!(!line.is_empty() && !line.contains('\n'), "{case}: {line:?}");
                    }
                    assert!(m.body.contains("Ann,"), "{case}: {}", m.body);
                    assert!(m.body.contains("Task 0"), "{case}: {}", m.body);
                    assert!(m.body.contains("\n-- \n"), "{case}: a signature");
                    assert!(!m.body.contains("\n\n\n"), "{case}: {}", m.body);
                    // The action link is printed once; a second task's link once too.
                    assert_eq!(
                        m.body.matches("https://expo.example/help/0").count(),
                        1,
                        "{case}: {}",
                        m.body
                    );
                    assert!(m.html.starts_with("<!DOCTYPE html>"), "{case}");
                    assert!(
                        m.html.contains(&format!("<html lang=\"{language}\">")),
                        "{case}"
                    );
                    // The event's name is escaped in HTML, and only there.
                    assert!(m.html.contains("Expo &lt;2026&gt;"), "{case}");
                    assert!(!m.html.contains("Expo <2026>"), "{case}");
                    assert!(m.body.contains("Expo <2026>"), "{case}");
                    assert!(
                        m.html.contains("href=\"https://expo.example/help/0\""),
                        "{case}"
                    );
                }
            }
        }
    }

    /// N9: a digest says what each line came as, with who handed a task over and the
    /// organizer's comment, in the recipient's language.
    #[test]
    fn n9_a_digest_labels_each_line() {
        let r = Renderer::new();
        let mut v = view(3);
        v.tasks[0].what = "publication".into();
        v.tasks[1].what = "overdue".into();
        v.tasks[2].what = "assignment".into();
        v.tasks[2].by = "Bob Martin".into();
        v.tasks[0].note = "Use the new <logo>".into();
        let en = r
            .render(MessageKind::Digest, "en", &v, &BTreeMap::new())
            .unwrap();
        assert_eq!(en.subject, "3 updates on your tasks for Expo <2026>");
        assert_eq!(
            (en.title.as_str(), en.summary.as_str()),
            ("3 updates", "Expo <2026>")
        );
        for line in [
            "- [New task] Task 0",
            "    Use the new <logo>",
            "- [Overdue] Task 1: Overdue since",
            "- [Handed to you by Bob Martin] Task 2",
        ] {
            assert!(en.body.contains(line), "{line}: {}", en.body);
        }
        assert!(
            en.html.contains("Handed to you by Bob Martin</div>"),
            "{}",
            en.html
        );
        assert!(
            en.html.contains("Use the new &lt;logo&gt;</blockquote>"),
            "{}",
            en.html
        );
        let fr = r
            .render(MessageKind::Digest, "fr", &v, &BTreeMap::new())
            .unwrap();
        assert_eq!(fr.subject, "3 nouveautés sur vos tâches pour Expo <2026>");
        for line in [
            "- [Nouvelle tâche] Task 0",
            "- [En retard] Task 1",
            "- [Confiée par Bob Martin] Task 2",
        ] {
            assert!(fr.body.contains(line), "{line}: {}", fr.body);
        }
    }

    #[test]
    fn n12_subject_title_and_summary_read_as_people_write() {
        let r = Renderer::new();
        let render = |kind, language, n| {
            r.render(kind, language, &view(n), &BTreeMap::new())
                .unwrap()
        };
        let m = render(MessageKind::Reminder, "fr", 1);
        assert_eq!(m.subject, "Rappel : Task 0 à faire avant tomorrow at 13:00");
        assert_eq!(m.title, "Task 0");
        assert_eq!(m.summary, "À faire avant tomorrow at 13:00");
        assert!(
            m.body
                .starts_with("Bonjour Ann,\n\n«\u{a0}Task 0\u{a0}» est à faire avant le Wednesday"),
            "{}",
            m.body
        );
        assert!(
            m.body
                .contains("Ouvrir la tâche : https://expo.example/help/0"),
            "{}",
            m.body
        );
        let m = render(MessageKind::Publication, "en", 3);
        assert_eq!(m.subject, "3 new tasks for Expo <2026>");
        assert_eq!(m.title, "3 new tasks");
        assert!(
            m.body.contains("- Task 1: Overdue since Wednesday"),
            "{}",
            m.body
        );
        assert!(
            m.body.contains("  https://expo.example/help/2"),
            "{}",
            m.body
        );
        assert!(
            m.body.contains("See my tasks: https://expo.example/help/0"),
            "{}",
            m.body
        );
        let m = render(MessageKind::Reminders, "en", 2);
        assert_eq!(m.title, "2 tasks due");
        let m = render(MessageKind::Assignment, "en", 1);
        assert_eq!(m.summary, "Handed to you by Bob Martin");
        let m = render(MessageKind::ReviewRejected, "en", 1);
        assert!(m.body.contains("\n    The logo is blurred\n"), "{}", m.body);
        assert!(
            m.body.contains("Submit again: https://expo.example/help/0"),
            "{}",
            m.body
        );
    }

    #[test]
    fn n12_the_unsubscribe_link_shows_in_both_parts_when_given() {
        let r = Renderer::new();
        let mut v = view(1);
        let m = r
            .render(MessageKind::Nudge, "en", &v, &BTreeMap::new())
            .unwrap();
        assert!(!m.body.contains("Stop these emails"), "{}", m.body);
        assert!(!m.html.contains("Unsubscribe"));
        v.unsubscribe_url = "https://expo.example/u?t=a&b".into();
        let m = r
            .render(MessageKind::Nudge, "en", &v, &BTreeMap::new())
            .unwrap();
        assert!(
            m.body
                .contains("Stop these emails: https://expo.example/u?t=a&b"),
            "{}",
            m.body
        );
        assert!(
            m.html.contains("href=\"https://expo.example/u?t=a&amp;b\""),
            "{}",
            m.html
        );
    }

    #[test]
    fn n12_an_intro_override_shows_in_the_text_and_the_html() {
        let r = Renderer::new();
        let overrides = BTreeMap::from([(
            "nudge.en.intro".to_owned(),
            "Please finish {{ task.name }} <today>.".to_owned(),
        )]);
        let m = r
            .render(MessageKind::Nudge, "en", &view(1), &overrides)
            .unwrap();
        assert!(
            m.body.contains("Please finish Task 0 <today>."),
            "{}",
            m.body
        );
        assert!(
            m.html.contains("Please finish Task 0 &lt;today&gt;."),
            "{}",
            m.html
        );
        let overrides = BTreeMap::from([(
            "nudge.en.html".to_owned(),
            "<p>{{ intro }} {{ '<b>' }}</p>".to_owned(),
        )]);
        let m = r
            .render(MessageKind::Nudge, "en", &view(1), &overrides)
            .unwrap();
        assert_eq!(
            m.html,
            "<p>The organizers of Expo &lt;2026&gt; remind you of the task “Task 0”. &lt;b&gt;</p>"
        );
        // The intro is there for the subject and a push notification's lines too.
        let overrides = BTreeMap::from([
            ("nudge.en.subject".to_owned(), "Re: {{ intro }}".to_owned()),
            ("nudge.en.summary".to_owned(), "{{ intro }}".to_owned()),
        ]);
        let m = r
            .render(MessageKind::Nudge, "en", &view(1), &overrides)
            .unwrap();
        assert_eq!(
            m.subject,
            "Re: The organizers of Expo <2026> remind you of the task “Task 0”."
        );
        assert_eq!(m.summary, m.subject.trim_start_matches("Re: "));
    }

    /// N12: every value in the HTML part is escaped, attributes included.
    #[test]
    fn n12_html_escapes_every_value() {
        let r = Renderer::new();
        let mut v = view(2);
        v.recipient = "<Ann>".into();
        v.reason = "a & b".into();
        v.link = "https://expo.example/t?a=1&b=\"2\"".into();
        v.tasks[0].name = "Logo \"HD\" <b>".into();
        v.tasks[1].link = "https://expo.example/x'onmouseover='alert(1)".into();
        v.task = v.tasks.first().cloned();
        let m = r
            .render(MessageKind::ReviewRejected, "en", &v, &BTreeMap::new())
            .unwrap();
        assert!(m.html.contains("Hello &lt;Ann&gt;,"), "{}", m.html);
        assert!(m.html.contains("a &amp; b"));
        assert!(
            m.html
                .contains("href=\"https://expo.example/t?a=1&amp;b=&quot;2&quot;\"")
        );
        assert!(m.html.contains("Logo &quot;HD&quot; &lt;b&gt;"));
        assert!(m.html.contains("x&#39;onmouseover=&#39;alert(1)"));
        assert!(!m.html.contains("<b>") && !m.html.contains("'onmouseover"));
        // The text part is text: nothing escaped.
        assert!(m.body.contains("Hello <Ann>,"), "{}", m.body);
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

    #[test]
    fn n12_tidy_keeps_the_signature_and_one_blank_line() {
        assert_eq!(
            tidy("\n\nHello,  \n\n\n\nText\n-- \nEnd\n\n\n"),
            "Hello,\n\nText\n-- \nEnd\n"
        );
    }
}
