//! The organizer's back office: tasks (T1–T3), segments (S1, S3) and the tracking matrix
//! (B1–B3), updated live from the library's progress feed.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use futures::{Stream, StreamExt};
use minijinja::{Value, context};
use punchlist::{
    CompletionMode, Condition, Error, EventSettings, HelpLink, MatrixCursor, MatrixRequest,
    MatrixSort, ParticipantId, ProgressStatus, ReminderOffset, Rule, SegmentDraft, SegmentId,
    StatusFilter, Task, TaskConfig, TaskId, TaskState, TaskText,
};

use super::view::{self, FieldErrors};
use super::{Page, PageError, Portal, Who, render};

/// The routes of the back office.
pub(crate) fn routes() -> Router<Portal> {
    Router::new()
        .route("/admin", get(tasks_page))
        .route("/admin/tasks/new", get(new_task))
        .route("/admin/tasks", post(create_task))
        .route("/admin/tasks/{task}/edit", get(edit_task))
        .route("/admin/tasks/{task}", post(update_task))
        .route("/admin/tasks/{task}/publish", post(publish))
        .route("/admin/tasks/{task}/archive", post(archive))
        .route("/admin/tasks/{task}/delete", post(delete))
        .route("/admin/segments", get(segments_page).post(create_segment))
        .route("/admin/segments/preview", get(preview))
        .route("/admin/matrix", get(matrix_page))
        .route("/admin/matrix.csv", get(matrix_csv))
        .route("/admin/figures.csv", get(figures_csv))
        .route("/admin/live", get(live))
        .route("/admin/notifications", get(notifications))
}

/// A submitted form, by input name. Checkboxes are present (`on`) or absent.
type FormData = BTreeMap<String, String>;

/// The condition kinds the task form offers (every kind of [`Condition`]).
const CONDITION_KINDS: [(&str, &str); 9] = [
    ("logo_uploaded", "A logo is uploaded"),
    ("collaborators", "At least N collaborators"),
    ("products", "At least N products"),
    ("invitations", "At least N invitations sent"),
    ("sessions", "Registered to at least N sessions"),
    ("form_completed", "A form is completed"),
    ("field_filled", "A profile field is filled"),
    ("all", "All of several conditions (JSON)"),
    ("any", "Any of several conditions (JSON)"),
];

/// Words for a condition: "At least 3 products", "Form «technical» completed".
fn describe(condition: &Condition) -> String {
    match condition {
        Condition::LogoUploaded => "Logo uploaded".to_owned(),
        Condition::Collaborators { at_least } => format!("At least {at_least} collaborators"),
        Condition::Products { at_least } => format!("At least {at_least} products"),
        Condition::Invitations { at_least } => format!("At least {at_least} invitations"),
        Condition::Sessions { at_least } => format!("At least {at_least} sessions"),
        Condition::FormCompleted { form } => format!("Form «{form}» completed"),
        Condition::FieldFilled { field, value: None } => format!("Field «{field}» filled"),
        Condition::FieldFilled {
            field,
            value: Some(v),
        } => format!("Field «{field}» is «{v}»"),
        Condition::All { conditions } => format!(
            "All of: {}",
            conditions
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Condition::Any { conditions } => format!(
            "Any of: {}",
            conditions
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

fn state_label(state: TaskState) -> &'static str {
    match state {
        TaskState::Draft => "draft",
        TaskState::Published => "published",
        TaskState::Archived => "archived",
    }
}

async fn tasks_page(State(portal): State<Portal>, who: Who) -> Page {
    let tasks = portal.scope(&who.actor).tasks().await?;
    let settings = portal.scope(&who.actor).get().await?.settings;
    let segments: BTreeMap<SegmentId, String> = portal
        .scope(&who.actor)
        .segments()
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let figures = figures_by_task(&portal, &who).await?;
    let rows: Vec<Value> = tasks
        .iter()
        .map(|t| {
            let text = t.text(&settings.default_language, &settings);
            context! {
                id => t.id.to_string(),
                name => text.name.clone(),
                state => state_label(t.state),
                mode => match &t.config.completion {
                    CompletionMode::Manual if t.config.review => "Manual, reviewed".to_owned(),
                    CompletionMode::Manual => "Manual".to_owned(),
                    CompletionMode::Automatic { condition } => describe(condition),
                },
                segment => t.config.segment.map_or_else(
                    || "Everyone".to_owned(),
                    |s| segments.get(&s).cloned().unwrap_or_else(|| "?".to_owned()),
                ),
                deadline => t.config.deadline.map(|d| view::when(d, settings.time_zone)),
                notify => t.config.notify_on_publish,
                figures => figures.get(&t.id),
            }
        })
        .collect();
    render(
        &portal,
        Some(&who),
        "admin_tasks.html",
        context! { tasks => rows, event_name => settings.name },
    )
}

/// Each task's figures (B3) as the pages show them, by task.
async fn figures_by_task(portal: &Portal, who: &Who) -> Result<BTreeMap<TaskId, Value>, Error> {
    Ok(portal
        .scope(&who.actor)
        .task_figures()
        .await?
        .into_iter()
        .map(|f| {
            let shown = context! {
                done => f.done, targeted => f.targeted, rate => f.rate,
                overdue => f.overdue, awaiting => f.awaiting_review,
            };
            (f.task, shown)
        })
        .collect())
}

// ----- the task form -------------------------------------------------------------------

/// The form's values for an existing configuration (to edit it).
fn form_of(config: &TaskConfig, settings: &EventSettings) -> FormData {
    let mut f = FormData::new();
    for (lang, text) in &config.texts {
        f.insert(format!("name_{lang}"), text.name.clone());
        f.insert(format!("description_{lang}"), text.description.clone());
    }
    if let Some(d) = config.deadline {
        f.insert("deadline".into(), view::local_input(d, settings.time_zone));
    }
    if let Some(s) = config.segment {
        f.insert("segment".into(), s.to_string());
    }
    match &config.completion {
        CompletionMode::Manual => {
            f.insert("mode".into(), "manual".into());
        }
        CompletionMode::Automatic { condition } => {
            f.insert("mode".into(), "automatic".into());
            let kind = serde_json::to_value(condition)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
                .unwrap_or_default();
            f.insert("condition".into(), kind);
            match condition {
                Condition::Collaborators { at_least }
                | Condition::Products { at_least }
                | Condition::Invitations { at_least }
                | Condition::Sessions { at_least } => {
                    f.insert("at_least".into(), at_least.to_string());
                }
                Condition::FormCompleted { form } => {
                    f.insert("form_key".into(), form.clone());
                }
                Condition::FieldFilled { field, value } => {
                    f.insert("field_key".into(), field.clone());
                    f.insert("field_value".into(), value.clone().unwrap_or_default());
                }
                Condition::All { conditions } | Condition::Any { conditions } => {
                    f.insert(
                        "conditions_json".into(),
                        serde_json::to_string_pretty(conditions).unwrap_or_default(),
                    );
                }
                _ => {}
            }
        }
    }
    match &config.help {
        HelpLink::WebPage { url } => {
            f.insert("help_kind".into(), "web_page".into());
            f.insert("help_url".into(), url.clone());
        }
        HelpLink::FormStep { form, step } => {
            f.insert("help_kind".into(), "form_step".into());
            f.insert("help_form".into(), form.clone());
            f.insert("help_step".into(), step.clone());
        }
    }
    f.insert("position".into(), config.position.to_string());
    if config.notify_on_publish {
        f.insert("notify".into(), "on".into());
    }
    if config.review {
        f.insert("review".into(), "on".into());
    }
    if let Some(offsets) = &config.reminder_offsets {
        let text: Vec<String> = offsets
            .iter()
            .map(|o| match o.as_seconds() {
                s if s % 86_400 == 0 => format!("{}d", s / 86_400),
                s if s % 3600 == 0 => format!("{}h", s / 3600),
                s => format!("{}m", s / 60),
            })
            .collect();
        f.insert("reminders".into(), text.join(", "));
    }
    f
}

fn value<'a>(form: &'a FormData, key: &str) -> &'a str {
    form.get(key).map_or("", |v| v.trim())
}

fn checked(form: &FormData, key: &str) -> bool {
    form.get(key).is_some_and(|v| !v.is_empty())
}

/// The configuration a submitted form describes. What the portal cannot even parse (a
/// threshold that is not a number) is refused with the same kind of error as the
/// library's, named after the configuration's field, so both show in the same place.
fn config_of(form: &FormData, settings: &EventSettings) -> Result<TaskConfig, Error> {
    let mut texts = BTreeMap::new();
    for lang in &settings.languages {
        let name = form
            .get(&format!("name_{lang}"))
            .cloned()
            .unwrap_or_default();
        let description = form
            .get(&format!("description_{lang}"))
            .cloned()
            .unwrap_or_default();
        if *lang == settings.default_language
            || !name.trim().is_empty()
            || !description.trim().is_empty()
        {
            texts.insert(lang.clone(), TaskText { name, description });
        }
    }
    let at_least = || -> Result<u32, Error> {
        value(form, "at_least")
            .parse()
            .map_err(|_| Error::invalid("condition.at_least", "must be a whole number"))
    };
    let completion = if value(form, "mode") == "automatic" {
        let condition = match value(form, "condition") {
            "logo_uploaded" => Condition::LogoUploaded,
            "collaborators" => Condition::Collaborators {
                at_least: at_least()?,
            },
            "products" => Condition::Products {
                at_least: at_least()?,
            },
            "invitations" => Condition::Invitations {
                at_least: at_least()?,
            },
            "sessions" => Condition::Sessions {
                at_least: at_least()?,
            },
            "form_completed" => Condition::FormCompleted {
                form: value(form, "form_key").to_owned(),
            },
            "field_filled" => Condition::FieldFilled {
                field: value(form, "field_key").to_owned(),
                value: Some(value(form, "field_value").to_owned()).filter(|v| !v.is_empty()),
            },
            kind @ ("all" | "any") => {
                let conditions: Vec<Condition> =
                    serde_json::from_str(value(form, "conditions_json")).map_err(|e| {
                        Error::invalid(
                            "condition.conditions",
                            format!("must be a JSON list of conditions: {e}"),
                        )
                    })?;
                if kind == "all" {
                    Condition::All { conditions }
                } else {
                    Condition::Any { conditions }
                }
            }
            _ => return Err(Error::invalid("condition", "choose a condition")),
        };
        CompletionMode::Automatic { condition }
    } else {
        CompletionMode::Manual
    };
    let help = if value(form, "help_kind") == "form_step" {
        HelpLink::FormStep {
            form: value(form, "help_form").to_owned(),
            step: value(form, "help_step").to_owned(),
        }
    } else {
        HelpLink::WebPage {
            url: value(form, "help_url").to_owned(),
        }
    };
    let segment = match value(form, "segment") {
        "" => None,
        s => Some(
            s.parse::<SegmentId>()
                .map_err(|_| Error::invalid("segment", "not a segment of the event"))?,
        ),
    };
    let position = match value(form, "position") {
        "" => 0,
        p => p
            .parse()
            .map_err(|_| Error::invalid("position", "must be a whole number"))?,
    };
    let reminder_offsets = match value(form, "reminders") {
        "" => None,
        text => Some(
            text.split(',')
                .map(|o| parse_offset(o.trim()))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(TaskConfig {
        texts,
        deadline: view::parse_local("deadline", value(form, "deadline"), settings.time_zone)?,
        segment,
        completion,
        help,
        position,
        notify_on_publish: checked(form, "notify"),
        reminder_offsets,
        review: checked(form, "review"),
    })
}

/// "7d", "12h" or "30m" before the deadline.
fn parse_offset(text: &str) -> Result<ReminderOffset, Error> {
    let bad = || {
        Error::invalid(
            "reminder_offsets",
            "list offsets before the deadline like \"7d, 1d, 2h\"",
        )
    };
    let number = |n: &str| n.trim().parse::<u32>().map_err(|_| bad());
    if let Some(n) = text.strip_suffix('d') {
        Ok(ReminderOffset::days(number(n)?))
    } else if let Some(n) = text.strip_suffix('h') {
        Ok(ReminderOffset::hours(number(n)?))
    } else if let Some(n) = text.strip_suffix('m') {
        Ok(ReminderOffset::seconds(number(n)?.saturating_mul(60)))
    } else {
        Err(bad())
    }
}

/// The places of the task form where an error can be shown (besides `name_<lang>` and
/// `description_<lang>`); an error on any other field is shown above the form.
const SLOTS: [&str; 14] = [
    "deadline",
    "segment",
    "review",
    "condition",
    "at_least",
    "form_key",
    "field_key",
    "field_value",
    "conditions_json",
    "help_url",
    "help_form",
    "help_step",
    "position",
    "reminder_offsets",
];

/// Where the form shows an error on `field` (the library's dotted path).
fn slot(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("texts.") {
        return match rest.split_once('.') {
            Some((lang, "description")) => format!("description_{lang}"),
            Some((lang, _)) => format!("name_{lang}"),
            None => format!("name_{rest}"),
        };
    }
    if field.starts_with("condition.conditions") {
        return "conditions_json".to_owned();
    }
    match field {
        "condition.at_least" => "at_least",
        "condition.form" => "form_key",
        "condition.field" => "field_key",
        "condition.value" => "field_value",
        "help.url" => "help_url",
        "help.form" => "help_form",
        "help.step" => "help_step",
        other => other,
    }
    .to_owned()
}

async fn task_form(
    portal: &Portal,
    who: &Who,
    task: Option<&Task>,
    form: FormData,
    errors: FieldErrors,
) -> Page {
    let settings = portal.scope(&who.actor).get().await?.settings;
    let segments: Vec<Value> = portal
        .scope(&who.actor)
        .segments()
        .await?
        .into_iter()
        .map(|s| context! { id => s.id.to_string(), name => s.name })
        .collect();
    let languages: Vec<Value> = settings
        .languages
        .iter()
        .map(|l| {
            context! {
                code => l.as_str(),
                default => *l == settings.default_language,
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let unplaced: Vec<String> = errors
        .iter()
        .filter(|(slot, _)| {
            !SLOTS.contains(&slot.as_str())
                && !settings
                    .languages
                    .iter()
                    .any(|l| **slot == format!("name_{l}") || **slot == format!("description_{l}"))
        })
        .map(|(slot, reason)| format!("{slot}: {reason}"))
        .collect();
    let page = render(
        portal,
        Some(who),
        "task_form.html",
        context! {
            task => task.map(|t| context! {
                id => t.id.to_string(),
                state => state_label(t.state),
            }),
            form => form,
            errors => errors,
            unplaced => unplaced,
            segments => segments,
            languages => languages,
            condition_kinds => CONDITION_KINDS.iter().map(|(k, l)| context! { kind => *k, label => *l }).collect::<Vec<_>>(),
            time_zone => settings.time_zone.name(),
        },
    )?;
    Ok((status, page).into_response())
}

async fn new_task(State(portal): State<Portal>, who: Who) -> Page {
    let mut form = FormData::new();
    form.insert("mode".into(), "manual".into());
    form.insert("help_kind".into(), "web_page".into());
    task_form(&portal, &who, None, form, FieldErrors::new()).await
}

async fn edit_task(State(portal): State<Portal>, who: Who, Path(task): Path<TaskId>) -> Page {
    let task = portal.scope(&who.actor).task(task).await?;
    let settings = portal.scope(&who.actor).get().await?.settings;
    let form = form_of(&task.config, &settings);
    task_form(&portal, &who, Some(&task), form, FieldErrors::new()).await
}

async fn create_task(
    State(portal): State<Portal>,
    who: Who,
    axum::Form(form): axum::Form<FormData>,
) -> Page {
    let settings = portal.scope(&who.actor).get().await?.settings;
    let result = match config_of(&form, &settings) {
        Ok(config) => portal.scope(&who.actor).create_task(config).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin").into_response()),
        Err(e) => {
            let errors = view::field_errors(e, slot)?;
            task_form(&portal, &who, None, form, errors).await
        }
    }
}

async fn update_task(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<TaskId>,
    axum::Form(form): axum::Form<FormData>,
) -> Page {
    let task = portal.scope(&who.actor).task(id).await?;
    let settings = portal.scope(&who.actor).get().await?.settings;
    let result = match config_of(&form, &settings) {
        Ok(config) => portal.scope(&who.actor).update_task(id, config).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin").into_response()),
        Err(e) => {
            let errors = view::field_errors(e, slot)?;
            task_form(&portal, &who, Some(&task), form, errors).await
        }
    }
}

/// Publishes, with or without the publication notice (N1): the choice is the task's
/// `notify_on_publish`, set from the publish button's checkbox first when it differs.
async fn publish(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<TaskId>,
    axum::Form(form): axum::Form<FormData>,
) -> Page {
    let task = portal.scope(&who.actor).task(id).await?;
    let notify = checked(&form, "notify");
    // Only a draft is published: anything else goes straight to the library, which
    // refuses it, so that a refused publication changes nothing.
    if task.state == TaskState::Draft && task.config.notify_on_publish != notify {
        let config = TaskConfig {
            notify_on_publish: notify,
            ..task.config
        };
        portal.scope(&who.actor).update_task(id, config).await?;
    }
    portal.scope(&who.actor).publish_task(id).await?;
    Ok(Redirect::to("/admin").into_response())
}

async fn archive(State(portal): State<Portal>, who: Who, Path(id): Path<TaskId>) -> Page {
    portal.scope(&who.actor).archive_task(id).await?;
    Ok(Redirect::to("/admin").into_response())
}

async fn delete(State(portal): State<Portal>, who: Who, Path(id): Path<TaskId>) -> Page {
    portal.scope(&who.actor).delete_task(id).await?;
    Ok(Redirect::to("/admin").into_response())
}

// ----- segments ------------------------------------------------------------------------

async fn segments_page(State(portal): State<Portal>, who: Who) -> Page {
    segments(&portal, &who, FormData::new(), FieldErrors::new()).await
}

async fn segments(portal: &Portal, who: &Who, form: FormData, errors: FieldErrors) -> Page {
    let mut rows = Vec::new();
    for s in portal.scope(&who.actor).segments().await? {
        let preview = portal.scope(&who.actor).preview_segment(&s.rule, 5).await?;
        rows.push(context! {
            id => s.id.to_string(),
            name => s.name,
            rule => serde_json::to_string(&s.rule).unwrap_or_default(),
            count => preview.count,
            members => preview.members.iter().map(view::person).collect::<Vec<_>>(),
        });
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = render(
        portal,
        Some(who),
        "segments.html",
        context! { segments => rows, form => form, errors => errors },
    )?;
    Ok((status, page).into_response())
}

/// A new segment: by category, or any rule written as JSON (S1).
async fn create_segment(
    State(portal): State<Portal>,
    who: Who,
    axum::Form(form): axum::Form<FormData>,
) -> Page {
    let rule = match value(&form, "rule") {
        "" => match value(&form, "category") {
            "" => Err(Error::invalid("rule", "choose a category or write a rule")),
            c => Ok(Rule::category(c)),
        },
        json => serde_json::from_str::<Rule>(json)
            .map_err(|e| Error::invalid("rule", format!("not a rule: {e}"))),
    };
    let result = match rule {
        Ok(rule) => {
            let draft = SegmentDraft {
                name: value(&form, "name").to_owned(),
                rule,
            };
            portal.scope(&who.actor).create_segment(draft).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/segments").into_response()),
        Err(e) => {
            let errors = view::field_errors(e, |f| {
                if f.starts_with("rule") { "rule" } else { f }.to_owned()
            })?;
            segments(&portal, &who, form, errors).await
        }
    }
}

#[derive(serde::Deserialize)]
struct PreviewQuery {
    #[serde(default)]
    segment: String,
}

/// How many participants a segment targets now (S3), for the task form's live preview.
async fn preview(
    State(portal): State<Portal>,
    who: Who,
    Query(q): Query<PreviewQuery>,
) -> Result<Response, PageError> {
    let rule = match q.segment.trim() {
        "" => Rule::Everyone,
        id => {
            let id: SegmentId = id.parse()?;
            portal
                .scope(&who.actor)
                .segments()
                .await?
                .into_iter()
                .find(|s| s.id == id)
                .ok_or_else(|| Error::NotFound {
                    entity: "segment",
                    id: id.to_string(),
                })?
                .rule
        }
    };
    let preview = portal.scope(&who.actor).preview_segment(&rule, 5).await?;
    let body = serde_json::json!({
        "count": preview.count,
        "members": preview.members.iter().map(view::person).collect::<Vec<_>>(),
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

// ----- tracking ------------------------------------------------------------------------

/// The matrix's filters as the query string carries them.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default)]
struct MatrixParams {
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

async fn matrix_page(
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
        let html = super::templates()
            .get_template("matrix_table.html")?
            .render(ctx)?;
        return Ok(axum::response::Html(html).into_response());
    }
    render(&portal, Some(&who), "matrix.html", ctx)
}

fn csv_download(name: &str, bytes: Vec<u8>) -> Response {
    view::attachment("text/csv; charset=utf-8", name, bytes)
}

async fn matrix_csv(
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

async fn figures_csv(State(portal): State<Portal>, who: Who) -> Page {
    let mut out = Vec::new();
    portal
        .scope(&who.actor)
        .export_figures_csv(&mut out)
        .await?;
    Ok(csv_download("figures.csv", out))
}

/// The live feed of progress changes (B1) as server-sent events: the matrix page reloads
/// its table when one arrives. A feed that fell behind sends `lagged`, which reloads too.
async fn live(
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
struct OutboxQuery {
    after: Option<punchlist::OutboxId>,
}

/// The outbox (N5): every notification the library queued, and where it stands. The
/// portal runs no dispatcher, so entries stay pending; a platform runs one beside it.
async fn notifications(
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
