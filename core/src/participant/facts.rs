//! Facts the host reports about a participant (T4), and what the participant does on the
//! platform that the library keeps with them (activity, sessions, meetings), kept so that delivery order does not
//! matter: on/off facts keep their latest occurrence; counted facts are sets of the host's
//! object ids, each keeping its latest occurrence, so adding and removing commute and a
//! repeat is a no-op. On a tie (two occurrences at the same instant) the withdrawal wins,
//! so the outcome never depends on the order of delivery.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ExternalId, MeetingId};
use crate::message::Unread;
use crate::session::{Meeting, SessionRegistration};

/// A value with the instant it occurred at, on the host's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped<T> {
    /// The value.
    pub value: T,
    /// When it occurred.
    pub at: DateTime<Utc>,
}

/// Orders occurrences at the same instant: the smaller rank wins a tie.
trait TieRank {
    fn tie_rank(&self) -> (u8, Option<&str>);
}

impl TieRank for bool {
    fn tie_rank(&self) -> (u8, Option<&str>) {
        (u8::from(*self), None)
    }
}

impl TieRank for Option<String> {
    fn tie_rank(&self) -> (u8, Option<&str>) {
        match self {
            None => (0, None),
            Some(v) => (1, Some(v.as_str())),
        }
    }
}

/// Keeps `new` in `slot` if it is the latest occurrence. Returns whether `slot` changed.
fn keep_latest<T: TieRank + PartialEq>(slot: &mut Option<Stamped<T>>, new: Stamped<T>) -> bool {
    let wins = match slot {
        None => true,
        Some(old) => {
            new.at > old.at || (new.at == old.at && new.value.tie_rank() < old.value.tie_rank())
        }
    };
    if wins && slot.as_ref() != Some(&new) {
        *slot = Some(new);
        true
    } else {
        false
    }
}

/// A counted fact: the set of the host's object ids, each with its latest occurrence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CountedFact(BTreeMap<ExternalId, Stamped<bool>>);

impl CountedFact {
    /// Renames an object, keeping its occurrence (a collaborator's external id replaced
    /// by erasure, X6).
    pub fn rename(&mut self, from: &ExternalId, to: ExternalId) {
        if let Some(stamped) = self.0.remove(from) {
            self.0.insert(to, stamped);
        }
    }

    /// Records that `object` was added (`present`) or removed at `at`. Returns whether the
    /// fact changed.
    pub fn record(&mut self, object: ExternalId, present: bool, at: DateTime<Utc>) -> bool {
        let mut slot = self.0.remove(&object);
        let changed = keep_latest(&mut slot, Stamped { value: present, at });
        if let Some(s) = slot {
            self.0.insert(object, s);
        }
        changed
    }

    /// How many objects are present.
    pub fn count(&self) -> usize {
        self.0.values().filter(|s| s.value).count()
    }

    /// Whether `object` is present.
    pub fn contains(&self, object: &ExternalId) -> bool {
        self.0.get(object).is_some_and(|s| s.value)
    }

    /// The present objects.
    pub fn present(&self) -> impl Iterator<Item = &ExternalId> {
        self.0.iter().filter(|(_, s)| s.value).map(|(k, _)| k)
    }
}

/// A kind of fact: what a host fact changes and what a condition reads (T4). Ingest
/// re-evaluates only the automatic tasks whose condition reads a kind its facts changed, and
/// loads only those tasks' rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum FactKind {
    /// [`Facts::logo`].
    Logo,
    /// [`Facts::collaborators`].
    Collaborators,
    /// [`Facts::products`].
    Products,
    /// [`Facts::invitations`].
    Invitations,
    /// [`Facts::sessions`].
    Sessions,
    /// [`Facts::forms`].
    Forms,
    /// [`Facts::fields`].
    Fields,
}

/// Everything the host reported about one participant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Facts {
    /// Whether a logo is uploaded.
    pub logo: Option<Stamped<bool>>,
    /// Collaborators, by the host's id (a collaborator linked through the service counts
    /// here under their `external_id`).
    pub collaborators: CountedFact,
    /// Products, by the host's id.
    pub products: CountedFact,
    /// Invitations sent, by the host's id.
    pub invitations: CountedFact,
    /// Forms completed, by the host's form key.
    pub forms: BTreeMap<String, Stamped<bool>>,
    /// Profile fields filled, by key, with their value (`None`: cleared).
    pub fields: BTreeMap<String, Stamped<Option<String>>>,
    /// When the participant was last seen active on the site or the app (R13), from the
    /// host's pings; written at most once per half "active" threshold
    /// ([`OnlineStatus`](crate::OnlineStatus)). `None`: never connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
    /// Sessions the participant registered to or attended (R8), by the host's session id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sessions: BTreeMap<ExternalId, SessionRegistration>,
    /// Meetings the participant booked or received (R9), by id; each is kept with both
    /// participants.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub meetings: BTreeMap<MeetingId, Meeting>,
    /// The unread counts of their message thread with the organizers (R7).
    #[serde(skip_serializing_if = "Unread::is_zero")]
    pub unread: Unread,
}

impl Facts {
    /// Records the logo as uploaded or removed at `at`. Returns whether anything changed.
    pub fn record_logo(&mut self, uploaded: bool, at: DateTime<Utc>) -> bool {
        keep_latest(
            &mut self.logo,
            Stamped {
                value: uploaded,
                at,
            },
        )
    }

    /// Records a form as completed (or not) at `at`.
    pub fn record_form(&mut self, form: &str, completed: bool, at: DateTime<Utc>) -> bool {
        let mut slot = self.forms.remove(form);
        let changed = keep_latest(
            &mut slot,
            Stamped {
                value: completed,
                at,
            },
        );
        if let Some(s) = slot {
            self.forms.insert(form.to_owned(), s);
        }
        changed
    }

    /// Records a field's value (or its clearing, with `None`) at `at`.
    pub fn record_field(&mut self, field: &str, value: Option<String>, at: DateTime<Utc>) -> bool {
        let mut slot = self.fields.remove(field);
        let changed = keep_latest(&mut slot, Stamped { value, at });
        if let Some(s) = slot {
            self.fields.insert(field.to_owned(), s);
        }
        changed
    }

    /// Removes what may be personal (X6): the values of profile fields the host reported
    /// (kept as filled, so frozen progress still reads the same), the last-seen time, and
    /// the places of meetings (free text).
    pub fn erase(&mut self) {
        for stamped in self.fields.values_mut() {
            if stamped.value.is_some() {
                stamped.value = Some(super::ERASED.to_owned());
            }
        }
        self.last_seen = None;
        for m in self.meetings.values_mut() {
            m.place = None;
        }
    }

    /// How many sessions the participant is registered to now.
    pub fn registered_sessions(&self) -> usize {
        self.sessions.values().filter(|r| r.registered).count()
    }

    /// Whether the logo is uploaded.
    pub fn has_logo(&self) -> bool {
        self.logo.as_ref().is_some_and(|s| s.value)
    }

    /// Whether form `form` is completed.
    pub fn form_completed(&self, form: &str) -> bool {
        self.forms.get(form).is_some_and(|s| s.value)
    }

    /// The current value of field `field`, if filled.
    pub fn field(&self, field: &str) -> Option<&str> {
        self.fields
            .get(field)
            .and_then(|s| s.value.as_deref())
            .filter(|v| !v.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn t4_on_off_fact_takes_latest_whatever_the_order() {
        let mut a = Facts::default();
        a.record_logo(true, t(1));
        a.record_logo(false, t(2));
        let mut b = Facts::default();
        b.record_logo(false, t(2));
        assert!(!b.record_logo(true, t(1)));
        assert_eq!(a, b);
        assert!(!a.has_logo());
    }

    #[test]
    fn t4_counted_fact_commutes_and_repeats_are_no_ops() {
        let p = |s: &str| ExternalId::new(s).unwrap();
        let ops = [
            (p("a"), true, t(1)),
            (p("b"), true, t(2)),
            (p("a"), false, t(3)),
            (p("a"), true, t(3)),
        ];
        let mut forward = CountedFact::default();
        for (o, present, at) in ops.iter().cloned() {
            forward.record(o, present, at);
        }
        let mut backward = CountedFact::default();
        for (o, present, at) in ops.iter().rev().cloned() {
            backward.record(o, present, at);
        }
        assert_eq!(forward, backward);
        assert_eq!(forward.count(), 1, "tie at t3: the removal wins");
        assert!(
            !forward.record(p("b"), true, t(2)),
            "a repeat changes nothing"
        );
    }
}
