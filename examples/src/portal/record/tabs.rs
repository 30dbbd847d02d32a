//! The other tabs of the record: details (R1–R4, R13), partners (R10), messages (R7),
//! networking (R11), history (R12) and the export (X6).

use super::*;

// ----- details (R1–R4, R13) -----

pub(super) async fn details_tab(
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

// ----- partners (R10) -----

pub(super) async fn partners_tab(
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

pub(super) async fn messages_tab(
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
pub(super) struct MessageForm {
    #[serde(default)]
    body: String,
}

pub(super) async fn send_message(
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

pub(super) fn networking_tab(p: &Participant) -> Value {
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
pub(super) struct NetworkingForm {
    #[serde(default)]
    networking: String,
}

pub(super) async fn set_networking(
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
pub(super) fn history_filter(
    query: &RecordQuery,
    tz: Tz,
    errors: &mut FieldErrors,
) -> HistoryFilter {
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

pub(super) async fn history_tab(
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

pub(super) async fn history_csv(
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

pub(super) async fn export_json(
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
