//! Facts the host reports (X3, T4): each event carries the host's own id and when it
//! occurred. The same id delivered twice changes nothing the second time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::{ExternalId, HostEventId, ParticipantId};
use crate::participant::Facts;
use crate::text;

/// A fact reported by the host about one participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostEvent {
    /// The host's id for this event: opaque, unique per event.
    pub id: HostEventId,
    /// The participant the fact is about (the task owner).
    pub participant: ParticipantId,
    /// When it occurred on the host's side; ordering of facts uses this, not arrival.
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    pub fact: HostFact,
}

/// What the host reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HostFact {
    /// A logo was uploaded.
    LogoUploaded,
    /// The logo was removed.
    LogoRemoved,
    /// A collaborator was created; if a participant of the event has `collaborator` as
    /// their `external_id`, they become the participant's collaborator.
    CollaboratorAdded {
        /// The host's id for the collaborator.
        collaborator: ExternalId,
    },
    /// A collaborator was removed.
    CollaboratorRemoved {
        /// The host's id for the collaborator.
        collaborator: ExternalId,
    },
    /// A product was added.
    ProductAdded {
        /// The host's id for the product.
        product: ExternalId,
    },
    /// A product was removed.
    ProductRemoved {
        /// The host's id for the product.
        product: ExternalId,
    },
    /// An invitation was sent.
    InvitationSent {
        /// The host's id for the invitation.
        invitation: ExternalId,
    },
    /// An invitation was withdrawn.
    InvitationWithdrawn {
        /// The host's id for the invitation.
        invitation: ExternalId,
    },
    /// A form of the host's form builder was completed.
    FormCompleted {
        /// The form's key.
        form: String,
    },
    /// A profile field was set.
    FieldSet {
        /// The field's key.
        field: String,
        /// Its value.
        value: String,
    },
    /// A profile field was cleared.
    FieldCleared {
        /// The field's key.
        field: String,
    },
}

impl HostEvent {
    /// Checks the event's content (ids are checked when parsed).
    pub fn validate(&self) -> Result<()> {
        match &self.fact {
            HostFact::FormCompleted { form } => text::key("fact.form", form),
            HostFact::FieldSet { field, value } => {
                text::key("fact.field", field)?;
                text::bounded_text("fact.value", value, 10_000)
            }
            HostFact::FieldCleared { field } => text::key("fact.field", field),
            _ => Ok(()),
        }
    }

    /// Applies the fact to `facts`. Returns whether anything changed (a stale or repeated
    /// occurrence changes nothing).
    pub fn apply_to(&self, facts: &mut Facts) -> bool {
        let at = self.occurred_at;
        match &self.fact {
            HostFact::LogoUploaded => facts.record_logo(true, at),
            HostFact::LogoRemoved => facts.record_logo(false, at),
            HostFact::CollaboratorAdded { collaborator } => {
                facts.collaborators.record(collaborator.clone(), true, at)
            }
            HostFact::CollaboratorRemoved { collaborator } => {
                facts.collaborators.record(collaborator.clone(), false, at)
            }
            HostFact::ProductAdded { product } => facts.products.record(product.clone(), true, at),
            HostFact::ProductRemoved { product } => {
                facts.products.record(product.clone(), false, at)
            }
            HostFact::InvitationSent { invitation } => {
                facts.invitations.record(invitation.clone(), true, at)
            }
            HostFact::InvitationWithdrawn { invitation } => {
                facts.invitations.record(invitation.clone(), false, at)
            }
            HostFact::FormCompleted { form } => facts.record_form(form, true, at),
            HostFact::FieldSet { field, value } => {
                facts.record_field(field, Some(value.clone()), at)
            }
            HostFact::FieldCleared { field } => facts.record_field(field, None, at),
        }
    }
}

/// What ingesting one host event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    /// The event was new and is recorded.
    Applied,
    /// The same id was already ingested: nothing changed.
    Duplicate,
}
