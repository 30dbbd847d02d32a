//! Connecting: the pool's configuration, the schema the tables live in, and the embedded
//! migrations that create them.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::PgStore;

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The name of the PostgreSQL schema a store keeps its tables in
/// ([`PoolConfig::with_schema`]).
///
/// A plain lowercase SQL identifier: 1 to 63 bytes of ASCII lowercase letters, digits and
/// underscores, not starting with a digit, and not starting with `pg_` (PostgreSQL keeps
/// that prefix for its own schemas). Uppercase is refused rather than folded: PostgreSQL
/// folds unquoted names to lowercase, so `Expo` would not be the schema `psql` shows as
/// `expo`. Anything else (spaces, quotes, semicolons, non-ASCII) is refused with an
/// [`InvalidSchemaName`], never spliced into SQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaName(String);

/// Why a name was refused as a [`SchemaName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schema name {name:?}: {reason}")]
pub struct InvalidSchemaName {
    name: String,
    reason: &'static str,
}

impl InvalidSchemaName {
    /// The name that was refused.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What is wrong with it, in words.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl SchemaName {
    /// The longest name PostgreSQL keeps whole (`NAMEDATALEN - 1`); longer ones it cuts.
    pub const MAX_LEN: usize = 63;

    /// Checks `name` (see [`SchemaName`] for the rule).
    pub fn new(name: impl Into<String>) -> std::result::Result<Self, InvalidSchemaName> {
        let name = name.into();
        let refuse = |reason| {
            Err(InvalidSchemaName {
                name: name.clone(),
                reason,
            })
        };
        let Some(first) = name.bytes().next() else {
            return refuse("it is empty");
        };
        if name.len() > Self::MAX_LEN {
            return refuse("it is longer than 63 bytes");
        }
        if first.is_ascii_digit() {
            return refuse("it starts with a digit");
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return refuse(
                "it has uppercase letters (PostgreSQL folds unquoted names to lowercase)",
            );
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return refuse("only lowercase ASCII letters, digits and underscores are allowed");
        }
        if name.starts_with("pg_") {
            return refuse("the prefix pg_ is reserved for PostgreSQL's own schemas");
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a quoted SQL identifier (it holds no quote to escape).
    pub(crate) fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

impl std::str::FromStr for SchemaName {
    type Err = InvalidSchemaName;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<&str> for SchemaName {
    type Error = InvalidSchemaName;

    fn try_from(s: &str) -> std::result::Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for SchemaName {
    type Error = InvalidSchemaName;

    fn try_from(s: String) -> std::result::Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl AsRef<str> for SchemaName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SchemaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Pool size, timeouts and schema, for [`PgStore::connect`].
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most connections in the pool. Each open live feed holds one of them for as long
    /// as it is open, so size the pool for the feeds too.
    pub max_connections: u32,
    /// How long a call waits for a free connection before failing with
    /// [`Error::Unavailable`](punchlist::Error::Unavailable).
    pub acquire_timeout: Duration,
    /// How long an idle connection is kept.
    pub idle_timeout: Option<Duration>,
    /// The schema the store's tables live in; `None` (the default) leaves the
    /// connection's `search_path` as the server and the URL set it (`public`, usually).
    /// With `Some`, [`PgStore::connect`] sets every connection's `search_path` to this
    /// schema alone, and [`PgStore::migrate`] creates it if missing. A pool the host
    /// builds itself ([`PgStore::from_pool`]) sets its own `search_path` instead.
    pub schema: Option<SchemaName>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            schema: None,
        }
    }
}

impl PoolConfig {
    /// This configuration with the store's tables in `schema` (see [`PoolConfig::schema`]).
    pub fn with_schema(mut self, schema: SchemaName) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The pool options for this configuration (size and timeouts; the schema is a
    /// connection option, which [`PgStore::connect`] adds).
    pub fn options(&self) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .idle_timeout(self.idle_timeout)
    }

    /// `options` with this configuration's schema as the `search_path`.
    fn connect_options(&self, options: PgConnectOptions) -> PgConnectOptions {
        match &self.schema {
            // Appended after any options the URL carries, so it wins over a
            // `search_path` given there.
            Some(schema) => options.options([("search_path", schema.quoted())]),
            None => options,
        }
    }
}

impl PgStore {
    /// Connects to the database at `url` with a pool configured by `config`, in
    /// `config.schema` when it names one. Connecting checks the address and the
    /// credentials, not the schema: [`PgStore::migrate`] creates it.
    pub async fn connect(url: &str, config: PoolConfig) -> std::result::Result<Self, sqlx::Error> {
        let options = config.connect_options(url.parse()?);
        let pool = config.options().connect_with(options).await?;
        let mut store = Self::from_pool(pool);
        store.schema = config.schema;
        Ok(store)
    }

    /// A store over a pool the host built itself, in whatever schema its connections'
    /// `search_path` names.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            schema: None,
            #[cfg(feature = "testkit")]
            _guard: None,
        }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The schema given to [`PgStore::connect`] in [`PoolConfig::schema`], if any.
    pub fn schema(&self) -> Option<&SchemaName> {
        self.schema.as_ref()
    }

    /// Applies the embedded migrations that are not applied yet (harmless to repeat).
    ///
    /// With a [`PoolConfig::schema`], first creates that schema if it does not exist
    /// (a role that may not create schemas can use one made for it beforehand), and
    /// refuses to go on if the connections do not resolve names in it (a connection
    /// pooler that drops startup options, say), rather than migrating another schema.
    pub async fn migrate(&self) -> std::result::Result<(), sqlx::migrate::MigrateError> {
        if let Some(schema) = &self.schema {
            self.create_schema(schema).await?;
            let current: Option<String> = sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(&self.pool)
                .await?;
            if current.as_deref() != Some(schema.as_str()) {
                return Err(sqlx::Error::Configuration(
                    format!(
                        "the connections resolve names in schema {current:?}, not {:?}: \
                         their search_path option did not reach the server",
                        schema.as_str()
                    )
                    .into(),
                )
                .into());
            }
        }
        MIGRATOR.run(&self.pool).await
    }

    /// `CREATE SCHEMA IF NOT EXISTS`, asked only when it is missing (creating needs the
    /// `CREATE` privilege on the database even when the schema exists).
    async fn create_schema(&self, schema: &SchemaName) -> std::result::Result<(), sqlx::Error> {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(schema.as_str())
                .fetch_one(&self.pool)
                .await?;
        if exists {
            return Ok(());
        }
        let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {}", schema.quoted()))
            .execute(&self.pool)
            .await;
        match created {
            // Another instance created it at the same moment: `IF NOT EXISTS` does not
            // cover that race, the catalog's unique index reports it.
            Err(sqlx::Error::Database(db))
                if matches!(db.code().as_deref(), Some("23505" | "42P06")) =>
            {
                Ok(())
            }
            other => other.map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_lowercase_identifiers() {
        for ok in ["expo", "expo_2026", "_private", "a", &"x".repeat(63)] {
            let name = SchemaName::new(ok).unwrap();
            assert_eq!(name.as_str(), ok);
            assert_eq!(name.quoted(), format!("\"{ok}\""));
            assert_eq!(ok.parse::<SchemaName>().unwrap(), name);
        }
        for bad in [
            "",
            "bad; drop",
            "bad\"; DROP SCHEMA public CASCADE; --",
            "2026_expo",
            "Expo",
            "expo-2026",
            "expo 2026",
            "expo.events",
            "pg_expo",
            "zoë",
            "expo\0",
            &"x".repeat(64),
        ] {
            let err = SchemaName::new(bad).expect_err(bad);
            assert_eq!(err.name(), bad);
            assert!(err.to_string().contains(err.reason()), "{err}");
            assert!(SchemaName::try_from(bad).is_err());
            assert!(SchemaName::try_from(bad.to_owned()).is_err());
        }
    }

    #[test]
    fn the_schema_is_the_connections_search_path() {
        let url = "postgres://app@db.internal/shared?options=-c%20statement_timeout%3D5s";
        let plain = PoolConfig::default().connect_options(url.parse().unwrap());
        assert_eq!(plain.get_options(), Some("-c statement_timeout=5s"));
        let config = PoolConfig::default().with_schema(SchemaName::new("expo").unwrap());
        let options = config.connect_options(url.parse().unwrap());
        assert_eq!(
            options.get_options(),
            Some("-c statement_timeout=5s -c search_path=\"expo\"")
        );
    }
}
