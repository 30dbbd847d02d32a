//! The portal over plain HTTP (no browser): status codes, form errors, downloads and the
//! live feed, against the server on 127.0.0.1 with the seeded demo on a redb store.
//! The browser journeys are in `browser.rs`.

mod common;

use common::Running;
use punchlist::{Actor, Clock, HostEvent, HostEventId, HostFact};
use punchlist_examples::portal::seed;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// A GET as `who` (`organizer` or a participant id), as the demo's sign-in cookie says.
async fn get(run: &Running, who: &str, path: &str) -> (u16, String) {
    let r = client()
        .get(run.url(path))
        .header("cookie", format!("punchlist_demo={who}"))
        .send()
        .await
        .expect("the portal answers");
    let status = r.status().as_u16();
    (status, r.text().await.expect("a body"))
}

async fn post(run: &Running, who: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let r = client()
        .post(run.url(path))
        .header("cookie", format!("punchlist_demo={who}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("the portal answers");
    let status = r.status().as_u16();
    (status, r.text().await.expect("a body"))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn history_len(run: &Running, who: punchlist::ParticipantId) -> usize {
    run.portal
        .service()
        .participant_history(
            &run.portal.organizer(),
            run.event(),
            who,
            &Default::default(),
            1000,
        )
        .await
        .expect("the history")
        .len()
}

#[tokio::test]
async fn x2_portal_answers_403_to_a_participant_on_someone_elses_pages() {
    let run = Running::start().await;
    let vera = run.participant(seed::VISITOR).await.to_string();
    let acme = run.participant(seed::ACME).await;
    let logo = run.task("Upload your logo").await;

    // Their own page is theirs.
    let (status, body) = get(&run, &vera, &format!("/p/{vera}/tasks")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Select a session or workshop"));

    // Someone else's: the library's Forbidden, as a 403 page without the data.
    for path in [
        format!("/p/{acme}/tasks"),
        format!("/admin/participants/{acme}"),
        format!("/admin/participants/{acme}?tab=timeline"),
        "/admin".to_owned(),
        "/admin/matrix".to_owned(),
        "/admin/matrix.csv".to_owned(),
        "/admin/registrants".to_owned(),
    ] {
        let (status, body) = get(&run, &vera, &path).await;
        assert_eq!(status, 403, "{path}");
        assert!(!body.contains("Upload your logo"), "{path} leaks a task");
        assert!(!body.contains("Amélie"), "{path} leaks a name");
    }
    // Acting on another's task or record is refused too, and changes nothing.
    let history_before = history_len(&run, acme).await;
    let bruno = run.participant(seed::ACME_COLLABORATOR).await;
    let hotel = run.task("Book your hotel").await;
    for (path, form) in [
        (format!("/p/{acme}/tasks/{logo}/done"), vec![]),
        (format!("/p/{acme}/tasks/{hotel}/undo"), vec![]),
        (format!("/p/{acme}/tasks/{hotel}/take-back"), vec![]),
        (
            format!("/p/{acme}/tasks/{hotel}/assign"),
            vec![("assignee", bruno.to_string())],
        ),
        (format!("/p/{acme}/tasks/{hotel}/validate"), vec![]),
        (
            format!("/admin/participants/{acme}/messages"),
            vec![("body", "hello".to_owned())],
        ),
        (
            format!("/admin/participants/{acme}/networking"),
            vec![("networking", "not_allowed".to_owned())],
        ),
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = post(&run, &vera, &path, &form).await;
        assert_eq!(status, 403, "{path}: {body}");
    }
    assert_eq!(
        history_len(&run, acme).await,
        history_before,
        "Vera changed nothing of Acme's"
    );
    // A collaborator does not see their owner's page either.
    let (status, _) = get(&run, &bruno.to_string(), &format!("/p/{acme}/tasks")).await;
    assert_eq!(status, 403);
    let (status, _) = post(
        &run,
        &vera,
        &format!("/p/{acme}/platform"),
        &[("action", "upload_logo")],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        run.status(acme, logo).await,
        punchlist::ProgressStatus::Todo
    );

    // Nobody signed in: back to the chooser.
    let r = client()
        .get(run.url("/admin"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/");
}

#[tokio::test]
async fn t1_bad_task_form_shows_the_library_error_next_to_the_field_and_saves_nothing() {
    let run = Running::start().await;
    let before = run.task_count().await;
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 4] = [
        (
            &[
                ("name_en", "   "),
                ("mode", "manual"),
                ("help_kind", "web_page"),
                ("help_url", "https://expo.example"),
            ],
            "error-name_en",
            "must not be empty",
        ),
        (
            &[
                ("name_en", "Logo"),
                ("mode", "manual"),
                ("help_kind", "web_page"),
                ("help_url", "ftp://x"),
            ],
            "error-help_url",
            "http",
        ),
        (
            &[
                ("name_en", "Products"),
                ("mode", "automatic"),
                ("condition", "products"),
                ("at_least", "0"),
                ("help_kind", "web_page"),
                ("help_url", "https://expo.example"),
            ],
            "error-at_least",
            "at least 1",
        ),
        (
            &[
                ("name_en", "Soon"),
                ("mode", "manual"),
                ("deadline", "tomorrow"),
                ("help_kind", "web_page"),
                ("help_url", "https://expo.example"),
            ],
            "error-deadline",
            "date and time",
        ),
    ];
    for (form, id, reason) in cases {
        let (status, body) = post(&run, "organizer", "/admin/tasks", form).await;
        assert_eq!(status, 400, "{id}");
        let at = body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id} in the page"));
        let shown: String = body[at..].chars().take(200).collect();
        assert!(shown.contains(reason), "{id}: {shown}");
        // What was typed is kept.
        assert!(body.contains(&format!("value=\"{}\"", form[0].1)));
    }
    assert_eq!(
        run.task_count().await,
        before,
        "a refused form wrote nothing"
    );

    // A good one is saved, as a draft.
    let (status, _) = post(
        &run,
        "organizer",
        "/admin/tasks",
        &[
            ("name_en", "Order your booth furniture"),
            ("mode", "manual"),
            ("help_kind", "web_page"),
            ("help_url", "https://expo.example/furniture"),
            ("deadline", "2027-02-01T18:00"),
            ("reminders", "7d, 1d"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(run.task_count().await, before + 1);
    let id = run.task("Order your booth furniture").await;
    let task = run.task_by_id(id).await;
    assert_eq!(task.state, punchlist::TaskState::Draft);
    assert_eq!(
        task.config.deadline.map(|d| d.to_rfc3339()),
        Some("2027-02-01T17:00:00+00:00".to_owned()),
        "the deadline is read in the event's time zone (Paris)"
    );
    assert_eq!(
        task.config.reminder_offsets,
        Some(vec![
            punchlist::ReminderOffset::days(7),
            punchlist::ReminderOffset::days(1)
        ])
    );
}

#[tokio::test]
async fn b3_matrix_and_figures_download_as_csv() {
    let run = Running::start().await;
    let r = client()
        .get(run.url("/admin/matrix.csv?category=exhibitor"))
        .header("cookie", "punchlist_demo=organizer")
        .send()
        .await
        .expect("an answer");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .contains("attachment")
    );
    let csv = r.text().await.expect("a body");
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let rows = rdr.records().count();
    assert_eq!(rows, 3, "the three exhibitors:\n{csv}");
    assert!(csv.contains("Upload your logo"));

    let (status, figures) = get(&run, "organizer", "/admin/figures.csv").await;
    assert_eq!(status, 200);
    assert!(figures.lines().count() > 5, "{figures}");

    // A bad filter is named on the page, not a crash.
    let (status, body) = get(&run, "organizer", "/admin/matrix?status=done").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("status: a status filter needs a chosen task"),
        "{body}"
    );
}

#[tokio::test]
async fn b1_live_feed_streams_a_completion_as_a_server_sent_event() {
    let run = Running::start().await;
    let acme = run.participant(seed::ACME).await;
    let mut feed = client()
        .get(run.url("/admin/live"))
        .header("cookie", "punchlist_demo=organizer")
        .send()
        .await
        .expect("the feed opens");
    assert_eq!(feed.status().as_u16(), 200);
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/event-stream")
    );
    run.portal
        .service()
        .ingest(
            &Actor::System,
            run.event(),
            HostEvent {
                id: HostEventId::new("test-logo").expect("an id"),
                participant: acme.into(),
                occurred_at: run.portal.service().clock().now(),
                fact: HostFact::LogoUploaded,
            },
        )
        .await
        .expect("the fact is ingested");
    let logo = run.task("Upload your logo").await;
    let mut seen = String::new();
    while !seen.contains(&logo.to_string()) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk())
            .await
            .expect("an event within 10 s")
            .expect("the stream reads")
            .expect("the stream is open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains(&logo.to_string()), "{seen}");
    assert!(seen.contains(&acme.to_string()), "{seen}");
    assert!(seen.contains("\"status\":\"done\""), "{seen}");

    // A participant may not follow the event's progress.
    let vera = run.participant(seed::VISITOR).await.to_string();
    let (status, _) = get(&run, &vera, "/admin/live").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn r13_registrants_list_and_record_tabs_render_for_the_organizer() {
    let run = Running::start().await;
    let acme = run.participant(seed::ACME).await;
    let (status, body) = get(&run, "organizer", "/admin/registrants").await;
    assert_eq!(status, 200);
    assert!(body.contains("Amélie Martin"));
    assert!(
        body.contains("status-active"),
        "Globex and Vera pinged at seeding"
    );
    assert!(body.contains("status-never_connected"), "Nina never came");
    for tab in [
        "details",
        "timeline",
        "agenda",
        "sessions",
        "meetings",
        "partners",
        "messages",
        "networking",
        "history",
    ] {
        let (status, body) = get(
            &run,
            "organizer",
            &format!("/admin/participants/{acme}?tab={tab}"),
        )
        .await;
        assert_eq!(status, 200, "tab {tab}");
        assert!(body.contains("Amélie Martin"), "tab {tab}");
    }
    let (_, messages) = get(
        &run,
        "organizer",
        &format!("/admin/participants/{acme}?tab=messages"),
    )
    .await;
    assert!(messages.contains("second power outlet"));
    let (_, meetings) = get(
        &run,
        "organizer",
        &format!("/admin/participants/{acme}?tab=meetings"),
    )
    .await;
    assert!(meetings.contains("Booth B10"));
    let (status, csv) = get(
        &run,
        "organizer",
        &format!("/admin/participants/{acme}/timeline.csv"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(csv.contains("first_login"), "{csv}");
}

#[tokio::test]
async fn t3_organizer_reviews_a_submission_from_the_participants_tasks_page() {
    let run = Running::start().await;
    let acme = run.participant(seed::ACME).await;
    let me = acme.to_string();
    let contract = run.task("Sign the exhibitor contract").await;
    let logo = run.task("Upload your logo").await;

    // T3: an automatic task cannot be ticked; the refusal is shown on the list.
    let (status, body) = post(&run, &me, &format!("/p/{acme}/tasks/{logo}/done"), &[]).await;
    assert_eq!(status, 400);
    assert!(body.contains("id=\"flash-error\""), "{body}");

    let (status, _) = post(&run, &me, &format!("/p/{acme}/tasks/{contract}/done"), &[]).await;
    assert_eq!(status, 303);
    let (status, page) = get(&run, "organizer", &format!("/p/{acme}/tasks")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("/p/{acme}/tasks/{contract}/accept")));
    assert!(
        !page.contains("Mark as done"),
        "the organizer does not tick for them"
    );

    // A rejection needs a reason: the library's error, nothing written.
    let (status, body) = post(
        &run,
        "organizer",
        &format!("/p/{acme}/tasks/{contract}/reject"),
        &[("reason", " ")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("reason"), "{body}");
    let (status, _) = post(
        &run,
        "organizer",
        &format!("/p/{acme}/tasks/{contract}/reject"),
        &[("reason", "The signature is missing")],
    )
    .await;
    assert_eq!(status, 303);
    let (_, mine) = get(&run, &me, &format!("/p/{acme}/tasks")).await;
    assert!(mine.contains("The organizer refused your submission: The signature is missing"));
    let (_, outbox) = get(&run, "organizer", "/admin/notifications").await;
    assert!(
        outbox.contains("was refused: The signature is missing"),
        "{outbox}"
    );

    // Submitted again and accepted: done.
    post(&run, &me, &format!("/p/{acme}/tasks/{contract}/done"), &[]).await;
    let (status, _) = post(
        &run,
        "organizer",
        &format!("/p/{acme}/tasks/{contract}/accept"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        run.status(acme, contract).await,
        punchlist::ProgressStatus::Done
    );
}

/// X4: the same portal on PostgreSQL (as `examples/portal.rs` runs it when `DATABASE_URL`
/// is set), in a schema of its own; the live feed comes from LISTEN/NOTIFY there.
#[tokio::test]
async fn x4_portal_serves_the_demo_on_postgresql_too() {
    let Some(url) = punchlist_sqlx::testing::database_url("portal on PostgreSQL") else {
        return;
    };
    let store =
        punchlist_sqlx::testing::isolated_store(&url, punchlist_sqlx::PoolConfig::default()).await;
    let run = Running::on(
        std::sync::Arc::new(store),
        tempfile::tempdir().expect("a directory"),
    )
    .await;
    let acme = run.participant(seed::ACME).await;
    let logo = run.task("Upload your logo").await;
    let (status, body) = get(&run, "organizer", "/admin/matrix").await;
    assert_eq!(status, 200);
    assert!(body.contains(&format!("data-cell=\"{acme}:{logo}\" data-status=\"todo\"")));

    let mut feed = client()
        .get(run.url("/admin/live"))
        .header("cookie", "punchlist_demo=organizer")
        .send()
        .await
        .expect("the feed opens");
    let (status, _) = post(
        &run,
        &acme.to_string(),
        &format!("/p/{acme}/platform"),
        &[("action", "upload_logo")],
    )
    .await;
    assert_eq!(status, 303);
    let mut seen = String::new();
    while !seen.contains(&logo.to_string()) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk())
            .await
            .expect("an event within 10 s")
            .expect("the stream reads")
            .expect("the stream is open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("\"status\":\"done\""), "{seen}");
    let (_, body) = get(&run, "organizer", "/admin/matrix").await;
    assert!(body.contains(&format!("data-cell=\"{acme}:{logo}\" data-status=\"done\"")));
    let (status, _) = get(
        &run,
        &acme.to_string(),
        &format!("/admin/participants/{acme}?tab=timeline"),
    )
    .await;
    assert_eq!(status, 200, "a participant reads their own record");
}

/// Publication notices per task in the outbox (N1).
async fn notices(run: &Running, task: punchlist::TaskId) -> usize {
    run.portal
        .service()
        .outbox(&run.portal.organizer(), run.event(), &punchlist::OutboxFilter::default(), None, 1000)
        .await
        .expect("the outbox")
        .iter()
        .filter(|e| {
            matches!(&e.message, punchlist::Notification::Publication { tasks } if tasks.contains(&task))
        })
        .count()
}

#[tokio::test]
async fn n1_publish_with_or_without_the_notice_from_the_back_office() {
    let run = Running::start().await;
    let draft = |name: &'static str| {
        [
            ("name_en", name),
            ("mode", "manual"),
            ("help_kind", "web_page"),
            ("help_url", "https://expo.example"),
            ("segment", ""),
        ]
    };
    for name in ["Quiet task", "Loud task"] {
        let (status, _) = post(&run, "organizer", "/admin/tasks", &draft(name)).await;
        assert_eq!(status, 303);
    }
    let quiet = run.task("Quiet task").await;
    let loud = run.task("Loud task").await;
    let (status, _) = post(
        &run,
        "organizer",
        &format!("/admin/tasks/{quiet}/publish"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let (status, _) = post(
        &run,
        "organizer",
        &format!("/admin/tasks/{loud}/publish"),
        &[("notify", "on")],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(notices(&run, quiet).await, 0, "published without a notice");
    assert_eq!(notices(&run, loud).await, 11, "everyone is targeted");

    // Publishing again is refused by the library and changes nothing.
    let before = run.task_by_id(quiet).await;
    let (status, _) = post(
        &run,
        "organizer",
        &format!("/admin/tasks/{quiet}/publish"),
        &[("notify", "on")],
    )
    .await;
    assert!(status >= 400, "{status}");
    let after = run.task_by_id(quiet).await;
    assert_eq!(after, before);
    assert_eq!(notices(&run, quiet).await, 0);

    // Archived: gone from the participants' lists.
    let (status, _) = post(
        &run,
        "organizer",
        &format!("/admin/tasks/{loud}/archive"),
        &[],
    )
    .await;
    assert_eq!(status, 303);
    let vera = run.participant(seed::VISITOR).await.to_string();
    let (_, page) = get(&run, &vera, &format!("/p/{vera}/tasks")).await;
    assert!(page.contains("Quiet task") && !page.contains("Loud task"));
}

#[tokio::test]
async fn p4_a_refused_assignment_is_shown_next_to_the_task() {
    let run = Running::start().await;
    let acme = run.participant(seed::ACME).await;
    let omar = run.participant("crm-1002-staff-1").await;
    let products = run.task("Add your products").await;
    // Not one of her collaborators: the library refuses, the page says so at the task.
    let (status, body) = post(
        &run,
        &acme.to_string(),
        &format!("/p/{acme}/tasks/{products}/assign"),
        &[("assignee", &omar.to_string())],
    )
    .await;
    assert!(status == 400 || status == 403, "{status}");
    if status == 400 {
        let task_at = body
            .find(&format!("data-task=\"{products}\""))
            .expect("the task");
        let error_at = body.find("id=\"error-assignee\"").expect("the error");
        assert!(error_at > task_at, "the error is inside the task's item");
    }
    let (status, body) = post(
        &run,
        &acme.to_string(),
        &format!("/p/{acme}/tasks/{products}/assign"),
        &[("assignee", "nobody")],
    )
    .await;
    assert_eq!(status, 400);
    let task_at = body
        .find(&format!("data-task=\"{products}\""))
        .expect("the task");
    let error_at = body.find("id=\"error-assignee\"").expect("the error");
    assert!(error_at > task_at, "the error is inside the task's item");
    assert!(!body.contains("id=\"flash-error\""), "not above the list");
}

/// N8: the link of a message opens a page that says what it stops and changes nothing; a
/// mail client's one-click `POST` (RFC 8058) stops it, once; a forged or expired link is a
/// 400 that writes nothing.
#[tokio::test]
async fn n8_one_click_unsubscribe_through_the_portal() {
    let run = Running::start().await;
    let amelie = run.participant(seed::ACME).await;
    let now = run.portal.service().clock().now();
    let token = run
        .portal
        .unsubscribe_key()
        .sign(&punchlist::UnsubscribeToken {
            event: run.event(),
            participant: amelie,
            kind: Some(punchlist::MessageKind::Reminder),
            expires_at: now + chrono::Duration::days(30),
        });
    let path = format!("/unsubscribe?token={token}");
    async fn reminders_on(run: &Running, who: punchlist::ParticipantId) -> bool {
        run.portal
            .service()
            .notification_preferences(&Actor::System, run.event(), who)
            .await
            .expect("preferences")
            .into_iter()
            .find(|r| r.kind == punchlist::MessageKind::Reminder)
            .expect("reminders")
            .channels
            .iter()
            .all(|c| c.on)
    }
    let (status, page) = get(&run, "", &path).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Stop reminders of your tasks?"), "{page}");
    assert!(reminders_on(&run, amelie).await, "a GET changes nothing");

    let (status, page) = post(&run, "", &path, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("You will no longer receive reminders of your tasks"),
        "{page}"
    );
    assert!(!reminders_on(&run, amelie).await);
    let (status, page) = post(&run, "", &path, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("You had already stopped"), "{page}");

    let other = punchlist::UnsubscribeKey::new([9u8; 32]).expect("a key");
    let forged = other.sign(&punchlist::UnsubscribeToken {
        event: run.event(),
        participant: amelie,
        kind: None,
        expires_at: now + chrono::Duration::days(30),
    });
    for bad in [forged.as_str(), "nonsense", ""] {
        let (status, page) = post(
            &run,
            "",
            &format!("/unsubscribe?token={bad}"),
            &[("List-Unsubscribe", "One-Click")],
        )
        .await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("token"), "{page}");
    }
}
