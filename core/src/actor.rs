//! Who makes an operation, and the authorization rules (X2).
//!
//! The host authenticates people; the library decides what each may do. Every service call
//! takes an [`Actor`]. The rules are plain functions, tested without a store:
//!
//! * an organizer acts on their own event only: another event's objects answer
//!   [`Error::NotFound`], so their existence is not revealed;
//! * a participant reads and changes only what is theirs: another participant's object in
//!   the same event answers [`Error::Forbidden`], another event's answers `NotFound`;
//! * the system (the host's own jobs: ingesting facts, ticks) may do everything.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{AdminId, EventId, ParticipantId};

/// Who is making an operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// An organizer (an administrator of the host) of one event.
    Organizer {
        /// The administrator, as the host names them; recorded in histories.
        admin: AdminId,
        /// The event they organize.
        event: EventId,
    },
    /// A participant of one event.
    Participant {
        /// The participant.
        id: ParticipantId,
        /// Their event.
        event: EventId,
    },
    /// The host itself or the library (facts reported by the platform, ticks, sweeps).
    System,
}

impl Actor {
    /// An organizer of `event`.
    pub fn organizer(admin: AdminId, event: EventId) -> Self {
        Self::Organizer { admin, event }
    }

    /// A participant of `event`.
    pub fn participant(id: ParticipantId, event: EventId) -> Self {
        Self::Participant { id, event }
    }

    /// The event the actor belongs to (`None` for the system).
    pub fn event(&self) -> Option<EventId> {
        match self {
            Self::Organizer { event, .. } | Self::Participant { event, .. } => Some(*event),
            Self::System => None,
        }
    }

    /// The participant acting, if the actor is one.
    pub fn as_participant(&self) -> Option<ParticipantId> {
        match self {
            Self::Participant { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// Whether the actor is an organizer of `event` or the system.
    pub fn is_staff_of(&self, event: EventId) -> bool {
        match self {
            Self::Organizer { event: e, .. } => *e == event,
            Self::System => true,
            Self::Participant { .. } => false,
        }
    }
}

/// Checks that `actor` may see that the object (`entity`, `id`) of `event` exists at all:
/// an actor of another event gets `NotFound`.
pub(crate) fn require_same_event(
    actor: &Actor,
    event: EventId,
    entity: &'static str,
    id: impl ToString,
) -> Result<()> {
    match actor.event() {
        Some(e) if e != event => Err(Error::not_found(entity, id)),
        _ => Ok(()),
    }
}

/// Checks that `actor` is an organizer of `event` (or the system). Another event's
/// organizer or participant gets `NotFound` for (`entity`, `id`); a participant of the
/// event gets `Forbidden`.
pub(crate) fn require_staff(
    actor: &Actor,
    event: EventId,
    entity: &'static str,
    id: impl ToString,
) -> Result<()> {
    require_same_event(actor, event, entity, id)?;
    if actor.is_staff_of(event) {
        Ok(())
    } else {
        Err(Error::forbidden("only the event's organizers may do this"))
    }
}

/// Checks that `actor` may act as participant `subject` of `event`: the participant
/// themselves, or staff of the event. Another participant gets `Forbidden`.
pub(crate) fn require_self_or_staff(
    actor: &Actor,
    event: EventId,
    subject: ParticipantId,
) -> Result<()> {
    require_same_event(actor, event, ParticipantId::ENTITY, subject)?;
    match actor {
        Actor::Participant { id, .. } if *id != subject => Err(Error::forbidden(
            "a participant may only act on their own record",
        )),
        _ => Ok(()),
    }
}

/// Checks that `actor` is a participant of `event` and returns their id.
pub(crate) fn require_participant(actor: &Actor, event: EventId) -> Result<ParticipantId> {
    require_same_event(actor, event, EventId::ENTITY, event)?;
    actor
        .as_participant()
        .ok_or_else(|| Error::forbidden("only a participant may do this"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn ids() -> (EventId, EventId, ParticipantId, ParticipantId) {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        (
            EventId::new_at(t),
            EventId::new_at(t),
            ParticipantId::new_at(t),
            ParticipantId::new_at(t),
        )
    }

    #[test]
    fn x2_other_event_is_not_found_same_event_other_participant_is_forbidden() {
        let (ev, other_ev, me, them) = ids();
        let admin = AdminId::new("alice").unwrap();
        let org = Actor::organizer(admin.clone(), ev);
        let foreign_org = Actor::organizer(admin, other_ev);
        let part = Actor::participant(me, ev);

        assert!(require_staff(&org, ev, "task", "t").is_ok());
        assert!(require_staff(&Actor::System, ev, "task", "t").is_ok());
        assert!(matches!(
            require_staff(&foreign_org, ev, "task", "t"),
            Err(Error::NotFound { entity: "task", .. })
        ));
        assert!(matches!(
            require_staff(&part, ev, "task", "t"),
            Err(Error::Forbidden { .. })
        ));
        assert!(require_self_or_staff(&part, ev, me).is_ok());
        assert!(matches!(
            require_self_or_staff(&part, ev, them),
            Err(Error::Forbidden { .. })
        ));
        assert!(matches!(
            require_self_or_staff(&Actor::participant(me, other_ev), ev, me),
            Err(Error::NotFound { .. })
        ));
        assert_eq!(require_participant(&part, ev).unwrap(), me);
        assert!(matches!(
            require_participant(&org, ev),
            Err(Error::Forbidden { .. })
        ));
    }
}
