//! Tracking (B1–B4) and notifications (N5, N6): the matrix, its CSV exports, the live
//! stream and the outbox pages.

use super::*;

// ----- tracking ------------------------------------------------------------------------

/// The matrix's filters as the query string carries them.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub(super) struct MatrixParams {
    task: String,
    status: String,
    segment: String,
    category: String,
    search: String,
    sort: String,
    desc: String,
    after_key: String,
    after_id: String,
    limit: String,
    #[serde(skip_serializing)]
    fragment: String,
}

impl MatrixParams {
    fn request(&self) -> Result<MatrixRequest, Error> {
        fn some(s: &str) -> Option<&str> {
            Some(s.trim()).filter(|s| !s.is_empty())
        }
        fn named<T: serde::de::DeserializeOwned>(field: &'static str, s: &str) -> Result<T, Error> {
            serde_json::from_value(serde_json::Value::String(s.to_owned()))
                .map_err(|_| Error::invalid(field, "not one of the choices"))
        }
        let after = match (some(&self.after_id), self.after_key.as_str()) {
            (Some(id), key) => Some(MatrixCursor {
                key: key.to_owned(),
                id: id
                    .parse::<ParticipantId>()
                    .map_err(|_| Error::invalid("after_id", "not a participant id"))?,
            }),
            (None, _) => None,
        };
        Ok(MatrixRequest {
            task: some(&self.task)
                .map(|t| t.parse::<TaskId>())
                .transpose()
                .map_err(|_| Error::invalid("task", "not a task id"))?,
            status: some(&self.status)
                .map(|s| named::<StatusFilter>("status", s))
                .transpose()?,
            segment: some(&self.segment)
                .map(|s| s.parse::<SegmentId>())
                .transpose()
                .map_err(|_| Error::invalid("segment", "not a segment id"))?,
            category: some(&self.category).map(str::to_owned),
            search: some(&self.search).map(str::to_owned),
            sort: some(&self.sort)
                .map(|s| named::<MatrixSort>("sort", s))
                .transpose()?
                .unwrap_or_default(),
            descending: !self.desc.is_empty(),
            after,
            limit: some(&self.limit)
                .map(str::parse::<usize>)
                .transpose()
                .map_err(|_| Error::invalid("limit", "must be a whole number"))?
                .unwrap_or(25),
        })
    }

    /// The filters without the page cursor, for links and the CSV download.
    fn filters(&self) -> MatrixParams {
        MatrixParams {
            after_key: String::new(),
            after_id: String::new(),
            fragment: String::new(),
            ..self.clone()
        }
    }
}

pub(super) async fn matrix_page(
    State(portal): State<Portal>,
    who: Who,
    Query(params): Query<MatrixParams>,
) -> Page {
    let settings = portal.scope(&who.actor).get().await?.settings;
    let tz = settings.time_zone;
    let tasks: BTreeMap<TaskId, Task> = portal
        .scope(&who.actor)
        .tasks()
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let segments: Vec<Value> = portal
        .scope(&who.actor)
        .segments()
        .await?
        .into_iter()
        .map(|s| context! { id => s.id.to_string(), name => s.name })
        .collect();
    let (page, errors) = match params.request() {
        Ok(request) => match portal.scope(&who.actor).matrix(&request).await {
            Ok(page) => (Some(page), FieldErrors::new()),
            Err(e) => (None, view::field_errors(e, str::to_owned)?),
        },
        Err(e) => (None, view::field_errors(e, str::to_owned)?),
    };
    let figures = figures_by_task(&portal, &who).await?;
    let name_of = |id: &TaskId| {
        tasks.get(id).map_or_else(
            || "?".to_owned(),
            |t| t.text(&settings.default_language, &settings).name.clone(),
        )
    };
    let (columns, rows, next, at) = match &page {
        Some(page) => {
            let columns: Vec<Value> = page
                .tasks
                .iter()
                .map(|id| {
                    context! {
                        id => id.to_string(),
                        name => name_of(id),
                        figures => figures.get(id),
                    }
                })
                .collect();
            let rows: Vec<Value> = page
                .rows
                .iter()
                .map(|r| {
                    let p = &r.participant;
                    context! {
                        id => p.id.to_string(),
                        name => p.profile.display_name(),
                        company => p.profile.company.clone(),
                        email => p.profile.email.clone(),
                        categories => view::categories(p),
                        percent => r.summary.percent,
                        done => r.summary.done,
                        total => r.summary.total,
                        cells => r.cells.iter().map(|c| context! {
                            task => c.task.to_string(),
                            status => c.status.map(ProgressStatus::as_str),
                            overdue => c.overdue,
                            assigned => c.assignee.is_some(),
                        }).collect::<Vec<_>>(),
                    }
                })
                .collect();
            let next = page.next.as_ref().map(|c| MatrixParams {
                after_key: c.key.clone(),
                after_id: c.id.to_string(),
                ..params.filters()
            });
            (columns, rows, next, Some(view::when(page.at, tz)))
        }
        None => (Vec::new(), Vec::new(), None, None),
    };
    let ctx = context! {
        params => view::ser(&params),
        filters => view::ser(params.filters()),
        paged => !params.after_id.is_empty(),
        next => next.map(view::ser),
        columns => columns,
        rows => rows,
        at => at,
        errors => errors,
        segments => segments,
        tasks => tasks.values().filter(|t| t.state != TaskState::Draft).map(|t| context! {
            id => t.id.to_string(),
            name => t.text(&settings.default_language, &settings).name.clone(),
        }).collect::<Vec<_>>(),
    };
    if !params.fragment.is_empty() {
        let html = crate::portal::templates()
            .get_template("matrix_table.html")?
            .render(ctx)?;
        return Ok(axum::response::Html(html).into_response());
    }
    render(&portal, Some(&who), "matrix.html", ctx)
}

pub(super) fn csv_download(name: &str, bytes: Vec<u8>) -> Response {
    view::attachment("text/csv; charset=utf-8", name, bytes)
}

pub(super) async fn matrix_csv(
    State(portal): State<Portal>,
    who: Who,
    Query(params): Query<MatrixParams>,
) -> Page {
    let request = params.filters().request()?;
    let mut out = Vec::new();
    portal
        .scope(&who.actor)
        .export_matrix_csv(&request, &mut out)
        .await?;
    Ok(csv_download("tracking.csv", out))
}

pub(super) async fn figures_csv(State(portal): State<Portal>, who: Who) -> Page {
    let mut out = Vec::new();
    portal
        .scope(&who.actor)
        .export_figures_csv(&mut out)
        .await?;
    Ok(csv_download("figures.csv", out))
}

/// The live feed of progress changes (B1) as server-sent events: the matrix page reloads
/// its table when one arrives. A feed that fell behind sends `lagged`, which reloads too.
pub(super) async fn live(
    State(portal): State<Portal>,
    who: Who,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, PageError> {
    let feed = portal.scope(&who.actor).progress_feed().await?;
    let events = feed.map(|change| {
        Ok(match change {
            Ok(c) => SseEvent::default().event("progress").data(
                serde_json::json!({
                    "task": c.task,
                    "participant": c.participant,
                    "status": c.after.status,
                })
                .to_string(),
            ),
            Err(_) => SseEvent::default().event("lagged").data("{}"),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

// ----- notifications -------------------------------------------------------------------

#[derive(serde::Deserialize)]
pub(super) struct OutboxQuery {
    after: Option<punchlist::OutboxId>,
}

/// The outbox (N5): every notification the library queued, and where it stands. The
/// portal runs no dispatcher, so entries stay pending; a platform runs one beside it.
pub(super) async fn notifications(
    State(portal): State<Portal>,
    who: Who,
    Query(q): Query<OutboxQuery>,
) -> Page {
    let service = portal.service();
    let event = portal.event();
    let settings = portal.scope(&who.actor).get().await?.settings;
    let names: BTreeMap<TaskId, String> = portal
        .scope(&who.actor)
        .tasks()
        .await?
        .into_iter()
        .map(|t| {
            let name = t.text(&settings.default_language, &settings).name.clone();
            (t.id, name)
        })
        .collect();
    let task = |id: &TaskId| names.get(id).cloned().unwrap_or_else(|| "?".to_owned());
    let entries = portal
        .scope(&who.actor)
        .outbox(&punchlist::OutboxFilter::default(), q.after, 100)
        .await?;
    let mut people = view::Names::default();
    let mut rows = Vec::new();
    for e in &entries {
        use punchlist::Notification as N;
        let what = match &e.message {
            N::Publication { tasks } => format!(
                "New tasks: {}",
                tasks.iter().map(task).collect::<Vec<_>>().join(", ")
            ),
            N::Assignment { task: t, owner } => format!(
                "{} handed you «{}»",
                people.of(service, event, *owner).await,
                task(t)
            ),
            N::Nudge { task: t, .. } => format!("Nudge about «{}»", task(t)),
            N::ReviewRejected {
                task: t, reason, ..
            } => {
                format!("«{}» was refused: {reason}", task(t))
            }
            N::Reminders { items } => format!("Reminder about {} tasks", items.len()),
            N::Reminder { task: t, .. } => format!("Reminder about «{}»", task(t)),
            other => format!("{other:?}"),
        };
        rows.push(context! {
            at => view::when(e.created_at, settings.time_zone),
            recipient => people.of(service, event, e.recipient).await,
            what => what,
            state => e.state.as_str(),
            attempts => e.attempts,
        });
    }
    render(
        &portal,
        Some(&who),
        "notifications.html",
        context! {
            rows => rows,
            next => (entries.len() == 100).then(|| entries.last().map(|e| e.id.to_string())).flatten(),
        },
    )
}
