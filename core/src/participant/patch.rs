//! Changes to a participant's record, field by field (X8): only the fields a patch gives
//! change, and a caller may pass the record version it read so a stale save is refused.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{
    Attendance, Networking, NetworkingProfile, Participant, ParticipationMode, Profile,
    RegistrationStatus, Status, Utm, validate_custom_fields,
};
use crate::error::Result;
use crate::event::EventSettings;
use crate::text::Language;

/// A change to a participant's record (R1–R4, R11), field by field (X8): only the fields
/// given change, and the history gets one line per leaf field that really changed (R12).
/// A field left `None` keeps its value, whoever changed it meanwhile. For a field that may
/// be empty (`email`, `website`, …) `Some(None)` clears it; in JSON, `null` clears it and
/// leaving the key out keeps it.
///
/// To replace a whole part, convert it: `profile: profile.into()` sets every field of the
/// profile. To refuse to overwrite a change made since the record was read, pass the
/// [`Participant::record_version`] read in [`if_version`](Self::if_version), as an HTTP
/// `If-Match` would.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ParticipantPatch {
    /// Personal details to change.
    pub profile: ProfilePatch,
    /// Status fields to change.
    pub status: StatusPatch,
    /// UTM values to change.
    pub utm: UtmPatch,
    /// Custom field values to set (`Some`) or clear (`None`), by key.
    pub custom_fields: BTreeMap<String, Option<String>>,
    /// New networking interests and preferences (R11).
    pub networking: Option<NetworkingProfile>,
    /// The [`Participant::record_version`] the caller read: when given and the record has
    /// changed since, the save is refused with [`Error::Conflict`](crate::Error::Conflict) and nothing is written.
    /// `None` applies the fields given whatever changed meanwhile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub if_version: Option<u64>,
}

impl ParticipantPatch {
    /// Whether it names anything only an organizer may change (status, UTM, custom
    /// fields).
    pub fn is_staff_only(&self) -> bool {
        !self.status.is_empty() || !self.utm.is_empty() || !self.custom_fields.is_empty()
    }

    /// Sets the fields it gives on `record`, then checks each part it touched as a whole
    /// against the event's settings; the error names the field. On an error `record` may
    /// be half changed: apply to a copy.
    pub fn apply_to(&self, record: &mut Participant, settings: &EventSettings) -> Result<()> {
        if !self.profile.is_empty() {
            self.profile.apply(&mut record.profile);
            record.profile.validate()?;
        }
        if !self.status.is_empty() {
            self.status.apply(&mut record.status);
            record.status.validate(settings)?;
        }
        if !self.utm.is_empty() {
            self.utm.apply(&mut record.utm);
            record.utm.validate()?;
        }
        if let Some(n) = &self.networking {
            n.validate()?;
            record.networking = n.clone();
        }
        validate_custom_fields(
            settings,
            self.custom_fields.iter().map(|(k, v)| (k, v.as_ref())),
        )?;
        for (k, v) in &self.custom_fields {
            match v {
                Some(v) => record.custom_fields.insert(k.clone(), v.clone()),
                None => record.custom_fields.remove(k),
            };
        }
        Ok(())
    }
}

impl Participant {
    /// Whether what a record form edits differs between the two (X8: what moves
    /// [`Participant::record_version`]).
    pub fn record_differs(&self, other: &Participant) -> bool {
        self.profile != other.profile
            || self.status != other.status
            || self.utm != other.utm
            || self.custom_fields != other.custom_fields
            || self.networking != other.networking
    }
}

/// `Option<Option<T>>` from JSON: a key left out is `None` (keep), `null` is `Some(None)`
/// (clear), a value is `Some(Some(v))` (set).
fn double_option<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Declares a patch of `$target`: every field optional, `apply` setting the given ones,
/// `From<$target>` giving every field (a whole replacement).
macro_rules! patch {
    (
        $(#[$doc:meta])* $name:ident for $target:ident {
            $( $(#[$fdoc:meta])* $field:ident : $ty:ty => $($attr:meta)? ; )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct $name {
            $(
                $(#[$fdoc])*
                $( #[$attr] )?
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl $name {
            /// Whether it changes nothing.
            pub fn is_empty(&self) -> bool {
                true $( && self.$field.is_none() )*
            }

            /// Sets the fields it gives on `target`.
            pub fn apply(&self, target: &mut $target) {
                $(
                    if let Some(v) = &self.$field {
                        target.$field = v.clone();
                    }
                )*
            }
        }

        impl From<$target> for $name {
            fn from(whole: $target) -> Self {
                Self { $( $field: Some(whole.$field), )* }
            }
        }
    };
}

patch! {
    /// A change to some of a participant's personal details ([`Profile`]).
    ProfilePatch for Profile {
        /// First name.
        first_name: String => ;
        /// Last name.
        last_name: String => ;
        /// Company.
        company: String => ;
        /// Job title.
        job_title: String => ;
        /// Email address (`Some(None)` clears it).
        email: Option<String> => serde(deserialize_with = "double_option");
        /// Description.
        description: String => ;
        /// Web site (`Some(None)` clears it).
        website: Option<String> => serde(deserialize_with = "double_option");
        /// Social links, the whole list.
        social_links: Vec<String> => ;
        /// Chat handle (`Some(None)` clears it).
        chat_handle: Option<String> => serde(deserialize_with = "double_option");
    }
}

patch! {
    /// A change to some of a participant's status fields ([`Status`]).
    StatusPatch for Status {
        /// Categories, the whole set.
        categories: BTreeSet<String> => ;
        /// Language (`Some(None)`: the event's default).
        language: Option<Language> => serde(deserialize_with = "double_option");
        /// Time zone (`Some(None)`: the event's).
        time_zone: Option<chrono_tz::Tz> => serde(deserialize_with = "double_option");
        /// Registration status.
        registration: RegistrationStatus => ;
        /// Participation mode.
        participation: ParticipationMode => ;
        /// Attendance.
        attendance: Attendance => ;
        /// Networking.
        networking: Networking => ;
        /// Discount code (`Some(None)` clears it).
        discount_code: Option<String> => serde(deserialize_with = "double_option");
    }
}

patch! {
    /// A change to some of a participant's UTM values ([`Utm`]); `Some(None)` clears one.
    UtmPatch for Utm {
        /// utm_source.
        source: Option<String> => serde(deserialize_with = "double_option");
        /// utm_medium.
        medium: Option<String> => serde(deserialize_with = "double_option");
        /// utm_campaign.
        campaign: Option<String> => serde(deserialize_with = "double_option");
        /// utm_term.
        term: Option<String> => serde(deserialize_with = "double_option");
        /// utm_content.
        content: Option<String> => serde(deserialize_with = "double_option");
    }
}
