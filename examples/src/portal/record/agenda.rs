//! The agenda (R6), sessions (R8) and meetings (R9) tabs, and their forms.

use super::*;

// ----- agenda (R6) and sessions (R8) -----

pub(super) async fn agenda_tab(
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
pub(super) fn catalogue(tz: Tz, registered: &[String]) -> Vec<Value> {
    crate::portal::seed::session_catalogue()
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

pub(super) async fn sessions_tab(
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
    let attendable: Vec<Value> = crate::portal::seed::session_catalogue()
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
pub(super) struct RegisterForm {
    #[serde(default)]
    session: String,
    #[serde(default)]
    back: String,
}

/// The tab a form goes back to: `back` when it is one of `allowed`, else the first.
pub(super) fn back_tab<'a>(back: &str, allowed: &[&'a str]) -> &'a str {
    allowed
        .iter()
        .find(|t| **t == back)
        .or(allowed.first())
        .copied()
        .unwrap_or("details")
}

pub(super) fn to_tab(id: ParticipantId, tab: &str) -> Response {
    Redirect::to(&format!("/admin/participants/{id}?tab={tab}")).into_response()
}

pub(super) async fn register_session(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<ParticipantId>,
    axum::Form(form): axum::Form<RegisterForm>,
) -> Page {
    let tab = back_tab(&form.back, &["agenda", "sessions"]);
    let Some(session) = crate::portal::seed::session_catalogue()
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

pub(super) async fn unregister_session(
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

pub(super) async fn attend_session(
    State(portal): State<Portal>,
    who: Who,
    Path((id, session)): Path<(ParticipantId, String)>,
) -> Page {
    let service = portal.service();
    // The host's description of the session: its catalogue, or what the record keeps.
    let found: Option<Session> = match crate::portal::seed::session_catalogue()
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

pub(super) async fn meetings_tab(
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
pub(super) fn meeting_actions(who: &Who, m: &Meeting) -> Vec<(&'static str, &'static str)> {
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
pub(super) struct MeetingForm {
    #[serde(default)]
    with: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    place: String,
}

pub(super) async fn book_meeting(
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
pub(super) struct StatusForm {
    #[serde(default)]
    status: String,
}

pub(super) async fn meeting_status(
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
