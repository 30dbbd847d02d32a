//! An outbox entry as the message its recipient gets (N4, N6): the addresses it goes to,
//! the view its templates see, the task links, the reminder's urgency. Pure: no store and
//! no send.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::*;
use crate::notify::Sender;
use crate::notify::words::Words;

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
    pub(super) unsubscribe: Option<&'a super::UnsubscribeLinks>,
}

impl Compose<'_> {
    /// Renders an entry for its recipient, at `now` (what "tomorrow" means, and how long a
    /// push service may keep it).
    pub(super) fn render(
        &self,
        ctx: &Context,
        event: &Event,
        recipient: &Participant,
        entry: &OutboxEntry,
        now: DateTime<Utc>,
    ) -> Result<OutgoingMessage> {
        let settings = &event.settings;
        let wanted = recipient
            .status
            .language
            .clone()
            .unwrap_or_else(|| settings.default_language.clone());
        let language = self.renderer.language(&wanted, &settings.default_language);
        let lang = crate::text::Language::new(&language)?;
        let zone = recipient.status.time_zone.unwrap_or(settings.time_zone);
        let words = Words::of(&language);
        let mut deadlines = Vec::new();
        let mut task_view = |id: TaskId, slot: Option<ReminderSlot>| -> Option<TaskView> {
            let t: &Task = ctx.tasks.get(&id)?;
            let text = t.text(&lang, settings);
            let deadline = t.config.deadline;
            deadlines.extend(deadline);
            Some(TaskView {
                name: text.name.clone(),
                description: text.description.clone(),
                excerpt: excerpt(&text.description),
                deadline: deadline.map(|d| words.long(d, zone)).unwrap_or_default(),
                deadline_short: deadline
                    .map(|d| words.short(d, now, zone))
                    .unwrap_or_default(),
                deadline_iso: deadline.map(|d| d.to_rfc3339()).unwrap_or_default(),
                overdue: slot == Some(ReminderSlot::Overdue) || deadline.is_some_and(|d| d <= now),
                link: self.link(&t.config.help),
                when: slot.map(slot_name).unwrap_or_default(),
                ..TaskView::default()
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
                Notification::Digest { messages } => {
                    let mut views = Vec::new();
                    let mut urgency = Urgency::Low;
                    for line in messages.iter().flat_map(digest_lines) {
                        urgency = urgency.max(line.urgency);
                        if let Some(mut v) = task_view(line.task, line.slot) {
                            v.what = if line.what == "reminder" && v.overdue {
                                "overdue".into()
                            } else {
                                line.what.into()
                            };
                            v.by = line.by.as_ref().map(name_of).unwrap_or_default();
                            v.note = line.note.unwrap_or_default();
                            views.push(v);
                        }
                    }
                    (
                        MessageKind::Digest,
                        views,
                        String::new(),
                        String::new(),
                        urgency,
                    )
                }
            };
        // One task: act on it where it is. Several: the Tasks page lists them all (each
        // task's own link is in the list).
        let first_link = tasks
            .first()
            .map(|t| t.link.clone())
            .filter(|l| !l.is_empty());
        let link = if tasks.len() > 1 {
            self.tasks_page.map(str::to_owned).or(first_link)
        } else {
            first_link.or_else(|| self.tasks_page.map(str::to_owned))
        }
        .unwrap_or_default();
        let branding = &settings.branding;
        // N8: every message its recipient may stop carries the link that stops it.
        let unsubscribe_url = self
            .unsubscribe
            .filter(|_| !settings.notifications.is_locked(kind))
            .map(|links| links.link(entry.event, entry.recipient, kind, now));
        let view = View {
            event: settings.name.clone(),
            recipient: recipient.profile.first_name.clone(),
            owner,
            task: tasks.first().cloned(),
            tasks,
            reason,
            link: link.clone(),
            logo_url: branding.logo_url.clone().unwrap_or_default(),
            colour: branding.colour().to_owned(),
            unsubscribe_url: unsubscribe_url.clone().unwrap_or_default(),
            ..View::default()
        };
        let rendered = self
            .renderer
            .render(kind, &language, &view, &settings.templates)?;
        let sender = (!branding.is_unset()).then(|| Sender {
            name: branding.sender_name.clone().unwrap_or_default(),
            address: branding.sender_address.clone(),
            reply_to: branding.reply_to.clone(),
        });
        Ok(OutgoingMessage {
            event: entry.event,
            event_name: settings.name.clone(),
            outbox: entry.id,
            recipient: entry.recipient,
            idempotency_key: entry.idempotency_key.clone(),
            language: lang,
            subject: rendered.subject,
            body: rendered.body,
            html: Some(rendered.html).filter(|h| !h.trim().is_empty()),
            title: rendered.title,
            summary: rendered.summary,
            link: Some(link).filter(|l| !l.is_empty()),
            unsubscribe_url,
            sender,
            urgency,
            ttl_seconds: ttl_seconds(&deadlines, now),
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
    let on = |c: Channel| event.settings.channels.has(c) && has(c);
    let mut out = Vec::new();
    if on(Channel::Email)
        && let Some(address) = p.profile.email.clone().filter(|e| !e.trim().is_empty())
    {
        let name = p.profile.display_name();
        out.push(Address::Email { address, name });
    }
    if on(Channel::Chat)
        && let Some(handle) = p
            .profile
            .chat_handle
            .clone()
            .filter(|h| !h.trim().is_empty())
    {
        out.push(Address::Chat { handle });
    }
    if on(Channel::WebPush) {
        out.extend(p.push_subscriptions.iter().cloned().map(Address::WebPush));
    }
    out
}

/// How long a push service may keep a message for a browser that is offline: a week at
/// most, and no longer than the time left until the earliest deadline still ahead (a
/// reminder for tomorrow evening is worthless the day after; seconds before the deadline,
/// a browser that is not online now should not get it late). A message about deadlines
/// that have all passed (an overdue task) keeps a day; one with no deadline, a week.
pub(super) fn ttl_seconds(deadlines: &[DateTime<Utc>], now: DateTime<Utc>) -> u32 {
    const WEEK: i64 = 7 * 24 * 3600;
    const DAY: i64 = 24 * 3600;
    let ahead = deadlines
        .iter()
        .map(|d| (*d - now).num_seconds())
        .filter(|s| *s > 0)
        .min();
    let seconds = match (ahead, deadlines.is_empty()) {
        (Some(s), _) => s.min(WEEK),
        (None, true) => WEEK,
        (None, false) => DAY,
    };
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

/// The first lines of a task's description, as a message shows it under the name: at most
/// three lines and 280 characters, cut at a word with an ellipsis.
pub(super) fn excerpt(description: &str) -> String {
    const LINES: usize = 3;
    const CHARS: usize = 280;
    let lines: Vec<&str> = description
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = lines
        .iter()
        .take(LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let mut cut = lines.len() > LINES;
    if out.chars().count() > CHARS {
        let end = out.char_indices().nth(CHARS).map_or(out.len(), |(i, _)| i);
        let at = out[..end].rfind(char::is_whitespace).unwrap_or(end);
        out.truncate(at);
        cut = true;
    }
    if cut {
        out = out
            .trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == '.')
            .to_owned();
        out.push('…');
    }
    out
}

/// One line of a digest (N9): a task, and what the message it came in was.
pub(super) struct DigestLine {
    pub(super) task: TaskId,
    pub(super) slot: Option<ReminderSlot>,
    pub(super) what: &'static str,
    pub(super) by: Option<ParticipantId>,
    pub(super) note: Option<String>,
    pub(super) urgency: Urgency,
}

/// The lines a message makes in a digest, one per task it is about.
pub(super) fn digest_lines(message: &Notification) -> Vec<DigestLine> {
    let line = |task, what, by, note, urgency| DigestLine {
        task,
        slot: None,
        what,
        by,
        note,
        urgency,
    };
    match message {
        Notification::Publication { tasks } => tasks
            .iter()
            .map(|t| line(*t, "publication", None, None, Urgency::Low))
            .collect(),
        Notification::Assignment { task, owner } => {
            vec![line(
                *task,
                "assignment",
                Some(*owner),
                None,
                Urgency::Normal,
            )]
        }
        Notification::Nudge { task, .. } => vec![line(*task, "nudge", None, None, Urgency::Normal)],
        Notification::ReviewRejected { task, reason, .. } => vec![line(
            *task,
            "review_rejected",
            None,
            Some(reason.clone()),
            Urgency::Normal,
        )],
        Notification::Reminder { .. } | Notification::Reminders { .. } => message
            .reminder_items()
            .into_iter()
            .map(|i| DigestLine {
                task: i.task,
                slot: Some(i.slot),
                what: "reminder",
                by: None,
                note: None,
                urgency: urgency_of(i.slot),
            })
            .collect(),
        Notification::Digest { messages } => messages.iter().flat_map(digest_lines).collect(),
    }
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

    /// N12: a push message lives no longer than its deadline is ahead, a week at most.
    #[test]
    fn n12_push_ttl_is_bounded_by_the_deadline() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2027, 1, 20, 9, 0, 0).unwrap();
        let h = chrono::Duration::hours;
        assert_eq!(ttl_seconds(&[], now), 7 * 86_400);
        assert_eq!(ttl_seconds(&[now + h(33)], now), 33 * 3600);
        assert_eq!(ttl_seconds(&[now + h(24 * 30)], now), 7 * 86_400);
        assert_eq!(
            ttl_seconds(&[now - h(2), now + h(5), now + h(50)], now),
            5 * 3600
        );
        assert_eq!(ttl_seconds(&[now - h(2)], now), 86_400);
        assert_eq!(ttl_seconds(&[now + chrono::Duration::seconds(5)], now), 5);
    }

    /// N12: a message shows the description's first lines, cut at a word.
    #[test]
    fn n12_excerpt_keeps_the_first_lines() {
        assert_eq!(excerpt(""), "");
        assert_eq!(excerpt("One line."), "One line.");
        assert_eq!(excerpt("a\n\nb\nc\nd"), "a\nb\nc…");
        let long = "word ".repeat(100);
        let e = excerpt(&long);
        assert!(e.chars().count() <= 281 && e.ends_with("word…"), "{e}");
    }

    /// N8: unsubscribe links go to an https route without a fragment (http on loopback
    /// only, for tests).
    #[test]
    fn n8_unsubscribe_links_need_https_and_no_fragment() {
        let key = || crate::notify::UnsubscribeKey::new([1u8; 32]).unwrap();
        for ok in [
            "https://expo.example/unsubscribe",
            "https://expo.example/u?lang=fr",
            "http://127.0.0.1:8080/unsubscribe",
        ] {
            assert!(
                super::super::UnsubscribeLinks::new(key(), ok).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://expo.example/unsubscribe",
            "https://expo.example/unsubscribe#top",
            "expo.example/unsubscribe",
            "http://127.0.0.1.evil.example/u",
        ] {
            let e = super::super::UnsubscribeLinks::new(key(), bad).unwrap_err();
            assert_eq!(e.field(), Some("url"), "{bad}");
        }
        let links =
            super::super::UnsubscribeLinks::new(key(), "https://expo.example/u?lang=fr").unwrap();
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2027, 1, 20, 9, 0, 0).unwrap();
        let link = links.link(
            EventId::new_at(now),
            ParticipantId::new_at(now),
            MessageKind::Reminders,
            now,
        );
        assert!(
            link.starts_with("https://expo.example/u?lang=fr&token="),
            "{link}"
        );
        let token = link.split_once("token=").unwrap().1;
        let read = key().verify(token, now).unwrap();
        assert_eq!(read.kind, Some(MessageKind::Reminder));
        assert_eq!(read.expires_at, now + chrono::Duration::days(90));
    }

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
