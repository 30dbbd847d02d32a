//! The database's errors as the library's kinds, and the JSON encoding of the documents the
//! tables keep.

use punchlist::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::types::Json;

/// Maps a database error to the library's kinds: a unique violation, a serialization
/// failure or a deadlock is a conflict (the service retries); a pool timeout or a broken
/// connection is "unavailable"; the rest is a storage error. The source is kept.
pub fn map_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("23505") => Error::Conflict {
                entity: "row",
                id: db.constraint().unwrap_or("unique").to_owned(),
            },
            Some("40001" | "40P01") => Error::Conflict {
                entity: "transaction",
                id: "serialization".to_owned(),
            },
            Some(code) if code.starts_with("08") || code == "57P01" => Error::Unavailable {
                source: Box::new(e),
            },
            _ => Error::backend(e),
        },
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => Error::Unavailable {
            source: Box::new(e),
        },
        _ => Error::backend(e),
    }
}

/// A value as a `jsonb` document.
pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(Error::backend)
}

/// A `jsonb` document decoded into `T`.
pub(crate) fn from_json<T: DeserializeOwned>(v: serde_json::Value) -> Result<T> {
    serde_json::from_value(v).map_err(Error::backend)
}

/// A `jsonb` column decoded straight into `T` (no intermediate `serde_json::Value`).
pub(crate) fn column<T: DeserializeOwned>(row: &sqlx::postgres::PgRow, name: &str) -> Result<T> {
    row.try_get::<Json<T>, _>(name)
        .map(|j| j.0)
        .map_err(Error::backend)
}

/// A version as its `bigint` column holds it.
pub(crate) fn version(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(Error::backend)
}
