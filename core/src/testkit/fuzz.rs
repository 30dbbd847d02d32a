//! Fuzz entry points (X5): one function per input a host hands the library as
//! data, shared by the `cargo fuzz` targets of `fuzz/` and by the `proptest` stand-in CI
//! runs (`core/tests/x5_parsers_never_panic.rs`).
//!
//! Each entry point takes raw bytes, parses them the way a host's data arrives (JSON through
//! serde into the library's public types, or text), runs the library's own validation and,
//! when the input parses, pushes it through the service on a fresh [`MemoryStore`] holding a
//! ready event (an organizer, two languages, two segments, five participants with tasks,
//! facts, a timeline and a history). An entry point **panics** — what a fuzzer and a
//! property test catch — when the library breaks X5 on that input:
//!
//! * anything panics;
//! * an operation fails with an error a caller cannot act on: only [`Error::Invalid`] with a
//!   field and a reason, [`Error::NotFound`] and [`Error::Forbidden`] are expected;
//! * a refused operation wrote something (the event's
//!   [`DumpStore::dump`](super::DumpStore::dump) differs), or the stored per-task counters
//!   differ from a recount (B3, checked by every dump);
//! * the library's own validation and the service disagree (one accepts what the other
//!   refuses, or they name different fields);
//! * and what each target checks on top: a batch delivered twice changes nothing the second
//!   time (X3), every CSV parses back with no cell a spreadsheet would run as a formula (B4),
//!   a preview counts what the rule matches (S3), accepted templates render without panic
//!   (N6).
//!
//! Ids in the JSON inputs are placeholders, so that inputs reach real participants, tasks
//! and segments: of `n` objects of a kind, an id whose UUID value modulo `n + 1` is `i < n`
//! stands for the `i`-th, and one whose value modulo `n + 1` is `n` is left as it is (an id
//! the event does not know). Participants (`n` = 5): `…0000` Ann (exhibitor, the richest
//! record), `…0001` her collaborator, `…0002` Bob (visitor), `…0003` Carl (exhibitor,
//! external id `carl`), `…0004` Dora (erased), `…0005` unknown. Tasks (`n` = 7): logo,
//! products (deadline in 20 hours), team, profile, hotel (manual, deadline in 30 hours,
//! assigned to Ann's collaborator), proof (manual with review, exhibitors, submitted by
//! Ann), and a draft; `…0007` unknown. Segments (`n` = 2): exhibitors, visitors; `…0002`
//! unknown.
//!
//! Call the entry points from outside any async runtime: each runs the service on a
//! current-thread runtime of its own thread.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::Duration;

use super::{EventDump, Fixture, RecordingNotifier};
use crate::*;

/// What an input reached: used by the tests to prove the seeds exercise the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The bytes are not the input's format (bad JSON, wrong shape, not UTF-8): the host's
    /// parser refuses them before the library sees anything.
    Unparsed,
    /// The input parsed, and the library refused it with typed errors, writing nothing.
    Refused,
    /// The library accepted (at least part of) the input.
    Accepted,
}

/// One fuzz target: its name (the `fuzz/fuzz_targets/<name>.rs` binary), its entry point
/// and its seeds.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// Runs one input; panics when the library breaks X5 (see the module docs).
    pub run: fn(&[u8]) -> Outcome,
    /// Valid inputs to start from (each is [`Outcome::Accepted`]).
    pub seeds: &'static [&'static str],
}

/// Every target, in the order of the module.
pub const TARGETS: &[Target] = &[
    Target {
        name: "task_config",
        run: run_task_config,
        seeds: TASK_CONFIG_SEEDS,
    },
    Target {
        name: "segment_rule",
        run: run_segment_rule,
        seeds: SEGMENT_RULE_SEEDS,
    },
    Target {
        name: "host_events",
        run: run_host_events,
        seeds: HOST_EVENTS_SEEDS,
    },
    Target {
        name: "host_actions",
        run: run_host_actions,
        seeds: HOST_ACTIONS_SEEDS,
    },
    Target {
        name: "event_templates",
        run: run_event_templates,
        seeds: EVENT_TEMPLATES_SEEDS,
    },
    Target {
        name: "csv_filters",
        run: run_csv_filters,
        seeds: CSV_FILTERS_SEEDS,
    },
    Target {
        name: "participant_data",
        run: run_participant_data,
        seeds: PARTICIPANT_DATA_SEEDS,
    },
];

/// The seeds of every target, by target name (the seed corpus of `fuzz/`).
pub const SEEDS: &[(&str, &[&str])] = &[
    ("task_config", TASK_CONFIG_SEEDS),
    ("segment_rule", SEGMENT_RULE_SEEDS),
    ("host_events", HOST_EVENTS_SEEDS),
    ("host_actions", HOST_ACTIONS_SEEDS),
    ("event_templates", EVENT_TEMPLATES_SEEDS),
    ("csv_filters", CSV_FILTERS_SEEDS),
    ("participant_data", PARTICIPANT_DATA_SEEDS),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// JSON → [`TaskConfig`] → `create_task`, `update_task` of a published task and of a draft,
/// then publishing the created task and a reminder tick.
pub fn task_config(data: &[u8]) {
    run_task_config(data);
}

/// JSON → [`SegmentDraft`] (or a bare [`Rule`]) → `preview_segment`, `create_segment`, and
/// `update_segment` of the segment published tasks target.
pub fn segment_rule(data: &[u8]) {
    run_segment_rule(data);
}

/// JSON list of [`HostEvent`] → `ingest_batch`, then the same batch again (a no-op, X3).
pub fn host_events(data: &[u8]) {
    run_host_events(data);
}

/// JSON list of [`HostAction`] → `report_actions`, the same list again (a no-op, X3), then
/// the timeline's CSV export of everyone named.
pub fn host_actions(data: &[u8]) {
    run_host_actions(data);
}

/// Text → the event's notification templates ([`EventSettings::templates`]) →
/// `update_event`; when accepted, a notification of every kind is rendered with them.
///
/// The text is one or more sections separated by a line `---`; a section's first line is
/// the template's key (`kind.language.part`), the rest its source.
pub fn event_templates(data: &[u8]) {
    run_event_templates(data);
}

/// JSON → [`MatrixRequest`] → `export_matrix_csv`, and the same JSON → [`TimelineFilter`]
/// and [`HistoryFilter`] → `export_timeline_csv` and `export_participant_history_csv` (as
/// an organizer and as the participant). Every CSV must parse back, one record per row
/// written plus the header, with no cell starting with `=`, `+`, `-`, `@`, tab or carriage
/// return (B4).
pub fn csv_filters(data: &[u8]) {
    run_csv_filters(data);
}

/// JSON list of [`NewParticipant`] → `register_participants` (an item each: typed errors,
/// the refused items write nothing), or JSON [`ParticipantPatch`] → `update_participant` of
/// Ann, by the organizer and by Ann herself (who may change her profile and networking
/// only), then her record as she reads it (no custom field, R4).
pub fn participant_data(data: &[u8]) {
    run_participant_data(data);
}

const PARTICIPANT_DATA_SEEDS: &[&str] = &[
    r#"[{"external_id":"zed","profile":{"first_name":"Zed","last_name":"Zimmer","email":"zed@example.org","website":"https://zed.example","social_links":["https://social.example/zed"]},"status":{"categories":["exhibitor"],"language":"fr","registration":"registered","participation":"in_person","networking":"allowed","discount_code":"EARLY"},"utm":{"source":"newsletter","campaign":"=spring"},"custom_fields":{"stand":"B12"}}]"#,
    r#"[{"external_id":"yan"},{"external_id":"yan"},{"external_id":"carl"},{"external_id":"xia","profile":{"email":"not an address"}}]"#,
    r#"{"profile":{"first_name":"Ann","last_name":"Lee","company":"Acme","job_title":"CEO","email":"ann@acme.example","description":"+We make anvils","chat_handle":"@ann"},"networking":{"interests":["logistics"],"preferences":["mornings"]}}"#,
    r#"{"status":{"categories":["exhibitor","press"],"attendance":"present_online"},"custom_fields":{"stand":"A1"}}"#,
    r#"{"utm":{"source":"ads","medium":"cpc"},"custom_fields":{"stand":null}}"#,
];

const TASK_CONFIG_SEEDS: &[&str] = &[
    r#"{"texts":{"en":{"name":"Upload your logo","description":"PNG or SVG, 512 px at least"},"fr":{"name":"Téléversez votre logo"}},"segment":"00000000-0000-0000-0000-000000000000","completion":{"mode":"automatic","condition":{"kind":"logo_uploaded"}},"help":{"kind":"web_page","url":"https://expo.example/logo"},"notify_on_publish":true}"#,
    r#"{"texts":{"en":{"name":"Book your hotel"}},"deadline":"2026-03-02T06:00:00Z","completion":{"mode":"manual"},"help":{"kind":"form_step","form":"travel","step":"hotel"},"position":2,"reminder_offsets":[86400,3600],"review":true}"#,
    r#"{"texts":{"en":{"name":"Complete your profile"}},"completion":{"mode":"automatic","condition":{"kind":"all","conditions":[{"kind":"field_filled","field":"photo","value":null},{"kind":"any","conditions":[{"kind":"products","at_least":2},{"kind":"form_completed","form":"tech"},{"kind":"sessions","at_least":1}]}]}},"help":{"kind":"web_page","url":"https://expo.example/profile"},"position":-1}"#,
    r#"{"texts":{"en":{"name":"=Invite your clients"}},"segment":"00000000-0000-0000-0000-000000000001","completion":{"mode":"automatic","condition":{"kind":"invitations","at_least":3}},"help":{"kind":"web_page","url":"http://expo.example/invite?x=1#y"},"notify_on_publish":true,"deadline":"2026-03-01T20:00:00+01:00"}"#,
];

const SEGMENT_RULE_SEEDS: &[&str] = &[
    r#"{"name":"French exhibitors","rule":{"kind":"all","rules":[{"kind":"category","category":"exhibitor"},{"kind":"language","language":"fr"}]}}"#,
    r#"{"name":"Stand holders or not registered","rule":{"kind":"any","rules":[{"kind":"custom_field","field":"stand","value":null},{"kind":"not","rule":{"kind":"registration","status":"registered"}}]}}"#,
    r#"{"name":"Chosen few","rule":{"kind":"members","members":["00000000-0000-0000-0000-000000000000","00000000-0000-0000-0000-000000000002"]}}"#,
    r#"{"name":"On site","rule":{"kind":"any","rules":[{"kind":"participation","mode":"in_person"},{"kind":"attendance","attendance":"present_in_person"},{"kind":"networking","networking":"allowed"},{"kind":"utm","field":"source","value":"newsletter"}]}}"#,
    r#"{"kind":"not","rule":{"kind":"everyone"}}"#,
];

const HOST_EVENTS_SEEDS: &[&str] = &[
    r#"[{"id":"logo-1","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T08:00:00Z","fact":{"kind":"logo_removed"}},{"id":"prod-2","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T08:30:00Z","fact":{"kind":"product_added","product":"sku-2"}}]"#,
    r#"[{"id":"team-1","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T08:00:00Z","fact":{"kind":"collaborator_added","collaborator":"carl"}},{"id":"team-1","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T08:00:00Z","fact":{"kind":"collaborator_added","collaborator":"carl"}}]"#,
    r#"[{"id":"f-1","participant":"00000000-0000-0000-0000-000000000003","occurred_at":"2026-02-28T10:00:00Z","fact":{"kind":"field_set","field":"photo","value":"=carl.png"}},{"id":"f-2","participant":"00000000-0000-0000-0000-000000000003","occurred_at":"2026-02-28T11:00:00Z","fact":{"kind":"form_completed","form":"tech"}},{"id":"f-3","participant":"00000000-0000-0000-0000-000000000004","occurred_at":"2026-02-28T11:00:00Z","fact":{"kind":"logo_uploaded"}},{"id":"f-4","participant":"00000000-0000-0000-0000-000000000005","occurred_at":"2026-02-28T11:00:00Z","fact":{"kind":"logo_uploaded"}}]"#,
    r#"[{"id":"i-1","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T07:00:00Z","fact":{"kind":"invitation_sent","invitation":"inv-1"}},{"id":"i-2","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T06:00:00Z","fact":{"kind":"invitation_withdrawn","invitation":"inv-1"}},{"id":"p-9","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T06:00:00Z","fact":{"kind":"product_removed","product":"sku-1"}},{"id":"c-9","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T09:00:00Z","fact":{"kind":"collaborator_removed","collaborator":"ann-team"}},{"id":"x-9","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T09:00:00Z","fact":{"kind":"field_cleared","field":"photo"}}]"#,
];

const HOST_ACTIONS_SEEDS: &[&str] = &[
    r#"[{"id":"login-2","participant":"00000000-0000-0000-0000-000000000002","occurred_at":"2026-03-01T08:00:00Z","kind":{"kind":"first_login","channel":"app"}},{"id":"scan-2","participant":"00000000-0000-0000-0000-000000000002","occurred_at":"2026-03-01T08:05:00.123Z","kind":{"kind":"scanned","place":{"at":"partner","partner":"00000000-0000-0000-0000-000000000003"}}}]"#,
    r#"[{"id":"mail-1","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-02-20T10:00:00Z","kind":{"kind":"email_opened","email":"=HYPERLINK(\"x\")"}},{"id":"q-1","participant":"00000000-0000-0000-0000-000000000000","occurred_at":"2026-03-01T09:04:00Z","kind":{"kind":"live_interaction","interaction":"question","session":"keynote"}},{"id":"bm-1","participant":"00000000-0000-0000-0000-000000000002","occurred_at":"2026-03-01T09:00:00Z","kind":{"kind":"exhibitor_bookmarked","exhibitor":"00000000-0000-0000-0000-000000000000"}}]"#,
    r#"[{"id":"c-1","participant":"00000000-0000-0000-0000-000000000003","occurred_at":"2026-03-01T09:00:00Z","kind":{"kind":"contact_request_sent","to":"00000000-0000-0000-0000-000000000002"}},{"id":"c-2","participant":"00000000-0000-0000-0000-000000000002","occurred_at":"2026-03-01T09:00:00Z","kind":{"kind":"contact_request_received","from":"00000000-0000-0000-0000-000000000003"}},{"id":"b-1","participant":"00000000-0000-0000-0000-000000000003","occurred_at":"2026-03-01T09:01:00Z","kind":{"kind":"badge_printed","place":"on_site"}},{"id":"s-1","participant":"00000000-0000-0000-0000-000000000003","occurred_at":"2026-03-01T09:01:00Z","kind":{"kind":"survey_answered","survey":"-survey"}},{"id":"z-1","participant":"00000000-0000-0000-0000-000000000003","occurred_at":"2026-03-01T09:02:00Z","kind":{"kind":"scanned","place":{"at":"zone","zone":"@hall-b"}}}]"#,
    r#"[{"id":"e-1","participant":"00000000-0000-0000-0000-000000000001","occurred_at":"1970-01-01T00:00:00Z","kind":{"kind":"email_received","email":"welcome"}},{"id":"e-2","participant":"00000000-0000-0000-0000-000000000001","occurred_at":"2026-03-01T09:04:59Z","kind":{"kind":"email_clicked","email":"welcome"}},{"id":"e-3","participant":"00000000-0000-0000-0000-000000000004","occurred_at":"2026-03-01T09:00:00Z","kind":{"kind":"email_clicked","email":"welcome"}},{"id":"e-4","participant":"00000000-0000-0000-0000-000000000001","occurred_at":"2026-03-01T09:00:00Z","kind":{"kind":"registered"}}]"#,
];

const EVENT_TEMPLATES_SEEDS: &[&str] = &[
    "nudge.en.subject\nPsst {{ recipient }}: {{ task.name }} ({{ event }})\n---\nnudge.en.body\nHello {{ recipient }},\n{% for t in tasks %}- {{ t.name }}{% if t.deadline %} before {{ t.deadline }}{% endif %}: {{ t.link }}\n{% endfor %}",
    "publication.en.subject\n{{ tasks|length }} new task(s) for {{ event }}\n---\npublication.fr.body\nBonjour {{ recipient|upper }} !\n{% for t in tasks %}{{ loop.index }}. {{ t.name|title }}{{ \"\\n\" }}{% endfor %}\n---\nassignment.en.subject\n{{ owner }} → {{ task.name }}",
    "reminder.en.subject\n{% if task.when == 'overdue' %}Late: {% endif %}{{ task.name }} ({{ task.when }})\n---\nreminders.en.body\n{% for t in tasks %}{{ t.name }} {{ t.deadline }}; {% endfor %}{{ link }}\n---\nreview_rejected.en.body\n{{ reason|default('no reason') }} — {{ task.name }}{# a comment #}",
    "review_rejected.fr.subject\nÀ reprendre : {{ task.name }}\n---\nreminders.fr.subject\n{% set n = tasks|length %}{{ n }} rappel{% if n > 1 %}s{% endif %}\n---\nnudge.fr.body\n{% raw %}{{ pas un modèle }}{% endraw %} {{ event ~ \"!\" }}",
];

const CSV_FILTERS_SEEDS: &[&str] = &[
    r#"{}"#,
    r#"{"search":"ANN","sort":"company","descending":true,"limit":2,"kinds":["registered","first_login","email_opened"],"fields":["profile","custom_fields.stand"]}"#,
    r#"{"task":"00000000-0000-0000-0000-000000000004","status":"to_do","segment":"00000000-0000-0000-0000-000000000000","from":"2026-01-01T00:00:00Z","until":"2026-03-01T09:00:00Z"}"#,
    r#"{"category":"exhibitor","sort":"email","limit":1,"after":{"key":"","id":"00000000-0000-0000-0000-000000000002"},"fields":["status.categories"],"kinds":["task_completed"]}"#,
    r#"{"task":"00000000-0000-0000-0000-000000000005","status":"awaiting_review","sort":"registration","kinds":["scanned"],"from":"2026-03-01T08:00:00Z"}"#,
];

// ----- the ready event ---------------------------------------------------------------------

thread_local! {
    /// One current-thread runtime per thread, built once: a fuzzer runs millions of inputs.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime for the fuzz entry points");
}

fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(future))
}

/// The ready event every input is pushed into, built afresh on a new [`MemoryStore`].
struct World {
    f: Fixture<MemoryStore>,
    /// Ann, her collaborator, Bob, Carl, Dora (erased): see the module docs.
    people: Vec<Participant>,
    /// logo, products, team, profile, hotel, proof, draft.
    tasks: Vec<Task>,
    /// exhibitors, visitors.
    segments: Vec<SegmentId>,
}

/// The object a placeholder id stands for (see the module docs), or the id itself.
fn pick<T: Copy>(placeholder: uuid::Uuid, real: &[T]) -> Option<T> {
    let n = real.len() as u128;
    real.get((placeholder.as_u128() % (n + 1)) as usize)
        .copied()
}

impl World {
    async fn new() -> Self {
        let f = Fixture::new(MemoryStore::new()).await;
        let org = f.organizer.clone();
        let service = &f.service;
        let now = f.clock.now();
        let visitors = service
            .create_segment(
                &org,
                f.event,
                SegmentDraft {
                    name: "Visitors".into(),
                    rule: Rule::category("visitor"),
                },
            )
            .await
            .expect("create segment")
            .id;

        // Ann: formula-like values everywhere a CSV shows them (B4).
        let mut new = NewParticipant::new(ExternalId::new("ann").expect("id"));
        new.profile.first_name = "=Ann".into();
        new.profile.last_name = "-Martin".into();
        new.profile.company = "+Acme".into();
        new.profile.email = Some("ann@example.org".into());
        new.status.categories = ["exhibitor".to_owned(), "@vip".to_owned()].into();
        new.status.language = Some(f.fr.clone());
        new.custom_fields.insert("stand".into(), "@B12".into());
        let ann = service
            .register_participant(&org, f.event, new)
            .await
            .expect("register Ann");
        let team = f.participant("ann-team", &[]).await;
        service
            .link_collaborator(&org, f.event, ann.id, team.id)
            .await
            .expect("link Ann's collaborator");
        let bob = f.participant("bob", &["visitor"]).await;
        let carl = f.participant("carl", &["exhibitor"]).await;
        let dora = f.participant("dora", &["visitor"]).await;

        let deadline = |hours| Some(now + Duration::hours(hours));
        let exhibitors = Some(f.exhibitors);
        let logo = f
            .auto_task("=Upload your logo", Condition::LogoUploaded, exhibitors)
            .await;
        let mut products = TaskConfig::automatic(
            f.en.clone(),
            "Add your products",
            Condition::Products { at_least: 2 },
            Fixture::<MemoryStore>::web(),
        );
        products.segment = exhibitors;
        products.deadline = deadline(20);
        let products = f.publish(products).await;
        let team_task = f
            .auto_task(
                "Create your team",
                Condition::Collaborators { at_least: 1 },
                None,
            )
            .await;
        let profile = f
            .auto_task(
                "Complete your profile",
                Condition::All {
                    conditions: vec![
                        Condition::FieldFilled {
                            field: "photo".into(),
                            value: None,
                        },
                        Condition::FormCompleted {
                            form: "tech".into(),
                        },
                    ],
                },
                exhibitors,
            )
            .await;
        let mut hotel = TaskConfig::manual(
            f.en.clone(),
            "Book your hotel",
            HelpLink::FormStep {
                form: "travel".into(),
                step: "hotel".into(),
            },
        );
        hotel.deadline = deadline(30);
        let hotel = f.publish(hotel).await;
        let mut proof = TaskConfig::manual(
            f.en.clone(),
            "Send your insurance",
            Fixture::<MemoryStore>::web(),
        );
        proof.review = true;
        proof.segment = exhibitors;
        proof.deadline = deadline(22);
        let proof = f.publish(proof).await;
        let draft = f.draft_manual("Draft: badge photo", Some(visitors)).await;

        // Progress, facts, a timeline and a history.
        let as_ann = f.as_participant(&ann);
        service
            .complete_task(&as_ann, f.event, ann.id, proof.id)
            .await
            .expect("Ann submits her proof");
        service
            .assign_task(&as_ann, f.event, ann.id, hotel.id, team.id)
            .await
            .expect("Ann hands the hotel to her collaborator");
        f.fact("ann-logo", &ann, HostFact::LogoUploaded).await;
        f.fact(
            "ann-sku-1",
            &ann,
            HostFact::ProductAdded {
                product: ExternalId::new("sku-1").expect("id"),
            },
        )
        .await;
        let results = service
            .report_actions(
                &Actor::System,
                f.event,
                vec![HostAction {
                    id: HostEventId::new("ann-login").expect("id"),
                    participant: ann.id.into(),
                    occurred_at: now - Duration::hours(1),
                    kind: TimelineKind::FirstLogin {
                        channel: LoginChannel::Web,
                    },
                }],
            )
            .await
            .expect("report Ann's login");
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let mut profile_patch = ann.profile.clone();
        profile_patch.first_name = "@nn".into();
        service
            .update_participant(
                &org,
                f.event,
                ann.id,
                ParticipantPatch {
                    profile: profile_patch.into(),
                    custom_fields: [("stand".to_owned(), Some("-B13".to_owned()))].into(),
                    ..ParticipantPatch::default()
                },
            )
            .await
            .expect("update Ann");
        service
            .erase_participant(&org, f.event, dora.id)
            .await
            .expect("erase Dora");
        let people = vec![ann, team, bob, carl, dora];
        let tasks = vec![logo, products, team_task, profile, hotel, proof, draft];
        Self {
            segments: vec![f.exhibitors, visitors],
            f,
            people,
            tasks,
        }
    }

    /// `r` pointed at one of the ready event's participants: a library id becomes one of
    /// theirs; a host's id stays as it is (it may or may not be one of theirs).
    fn person_ref(&self, r: &ParticipantRef) -> ParticipantRef {
        match r {
            ParticipantRef::Id(id) => self.person(*id).into(),
            other => other.clone(),
        }
    }

    fn person(&self, id: ParticipantId) -> ParticipantId {
        pick(
            id.as_uuid(),
            &self.people.iter().map(|p| p.id).collect::<Vec<_>>(),
        )
        .unwrap_or(id)
    }

    fn task(&self, id: TaskId) -> TaskId {
        pick(
            id.as_uuid(),
            &self.tasks.iter().map(|t| t.id).collect::<Vec<_>>(),
        )
        .unwrap_or(id)
    }

    fn segment(&self, id: SegmentId) -> SegmentId {
        pick(id.as_uuid(), &self.segments).unwrap_or(id)
    }

    fn ann(&self) -> &Participant {
        &self.people[0]
    }

    async fn settings(&self) -> EventSettings {
        self.f
            .service
            .event(&self.f.organizer, self.f.event)
            .get()
            .await
            .expect("the event")
            .settings
    }

    /// The event's dump (the fixture also checks the counters against a recount, B3).
    async fn dump(&self) -> EventDump {
        self.f.dump().await
    }

    /// Runs `op`; on an error, checks that it is typed and that nothing was written.
    async fn guarded<T>(&self, op: &str, run: impl Future<Output = Result<T>>) -> Result<T> {
        let before = self.dump().await;
        let result = run.await;
        if let Err(e) = &result {
            typed(op, e);
            assert!(
                self.dump().await == before,
                "X5: {op} was refused ({e}) but wrote something"
            );
        }
        result
    }
}

/// Panics unless `e` is an error a caller can act on (X5).
fn typed(op: &str, e: &Error) {
    match e {
        Error::Invalid { field, reason } => assert!(
            !field.trim().is_empty() && !reason.trim().is_empty(),
            "X5: {op}: an Invalid error without a field or a reason: {e:?}"
        ),
        Error::State { reason, .. } => assert!(
            !reason.trim().is_empty(),
            "X5: {op}: a State error without a reason: {e:?}"
        ),
        Error::NotFound { .. } | Error::Forbidden { .. } | Error::Conflict { .. } => {}
        other => panic!("X5: {op}: an untyped error on input: {other:?}"),
    }
}

/// Panics unless the service's answer agrees with the library's own validation: refused
/// with the same field when validation refuses.
fn agrees<T, U>(op: &str, validation: &Result<T>, answer: &Result<U>) {
    if let Err(v) = validation {
        match answer {
            Ok(_) => panic!("X5: {op} accepted what validation refuses ({v})"),
            Err(e) => assert_eq!(
                e.field(),
                v.field(),
                "X5: {op} and validation name different fields ({e} / {v})"
            ),
        }
    }
}

fn outcome(accepted: bool) -> Outcome {
    if accepted {
        Outcome::Accepted
    } else {
        Outcome::Refused
    }
}

// ----- task_config ---------------------------------------------------------------------

fn run_task_config(data: &[u8]) -> Outcome {
    let Ok(mut config) = serde_json::from_slice::<TaskConfig>(data) else {
        return Outcome::Unparsed;
    };
    block_on(async {
        let w = World::new().await;
        let (service, org, event) = (&w.f.service, &w.f.organizer, w.f.event);
        config.segment = config.segment.map(|s| w.segment(s));
        let settings = w.settings().await;
        let checked = config.clone().validate(&settings);

        let created = w
            .guarded(
                "create_task",
                service.create_task(org, event, config.clone()),
            )
            .await;
        agrees("create_task", &checked, &created);
        if let (Ok(task), Ok(checked)) = (&created, &checked) {
            assert_eq!(
                &task.config, checked,
                "create_task stores the checked config"
            );
        }
        // The hotel (published, assigned) and the draft.
        for existing in [w.tasks[4].id, w.tasks[6].id] {
            let updated = w
                .guarded(
                    "update_task",
                    service.update_task(org, event, existing, config.clone()),
                )
                .await;
            agrees("update_task", &checked, &updated);
            if let (Ok(task), Ok(checked)) = (&updated, &checked) {
                assert_eq!(
                    &task.config, checked,
                    "update_task stores the checked config"
                );
            }
        }
        let Ok(task) = created else {
            return Outcome::Refused;
        };
        let published = w
            .guarded("publish_task", service.publish_task(org, event, task.id))
            .await;
        published.expect("a task just created publishes");
        w.guarded("tick_reminders", service.tick_reminders(org, event))
            .await
            .expect("a reminder tick");
        Outcome::Accepted
    })
}

// ----- segment_rule --------------------------------------------------------------------

/// Points the explicit members of a rule at the ready event's participants.
fn map_members(rule: &mut Rule, w: &World) {
    match rule {
        Rule::All { rules } | Rule::Any { rules } => {
            rules.iter_mut().for_each(|r| map_members(r, w));
        }
        Rule::Not { rule } => map_members(rule, w),
        Rule::Members { members } => {
            *members = members.iter().map(|m| w.person(*m)).collect();
        }
        _ => {}
    }
}

fn run_segment_rule(data: &[u8]) -> Outcome {
    let draft = match serde_json::from_slice::<SegmentDraft>(data) {
        Ok(draft) => draft,
        Err(_) => match serde_json::from_slice::<Rule>(data) {
            Ok(rule) => SegmentDraft {
                name: "Fuzzed".into(),
                rule,
            },
            Err(_) => return Outcome::Unparsed,
        },
    };
    let mut draft = draft;
    block_on(async {
        let w = World::new().await;
        let (service, org, event) = (&w.f.service, &w.f.organizer, w.f.event);
        map_members(&mut draft.rule, &w);
        let settings = w.settings().await;

        // S3: a preview writes nothing and counts what the rule matches.
        let before = w.dump().await;
        let preview = service.preview_segment(org, event, &draft.rule, 2).await;
        agrees("preview_segment", &draft.rule.validate(&settings), &preview);
        match &preview {
            Err(e) => typed("preview_segment", e),
            Ok(preview) => {
                let matching: Vec<ParticipantId> = before
                    .participants
                    .iter()
                    .filter(|s| draft.rule.matches(&s.participant, &settings))
                    .map(|s| s.participant.id)
                    .collect();
                assert_eq!(preview.count, matching.len() as u64, "S3: preview count");
                let shown: Vec<ParticipantId> = preview.members.iter().map(|p| p.id).collect();
                assert_eq!(shown, matching.iter().copied().take(2).collect::<Vec<_>>());
            }
        }
        assert!(w.dump().await == before, "a preview wrote something");

        let checked = draft.validate(&settings);
        let created = w
            .guarded(
                "create_segment",
                service.create_segment(org, event, draft.clone()),
            )
            .await;
        agrees("create_segment", &checked, &created);
        if let (Ok(segment), Ok(name)) = (&created, &checked) {
            assert_eq!((&segment.name, &segment.rule), (name, &draft.rule));
        }
        // Redefining the exhibitors re-evaluates the published tasks that target them.
        let updated = w
            .guarded(
                "update_segment",
                service.update_segment(org, event, w.segments[0], draft.clone()),
            )
            .await;
        agrees("update_segment", &checked, &updated);
        outcome(created.is_ok())
    })
}

// ----- host_events and host_actions --------------------------------------------------

/// Checks the per-item results of a batch against the items' own validation; returns
/// whether any item was applied.
fn batch_results<T>(
    op: &str,
    items: &[T],
    results: &[Result<IngestOutcome>],
    validate: impl Fn(&T) -> Result<()>,
) -> bool {
    assert_eq!(
        results.len(),
        items.len(),
        "X3: {op} gives one result per item"
    );
    for (item, result) in items.iter().zip(results) {
        agrees(op, &validate(item), result);
        if let Err(e) = result {
            typed(op, e);
        }
    }
    results
        .iter()
        .any(|r| matches!(r, Ok(IngestOutcome::Applied)))
}

/// Runs a batch twice: the first delivery writes nothing unless an item was applied, the
/// second changes nothing (X3). Returns whether an item was applied.
async fn twice<T>(
    w: &World,
    op: &str,
    items: &[T],
    validate: impl Fn(&T) -> Result<()>,
    run: impl AsyncFn() -> Result<Vec<Result<IngestOutcome>>>,
) -> bool {
    let before = w.dump().await;
    let first = match run().await {
        Err(e) => {
            typed(op, &e);
            assert!(
                w.dump().await == before,
                "X5: {op} was refused ({e}) but wrote"
            );
            return false;
        }
        Ok(results) => results,
    };
    let applied = batch_results(op, items, &first, &validate);
    let after = w.dump().await;
    if !applied {
        assert!(
            after == before,
            "X3: {op} applied nothing but wrote: {first:?}"
        );
    }
    let again = run()
        .await
        .unwrap_or_else(|e| panic!("{op}: the same batch again was refused: {e}"));
    batch_results(op, items, &again, &validate);
    for (i, (a, b)) in first.iter().zip(&again).enumerate() {
        assert!(
            !matches!(b, Ok(IngestOutcome::Applied)),
            "X3: item {i} of {op} applied again"
        );
        if matches!(a, Ok(IngestOutcome::Applied)) {
            assert!(
                matches!(b, Ok(IngestOutcome::Duplicate)),
                "X3: item {i} of {op}, applied the first time, is not a duplicate: {b:?}"
            );
        }
    }
    assert!(
        w.dump().await == after,
        "X3: {op} delivered twice wrote again"
    );
    applied
}

fn run_host_events(data: &[u8]) -> Outcome {
    let Ok(mut events) = serde_json::from_slice::<Vec<HostEvent>>(data) else {
        return Outcome::Unparsed;
    };
    block_on(async {
        let w = World::new().await;
        for e in &mut events {
            e.participant = w.person_ref(&e.participant);
        }
        let now = w.f.clock.now();
        let run = async || {
            w.f.service
                .ingest_batch(&Actor::System, w.f.event, events.clone())
                .await
        };
        let validate = |e: &HostEvent| e.validate(now);
        outcome(twice(&w, "ingest_batch", &events, validate, run).await)
    })
}

/// The participants a timeline kind names, to point them at the ready event's.
fn named_mut(kind: &mut TimelineKind) -> Option<&mut ParticipantId> {
    match kind {
        TimelineKind::TaskAssigned { assignee: p, .. }
        | TimelineKind::TaskReceived { owner: p, .. }
        | TimelineKind::TaskTakenBack { from: p, .. }
        | TimelineKind::CollaboratorLinked { owner: p }
        | TimelineKind::MeetingBooked { with: p, .. }
        | TimelineKind::MeetingReceived { from: p, .. }
        | TimelineKind::ContactRequestSent { to: p }
        | TimelineKind::ContactRequestReceived { from: p }
        | TimelineKind::Scanned {
            place: ScanPlace::Partner { partner: p },
        }
        | TimelineKind::ExhibitorBookmarked { exhibitor: p } => Some(p),
        _ => None,
    }
}

fn run_host_actions(data: &[u8]) -> Outcome {
    let Ok(mut actions) = serde_json::from_slice::<Vec<HostAction>>(data) else {
        return Outcome::Unparsed;
    };
    block_on(async {
        let w = World::new().await;
        let (service, org, event) = (&w.f.service, &w.f.organizer, w.f.event);
        for a in &mut actions {
            a.participant = w.person_ref(&a.participant);
            if let Some(p) = named_mut(&mut a.kind) {
                *p = w.person(*p);
            }
        }
        let now = w.f.clock.now();
        let run = async || {
            service
                .report_actions(&Actor::System, event, actions.clone())
                .await
        };
        let validate = |a: &HostAction| a.validate(now);
        let applied = twice(&w, "report_actions", &actions, validate, run).await;
        // The timelines' CSV (B4, R5).
        let mut whose: Vec<ParticipantId> = actions
            .iter()
            .filter_map(|a| match a.participant {
                ParticipantRef::Id(p) => Some(p),
                ParticipantRef::External(_) => None,
            })
            .collect();
        whose.sort();
        whose.dedup();
        for p in whose {
            let mut out = Vec::new();
            let filter = TimelineFilter::default();
            let written = service
                .export_timeline_csv(org, event, p, &filter, &mut out)
                .await;
            match written {
                Ok(n) => check_csv("export_timeline_csv", &out, n),
                Err(e) => typed("export_timeline_csv", &e),
            }
        }
        outcome(applied)
    })
}

// ----- event_templates ---------------------------------------------------------------

/// The templates a text gives: sections separated by a line `---`, each a key on its first
/// line and the source after it.
fn templates_of(text: &str) -> BTreeMap<String, String> {
    text.split("\n---\n")
        .map(|section| match section.split_once('\n') {
            Some((key, source)) => (key.to_owned(), source.to_owned()),
            None => (section.to_owned(), String::new()),
        })
        .collect()
}

fn run_event_templates(data: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(data) else {
        return Outcome::Unparsed;
    };
    let templates = templates_of(text);
    block_on(async {
        let w = World::new().await;
        let (service, org, event) = (&w.f.service, &w.f.organizer, w.f.event);
        let mut settings = w.settings().await;
        settings.templates = templates;
        let checked = settings.validate();
        let updated = w
            .guarded("update_event", service.update_event(org, event, settings))
            .await;
        agrees("update_event", &checked, &updated);
        if checked.is_ok() {
            updated.as_ref().expect("valid templates are accepted");
        }
        if updated.is_err() {
            return Outcome::Refused;
        }
        render_every_kind(&w).await;
        Outcome::Accepted
    })
}

/// Queues a notification of every kind (N1, N2, N3, N7, B5, T3) and dispatches them all,
/// rendering each with the event's templates. A template that compiles but fails to render
/// makes a dead letter (the organizer lists them); nothing may panic.
async fn render_every_kind(w: &World) {
    let (service, org, event) = (&w.f.service, &w.f.organizer, w.f.event);
    let (ann, hotel, proof) = (w.ann(), &w.tasks[4], &w.tasks[5]);
    // N1: a notice of publication to everyone.
    let mut notice = TaskConfig::manual(w.f.en.clone(), "Welcome", Fixture::<MemoryStore>::web());
    notice.notify_on_publish = true;
    w.f.publish(notice).await;
    // B5: the organizers' nudge; T3: a rejected submission.
    service
        .remind_now(org, event, hotel.id, RemindTarget::Participant(ann.id))
        .await
        .expect("remind now");
    service
        .reject_submission(org, event, ann.id, proof.id, "=The scan is blurred")
        .await
        .expect("reject Ann's proof");
    // N3, N7: Ann's products and proof are due within a day (grouped), Bob's hotel on its
    // own.
    w.f.clock.advance(Duration::hours(7));
    service
        .tick_reminders(org, event)
        .await
        .expect("reminder tick");
    // N2: the hotel was assigned when the event was made ready.
    let kinds: std::collections::BTreeSet<&str> = w
        .dump()
        .await
        .outbox
        .iter()
        .map(|e| kind_name(&e.message))
        .collect();
    assert_eq!(
        kinds,
        [
            "assignment",
            "nudge",
            "publication",
            "reminder",
            "reminders",
            "review_rejected"
        ]
        .into(),
        "the ready event queues every kind of message"
    );
    let email = RecordingNotifier::new(Channel::Email);
    let dispatcher = Dispatcher::new(service.clone())
        .with_notifier(email.clone())
        .with_config(
            DispatchConfig::default()
                .with_batch(50)
                .with_max_attempts(1),
        );
    for _ in 0..10 {
        let report = dispatcher.dispatch_once().await.expect("a dispatch round");
        if report.claimed == 0 {
            break;
        }
        assert_eq!(report.retrying, 0, "{report:?}");
    }
    let pending = w
        .dump()
        .await
        .outbox
        .iter()
        .filter(|e| !matches!(e.state, OutboxState::Sent | OutboxState::Dead))
        .count();
    assert_eq!(pending, 0, "every entry was rendered and sent, or given up");
}

fn kind_name(n: &Notification) -> &'static str {
    match n {
        Notification::Publication { .. } => "publication",
        Notification::Assignment { .. } => "assignment",
        Notification::Reminder { .. } => "reminder",
        Notification::Reminders { .. } => "reminders",
        Notification::Nudge { .. } => "nudge",
        Notification::ReviewRejected { .. } => "review_rejected",
        Notification::Digest { .. } => "digest",
    }
}

// ----- csv_filters -------------------------------------------------------------------

/// Panics unless `out` is CSV that parses back: a header and `rows` records of one width,
/// no cell starting as a spreadsheet formula would (B4).
fn check_csv(op: &str, out: &[u8], rows: u64) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(out);
    let mut records = 0u64;
    for record in reader.records() {
        let record =
            record.unwrap_or_else(|e| panic!("B4: {op} wrote CSV that does not parse: {e}"));
        for cell in record.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "B4: {op} wrote a formula cell: {cell:?}"
            );
        }
        records += 1;
    }
    assert_eq!(records, rows + 1, "{op}: the header and one record per row");
}

fn run_csv_filters(data: &[u8]) -> Outcome {
    let matrix = serde_json::from_slice::<MatrixRequest>(data).ok();
    let timeline = serde_json::from_slice::<TimelineFilter>(data).ok();
    let history = serde_json::from_slice::<HistoryFilter>(data).ok();
    if matrix.is_none() && timeline.is_none() && history.is_none() {
        return Outcome::Unparsed;
    }
    block_on(async {
        let w = World::new().await;
        let (service, org, event) = (&w.f.service, &w.f.organizer, w.f.event);
        let before = w.dump().await;
        let mut accepted = false;
        let mut answered = |op: &str, validation: Result<()>, answer: Result<u64>, out: &[u8]| {
            agrees(op, &validation, &answer);
            match answer {
                Ok(rows) => {
                    check_csv(op, out, rows);
                    accepted = true;
                }
                Err(e) => typed(op, &e),
            }
        };
        if let Some(mut request) = matrix {
            request.task = request.task.map(|t| w.task(t));
            request.segment = request.segment.map(|s| w.segment(s));
            if let Some(after) = &mut request.after {
                after.id = w.person(after.id);
            }
            let mut out = Vec::new();
            let answer = service
                .export_matrix_csv(org, event, &request, &mut out)
                .await;
            answered(
                "export_matrix_csv",
                request.validate().map(drop),
                answer,
                &out,
            );
        }
        let ann = w.ann();
        let readers = [org.clone(), w.f.as_participant(ann)];
        for reader in &readers {
            if let Some(filter) = &timeline {
                let mut out = Vec::new();
                let answer = service
                    .export_timeline_csv(reader, event, ann.id, filter, &mut out)
                    .await;
                answered("export_timeline_csv", filter.validate(), answer, &out);
            }
            if let Some(filter) = &history {
                let mut out = Vec::new();
                let answer = service
                    .export_participant_history_csv(reader, event, ann.id, filter, &mut out)
                    .await;
                answered(
                    "export_participant_history_csv",
                    filter.validate(),
                    answer,
                    &out,
                );
            }
        }
        assert!(w.dump().await == before, "an export wrote something");
        outcome(accepted)
    })
}

// ----- participant_data ----------------------------------------------------------------

fn run_participant_data(data: &[u8]) -> Outcome {
    if let Ok(newcomers) = serde_json::from_slice::<Vec<NewParticipant>>(data) {
        return block_on(async {
            let w = World::new().await;
            let (service, org, event) = (&w.f.service, &w.f.organizer, w.f.event);
            let before = w.dump().await;
            let results = w
                .guarded(
                    "register_participants",
                    service.register_participants(org, event, newcomers.clone()),
                )
                .await;
            let Ok(results) = results else {
                return Outcome::Refused;
            };
            assert_eq!(results.len(), newcomers.len(), "a result per item");
            let mut accepted = false;
            for r in &results {
                match r {
                    Ok(_) => accepted = true,
                    // A taken external id is the one conflict an import may meet.
                    Err(Error::Conflict { .. }) => {}
                    Err(e) => typed("register_participants (an item)", e),
                }
            }
            if !accepted {
                assert!(
                    w.dump().await == before,
                    "X5: every item was refused but something was written"
                );
            }
            outcome(accepted)
        });
    }
    let Ok(patch) = serde_json::from_slice::<ParticipantPatch>(data) else {
        return Outcome::Unparsed;
    };
    block_on(async {
        let w = World::new().await;
        let (service, org, event) = (&w.f.service, &w.f.organizer, w.f.event);
        let ann = w.people[0].id;
        let as_ann = Actor::participant(ann, event);
        let by_organizer = w
            .guarded(
                "update_participant",
                service.update_participant(org, event, ann, patch.clone()),
            )
            .await;
        let by_ann = w
            .guarded(
                "update_participant (herself)",
                service.update_participant(&as_ann, event, ann, patch.clone()),
            )
            .await;
        let own = service
            .participant(&as_ann, event, ann)
            .await
            .expect("Ann reads her record");
        assert!(
            own.custom_fields.is_empty(),
            "R4: a participant reads no custom field"
        );
        outcome(by_organizer.is_ok() || by_ann.is_ok())
    })
}
