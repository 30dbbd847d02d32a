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

// ----- details (R1–R4, R13) -----

async fn details_tab(
    portal: &Portal,
    who: &Who,
    p: &Participant,
    settings: &EventSettings,
    names: &mut Names,
) -> Value {
    let tz = settings.time_zone;
    let profile = &p.profile;
    let social: Vec<Value> = profile
        .social_links
        .iter()
        .map(|l| context! { text => l, url => safe_url(l) })
        .collect();
    let utm: Vec<Value> = [
        ("utm_source", &p.utm.source),
        ("utm_medium", &p.utm.medium),
        ("utm_campaign", &p.utm.campaign),
        ("utm_term", &p.utm.term),
        ("utm_content", &p.utm.content),
    ]
    .into_iter()
    .map(|(key, value)| context! { key => key, value => value })
    .collect();
    // Custom fields are the organizers' (R4): the library already leaves them out of a
    // participant's own record; the section is not shown to them at all.
    let custom_fields = who.is_organizer().then(|| {
        let mut keys: Vec<&String> = settings.custom_fields.keys().collect();
        keys.extend(
            p.custom_fields
                .keys()
                .filter(|k| !settings.custom_fields.contains_key(*k)),
        );
        keys.into_iter()
            .map(|k| {
                context! {
                    key => k,
                    label => settings.custom_fields.get(k).map(|d| d.label.clone()).unwrap_or_else(|| k.clone()),
                    value => p.custom_fields.get(k),
                }
            })
            .collect::<Vec<_>>()
    });
    let language = match &p.status.language {
        Some(l) => l.to_string(),
        None => format!("the event's default ({})", settings.default_language),
    };
    let owner = match p.owner {
        Some(o) => {
            let name = names.of(portal.service(), portal.event(), o).await;
            Some(context! { id => o.to_string(), name => name })
        }
        None => None,
    };
    context! {
        profile => context! {
            first_name => profile.first_name.clone(),
            last_name => profile.last_name.clone(),
            company => profile.company.clone(),
            job_title => profile.job_title.clone(),
            email => profile.email.clone(),
            description => profile.description.clone(),
            website => profile.website.clone(),
            website_url => profile.website.as_deref().and_then(safe_url),
            social_links => social,
        },
        status => context! {
            categories => view::categories(p),
            language => language,
            registration => registration_label(p.status.registration),
            participation => participation_label(p.status.participation),
            attendance => attendance_label(p.status.attendance),
            networking => networking_label(p.status.networking),
            discount_code => p.status.discount_code.clone(),
        },
        utm => utm,
        custom_fields => custom_fields,
        external_id => p.external_id.to_string(),
        registered_at => view::when(p.registered_at, tz),
        owner => owner,
    }
}

// ----- timeline (R5) -----

/// The timeline filter `query` asks for; what cannot be read goes into `errors`.
fn timeline_filter(query: &RecordQuery, tz: Tz, errors: &mut FieldErrors) -> TimelineFilter {
    let mut filter = TimelineFilter::default();
    for name in &query.kinds {
        match ActionKind::parse(name) {
            Some(k) => {
                filter.kinds.insert(k);
            }
            None => {
                errors.insert("kinds".into(), format!("`{name}` is not a kind of action"));
            }
        }
    }
    filter.from = local(&mut *errors, "from", &query.from, tz);
    filter.until = local(&mut *errors, "until", &query.until, tz);
    match query.before.trim() {
        "" => {}
        s => match s.parse::<TimelineId>() {
            Ok(b) => filter.before = Some(b),
            Err(_) => {
                errors.insert("before".into(), "not a page of this timeline".into());
            }
        },
    }
    filter
}

/// Parses a datetime-local value; an error goes to `errors` under `field`.
fn local(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &str,
    tz: Tz,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match view::parse_local(field, value, tz) {
        Ok(t) => t,
        Err(e) => {
            let reason = match e {
                Error::Invalid { reason, .. } => reason,
                other => other.to_string(),
            };
            errors.insert(field.to_owned(), reason);
            None
        }
    }
}

async fn timeline_tab(
    portal: &Portal,
    who: &Who,
    id: ParticipantId,
    query: &RecordQuery,
    tz: Tz,
    errors: &mut FieldErrors,
    names: &mut Names,
) -> Result<Value, Error> {
    let service = portal.service();
    let event = portal.event();
    let filter = timeline_filter(query, tz, errors);
    let entries = if errors.is_empty() {
        match portal.scope(&who.actor).timeline(id, &filter, PAGE).await {
            Ok(entries) => entries,
            Err(e) => {
                errors.extend(view::field_errors(e, str::to_owned)?);
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let mut lookup = Lookup::new(portal, who, id).await?;
    let mut rows = Vec::with_capacity(entries.len());
    for e in &entries {
        let what = lookup.describe(&e.kind, names).await;
        let by = names.actor(service, event, &e.actor).await;
        rows.push(context! {
            id => e.id.to_string(),
            at => view::when(e.at, tz),
            kind => e.kind.action_kind().as_str(),
            what => what,
            by => by,
        });
    }
    let kinds_csv = filter
        .kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let kinds: Vec<Value> = ActionKind::ALL
        .into_iter()
        .map(|k| {
            context! {
                value => k.as_str(),
                label => kind_label(k),
                checked => filter.kinds.contains(&k),
            }
        })
        .collect();
    let base = [
        ("tab", "timeline"),
        ("kinds", kinds_csv.as_str()),
        ("from", query.from.trim()),
        ("until", query.until.trim()),
    ];
    let older = match entries.last() {
        Some(last) if entries.len() == PAGE => {
            let before = last.id.to_string();
            let mut pairs = base.to_vec();
            pairs.push(("before", before.as_str()));
            Some(format!("/admin/participants/{id}{}", query_string(&pairs)))
        }
        _ => None,
    };
    let newest = filter
        .before
        .map(|_| format!("/admin/participants/{id}{}", query_string(&base)));
    Ok(context! {
        entries => rows,
        kinds => kinds,
        from => query.from.trim(),
        until => query.until.trim(),
        filtered => !filter.kinds.is_empty() || filter.from.is_some() || filter.until.is_some(),
        older => older,
        newest => newest,
        csv => format!("/admin/participants/{id}/timeline.csv{}", query_string(&base[1..])),
    })
}

async fn timeline_csv(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Page {
    let query = RecordQuery::from_pairs(pairs);
    let tz = time_zone(&portal).await?;
    let mut errors = FieldErrors::new();
    let filter = timeline_filter(&query, tz, &mut errors);
    if let Some((field, reason)) = errors.into_iter().next() {
        return Err(Error::invalid(field, reason).into());
    }
    let mut out = Vec::new();
    portal
        .scope(&who.actor)
        .export_timeline_csv(id, &filter, &mut out)
        .await?;
    Ok(view::attachment(
        "text/csv; charset=utf-8",
        &format!("timeline-{id}.csv"),
        out,
    ))
}

/// What the timeline's entries name, looked up once per page: task names, session
/// titles, meetings, other participants.
struct Lookup<'a> {
    portal: &'a Portal,
    owner: ParticipantId,
    /// A participant reading their own record sees partners by company only, as the
    /// library's partners tab shows them.
    companies_only: bool,
    tasks: HashMap<TaskId, String>,
    sessions: HashMap<String, String>,
    meetings: HashMap<MeetingId, Meeting>,
    companies: HashMap<ParticipantId, String>,
}

impl<'a> Lookup<'a> {
    async fn new(portal: &'a Portal, who: &Who, owner: ParticipantId) -> Result<Self, Error> {
        let service = portal.service();
        let event = portal.event();
        let settings = service.event(&Actor::System, event).get().await?.settings;
        // Task names are the host's configuration; a participant reader only ever gets the
        // names of published (or archived) tasks, never a draft's.
        let staff = who.is_organizer();
        let tasks = service
            .event(&portal.organizer(), event)
            .tasks()
            .await?
            .into_iter()
            .filter(|t| staff || t.state != punchlist::TaskState::Draft)
            .filter_map(|t| {
                let text = t
                    .config
                    .texts
                    .get(&settings.default_language)
                    .or_else(|| t.config.texts.values().next())?;
                Some((t.id, text.name.clone()))
            })
            .collect();
        let mut sessions: HashMap<String, String> = super::seed::session_catalogue()
            .into_iter()
            .map(|s| (s.id.to_string(), s.title))
            .collect();
        for r in portal.scope(&who.actor).sessions(owner).await? {
            sessions.insert(r.session.id.to_string(), r.session.title);
        }
        let meetings = portal
            .scope(&who.actor)
            .meetings(owner)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        Ok(Self {
            portal,
            owner,
            companies_only: !who.is_organizer(),
            tasks,
            sessions,
            meetings,
            companies: HashMap::new(),
        })
    }

    fn task(&self, id: &TaskId) -> String {
        match self.tasks.get(id) {
            Some(name) => format!("«{name}»"),
            None => "(a deleted task)".to_owned(),
        }
    }

    fn session(&self, id: &ExternalId) -> String {
        match self.sessions.get(id.as_str()) {
            Some(title) => format!("«{title}»"),
            None => format!("«{id}»"),
        }
    }

    async fn name(&self, names: &mut Names, id: ParticipantId) -> String {
        names
            .of(self.portal.service(), self.portal.event(), id)
            .await
    }

    /// An exhibitor or partner: their name and company for the organizers, their
    /// company for the participant.
    async fn partner(&mut self, names: &mut Names, id: ParticipantId) -> String {
        if !self.companies_only {
            return self.name(names, id).await;
        }
        if let Some(c) = self.companies.get(&id) {
            return c.clone();
        }
        let company = match self
            .portal
            .service()
            .participant(&Actor::System, self.portal.event(), id)
            .await
        {
            Ok(p) if !p.profile.company.is_empty() => p.profile.company,
            _ => "an exhibitor".to_owned(),
        };
        self.companies.insert(id, company.clone());
        company
    }

    /// The entry in words.
    async fn describe(&mut self, kind: &TimelineKind, names: &mut Names) -> String {
        // The other participant the entry names, if any, looked up first.
        let other = match kind {
            TimelineKind::TaskAssigned { assignee: p, .. }
            | TimelineKind::TaskReceived { owner: p, .. }
            | TimelineKind::TaskTakenBack { from: p, .. }
            | TimelineKind::CollaboratorLinked { owner: p }
            | TimelineKind::MeetingBooked { with: p, .. }
            | TimelineKind::MeetingReceived { from: p, .. }
            | TimelineKind::ContactRequestSent { to: p }
            | TimelineKind::ContactRequestReceived { from: p } => self.name(names, *p).await,
            TimelineKind::MeetingStatusChanged { meeting, .. } => {
                match self.meetings.get(meeting).map(|m| m.other(self.owner)) {
                    Some(o) => self.name(names, o).await,
                    None => String::new(),
                }
            }
            TimelineKind::Scanned {
                place: ScanPlace::Partner { partner: p },
            }
            | TimelineKind::ExhibitorBookmarked { exhibitor: p } => self.partner(names, *p).await,
            _ => String::new(),
        };
        match kind {
            TimelineKind::Registered => "Registered to the event".to_owned(),
            TimelineKind::TaskCompleted { task } => {
                format!("Completed the task {}", self.task(task))
            }
            TimelineKind::TaskReopened { task } => {
                format!("The task {} went back to do", self.task(task))
            }
            TimelineKind::TaskAssigned { task, .. } => {
                format!("Handed the task {} to {other}", self.task(task))
            }
            TimelineKind::TaskReceived { task, .. } => {
                format!("Received the task {} from {other}", self.task(task))
            }
            TimelineKind::TaskTakenBack { task, .. } => {
                format!("Took back the task {} from {other}", self.task(task))
            }
            TimelineKind::CollaboratorLinked { .. } => format!("Joined the team of {other}"),
            TimelineKind::ReminderSent { tasks } => {
                let list: Vec<String> = tasks.iter().map(|t| self.task(t)).collect();
                if list.is_empty() {
                    "Was sent a reminder".to_owned()
                } else {
                    format!("Was sent a reminder about {}", list.join(", "))
                }
            }
            TimelineKind::NetworkingEnabled => "Networking enabled".to_owned(),
            TimelineKind::NetworkingDisabled => "Networking disabled".to_owned(),
            TimelineKind::SessionRegistered { session } => {
                format!("Registered to the session {}", self.session(session))
            }
            TimelineKind::SessionUnregistered { session } => {
                format!("Unregistered from the session {}", self.session(session))
            }
            TimelineKind::SessionAttended { session } => {
                format!("Attended the session {}", self.session(session))
            }
            TimelineKind::MeetingBooked { .. } => format!("Booked a meeting with {other}"),
            TimelineKind::MeetingReceived { .. } => {
                format!("Was booked for a meeting by {other}")
            }
            TimelineKind::MeetingStatusChanged { status, .. } => {
                let with = if other.is_empty() {
                    String::new()
                } else {
                    format!(" with {other}")
                };
                format!(
                    "The meeting{with} was {}",
                    meeting_label(*status).to_lowercase()
                )
            }
            TimelineKind::FirstLogin { channel } => match channel {
                LoginChannel::Web => "Logged in to the website for the first time",
                LoginChannel::App => "Logged in to the app for the first time",
            }
            .to_owned(),
            TimelineKind::ContactRequestSent { .. } => {
                format!("Sent a contact request to {other}")
            }
            TimelineKind::ContactRequestReceived { .. } => {
                format!("Was contacted by {other} through networking")
            }
            TimelineKind::LiveInteraction {
                interaction,
                session,
            } => {
                let how = match interaction {
                    Interaction::Question => "asked a question",
                    Interaction::Poll => "voted in a poll",
                    Interaction::Quiz => "answered a quiz",
                    Interaction::Chat => "wrote in the live chat",
                    Interaction::Reaction => "reacted",
                };
                match session {
                    Some(s) => format!(
                        "Took part in live interactivity ({how}) in the session {}",
                        self.session(s)
                    ),
                    None => format!("Took part in live interactivity ({how})"),
                }
            }
            TimelineKind::Scanned { place } => match place {
                ScanPlace::SessionEntrance { session } => format!(
                    "Scanned at the entrance of the session {}",
                    self.session(session)
                ),
                ScanPlace::Partner { .. } => format!("Scanned by the partner {other}"),
                ScanPlace::Zone { zone } => format!("Scanned at the zone «{zone}»"),
            },
            TimelineKind::BadgePrinted { place } => match place {
                BadgePlace::SelfService => "Printed their badge at a self-service kiosk",
                BadgePlace::OnSite => "Had their badge printed on site",
            }
            .to_owned(),
            TimelineKind::SurveyAnswered { survey } => {
                format!("Answered the survey «{survey}»")
            }
            TimelineKind::EmailReceived { email } => format!("Received the email «{email}»"),
            TimelineKind::EmailOpened { email } => format!("Opened the email «{email}»"),
            TimelineKind::EmailClicked { email } => format!("Clicked in the email «{email}»"),
            TimelineKind::ExhibitorBookmarked { .. } => {
                format!("Bookmarked the exhibitor {other}")
            }
            unknown => kind_label(unknown.action_kind()).to_owned(),
        }
    }
}

// ----- agenda (R6) and sessions (R8) -----

async fn agenda_tab(
    portal: &Portal,
    who: &Who,
    id: ParticipantId,
    names: &mut Names,
) -> Result<Value, Error> {
    let service = portal.service();
    let event = portal.event();
    let agenda = portal.scope(&who.actor).agenda(id).await?;
    // The agenda says which time zone to show it in (the event's).
    let tz = agenda.time_zone;
    let mut items = Vec::with_capacity(agenda.items.len());
    for item in &agenda.items {
        items.push(match item {
            AgendaItem::Session { session, attended } => context! {
                kind => "session",
                starts => view::when(session.starts_at, tz),
                ends => view::when(session.ends_at, tz),
                title => session.title.clone(),
                place => session.place.clone(),
                note => if *attended { "Attended" } else { "Registered" },
            },
            AgendaItem::Meeting { meeting } => {
                let other = names.of(service, event, meeting.other(id)).await;
                context! {
                    kind => "meeting",
                    starts => view::when(meeting.starts_at, tz),
                    ends => view::when(meeting.ends_at, tz),
                    title => format!("Meeting with {other}"),
                    place => meeting.place.clone(),
                    note => meeting_label(meeting.status),
                }
            }
            _ => continue,
        });
    }
    let registered: Vec<String> = portal
        .scope(&who.actor)
        .sessions(id)
        .await?
        .into_iter()
        .filter(|r| r.registered)
        .map(|r| r.session.id.to_string())
        .collect();
    // The people to meet come from the host's own directory: for an organizer everyone,
    // for a participant only those who accept networking (R11), the only ones the library
    // lets them book anyway; nobody else's name is shown to a participant.
    let organizer = who.is_organizer();
    let people: Vec<Value> = service
        .event(&Actor::System, event)
        .registrants(None, None, 500)
        .await?
        .rows
        .iter()
        .filter(|r| r.participant.id != id && r.participant.erased_at.is_none())
        .filter(|r| organizer || r.participant.status.networking == Networking::Allowed)
        .map(|r| {
            context! {
                id => r.participant.id.to_string(),
                name => view::person(&r.participant),
            }
        })
        .collect();
    Ok(context! {
        items => items,
        catalogue => catalogue(tz, &registered),
        people => people,
    })
}

/// The host's session catalogue, for the register form; `registered` are marked.
fn catalogue(tz: Tz, registered: &[String]) -> Vec<Value> {
    super::seed::session_catalogue()
        .into_iter()
        .map(|s| {
            let id = s.id.to_string();
            context! {
                registered => registered.contains(&id),
                id => id,
                title => s.title,
                starts => view::when(s.starts_at, tz),
            }
        })
        .collect()
}

async fn sessions_tab(
    portal: &Portal,
    who: &Who,
    id: ParticipantId,
    tz: Tz,
) -> Result<Value, Error> {
    let sessions = portal.scope(&who.actor).sessions(id).await?;
    let registered: Vec<String> = sessions
        .iter()
        .filter(|r| r.registered)
        .map(|r| r.session.id.to_string())
        .collect();
    let rows: Vec<Value> = sessions
        .iter()
        .map(|r| {
            let sid = encode(r.session.id.as_str());
            context! {
                id => r.session.id.to_string(),
                title => r.session.title.clone(),
                starts => view::when(r.session.starts_at, tz),
                ends => view::when(r.session.ends_at, tz),
                place => r.session.place.clone(),
                registered => r.registered,
                registered_at => r.registered_at.map(|t| view::when(t, tz)),
                attended_at => r.attended_at.map(|t| view::when(t, tz)),
                unregister_url => format!("/admin/participants/{id}/sessions/{sid}/unregister"),
                attend_url => format!("/admin/participants/{id}/sessions/{sid}/attend"),
            }
        })
        .collect();
    // Recording attendance is the organizers' and the host's (a scan, a check-in).
    let catalogue_rows = catalogue(tz, &registered);
    let attendable: Vec<Value> = super::seed::session_catalogue()
        .into_iter()
        .filter(|s| {
            !sessions
                .iter()
                .any(|r| r.session.id == s.id && r.attended_at.is_some())
        })
        .map(|s| {
            context! {
                title => s.title,
                attend_url => format!("/admin/participants/{id}/sessions/{}/attend", encode(s.id.as_str())),
            }
        })
        .collect();
    Ok(context! {
        rows => rows,
        catalogue => catalogue_rows,
        can_attend => who.is_organizer(),
        attendable => attendable,
    })
}

#[derive(serde::Deserialize)]
struct RegisterForm {
    #[serde(default)]
    session: String,
    #[serde(default)]
    back: String,
}

/// The tab a form goes back to: `back` when it is one of `allowed`, else the first.
fn back_tab<'a>(back: &str, allowed: &[&'a str]) -> &'a str {
    allowed
        .iter()
        .find(|t| **t == back)
        .or(allowed.first())
        .copied()
        .unwrap_or("details")
}

fn to_tab(id: ParticipantId, tab: &str) -> Response {
    Redirect::to(&format!("/admin/participants/{id}?tab={tab}")).into_response()
}

async fn register_session(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
    axum::Form(form): axum::Form<RegisterForm>,
) -> Page {
    let tab = back_tab(&form.back, &["agenda", "sessions"]);
    let Some(session) = super::seed::session_catalogue()
        .into_iter()
        .find(|s| s.id.as_str() == form.session)
    else {
        let problems = Problems::one("session", "choose a session of the programme");
        return show(&portal, &who, id, &RecordQuery::tab(tab), problems).await;
    };
    match portal
        .scope(&who.actor)
        .register_to_session(id, session)
        .await
    {
        Ok(_) => Ok(to_tab(id, tab)),
        Err(e) => {
            let errors = view::field_errors(e, |_| "session".to_owned())?;
            let problems = Problems {
                errors,
                form: BTreeMap::new(),
            }
            .typed(&[("session", form.session.as_str())]);
            show(&portal, &who, id, &RecordQuery::tab(tab), problems).await
        }
    }
}

async fn unregister_session(
    State(portal): State<Portal>,
    who: Who,
    Path((id, session)): Path<(ParticipantId, String)>,
) -> Page {
    let session = ExternalId::new(session)?;
    match portal
        .scope(&who.actor)
        .unregister_from_session(id, &session)
        .await
    {
        Ok(_) => Ok(to_tab(id, "sessions")),
        // Not registered (any more): say so on the tab rather than a bare 404.
        Err(Error::NotFound {
            entity: "session", ..
        }) => {
            let problems = Problems::one("sessions", "not registered to this session");
            show(&portal, &who, id, &RecordQuery::tab("sessions"), problems).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn attend_session(
    State(portal): State<Portal>,
    who: Who,
    Path((id, session)): Path<(ParticipantId, String)>,
) -> Page {
    let service = portal.service();
    // The host's description of the session: its catalogue, or what the record keeps.
    let found: Option<Session> = match super::seed::session_catalogue()
        .into_iter()
        .find(|s| s.id.as_str() == session)
    {
        Some(s) => Some(s),
        None => portal
            .scope(&who.actor)
            .sessions(id)
            .await?
            .into_iter()
            .map(|r| r.session)
            .find(|s| s.id.as_str() == session),
    };
    let Some(found) = found else {
        return Err(Error::not_found("session", session).into());
    };
    let now = service.clock().now();
    match portal
        .scope(&who.actor)
        .record_attendance(id, found, now)
        .await
    {
        Ok(_) => Ok(to_tab(id, "sessions")),
        Err(e) => {
            let errors = view::field_errors(e, |_| "sessions".to_owned())?;
            let problems = Problems {
                errors,
                form: BTreeMap::new(),
            };
            show(&portal, &who, id, &RecordQuery::tab("sessions"), problems).await
        }
    }
}

// ----- meetings (R9) -----

async fn meetings_tab(
    portal: &Portal,
    who: &Who,
    id: ParticipantId,
    tz: Tz,
    names: &mut Names,
) -> Result<Value, Error> {
    let service = portal.service();
    let event = portal.event();
    let meetings = portal.scope(&who.actor).meetings(id).await?;
    let mut rows = Vec::with_capacity(meetings.len());
    for m in &meetings {
        let actions: Vec<Value> = meeting_actions(who, m)
            .into_iter()
            .map(|(value, label)| context! { value => value, label => label })
            .collect();
        let booker = names.of(service, event, m.booker).await;
        let with = names.of(service, event, m.with).await;
        rows.push(context! {
            id => m.id.to_string(),
            booker => booker,
            with => with,
            starts => view::when(m.starts_at, tz),
            ends => view::when(m.ends_at, tz),
            place => m.place.clone(),
            status => meeting_value(m.status),
            status_label => meeting_label(m.status),
            actions => actions,
            url => format!("/admin/participants/{id}/meetings/{}/status", m.id),
        });
    }
    Ok(context! { rows => rows })
}

/// The buttons a meeting shows to `who`: an organizer may set any status; a participant
/// answers a meeting booked with them, and either side cancels. The library decides in
/// the end.
fn meeting_actions(who: &Who, m: &Meeting) -> Vec<(&'static str, &'static str)> {
    let all = [
        (MeetingStatus::Accepted, "Accept"),
        (MeetingStatus::Declined, "Decline"),
        (MeetingStatus::Cancelled, "Cancel"),
        (MeetingStatus::Requested, "Back to requested"),
    ];
    all.into_iter()
        .filter(|(status, _)| *status != m.status)
        .filter(|(status, _)| match who.me {
            None => true,
            Some(me) => match status {
                MeetingStatus::Accepted | MeetingStatus::Declined => {
                    me == m.with && m.status == MeetingStatus::Requested
                }
                MeetingStatus::Cancelled => m.status.is_on(),
                MeetingStatus::Requested => false,
            },
        })
        .map(|(status, label)| (meeting_value(status), label))
        .collect()
}

#[derive(serde::Deserialize)]
struct MeetingForm {
    #[serde(default)]
    with: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    place: String,
}

async fn book_meeting(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
    axum::Form(form): axum::Form<MeetingForm>,
) -> Page {
    let tz = time_zone(&portal).await?;
    let typed = [
        ("with", form.with.as_str()),
        ("starts_at", form.starts_at.as_str()),
        ("duration", form.duration.as_str()),
        ("place", form.place.as_str()),
    ];
    let mut errors = FieldErrors::new();
    let with = match form.with.trim().parse::<ParticipantId>() {
        Ok(w) => Some(w),
        Err(_) => {
            errors.insert("with".into(), "choose a participant".into());
            None
        }
    };
    let starts_at = local(&mut errors, "starts_at", &form.starts_at, tz);
    if starts_at.is_none() && !errors.contains_key("starts_at") {
        errors.insert("starts_at".into(), "required".into());
    }
    let duration = match form.duration.trim().parse::<i64>() {
        Ok(d) if (1..=1440).contains(&d) => Some(Duration::minutes(d)),
        _ => {
            errors.insert(
                "duration".into(),
                "a number of minutes, from 1 to 1440".into(),
            );
            None
        }
    };
    let (Some(with), Some(starts_at), Some(duration)) = (with, starts_at, duration) else {
        let problems = Problems {
            errors,
            form: BTreeMap::new(),
        }
        .typed(&typed);
        return show(&portal, &who, id, &RecordQuery::tab("agenda"), problems).await;
    };
    let place = Some(form.place.trim().to_owned()).filter(|p| !p.is_empty());
    let meeting = NewMeeting {
        booker: id,
        with,
        starts_at,
        ends_at: starts_at + duration,
        place,
    };
    match portal.scope(&who.actor).book_meeting(meeting).await {
        Ok(_) => Ok(to_tab(id, "agenda")),
        Err(e) => {
            let errors = view::field_errors(e, |field| match field {
                "ends_at" => "duration".to_owned(),
                "with" | "starts_at" | "place" => field.to_owned(),
                _ => "meeting".to_owned(),
            })?;
            let problems = Problems {
                errors,
                form: BTreeMap::new(),
            }
            .typed(&typed);
            show(&portal, &who, id, &RecordQuery::tab("agenda"), problems).await
        }
    }
}

#[derive(serde::Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn meeting_status(
    State(portal): State<Portal>,
    who: Who,
    Path((id, meeting)): Path<(ParticipantId, MeetingId)>,
    axum::Form(form): axum::Form<StatusForm>,
) -> Page {
    let Some(status) = parse_meeting(&form.status) else {
        let problems = Problems::one("status", "not a status of a meeting");
        return show(&portal, &who, id, &RecordQuery::tab("meetings"), problems).await;
    };
    match portal
        .scope(&who.actor)
        .set_meeting_status(id, meeting, status)
        .await
    {
        Ok(_) => Ok(to_tab(id, "meetings")),
        Err(e) => {
            let errors = view::field_errors(e, |_| "status".to_owned())?;
            let problems = Problems {
                errors,
                form: BTreeMap::new(),
            };
            show(&portal, &who, id, &RecordQuery::tab("meetings"), problems).await
        }
    }
}

// ----- partners (R10) -----

async fn partners_tab(
    portal: &Portal,
    who: &Who,
    id: ParticipantId,
    tz: Tz,
) -> Result<Value, Error> {
    let partners = portal.scope(&who.actor).partners(id).await?;
    let rows = |list: &[punchlist::Partner]| -> Vec<Value> {
        list.iter()
            .map(|p| {
                context! {
                    id => p.participant.to_string(),
                    company => if p.company.is_empty() { "(no company)".to_owned() } else { p.company.clone() },
                    name => p.name.clone(),
                    at => view::when(p.at, tz),
                }
            })
            .collect()
    };
    Ok(context! {
        bookmarked => rows(&partners.bookmarked),
        scanned_by => rows(&partners.scanned_by),
    })
}

// ----- messages (R7) -----

async fn messages_tab(
    portal: &Portal,
    who: &Who,
    id: ParticipantId,
    query: &RecordQuery,
    tz: Tz,
    errors: &mut FieldErrors,
    names: &mut Names,
) -> Result<Value, Error> {
    let service = portal.service();
    let event = portal.event();
    let before = match query.before.trim() {
        "" => None,
        s => match s.parse::<MessageId>() {
            Ok(b) => Some(b),
            Err(_) => {
                errors.insert("before".into(), "not a page of this thread".into());
                None
            }
        },
    };
    let page = portal.scope(&who.actor).messages(id, before, PAGE).await?;
    let reader_is_staff = who.actor.is_staff_of(event);
    // The newest `unread` messages of the other side are the new ones.
    let mut fresh = page.unread as usize;
    let mut rows = Vec::with_capacity(page.messages.len());
    for m in &page.messages {
        let theirs = m.from_participant() == reader_is_staff;
        let new = before.is_none() && theirs && fresh > 0;
        if new {
            fresh -= 1;
        }
        let by = names.actor(service, event, &m.sender).await;
        rows.push(context! {
            id => m.id.to_string(),
            by => by,
            from_participant => m.from_participant(),
            at => view::when(m.at, tz),
            body => m.body.clone(),
            new => new,
        });
    }
    // Oldest first, the newest last, as a thread reads.
    rows.reverse();
    let older = match page.messages.last() {
        Some(last) if page.messages.len() == PAGE => Some(format!(
            "/admin/participants/{id}?tab=messages&before={}",
            last.id
        )),
        _ => None,
    };
    // Opening the thread reads it, for the reader's side.
    if page.unread > 0 && before.is_none() {
        portal.scope(&who.actor).mark_messages_read(id).await?;
    }
    Ok(context! {
        messages => rows,
        unread => page.unread,
        older => older,
        newest => before.map(|_| format!("/admin/participants/{id}?tab=messages")),
    })
}

#[derive(serde::Deserialize)]
struct MessageForm {
    #[serde(default)]
    body: String,
}

async fn send_message(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
    axum::Form(form): axum::Form<MessageForm>,
) -> Page {
    match portal.scope(&who.actor).send_message(id, &form.body).await {
        Ok(_) => Ok(to_tab(id, "messages")),
        Err(e) => {
            let errors = view::field_errors(e, |_| "body".to_owned())?;
            let problems = Problems {
                errors,
                form: BTreeMap::new(),
            }
            .typed(&[("body", form.body.as_str())]);
            show(&portal, &who, id, &RecordQuery::tab("messages"), problems).await
        }
    }
}

// ----- networking (R11) -----

fn networking_tab(p: &Participant) -> Value {
    let buttons: Vec<Value> = [
        (Networking::Allowed, "Allow networking"),
        (Networking::NotAllowed, "Forbid networking"),
        (Networking::Unknown, "Back to not given"),
    ]
    .into_iter()
    .map(|(n, label)| {
        context! {
            value => networking_value(n),
            label => label,
            current => n == p.status.networking,
        }
    })
    .collect();
    context! {
        value => networking_value(p.status.networking),
        label => networking_label(p.status.networking),
        interests => p.networking.interests.iter().cloned().collect::<Vec<_>>(),
        preferences => p.networking.preferences.iter().cloned().collect::<Vec<_>>(),
        buttons => buttons,
    }
}

#[derive(serde::Deserialize)]
struct NetworkingForm {
    #[serde(default)]
    networking: String,
}

async fn set_networking(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
    axum::Form(form): axum::Form<NetworkingForm>,
) -> Page {
    let networking = match form.networking.as_str() {
        "allowed" => Networking::Allowed,
        "not_allowed" => Networking::NotAllowed,
        "unknown" => Networking::Unknown,
        _ => {
            let problems = Problems::one("networking", "allowed, not allowed, or not given");
            return show(&portal, &who, id, &RecordQuery::tab("networking"), problems).await;
        }
    };
    match portal
        .scope(&who.actor)
        .set_networking(id, networking)
        .await
    {
        Ok(_) => Ok(to_tab(id, "networking")),
        Err(e) => {
            let errors = view::field_errors(e, |_| "networking".to_owned())?;
            let problems = Problems {
                errors,
                form: BTreeMap::new(),
            };
            show(&portal, &who, id, &RecordQuery::tab("networking"), problems).await
        }
    }
}

// ----- history (R12) -----

/// The history filter `query` asks for; what cannot be read goes into `errors`.
fn history_filter(query: &RecordQuery, tz: Tz, errors: &mut FieldErrors) -> HistoryFilter {
    let mut filter = HistoryFilter {
        fields: query
            .fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        ..HistoryFilter::default()
    };
    filter.from = local(&mut *errors, "from", &query.from, tz);
    filter.until = local(&mut *errors, "until", &query.until, tz);
    match query.before.trim() {
        "" => {}
        s => match s.parse() {
            Ok(b) => filter.before = Some(b),
            Err(_) => {
                errors.insert("before".into(), "not a page of this history".into());
            }
        },
    }
    filter
}

async fn history_tab(
    portal: &Portal,
    who: &Who,
    id: ParticipantId,
    query: &RecordQuery,
    tz: Tz,
    errors: &mut FieldErrors,
    names: &mut Names,
) -> Result<Value, Error> {
    let service = portal.service();
    let event = portal.event();
    let filter = history_filter(query, tz, errors);
    let lines = if errors.is_empty() {
        match portal
            .scope(&who.actor)
            .participant_history(id, &filter, PAGE)
            .await
        {
            Ok(lines) => lines,
            Err(e) => {
                errors.extend(view::field_errors(e, str::to_owned)?);
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let mut rows = Vec::with_capacity(lines.len());
    for l in &lines {
        let by = names.actor(service, event, &l.actor).await;
        rows.push(context! {
            at => view::when(l.at, tz),
            by => by,
            field => l.field.clone(),
            old => json_text(&l.old),
            new => json_text(&l.new),
        });
    }
    let fields = filter.fields.join(",");
    let base = [
        ("tab", "history"),
        ("fields", fields.as_str()),
        ("from", query.from.trim()),
        ("until", query.until.trim()),
    ];
    let older = match lines.last() {
        Some(last) if lines.len() == PAGE => {
            let before = last.id.to_string();
            let mut pairs = base.to_vec();
            pairs.push(("before", before.as_str()));
            Some(format!("/admin/participants/{id}{}", query_string(&pairs)))
        }
        _ => None,
    };
    let newest = filter
        .before
        .map(|_| format!("/admin/participants/{id}{}", query_string(&base)));
    Ok(context! {
        rows => rows,
        fields => query.fields.trim(),
        from => query.from.trim(),
        until => query.until.trim(),
        older => older,
        newest => newest,
        csv => format!("/admin/participants/{id}/history.csv{}", query_string(&base[1..])),
    })
}

async fn history_csv(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Page {
    let query = RecordQuery::from_pairs(pairs);
    let tz = time_zone(&portal).await?;
    let mut errors = FieldErrors::new();
    let filter = history_filter(&query, tz, &mut errors);
    if let Some((field, reason)) = errors.into_iter().next() {
        return Err(Error::invalid(field, reason).into());
    }
    let mut out = Vec::new();
    portal
        .scope(&who.actor)
        .export_participant_history_csv(id, &filter, &mut out)
        .await?;
    Ok(view::attachment(
        "text/csv; charset=utf-8",
        &format!("history-{id}.csv"),
        out,
    ))
}

// ----- export (X6) -----

async fn export_json(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
) -> Page {
    let export = portal.scope(&who.actor).export_participant(id).await?;
    let body = serde_json::to_vec_pretty(&export).map_err(Error::backend)?;
    Ok(view::attachment(
        "application/json",
        &format!("participant-{id}.json"),
        body,
    ))
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
