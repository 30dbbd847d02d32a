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

mod form;
mod tracking;

use form::*;
use tracking::*;

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
