//! Assertions the checks share: the kind of a refusal (and the field of an `Invalid`),
//! and that it wrote nothing.

use std::fmt::Debug;

use super::{DumpStore, EventDump, Fixture};
use crate::error::{Error, Result};

/// The kind of an answer, as the refusal policy names them ([`Error`]'s table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `Ok`.
    Ok,
    /// `Invalid` on this field.
    Invalid(&'static str),
    /// `NotFound`.
    NotFound,
    /// `Forbidden`.
    Forbidden,
    /// `State`.
    State,
    /// `Conflict`.
    Conflict,
}

/// Whether `r` is of `want`'s kind (for `Invalid`, on `want`'s field).
pub fn is_kind<T>(r: &Result<T>, want: &Kind) -> bool {
    match (r, want) {
        (Ok(_), Kind::Ok) => true,
        (Err(Error::Invalid { field, .. }), Kind::Invalid(want)) => field == want,
        (Err(Error::NotFound { .. }), Kind::NotFound)
        | (Err(Error::Forbidden { .. }), Kind::Forbidden)
        | (Err(Error::State { .. }), Kind::State)
        | (Err(Error::Conflict { .. }), Kind::Conflict) => true,
        _ => false,
    }
}

/// Asserts `r` is of `want`'s kind (for `Invalid`, on `want`'s field).
pub fn assert_kind<T: Debug>(r: &Result<T>, want: Kind, case: &str) {
    assert!(is_kind(r, &want), "{case}: expected {want:?}, got {r:?}");
}

/// Asserts the event's dump is still `before`: the refused call wrote nothing (X5).
pub async fn assert_wrote_nothing<S: DumpStore>(f: &Fixture<S>, before: &EventDump, case: &str) {
    assert!(f.dump().await == *before, "{case}: a refused call wrote");
}

/// The field of an `Error::Invalid`, or a panic saying what came instead.
pub fn invalid_field<T: Debug>(r: Result<T>, case: &str) -> String {
    match r {
        Err(Error::Invalid { field, .. }) => field.into_owned(),
        other => panic!("{case}: expected Error::Invalid, got {other:?}"),
    }
}

/// Asserts `r` is `Error::Forbidden`.
pub fn assert_forbidden<T: Debug>(r: Result<T>, case: &str) {
    assert!(
        matches!(r, Err(Error::Forbidden { .. })),
        "{case}: expected Forbidden, got {r:?}"
    );
}

/// Asserts `r` is `Error::NotFound`.
pub fn assert_not_found<T: Debug>(r: Result<T>, case: &str) {
    assert!(
        matches!(r, Err(Error::NotFound { .. })),
        "{case}: expected NotFound, got {r:?}"
    );
}
