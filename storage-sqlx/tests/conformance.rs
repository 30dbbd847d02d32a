//! The whole conformance suite of `punchlist`, on PostgreSQL (each check in a schema of
//! its own). Needs `DATABASE_URL`; without it every check says it was skipped, and with
//! `PUNCHLIST_REQUIRE_DATABASE=1` a missing database fails instead.

use punchlist_sqlx::PoolConfig;
use punchlist_sqlx::testing::{database_url, isolated_store};

punchlist::conformance_tests!(optional: async {
    let url = database_url("conformance")?;
    Some(isolated_store(&url, PoolConfig::default()).await)
});
