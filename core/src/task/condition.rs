//! Conditions of automatic tasks (T3), evaluated from the owner's facts (T4).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::participant::{FactKind, Facts};
use crate::text;

/// What must hold for an automatic task to be done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// A logo is uploaded.
    LogoUploaded,
    /// At least `at_least` collaborators exist.
    Collaborators {
        /// The threshold (≥ 1).
        at_least: u32,
    },
    /// At least `at_least` products are added.
    Products {
        /// The threshold (≥ 1).
        at_least: u32,
    },
    /// At least `at_least` invitations are sent.
    Invitations {
        /// The threshold (≥ 1).
        at_least: u32,
    },
    /// Registered to at least `at_least` sessions or workshops (R8; the visitors' "select a
    /// session or workshop").
    Sessions {
        /// The threshold (≥ 1).
        at_least: u32,
    },
    /// The host's form `form` is completed.
    FormCompleted {
        /// The form's key.
        form: String,
    },
    /// Field `field` is filled, with `value` if given.
    FieldFilled {
        /// The field's key.
        field: String,
        /// The value it must have, or `None` for any non-blank value.
        value: Option<String>,
    },
    /// Every sub-condition holds.
    All {
        /// The sub-conditions (at least one).
        conditions: Vec<Condition>,
    },
    /// At least one sub-condition holds.
    Any {
        /// The sub-conditions (at least one).
        conditions: Vec<Condition>,
    },
}

impl Condition {
    /// Deepest accepted nesting of all / any.
    pub const MAX_DEPTH: usize = 8;

    /// Checks the condition; the error's field is a path under `condition`. The whole
    /// condition is at most [`STRUCTURED_BYTES`](crate::limits::STRUCTURED_BYTES) encoded
    /// (X7).
    pub fn validate(&self) -> Result<()> {
        self.validate_at("condition", 0)?;
        crate::limits::encoded("condition", self, crate::limits::STRUCTURED_BYTES)
    }

    fn validate_at(&self, path: &str, depth: usize) -> Result<()> {
        if depth > Self::MAX_DEPTH {
            return Err(Error::invalid(
                path.to_owned(),
                format!("conditions nest at most {} deep", Self::MAX_DEPTH),
            ));
        }
        match self {
            Condition::LogoUploaded => Ok(()),
            Condition::Collaborators { at_least }
            | Condition::Products { at_least }
            | Condition::Invitations { at_least }
            | Condition::Sessions { at_least } => {
                if *at_least == 0 {
                    Err(Error::invalid(
                        format!("{path}.at_least"),
                        "must be at least 1 (a threshold of 0 would always hold)",
                    ))
                } else {
                    Ok(())
                }
            }
            Condition::FormCompleted { form } => text::key(&format!("{path}.form"), form),
            Condition::FieldFilled { field, value } => {
                text::key(&format!("{path}.field"), field)?;
                match value {
                    Some(v) => text::required_lines(&format!("{path}.value"), v, 10_000).map(drop),
                    None => Ok(()),
                }
            }
            Condition::All { conditions } | Condition::Any { conditions } => {
                if conditions.is_empty() || conditions.len() > 50 {
                    return Err(Error::invalid(
                        format!("{path}.conditions"),
                        "must list between 1 and 50 conditions",
                    ));
                }
                conditions.iter().enumerate().try_for_each(|(i, c)| {
                    c.validate_at(&format!("{path}.conditions[{i}]"), depth + 1)
                })
            }
        }
    }

    /// Whether the condition holds for these facts.
    pub fn holds(&self, facts: &Facts) -> bool {
        let at_least = |n: usize, at_least: &u32| n >= *at_least as usize;
        match self {
            Condition::LogoUploaded => facts.has_logo(),
            Condition::Collaborators { at_least: n } => at_least(facts.collaborators.count(), n),
            Condition::Products { at_least: n } => at_least(facts.products.count(), n),
            Condition::Invitations { at_least: n } => at_least(facts.invitations.count(), n),
            Condition::Sessions { at_least: n } => at_least(facts.registered_sessions(), n),
            Condition::FormCompleted { form } => facts.form_completed(form),
            Condition::FieldFilled { field, value } => match (facts.field(field), value) {
                (Some(v), Some(want)) => v == want,
                (Some(_), None) => true,
                (None, _) => false,
            },
            Condition::All { conditions } => conditions.iter().all(|c| c.holds(facts)),
            Condition::Any { conditions } => conditions.iter().any(|c| c.holds(facts)),
        }
    }
}

impl Condition {
    /// Whether the condition reads facts of `kind`: a change of any other kind cannot
    /// change whether it holds.
    pub(crate) fn reads(&self, kind: FactKind) -> bool {
        match self {
            Condition::LogoUploaded => kind == FactKind::Logo,
            Condition::Collaborators { .. } => kind == FactKind::Collaborators,
            Condition::Products { .. } => kind == FactKind::Products,
            Condition::Invitations { .. } => kind == FactKind::Invitations,
            Condition::Sessions { .. } => kind == FactKind::Sessions,
            Condition::FormCompleted { .. } => kind == FactKind::Forms,
            Condition::FieldFilled { .. } => kind == FactKind::Fields,
            Condition::All { conditions } | Condition::Any { conditions } => {
                conditions.iter().any(|c| c.reads(kind))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ExternalId;
    use chrono::{TimeZone, Utc};

    #[test]
    fn t3_conditions_evaluate_from_facts() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut f = Facts::default();
        let speaker = Condition::All {
            conditions: vec![
                Condition::FieldFilled {
                    field: "photo".into(),
                    value: None,
                },
                Condition::FieldFilled {
                    field: "biography".into(),
                    value: None,
                },
            ],
        };
        assert!(!speaker.holds(&f));
        f.record_field("photo", Some("p.png".into()), at);
        f.record_field("biography", Some("   ".into()), at);
        assert!(!speaker.holds(&f), "a blank value is not filled");
        f.record_field(
            "biography",
            Some("Hi".into()),
            at + chrono::Duration::seconds(1),
        );
        assert!(speaker.holds(&f));

        let two_products = Condition::Products { at_least: 2 };
        f.products.record(ExternalId::new("a").unwrap(), true, at);
        assert!(!two_products.holds(&f));
        f.products.record(ExternalId::new("b").unwrap(), true, at);
        assert!(two_products.holds(&f));
        let any = Condition::Any {
            conditions: vec![Condition::LogoUploaded, two_products],
        };
        assert!(any.holds(&f));
    }

    #[test]
    fn t3_zero_threshold_and_empty_lists_are_rejected() {
        let e = Condition::Products { at_least: 0 }.validate().unwrap_err();
        assert_eq!(e.field(), Some("condition.at_least"));
        let e = Condition::Any { conditions: vec![] }
            .validate()
            .unwrap_err();
        assert_eq!(e.field(), Some("condition.conditions"));
        let e = Condition::All {
            conditions: vec![Condition::FormCompleted { form: "a b".into() }],
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field(), Some("condition.conditions[0].form"));
    }
}
