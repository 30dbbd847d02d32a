//! One-click unsubscribe (N8, RFC 8058), as a host serves it: the link of every message
//! that can be stopped opens a page that says what it stops, with one button; a mail
//! client's one-click `POST` (body `List-Unsubscribe=One-Click`) stops it at once. The
//! library checks the token and records the choice; the portal only carries it.

use std::hash::{BuildHasher, Hasher};

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use minijinja::context;
use punchlist::{Clock, MessageKind, UnsubscribeKey};
use serde::Deserialize;

use super::{Page, Portal, render};

/// The routes.
pub(crate) fn routes() -> Router<Portal> {
    Router::new().route("/unsubscribe", get(confirm).post(stop))
}

#[derive(Deserialize)]
struct Link {
    #[serde(default)]
    token: String,
}

/// What a kind of message is called on the page.
fn what(kind: Option<MessageKind>) -> &'static str {
    match kind {
        Some(MessageKind::Publication) => "notices of new tasks",
        Some(MessageKind::Reminder | MessageKind::Reminders) => "reminders of your tasks",
        Some(MessageKind::Nudge) => "reminders from the organizers",
        Some(MessageKind::ReviewRejected) => "replies to your submissions",
        Some(_) => "these messages",
        None => "every message you may stop",
    }
}

/// The page a click on the link opens: what it stops, and one button. Nothing changes
/// until the button is pressed (mail scanners follow links).
async fn confirm(State(portal): State<Portal>, Query(link): Query<Link>) -> Page {
    let token = portal
        .unsubscribe_key()
        .verify(&link.token, portal.service().clock().now())?;
    render(
        &portal,
        None,
        "unsubscribe.html",
        context! {
            token => link.token,
            what => what(token.kind),
            done => false,
        },
    )
}

/// The button, or a mail client's one-click `POST`: stops what the token names.
async fn stop(State(portal): State<Portal>, Query(link): Query<Link>) -> Page {
    let done = portal
        .service()
        .unsubscribe(portal.unsubscribe_key(), &link.token)
        .await?;
    render(
        &portal,
        None,
        "unsubscribe.html",
        context! {
            what => what(done.kind),
            done => true,
            changed => done.changed,
        },
    )
}

/// A key made at start from the process's random hashing keys: enough for the demo,
/// whose links need not outlive it. A host gives its own, kept like a password.
pub(crate) fn process_key() -> UnsubscribeKey {
    let mut bytes = Vec::with_capacity(32);
    for i in 0..4u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        bytes.extend_from_slice(&h.finish().to_le_bytes());
    }
    UnsubscribeKey::new(bytes).unwrap_or_else(|_| unreachable!("32 bytes"))
}
