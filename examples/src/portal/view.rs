//! Small helpers that turn the library's values into what the pages show.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use punchlist::{Actor, Error, EventId, Participant, ParticipantId, ProgressStatus};

use super::Service;

/// "Amélie Martin", or the host's id for someone with neither name nor email.
pub(crate) fn name(p: &Participant) -> String {
    let name = p.profile.display_name();
    if name.is_empty() {
        p.external_id.to_string()
    } else {
        name
    }
}

/// "Amélie Martin (Acme)", or the name alone when there is no company.
pub(crate) fn person(p: &Participant) -> String {
    let name = name(p);
    if p.profile.company.is_empty() {
        name
    } else {
        format!("{name} ({})", p.profile.company)
    }
}

/// "exhibitor, press": the participant's categories.
pub(crate) fn categories(p: &Participant) -> String {
    p.status
        .categories
        .iter()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// A download: `body` as `content_type`, saved as `filename`.
pub(crate) fn attachment(
    content_type: &str,
    filename: &str,
    body: Vec<u8>,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A date and time in the event's time zone: "Mon 2 Mar 2026, 14:00".
pub(crate) fn when(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%a %-d %b %Y, %H:%M")
        .to_string()
}

/// The value of an `<input type="datetime-local">` for `at` in the event's time zone.
pub(crate) fn local_input(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// Parses an `<input type="datetime-local">` value as a time in the event's time zone.
/// Blank is `None`; anything else that is not a time is an [`Error::Invalid`] on `field`.
pub(crate) fn parse_local(
    field: &'static str,
    value: &str,
    tz: Tz,
) -> Result<Option<DateTime<Utc>>, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| Error::invalid(field, "must be a date and time (YYYY-MM-DDTHH:MM)"))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| Error::invalid(field, "does not exist in the event's time zone"))
}

/// "3 days left", "5 hours left", "overdue by 2 days" (P5).
pub(crate) fn time_left(seconds: i64) -> String {
    let (abs, late) = (seconds.unsigned_abs(), seconds < 0);
    let amount = if abs >= 2 * 86_400 {
        format!("{} days", abs / 86_400)
    } else if abs >= 2 * 3600 {
        format!("{} hours", abs / 3600)
    } else if abs >= 120 {
        format!("{} minutes", abs / 60)
    } else {
        "a moment".to_owned()
    };
    if late {
        format!("overdue by {amount}")
    } else {
        format!("{amount} left")
    }
}

/// "Done", "To do", "Awaiting review".
pub(crate) fn status_label(status: ProgressStatus) -> &'static str {
    match status {
        ProgressStatus::Done => "Done",
        ProgressStatus::AwaitingReview => "Awaiting review",
        _ => "To do",
    }
}

/// Display names of participants, looked up in the host's own directory (the system
/// actor). Only for names the reader is already entitled to see: the owner of a task
/// handed to them, their own collaborators, people in their own timeline or meetings. It
/// is not a way round the library's checks for anything else.
#[derive(Default)]
pub(crate) struct Names(HashMap<ParticipantId, String>);

impl Names {
    /// The display name of `id`, fetched once.
    pub async fn of(&mut self, service: &Service, event: EventId, id: ParticipantId) -> String {
        if let Some(n) = self.0.get(&id) {
            return n.clone();
        }
        let name = match service.event(&Actor::System, event).participant(id).await {
            Ok(p) => person(&p),
            Err(_) => "(unknown)".to_owned(),
        };
        self.0.insert(id, name.clone());
        name
    }

    /// Who did something: "organizer alice@…", a participant's name, or "the platform".
    pub async fn actor(&mut self, service: &Service, event: EventId, actor: &Actor) -> String {
        match actor {
            Actor::Organizer { admin, .. } => format!("organizer {admin}"),
            Actor::Participant { id, .. } => self.of(service, event, *id).await,
            _ => "the platform".to_owned(),
        }
    }
}

/// Errors of a form, by the library's field path (`texts.en.name`, `help.url`, …), for
/// the template to show next to each field.
pub(crate) type FieldErrors = BTreeMap<String, String>;

/// The field errors to show for `error`: an [`Error::Invalid`] goes next to its field
/// (`slot` picks where a nested path is shown); anything else is returned as it is.
pub(crate) fn field_errors(
    error: Error,
    slot: impl Fn(&str) -> String,
) -> Result<FieldErrors, Error> {
    match error {
        Error::Invalid { field, reason } => Ok([(slot(&field), reason)].into()),
        other => Err(other),
    }
}

/// Any serializable value as a template value.
pub(crate) fn ser<T: serde::Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}
