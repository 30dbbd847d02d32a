//! The templates that ship with the library (N6, N12): per kind a subject and an intro in
//! English and French, the layouts every kind shares (the text part, the HTML part, a push
//! notification's title and line), and the words the layouts use per language. The
//! renderer is in `template.rs`.

use super::template::MessageKind;

/// Subject and intro, per kind, in English.
pub(super) const EN: &[(MessageKind, &str, &str)] = &[
    (
        MessageKind::Publication,
        "{% if tasks|length == 1 %}New task for {{ event }}: {{ task.name }}{% else %}{{ tasks|length }} new tasks for {{ event }}{% endif %}",
        "{% if tasks|length == 1 %}A new task awaits you for {{ event }}.{% else %}{{ tasks|length }} new tasks await you for {{ event }}.{% endif %}",
    ),
    (
        MessageKind::Assignment,
        "{{ owner }} handed you a task: {{ task.name }}",
        "{{ owner }} handed you the task “{{ task.name }}” for {{ event }}.",
    ),
    (
        MessageKind::Reminder,
        "{% if task.overdue %}Overdue: {{ task.name }}{% else %}Reminder: {{ task.name }} is due {{ task.deadline_short }}{% endif %}",
        "{% if task.overdue %}The deadline of “{{ task.name }}” has passed and it is not done yet.{% else %}“{{ task.name }}” is due {{ task.deadline }}.{% endif %}{% if owner %} It is a task of {{ owner }}.{% endif %}",
    ),
    (
        MessageKind::Reminders,
        "Reminder: {{ tasks|length }} tasks due soon for {{ event }}",
        "These tasks for {{ event }} are due soon.",
    ),
    (
        MessageKind::Nudge,
        "A reminder from the organizers: {{ task.name }}",
        "The organizers of {{ event }} remind you of the task “{{ task.name }}”.",
    ),
    (
        MessageKind::ReviewRejected,
        "Your submission needs another look: {{ task.name }}",
        "The organizers of {{ event }} could not accept “{{ task.name }}” yet. Their comment:",
    ),
    (
        MessageKind::Digest,
        "{{ tasks|length }} updates on your tasks for {{ event }}",
        "Here is what is new on your tasks for {{ event }}, gathered in one message.",
    ),
];

/// Subject and intro, per kind, in French.
pub(super) const FR: &[(MessageKind, &str, &str)] = &[
    (
        MessageKind::Publication,
        "{% if tasks|length == 1 %}Nouvelle tâche pour {{ event }} : {{ task.name }}{% else %}{{ tasks|length }} nouvelles tâches pour {{ event }}{% endif %}",
        "{% if tasks|length == 1 %}Une nouvelle tâche vous attend pour {{ event }}.{% else %}{{ tasks|length }} nouvelles tâches vous attendent pour {{ event }}.{% endif %}",
    ),
    (
        MessageKind::Assignment,
        "{{ owner }} vous a confié une tâche : {{ task.name }}",
        "{{ owner }} vous a confié la tâche « {{ task.name }} » pour {{ event }}.",
    ),
    (
        MessageKind::Reminder,
        "{% if task.overdue %}En retard : {{ task.name }}{% else %}Rappel : {{ task.name }} à faire avant {{ task.deadline_short }}{% endif %}",
        "{% if task.overdue %}L'échéance de « {{ task.name }} » est passée et la tâche n'est pas encore faite.{% else %}« {{ task.name }} » est à faire avant le {{ task.deadline }}.{% endif %}{% if owner %} C'est une tâche de {{ owner }}.{% endif %}",
    ),
    (
        MessageKind::Reminders,
        "Rappel : {{ tasks|length }} tâches à faire bientôt pour {{ event }}",
        "Ces tâches pour {{ event }} arrivent à échéance.",
    ),
    (
        MessageKind::Nudge,
        "Un rappel des organisateurs : {{ task.name }}",
        "Les organisateurs de {{ event }} vous rappellent la tâche « {{ task.name }} ».",
    ),
    (
        MessageKind::ReviewRejected,
        "Votre envoi est à reprendre : {{ task.name }}",
        "Les organisateurs de {{ event }} n'ont pas encore pu accepter « {{ task.name }} ». Leur commentaire :",
    ),
    (
        MessageKind::Digest,
        "{{ tasks|length }} nouveautés sur vos tâches pour {{ event }}",
        "Voici les nouveautés sur vos tâches pour {{ event }}, réunies en un seul message.",
    ),
];

/// The layouts' words, per language.
pub(super) const SAY: &[(&str, &[(&str, &str)])] = &[
    (
        "en",
        &[
            ("hello", "Hello"),
            ("colon", ":"),
            ("due", "Due"),
            ("due_short", "Due"),
            ("overdue", "Overdue since"),
            ("overdue_short", "Overdue since"),
            ("handed_by", "Handed to you by"),
            ("from_organizers", "A reminder from the organizers"),
            ("submit_again", "You can submit it again."),
            ("changes_needed", "Changes needed: submit it again"),
            ("open_task", "Open the task"),
            ("see_tasks", "See my tasks"),
            ("submit_action", "Submit again"),
            ("new_tasks", "new tasks"),
            ("tasks_due", "tasks due"),
            ("footer", "You receive this email as a participant of"),
            ("unsubscribe", "Unsubscribe"),
            ("unsubscribe_text", "Stop these emails:"),
            ("updates", "updates"),
            ("what_publication", "New task"),
            ("what_assignment", "Handed to you by"),
            ("what_reminder", "Reminder"),
            ("what_overdue", "Overdue"),
            ("what_nudge", "From the organizers"),
            ("what_review_rejected", "Changes needed"),
        ],
    ),
    (
        "fr",
        &[
            ("hello", "Bonjour"),
            ("colon", " :"),
            ("due", "À faire avant le"),
            ("due_short", "À faire avant"),
            ("overdue", "En retard depuis le"),
            ("overdue_short", "En retard depuis"),
            ("handed_by", "Confiée par"),
            ("from_organizers", "Un rappel des organisateurs"),
            ("submit_again", "Vous pouvez l'envoyer à nouveau."),
            ("changes_needed", "À reprendre : envoyez-la à nouveau"),
            ("open_task", "Ouvrir la tâche"),
            ("see_tasks", "Voir mes tâches"),
            ("submit_action", "Envoyer à nouveau"),
            ("new_tasks", "nouvelles tâches"),
            ("tasks_due", "tâches à faire"),
            (
                "footer",
                "Vous recevez ce message en tant que participant de",
            ),
            ("unsubscribe", "Se désabonner"),
            ("unsubscribe_text", "Ne plus recevoir ces messages :"),
            ("updates", "nouveautés"),
            ("what_publication", "Nouvelle tâche"),
            ("what_assignment", "Confiée par"),
            ("what_reminder", "Rappel"),
            ("what_overdue", "En retard"),
            ("what_nudge", "Rappel des organisateurs"),
            ("what_review_rejected", "À reprendre"),
        ],
    ),
];

/// A push notification's title: the task, or how many.
pub(super) const TITLE: &str = "{% if tasks|length > 1 %}{{ tasks|length }} {% if kind == 'publication' %}{{ say.new_tasks }}{% elif kind == 'digest' %}{{ say.updates }}{% else %}{{ say.tasks_due }}{% endif %}{% elif task %}{{ task.name }}{% else %}{{ event }}{% endif %}";

/// A push notification's line: when it is due, or who handed it over.
pub(super) const SUMMARY: &str = "{% if kind == 'digest' %}{{ event }}{% elif kind == 'review_rejected' %}{{ say.changes_needed }}{% elif kind == 'assignment' and owner %}{{ say.handed_by }} {{ owner }}{% elif task and task.deadline_short %}{% if task.overdue %}{{ say.overdue_short }}{% else %}{{ say.due_short }}{% endif %} {{ task.deadline_short }}{% elif kind == 'nudge' %}{{ say.from_organizers }}{% else %}{{ event }}{% endif %}";

/// The text part: reads well on its own, prints each link once.
pub(super) const BODY: &str = "{% set action = say.submit_action if kind == 'review_rejected' else (say.open_task if tasks|length == 1 else say.see_tasks) %}\
{{ say.hello }}{% if recipient %} {{ recipient }}{% endif %},

{{ intro }}
{% if reason %}
    {{ reason|replace('\\n', '\\n    ') }}

{{ say.submit_again }}
{% endif %}
{% for t in tasks %}
{% if tasks|length > 1 %}- {% if t.what %}[{{ say['what_' ~ t.what] }}{% if t.by %} {{ t.by }}{% endif %}] {% endif %}{{ t.name }}{% if t.deadline %}{{ say.colon }} {% if t.overdue %}{{ say.overdue }}{% else %}{{ say.due }}{% endif %} {{ t.deadline }}{% endif %}{% if t.note %}
    {{ t.note|replace('\\n', '\\n    ') }}{% endif %}{% if t.link and t.link != link %}
  {{ t.link }}{% endif %}{% else %}{{ t.name }}{% if t.excerpt %}
{{ t.excerpt }}{% endif %}{% if t.deadline %}
{% if t.overdue %}{{ say.overdue }}{% else %}{{ say.due }}{% endif %} {{ t.deadline }}{% endif %}{% endif %}{% endfor %}

{% if link %}{{ action }}{{ say.colon }} {{ link }}{% endif %}

-- 
{{ say.footer }} {{ event }}.
{% if unsubscribe_url %}{{ say.unsubscribe_text }} {{ unsubscribe_url }}{% endif %}
";

/// The HTML part: one column at most 600 px wide, inline styles (mail clients drop style
/// sheets), the event's logo and colour, one button.
pub(super) const HTML: &str = r#"{% set action = say.submit_action if kind == 'review_rejected' else (say.open_task if tasks|length == 1 else say.see_tasks) %}<!DOCTYPE html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>{{ subject }}</title>
</head>
<body style="margin:0;padding:0;background:#f3f4f6;">
<div style="display:none;max-height:0;overflow:hidden;">{{ summary }}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:600px;background:#ffffff;border-radius:8px;border-top:4px solid {{ colour }};font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2937;">
<tr><td style="padding:24px 32px 8px;">
{% if logo_url %}<img src="{{ logo_url }}" alt="{{ event }}" width="160" style="display:block;max-width:200px;height:auto;border:0;margin:0 0 12px;">
{% endif %}<div style="font-size:13px;font-weight:600;color:#6b7280;letter-spacing:.04em;text-transform:uppercase;">{{ event }}</div>
</td></tr>
<tr><td style="padding:8px 32px 0;">
<p style="margin:0 0 16px;font-size:16px;line-height:1.5;">{{ say.hello }}{% if recipient %} {{ recipient }}{% endif %},</p>
<p style="margin:0 0 16px;font-size:16px;line-height:1.5;">{{ intro }}</p>
{% if reason %}<blockquote style="margin:0 0 16px;padding:12px 16px;background:#fff7e6;border-left:4px solid #d97706;font-size:15px;line-height:1.5;white-space:pre-line;">{{ reason }}</blockquote>
<p style="margin:0 0 16px;font-size:16px;line-height:1.5;">{{ say.submit_again }}</p>
{% endif %}{% for t in tasks %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="margin:0 0 12px;border:1px solid #e5e7eb;border-radius:6px;">
<tr><td style="padding:12px 16px;">
{% if t.what %}<div style="margin-bottom:2px;font-size:12px;font-weight:600;letter-spacing:.03em;text-transform:uppercase;color:{% if t.what == 'overdue' %}#b91c1c{% else %}#6b7280{% endif %};">{{ say['what_' ~ t.what] }}{% if t.by %} {{ t.by }}{% endif %}</div>
{% endif %}<div style="font-size:16px;font-weight:600;line-height:1.4;">{% if t.link and tasks|length > 1 %}<a href="{{ t.link }}" style="color:{{ colour }};text-decoration:none;">{{ t.name }}</a>{% else %}{{ t.name }}{% endif %}</div>
{% if t.excerpt %}<div style="margin-top:4px;font-size:14px;line-height:1.5;color:#4b5563;white-space:pre-line;">{{ t.excerpt }}</div>
{% endif %}{% if t.note %}<blockquote style="margin:8px 0 0;padding:8px 12px;background:#fff7e6;border-left:4px solid #d97706;font-size:14px;line-height:1.5;white-space:pre-line;">{{ t.note }}</blockquote>
{% endif %}{% if t.deadline %}<div style="margin-top:6px;font-size:14px;line-height:1.5;color:{% if t.overdue %}#b91c1c{% else %}#374151{% endif %};">{% if t.overdue %}{{ say.overdue }}{% else %}{{ say.due }}{% endif %} {{ t.deadline }}</div>
{% endif %}</td></tr>
</table>
{% endfor %}{% if link %}<table role="presentation" cellpadding="0" cellspacing="0" style="margin:20px 0 24px;">
<tr><td style="border-radius:6px;background:{{ colour }};"><a href="{{ link }}" style="display:inline-block;padding:12px 24px;font-size:16px;font-weight:600;color:#ffffff;text-decoration:none;">{{ action }}</a></td></tr>
</table>
{% endif %}</td></tr>
<tr><td style="padding:16px 32px 24px;border-top:1px solid #e5e7eb;font-size:12px;line-height:1.5;color:#6b7280;">
{{ say.footer }} {{ event }}.{% if unsubscribe_url %} <a href="{{ unsubscribe_url }}" style="color:#6b7280;">{{ say.unsubscribe }}</a>{% endif %}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"#;
