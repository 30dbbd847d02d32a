//! Identifiers: newtypes over UUID v7, minted from the [`Clock`](crate::Clock)'s time so that
//! ids and timestamps agree under a test clock, and so that keys written close together in
//! time land close together in the stores' B-trees.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::{ContextV7, Timestamp, Uuid};

use crate::error::Error;

/// One shared v7 context, so ids minted in the same millisecond stay strictly ordered.
static CONTEXT: Mutex<ContextV7> = Mutex::new(ContextV7::new());

/// Mints a UUID v7 whose timestamp is `at`.
pub(crate) fn uuid_v7_at(at: DateTime<Utc>) -> Uuid {
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    let nanos = at.timestamp_subsec_nanos();
    let ctx = CONTEXT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Uuid::new_v7(Timestamp::from_unix(&*ctx, secs, nanos))
}

/// A UUID v7 whose 48-bit timestamp is exactly `at`'s millisecond (no monotonic
/// adjustment: the shared context moves a past time forwards) and whose 74 other free bits
/// are the low 74 bits of `value`, in order (the version and variant bits sit beside them,
/// so ids of one millisecond sort as their values).
pub(crate) fn uuid_v7_exact(at: DateTime<Utc>, value: u128) -> Uuid {
    // Saturated to what 48 bits hold (1970 to the year 10889), so a bound outside stays
    // a bound instead of wrapping around.
    let millis = u128::from(u64::try_from(at.timestamp_millis()).unwrap_or(0)).min((1 << 48) - 1);
    let value = value & ((1 << 74) - 1);
    let rand_a = value >> 62;
    let rand_b = value & ((1 << 62) - 1);
    Uuid::from_u128((millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)
}

/// The next value of a process-wide sequence that starts at a random point, so ids made
/// from it are ordered within the process and unlikely to meet another process's.
pub(crate) fn next_sequence() -> u64 {
    static SEQUENCE: std::sync::LazyLock<std::sync::atomic::AtomicU64> =
        std::sync::LazyLock::new(|| std::sync::atomic::AtomicU64::new(random_u64() >> 1));
    SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// 64 random bits (from a context-free UUID v7's random part), for jitter.
pub(crate) fn random_u64() -> u64 {
    let uuid = Uuid::new_v7(Timestamp::from_unix(uuid::NoContext, 0, 0));
    uuid.as_u128() as u64
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $entity:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// The name of the entity, as used in errors.
            pub const ENTITY: &'static str = $entity;

            /// Mints a new, time-ordered id for the instant `at` (take it from the clock).
            pub fn new_at(at: DateTime<Utc>) -> Self {
                Self(uuid_v7_at(at))
            }

            /// Wraps an existing UUID (as read back from a store).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// The smallest id: a cursor that starts before every other id.
            pub const fn min() -> Self {
                Self(Uuid::nil())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|e| Error::invalid($entity, format!("not a UUID: {e}")))
            }
        }
    };
}

uuid_id!(
    /// An event (a trade show, a conference): the scope of everything else (X1).
    EventId, "event"
);
uuid_id!(
    /// A task configured by an organizer (T1).
    TaskId, "task"
);
uuid_id!(
    /// A participant of one event (exhibitor, speaker, visitor, collaborator).
    ParticipantId, "participant"
);
uuid_id!(
    /// A segment: a rule over participant attributes (S1).
    SegmentId, "segment"
);
uuid_id!(
    /// An entry of the notification outbox (N5).
    OutboxId, "outbox entry"
);
uuid_id!(
    /// An entry of a participant's timeline (R5).
    TimelineId, "timeline entry"
);
uuid_id!(
    /// A line of history: one changed field (R12, T2).
    HistoryId, "history entry"
);
/// Ids whose timestamp is exactly the time of what they name (timeline entries, history
/// lines), so a date range is a key range.
macro_rules! time_exact_id {
    ($name:ident) => {
        impl $name {
            /// An id for something that happened at `at`, whatever the ids made before it:
            /// its timestamp is `at` to the millisecond, so key order is the order in which
            /// things happened, even for what is reported late (R5, R12). Ids of one
            /// millisecond made by one process follow the order they were made in.
            pub fn happened_at(at: DateTime<Utc>) -> Self {
                let value = (u128::from(next_sequence()) << 10) | u128::from(random_u64() & 0x3ff);
                Self(uuid_v7_exact(at, value))
            }

            /// The lowest id of `at`'s millisecond: a lower bound for "from".
            pub fn lowest_at(at: DateTime<Utc>) -> Self {
                Self(uuid_v7_exact(at, 0))
            }

            /// The highest id of `at`'s millisecond: an upper bound for "until".
            pub fn highest_at(at: DateTime<Utc>) -> Self {
                Self(uuid_v7_exact(at, u128::MAX))
            }

            /// The id just above every id of `at`'s millisecond: an exclusive upper bound
            /// for "until `at`, inclusive".
            pub fn after_millisecond(at: DateTime<Utc>) -> Self {
                Self(Uuid::from_u128(
                    Self::highest_at(at).as_uuid().as_u128().saturating_add(1),
                ))
            }
        }
    };
}
time_exact_id!(TimelineId);
time_exact_id!(HistoryId);

uuid_id!(
    /// A message between the organizers and a participant (R7).
    MessageId, "message"
);
uuid_id!(
    /// A meeting between two participants (R9).
    MeetingId, "meeting"
);
uuid_id!(
    /// A paged piece of work over an event's participants (publishing, re-evaluation).
    SweepId, "sweep"
);

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Longest accepted id, in bytes.
            pub const MAX_LEN: usize = $max;

            /// Validates an id: not empty, no surrounding white space, at most
            #[doc = concat!(stringify!($max), " bytes, no control characters.")]
            pub fn new(id: impl Into<String>) -> Result<Self, Error> {
                let id = id.into();
                if id.is_empty() {
                    return Err(Error::invalid($field, "must not be empty"));
                }
                if id.len() > Self::MAX_LEN {
                    return Err(Error::invalid(
                        $field,
                        format!("must be at most {} bytes", Self::MAX_LEN),
                    ));
                }
                if id.trim() != id {
                    return Err(Error::invalid($field, "must not start or end with white space"));
                }
                if id.chars().any(char::is_control) {
                    return Err(Error::invalid($field, "must not contain control characters"));
                }
                Ok(Self(id))
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

string_id!(
    /// The host's own id for a host event (X3): opaque, unique per event. The same id
    /// delivered twice changes nothing the second time.
    HostEventId, "host_event.id", 200
);
string_id!(
    /// The host's own id for a participant, or for an object the host counts (a product, an
    /// invitation, a collaborator): opaque, unique per event.
    ExternalId, "external_id", 200
);
string_id!(
    /// The id of an organizer (an administrator of the host), recorded in histories.
    AdminId, "admin", 200
);

/// A participant as the host names them in a report: by the library's id, or by the
/// host's own id for them ([`ExternalId`]), so a host need not look the library's id up
/// before every report.
///
/// In JSON the library's id is a plain string and the host's is an object:
/// `"participant": "0192…"` or `"participant": {"external_id": "crm-42"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParticipantRef {
    /// The library's id.
    Id(ParticipantId),
    /// The host's id for them.
    External(ExternalId),
}

impl From<ParticipantId> for ParticipantRef {
    fn from(id: ParticipantId) -> Self {
        Self::Id(id)
    }
}

impl From<ExternalId> for ParticipantRef {
    fn from(id: ExternalId) -> Self {
        Self::External(id)
    }
}

impl fmt::Display for ParticipantRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::External(id) => write!(f, "external_id {id}"),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ParticipantRefRepr {
    Id(ParticipantId),
    External { external_id: ExternalId },
}

impl Serialize for ParticipantRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Id(id) => ParticipantRefRepr::Id(*id),
            Self::External(e) => ParticipantRefRepr::External {
                external_id: e.clone(),
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ParticipantRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match ParticipantRefRepr::deserialize(d)? {
            ParticipantRefRepr::Id(id) => Self::Id(id),
            ParticipantRefRepr::External { external_id } => Self::External(external_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_minted_at_the_same_instant_are_ordered() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let ids: Vec<TaskId> = (0..100).map(|_| TaskId::new_at(at)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let later = TaskId::new_at(at + chrono::Duration::milliseconds(1));
        assert!(later > ids[99]);
    }

    #[test]
    fn id_round_trips_through_display_and_serde() {
        let id = ParticipantId::new_at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(id.to_string().parse::<ParticipantId>().unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ParticipantId>(&json).unwrap(), id);
        let err = "nope".parse::<ParticipantId>().unwrap_err();
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "participant"));
    }

    #[test]
    fn string_ids_are_validated() {
        assert!(HostEventId::new("evt-1").is_ok());
        assert!(HostEventId::new("").is_err());
        assert!(HostEventId::new(" x").is_err());
        assert!(HostEventId::new("a\nb").is_err());
        assert!(HostEventId::new("x".repeat(201)).is_err());
        assert!(serde_json::from_str::<ExternalId>("\"\"").is_err());
    }

    #[test]
    fn participant_refs_round_trip() {
        let id = ParticipantId::new_at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        for r in [
            ParticipantRef::from(id),
            ParticipantRef::from(ExternalId::new("crm-42").unwrap()),
        ] {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<ParticipantRef>(&json).unwrap(), r);
        }
        let by_host: ParticipantRef = serde_json::from_str(r#"{"external_id":"crm-42"}"#).unwrap();
        assert_eq!(
            by_host,
            ParticipantRef::External(ExternalId::new("crm-42").unwrap())
        );
        assert!(serde_json::from_str::<ParticipantRef>(r#"{"external_id":""}"#).is_err());
        assert!(serde_json::from_str::<ParticipantRef>(r#""crm-42""#).is_err());
    }
}
