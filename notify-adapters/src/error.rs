//! The error an adapter's constructor returns.

/// Why an adapter could not be built from the host's configuration.
///
/// Sending never returns this: a failed send is a [`punchlist::SendError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting is wrong; `field` names it.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The setting (`from_address`, `vapid_key`, …).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP or SMTP client could not be set up (its TLS configuration, most likely).
    #[error("could not set up the client: {0}")]
    Client(String),
}

impl ConfigError {
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
