//! The participant: profile (R1), status (R2), UTM (R3), custom fields (R4), the host's id
//! for them, and collaborators (participants linked to an owner).

mod facts;
mod patch;
pub(crate) mod team;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use facts::FactKind;
pub use facts::{CountedFact, Facts, Stamped};
pub use patch::{ParticipantPatch, ProfilePatch, StatusPatch, UtmPatch};

use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::event::EventSettings;
use crate::ids::{EventId, ExternalId, ParticipantId};
use crate::text::{self, Language};

/// A participant of an event, as the library keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// The library's id.
    pub id: ParticipantId,
    /// Their event.
    pub event: EventId,
    /// The host's own id for them, unique per event.
    pub external_id: ExternalId,
    /// Personal details (R1).
    pub profile: Profile,
    /// Status (R2).
    pub status: Status,
    /// UTM values captured at registration (R3).
    pub utm: Utm,
    /// Organizer-defined fields (R4), by key. Never shown to the participant.
    pub custom_fields: BTreeMap<String, String>,
    /// Networking interests and preferences (R11); whether networking is allowed is the
    /// R2 status ([`Status::networking`]).
    #[serde(default)]
    pub networking: NetworkingProfile,
    /// For a collaborator: the participant whose team they belong to.
    pub owner: Option<ParticipantId>,
    /// Their browsers' web push subscriptions (N4), registered and removed through the
    /// service; kept out of the history (an endpoint is a capability).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub push_subscriptions: Vec<crate::notify::PushSubscription>,
    /// Their own choices about the messages they get (N8).
    #[serde(default, skip_serializing_if = "crate::notify::Preferences::is_unset")]
    pub notifications: crate::notify::Preferences,
    /// When the library first recorded them.
    pub registered_at: DateTime<Utc>,
    /// When their personal data was erased (X6), if it was: their progress is then frozen
    /// as it stood, and nothing is queued for them any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
    /// The version of what a record form edits (X8): profile, status, UTM, custom fields
    /// and networking. It moves only when one of them changes, not with every fact or
    /// completion, so a caller can pass the one it read
    /// ([`ParticipantPatch::if_version`]) and a stale save is refused.
    #[serde(default)]
    pub record_version: u64,
}

/// What an erased history value becomes (X6).
pub(crate) const ERASED: &str = "[erased]";

impl Participant {
    /// Replaces their personal data (X6): details, UTM, custom fields, networking, the
    /// discount code and push subscriptions go; the external id becomes
    /// `erased-<participant id>` (still unique). What the tasks and figures need is kept:
    /// categories, language, registration, participation, attendance, team membership.
    pub fn erase(&mut self, at: DateTime<Utc>) {
        self.profile = Profile::default();
        self.utm = Utm::default();
        self.custom_fields.clear();
        self.networking = NetworkingProfile::default();
        self.push_subscriptions.clear();
        self.status.discount_code = None;
        if let Ok(id) = ExternalId::new(format!("erased-{}", self.id)) {
            self.external_id = id;
        }
        self.erased_at = Some(at);
    }

    /// Whether a history field holds personal data that erasure removes (X6).
    pub fn is_personal_field(field: &str) -> bool {
        [
            "profile",
            "external_id",
            "utm",
            "custom_fields",
            "networking",
            "push_subscriptions",
            "status.discount_code",
        ]
        .iter()
        .any(|p| crate::history::is_under(field, p))
    }

    /// The view a participant may read of themselves: without custom fields (R4, X2).
    pub fn without_custom_fields(mut self) -> Self {
        self.custom_fields.clear();
        self
    }

    /// What `reader` may read of this record (R4, X2): everything for the event's staff,
    /// no custom fields for anyone else. Who may read it at all is checked before.
    pub fn read_by(self, reader: &Actor) -> Self {
        if reader.is_staff_of(self.event) {
            self
        } else {
            self.without_custom_fields()
        }
    }
}

/// Networking interests and preferences (R11), as keys the host defines (`ai`, `retail`,
/// `one_to_one_meetings`…): at most 50 of each, each a key of up to 100 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkingProfile {
    /// Fields of interest.
    pub interests: std::collections::BTreeSet<String>,
    /// How they like to network (meeting kinds, languages, times…).
    pub preferences: std::collections::BTreeSet<String>,
}

impl NetworkingProfile {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.interests.is_empty() && self.preferences.is_empty()
    }

    /// Checks the keys; fields are named `networking.interests` and
    /// `networking.preferences`.
    pub fn validate(&self) -> Result<()> {
        for (field, keys) in [
            ("networking.interests", &self.interests),
            ("networking.preferences", &self.preferences),
        ] {
            if keys.len() > 50 {
                return Err(Error::invalid(field, "at most 50"));
            }
            for k in keys {
                if k.len() > 100 {
                    return Err(Error::invalid(field, "a key is at most 100 characters"));
                }
                crate::text::key(field, k)?;
            }
        }
        Ok(())
    }
}

/// Personal details (R1). Every field is optional; texts are bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Company.
    pub company: String,
    /// Job title.
    pub job_title: String,
    /// Email address.
    pub email: Option<String>,
    /// A description of the participant.
    pub description: String,
    /// Their web site.
    pub website: Option<String>,
    /// Links to their social networks.
    pub social_links: Vec<String>,
    /// Their handle in the host's chat, where chat notifications reach them (N4).
    pub chat_handle: Option<String>,
}

impl Profile {
    /// Checks the profile; the error names the field.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("profile.first_name", &self.first_name),
            ("profile.last_name", &self.last_name),
            ("profile.company", &self.company),
            ("profile.job_title", &self.job_title),
        ] {
            text::bounded_text(field, value, 200)?;
        }
        text::bounded_lines("profile.description", &self.description, 10_000)?;
        if let Some(email) = &self.email {
            validate_email(email)?;
        }
        if let Some(site) = &self.website {
            text::web_url("profile.website", site)?;
        }
        if self.social_links.len() > 20 {
            return Err(Error::invalid("profile.social_links", "at most 20 links"));
        }
        for (i, link) in self.social_links.iter().enumerate() {
            text::web_url(&format!("profile.social_links[{i}]"), link)?;
        }
        if let Some(handle) = &self.chat_handle {
            text::required_text("profile.chat_handle", handle, 200)?;
        }
        Ok(())
    }

    /// "First Last", or the email, or an empty string.
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            self.email.clone().unwrap_or_default()
        } else {
            name.to_owned()
        }
    }
}

fn validate_email(email: &str) -> Result<()> {
    text::email_address("profile.email", email)
}

/// Registration status (R2).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Registered.
    #[default]
    Registered,
    /// Registration refused.
    Refused,
    /// Not registered (an account without a registration).
    NotRegistered,
}

/// How the participant intends to take part (R2).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ParticipationMode {
    /// Online.
    Online,
    /// In person.
    InPerson,
    /// Not given.
    #[default]
    Unknown,
}

/// Attendance (R2).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    /// Present (without saying how).
    Present,
    /// Present in person.
    PresentInPerson,
    /// Present online.
    PresentOnline,
    /// Absent, or not yet seen.
    #[default]
    Absent,
}

/// Whether the participant accepts networking (R2).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Networking {
    /// Allowed.
    Allowed,
    /// Not allowed.
    NotAllowed,
    /// Not given.
    #[default]
    Unknown,
}

/// Status (R2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    /// Participant categories (exhibitor, speaker, visitor…), as the organizer names them.
    pub categories: BTreeSet<String>,
    /// Their language; `None` uses the event's default.
    pub language: Option<Language>,
    /// Their time zone, in which their messages show deadlines (N9); `None` uses the
    /// event's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<chrono_tz::Tz>,
    /// Registration status.
    pub registration: RegistrationStatus,
    /// Participation mode.
    pub participation: ParticipationMode,
    /// Attendance.
    pub attendance: Attendance,
    /// Networking.
    pub networking: Networking,
    /// The discount code given at registration.
    pub discount_code: Option<String>,
}

impl Status {
    /// Checks the status against the event's settings.
    pub fn validate(&self, settings: &EventSettings) -> Result<()> {
        if self.categories.len() > 50 {
            return Err(Error::invalid("status.categories", "at most 50 categories"));
        }
        for c in &self.categories {
            text::required_text("status.categories", c, 100)?;
        }
        if let Some(l) = &self.language
            && !settings.languages.contains(l)
        {
            return Err(Error::invalid(
                "status.language",
                format!("{l} is not one of the event's languages"),
            ));
        }
        if let Some(code) = &self.discount_code {
            text::required_text("status.discount_code", code, 100)?;
        }
        Ok(())
    }
}

/// UTM values captured at registration (R3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Utm {
    /// utm_source.
    pub source: Option<String>,
    /// utm_medium.
    pub medium: Option<String>,
    /// utm_campaign.
    pub campaign: Option<String>,
    /// utm_term.
    pub term: Option<String>,
    /// utm_content.
    pub content: Option<String>,
}

/// One of the UTM fields, for segment rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UtmField {
    /// utm_source.
    Source,
    /// utm_medium.
    Medium,
    /// utm_campaign.
    Campaign,
    /// utm_term.
    Term,
    /// utm_content.
    Content,
}

impl Utm {
    /// The value of one field.
    pub fn get(&self, field: UtmField) -> Option<&str> {
        match field {
            UtmField::Source => self.source.as_deref(),
            UtmField::Medium => self.medium.as_deref(),
            UtmField::Campaign => self.campaign.as_deref(),
            UtmField::Term => self.term.as_deref(),
            UtmField::Content => self.content.as_deref(),
        }
    }

    /// Checks the values: at most 500 characters each.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("utm.source", &self.source),
            ("utm.medium", &self.medium),
            ("utm.campaign", &self.campaign),
            ("utm.term", &self.term),
            ("utm.content", &self.content),
        ] {
            if let Some(v) = value {
                text::bounded_text(field, v, 500)?;
            }
        }
        Ok(())
    }
}

/// What the organizer (or the host) gives to register a participant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewParticipant {
    /// The host's own id for them, unique per event.
    pub external_id: ExternalId,
    /// Personal details.
    #[serde(default)]
    pub profile: Profile,
    /// Status.
    #[serde(default)]
    pub status: Status,
    /// UTM values.
    #[serde(default)]
    pub utm: Utm,
    /// Custom field values, by key; every key must be defined by the event.
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

impl NewParticipant {
    /// A participant with only the host's id; fill in the rest with the fields.
    pub fn new(external_id: ExternalId) -> Self {
        Self {
            external_id,
            profile: Profile::default(),
            status: Status::default(),
            utm: Utm::default(),
            custom_fields: BTreeMap::new(),
        }
    }
}

/// Checks custom field values against the event's definitions.
pub(crate) fn validate_custom_fields<'a>(
    settings: &EventSettings,
    values: impl IntoIterator<Item = (&'a String, Option<&'a String>)>,
) -> Result<()> {
    for (key, value) in values {
        if !settings.custom_fields.contains_key(key) {
            return Err(Error::invalid(
                format!("custom_fields.{key}"),
                "no such custom field is defined for the event",
            ));
        }
        if let Some(v) = value {
            text::bounded_lines(&format!("custom_fields.{key}"), v, 10_000)?;
        }
    }
    Ok(())
}

impl NewParticipant {
    /// Checks everything against the event's settings.
    pub fn validate(&self, settings: &EventSettings) -> Result<()> {
        self.profile.validate()?;
        self.status.validate(settings)?;
        self.utm.validate()?;
        validate_custom_fields(
            settings,
            self.custom_fields.iter().map(|(k, v)| (k, Some(v))),
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    /// R4, X2: custom fields are read by the event's staff only, not by the participant
    /// themselves nor by another event's organizers.
    #[test]
    fn r4_custom_fields_are_read_by_staff_only() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let p = Participant {
            id: ParticipantId::new_at(at),
            event: EventId::new_at(at),
            external_id: ExternalId::new("p").unwrap(),
            profile: Profile::default(),
            status: Status::default(),
            utm: Utm::default(),
            custom_fields: [("booth".to_owned(), "B12".to_owned())].into(),
            networking: NetworkingProfile::default(),
            owner: None,
            push_subscriptions: Vec::new(),
            notifications: Default::default(),
            registered_at: at,
            erased_at: None,
            record_version: 0,
        };
        let admin = |event| Actor::organizer(crate::ids::AdminId::new("alice").unwrap(), event);
        let elsewhere = EventId::new_at(DateTime::from_timestamp(1_900_000_000, 0).unwrap());
        assert_eq!(p.clone().read_by(&admin(p.event)).custom_fields.len(), 1);
        assert!(
            p.clone()
                .read_by(&Actor::participant(p.id, p.event))
                .custom_fields
                .is_empty()
        );
        assert!(p.read_by(&admin(elsewhere)).custom_fields.is_empty());
    }
}
