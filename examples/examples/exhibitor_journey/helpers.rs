//! The journey's helpers: participants' names as the journey prints them, registering,
//! host facts, and printing a Tasks list.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use punchlist::*;

use crate::Service;

/// Display names of the participants, for printing (the library speaks in ids).
#[derive(Default)]
pub(crate) struct Names(pub(crate) BTreeMap<ParticipantId, String>);

impl Names {
    pub(crate) fn of(&self, id: ParticipantId) -> &str {
        self.0.get(&id).map_or("?", String::as_str)
    }

    pub(crate) fn actor(&self, actor: &Actor) -> String {
        match actor {
            Actor::Organizer { admin, .. } => format!("organizer {admin}"),
            Actor::Participant { id, .. } => self.of(*id).to_owned(),
            Actor::System => "system".to_owned(),
        }
    }
}

/// A registration with a first name, a company and one category.
/// Shows what a previous run left in the file: the data survived the process.
pub(crate) async fn previous_run(service: &Service, path: &std::path::Path) -> Result<()> {
    let Ok(id) = std::fs::read_to_string(path.with_extension("last-event")) else {
        println!("a new file: no previous run");
        return Ok(());
    };
    let id: EventId = id.trim().parse()?;
    match service.event(&Actor::System, id).get().await {
        Ok(event) => {
            let tasks = service.tasks(&Actor::System, id).await?;
            let figures = service.task_figures(&Actor::System, id).await?;
            let done: u64 = figures.iter().map(|f| f.done).sum();
            let targeted: u64 = figures.iter().map(|f| f.targeted).sum();
            println!(
                "the previous run's event is still in the file: \"{}\", {} tasks, {done}/{targeted} done",
                event.settings.name,
                tasks.len()
            );
        }
        Err(Error::NotFound { .. }) => println!("the previous run's event is not in this file"),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

pub(crate) fn newcomer(
    external_id: &str,
    first_name: &str,
    company: &str,
    category: &str,
) -> Result<NewParticipant> {
    let mut new = NewParticipant::new(ExternalId::new(external_id)?);
    let domain = if company.is_empty() { "mail" } else { company };
    new.profile.first_name = first_name.into();
    new.profile.company = company.into();
    new.profile.email = Some(format!(
        "{}@{}.example",
        first_name.to_lowercase(),
        domain.to_lowercase()
    ));
    new.status.categories.insert(category.into());
    Ok(new)
}

/// Registers `new` and remembers a display name for printing.
pub(crate) async fn register(
    service: &Service,
    organizer: &Actor,
    event: EventId,
    names: &mut Names,
    new: NewParticipant,
) -> Result<Participant> {
    let p = service
        .event(organizer, event)
        .register_participant(new)
        .await?;
    let name = if p.profile.company.is_empty() {
        p.profile.first_name.clone()
    } else {
        format!("{} ({})", p.profile.first_name, p.profile.company)
    };
    let category = p.status.categories.iter().next().map_or("", String::as_str);
    println!(
        "registered {name:<18} as {category:<15} host id {}",
        p.external_id
    );
    names.0.insert(p.id, name);
    Ok(p)
}

/// A UTC instant on the hour.
pub(crate) fn utc(year: i32, month: u32, day: u32, hour: u32) -> Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0)
        .single()
        .context("a valid date")
}

pub(crate) fn text(name: &str) -> TaskText {
    TaskText {
        name: name.into(),
        description: String::new(),
    }
}

pub(crate) fn fact(
    id: &str,
    participant: ParticipantId,
    at: DateTime<Utc>,
    fact: HostFact,
) -> Result<HostEvent> {
    Ok(HostEvent {
        id: HostEventId::new(id)?,
        participant: participant.into(),
        occurred_at: at,
        fact,
    })
}

pub(crate) fn mode(task: &Task) -> String {
    match &task.config.completion {
        CompletionMode::Manual => "manual".into(),
        CompletionMode::Automatic { condition } => format!("automatic: {condition:?}"),
    }
}

pub(crate) fn section(title: &str) {
    println!("\n=== {title} ===");
}

/// An instant in the event's time zone.
pub(crate) fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %-d %b %H:%M %Z")
        .to_string()
}

/// "3d 4h left" / "overdue by 15h".
pub(crate) fn time_left(seconds: i64) -> String {
    let abs = seconds.unsigned_abs();
    let (d, h, m) = (abs / 86_400, abs % 86_400 / 3600, abs % 3600 / 60);
    let span = match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    };
    if seconds >= 0 {
        format!("{span} left")
    } else {
        format!("{span} late")
    }
}

pub(crate) fn print_list(who: &str, reader: ParticipantId, list: &TaskList, names: &Names) {
    let assigned = if list.assigned_to_me.total > 0 {
        format!(
            "; assigned to them: {}/{} done",
            list.assigned_to_me.done, list.assigned_to_me.total
        )
    } else {
        String::new()
    };
    println!(
        "{who}: {}/{} done ({}%){assigned}{}",
        list.summary.done,
        list.summary.total,
        list.summary.percent,
        if list.tasks_enabled {
            ""
        } else {
            " [Tasks off]"
        }
    );
    for item in &list.items {
        let tick = match item.status {
            ProgressStatus::Done => "[x]",
            _ => "[ ]",
        };
        let mut line = format!("  {tick} {:<28}", item.name);
        if let Some(deadline) = item.deadline {
            line.push_str(&format!(" due {}", local(deadline, list.time_zone)));
            if let Some(s) = item.seconds_left
                && item.status != ProgressStatus::Done
            {
                line.push_str(&format!(" ({})", time_left(s)));
            }
        }
        if item.overdue {
            line.push_str(" OVERDUE");
        }
        println!("{}", line.trim_end());
        let mut details = vec![if item.manual { "manual" } else { "automatic" }.to_owned()];
        if let Some(c) = &item.completion {
            details.push(format!("done by {} ({:?})", names.actor(&c.by), c.how));
        }
        if let Some(a) = item.assignee {
            details.push(format!("held by {}", names.of(a)));
        }
        if item.owner != reader {
            details.push(format!("owner {}", names.of(item.owner)));
        }
        details.push(match &item.help {
            HelpLink::WebPage { url } => format!("help: {url}"),
            HelpLink::FormStep { form, step } => format!("help: form {form}, step {step}"),
        });
        println!("        {}", details.join("; "));
    }
}
