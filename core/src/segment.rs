//! Segments (S1): rules over participant attributes, combined with all / any / not.
//! Membership is a pure function of the rule and the participant (S2).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::event::EventSettings;
use crate::ids::{EventId, ParticipantId, SegmentId};
use crate::participant::{
    Attendance, Networking, Participant, ParticipationMode, RegistrationStatus, UtmField,
};
use crate::text::{self, Language};

/// A named rule the organizer targets tasks at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Its id.
    pub id: SegmentId,
    /// Its event.
    pub event: EventId,
    /// Its name (1..=200 characters).
    pub name: String,
    /// Who is in it.
    pub rule: Rule,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Bumped by every write.
    pub version: u64,
}

/// A rule over participant attributes (S1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// Every participant.
    Everyone,
    /// Every sub-rule holds (an empty list holds).
    All {
        /// The sub-rules.
        rules: Vec<Rule>,
    },
    /// At least one sub-rule holds (an empty list does not).
    Any {
        /// The sub-rules.
        rules: Vec<Rule>,
    },
    /// The sub-rule does not hold.
    Not {
        /// The sub-rule.
        rule: Box<Rule>,
    },
    /// Has this category.
    Category {
        /// The category's name.
        category: String,
    },
    /// Has this registration status.
    Registration {
        /// The status.
        status: RegistrationStatus,
    },
    /// Has this participation mode.
    Participation {
        /// The mode.
        mode: ParticipationMode,
    },
    /// Has this attendance.
    Attendance {
        /// The attendance.
        attendance: Attendance,
    },
    /// Speaks this language (their own, or the event's default when they have none).
    Language {
        /// The language.
        language: Language,
    },
    /// Has this networking choice.
    Networking {
        /// The choice.
        networking: Networking,
    },
    /// A custom field is filled (`value: None`) or equals `value`.
    CustomField {
        /// The custom field's key; must be defined by the event.
        field: String,
        /// The value to match, or `None` for "filled".
        value: Option<String>,
    },
    /// A UTM field equals `value`.
    Utm {
        /// The UTM field.
        field: UtmField,
        /// The value to match.
        value: String,
    },
    /// An explicit list of participants.
    Members {
        /// The participants.
        members: BTreeSet<ParticipantId>,
    },
}

impl Rule {
    /// Deepest accepted nesting of all / any / not.
    pub const MAX_DEPTH: usize = 16;
    /// Most participants in an explicit member list. A longer list belongs in a category
    /// or a custom field the host sets, which every operation does not have to load.
    pub const MAX_MEMBERS: usize = 1_000;

    /// Shorthand for [`Rule::Category`].
    pub fn category(category: impl Into<String>) -> Self {
        Self::Category {
            category: category.into(),
        }
    }

    /// Shorthand for [`Rule::All`].
    pub fn all(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self::All {
            rules: rules.into_iter().collect(),
        }
    }

    /// Shorthand for [`Rule::Any`].
    pub fn any(rules: impl IntoIterator<Item = Rule>) -> Self {
        Self::Any {
            rules: rules.into_iter().collect(),
        }
    }

    /// Shorthand for [`Rule::Not`].
    pub fn negate(rule: Rule) -> Self {
        Self::Not {
            rule: Box::new(rule),
        }
    }

    /// Checks the rule against the event's settings (custom fields must exist, languages
    /// must be the event's). The error's field is a path inside the rule, under `rule`.
    /// The whole rule is at most [`STRUCTURED_BYTES`](crate::limits::STRUCTURED_BYTES)
    /// encoded (X7): depth and width alone would let a rule grow large enough to slow
    /// every operation of the event, which all load it.
    pub fn validate(&self, settings: &EventSettings) -> Result<()> {
        self.validate_at(settings, "rule", 0)?;
        crate::limits::encoded("rule", self, crate::limits::STRUCTURED_BYTES)
    }

    fn validate_at(&self, settings: &EventSettings, path: &str, depth: usize) -> Result<()> {
        if depth > Self::MAX_DEPTH {
            return Err(Error::invalid(
                path.to_owned(),
                format!("rules nest at most {} deep", Self::MAX_DEPTH),
            ));
        }
        match self {
            Rule::All { rules } | Rule::Any { rules } => {
                if rules.len() > 100 {
                    return Err(Error::invalid(
                        format!("{path}.rules"),
                        "at most 100 rules in one list",
                    ));
                }
                for (i, r) in rules.iter().enumerate() {
                    r.validate_at(settings, &format!("{path}.rules[{i}]"), depth + 1)?;
                }
            }
            Rule::Not { rule } => rule.validate_at(settings, &format!("{path}.rule"), depth + 1)?,
            Rule::Category { category } => {
                text::required_text(&format!("{path}.category"), category, 100)?;
            }
            Rule::Language { language } if !settings.languages.contains(language) => {
                return Err(Error::invalid(
                    format!("{path}.language"),
                    format!("{language} is not one of the event's languages"),
                ));
            }
            Rule::CustomField { field, value } => {
                if !settings.custom_fields.contains_key(field) {
                    return Err(Error::invalid(
                        format!("{path}.field"),
                        format!("no custom field {field:?} is defined for the event"),
                    ));
                }
                if let Some(v) = value {
                    text::bounded_lines(&format!("{path}.value"), v, 10_000)?;
                }
            }
            Rule::Utm { value, .. } => text::bounded_text(&format!("{path}.value"), value, 500)?,
            Rule::Members { members } if members.len() > Self::MAX_MEMBERS => {
                return Err(Error::invalid(
                    format!("{path}.members"),
                    format!("at most {} members", Self::MAX_MEMBERS),
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether the rule lists participants explicitly anywhere (such a rule only makes
    /// sense in its own event).
    pub fn names_members(&self) -> bool {
        match self {
            Rule::Members { .. } => true,
            Rule::All { rules } | Rule::Any { rules } => rules.iter().any(Rule::names_members),
            Rule::Not { rule } => rule.names_members(),
            _ => false,
        }
    }

    /// Whether `participant` is in the segment (S2). `settings` gives the default language.
    pub fn matches(&self, participant: &Participant, settings: &EventSettings) -> bool {
        let s = &participant.status;
        match self {
            Rule::Everyone => true,
            Rule::All { rules } => rules.iter().all(|r| r.matches(participant, settings)),
            Rule::Any { rules } => rules.iter().any(|r| r.matches(participant, settings)),
            Rule::Not { rule } => !rule.matches(participant, settings),
            Rule::Category { category } => s.categories.contains(category),
            Rule::Registration { status } => s.registration == *status,
            Rule::Participation { mode } => s.participation == *mode,
            Rule::Attendance { attendance } => s.attendance == *attendance,
            Rule::Language { language } => settings.language_for(s.language.as_ref()) == language,
            Rule::Networking { networking } => s.networking == *networking,
            Rule::CustomField { field, value } => {
                match (participant.custom_fields.get(field), value) {
                    (Some(v), None) => !v.trim().is_empty(),
                    (Some(v), Some(want)) => v == want,
                    (None, _) => false,
                }
            }
            Rule::Utm { field, value } => participant.utm.get(*field) == Some(value.as_str()),
            Rule::Members { members } => members.contains(&participant.id),
        }
    }
}

/// What an organizer gives to define or redefine a segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentDraft {
    /// Its name.
    pub name: String,
    /// Its rule.
    pub rule: Rule,
}

impl SegmentDraft {
    /// Checks the draft; returns the trimmed name.
    pub fn validate(&self, settings: &EventSettings) -> Result<String> {
        let name = text::required_text("name", &self.name, 200)?;
        self.rule.validate(settings)?;
        Ok(name)
    }
}

/// A preview of a segment (S3): how many participants it targets, and a page of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPreview {
    /// How many participants of the event are in it now.
    pub count: u64,
    /// The first members, in id order (at most the requested page size).
    pub members: Vec<Participant>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::CustomFieldDef;
    use crate::ids::{EventId, ExternalId};
    use crate::participant::{Profile, Status, Utm};
    use chrono::TimeZone;

    fn settings() -> EventSettings {
        let mut s = EventSettings::new("Expo", Language::new("en").unwrap());
        s.languages.push(Language::new("fr").unwrap());
        s.custom_fields.insert(
            "stand".into(),
            CustomFieldDef {
                label: "Stand".into(),
            },
        );
        s
    }

    fn person(categories: &[&str]) -> Participant {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Participant {
            id: ParticipantId::new_at(t),
            event: EventId::new_at(t),
            external_id: ExternalId::new("p").unwrap(),
            profile: Profile::default(),
            status: Status {
                categories: categories.iter().map(|c| c.to_string()).collect(),
                ..Status::default()
            },
            utm: Utm {
                source: Some("newsletter".into()),
                ..Utm::default()
            },
            custom_fields: [("stand".to_owned(), "B12".to_owned())].into(),
            owner: None,
            push_subscriptions: Vec::new(),
            notifications: Default::default(),
            networking: Default::default(),
            registered_at: t,
            erased_at: None,
            record_version: 0,
        }
    }

    #[test]
    fn s1_rules_combine() {
        let s = settings();
        let exhibitor = person(&["exhibitor"]);
        let visitor = person(&["visitor"]);
        let rule = Rule::all([
            Rule::category("exhibitor"),
            Rule::negate(Rule::Networking {
                networking: Networking::NotAllowed,
            }),
            Rule::CustomField {
                field: "stand".into(),
                value: None,
            },
            Rule::Utm {
                field: UtmField::Source,
                value: "newsletter".into(),
            },
            Rule::Language {
                language: Language::new("en").unwrap(),
            },
        ]);
        assert!(rule.matches(&exhibitor, &s));
        assert!(!rule.matches(&visitor, &s));
        assert!(!Rule::any([]).matches(&exhibitor, &s));
        assert!(Rule::all([]).matches(&exhibitor, &s));
        let members = Rule::Members {
            members: [visitor.id].into(),
        };
        assert!(members.matches(&visitor, &s) && !members.matches(&exhibitor, &s));
    }

    #[test]
    fn s1_unknown_custom_field_is_rejected_with_its_path() {
        let rule = Rule::any([
            Rule::category("x"),
            Rule::CustomField {
                field: "nope".into(),
                value: None,
            },
        ]);
        assert_eq!(
            rule.validate(&settings()).unwrap_err().field(),
            Some("rule.rules[1].field")
        );
        let mut deep = Rule::Everyone;
        for _ in 0..20 {
            deep = Rule::negate(deep);
        }
        assert!(deep.validate(&settings()).is_err());
    }
}
