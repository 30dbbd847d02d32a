//! The one error type of the library, with kinds a caller can match.

use std::borrow::Cow;

/// A boxed source error kept by storage errors.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong. Every fallible call of the library returns this.
///
/// Match on the variant to decide what to show: [`Error::Invalid`] names the field and
/// the reason (show it next to the form field), [`Error::NotFound`] and
/// [`Error::Forbidden`] map to 404 and 403, [`Error::Conflict`] means a concurrent writer
/// won (the service already retried), [`Error::Unavailable`] may succeed later, and
/// [`Error::Backend`] is a storage fault.
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
    /// The actor may not do this (X2), or the operation is not allowed in this state.
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why.
        reason: Cow<'static, str>,
    },
    /// A concurrent writer changed the same entity first (version check), or a unique
    /// value is taken.
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
