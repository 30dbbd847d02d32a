//! An exhibitor's journey through Punchlist, end to end.
//!
//! The host creates a trade show; exhibitors (and a visitor) register; the organizer
//! targets three tasks at the exhibitors and publishes them; the host reports what the
//! exhibitors do on the platform (logo, products); Acme looks at its Tasks section, hands
//! "Book your hotel" to a collaborator who completes it; the deadline passes and the
//! organizer reads everyone's progress, the outbox, a timeline and a history.
//!
//! Data lives in a redb file (`punchlist-demo.redb`, or the path given as the first
//! argument); a second run shows that the first run's data survived. Time comes from a
//! [`ManualClock`], so the journey prints the same on every run.
//!
//! ```text
//! cargo run -p punchlist-examples --example exhibitor_journey
//! ```

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Tz;
use punchlist::*;

mod helpers;
use helpers::*;

// ----- the store -------------------------------------------------------------------------
//
// The one place that decides where data lives: the embedded redb store, the default, in
// one file (`punchlist-demo.redb` in the current directory, or the path given as the
// first argument). Run the example twice: the second run finds the first run's event in
// the file.
type AppStore = punchlist_redb::RedbStore;

fn store_path() -> std::path::PathBuf {
    std::env::args_os()
        .nth(1)
        .map_or_else(|| "punchlist-demo.redb".into(), Into::into)
}

async fn open_store(path: &std::path::Path) -> Result<AppStore> {
    punchlist_redb::RedbStore::open_async(path)
        .await
        .with_context(|| format!("opening {}", path.display()))
}
// -----------------------------------------------------------------------------------------

type Service = Punchlist<AppStore, ManualClock>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let clock = ManualClock::new(utc(2026, 3, 2, 8)?);
    let path = store_path();
    let service: Service = Punchlist::new(open_store(&path).await?, clock.clone());
    println!("store: redb file {}", path.display());
    previous_run(&service, &path).await?;
    let paris: Tz = chrono_tz::Europe::Paris;
    let en = Language::new("en")?;
    let fr = Language::new("fr")?;
    let mut names = Names::default();

    // ----- 1. the host creates the event ---------------------------------------------
    section("1. The host creates the event");
    let mut settings = EventSettings::new("Salon Expo Paris 2026", en.clone());
    settings.languages.push(fr.clone());
    settings.time_zone = paris;
    settings.channels.web_push = true;
    settings.custom_fields.insert(
        "booth".into(),
        CustomFieldDef {
            label: "Booth number".into(),
        },
    );
    let event = service.create_event(&Actor::System, settings).await?;
    let ev = event.id;
    // Remember this run's event beside the file, so the next run can look it up.
    std::fs::write(path.with_extension("last-event"), ev.to_string())?;
    let organizer = Actor::organizer(AdminId::new("alice@expo.example")?, ev);
    // A handle on this event for the organizer: its calls take neither again.
    let org = service.event(&organizer, ev);
    // The host itself, reporting what participants do on its platform.
    let host = service.event(&Actor::System, ev);
    println!(
        "event {:?}: languages {}, time zone {}, custom field \"booth\"",
        event.settings.name,
        event
            .settings
            .languages
            .iter()
            .map(Language::as_str)
            .collect::<Vec<_>>()
            .join(" + "),
        event.settings.time_zone,
    );
    println!("organizer: {}", names.actor(&organizer));

    // ----- 2. participants register --------------------------------------------------
    // Registration opened before the tasks were ready: participants are there when the
    // organizer previews the segment and publishes, so the publication notice reaches them.
    section("2. Participants register");
    let mut new = newcomer("crm-1001", "Amélie", "Acme", "exhibitor")?;
    new.status.language = Some(fr.clone());
    new.custom_fields.insert("booth".into(), "B12".into());
    let acme = register(&service, &organizer, ev, &mut names, new).await?;

    let mut new = newcomer("crm-1002", "Hank", "Globex", "exhibitor")?;
    new.custom_fields.insert("booth".into(), "A03".into());
    let globex = register(&service, &organizer, ev, &mut names, new).await?;

    let new = newcomer("crm-2001", "Vera", "", "visitor")?;
    let visitor = register(&service, &organizer, ev, &mut names, new).await?;

    // Acme's collaborator: a participant of their own, linked to Acme's team.
    let mut new = newcomer("crm-1001-staff-1", "Bruno", "Acme", "exhibitor-team")?;
    new.status.language = Some(fr.clone());
    let collab = register(&service, &organizer, ev, &mut names, new).await?;
    org.link_collaborator(acme.id, collab.id).await?;
    println!(
        "{} joins {}'s team (link_collaborator)",
        names.of(collab.id),
        names.of(acme.id)
    );

    // ----- 3. the organizer configures and publishes the tasks -----------------------
    clock.advance(Duration::hours(1));
    section("3. The organizer targets exhibitors and publishes three tasks");
    let rule = Rule::category("exhibitor");
    let preview = org.preview_segment(&rule, 10).await?;
    println!(
        "preview of Rule::category(\"exhibitor\"): {} participants ({})",
        preview.count,
        preview
            .members
            .iter()
            .map(|p| names.of(p.id))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let exhibitors = org
        .create_segment(SegmentDraft {
            name: "Exhibitors".into(),
            rule,
        })
        .await?;
    println!("segment {:?} saved", exhibitors.name);

    let mut logo = TaskConfig::automatic(
        en.clone(),
        "Upload your logo",
        Condition::LogoUploaded,
        HelpLink::WebPage {
            url: "https://expo.example/exhibitor/logo".into(),
        },
    );
    logo.texts.insert(fr.clone(), text("Téléversez votre logo"));
    logo.segment = Some(exhibitors.id);
    logo.position = 1;
    logo.notify_on_publish = true;

    let mut products = TaskConfig::automatic(
        en.clone(),
        "Add at least 3 products",
        Condition::Products { at_least: 3 },
        HelpLink::FormStep {
            form: "exhibitor-profile".into(),
            step: "products".into(),
        },
    );
    products
        .texts
        .insert(fr.clone(), text("Ajoutez au moins 3 produits"));
    products.segment = Some(exhibitors.id);
    products.position = 2;

    // No French text: French readers fall back to the default language (T1).
    let mut hotel = TaskConfig::manual(
        en.clone(),
        "Book your hotel",
        HelpLink::WebPage {
            url: "https://expo.example/hotels".into(),
        },
    );
    hotel.segment = Some(exhibitors.id);
    hotel.position = 3;
    hotel.deadline = Some(
        paris
            .with_ymd_and_hms(2026, 3, 20, 18, 0, 0)
            .single()
            .context("an unambiguous local time")?
            .with_timezone(&Utc),
    );

    let mut task_names = BTreeMap::new();
    let mut drafts = Vec::new();
    for config in [logo, products, hotel] {
        let task = org.create_task(config).await?;
        let name = task.text(&en, &event.settings).name.clone();
        println!("draft created: {name:?} ({})", mode(&task));
        task_names.insert(task.id, name);
        drafts.push(task.id);
    }
    let published = org.publish_tasks(&drafts).await?;
    println!(
        "published together: {} tasks ({} notifies on publish)",
        published.len(),
        published
            .iter()
            .filter(|t| t.config.notify_on_publish)
            .count()
    );
    let (products_id, hotel_id) = (drafts[1], drafts[2]);

    // ----- 4. the host reports facts -------------------------------------------------
    clock.advance(Duration::hours(2));
    section("4. The host reports what exhibitors do on the platform");
    let at = clock.now() - Duration::minutes(30);
    let outcome = host
        .ingest(fact("evt-7001", acme.id, at, HostFact::LogoUploaded)?)
        .await?;
    println!("ingest evt-7001 (Acme uploaded its logo): {outcome:?}");

    let product = |p: &str| -> Result<HostFact> {
        Ok(HostFact::ProductAdded {
            product: ExternalId::new(p)?,
        })
    };
    let batch = vec![
        fact("evt-7002", acme.id, at, product("sku-rocket-skates")?)?,
        fact("evt-7003", acme.id, at, product("sku-giant-magnet")?)?,
        fact("evt-7004", acme.id, at, product("sku-anvil")?)?,
        fact("evt-7005", globex.id, at, product("sku-doomsday-device")?)?,
        // The host's queue delivers evt-7001 a second time.
        fact("evt-7001", acme.id, at, HostFact::LogoUploaded)?,
        // A field key the library refuses: the item fails alone, the rest is committed.
        fact(
            "evt-7006",
            globex.id,
            at,
            HostFact::FieldSet {
                field: "booth size!".into(),
                value: "12 m²".into(),
            },
        )?,
    ];
    let ids: Vec<String> = batch.iter().map(|e| e.id.to_string()).collect();
    let results = host.ingest_batch(batch).await?;
    println!("ingest_batch of {} items (one transaction):", results.len());
    for (id, result) in ids.iter().zip(results) {
        match result {
            Ok(outcome) => println!("  {id}: {outcome:?}"),
            Err(Error::Invalid { field, reason }) => {
                println!("  {id}: Error::Invalid {{ field: {field:?}, reason: {reason:?} }}");
            }
            Err(e) => println!("  {id}: error: {e}"),
        }
    }

    // ----- 5. Acme's Tasks section ---------------------------------------------------
    clock.advance(Duration::hours(1));
    section("5. Acme opens its Tasks section");
    let acme_actor = Actor::participant(acme.id, ev);
    let list = service.event(&acme_actor, ev).my_tasks().await?;
    print_list("Acme (reads French)", acme.id, &list, &names);

    match service
        .event(&acme_actor, ev)
        .complete_task(acme.id, products_id)
        .await
    {
        Ok(_) => println!("(unexpected) an automatic task was ticked by hand"),
        Err(e) => println!("Acme tries to tick an automatic task by hand -> {e}"),
    }

    let visitor_actor = Actor::participant(visitor.id, ev);
    let list = service.event(&visitor_actor, ev).my_tasks().await?;
    println!(
        "Vera (visitor) sees {} tasks, progress {}/{}",
        list.items.len(),
        list.summary.done,
        list.summary.total
    );
    match service.event(&visitor_actor, ev).tasks_of(acme.id).await {
        Ok(_) => println!("(unexpected) the visitor read Acme's list"),
        Err(e) => println!("Vera asks for Acme's list -> {e}"),
    }

    // ----- 6. Acme hands "Book your hotel" to its collaborator ------------------------
    clock.advance(Duration::hours(1));
    section("6. Acme assigns \"Book your hotel\" to a collaborator");
    let team = service
        .event(&acme_actor, ev)
        .collaborators(acme.id)
        .await?;
    let bruno = team.first().context("Acme has a collaborator")?;
    println!(
        "Acme's collaborators: {}",
        team.iter()
            .map(|p| p.profile.display_name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    service
        .event(&acme_actor, ev)
        .assign_task(acme.id, hotel_id, bruno.id)
        .await?;
    println!("Acme assigned it to {}", names.of(bruno.id));

    clock.advance(Duration::hours(3));
    let bruno_actor = Actor::participant(bruno.id, ev);
    let list = service.event(&bruno_actor, ev).my_tasks().await?;
    print_list("Bruno (collaborator)", bruno.id, &list, &names);
    let row = service
        .event(&bruno_actor, ev)
        .complete_task(acme.id, hotel_id)
        .await?;
    println!("Bruno marks it done: status {:?}", row.status);

    clock.advance(Duration::minutes(10));
    let list = service.event(&acme_actor, ev).my_tasks().await?;
    print_list("Acme, afterwards", acme.id, &list, &names);

    // ----- 7. the organizer follows progress -----------------------------------------
    clock.set(utc(2026, 3, 21, 9)?);
    section("7. The organizer follows progress (the hotel deadline has passed)");
    for id in [acme.id, globex.id] {
        let list = org.tasks_of(id).await?;
        print_list(names.of(id), id, &list, &names);
    }

    println!("\noutbox (queued for the dispatcher):");
    for entry in org.outbox(&OutboxFilter::default(), None, 100).await? {
        let what = match &entry.message {
            Notification::Publication { tasks } => format!(
                "publication of {}",
                tasks
                    .iter()
                    .map(|t| format!("{:?}", task_names.get(t).map_or("?", String::as_str)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Notification::Assignment { task, owner } => format!(
                "assignment of {:?} by {}",
                task_names.get(task).map_or("?", String::as_str),
                names.of(*owner)
            ),
            other => format!("{other:?}"),
        };
        println!(
            "  {} to {:<20} {what} [{:?}]",
            local(entry.created_at, paris),
            names.of(entry.recipient),
            entry.state
        );
    }

    // ----- the participant's record: what the platform saw Acme and the visitor do -----
    // Pings while they browse (R13): the first puts "first login" on the timeline; later
    // ones write at most once a minute.
    host.ping(acme.id, LoginChannel::Web).await?;
    host.ping(visitor.id, LoginChannel::App).await?;
    clock.advance(Duration::minutes(5));
    host.ping(acme.id, LoginChannel::Web).await?;
    // Actions on the platform's side (R5), reported in one batch, each once by its id.
    let now = clock.now();
    let reported = vec![
        HostAction {
            id: HostEventId::new("mail-open-118")?,
            participant: acme.id.into(),
            occurred_at: now - Duration::days(3),
            kind: TimelineKind::EmailOpened {
                email: ExternalId::new("exhibitor-kit")?,
            },
        },
        HostAction {
            id: HostEventId::new("scan-4411")?,
            participant: visitor.id.into(),
            occurred_at: now - Duration::minutes(2),
            kind: TimelineKind::Scanned {
                place: ScanPlace::Partner { partner: acme.id },
            },
        },
        HostAction {
            id: HostEventId::new("bookmark-77")?,
            participant: visitor.id.into(),
            occurred_at: now - Duration::minutes(1),
            kind: TimelineKind::ExhibitorBookmarked { exhibitor: acme.id },
        },
    ];
    let outcomes = host.report_actions(reported).await?;
    println!(
        "\nhost actions reported: {} applied",
        outcomes
            .iter()
            .filter(|o| matches!(o, Ok(IngestOutcome::Applied)))
            .count()
    );
    // Vera picks two sessions on the platform (R6, R8); she attends the keynote.
    let day = utc(2026, 3, 24, 8)?;
    for (id, title, hours) in [
        ("keynote", "Opening keynote", 0),
        ("ws-rust", "Workshop: Rust", 3),
    ] {
        host.register_to_session(
            visitor.id,
            Session {
                id: ExternalId::new(id)?,
                title: title.into(),
                starts_at: day + Duration::hours(hours),
                ends_at: day + Duration::hours(hours + 1),
                place: Some("Hall A".into()),
            },
        )
        .await?;
    }
    let agenda = org.agenda(visitor.id).await?;
    println!("{}'s agenda:", names.of(visitor.id));
    for item in &agenda.items {
        if let AgendaItem::Session { session, .. } = item {
            println!(
                "  {}  {} ({})",
                item.local_start(agenda.time_zone).format("%a %-d %b %H:%M"),
                session.title,
                session.place.as_deref().unwrap_or("")
            );
        }
    }
    println!("registrants, with the online status column:");
    for row in org.registrants(None, None, 50).await?.rows {
        println!(
            "  {:<22} {:?}",
            names.of(row.participant.id),
            row.presence.status
        );
    }
    println!(
        "{}'s timeline, scans and bookmarks only:",
        names.of(visitor.id)
    );
    let filter = TimelineFilter {
        kinds: [ActionKind::Scanned, ActionKind::ExhibitorBookmarked].into(),
        ..TimelineFilter::default()
    };
    for entry in org.timeline(visitor.id, &filter, 50).await? {
        println!(
            "  {}  {}  {}",
            local(entry.at, paris),
            entry.kind.action_kind(),
            entry.kind.details()
        );
    }

    // The rest of Vera's record: partners (R10), messages (R7), the whole export (X6).
    let partners = org.partners(visitor.id).await?;
    for p in &partners.bookmarked {
        println!("{} bookmarked {}", names.of(visitor.id), p.company);
    }
    for p in &partners.scanned_by {
        println!("{} was scanned by {}", names.of(visitor.id), p.company);
    }
    let vera_actor = Actor::participant(visitor.id, ev);
    service
        .event(&vera_actor, ev)
        .send_message(visitor.id, "Is the workshop in English?")
        .await?;
    org.send_message(visitor.id, "Yes, and the slides are shared after.")
        .await?;
    let thread = service
        .event(&vera_actor, ev)
        .messages(visitor.id, None, 10)
        .await?;
    println!(
        "{}'s messages ({} unread):",
        names.of(visitor.id),
        thread.unread
    );
    for m in thread.messages.iter().rev() {
        println!("  {}: {}", names.actor(&m.sender), m.body);
    }
    let export = org.export_participant(visitor.id).await?;
    println!(
        "export of {}'s data: {} timeline entries, {} history lines, {} messages, {} bytes of JSON",
        names.of(visitor.id),
        export.timeline.len(),
        export.history.len(),
        export.messages.len(),
        serde_json::to_vec(&export)?.len()
    );

    println!("\nAcme's timeline (newest first):");
    for entry in org
        .timeline(acme.id, &TimelineFilter::default(), 50)
        .await?
    {
        let what = match &entry.kind {
            TimelineKind::Registered => "registered".to_owned(),
            TimelineKind::TaskCompleted { task } => {
                format!("task completed: {:?}", task_names[task])
            }
            TimelineKind::TaskReopened { task } => {
                format!("task reopened: {:?}", task_names[task])
            }
            TimelineKind::TaskAssigned { task, assignee } => format!(
                "task {:?} assigned to {}",
                task_names[task],
                names.of(*assignee)
            ),
            TimelineKind::TaskReceived { task, owner } => {
                format!("received {:?} from {}", task_names[task], names.of(*owner))
            }
            TimelineKind::TaskTakenBack { task, from } => {
                format!("took {:?} back from {}", task_names[task], names.of(*from))
            }
            TimelineKind::CollaboratorLinked { owner } => {
                format!("joined {}'s team", names.of(*owner))
            }
            other => format!("{} {}", other.action_kind(), other.details()),
        };
        println!(
            "  {}  {what}  (by {})",
            local(entry.at, paris),
            names.actor(&entry.actor)
        );
    }

    // Acme moved booth: the organizer changes the custom field; the history says who did.
    let patch = ParticipantPatch {
        custom_fields: [("booth".to_owned(), Some("C07".to_owned()))].into(),
        ..ParticipantPatch::default()
    };
    org.update_participant(acme.id, patch).await?;
    println!("\nAcme's history (newest first):");
    for line in org
        .participant_history(acme.id, &HistoryFilter::default(), 20)
        .await?
    {
        println!(
            "  {}  {}: {} -> {}  (by {})",
            local(line.at, paris),
            line.field,
            line.old,
            line.new,
            names.actor(&line.actor)
        );
    }
    println!("\n\"Book your hotel\" task history (newest first):");
    for line in org.task_history(hotel_id, None, 20).await? {
        println!(
            "  {}  {}: {} -> {}  (by {})",
            local(line.at, paris),
            line.field,
            line.old,
            line.new,
            names.actor(&line.actor)
        );
    }

    section("8. The organizer's back office: figures and the tracking matrix");
    let tasks = org.tasks().await?;
    let title = |id: TaskId| {
        tasks
            .iter()
            .find(|t| t.id == id)
            .map_or("?".to_owned(), |t| {
                t.text(&event.settings.default_language, &event.settings)
                    .name
                    .clone()
            })
    };
    println!("figures (read from counters, not a scan):");
    for f in org.task_figures().await? {
        println!(
            "  {:<26} targeted {:>2}  done {:>2}  awaiting review {:>2}  overdue {:>2}  rate {:>3}%",
            title(f.task),
            f.targeted,
            f.done,
            f.awaiting_review,
            f.overdue,
            f.rate
        );
    }
    let request = MatrixRequest {
        sort: MatrixSort::Company,
        limit: 2,
        ..MatrixRequest::default()
    };
    let mut page = org.matrix(&request).await?;
    println!("matrix, by company, in pages of 2:");
    let header: Vec<String> = page.tasks.iter().map(|t| title(*t)).collect();
    println!(
        "  {:<22} {:<8} {}",
        "participant",
        "progress",
        header.join(" | ")
    );
    loop {
        for row in &page.rows {
            let cells: Vec<String> = row
                .cells
                .iter()
                .map(|c| match (c.status, c.overdue) {
                    (None, _) => "-".to_owned(),
                    (Some(_), true) => "OVERDUE".to_owned(),
                    (Some(ProgressStatus::Done), _) => "done".to_owned(),
                    (Some(ProgressStatus::AwaitingReview), _) => "in review".to_owned(),
                    (Some(_), _) => "to do".to_owned(),
                })
                .collect();
            println!(
                "  {:<22} {:<8} {}",
                names.of(row.participant.id),
                format!("{}/{}", row.summary.done, row.summary.total),
                cells.join(" | ")
            );
        }
        let Some(next) = page.next.take() else { break };
        let request = MatrixRequest {
            after: Some(next),
            ..request.clone()
        };
        page = org.matrix(&request).await?;
    }
    let overdue = MatrixRequest {
        task: Some(hotel_id),
        status: Some(StatusFilter::Overdue),
        ..MatrixRequest::default()
    };
    let late = org.matrix(&overdue).await?;
    println!(
        "overdue on \"Book your hotel\": {}",
        late.rows
            .iter()
            .map(|r| names.of(r.participant.id).to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let reminded = org
        .remind_now(hotel_id, RemindTarget::AllIncomplete)
        .await?;
    println!("remind now, every incomplete one: {reminded} reminder(s) queued");
    println!("figures as CSV (formula cells neutralised):");
    let mut csv = Vec::new();
    org.export_figures_csv(&mut csv).await?;
    for line in String::from_utf8_lossy(&csv).lines() {
        println!("  {line}");
    }
    Ok(())
}
