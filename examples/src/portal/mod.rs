//! The event portal: a host application that embeds `punchlist`, as an event platform
//! would, in a few hundred lines of axum handlers and minijinja templates.
//!
//! What it serves (the capability ids are DESIGN.md's):
//!
//! - `/`: a demo sign-in chooser (pick the organizer or a participant). A real platform
//!   has its own login; the portal only needs to know *who* is asking, and turns that into
//!   an [`Actor`]. Every page then goes through the library's actor checks: a participant
//!   opening another participant's URL gets the library's `Forbidden`, shown as a 403 page.
//!
//!   **Demo only**: the chooser's cookie holds the participant's id (or `organizer`) in
//!   clear, unsigned, and the forms carry no CSRF token. Anyone can forge it. A platform
//!   copying this code keeps its own signed session and CSRF protection and only swaps
//!   [`Who`]'s extractor for one that reads them.
//! - `/p/{participant}/tasks`: the participant's Tasks section (P1–P5) and a "simulate the
//!   platform" panel that reports host facts (T4) so automatic tasks complete live.
//! - `/admin`: the organizer's back office: tasks (T1–T3, create, edit, publish with or
//!   without a notice, archive), segments with a live preview (S1, S3), the tracking
//!   matrix with filters, sorting, pages, figures and CSV (B1–B3), updated live over
//!   server-sent events from [`Punchlist::progress_feed`].
//! - `/admin/registrants` and `/admin/participants/{id}`: the registrants list with the
//!   online status column and the participant record's tabs (R1–R13).
//!
//! Bad form input comes back as the library's [`Error::Invalid`], whose `field` names what
//! was wrong; the forms show the reason next to that field.
//!
//! The portal is generic over nothing: it runs on `Punchlist<dyn Store>`, so the same
//! binary serves the embedded redb store (the default) or PostgreSQL.

mod backoffice;
mod participant;
mod platform;
mod record;
pub mod seed;
mod unsubscribe;
mod view;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::{Environment, Value, context};
use punchlist::{
    Actor, AdminId, Error, EventId, EventScope, ParticipantId, Punchlist, Store, SystemClock,
    UnsubscribeKey,
};

/// The library's facade as the portal holds it: any store, the system clock.
pub type Service = Punchlist<dyn Store, SystemClock>;

/// The admin id the demo's organizer signs in as.
pub const ORGANIZER: &str = "organizer@expo.example";

/// The cookie that remembers who signed in with the demo chooser.
const COOKIE: &str = "punchlist_demo";

/// The portal: the service, and the one event it serves.
#[derive(Clone)]
pub struct Portal {
    inner: Arc<Inner>,
}

struct Inner {
    service: Arc<Service>,
    event: EventId,
    unsubscribe: UnsubscribeKey,
}

impl Portal {
    /// A portal for `event` over `service`, checking unsubscribe links (N8) with a key
    /// made at start (links die with the process: give the host's own with
    /// [`Portal::with_unsubscribe_key`]).
    pub fn new(service: Arc<Service>, event: EventId) -> Self {
        Self {
            inner: Arc::new(Inner {
                service,
                event,
                unsubscribe: unsubscribe::process_key(),
            }),
        }
    }

    /// The same portal, checking unsubscribe links with `key`: the key the host's
    /// dispatcher signs them with ([`punchlist::UnsubscribeLinks`]).
    pub fn with_unsubscribe_key(self, key: UnsubscribeKey) -> Self {
        Self {
            inner: Arc::new(Inner {
                service: self.inner.service.clone(),
                event: self.inner.event,
                unsubscribe: key,
            }),
        }
    }

    /// The key unsubscribe links are checked with.
    pub fn unsubscribe_key(&self) -> &UnsubscribeKey {
        &self.inner.unsubscribe
    }

    /// The event it serves.
    pub fn event(&self) -> EventId {
        self.inner.event
    }

    /// The library's facade.
    pub fn service(&self) -> &Service {
        &self.inner.service
    }

    /// The library's operations on the event, for `actor` (its calls take neither again;
    /// each still checks what the actor may do).
    pub fn scope<'a>(&'a self, actor: &'a Actor) -> EventScope<'a, dyn Store, SystemClock> {
        self.inner.service.event(actor, self.inner.event)
    }

    /// The organizer of the demo event.
    pub fn organizer(&self) -> Actor {
        Actor::organizer(
            AdminId::new(ORGANIZER).expect("a valid admin id"),
            self.event(),
        )
    }

    /// Every route of the portal.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(sign_in_page))
            .route("/sign-in", post(sign_in))
            .route("/sign-out", post(sign_out))
            .route("/static/app.css", get(css))
            .route("/static/app.js", get(js))
            .merge(participant::routes())
            .merge(platform::routes())
            .merge(backoffice::routes())
            .merge(record::routes())
            .merge(unsubscribe::routes())
            .fallback(not_found)
            .with_state(self.clone())
    }

    /// Serves the portal on `listener` until the process stops.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(listener, self.router()).await
    }
}

/// Who is asking: the actor the library checks, and their participant id if they are one.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    pub actor: Actor,
    pub me: Option<ParticipantId>,
    pub name: String,
}

impl Who {
    pub fn is_organizer(&self) -> bool {
        matches!(self.actor, Actor::Organizer { .. })
    }
}

impl<S> FromRequestParts<S> for Who
where
    Portal: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let portal = Portal::from_ref(state);
        let value = cookie(&parts.headers, COOKIE).ok_or(PageError::SignIn)?;
        if value == "organizer" {
            return Ok(Who {
                actor: portal.organizer(),
                me: None,
                name: ORGANIZER.to_owned(),
            });
        }
        let id: ParticipantId = value.parse().map_err(|_| PageError::SignIn)?;
        // The host's own directory says who this is; a participant who no longer exists
        // is signed out.
        let p = portal
            .service()
            .participant(&Actor::System, portal.event(), id)
            .await
            .map_err(|_| PageError::SignIn)?;
        Ok(Who {
            actor: Actor::participant(id, portal.event()),
            me: Some(id),
            name: view::person(&p),
        })
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A page that could not be served, as the visitor sees it.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Nobody is signed in: back to the chooser.
    SignIn,
    /// The library refused (403, 404, 400, …).
    Library(Error),
    /// A template failed to render (a bug of the portal).
    Template(minijinja::Error),
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        Self::Library(e)
    }
}

impl From<minijinja::Error> for PageError {
    fn from(e: minijinja::Error) -> Self {
        Self::Template(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match &self {
            Self::SignIn => return Redirect::to("/").into_response(),
            Self::Library(e) => match e {
                Error::Forbidden { reason } => (
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    format!("You may not see this page: {reason}."),
                ),
                Error::NotFound { .. } => (StatusCode::NOT_FOUND, "Not found", e.to_string()),
                Error::Invalid { .. } => (StatusCode::BAD_REQUEST, "Bad request", e.to_string()),
                Error::Conflict { .. } => (
                    StatusCode::CONFLICT,
                    "Changed meanwhile",
                    "Someone changed this at the same time; go back and try again.".to_owned(),
                ),
                Error::Unavailable { .. } => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Unavailable",
                    "The store cannot be reached right now; try again shortly.".to_owned(),
                ),
                _ => {
                    tracing::error!(error = ?e, "request failed");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Error",
                        "Something went wrong.".to_owned(),
                    )
                }
            },
            Self::Template(e) => {
                tracing::error!(error = ?e, "template failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "The page could not be rendered.".to_owned(),
                )
            }
        };
        let body = templates()
            .get_template("error.html")
            .and_then(|t| {
                t.render(context! {
                    status => status.as_u16(),
                    title => title,
                    detail => detail.clone(),
                })
            })
            .unwrap_or_else(|_| format!("{} {title}: {detail}", status.as_u16()));
        (status, axum::response::Html(body)).into_response()
    }
}

/// The result of a page handler.
pub(crate) type Page = Result<Response, PageError>;

/// The templates, compiled once. Names end in `.html`, so values are HTML-escaped.
pub(crate) fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("error.html", include_str!("templates/error.html")),
            (
                "unsubscribe.html",
                include_str!("templates/unsubscribe.html"),
            ),
            ("sign_in.html", include_str!("templates/sign_in.html")),
            ("tasks.html", include_str!("templates/tasks.html")),
            ("form_step.html", include_str!("templates/form_step.html")),
            (
                "admin_tasks.html",
                include_str!("templates/admin_tasks.html"),
            ),
            ("task_form.html", include_str!("templates/task_form.html")),
            ("segments.html", include_str!("templates/segments.html")),
            ("matrix.html", include_str!("templates/matrix.html")),
            (
                "matrix_table.html",
                include_str!("templates/matrix_table.html"),
            ),
            (
                "registrants.html",
                include_str!("templates/registrants.html"),
            ),
            ("record.html", include_str!("templates/record.html")),
            (
                "notifications.html",
                include_str!("templates/notifications.html"),
            ),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
        }
        env
    })
}

/// Renders `name` with `ctx`, plus what the layout needs (who is signed in, the event).
pub(crate) fn render(portal: &Portal, who: Option<&Who>, name: &str, ctx: Value) -> Page {
    let nav = who.map(|w| {
        context! {
            name => w.name.clone(),
            organizer => w.is_organizer(),
            me => w.me.map(|id| id.to_string()),
        }
    });
    let html = templates().get_template(name)?.render(context! {
        nav => nav,
        event_id => portal.event().to_string(),
        ..ctx
    })?;
    Ok(axum::response::Html(html).into_response())
}

/// The demo's chooser: everyone registered, from the host's own directory (the system
/// actor), as a login page with a user list would show them. Demo only.
async fn sign_in_page(axum::extract::State(portal): axum::extract::State<Portal>) -> Page {
    let service = portal.service();
    let event = service.event(&Actor::System, portal.event()).get().await?;
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = service
            .event(&Actor::System, portal.event())
            .registrants(None, after, 500)
            .await?;
        rows.extend(page.rows);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let people: Vec<Value> = rows
        .iter()
        .map(|r| {
            let p = &r.participant;
            context! {
                id => p.id.to_string(),
                name => view::person(p),
                categories => view::categories(p),
                team_of => p.owner.is_some(),
            }
        })
        .collect();
    render(
        &portal,
        None,
        "sign_in.html",
        context! { event_name => event.settings.name, people => people, organizer => ORGANIZER },
    )
}

#[derive(serde::Deserialize)]
struct SignIn {
    who: String,
}

async fn sign_in(axum::Form(form): axum::Form<SignIn>) -> Response {
    let target = if form.who == "organizer" {
        "/admin".to_owned()
    } else if form.who.parse::<ParticipantId>().is_ok() {
        format!("/p/{}/tasks", form.who)
    } else {
        return Redirect::to("/").into_response();
    };
    let mut response = Redirect::to(&target).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
        form.who
    )) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

async fn sign_out() -> Response {
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("punchlist_demo=; Path=/; Max-Age=0"),
    );
    response
}

async fn css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/app.js"),
    )
}

pub(crate) async fn not_found() -> PageError {
    PageError::Library(Error::NotFound {
        entity: "page",
        id: "at this address".to_owned(),
    })
}
