//! The live stream on LISTEN/NOTIFY: the committing transaction sends an event's progress
//! changes on the event's channel (`pg_notify`), and each feed listens on it (`LISTEN`).

use futures::StreamExt;
use punchlist::store::ChangeSet;
use punchlist::{Error, EventId, ProgressChange, ProgressFeed, Result};
use sqlx::{PgPool, Postgres, Transaction};

use crate::error::map_error;

/// The LISTEN/NOTIFY channel of an event's progress changes, as an SQL expression over `$1`
/// (the event id in 32 hex digits, `channel_event`): `punchlist_<event>_<schema oid>`.
/// Channels belong to the database, not to a schema, so the schema the connection resolves
/// names in (its oid: short, and unique in the database) is part of the name; otherwise a
/// store in another schema of the same database holding the same event id (a copy of the
/// event, say) would hear this one's changes. At most 53 bytes, under PostgreSQL's 63.
/// Computed by the server, on the connection, so notifier and listener agree whatever set
/// the `search_path` (this crate's option or the host's own pool).
macro_rules! channel_sql {
    () => {
        "'punchlist_' || $1 || '_' || COALESCE((SELECT oid::text FROM pg_namespace \
         WHERE nspname = current_schema()), '')"
    };
}

/// The event part of its channel's name (`channel_sql!`).
fn channel_event(event: EventId) -> String {
    event.as_uuid().simple().to_string()
}

/// Sends the change set's progress changes on the event's channel (`pg_notify`), in the
/// writing transaction: listeners hear them when it commits, in their order.
pub(crate) async fn notify(tx: &mut Transaction<'_, Postgres>, cs: &ChangeSet) -> Result<()> {
    if cs.progress_changes.is_empty() {
        return Ok(());
    }
    let payloads = cs
        .progress_changes
        .iter()
        .map(|c| serde_json::to_string(c).map_err(Error::backend))
        .collect::<Result<Vec<_>>>()?;
    sqlx::query(concat!(
        "SELECT pg_notify(",
        channel_sql!(),
        ", p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n"
    ))
    .bind(channel_event(cs.event))
    .bind(payloads)
    .execute(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(())
}

/// The progress feed of `event` ([`EventStore::progress_feed`]), on a connection of its
/// own taken from `pool` for as long as the feed is open.
///
/// [`EventStore::progress_feed`]: punchlist::store::EventStore::progress_feed
pub(crate) async fn progress_feed(pool: &PgPool, event: EventId) -> Result<ProgressFeed> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool)
        .await
        .map_err(map_error)?;
    // Named by the server on the listener's own connection, as the notifier does.
    let channel: String = sqlx::query_scalar(concat!("SELECT ", channel_sql!()))
        .bind(channel_event(event))
        .fetch_one(&mut listener)
        .await
        .map_err(map_error)?;
    listener.listen(&channel).await.map_err(map_error)?;
    // `try_recv` tells when the connection dropped (notifications sent meanwhile are
    // lost): that is reported as an `Err` item, then the listener reconnects and the
    // stream goes on. A plain `recv` would reconnect silently.
    Ok(
        futures::stream::unfold(listener, |mut listener| async move {
            let item = match listener.try_recv().await {
                Ok(Some(n)) => {
                    serde_json::from_str::<ProgressChange>(n.payload()).map_err(Error::backend)
                }
                Ok(None) => Err(Error::Unavailable {
                    source: "the live feed's connection dropped; changes may have been missed"
                        .into(),
                }),
                Err(e) => Err(map_error(e)),
            };
            Some((item, listener))
        })
        .boxed(),
    )
}
