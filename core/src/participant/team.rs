//! Teams (P4): an owner and their collaborators, one level deep; who may join, leave,
//! and hold one of the owner's tasks. Pure.

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

/// Checks that `c` may leave `owner`'s team: `State` when `c` is not one of the owner's
/// collaborators.
pub(crate) fn check_can_unlink(owner: ParticipantId, c: &Participant) -> Result<()> {
    if c.owner != Some(owner) {
        return Err(Error::state(
            ParticipantId::ENTITY,
            c.id,
            "is not a collaborator of this participant",
        ));
    }
    Ok(())
}

/// Checks that one of `owner`'s tasks may be handed to `assignee` (P4): only a
/// collaborator of the owner's team may hold it. Anyone else is `Forbidden` (X2: whom a
/// task may be handed to is a matter of who may act).
pub(crate) fn check_can_assign(owner: ParticipantId, assignee: &Participant) -> Result<()> {
    if assignee.owner != Some(owner) {
        return Err(Error::forbidden(
            "the assignee is not one of the owner's collaborators",
        ));
    }
    Ok(())
}

/// A change to an owner's team (P4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TeamChange {
    /// The collaborator joins the owner's team (if [`check_can_link`] allows it).
    Link,
    /// The collaborator leaves it; the owner's tasks they held return to the owner.
    Unlink,
}

/// What the owner's team must do for `c` to match the facts, where `present` says
/// whether the owner's collaborators (as the host reports them) include `c`: join when
/// present and not in the team yet, leave when absent and in it, else nothing.
pub(crate) fn team_change(
    owner: ParticipantId,
    c: &Participant,
    present: bool,
) -> Option<TeamChange> {
    let member = c.owner == Some(owner);
    match (present, member) {
        (true, false) => Some(TeamChange::Link),
        (false, true) => Some(TeamChange::Unlink),
        _ => None,
    }
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
            notifications: Default::default(),
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

    #[derive(Debug, PartialEq)]
    enum Kind {
        Ok,
        Forbidden,
        State,
    }

    fn kind(r: Result<()>) -> Kind {
        match r {
            Ok(()) => Kind::Ok,
            Err(Error::Forbidden { .. }) => Kind::Forbidden,
            Err(Error::State { entity, .. }) => {
                assert_eq!(entity, ParticipantId::ENTITY);
                Kind::State
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    /// P4, X2: only a member of the owner's team holds or leaves it.
    #[test]
    fn p4_who_may_hold_a_task_and_leave_the_team() {
        let owner = person(1, None);
        let other_owner = person(2, None);
        let member = person(3, Some(owner.id));
        let elsewhere = person(4, Some(other_owner.id));
        let loner = person(5, None);
        // (the one named, may hold a task, may leave the team)
        let table: Vec<(&Participant, Kind, Kind)> = vec![
            (&member, Kind::Ok, Kind::Ok),
            (&elsewhere, Kind::Forbidden, Kind::State),
            (&loner, Kind::Forbidden, Kind::State),
            (&owner, Kind::Forbidden, Kind::State),
        ];
        for (c, assign, unlink) in table {
            let case = &c.external_id;
            assert_eq!(kind(check_can_assign(owner.id, c)), assign, "{case:?}");
            assert_eq!(kind(check_can_unlink(owner.id, c)), unlink, "{case:?}");
        }
    }

    /// P4, X3: what a reported collaborator fact asks of the team.
    #[test]
    fn p4_a_collaborator_fact_links_or_unlinks() {
        let owner = person(1, None);
        let other_owner = person(2, None);
        let member = person(3, Some(owner.id));
        let elsewhere = person(4, Some(other_owner.id));
        let loner = person(5, None);
        // (the collaborator named, reported present, what the team does)
        let table: Vec<(&Participant, bool, Option<TeamChange>)> = vec![
            (&loner, true, Some(TeamChange::Link)),
            (&elsewhere, true, Some(TeamChange::Link)),
            (&member, true, None),
            (&member, false, Some(TeamChange::Unlink)),
            (&loner, false, None),
            (&elsewhere, false, None),
        ];
        for (c, present, want) in table {
            let got = team_change(owner.id, c, present);
            assert_eq!(got, want, "{:?} present {present}", c.external_id);
        }
    }
}
