//! The participant's Tasks section (P1–P5).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use minijinja::{Value, context};
use punchlist::{Error, HelpLink, LoginChannel, ParticipantId, ProgressStatus, TaskId};

use super::view::{self, Names};
use super::{Page, Portal, Who, render};

/// The routes of the Tasks section.
pub(crate) fn routes() -> Router<Portal> {
    Router::new()
        .route("/p/{participant}/tasks", get(tasks_page))
        .route("/p/{owner}/tasks/{task}/assign", post(assign))
        .route("/p/{owner}/tasks/{task}/reject", post(reject))
        // done, undo, take-back, validate, invalidate, accept: no form.
        .route("/p/{owner}/tasks/{task}/{action}", post(act_on))
}

async fn tasks_page(
    State(portal): State<Portal>,
    who: Who,
    Path(participant): Path<ParticipantId>,
) -> Page {
    tasks(&portal, &who, participant, None).await
}

/// A refused action, shown on the list: next to the task's field when it names one
/// (`assignee`), else above the list.
pub(crate) struct Refusal {
    /// The task the action was on, if any.
    pub task: Option<TaskId>,
    /// The library's field.
    pub field: String,
    /// The library's reason.
    pub reason: String,
}

/// The Tasks section of `participant` as `who` sees it, with a refused action if any.
pub(crate) async fn tasks(
    portal: &Portal,
    who: &Who,
    participant: ParticipantId,
    error: Option<Refusal>,
) -> Page {
    let service = portal.service();
    let event = portal.event();
    // The library decides: the participant themselves, or the event's organizers.
    let list = portal.scope(&who.actor).tasks_of(participant).await?;
    if who.me == Some(participant) {
        // Activity for the online status (R13); most pings write nothing.
        portal
            .scope(&who.actor)
            .ping(participant, LoginChannel::Web)
            .await?;
    }
    let collaborators = portal.scope(&who.actor).collaborators(participant).await?;
    let mut names = Names::default();
    let owner_name = names.of(service, event, participant).await;
    let tz = list.time_zone;
    let mut mine = Vec::new();
    let mut received = Vec::new();
    for item in &list.items {
        let own = item.owner == participant;
        let assignee = match item.assignee {
            Some(a) => Some(names.of(service, event, a).await),
            None => None,
        };
        let (help_url, help_label) = match &item.help {
            HelpLink::WebPage { url } => (url.clone(), "Open the page".to_owned()),
            HelpLink::FormStep { form, step } => (
                format!("/forms/{form}/{step}?for={participant}"),
                format!("Go to the form step ({form} / {step})"),
            ),
        };
        let done = item.status == ProgressStatus::Done;
        let row = context! {
            id => item.task.to_string(),
            owner => item.owner.to_string(),
            owner_name => names.of(service, event, item.owner).await,
            name => item.name.clone(),
            description => item.description.clone(),
            deadline => item.deadline.map(|d| view::when(d, tz)),
            time_left => item.seconds_left.filter(|_| !done).map(view::time_left),
            overdue => item.overdue,
            status => item.status.as_str(),
            status_label => view::status_label(item.status),
            manual => item.manual,
            review => item.review,
            rejection => item.rejection.as_ref().map(|r| r.reason.clone()),
            help_url => help_url,
            help_label => help_label,
            assignee => assignee,
            assignee_id => item.assignee.map(|a| a.to_string()),
            can_tick => item.manual && item.status == ProgressStatus::Todo,
            can_undo => item.manual && item.status != ProgressStatus::Todo,
            can_assign => own && !done && !collaborators.is_empty(),
            can_take_back => own && item.assignee.is_some(),
            // The organizer's decisions (T3, B): validate or invalidate by hand, accept or
            // reject a submission.
            can_validate => item.status == ProgressStatus::Todo,
            can_invalidate => done,
            can_review => item.status == ProgressStatus::AwaitingReview,
            completed => item.completion.as_ref().map(|c| view::when(c.at, tz)),
        };
        if own {
            mine.push(row)
        } else {
            received.push(row)
        }
    }
    let collaborators: Vec<Value> = collaborators
        .iter()
        .map(|c| context! { id => c.id.to_string(), name => view::person(c) })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = render(
        portal,
        Some(who),
        "tasks.html",
        context! {
            participant => participant.to_string(),
            owner_name => owner_name,
            enabled => list.tasks_enabled,
            summary => view::ser(list.summary),
            assigned_summary => view::ser(list.assigned_to_me),
            mine => mine,
            received => received,
            collaborators => collaborators,
            error => error.as_ref().map(|e| format!("{}: {}", e.field, e.reason)),
            error_task => error.as_ref().and_then(|e| e.task).map(|t| t.to_string()),
            error_field => error.as_ref().map(|e| e.field.clone()),
            sessions => super::seed::session_catalogue()
                .into_iter()
                .map(|s| context! { id => s.id.to_string(), title => s.title })
                .collect::<Vec<_>>(),
        },
    )?;
    Ok((status, page).into_response())
}

/// Where to go after an action: the signed-in participant's own list (a collaborator who
/// completed their owner's task goes back to theirs), or the owner's for an organizer.
fn back(who: &Who, owner: ParticipantId) -> Redirect {
    Redirect::to(&format!("/p/{}/tasks", who.me.unwrap_or(owner)))
}

/// Runs an action; a refusal the participant can act on (an automatic task cannot be
/// ticked, …) is shown on the list, a forbidden one is a 403 page.
async fn act(
    portal: &Portal,
    who: &Who,
    (owner, task): (ParticipantId, TaskId),
    result: Result<punchlist::Progress, Error>,
) -> Page {
    match result {
        Ok(_) => Ok(back(who, owner).into_response()),
        Err(Error::Invalid { field, reason }) => {
            let refusal = Refusal {
                task: Some(task),
                field: field.into_owned(),
                reason,
            };
            tasks(portal, who, who.me.unwrap_or(owner), Some(refusal)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The actions on a task that need no form: the library call each stands for.
async fn act_on(
    State(portal): State<Portal>,
    who: Who,
    Path((owner, task, action)): Path<(ParticipantId, TaskId, String)>,
) -> Page {
    let scope = portal.scope(&who.actor);
    let r = match action.as_str() {
        "done" => scope.complete_task(owner, task).await,
        "undo" => scope.undo_task(owner, task).await,
        "take-back" => scope.take_back_task(owner, task).await,
        "validate" => scope.validate_task(owner, task).await,
        "invalidate" => scope.invalidate_task(owner, task).await,
        "accept" => scope.accept_submission(owner, task).await,
        _ => return Err(super::not_found().await),
    };
    act(&portal, &who, (owner, task), r).await
}

#[derive(serde::Deserialize)]
struct AssignForm {
    #[serde(default)]
    assignee: String,
}

async fn assign(
    State(portal): State<Portal>,
    who: Who,
    Path((owner, task)): Path<(ParticipantId, TaskId)>,
    axum::Form(form): axum::Form<AssignForm>,
) -> Page {
    let r = match form.assignee.parse::<ParticipantId>() {
        Ok(assignee) => {
            portal
                .scope(&who.actor)
                .assign_task(owner, task, assignee)
                .await
        }
        Err(_) => Err(Error::invalid(
            "assignee",
            "choose one of your collaborators",
        )),
    };
    act(&portal, &who, (owner, task), r).await
}

#[derive(serde::Deserialize)]
struct RejectForm {
    #[serde(default)]
    reason: String,
}

async fn reject(
    State(portal): State<Portal>,
    who: Who,
    Path((owner, task)): Path<(ParticipantId, TaskId)>,
    axum::Form(form): axum::Form<RejectForm>,
) -> Page {
    let r = portal
        .scope(&who.actor)
        .reject_submission(owner, task, &form.reason)
        .await;
    act(&portal, &who, (owner, task), r).await
}
