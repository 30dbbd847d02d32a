//! The task form (T1, T5): the form from a configuration and back, its reminder slots,
//! and the routes that create, update, publish, archive and delete a task.

use super::*;

// ----- the task form -------------------------------------------------------------------

/// The form's values for an existing configuration (to edit it).
pub(super) fn form_of(config: &TaskConfig, settings: &EventSettings) -> FormData {
    let mut f = FormData::new();
    for (lang, text) in &config.texts {
        f.insert(format!("name_{lang}"), text.name.clone());
        f.insert(format!("description_{lang}"), text.description.clone());
    }
    if let Some(d) = config.deadline {
        f.insert("deadline".into(), view::local_input(d, settings.time_zone));
    }
    if let Some(s) = config.segment {
        f.insert("segment".into(), s.to_string());
    }
    match &config.completion {
        CompletionMode::Manual => {
            f.insert("mode".into(), "manual".into());
        }
        CompletionMode::Automatic { condition } => {
            f.insert("mode".into(), "automatic".into());
            let kind = serde_json::to_value(condition)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
                .unwrap_or_default();
            f.insert("condition".into(), kind);
            match condition {
                Condition::Collaborators { at_least }
                | Condition::Products { at_least }
                | Condition::Invitations { at_least }
                | Condition::Sessions { at_least } => {
                    f.insert("at_least".into(), at_least.to_string());
                }
                Condition::FormCompleted { form } => {
                    f.insert("form_key".into(), form.clone());
                }
                Condition::FieldFilled { field, value } => {
                    f.insert("field_key".into(), field.clone());
                    f.insert("field_value".into(), value.clone().unwrap_or_default());
                }
                Condition::All { conditions } | Condition::Any { conditions } => {
                    f.insert(
                        "conditions_json".into(),
                        serde_json::to_string_pretty(conditions).unwrap_or_default(),
                    );
                }
                _ => {}
            }
        }
    }
    match &config.help {
        HelpLink::WebPage { url } => {
            f.insert("help_kind".into(), "web_page".into());
            f.insert("help_url".into(), url.clone());
        }
        HelpLink::FormStep { form, step } => {
            f.insert("help_kind".into(), "form_step".into());
            f.insert("help_form".into(), form.clone());
            f.insert("help_step".into(), step.clone());
        }
    }
    f.insert("position".into(), config.position.to_string());
    if config.notify_on_publish {
        f.insert("notify".into(), "on".into());
    }
    if config.review {
        f.insert("review".into(), "on".into());
    }
    if let Some(offsets) = &config.reminder_offsets {
        let text: Vec<String> = offsets
            .iter()
            .map(|o| match o.as_seconds() {
                s if s % 86_400 == 0 => format!("{}d", s / 86_400),
                s if s % 3600 == 0 => format!("{}h", s / 3600),
                s => format!("{}m", s / 60),
            })
            .collect();
        f.insert("reminders".into(), text.join(", "));
    }
    f
}

pub(super) fn value<'a>(form: &'a FormData, key: &str) -> &'a str {
    form.get(key).map_or("", |v| v.trim())
}

pub(super) fn checked(form: &FormData, key: &str) -> bool {
    form.get(key).is_some_and(|v| !v.is_empty())
}

/// The configuration a submitted form describes. What the portal cannot even parse (a
/// threshold that is not a number) is refused with the same kind of error as the
/// library's, named after the configuration's field, so both show in the same place.
pub(super) fn config_of(form: &FormData, settings: &EventSettings) -> Result<TaskConfig, Error> {
    let mut texts = BTreeMap::new();
    for lang in &settings.languages {
        let name = form
            .get(&format!("name_{lang}"))
            .cloned()
            .unwrap_or_default();
        let description = form
            .get(&format!("description_{lang}"))
            .cloned()
            .unwrap_or_default();
        if *lang == settings.default_language
            || !name.trim().is_empty()
            || !description.trim().is_empty()
        {
            texts.insert(lang.clone(), TaskText { name, description });
        }
    }
    let at_least = || -> Result<u32, Error> {
        value(form, "at_least")
            .parse()
            .map_err(|_| Error::invalid("condition.at_least", "must be a whole number"))
    };
    let completion = if value(form, "mode") == "automatic" {
        let condition = match value(form, "condition") {
            "logo_uploaded" => Condition::LogoUploaded,
            "collaborators" => Condition::Collaborators {
                at_least: at_least()?,
            },
            "products" => Condition::Products {
                at_least: at_least()?,
            },
            "invitations" => Condition::Invitations {
                at_least: at_least()?,
            },
            "sessions" => Condition::Sessions {
                at_least: at_least()?,
            },
            "form_completed" => Condition::FormCompleted {
                form: value(form, "form_key").to_owned(),
            },
            "field_filled" => Condition::FieldFilled {
                field: value(form, "field_key").to_owned(),
                value: Some(value(form, "field_value").to_owned()).filter(|v| !v.is_empty()),
            },
            kind @ ("all" | "any") => {
                let conditions: Vec<Condition> =
                    serde_json::from_str(value(form, "conditions_json")).map_err(|e| {
                        Error::invalid(
                            "condition.conditions",
                            format!("must be a JSON list of conditions: {e}"),
                        )
                    })?;
                if kind == "all" {
                    Condition::All { conditions }
                } else {
                    Condition::Any { conditions }
                }
            }
            _ => return Err(Error::invalid("condition", "choose a condition")),
        };
        CompletionMode::Automatic { condition }
    } else {
        CompletionMode::Manual
    };
    let help = if value(form, "help_kind") == "form_step" {
        HelpLink::FormStep {
            form: value(form, "help_form").to_owned(),
            step: value(form, "help_step").to_owned(),
        }
    } else {
        HelpLink::WebPage {
            url: value(form, "help_url").to_owned(),
        }
    };
    let segment = match value(form, "segment") {
        "" => None,
        s => Some(
            s.parse::<SegmentId>()
                .map_err(|_| Error::invalid("segment", "not a segment of the event"))?,
        ),
    };
    let position = match value(form, "position") {
        "" => 0,
        p => p
            .parse()
            .map_err(|_| Error::invalid("position", "must be a whole number"))?,
    };
    let reminder_offsets = match value(form, "reminders") {
        "" => None,
        text => Some(
            text.split(',')
                .map(|o| parse_offset(o.trim()))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(TaskConfig {
        texts,
        deadline: view::parse_local("deadline", value(form, "deadline"), settings.time_zone)?,
        segment,
        completion,
        help,
        position,
        notify_on_publish: checked(form, "notify"),
        reminder_offsets,
        review: checked(form, "review"),
    })
}

/// "7d", "12h" or "30m" before the deadline.
pub(super) fn parse_offset(text: &str) -> Result<ReminderOffset, Error> {
    let bad = || {
        Error::invalid(
            "reminder_offsets",
            "list offsets before the deadline like \"7d, 1d, 2h\"",
        )
    };
    let number = |n: &str| n.trim().parse::<u32>().map_err(|_| bad());
    if let Some(n) = text.strip_suffix('d') {
        Ok(ReminderOffset::days(number(n)?))
    } else if let Some(n) = text.strip_suffix('h') {
        Ok(ReminderOffset::hours(number(n)?))
    } else if let Some(n) = text.strip_suffix('m') {
        Ok(ReminderOffset::seconds(number(n)?.saturating_mul(60)))
    } else {
        Err(bad())
    }
}

/// The places of the task form where an error can be shown (besides `name_<lang>` and
/// `description_<lang>`); an error on any other field is shown above the form.
pub(super) const SLOTS: [&str; 14] = [
    "deadline",
    "segment",
    "review",
    "condition",
    "at_least",
    "form_key",
    "field_key",
    "field_value",
    "conditions_json",
    "help_url",
    "help_form",
    "help_step",
    "position",
    "reminder_offsets",
];

/// Where the form shows an error on `field` (the library's dotted path).
pub(super) fn slot(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("texts.") {
        return match rest.split_once('.') {
            Some((lang, "description")) => format!("description_{lang}"),
            Some((lang, _)) => format!("name_{lang}"),
            None => format!("name_{rest}"),
        };
    }
    if field.starts_with("condition.conditions") {
        return "conditions_json".to_owned();
    }
    match field {
        "condition.at_least" => "at_least",
        "condition.form" => "form_key",
        "condition.field" => "field_key",
        "condition.value" => "field_value",
        "help.url" => "help_url",
        "help.form" => "help_form",
        "help.step" => "help_step",
        other => other,
    }
    .to_owned()
}

pub(super) async fn task_form(
    portal: &Portal,
    who: &Who,
    task: Option<&Task>,
    form: FormData,
    errors: FieldErrors,
) -> Page {
    let settings = portal.scope(&who.actor).get().await?.settings;
    let segments: Vec<Value> = portal
        .scope(&who.actor)
        .segments()
        .await?
        .into_iter()
        .map(|s| context! { id => s.id.to_string(), name => s.name })
        .collect();
    let languages: Vec<Value> = settings
        .languages
        .iter()
        .map(|l| {
            context! {
                code => l.as_str(),
                default => *l == settings.default_language,
            }
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let unplaced: Vec<String> = errors
        .iter()
        .filter(|(slot, _)| {
            !SLOTS.contains(&slot.as_str())
                && !settings
                    .languages
                    .iter()
                    .any(|l| **slot == format!("name_{l}") || **slot == format!("description_{l}"))
        })
        .map(|(slot, reason)| format!("{slot}: {reason}"))
        .collect();
    let page = render(
        portal,
        Some(who),
        "task_form.html",
        context! {
            task => task.map(|t| context! {
                id => t.id.to_string(),
                state => state_label(t.state),
            }),
            form => form,
            errors => errors,
            unplaced => unplaced,
            segments => segments,
            languages => languages,
            condition_kinds => CONDITION_KINDS.iter().map(|(k, l)| context! { kind => *k, label => *l }).collect::<Vec<_>>(),
            time_zone => settings.time_zone.name(),
        },
    )?;
    Ok((status, page).into_response())
}

pub(super) async fn new_task(State(portal): State<Portal>, who: Who) -> Page {
    let mut form = FormData::new();
    form.insert("mode".into(), "manual".into());
    form.insert("help_kind".into(), "web_page".into());
    task_form(&portal, &who, None, form, FieldErrors::new()).await
}

pub(super) async fn edit_task(
    State(portal): State<Portal>,
    who: Who,
    Path(task): Path<TaskId>,
) -> Page {
    let task = portal.scope(&who.actor).task(task).await?;
    let settings = portal.scope(&who.actor).get().await?.settings;
    let form = form_of(&task.config, &settings);
    task_form(&portal, &who, Some(&task), form, FieldErrors::new()).await
}

pub(super) async fn create_task(
    State(portal): State<Portal>,
    who: Who,
    axum::Form(form): axum::Form<FormData>,
) -> Page {
    let settings = portal.scope(&who.actor).get().await?.settings;
    let result = match config_of(&form, &settings) {
        Ok(config) => portal.scope(&who.actor).create_task(config).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin").into_response()),
        Err(e) => {
            let errors = view::field_errors(e, slot)?;
            task_form(&portal, &who, None, form, errors).await
        }
    }
}

pub(super) async fn update_task(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<TaskId>,
    axum::Form(form): axum::Form<FormData>,
) -> Page {
    let task = portal.scope(&who.actor).task(id).await?;
    let settings = portal.scope(&who.actor).get().await?.settings;
    let result = match config_of(&form, &settings) {
        Ok(config) => portal.scope(&who.actor).update_task(id, config).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin").into_response()),
        Err(e) => {
            let errors = view::field_errors(e, slot)?;
            task_form(&portal, &who, Some(&task), form, errors).await
        }
    }
}

/// Publishes, with or without the publication notice (N1): the choice is the task's
/// `notify_on_publish`, set from the publish button's checkbox first when it differs.
pub(super) async fn publish(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<TaskId>,
    axum::Form(form): axum::Form<FormData>,
) -> Page {
    let task = portal.scope(&who.actor).task(id).await?;
    let notify = checked(&form, "notify");
    // Only a draft is published: anything else goes straight to the library, which
    // refuses it, so that a refused publication changes nothing.
    if task.state == TaskState::Draft && task.config.notify_on_publish != notify {
        let config = TaskConfig {
            notify_on_publish: notify,
            ..task.config
        };
        portal.scope(&who.actor).update_task(id, config).await?;
    }
    portal.scope(&who.actor).publish_task(id).await?;
    Ok(Redirect::to("/admin").into_response())
}

pub(super) async fn archive(
    State(portal): State<Portal>,
    who: Who,
    Path(id): Path<TaskId>,
) -> Page {
    portal.scope(&who.actor).archive_task(id).await?;
    Ok(Redirect::to("/admin").into_response())
}

pub(super) async fn delete(State(portal): State<Portal>, who: Who, Path(id): Path<TaskId>) -> Page {
    portal.scope(&who.actor).delete_task(id).await?;
    Ok(Redirect::to("/admin").into_response())
}
