//! What the host reports (X3): facts (T4) and timeline actions (R5), each with the
//! host's own id and when it occurred. The same id delivered twice changes nothing the second time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::ids::{EventId, ExternalId, HostEventId, ParticipantId, ParticipantRef, TimelineId};
use crate::participant::{FactKind, Facts};
use crate::text;
use crate::timeline::{TimelineEntry, TimelineKind, to_millisecond};

/// A fact reported by the host about one participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostEvent {
    /// The host's id for this event: opaque, unique per event.
    pub id: HostEventId,
    /// The participant the fact is about (the task owner), by the library's id or by the
    /// host's own (`ParticipantId` and `ExternalId` both convert with `.into()`).
    pub participant: ParticipantRef,
    /// When it occurred on the host's side; ordering of facts uses this, not arrival. May
    /// be late by any amount, but at most
    /// [`MAX_CLOCK_SKEW`](crate::limits::MAX_CLOCK_SKEW) ahead of the library's clock
    /// (see [time](crate::limits#time)).
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
    /// Checks the event on its own, at `now` by the library's clock: its content (ids are
    /// checked when parsed) and its date, which may not be before 1970 nor more than
    /// [`MAX_CLOCK_SKEW`](crate::limits::MAX_CLOCK_SKEW) ahead of `now` (a fact dated
    /// ahead would win against every genuine report until then).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<()> {
        check_occurred_at(self.occurred_at, now)?;
        match &self.fact {
            HostFact::FormCompleted { form } => text::key("fact.form", form),
            HostFact::FieldSet { field, value } => {
                text::key("fact.field", field)?;
                text::bounded_lines("fact.value", value, 10_000)
            }
            HostFact::FieldCleared { field } => text::key("fact.field", field),
            _ => Ok(()),
        }
    }

    /// The kind of fact it changes.
    pub(crate) fn kind(&self) -> FactKind {
        match &self.fact {
            HostFact::LogoUploaded | HostFact::LogoRemoved => FactKind::Logo,
            HostFact::CollaboratorAdded { .. } | HostFact::CollaboratorRemoved { .. } => {
                FactKind::Collaborators
            }
            HostFact::ProductAdded { .. } | HostFact::ProductRemoved { .. } => FactKind::Products,
            HostFact::InvitationSent { .. } | HostFact::InvitationWithdrawn { .. } => {
                FactKind::Invitations
            }
            HostFact::FormCompleted { .. } => FactKind::Forms,
            HostFact::FieldSet { .. } | HostFact::FieldCleared { .. } => FactKind::Fields,
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

/// Refuses a host's date before 1970 or beyond the clock skew (X7).
pub(crate) fn check_occurred_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if at.timestamp() < 0 {
        return Err(Error::invalid("occurred_at", "before 1970"));
    }
    if at > now + crate::limits::MAX_CLOCK_SKEW {
        return Err(Error::invalid(
            "occurred_at",
            format!(
                "in the future: more than {} minutes ahead of the library's clock",
                crate::limits::MAX_CLOCK_SKEW.num_minutes()
            ),
        ));
    }
    Ok(())
}

/// What ingesting one host event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    /// The event was new and is recorded.
    Applied,
    /// The same id was already ingested: nothing changed.
    Duplicate,
}

/// An action the host reports for a participant's timeline (R5). Its id is the host's own
/// and shares one space per event with [`HostEvent`](crate::HostEvent) ids (X3): every
/// report of the host is idempotent by it, and an id already used by a fact or an action
/// is a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostAction {
    /// The host's id: opaque, unique per event.
    pub id: HostEventId,
    /// Whose timeline, by the library's id or by the host's own.
    pub participant: ParticipantRef,
    /// When it happened, on the host's side. Kept to the millisecond; may be in the past
    /// (reported late) but not more than
    /// [`MAX_CLOCK_SKEW`](crate::limits::MAX_CLOCK_SKEW) in the future.
    pub occurred_at: DateTime<Utc>,
    /// What happened: one of the kinds the host may report
    /// ([`ActionKind::reported_by_host`](crate::ActionKind::reported_by_host)).
    pub kind: TimelineKind,
}

impl HostAction {
    /// Checks the action on its own (not the participants it names): a kind the host may
    /// report, dated no later than `now` plus
    /// [`MAX_CLOCK_SKEW`](crate::limits::MAX_CLOCK_SKEW).
    pub fn validate(&self, now: DateTime<Utc>) -> Result<()> {
        let kind = self.kind.action_kind();
        if !kind.reported_by_host() {
            return Err(Error::invalid(
                "kind",
                format!("`{kind}` is written by the library itself; the host cannot report it"),
            ));
        }
        if let ParticipantRef::Id(p) = &self.participant {
            self.check_other_party(*p)?;
        }
        check_occurred_at(self.occurred_at, now)
    }

    /// Refuses an action that names `participant`, whose timeline it is on, as its other
    /// party.
    pub(crate) fn check_other_party(&self, participant: ParticipantId) -> Result<()> {
        if self.kind.participants_named().contains(&participant) {
            return Err(Error::invalid(
                "kind",
                "the action names the participant it is about as the other party",
            ));
        }
        Ok(())
    }

    /// The entry it becomes on `participant`'s timeline (the action's, resolved).
    pub(crate) fn into_entry(self, event: EventId, participant: ParticipantId) -> TimelineEntry {
        let at = to_millisecond(self.occurred_at);
        TimelineEntry {
            id: TimelineId::happened_at(at),
            event,
            participant,
            at,
            actor: Actor::System,
            kind: self.kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::ids::ParticipantId;

    fn logo(n: usize, uploaded: bool, at: DateTime<Utc>) -> HostEvent {
        HostEvent {
            id: HostEventId::new(format!("e{n}")).unwrap(),
            participant: ParticipantId::new_at(at).into(),
            occurred_at: at,
            fact: if uploaded {
                HostFact::LogoUploaded
            } else {
                HostFact::LogoRemoved
            },
        }
    }

    proptest! {
        /// X7, T4: whatever the host sends (late, early, years ahead, in any order), a
        /// fact accepted at `now` is dated at most the skew ahead, and a genuine report
        /// made once the skew has passed always decides the on/off fact.
        #[test]
        fn x7_no_accepted_fact_outlives_the_skew(
            offsets in prop::collection::vec((-86_400i64..315_360_000, any::<bool>()), 0..30),
            last in any::<bool>(),
        ) {
            let now = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
            let mut facts = Facts::default();
            for (n, (seconds, uploaded)) in offsets.iter().enumerate() {
                let e = logo(n, *uploaded, now + Duration::seconds(*seconds));
                match e.validate(now) {
                    Ok(()) => {
                        prop_assert!(e.occurred_at <= now + crate::limits::MAX_CLOCK_SKEW);
                        e.apply_to(&mut facts);
                    }
                    Err(err) => {
                        prop_assert_eq!(err.field(), Some("occurred_at"));
                        prop_assert!(e.occurred_at > now + crate::limits::MAX_CLOCK_SKEW);
                    }
                }
            }
            let later = now + crate::limits::MAX_CLOCK_SKEW + Duration::milliseconds(1);
            let genuine = logo(offsets.len(), last, later);
            prop_assert!(genuine.validate(later).is_ok());
            genuine.apply_to(&mut facts);
            prop_assert_eq!(facts.logo.map(|s| s.value), Some(last));
        }
    }

    #[test]
    fn x7_small_value_types_sort_and_hash() {
        use crate::notify::ReminderSlot;
        let slots: std::collections::BTreeSet<ReminderSlot> =
            [ReminderSlot::Overdue, ReminderSlot::Overdue].into();
        let hashed: std::collections::HashSet<ReminderSlot> = slots.iter().copied().collect();
        assert_eq!((slots.len(), hashed.len()), (1, 1));
        let outcomes: std::collections::BTreeSet<IngestOutcome> =
            [IngestOutcome::Duplicate, IngestOutcome::Applied].into();
        assert_eq!(outcomes.len(), 2);
    }
}
