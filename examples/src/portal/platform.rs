//! "Simulate the platform": what the host reports to the library (T4) when a participant
//! uploads a logo, adds a product, fills a form… so a person can watch automatic tasks
//! complete. A real platform calls [`punchlist::Punchlist::ingest`] from its own handlers.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use minijinja::context;
use punchlist::{
    Actor, Clock, Error, ExternalId, HostEvent, HostEventId, HostFact, ParticipantId, Session,
};

use super::{Page, Portal, Who, participant, render};

/// The routes of the platform panel and of the demo's form steps.
pub(crate) fn routes() -> Router<Portal> {
    Router::new()
        .route("/p/{participant}/platform", post(report))
        .route("/forms/{form}/{step}", get(form_step))
}

/// What the panel's buttons send.
#[derive(Debug, serde::Deserialize)]
struct FactForm {
    /// `upload_logo`, `remove_logo`, `add_product`, `send_invitation`, `add_collaborator`,
    /// `complete_form`, `set_field`, `register_session`.
    action: String,
    /// The form's key, the field's key or the session's id.
    #[serde(default)]
    key: String,
    /// The field's value.
    #[serde(default)]
    value: String,
}

/// A fresh, time-ordered key for one report, from the clock's time.
fn fresh_key(prefix: &str, now: DateTime<Utc>) -> String {
    let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
    let at = uuid::Timestamp::from_unix(uuid::NoContext, seconds, now.timestamp_subsec_nanos());
    format!("{prefix}-{}", uuid::Uuid::new_v7(at).simple())
}

async fn report(
    State(portal): State<Portal>,
    who: Who,
    Path(participant): Path<ParticipantId>,
    axum::Form(form): axum::Form<FactForm>,
) -> Page {
    let service = portal.service();
    let event = portal.event();
    let now = service.clock().now();
    let fresh = |prefix: &str| ExternalId::new(fresh_key(prefix, now));
    // The panel acts for the participant whose page it is: the same check as the page.
    portal.scope(&who.actor).participant(participant).await?;
    let outcome = match form.action.as_str() {
        "register_session" => register_session(&portal, &who, participant, form.key.trim()).await,
        action => {
            let fact = match action {
                "upload_logo" => Ok(HostFact::LogoUploaded),
                "remove_logo" => Ok(HostFact::LogoRemoved),
                "add_product" => fresh("product").map(|product| HostFact::ProductAdded { product }),
                "send_invitation" => {
                    fresh("invitation").map(|invitation| HostFact::InvitationSent { invitation })
                }
                "add_collaborator" => fresh("colleague")
                    .map(|collaborator| HostFact::CollaboratorAdded { collaborator }),
                "complete_form" => Ok(HostFact::FormCompleted {
                    form: form.key.trim().to_owned(),
                }),
                "set_field" => Ok(HostFact::FieldSet {
                    field: form.key.trim().to_owned(),
                    value: form.value,
                }),
                _ => Err(Error::invalid(
                    "action",
                    "not an action of the platform panel",
                )),
            };
            match fact {
                Ok(fact) => {
                    let host_event = HostEvent {
                        id: HostEventId::new(fresh_key("portal", now))?,
                        participant: participant.into(),
                        occurred_at: now,
                        fact,
                    };
                    service
                        .event(&Actor::System, event)
                        .ingest(host_event)
                        .await
                        .map(drop)
                }
                Err(e) => Err(e),
            }
        }
    };
    match outcome {
        Ok(()) => Ok(
            Redirect::to(&format!("/p/{}/tasks", who.me.unwrap_or(participant))).into_response(),
        ),
        Err(Error::Invalid { field, reason }) => {
            let refusal = participant::Refusal {
                task: None,
                field: format!("platform {field}"),
                reason,
            };
            participant::tasks(&portal, &who, who.me.unwrap_or(participant), Some(refusal)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Registers to a session of the programme as the participant does it on the platform (the
/// library takes the participant, or an organizer, as the actor: the history says who).
async fn register_session(
    portal: &Portal,
    who: &Who,
    participant: ParticipantId,
    id: &str,
) -> Result<(), Error> {
    let session: Session = super::seed::session_catalogue()
        .into_iter()
        .find(|s| s.id.as_str() == id)
        .ok_or_else(|| Error::invalid("session", "not a session of the programme"))?;
    portal
        .scope(&who.actor)
        .register_to_session(participant, session)
        .await
        .map(drop)
}

#[derive(serde::Deserialize)]
struct FormStepQuery {
    #[serde(rename = "for")]
    participant: Option<ParticipantId>,
}

/// Where a task's "form step" help link leads: the host's form builder would be here.
async fn form_step(
    State(portal): State<Portal>,
    who: Who,
    Path((form, step)): Path<(String, String)>,
    Query(q): Query<FormStepQuery>,
) -> Page {
    let participant = q.participant.or(who.me);
    render(
        &portal,
        Some(&who),
        "form_step.html",
        context! {
            form => form,
            step => step,
            participant => participant.map(|p| p.to_string()),
        },
    )
}
