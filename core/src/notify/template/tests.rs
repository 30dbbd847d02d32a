//! The renderer and the shipped templates, in both languages.

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
    let e = check_template("templates.reminder.en.body", "Hello\n{% if x %}\nno end").unwrap_err();
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
