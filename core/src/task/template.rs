//! Templates (T5): the popular use cases of the seed, each giving a ready draft task.
//!
//! A template carries its parameters (a threshold, a list of fields, a form); [`Template::draft`]
//! turns it into a validated [`TaskConfig`] with texts in English and French (the ones the
//! event has) and the completion mode of the design's T5 table. Pure: no I/O.

use serde::{Deserialize, Serialize};

use super::{CompletionMode, Condition, HelpLink, TaskConfig, TaskText};
use crate::error::Result;
use crate::event::EventSettings;
use crate::text::Language;

/// A task template (T5). Its serialised form is tagged by `template`, whose value is
/// [`Template::key`], e.g. `{"template": "exhibitor_products", "at_least": 3}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Template {
    /// Exhibitor: upload a logo. Automatic: logo uploaded.
    ExhibitorLogo,
    /// Exhibitor: add products. Automatic: at least `at_least` products.
    ExhibitorProducts {
        /// How many products (≥ 1).
        at_least: u32,
    },
    /// Exhibitor: create collaborators. Automatic: at least `at_least` collaborators.
    ExhibitorCollaborators {
        /// How many collaborators (≥ 1).
        at_least: u32,
    },
    /// Exhibitor: send invitations. Automatic: at least `at_least` invitations sent.
    ExhibitorInvitations {
        /// How many invitations (≥ 1).
        at_least: u32,
    },
    /// Exhibitor: complete the exhibitor profile. Automatic: `all` of the fields filled.
    ExhibitorProfile {
        /// The profile's field keys that must be filled (1 to 50).
        fields: Vec<String>,
    },
    /// Speaker: photo and biography. Automatic: `all`(field `photo`, field `biography`).
    SpeakerPhotoBiography,
    /// Speaker: fill in the technical form. Automatic: form `form` completed.
    SpeakerTechnicalForm {
        /// The key of the host's form.
        form: String,
    },
    /// Speaker: upload the presentation. Automatic: field `presentation` filled.
    SpeakerPresentation,
    /// Visitor: provide a mandatory document. Manual.
    VisitorMandatoryDocument,
    /// Visitor: provide a supporting document. Manual, with the organizer's review (T3
    /// review): the draft is [`CompletionMode::Manual`] with [`TaskConfig::review`] set, so
    /// the participant submits and an organizer accepts or rejects with a reason.
    VisitorSupportingDocument,
    /// Visitor: choose a session or workshop. Automatic: registered to at least
    /// `at_least` sessions (R8). `{"template": "visitor_choose_session"}` without the
    /// parameter means one session.
    VisitorChooseSession {
        /// How many sessions (≥ 1).
        #[serde(default = "one")]
        at_least: u32,
    },
}

fn one() -> u32 {
    1
}

/// A text in English and in French.
struct Texts {
    en: TaskText,
    fr: TaskText,
}

fn text(name: &str, description: String) -> TaskText {
    TaskText {
        name: name.to_owned(),
        description,
    }
}

/// `n` followed by the singular or plural noun.
fn count(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

impl Template {
    /// Every template, with sensible default parameters: 3 products, 2 collaborators,
    /// 10 invitations, profile fields `company`, `description` and `website`, and the
    /// form `technical`.
    pub fn all_defaults() -> Vec<Template> {
        vec![
            Template::ExhibitorLogo,
            Template::ExhibitorProducts { at_least: 3 },
            Template::ExhibitorCollaborators { at_least: 2 },
            Template::ExhibitorInvitations { at_least: 10 },
            Template::ExhibitorProfile {
                fields: vec!["company".into(), "description".into(), "website".into()],
            },
            Template::SpeakerPhotoBiography,
            Template::SpeakerTechnicalForm {
                form: "technical".into(),
            },
            Template::SpeakerPresentation,
            Template::VisitorMandatoryDocument,
            Template::VisitorSupportingDocument,
            Template::VisitorChooseSession { at_least: 1 },
        ]
    }

    /// Who the template is meant for: `"exhibitor"`, `"speaker"` or `"visitor"`.
    pub fn audience(&self) -> &'static str {
        match self {
            Template::ExhibitorLogo
            | Template::ExhibitorProducts { .. }
            | Template::ExhibitorCollaborators { .. }
            | Template::ExhibitorInvitations { .. }
            | Template::ExhibitorProfile { .. } => "exhibitor",
            Template::SpeakerPhotoBiography
            | Template::SpeakerTechnicalForm { .. }
            | Template::SpeakerPresentation => "speaker",
            Template::VisitorMandatoryDocument
            | Template::VisitorSupportingDocument
            | Template::VisitorChooseSession { .. } => "visitor",
        }
    }

    /// The template's stable snake_case id (e.g. `"exhibitor_logo"`); the same as the
    /// `template` tag of its serialised form.
    pub fn key(&self) -> &'static str {
        match self {
            Template::ExhibitorLogo => "exhibitor_logo",
            Template::ExhibitorProducts { .. } => "exhibitor_products",
            Template::ExhibitorCollaborators { .. } => "exhibitor_collaborators",
            Template::ExhibitorInvitations { .. } => "exhibitor_invitations",
            Template::ExhibitorProfile { .. } => "exhibitor_profile",
            Template::SpeakerPhotoBiography => "speaker_photo_biography",
            Template::SpeakerTechnicalForm { .. } => "speaker_technical_form",
            Template::SpeakerPresentation => "speaker_presentation",
            Template::VisitorMandatoryDocument => "visitor_mandatory_document",
            Template::VisitorSupportingDocument => "visitor_supporting_document",
            Template::VisitorChooseSession { .. } => "visitor_choose_session",
        }
    }

    /// A ready draft task from this template (T5), linking to `help`.
    ///
    /// Texts (a name and a participant-facing description) are given in English and French,
    /// keeping only the event's languages; if the event's default language is neither, it
    /// gets the English text. The completion mode follows the T5 table; there is no segment
    /// (every participant), no deadline, position 0 and no notification on publish.
    ///
    /// The draft is validated against `settings`, so a bad parameter gives
    /// [`Error::Invalid`](crate::Error::Invalid) naming the field: `condition.at_least` for
    /// a threshold of 0, `condition.conditions` for a profile without fields,
    /// `condition.form` for a bad form key.
    pub fn draft(&self, settings: &EventSettings, help: HelpLink) -> Result<TaskConfig> {
        let Texts { en, fr } = self.texts();
        let english = Language::new("en")?;
        let french = Language::new("fr")?;
        let mut texts = std::collections::BTreeMap::new();
        if settings.languages.contains(&french) {
            texts.insert(french.clone(), fr);
        }
        let default = &settings.default_language;
        if *default != english && *default != french {
            texts.insert(default.clone(), en.clone());
        }
        if settings.languages.contains(&english) {
            texts.insert(english, en);
        }
        let completion = match self.condition() {
            Some(condition) => CompletionMode::Automatic { condition },
            None => CompletionMode::Manual,
        };
        TaskConfig {
            texts,
            deadline: None,
            segment: None,
            completion,
            help,
            position: 0,
            notify_on_publish: false,
            reminder_offsets: None,
            review: matches!(self, Template::VisitorSupportingDocument),
        }
        .validate(settings)
    }

    /// The condition of an automatic template; `None` for a manual one.
    fn condition(&self) -> Option<Condition> {
        let field = |f: &str| Condition::FieldFilled {
            field: f.to_owned(),
            value: None,
        };
        Some(match self {
            Template::ExhibitorLogo => Condition::LogoUploaded,
            Template::ExhibitorProducts { at_least } => Condition::Products {
                at_least: *at_least,
            },
            Template::ExhibitorCollaborators { at_least } => Condition::Collaborators {
                at_least: *at_least,
            },
            Template::ExhibitorInvitations { at_least } => Condition::Invitations {
                at_least: *at_least,
            },
            Template::ExhibitorProfile { fields } => Condition::All {
                conditions: fields.iter().map(|f| field(f)).collect(),
            },
            Template::SpeakerPhotoBiography => Condition::All {
                conditions: vec![field("photo"), field("biography")],
            },
            Template::SpeakerTechnicalForm { form } => {
                Condition::FormCompleted { form: form.clone() }
            }
            Template::SpeakerPresentation => field("presentation"),
            Template::VisitorChooseSession { at_least } => Condition::Sessions {
                at_least: *at_least,
            },
            Template::VisitorMandatoryDocument | Template::VisitorSupportingDocument => {
                return None;
            }
        })
    }

    /// The English and French texts.
    fn texts(&self) -> Texts {
        match self {
            Template::ExhibitorLogo => Texts {
                en: text(
                    "Upload your logo",
                    "Upload your company logo so that visitors recognise your stand in the \
                     exhibitor list and on the floor plan. This task is ticked automatically \
                     once your logo is uploaded."
                        .into(),
                ),
                fr: text(
                    "Téléchargez votre logo",
                    "Téléchargez le logo de votre société pour que les visiteurs reconnaissent \
                     votre stand dans la liste des exposants et sur le plan. Cette tâche est \
                     cochée automatiquement dès que votre logo est en ligne."
                        .into(),
                ),
            },
            Template::ExhibitorProducts { at_least } => Texts {
                en: text(
                    "Add your products",
                    format!(
                        "Add at least {} to your exhibitor page so that visitors know what \
                         you will present. This task is ticked automatically once they are \
                         added.",
                        count(*at_least, "product", "products")
                    ),
                ),
                fr: text(
                    "Ajoutez vos produits",
                    format!(
                        "Ajoutez au moins {} à votre page exposant pour que les visiteurs \
                         sachent ce que vous présenterez. Cette tâche est cochée \
                         automatiquement une fois qu'ils sont ajoutés.",
                        count(*at_least, "produit", "produits")
                    ),
                ),
            },
            Template::ExhibitorCollaborators { at_least } => Texts {
                en: text(
                    "Add your team",
                    format!(
                        "Create at least {} who will staff your stand, so that they get their \
                         access and can share your tasks. This task is ticked automatically \
                         once they are created.",
                        count(*at_least, "collaborator", "collaborators")
                    ),
                ),
                fr: text(
                    "Ajoutez votre équipe",
                    format!(
                        "Créez au moins {} qui tiendront votre stand, pour qu'ils reçoivent \
                         leurs accès et puissent se partager vos tâches. Cette tâche est \
                         cochée automatiquement une fois qu'ils sont créés.",
                        count(*at_least, "collaborateur", "collaborateurs")
                    ),
                ),
            },
            Template::ExhibitorInvitations { at_least } => Texts {
                en: text(
                    "Invite your customers",
                    format!(
                        "Send at least {} to your customers and prospects so that they come \
                         and meet you at the event. This task is ticked automatically once \
                         they are sent.",
                        count(*at_least, "invitation", "invitations")
                    ),
                ),
                fr: text(
                    "Invitez vos clients",
                    format!(
                        "Envoyez au moins {} à vos clients et prospects pour qu'ils viennent \
                         vous rencontrer pendant l'événement. Cette tâche est cochée \
                         automatiquement une fois qu'elles sont envoyées.",
                        count(*at_least, "invitation", "invitations")
                    ),
                ),
            },
            Template::ExhibitorProfile { fields } => {
                let list = fields.join(", ");
                Texts {
                    en: text(
                        "Complete your exhibitor profile",
                        format!(
                            "Fill in your exhibitor profile so that visitors can find you and \
                             learn about your company. Fields to fill in: {list}. This task \
                             is ticked automatically once every one of them is filled in."
                        ),
                    ),
                    fr: text(
                        "Complétez votre profil exposant",
                        format!(
                            "Remplissez votre profil exposant pour que les visiteurs vous \
                             trouvent et découvrent votre société. Champs à remplir : {list}. \
                             Cette tâche est cochée automatiquement dès qu'ils sont tous \
                             remplis."
                        ),
                    ),
                }
            }
            Template::SpeakerPhotoBiography => Texts {
                en: text(
                    "Add your photo and biography",
                    "Add a photo and a short biography to your speaker profile; they are \
                     shown with your sessions in the programme. This task is ticked \
                     automatically once both are filled in."
                        .into(),
                ),
                fr: text(
                    "Ajoutez votre photo et votre biographie",
                    "Ajoutez une photo et une courte biographie à votre profil d'intervenant ; \
                     elles apparaissent avec vos sessions dans le programme. Cette tâche est \
                     cochée automatiquement dès que les deux sont renseignées."
                        .into(),
                ),
            },
            Template::SpeakerTechnicalForm { .. } => Texts {
                en: text(
                    "Fill in the technical form",
                    "Tell the technical team what you need for your session (equipment, \
                     audio, video, connection). This task is ticked automatically once the \
                     form is completed."
                        .into(),
                ),
                fr: text(
                    "Remplissez la fiche technique",
                    "Indiquez à l'équipe technique ce dont vous avez besoin pour votre \
                     session (matériel, son, vidéo, connexion). Cette tâche est cochée \
                     automatiquement une fois le formulaire complété."
                        .into(),
                ),
            },
            Template::SpeakerPresentation => Texts {
                en: text(
                    "Upload your presentation",
                    "Upload the slides of your presentation so that they are ready in the \
                     room on the day. This task is ticked automatically once your \
                     presentation is uploaded."
                        .into(),
                ),
                fr: text(
                    "Téléchargez votre présentation",
                    "Téléchargez les diapositives de votre présentation pour qu'elles soient \
                     prêtes en salle le jour J. Cette tâche est cochée automatiquement dès que \
                     votre présentation est en ligne."
                        .into(),
                ),
            },
            Template::VisitorMandatoryDocument => Texts {
                en: text(
                    "Provide the mandatory document",
                    "Provide the document required to attend the event, then mark this task \
                     as done."
                        .into(),
                ),
                fr: text(
                    "Fournissez le document obligatoire",
                    "Fournissez le document requis pour participer à l'événement, puis \
                     marquez cette tâche comme faite."
                        .into(),
                ),
            },
            Template::VisitorSupportingDocument => Texts {
                en: text(
                    "Send your supporting document",
                    "Send the supporting document requested for your registration, then \
                     submit this task. The organizer will check it: you will be told if it \
                     is accepted, or why it is not so that you can send it again."
                        .into(),
                ),
                fr: text(
                    "Envoyez votre justificatif",
                    "Envoyez le justificatif demandé pour votre inscription, puis soumettez \
                     cette tâche. L'organisateur le vérifiera : vous serez informé s'il est \
                     accepté, ou de la raison d'un refus pour pouvoir le renvoyer."
                        .into(),
                ),
            },
            Template::VisitorChooseSession { at_least } => Texts {
                en: text(
                    "Choose your sessions",
                    format!(
                        "Browse the programme and register for at least {} you want to \
                         attend (places may be limited). This task is ticked automatically \
                         once you are registered.",
                        count(*at_least, "session or workshop", "sessions or workshops")
                    ),
                ),
                fr: text(
                    "Choisissez vos sessions",
                    format!(
                        "Parcourez le programme et inscrivez-vous à au moins {} qui vous \
                         intéressent (les places peuvent être limitées). Cette tâche est \
                         cochée automatiquement une fois que vous êtes inscrit.",
                        count(*at_least, "session ou atelier", "sessions ou ateliers")
                    ),
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::participant::Facts;
    use chrono::{TimeZone, Utc};

    fn lang(tag: &str) -> Language {
        Language::new(tag).unwrap()
    }

    fn en_fr() -> EventSettings {
        let mut s = EventSettings::new("Expo", lang("en"));
        s.languages.push(lang("fr"));
        s
    }

    fn help() -> HelpLink {
        HelpLink::WebPage {
            url: "https://expo.example/help".into(),
        }
    }

    #[test]
    fn t5_every_template_gives_a_valid_draft() {
        let de = EventSettings::new("Messe", lang("de"));
        let all = Template::all_defaults();
        assert_eq!(all.len(), 11, "one template per row of the T5 table");
        let keys: std::collections::BTreeSet<_> = all.iter().map(Template::key).collect();
        assert_eq!(keys.len(), all.len(), "keys are unique");
        for t in &all {
            let draft = t
                .draft(&en_fr(), help())
                .unwrap_or_else(|e| panic!("{}: {e}", t.key()));
            assert_eq!(
                draft.texts.keys().cloned().collect::<Vec<_>>(),
                vec![lang("en"), lang("fr")],
                "{}",
                t.key()
            );
            assert!(!draft.texts[&lang("en")].description.is_empty());
            assert!(!draft.texts[&lang("fr")].description.is_empty());
            assert_eq!(draft.segment, None);
            assert_eq!(draft.deadline, None);
            assert_eq!(draft.position, 0);
            assert!(!draft.notify_on_publish);
            assert_eq!(draft.help, help());
            let manual = matches!(
                t,
                Template::VisitorMandatoryDocument | Template::VisitorSupportingDocument
            );
            assert_eq!(
                draft.completion == CompletionMode::Manual,
                manual,
                "{}",
                t.key()
            );
            assert_eq!(
                draft.review,
                *t == Template::VisitorSupportingDocument,
                "{}",
                t.key()
            );
            assert!(["exhibitor", "speaker", "visitor"].contains(&t.audience()));
            assert!(t.key().starts_with(t.audience()));

            // The serialised tag is the key, and it round-trips.
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json["template"], t.key());
            assert_eq!(&serde_json::from_value::<Template>(json).unwrap(), t);

            // An event whose only language is neither en nor fr gets the English text.
            let draft = t
                .draft(&de, help())
                .unwrap_or_else(|e| panic!("{} (de): {e}", t.key()));
            assert_eq!(
                draft.texts.keys().cloned().collect::<Vec<_>>(),
                vec![lang("de")]
            );
            let en = t.draft(&en_fr(), help()).unwrap();
            assert_eq!(draft.texts[&lang("de")], en.texts[&lang("en")]);
        }
    }

    #[test]
    fn t5_speaker_photo_bio_template() {
        let draft = Template::SpeakerPhotoBiography
            .draft(&en_fr(), help())
            .unwrap();
        let field = |f: &str| Condition::FieldFilled {
            field: f.into(),
            value: None,
        };
        let CompletionMode::Automatic { condition } = draft.completion else {
            panic!("automatic");
        };
        assert_eq!(
            condition,
            Condition::All {
                conditions: vec![field("photo"), field("biography")]
            }
        );
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut facts = Facts::default();
        assert!(!condition.holds(&facts));
        facts.record_field("photo", Some("me.png".into()), at);
        assert!(!condition.holds(&facts), "the photo alone is not enough");
        facts.record_field("biography", Some("Speaker since 2010.".into()), at);
        assert!(condition.holds(&facts));
        facts.record_field("photo", None, at + chrono::Duration::seconds(1));
        assert!(!condition.holds(&facts), "the photo was removed");
    }

    #[test]
    fn t5_exhibitor_products_threshold() {
        let draft = Template::ExhibitorProducts { at_least: 5 }
            .draft(&en_fr(), help())
            .unwrap();
        assert_eq!(
            draft.completion,
            CompletionMode::Automatic {
                condition: Condition::Products { at_least: 5 }
            }
        );
        assert!(draft.texts[&lang("en")].description.contains("5 products"));
        assert!(draft.texts[&lang("fr")].description.contains("5 produits"));
        let one = Template::ExhibitorProducts { at_least: 1 }
            .draft(&en_fr(), help())
            .unwrap();
        assert!(one.texts[&lang("en")].description.contains("1 product "));

        let e = Template::ExhibitorProducts { at_least: 0 }
            .draft(&en_fr(), help())
            .unwrap_err();
        assert!(matches!(e, crate::Error::Invalid { .. }));
        assert_eq!(e.field(), Some("condition.at_least"));
        for t in [
            Template::ExhibitorCollaborators { at_least: 0 },
            Template::ExhibitorInvitations { at_least: 0 },
            Template::VisitorChooseSession { at_least: 0 },
        ] {
            let e = t.draft(&en_fr(), help()).unwrap_err();
            assert_eq!(e.field(), Some("condition.at_least"));
        }
        let e = Template::SpeakerTechnicalForm {
            form: "tech form".into(),
        }
        .draft(&en_fr(), help())
        .unwrap_err();
        assert_eq!(e.field(), Some("condition.form"));
    }

    #[test]
    fn t5_french_event_gets_french_texts() {
        let fr_only = EventSettings::new("Salon", lang("fr"));
        let draft = Template::ExhibitorLogo.draft(&fr_only, help()).unwrap();
        assert_eq!(
            draft.texts.keys().cloned().collect::<Vec<_>>(),
            vec![lang("fr")]
        );
        assert_eq!(draft.texts[&lang("fr")].name, "Téléchargez votre logo");

        // A French event with a German translation: fr gets French, de falls back (T1).
        let mut fr_de = EventSettings::new("Salon", lang("fr"));
        fr_de.languages.push(lang("de"));
        let draft = Template::SpeakerPresentation.draft(&fr_de, help()).unwrap();
        assert_eq!(
            draft.texts.keys().cloned().collect::<Vec<_>>(),
            vec![lang("fr")]
        );
        assert_eq!(
            draft.texts[&lang("fr")].name,
            "Téléchargez votre présentation"
        );
    }

    #[test]
    fn t5_profile_without_fields_is_rejected() {
        let e = Template::ExhibitorProfile { fields: vec![] }
            .draft(&en_fr(), help())
            .unwrap_err();
        assert!(matches!(e, crate::Error::Invalid { .. }));
        assert_eq!(e.field(), Some("condition.conditions"));

        let e = Template::ExhibitorProfile {
            fields: vec!["company".into(), "bad key".into()],
        }
        .draft(&en_fr(), help())
        .unwrap_err();
        assert_eq!(e.field(), Some("condition.conditions[1].field"));

        let draft = Template::ExhibitorProfile {
            fields: vec!["company".into(), "website".into()],
        }
        .draft(&en_fr(), help())
        .unwrap();
        let CompletionMode::Automatic { condition } = draft.completion else {
            panic!("automatic");
        };
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut facts = Facts::default();
        facts.record_field("company", Some("Acme".into()), at);
        assert!(!condition.holds(&facts));
        facts.record_field("website", Some("https://acme.example".into()), at);
        assert!(condition.holds(&facts));
    }
}
