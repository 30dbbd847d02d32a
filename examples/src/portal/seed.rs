//! The demo event the portal starts with, so it shows something on first start: exhibitors
//! with their collaborators, speakers and visitors; tasks of every mode aimed at each
//! group (one still a draft, one already overdue); some progress, timeline actions,
//! sessions, a meeting and a message thread.
//!
//! Deadlines are set relative to the time of seeding, so the demo always has tasks due
//! soon and one overdue; the programme's sessions are on fixed dates.

use anyhow::Result;
use chrono::{DateTime, Duration, TimeZone, Utc};
use punchlist::{
    Actor, BadgePlace, Clock, Condition, CustomFieldDef, EventId, EventSettings, ExternalId,
    HelpLink, HostAction, HostEvent, HostEventId, HostFact, Language, LoginChannel, Networking,
    NewMeeting, NewParticipant, ParticipantId, Rule, ScanPlace, SegmentDraft, SegmentId, Session,
    TaskConfig, TimelineKind,
};

use super::Service;

/// The host's id of Acme's exhibitor, Amélie Martin: the demo's main participant.
pub const ACME: &str = "crm-1001";
/// The host's id of Globex's exhibitor, Hank Scorpio.
pub const GLOBEX: &str = "crm-1002";
/// The host's id of Bruno Leroy, a collaborator of Acme.
pub const ACME_COLLABORATOR: &str = "crm-1001-staff-1";
/// The host's id of Vera Novak, a visitor.
pub const VISITOR: &str = "crm-3001";
/// The host's id of Grace Liu, a speaker.
pub const SPEAKER: &str = "crm-2001";

/// The event's programme: the sessions participants register to (R6, R8).
pub fn session_catalogue() -> Vec<Session> {
    let paris = chrono_tz::Europe::Paris;
    let at = |day: u32, hour: u32, minute: u32| {
        paris
            .with_ymd_and_hms(2027, 3, day, hour, minute, 0)
            .single()
            .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
    };
    let session = |id: &str, title: &str, start, end, place: &str| Session {
        id: ExternalId::new(id).expect("a valid session id"),
        title: title.to_owned(),
        starts_at: start,
        ends_at: end,
        place: Some(place.to_owned()),
    };
    vec![
        session(
            "opening-keynote",
            "Opening keynote",
            at(2, 9, 30),
            at(2, 10, 30),
            "Main stage",
        ),
        session(
            "workshop-ai",
            "Workshop: AI at the booth",
            at(2, 14, 0),
            at(2, 15, 30),
            "Room B",
        ),
        session(
            "panel-green",
            "Panel: greener trade shows",
            at(3, 11, 0),
            at(3, 12, 0),
            "Room A",
        ),
        session(
            "closing",
            "Closing and awards",
            at(4, 17, 0),
            at(4, 18, 0),
            "Main stage",
        ),
    ]
}

struct Person<'a> {
    external: &'a str,
    first: &'a str,
    last: &'a str,
    company: &'a str,
    job: &'a str,
    category: &'a str,
    language: &'a str,
}

const PEOPLE: [Person<'static>; 11] = [
    Person {
        external: ACME,
        first: "Amélie",
        last: "Martin",
        company: "Acme",
        job: "Marketing lead",
        category: "exhibitor",
        language: "fr",
    },
    Person {
        external: GLOBEX,
        first: "Hank",
        last: "Scorpio",
        company: "Globex",
        job: "CEO",
        category: "exhibitor",
        language: "en",
    },
    Person {
        external: "crm-1003",
        first: "Nina",
        last: "Patel",
        company: "Initech",
        job: "Sales manager",
        category: "exhibitor",
        language: "en",
    },
    Person {
        external: ACME_COLLABORATOR,
        first: "Bruno",
        last: "Leroy",
        company: "Acme",
        job: "Booth staff",
        category: "exhibitor-team",
        language: "fr",
    },
    Person {
        external: "crm-1001-staff-2",
        first: "Chloé",
        last: "Dubois",
        company: "Acme",
        job: "Designer",
        category: "exhibitor-team",
        language: "fr",
    },
    Person {
        external: "crm-1002-staff-1",
        first: "Omar",
        last: "Haddad",
        company: "Globex",
        job: "Logistics",
        category: "exhibitor-team",
        language: "en",
    },
    Person {
        external: SPEAKER,
        first: "Grace",
        last: "Liu",
        company: "Northwind Labs",
        job: "Researcher",
        category: "speaker",
        language: "en",
    },
    Person {
        external: "crm-2002",
        first: "Marc",
        last: "Petit",
        company: "",
        job: "Author",
        category: "speaker",
        language: "fr",
    },
    Person {
        external: VISITOR,
        first: "Vera",
        last: "Novak",
        company: "Contoso",
        job: "Buyer",
        category: "visitor",
        language: "en",
    },
    Person {
        external: "crm-3002",
        first: "Victor",
        last: "Lambert",
        company: "",
        job: "Student",
        category: "visitor",
        language: "fr",
    },
    Person {
        external: "crm-3003",
        first: "Sofia",
        last: "Rossi",
        company: "Fabrikam",
        job: "Architect",
        category: "visitor",
        language: "en",
    },
];

/// "Chloé" → "chloe", "Northwind Labs" → "northwindlabs": for the demo's addresses.
fn slug(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'é' | 'è' | 'ê' => Some('e'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn web(url: &str) -> HelpLink {
    HelpLink::WebPage {
        url: url.to_owned(),
    }
}

fn field(name: &str) -> Condition {
    Condition::FieldFilled {
        field: name.to_owned(),
        value: None,
    }
}

/// Creates the demo event and everything in it; returns the event.
pub async fn seed(service: &Service) -> Result<EventId> {
    let now = service.clock().now();
    let system = Actor::System;
    let en = Language::new("en")?;
    let fr = Language::new("fr")?;

    let mut settings = EventSettings::new("Salon Expo Paris 2027", en.clone());
    settings.languages.push(fr.clone());
    settings.time_zone = chrono_tz::Europe::Paris;
    settings.channels.email = true;
    settings.channels.web_push = true;
    settings.custom_fields.insert(
        "booth".into(),
        CustomFieldDef {
            label: "Booth number".into(),
        },
    );
    let event = service.create_event(&system, settings).await?;
    let ev = event.id;
    let org = Actor::organizer(punchlist::AdminId::new(super::ORGANIZER)?, ev);

    // ----- participants ---------------------------------------------------------------
    let mut ids = std::collections::BTreeMap::new();
    for p in &PEOPLE {
        let mut new = NewParticipant::new(ExternalId::new(p.external)?);
        new.profile.first_name = p.first.into();
        new.profile.last_name = p.last.into();
        new.profile.company = p.company.into();
        new.profile.job_title = p.job.into();
        new.profile.email = Some(format!(
            "{}.{}@{}.example",
            slug(p.first),
            slug(p.last),
            if p.company.is_empty() {
                "mail".to_owned()
            } else {
                slug(p.company)
            }
        ));
        new.status.categories.insert(p.category.into());
        new.status.language = Some(Language::new(p.language)?);
        if p.category == "exhibitor" {
            new.custom_fields
                .insert("booth".into(), format!("B{}", 10 + ids.len()));
        }
        new.utm.source = Some("newsletter".into());
        new.utm.campaign = Some("expo-2027-launch".into());
        let created = service.event(&org, ev).register_participant(new).await?;
        ids.insert(p.external, created.id);
    }
    let id = |external: &str| -> ParticipantId { ids[external] };
    service
        .event(&org, ev)
        .link_collaborator(id(ACME), id(ACME_COLLABORATOR))
        .await?;
    service
        .event(&org, ev)
        .link_collaborator(id(ACME), id("crm-1001-staff-2"))
        .await?;
    service
        .event(&org, ev)
        .link_collaborator(id(GLOBEX), id("crm-1002-staff-1"))
        .await?;

    // ----- segments and tasks ---------------------------------------------------------
    let segment = async |name: &str, rule: Rule| -> Result<SegmentId> {
        let draft = SegmentDraft {
            name: name.into(),
            rule,
        };
        Ok(service.event(&org, ev).create_segment(draft).await?.id)
    };
    let exhibitors = segment("Exhibitors", Rule::category("exhibitor")).await?;
    let speakers = segment("Speakers", Rule::category("speaker")).await?;
    let visitors = segment("Visitors", Rule::category("visitor")).await?;
    segment("Exhibitor teams", Rule::category("exhibitor-team")).await?;

    let day = Duration::days(1);
    let mut tasks = Vec::new();
    let mut task = async |mut config: TaskConfig,
                          segment: Option<SegmentId>,
                          deadline: Option<DateTime<Utc>>,
                          position: i32,
                          publish: bool|
           -> Result<()> {
        config.segment = segment;
        config.deadline = deadline;
        config.position = position;
        let created = service.event(&org, ev).create_task(config).await?;
        if publish {
            tasks.push(created.id);
        }
        Ok(())
    };
    let auto =
        |name: &str, c: Condition, url: &str| TaskConfig::automatic(en.clone(), name, c, web(url));
    let manual = |name: &str, url: &str| TaskConfig::manual(en.clone(), name, web(url));

    let mut logo = auto(
        "Upload your logo",
        Condition::LogoUploaded,
        "https://expo.example/exhibitor/logo",
    );
    logo.texts.insert(
        fr.clone(),
        punchlist::TaskText {
            name: "Téléversez votre logo".into(),
            description: "Il apparaîtra sur le plan et dans le catalogue.".into(),
        },
    );
    if let Some(t) = logo.texts.get_mut(&en) {
        t.description = "It appears on the floor plan and in the catalogue.".into();
    }
    task(logo, Some(exhibitors), Some(now + day * 14), 1, true).await?;
    task(
        auto(
            "Add your products",
            Condition::Products { at_least: 3 },
            "https://expo.example/exhibitor/products",
        ),
        Some(exhibitors),
        Some(now + day * 21),
        2,
        true,
    )
    .await?;
    task(
        auto(
            "Create your collaborators",
            Condition::Collaborators { at_least: 2 },
            "https://expo.example/exhibitor/team",
        ),
        Some(exhibitors),
        None,
        3,
        true,
    )
    .await?;
    let mut hotel = manual("Book your hotel", "https://expo.example/hotels");
    if let Some(t) = hotel.texts.get_mut(&en) {
        t.description =
            "Partner hotels keep rooms for exhibitors until a week before the show.".into();
    }
    task(hotel, Some(exhibitors), Some(now + day * 7), 4, true).await?;
    task(
        auto(
            "Send your invitations",
            Condition::Invitations { at_least: 5 },
            "https://expo.example/exhibitor/invitations",
        ),
        Some(exhibitors),
        Some(now - day * 2),
        5,
        true,
    )
    .await?;
    let mut contract = TaskConfig::manual(
        en.clone(),
        "Sign the exhibitor contract",
        HelpLink::FormStep {
            form: "contract".into(),
            step: "signature".into(),
        },
    );
    contract.review = true;
    task(contract, Some(exhibitors), Some(now + day * 30), 6, true).await?;
    task(
        auto(
            "Complete your exhibitor profile",
            Condition::All {
                conditions: vec![field("description"), field("website")],
            },
            "https://expo.example/exhibitor/profile",
        ),
        Some(exhibitors),
        None,
        7,
        true,
    )
    .await?;
    task(
        auto(
            "Upload photo & biography",
            Condition::All {
                conditions: vec![field("photo"), field("biography")],
            },
            "https://expo.example/speaker/profile",
        ),
        Some(speakers),
        Some(now + day * 10),
        1,
        true,
    )
    .await?;
    let mut technical = TaskConfig::automatic(
        en.clone(),
        "Complete the technical form",
        Condition::FormCompleted {
            form: "technical".into(),
        },
        HelpLink::FormStep {
            form: "technical".into(),
            step: "1".into(),
        },
    );
    technical.notify_on_publish = true;
    task(technical, Some(speakers), Some(now + day * 5), 2, true).await?;
    task(
        auto(
            "Select a session or workshop",
            Condition::Sessions { at_least: 1 },
            "https://expo.example/programme",
        ),
        Some(visitors),
        None,
        1,
        true,
    )
    .await?;
    task(
        manual(
            "Complete the mandatory document",
            "https://expo.example/visitor/document",
        ),
        Some(visitors),
        Some(now + day * 12),
        2,
        true,
    )
    .await?;
    task(
        manual(
            "Scan your badge at the entrance",
            "https://expo.example/badge",
        ),
        None,
        None,
        9,
        false,
    )
    .await?;
    service.event(&org, ev).publish_tasks(&tasks).await?;

    // ----- what has happened on the platform so far -----------------------------------
    let mut n = 0;
    let mut fact = async |who: &str, fact: HostFact| -> Result<()> {
        n += 1;
        service
            .event(&system, ev)
            .ingest(HostEvent {
                id: HostEventId::new(format!("seed-{n}"))?,
                participant: id(who).into(),
                occurred_at: now - Duration::hours(30) + Duration::minutes(n),
                fact,
            })
            .await?;
        Ok(())
    };
    fact(GLOBEX, HostFact::LogoUploaded).await?;
    for p in ["globex-anvil", "globex-rocket"] {
        fact(
            GLOBEX,
            HostFact::ProductAdded {
                product: ExternalId::new(p)?,
            },
        )
        .await?;
    }
    for c in [ACME_COLLABORATOR, "crm-1001-staff-2"] {
        fact(
            ACME,
            HostFact::CollaboratorAdded {
                collaborator: ExternalId::new(c)?,
            },
        )
        .await?;
    }
    fact(
        ACME,
        HostFact::FieldSet {
            field: "description".into(),
            value: "Anvils and more since 1949.".into(),
        },
    )
    .await?;
    fact(
        SPEAKER,
        HostFact::FieldSet {
            field: "biography".into(),
            value: "Grace studies crowds.".into(),
        },
    )
    .await?;

    // Hank hands the hotel to Omar; Amélie books hers.
    let hotel = service
        .event(&org, ev)
        .tasks()
        .await?
        .into_iter()
        .find(|t| t.text(&en, &event.settings).name == "Book your hotel")
        .map(|t| t.id);
    if let Some(hotel) = hotel {
        service
            .assign_task(
                &Actor::participant(id(GLOBEX), ev),
                ev,
                id(GLOBEX),
                hotel,
                id("crm-1002-staff-1"),
            )
            .await?;
        let acme = Actor::participant(id(ACME), ev);
        service
            .event(&acme, ev)
            .complete_task(id(ACME), hotel)
            .await?;
    }

    // Sessions, networking, a meeting, the timeline, messages.
    let programme = session_catalogue();
    service
        .event(&system, ev)
        .register_to_session(id("crm-3003"), programme[0].clone())
        .await?;
    service
        .event(&system, ev)
        .register_to_session(id(SPEAKER), programme[1].clone())
        .await?;
    for who in [ACME, VISITOR, GLOBEX] {
        service
            .event(&system, ev)
            .set_networking(id(who), Networking::Allowed)
            .await?;
    }
    service
        .book_meeting(
            &Actor::participant(id(VISITOR), ev),
            ev,
            NewMeeting {
                booker: id(VISITOR),
                with: id(ACME),
                starts_at: programme[1].starts_at + Duration::hours(2),
                ends_at: programme[1].starts_at + Duration::hours(2) + Duration::minutes(30),
                place: Some("Booth B10".into()),
            },
        )
        .await?;
    let mut k = 0;
    let mut action = |who: &str, kind: TimelineKind, hours_ago: i64| {
        k += 1;
        HostAction {
            id: HostEventId::new(format!("seed-action-{k}")).expect("a valid id"),
            participant: id(who).into(),
            occurred_at: now - Duration::hours(hours_ago),
            kind,
        }
    };
    let actions = vec![
        action(
            ACME,
            TimelineKind::FirstLogin {
                channel: LoginChannel::Web,
            },
            48,
        ),
        action(
            VISITOR,
            TimelineKind::FirstLogin {
                channel: LoginChannel::App,
            },
            40,
        ),
        action(
            VISITOR,
            TimelineKind::ExhibitorBookmarked {
                exhibitor: id(ACME),
            },
            39,
        ),
        action(
            VISITOR,
            TimelineKind::ExhibitorBookmarked {
                exhibitor: id(GLOBEX),
            },
            38,
        ),
        action(
            VISITOR,
            TimelineKind::Scanned {
                place: ScanPlace::Partner { partner: id(ACME) },
            },
            20,
        ),
        action(
            VISITOR,
            TimelineKind::BadgePrinted {
                place: BadgePlace::SelfService,
            },
            30,
        ),
        action(
            ACME,
            TimelineKind::EmailOpened {
                email: ExternalId::new("welcome-exhibitors")?,
            },
            47,
        ),
        action(
            GLOBEX,
            TimelineKind::FirstLogin {
                channel: LoginChannel::Web,
            },
            36,
        ),
    ];
    for result in service.event(&system, ev).report_actions(actions).await? {
        result?;
    }
    service
        .event(&org, ev)
        .send_message(
            id(ACME),
            "Welcome aboard! Your booth is B10; the floor plan is in your area.",
        )
        .await?;
    service
        .send_message(
            &Actor::participant(id(ACME), ev),
            ev,
            id(ACME),
            "Thank you! Can we get a second power outlet?",
        )
        .await?;
    // Online now: Globex and the visitor (R13).
    for who in [GLOBEX, VISITOR] {
        service
            .ping(
                &Actor::participant(id(who), ev),
                ev,
                id(who),
                LoginChannel::Web,
            )
            .await?;
    }
    Ok(ev)
}
