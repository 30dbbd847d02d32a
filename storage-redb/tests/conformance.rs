//! The whole conformance suite of `punchlist`, on a redb file.

punchlist::conformance_tests!(async {
    punchlist_redb::RedbStore::open_async_temporary()
        .await
        .expect("open a temporary redb store")
});
