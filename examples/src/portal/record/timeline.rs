//! The timeline tab (R5): its filter, its page, its CSV export, and the names its entries show.

use super::*;

// ----- timeline (R5) -----

/// The timeline filter `query` asks for; what cannot be read goes into `errors`.
pub(super) fn timeline_filter(
    query: &RecordQuery,
    tz: Tz,
    errors: &mut FieldErrors,
) -> TimelineFilter {
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
pub(super) fn local(
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

pub(super) async fn timeline_tab(
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

pub(super) async fn timeline_csv(
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
pub(super) struct Lookup<'a> {
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
        let mut sessions: HashMap<String, String> = crate::portal::seed::session_catalogue()
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
