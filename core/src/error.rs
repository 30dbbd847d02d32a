//! The one error type of the library, with kinds a caller can match.

use std::borrow::Cow;

/// A boxed source error kept by storage errors.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong. Every fallible call of the library returns this.
///
/// Match on the variant to decide what to show: [`Error::Invalid`] names the field and
/// the reason (show it next to the form field), [`Error::NotFound`] and
/// [`Error::Forbidden`] map to 404 and 403, [`Error::State`] and [`Error::Conflict`] to
/// 409, [`Error::Unavailable`] may succeed later, and [`Error::Backend`] is a storage fault.
///
/// # One rule for refusals
///
/// Every refusal of the library answers exactly one of four questions, and the kind says
/// which, so a host maps it once:
///
/// | kind | the question | examples |
/// |---|---|---|
/// | [`Error::NotFound`] | does it exist, for this reader? | an unknown id; another event's object (X2: its existence is not revealed) |
/// | [`Error::Forbidden`] | *who* may do this? | a participant reading another's record; assigning a task to someone who is not one of *your* collaborators; booking someone whose networking consent is not given |
/// | [`Error::Invalid`] | *what* was asked: is the value well formed, and does the object's configuration allow the operation at all? | a blank name; a fact dated in the future; ticking an automatic task (field `task`); a limit above the maximum |
/// | [`Error::State`] | *when*: does the object's current state allow it now? | publishing a task that is already published; deleting a task that is not a draft; accepting a submission that awaits no review; changing an erased participant |
/// | [`Error::Conflict`] | did someone else get there first? | a concurrent writer (the service already retried); a stale version passed by the caller (X8); a unique value taken; a second pending meeting request for the same slot |
///
/// `State` is not `Conflict`: a conflict may go away on a retry (the other writer is done),
/// while a request the state refuses is refused again until something else changes the
/// state, so [`Error::is_transient`] is false for it. And it is not `Invalid`: the request
/// was well formed and would be accepted by the same object in another state, so a form
/// should not mark a field red for it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not acceptable: `field` names what, `reason` says why.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field, as a dotted path (`texts.fr.name`, `condition.at_least`, `items[3].id`).
        field: Cow<'static, str>,
        /// Why the value is refused, in a sentence a developer can act on.
        reason: String,
    },
    /// The entity does not exist, or exists in another event (X2: its existence is not
    /// revealed).
    #[error("{entity} {id} not found")]
    NotFound {
        /// Which kind of entity (`task`, `participant`, …).
        entity: &'static str,
        /// The id that was looked up.
        id: String,
    },
    /// The actor may not do this (X2): who may act, on whom.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why.
        reason: Cow<'static, str>,
    },
    /// A well-formed request that the entity's current state does not allow (publishing a
    /// task that is already published, accepting a submission that awaits no review).
    /// The same request may succeed once the state has changed; retrying it as it is
    /// will not.
    #[error("{entity} {id}: {reason}")]
    State {
        /// Which kind of entity (`task`, `progress`, `participant`, …).
        entity: &'static str,
        /// Its id.
        id: String,
        /// What in its state refuses the request.
        reason: Cow<'static, str>,
    },
    /// A concurrent writer changed the same entity first (version check), the caller's
    /// version is stale (X8), or a unique value is taken.
    #[error("conflict on {entity} {id}")]
    Conflict {
        /// Which kind of entity.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// The store cannot be reached right now; a retry may help.
    #[error("store unavailable")]
    Unavailable {
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// Writing an export to the host's writer failed.
    #[error("writing the export failed")]
    Io {
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The store failed.
    #[error("storage error")]
    Backend {
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// An [`Error::Invalid`] for `field` with `reason`.
    pub fn invalid(field: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::NotFound`].
    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// An [`Error::Forbidden`].
    pub fn forbidden(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Forbidden {
            reason: reason.into(),
        }
    }

    /// An [`Error::State`].
    pub fn state(
        entity: &'static str,
        id: impl ToString,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::State {
            entity,
            id: id.to_string(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Conflict`].
    pub fn conflict(entity: &'static str, id: impl ToString) -> Self {
        Self::Conflict {
            entity,
            id: id.to_string(),
        }
    }

    /// An [`Error::Backend`] keeping `source`.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        Self::Backend {
            source: source.into(),
        }
    }

    /// Whether retrying the same call may succeed (conflicts and unavailability).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Conflict { .. } | Self::Unavailable { .. })
    }

    /// The field named by an [`Error::Invalid`].
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Prefixes the field of an [`Error::Invalid`] with `prefix.` (nests validation errors).
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Self::Invalid { field, reason } => Self::Invalid {
                field: format!("{prefix}.{field}").into(),
                reason,
            },
            other => other,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
