//! An outbox entry as the message its recipient gets (N4, N6): the addresses it goes to,
//! the view its templates see, the task links, the reminder's urgency. Pure: no store and
//! no send.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::*;

/// What the entries of one event need to be rendered.
pub(super) struct Context {
    pub(super) event: Option<Event>,
    pub(super) tasks: HashMap<TaskId, Task>,
    pub(super) people: HashMap<ParticipantId, Participant>,
}

/// Renders entries with the dispatcher's templates and the host's Tasks page.
pub(super) struct Compose<'a> {
    pub(super) renderer: &'a Renderer,
    pub(super) tasks_page: Option<&'a str>,
}

impl Compose<'_> {
    /// Renders an entry for its recipient.
    pub(super) fn render(
        &self,
        ctx: &Context,
        event: &Event,
        recipient: &Participant,
        entry: &OutboxEntry,
    ) -> Result<OutgoingMessage> {
        let settings = &event.settings;
        let wanted = recipient
            .status
            .language
            .clone()
            .unwrap_or_else(|| settings.default_language.clone());
        let language = self.renderer.language(&wanted, &settings.default_language);
        let lang = crate::text::Language::new(&language)?;
        let tz = settings.time_zone;
        let when = |d: DateTime<Utc>| {
            format!(
                "{} ({})",
                d.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                tz.name()
            )
        };
        let task_view = |id: TaskId, slot: Option<ReminderSlot>| -> Option<TaskView> {
            let t: &Task = ctx.tasks.get(&id)?;
            let text = t.text(&lang, settings);
            Some(TaskView {
                name: text.name.clone(),
                description: text.description.clone(),
                deadline: t.config.deadline.map(when).unwrap_or_default(),
                link: self.link(&t.config.help),
                when: slot.map(slot_name).unwrap_or_default(),
            })
        };
        let name_of = |id: &ParticipantId| {
            ctx.people
                .get(id)
                .map(|p| p.profile.display_name())
                .unwrap_or_default()
        };
        let (kind, tasks, owner, reason, urgency): (_, Vec<TaskView>, _, _, _) =
            match &entry.message {
                Notification::Publication { tasks } => (
                    MessageKind::Publication,
                    tasks.iter().filter_map(|t| task_view(*t, None)).collect(),
                    String::new(),
                    String::new(),
                    Urgency::Low,
                ),
                Notification::Assignment { task, owner } => (
                    MessageKind::Assignment,
                    task_view(*task, None).into_iter().collect(),
                    name_of(owner),
                    String::new(),
                    Urgency::Normal,
                ),
                Notification::Nudge { task, owner } => (
                    MessageKind::Nudge,
                    task_view(*task, None).into_iter().collect(),
                    name_of(owner),
                    String::new(),
                    Urgency::Normal,
                ),
                Notification::ReviewRejected {
                    task,
                    owner,
                    reason,
                } => (
                    MessageKind::ReviewRejected,
                    task_view(*task, None).into_iter().collect(),
                    name_of(owner),
                    reason.clone(),
                    Urgency::Normal,
                ),
                Notification::Reminder {
                    task, owner, slot, ..
                } => (
                    MessageKind::Reminder,
                    task_view(*task, Some(*slot)).into_iter().collect(),
                    if *owner == recipient.id {
                        String::new()
                    } else {
                        name_of(owner)
                    },
                    String::new(),
                    urgency_of(*slot),
                ),
                Notification::Reminders { items } => (
                    MessageKind::Reminders,
                    items
                        .iter()
                        .filter_map(|i| task_view(i.task, Some(i.slot)))
                        .collect(),
                    String::new(),
                    String::new(),
                    items
                        .iter()
                        .map(|i| urgency_of(i.slot))
                        .max_by_key(|u| *u as u8)
                        .unwrap_or(Urgency::Normal),
                ),
            };
        let link = tasks
            .first()
            .map(|t| t.link.clone())
            .filter(|l| !l.is_empty())
            .or_else(|| self.tasks_page.map(str::to_owned))
            .unwrap_or_default();
        let view = View {
            event: settings.name.clone(),
            recipient: recipient.profile.first_name.clone(),
            owner,
            task: tasks.first().cloned(),
            tasks,
            reason,
            link: link.clone(),
        };
        let (subject, body) = self
            .renderer
            .render(kind, &language, &view, &settings.templates)?;
        Ok(OutgoingMessage {
            event: entry.event,
            outbox: entry.id,
            recipient: entry.recipient,
            idempotency_key: entry.idempotency_key.clone(),
            language: lang,
            subject,
            body,
            link: Some(link).filter(|l| !l.is_empty()),
            urgency,
            ttl_seconds: 7 * 24 * 3600,
        })
    }

    /// The link of a help link: its page, or the host's Tasks page for a form step.
    pub(super) fn link(&self, help: &HelpLink) -> String {
        match help {
            HelpLink::WebPage { url } => url.clone(),
            HelpLink::FormStep { .. } => self.tasks_page.unwrap_or_default().to_owned(),
        }
    }
}

/// Every address of the recipient on the event's enabled channels that has an adapter.
pub(super) fn addresses(
    event: &Event,
    p: &Participant,
    has: impl Fn(Channel) -> bool,
) -> Vec<Address> {
    let channels = &event.settings.channels;
    let mut out = Vec::new();
    if channels.email
        && has(Channel::Email)
        && let Some(address) = p.profile.email.clone().filter(|e| !e.trim().is_empty())
    {
        let name = p.profile.display_name();
        out.push(Address::Email { address, name });
    }
    if channels.chat
        && has(Channel::Chat)
        && let Some(handle) = p
            .profile
            .chat_handle
            .clone()
            .filter(|h| !h.trim().is_empty())
    {
        out.push(Address::Chat { handle });
    }
    if channels.web_push && has(Channel::WebPush) {
        out.extend(p.push_subscriptions.iter().cloned().map(Address::WebPush));
    }
    out
}

/// The `when` of a reminder in templates: `before-<seconds>` or `overdue`, and the friendly
/// `week` and `day` for the usual offsets.
pub(super) fn slot_name(slot: ReminderSlot) -> String {
    match slot {
        ReminderSlot::Overdue => "overdue".into(),
        ReminderSlot::Before(o) if o.as_seconds() == 7 * 86_400 => "week".into(),
        ReminderSlot::Before(o) if o.as_seconds() == 86_400 => "day".into(),
        other => other.key(),
    }
}

pub(super) fn urgency_of(slot: ReminderSlot) -> Urgency {
    match slot {
        ReminderSlot::Overdue => Urgency::High,
        ReminderSlot::Before(o) if o.as_seconds() <= 86_400 => Urgency::High,
        ReminderSlot::Before(_) => Urgency::Normal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::ReminderOffset;

    /// N3, N12: the reminder's name in templates and its push urgency follow its slot.
    #[test]
    fn n3_reminder_slots_name_and_urgency() {
        let before = |s| ReminderSlot::Before(ReminderOffset::seconds(s));
        for (slot, name, urgency) in [
            (before(7 * 86_400), "week", Urgency::Normal),
            (before(86_400), "day", Urgency::High),
            (before(3_600), "before-3600", Urgency::High),
            (before(3 * 86_400), "before-259200", Urgency::Normal),
            (ReminderSlot::Overdue, "overdue", Urgency::High),
        ] {
            assert_eq!(slot_name(slot), name);
            assert_eq!(urgency_of(slot), urgency, "{name}");
        }
    }
}
