//! Test-only API, behind the `testkit` feature: what the file's own tests reach for and a
//! host never needs.

use punchlist::Result;

use crate::RedbStore;
use crate::error::be;
use crate::schema::{FORMAT_KEY, META};

impl RedbStore {
    /// Sets the format version written in the file (tests of the version check only).
    #[doc(hidden)]
    pub fn set_format_for_tests(&self, version: u64) -> Result<()> {
        let txn = self.inner.db.begin_write().map_err(be)?;
        txn.open_table(META)
            .map_err(be)?
            .insert(FORMAT_KEY, version)
            .map_err(be)?;
        txn.commit().map_err(be)
    }
}
