//! [`OutboxStore`]: the outbox read by filter, and the dispatchers' claims, releases and
//! requeues of dead letters, each in one transaction over locked rows; and the statements
//! that write outbox rows, so an entry's state and due time stay in step with its body.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use punchlist::store::OutboxStore;
use punchlist::{EventId, OutboxEntry, OutboxFilter, OutboxId, OutboxState, Result};
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::PgStore;
use crate::error::{from_json, map_error};

#[async_trait]
impl OutboxStore for PgStore {
    async fn outbox(
        &self,
        event: EventId,
        filter: &OutboxFilter,
        after: Option<OutboxId>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        // The state is a literal, so a filter on dead letters uses their partial index; a
        // filter on the recipient reads their index.
        let state = match filter.state {
            None => "",
            Some(OutboxState::Pending) => "AND state = 'pending' ",
            Some(OutboxState::Sent) => "AND state = 'sent' ",
            Some(OutboxState::Dead) => "AND state = 'dead' ",
            Some(OutboxState::Skipped) => "AND state = 'skipped' ",
            Some(_) => return Ok(Vec::new()),
        };
        let sql = format!(
            "SELECT body FROM outbox WHERE event_id = $1 AND outbox_id > $2 {state}\
             AND ($3::uuid IS NULL OR recipient_id = $3) \
             AND ($4::text IS NULL OR kind = $4) \
             ORDER BY outbox_id LIMIT $5"
        );
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(&sql)
            .bind(event.as_uuid())
            .bind(after.map_or(Uuid::nil(), |a| a.as_uuid()))
            .bind(filter.recipient.map(|r| r.as_uuid()))
            .bind(filter.kind.map(|k| k.as_str()))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(map_error)?;
        rows.into_iter().map(from_json).collect()
    }

    async fn claim_outbox(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        // Lane by lane (N11), each one range of the (lane, due_at) index. `SKIP LOCKED`:
        // dispatchers claiming at the same time take different entries instead of
        // queueing behind each other's locks.
        let mut claimed: Vec<OutboxEntry> = Vec::new();
        for lane in 0..punchlist::MessageKind::LANES {
            let rows: Vec<Json<OutboxEntry>> = sqlx::query_scalar(
                "SELECT body FROM outbox WHERE lane = $1 AND due_at <= $2 ORDER BY due_at \
                 LIMIT $3 FOR UPDATE SKIP LOCKED",
            )
            .bind(i16::from(lane))
            .bind(now)
            .bind(i64::try_from(limit - claimed.len()).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_error)?;
            claimed.extend(rows.into_iter().map(|j| j.0));
            if claimed.len() >= limit {
                break;
            }
        }
        // What waited for one recipient comes together (N9): their other due waiting
        // entries, locked in this transaction too (rows this transaction holds already
        // would come back, so they are left out by id).
        let mut recipients: Vec<(EventId, punchlist::ParticipantId)> = claimed
            .iter()
            .filter(|e| e.is_waiting())
            .map(|e| (e.event, e.recipient))
            .collect();
        recipients.sort();
        recipients.dedup();
        for (event, recipient) in recipients {
            let more = waiting_of(
                &mut tx,
                event,
                recipient,
                now,
                punchlist::store::WAITING_TOGETHER,
            )
            .await?;
            for e in more {
                if !claimed.iter().any(|c| c.event == e.event && c.id == e.id) {
                    claimed.push(e);
                }
            }
        }
        for entry in &mut claimed {
            entry.lease_to(owner, lease_until);
        }
        put_outbox(&mut tx, &claimed).await?;
        tx.commit().await.map_err(map_error)?;
        Ok(claimed)
    }

    async fn update_limiter(
        &self,
        name: &str,
        step: punchlist::LimiterStep,
    ) -> Result<Option<DateTime<Utc>>> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        // The row exists before it is locked, so that two first callers queue on one lock
        // rather than both inserting.
        sqlx::query("INSERT INTO limiters (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        let before: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT state FROM limiters WHERE name = $1 FOR UPDATE")
                .bind(name)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_error)?;
        sqlx::query("UPDATE limiters SET state = $2 WHERE name = $1")
            .bind(name)
            .bind(step.apply(before))
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        Ok(before)
    }

    async fn release_outbox(
        &self,
        owner: &str,
        entries: Vec<OutboxEntry>,
    ) -> Result<Vec<OutboxId>> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        let keys: Vec<_> = entries.iter().map(|e| (e.event, e.id)).collect();
        let held: HashSet<(EventId, OutboxId)> = lock_outbox(&mut tx, &keys)
            .await?
            .into_iter()
            .filter(|e| e.is_held_by(owner))
            .map(|e| (e.event, e.id))
            .collect();
        let mine: Vec<OutboxEntry> = entries
            .into_iter()
            .filter(|e| held.contains(&(e.event, e.id)))
            .collect();
        put_outbox(&mut tx, &mine).await?;
        tx.commit().await.map_err(map_error)?;
        Ok(mine.into_iter().map(|e| e.id).collect())
    }

    async fn requeue_dead(
        &self,
        event: EventId,
        ids: &[OutboxId],
        now: DateTime<Utc>,
    ) -> Result<Vec<OutboxId>> {
        let mut tx = self.pool.begin().await.map_err(map_error)?;
        let keys: Vec<_> = ids.iter().map(|id| (event, *id)).collect();
        let mut dead: Vec<OutboxEntry> = lock_outbox(&mut tx, &keys)
            .await?
            .into_iter()
            .filter(|e| e.state == OutboxState::Dead)
            .collect();
        for entry in &mut dead {
            entry.requeue(now);
        }
        put_outbox(&mut tx, &dead).await?;
        tx.commit().await.map_err(map_error)?;
        Ok(dead.into_iter().map(|e| e.id).collect())
    }
}

/// Locks up to `limit` of `recipient`'s entries in `event` that waited for their send
/// window and are due at `now`, earliest due first (the recipient's index holds a handful
/// of rows; the waiting ones carry `held_since` in their body).
async fn waiting_of(
    tx: &mut Transaction<'_, Postgres>,
    event: EventId,
    recipient: punchlist::ParticipantId,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<OutboxEntry>> {
    let rows: Vec<Json<OutboxEntry>> = sqlx::query_scalar(
        "SELECT body FROM outbox WHERE event_id = $1 AND recipient_id = $2 \
           AND due_at <= $3 AND body ? 'held_since' \
         ORDER BY due_at, outbox_id LIMIT $4 FOR UPDATE SKIP LOCKED",
    )
    .bind(event.as_uuid())
    .bind(recipient.as_uuid())
    .bind(now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(rows
        .into_iter()
        .map(|j| j.0)
        .filter(OutboxEntry::is_waiting)
        .collect())
}

/// The channels an entry was delivered on, as the `delivered_channels` column holds them
/// (a Postgres array literal: names need no quoting).
fn channels(entry: &OutboxEntry) -> String {
    let names: Vec<&str> = entry
        .delivered_channels()
        .into_iter()
        .map(|c| c.as_str())
        .collect();
    format!("{{{}}}", names.join(","))
}

/// Rewrites outbox entries (body, state, due time, channels delivered) in the transaction.
async fn put_outbox(tx: &mut Transaction<'_, Postgres>, entries: &[OutboxEntry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let events: Vec<Uuid> = entries.iter().map(|o| o.event.as_uuid()).collect();
    let ids: Vec<Uuid> = entries.iter().map(|o| o.id.as_uuid()).collect();
    let bodies: Vec<Json<&OutboxEntry>> = entries.iter().map(Json).collect();
    let states: Vec<&str> = entries.iter().map(|o| o.state.as_str()).collect();
    let due: Vec<Option<DateTime<Utc>>> = entries.iter().map(|o| o.due_at()).collect();
    let delivered: Vec<String> = entries.iter().map(channels).collect();
    sqlx::query(
        "UPDATE outbox o SET body = u.body, state = u.state, due_at = u.due_at, \
           delivered_channels = u.delivered::text[] \
         FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[], $4::text[], $5::timestamptz[], $6::text[]) \
           AS u(event_id, outbox_id, body, state, due_at, delivered) \
         WHERE o.event_id = u.event_id AND o.outbox_id = u.outbox_id",
    )
    .bind(&events)
    .bind(&ids)
    .bind(&bodies)
    .bind(&states)
    .bind(&due)
    .bind(&delivered)
    .execute(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(())
}

/// Reads and locks outbox entries by (event, id).
async fn lock_outbox(
    tx: &mut Transaction<'_, Postgres>,
    keys: &[(EventId, OutboxId)],
) -> Result<Vec<OutboxEntry>> {
    let events: Vec<Uuid> = keys.iter().map(|(e, _)| e.as_uuid()).collect();
    let ids: Vec<Uuid> = keys.iter().map(|(_, o)| o.as_uuid()).collect();
    let rows: Vec<Json<OutboxEntry>> = sqlx::query_scalar(
        "SELECT body FROM outbox WHERE (event_id, outbox_id) IN \
           (SELECT * FROM unnest($1::uuid[], $2::uuid[])) \
         ORDER BY event_id, outbox_id FOR UPDATE",
    )
    .bind(&events)
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(rows.into_iter().map(|j| j.0).collect())
}

/// Inserts a change set's new outbox entries in the event, with their idempotency keys,
/// states and due times.
pub(crate) async fn insert_outbox(
    tx: &mut Transaction<'_, Postgres>,
    event: EventId,
    entries: &[OutboxEntry],
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = entries.iter().map(|o| o.id.as_uuid()).collect();
    let keys: Vec<&str> = entries.iter().map(|o| o.idempotency_key.as_str()).collect();
    let bodies: Vec<Json<&OutboxEntry>> = entries.iter().map(Json).collect();
    let states: Vec<&str> = entries.iter().map(|o| o.state.as_str()).collect();
    let due: Vec<Option<DateTime<Utc>>> = entries.iter().map(|o| o.due_at()).collect();
    let recipients: Vec<Uuid> = entries.iter().map(|o| o.recipient.as_uuid()).collect();
    let kinds: Vec<&str> = entries.iter().map(|o| o.message.kind().as_str()).collect();
    let delivered: Vec<String> = entries.iter().map(channels).collect();
    let lanes: Vec<i16> = entries.iter().map(|o| i16::from(o.lane())).collect();
    sqlx::query(
        "INSERT INTO outbox (event_id, outbox_id, idempotency_key, body, state, due_at, \
           recipient_id, kind, delivered_channels, lane) \
         SELECT $1, u.id, u.key, u.body, u.state, u.due_at, u.recipient, u.kind, u.delivered::text[], u.lane \
         FROM unnest($2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::timestamptz[], \
           $7::uuid[], $8::text[], $9::text[], $10::smallint[]) \
           AS u(id, key, body, state, due_at, recipient, kind, delivered, lane)",
    )
    .bind(event.as_uuid())
    .bind(&ids)
    .bind(&keys)
    .bind(&bodies)
    .bind(&states)
    .bind(&due)
    .bind(&recipients)
    .bind(&kinds)
    .bind(&delivered)
    .bind(&lanes)
    .execute(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(())
}

/// Deletes outbox entries of the event by id.
pub(crate) async fn delete_outbox(
    tx: &mut Transaction<'_, Postgres>,
    event: EventId,
    ids: &[OutboxId],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = ids.iter().map(|o| o.as_uuid()).collect();
    sqlx::query(
        "DELETE FROM outbox WHERE event_id = $1 AND outbox_id IN (SELECT unnest($2::uuid[]))",
    )
    .bind(event.as_uuid())
    .bind(&ids)
    .execute(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(())
}
