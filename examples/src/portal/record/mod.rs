//! The registrants list with its online status column (R13) and the participant's record
//! with its tabs (R1–R12).
//!
//! Every call passes the signed-in actor to the library, so the library's actor checks
//! decide: the organizers see every record, a participant only their own (without custom
//! fields); anyone else gets the library's `Forbidden`, shown as a 403 page.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use chrono_tz::Tz;
use minijinja::{Value, context};
use punchlist::{
    ActionKind, Actor, AgendaItem, Attendance, BadgePlace, Clock, Error, EventSettings, ExternalId,
    HistoryFilter, Interaction, LoginChannel, Meeting, MeetingId, MeetingStatus, MessageId,
    Networking, NewMeeting, OnlineStatus, Participant, ParticipantId, ParticipationMode,
    RegistrationStatus, ScanPlace, Session, TaskId, TimelineFilter, TimelineId, TimelineKind,
};

use super::view::{self, FieldErrors, Names};
use super::{Page, Portal, Who, render};

mod agenda;
mod tabs;
mod timeline;

use agenda::*;
use tabs::*;
use timeline::*;

/// How many rows a page of the registrants list, the timeline, the thread or the
/// history shows.
const PAGE: usize = 50;

/// The tabs of the record, in order: the name in `?tab=` and the label.
const TABS: [(&str, &str); 9] = [
    ("details", "Details"),
    ("timeline", "Timeline"),
    ("agenda", "Agenda"),
    ("sessions", "Sessions"),
    ("meetings", "Meetings"),
    ("partners", "Partners"),
    ("messages", "Messages"),
    ("networking", "Networking"),
    ("history", "History"),
];

/// The routes of the registrants list and the participant's record.
pub(crate) fn routes() -> Router<Portal> {
    Router::new()
        .route("/admin/registrants", get(registrants))
        .route("/admin/participants/{id}", get(record_page))
        .route("/admin/participants/{id}/timeline.csv", get(timeline_csv))
        .route("/admin/participants/{id}/history.csv", get(history_csv))
        .route("/admin/participants/{id}/export.json", get(export_json))
        .route("/admin/participants/{id}/sessions", post(register_session))
        .route(
            "/admin/participants/{id}/sessions/{session}/unregister",
            post(unregister_session),
        )
        .route(
            "/admin/participants/{id}/sessions/{session}/attend",
            post(attend_session),
        )
        .route("/admin/participants/{id}/meetings", post(book_meeting))
        .route(
            "/admin/participants/{id}/meetings/{meeting}/status",
            post(meeting_status),
        )
        .route("/admin/participants/{id}/messages", post(send_message))
        .route("/admin/participants/{id}/networking", post(set_networking))
}

// ----- the registrants list (R13) -----

#[derive(serde::Deserialize)]
struct RegistrantsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    after: String,
}

async fn registrants(
    State(portal): State<Portal>,
    who: Who,
    Query(query): Query<RegistrantsQuery>,
) -> Page {
    let status = match query.status.trim() {
        "" => None,
        s => Some(parse_online(s).ok_or_else(|| Error::invalid("status", "not an online status"))?),
    };
    let after = match query.after.trim() {
        "" => None,
        s => Some(s.parse::<ParticipantId>()?),
    };
    // The library decides: the registrants list is the organizers'.
    let page = portal
        .scope(&who.actor)
        .registrants(status, after, PAGE)
        .await?;
    let tz = time_zone(&portal).await?;
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|r| {
            let p = &r.participant;
            let (value, label) = online(r.presence.status);
            context! {
                id => p.id.to_string(),
                name => view::name(p),
                person => view::person(p),
                company => p.profile.company.clone(),
                categories => view::categories(p),
                registration => registration_label(p.status.registration),
                online => value,
                online_label => label,
                last_seen => r.presence.last_seen.map(|t| view::when(t, tz)),
            }
        })
        .collect();
    let filter_value = status.map(|s| online(s).0).unwrap_or_default();
    let statuses: Vec<Value> = [
        OnlineStatus::Active,
        OnlineStatus::RecentlyInactive,
        OnlineStatus::Inactive,
        OnlineStatus::NeverConnected,
    ]
    .into_iter()
    .map(|s| {
        let (value, label) = online(s);
        context! { value => value, label => label, selected => Some(s) == status }
    })
    .collect();
    let next = page.next.map(|n| {
        format!(
            "/admin/registrants{}",
            query_string(&[("status", filter_value), ("after", n.to_string().as_str())])
        )
    });
    let first = after.map(|_| {
        format!(
            "/admin/registrants{}",
            query_string(&[("status", filter_value)])
        )
    });
    render(
        &portal,
        Some(&who),
        "registrants.html",
        context! {
            rows => rows,
            statuses => statuses,
            status => filter_value,
            next => next,
            first => first,
        },
    )
}

// ----- the record -----

/// What `?…` says about the record page: the tab and its filters.
#[derive(Debug, Default)]
struct RecordQuery {
    tab: String,
    /// Kind names, from `kinds=a,b` or repeated `kind=a` (the checkboxes).
    kinds: Vec<String>,
    from: String,
    until: String,
    before: String,
    fields: String,
}

impl RecordQuery {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut q = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "tab" => q.tab = value,
                "kind" | "kinds" => q.kinds.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .map(str::to_owned),
                ),
                "from" => q.from = value,
                "until" => q.until = value,
                "before" => q.before = value,
                "fields" => q.fields = value,
                _ => {}
            }
        }
        q
    }

    fn tab(tab: &str) -> Self {
        Self {
            tab: tab.to_owned(),
            ..Self::default()
        }
    }
}

/// What a refused form leaves to show: the errors by field, and what was typed.
#[derive(Default)]
struct Problems {
    errors: FieldErrors,
    form: BTreeMap<String, String>,
}

impl Problems {
    fn one(field: &str, reason: impl Into<String>) -> Self {
        Self {
            errors: [(field.to_owned(), reason.into())].into(),
            form: BTreeMap::new(),
        }
    }

    fn typed(mut self, form: &[(&str, &str)]) -> Self {
        self.form
            .extend(form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self
    }
}

async fn record_page(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Page {
    let query = RecordQuery::from_pairs(pairs);
    show(&portal, &who, id, &query, Problems::default()).await
}

/// The record of `id` on the tab `query` names, as `who` may see it; `problems` come from
/// a refused form and make it a 400.
async fn show(
    portal: &Portal,
    who: &Who,
    id: ParticipantId,
    query: &RecordQuery,
    problems: Problems,
) -> Page {
    let service = portal.service();
    let event = portal.event();
    // The library decides who may read the record.
    let p = portal.scope(&who.actor).participant(id).await?;
    let settings = service.event(&Actor::System, event).get().await?.settings;
    let tz = settings.time_zone;
    let presence = portal.scope(&who.actor).online_status(id).await?;
    let tab = TABS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == query.tab)
        .unwrap_or("details");
    let Problems { mut errors, form } = problems;
    let mut names = Names::default();
    let panel = match tab {
        "timeline" => timeline_tab(portal, who, id, query, tz, &mut errors, &mut names).await?,
        "agenda" => agenda_tab(portal, who, id, &mut names).await?,
        "sessions" => sessions_tab(portal, who, id, tz).await?,
        "meetings" => meetings_tab(portal, who, id, tz, &mut names).await?,
        "partners" => partners_tab(portal, who, id, tz).await?,
        "messages" => messages_tab(portal, who, id, query, tz, &mut errors, &mut names).await?,
        "networking" => networking_tab(&p),
        "history" => history_tab(portal, who, id, query, tz, &mut errors, &mut names).await?,
        _ => details_tab(portal, who, &p, &settings, &mut names).await,
    };
    // The unread badge of the messages tab (opening the tab marks them read).
    let unread = if tab == "messages" {
        0
    } else {
        portal.scope(&who.actor).messages(id, None, 1).await?.unread
    };
    let tabs: Vec<Value> = TABS
        .iter()
        .map(|(name, label)| {
            context! {
                name => *name,
                label => *label,
                active => *name == tab,
                href => format!("/admin/participants/{id}?tab={name}"),
                badge => (*name == "messages" && unread > 0).then_some(unread),
            }
        })
        .collect();
    let (online_value, online_label) = online(presence.status);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = render(
        portal,
        Some(who),
        "record.html",
        context! {
            participant => context! {
                id => id.to_string(),
                name => view::person(&p),
                categories => view::categories(&p),
                erased => p.erased_at.map(|t| view::when(t, tz)),
            },
            online => context! {
                value => online_value,
                label => online_label,
                last_seen => presence.last_seen.map(|t| view::when(t, tz)),
            },
            organizer => who.is_organizer(),
            tab => tab,
            tabs => tabs,
            export_url => format!("/admin/participants/{id}/export.json"),
            base => format!("/admin/participants/{id}"),
            errors => errors,
            form => form,
            panel => panel,
        },
    )?;
    Ok((status, page).into_response())
}

// ----- helpers -----

/// The event's time zone.
async fn time_zone(portal: &Portal) -> Result<Tz, Error> {
    Ok(portal
        .service()
        .event(&Actor::System, portal.event())
        .get()
        .await?
        .settings
        .time_zone)
}

/// `?a=1&b=2`, leaving out blank values; `""` when nothing is left.
fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Percent-encodes everything but the unreserved characters (for a path segment or a
/// query value).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `url` if it is a web address a link may point to.
fn safe_url(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.to_owned())
}

/// A history value, compactly: text as it is, nothing as "—", anything else as JSON;
/// long values are cut.
fn json_text(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::Null => return "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 200 {
        let cut: String = text.chars().take(200).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// The value (as in `?status=`) and the label of an online status (R13).
fn online(status: OnlineStatus) -> (&'static str, &'static str) {
    match status {
        OnlineStatus::NeverConnected => ("never_connected", "Never connected"),
        OnlineStatus::Inactive => ("inactive", "Inactive"),
        OnlineStatus::RecentlyInactive => ("recently_inactive", "Inactive for a few minutes"),
        OnlineStatus::Active => ("active", "Active"),
    }
}

fn parse_online(value: &str) -> Option<OnlineStatus> {
    [
        OnlineStatus::NeverConnected,
        OnlineStatus::Inactive,
        OnlineStatus::RecentlyInactive,
        OnlineStatus::Active,
    ]
    .into_iter()
    .find(|s| online(*s).0 == value)
}

fn registration_label(status: RegistrationStatus) -> &'static str {
    match status {
        RegistrationStatus::Registered => "Registered",
        RegistrationStatus::Refused => "Refused",
        RegistrationStatus::NotRegistered => "Not registered",
    }
}

fn participation_label(mode: ParticipationMode) -> &'static str {
    match mode {
        ParticipationMode::Online => "Online",
        ParticipationMode::InPerson => "In person",
        ParticipationMode::Unknown => "Not given",
    }
}

fn attendance_label(attendance: Attendance) -> &'static str {
    match attendance {
        Attendance::Present => "Present",
        Attendance::PresentInPerson => "Present in person",
        Attendance::PresentOnline => "Present online",
        Attendance::Absent => "Absent",
    }
}

fn networking_value(networking: Networking) -> &'static str {
    match networking {
        Networking::Allowed => "allowed",
        Networking::NotAllowed => "not_allowed",
        Networking::Unknown => "unknown",
    }
}

fn networking_label(networking: Networking) -> &'static str {
    match networking {
        Networking::Allowed => "Allowed",
        Networking::NotAllowed => "Not allowed",
        Networking::Unknown => "Not given",
    }
}

fn meeting_value(status: MeetingStatus) -> &'static str {
    match status {
        MeetingStatus::Requested => "requested",
        MeetingStatus::Accepted => "accepted",
        MeetingStatus::Declined => "declined",
        MeetingStatus::Cancelled => "cancelled",
    }
}

fn meeting_label(status: MeetingStatus) -> &'static str {
    match status {
        MeetingStatus::Requested => "Requested",
        MeetingStatus::Accepted => "Accepted",
        MeetingStatus::Declined => "Declined",
        MeetingStatus::Cancelled => "Cancelled",
    }
}

fn parse_meeting(value: &str) -> Option<MeetingStatus> {
    [
        MeetingStatus::Requested,
        MeetingStatus::Accepted,
        MeetingStatus::Declined,
        MeetingStatus::Cancelled,
    ]
    .into_iter()
    .find(|s| meeting_value(*s) == value)
}

/// A kind of timeline action, for the filter.
fn kind_label(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Registered => "Registration",
        ActionKind::TaskCompleted => "Task completed",
        ActionKind::TaskReopened => "Task reopened",
        ActionKind::TaskAssigned => "Task handed to a collaborator",
        ActionKind::TaskReceived => "Task received",
        ActionKind::TaskTakenBack => "Task taken back",
        ActionKind::CollaboratorLinked => "Joined a team",
        ActionKind::ReminderSent => "Reminder sent",
        ActionKind::NetworkingEnabled => "Networking enabled",
        ActionKind::NetworkingDisabled => "Networking disabled",
        ActionKind::SessionRegistered => "Session registration",
        ActionKind::SessionUnregistered => "Session unregistration",
        ActionKind::SessionAttended => "Session attendance",
        ActionKind::MeetingBooked => "Meeting booked",
        ActionKind::MeetingReceived => "Meeting received",
        ActionKind::MeetingStatusChanged => "Meeting answered or cancelled",
        ActionKind::FirstLogin => "First login",
        ActionKind::ContactRequestSent => "Contact request sent",
        ActionKind::ContactRequestReceived => "Contact request received",
        ActionKind::LiveInteraction => "Live interactivity",
        ActionKind::Scanned => "Scan",
        ActionKind::BadgePrinted => "Badge printed",
        ActionKind::SurveyAnswered => "Survey answered",
        ActionKind::EmailReceived => "Email received",
        ActionKind::EmailOpened => "Email opened",
        ActionKind::EmailClicked => "Email clicked",
        ActionKind::ExhibitorBookmarked => "Exhibitor bookmarked",
        _ => "Other action",
    }
}
