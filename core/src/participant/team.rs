//! Teams (P4): an owner and their collaborators, one level deep. Pure.

use super::Participant;
use crate::error::{Error, Result};
use crate::ids::ParticipantId;

/// Checks that `c` may join `owner`'s team; `c_has_team` says whether `c` has
/// collaborators of their own (teams are one level deep).
pub(crate) fn check_can_link(owner: &Participant, c: &Participant, c_has_team: bool) -> Result<()> {
    if owner.id == c.id {
        return Err(Error::invalid(
            "collaborator",
            "a participant cannot be their own collaborator",
        ));
    }
    // The rest is the teams as they stand now (one level deep): a state, not a value.
    if c_has_team {
        return Err(Error::state(
            ParticipantId::ENTITY,
            c.id,
            "has collaborators of their own; teams are one level deep",
        ));
    }
    if owner.owner.is_some() {
        return Err(Error::state(
            ParticipantId::ENTITY,
            owner.id,
            "is a collaborator; a collaborator cannot have collaborators of their own",
        ));
    }
    if let Some(other) = c.owner.filter(|x| *x != owner.id) {
        return Err(Error::state(
            ParticipantId::ENTITY,
            c.id,
            format!("is already a collaborator of participant {other}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::DateTime;

    use super::*;
    use crate::ids::{EventId, ExternalId};

    fn person(n: i64, owner: Option<ParticipantId>) -> Participant {
        let at = DateTime::from_timestamp(1_800_000_000 + n, 0).unwrap();
        Participant {
            id: ParticipantId::new_at(at),
            event: EventId::min(),
            external_id: ExternalId::new(format!("p{n}")).unwrap(),
            profile: Default::default(),
            status: Default::default(),
            utm: Default::default(),
            custom_fields: BTreeMap::new(),
            networking: Default::default(),
            owner,
            push_subscriptions: Vec::new(),
            registered_at: at,
            erased_at: None,
            record_version: 0,
        }
    }

    /// P4: who may join whose team, and the kind of each refusal (X5).
    #[test]
    fn p4_teams_are_one_level_deep() {
        let owner = person(1, None);
        let other_owner = person(2, None);
        let loner = person(3, None);
        let member = person(4, Some(owner.id));
        let elsewhere = person(5, Some(other_owner.id));
        let state = |r: Result<()>| matches!(r, Err(Error::State { .. }));
        assert!(check_can_link(&owner, &loner, false).is_ok());
        assert!(
            check_can_link(&owner, &member, false).is_ok(),
            "linking again is a no-op"
        );
        assert_eq!(
            check_can_link(&owner, &owner, false).unwrap_err().field(),
            Some("collaborator")
        );
        assert!(
            state(check_can_link(&owner, &loner, true)),
            "the collaborator owns a team"
        );
        assert!(
            state(check_can_link(&member, &loner, false)),
            "the owner is a collaborator"
        );
        assert!(
            state(check_can_link(&owner, &elsewhere, false)),
            "already in another team"
        );
    }
}
