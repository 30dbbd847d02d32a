//! The conformance suite on the in-memory store.

punchlist::conformance_tests!(async { punchlist::MemoryStore::new() });
