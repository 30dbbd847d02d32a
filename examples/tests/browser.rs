//! The portal in a real browser: headless Chromium driven through chromedriver
//! (WebDriver, from Rust with fantoccini), against the portal on 127.0.0.1 with the seeded
//! demo on the default redb store.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`; or set `CHROMIUM` and `CHROMEDRIVER`). Without them each
//! journey prints `SKIPPED` and passes, unless `PUNCHLIST_REQUIRE_BROWSER=1` (CI sets it),
//! which makes a missing browser a failure.
//!
//! Each journey saves a screenshot in `target/tmp/browser-journeys/`; set
//! `PUNCHLIST_SCREENSHOTS=<dir>` to save them there as well (the README's pictures under
//! `docs/screenshots/` were made that way).

mod common;
mod harness;

use common::Running;
use fantoccini::Locator;
use harness::*;
use punchlist_examples::portal::seed;

#[tokio::test]
async fn t2_organizer_publishes_a_task_for_exhibitors_an_exhibitor_sees_and_hands_it_on_a_visitor_does_not()
 {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let run = Running::start().await;
    let mut driver = Driver::start(chromium, chromedriver).await;
    let c = driver.browser().await;
    let acme = run.participant(seed::ACME).await.to_string();
    let bruno = run.participant(seed::ACME_COLLABORATOR).await.to_string();
    let vera = run.participant(seed::VISITOR).await.to_string();

    sign_in(&c, &run, "organizer").await;
    c.goto(&run.url("/admin/tasks/new"))
        .await
        .expect("the form");
    type_into(&c, "#name_en", "Order your booth furniture").await;
    type_into(
        &c,
        "#description_en",
        "Tables, chairs and a counter, delivered to your booth.",
    )
    .await;
    find(&c, "#segment")
        .await
        .select_by_label("Exhibitors")
        .await
        .expect("the segment");
    // S3: the live preview counts the segment's participants.
    until(
        &c,
        "the segment preview",
        "document.querySelector('#segment-preview').dataset.count === '3'",
    )
    .await;
    assert!(
        text(&c, "#segment-preview")
            .await
            .contains("Amélie Martin (Acme)")
    );
    type_into(&c, "#help_url", "https://expo.example/furniture").await;
    click(&c, "#save-task", "saving").await;
    until(
        &c,
        "the saved task in the list",
        "document.querySelector('#task-table') && \
         document.querySelector('#task-table').textContent.includes('Order your booth furniture')",
    )
    .await;
    let id = run.task("Order your booth furniture").await;
    find(&c, &format!("tr[data-task='{id}'][data-state='draft']")).await;
    // Publish, with the publication notice.
    let publish = format!("tr[data-task='{id}'] form.publish");
    click(&c, &format!("{publish} input[name='notify']"), "notify").await;
    click(&c, &format!("{publish} button"), "publishing").await;
    find(&c, &format!("tr[data-task='{id}'][data-state='published']")).await;
    screenshot(&c, "backoffice-tasks").await;

    // The publication notice went to the three exhibitors (N1), into the outbox.
    let outbox = run
        .portal
        .service()
        .outbox(
            &run.portal.organizer(),
            run.event(),
            &punchlist::OutboxFilter::default(),
            None,
            500,
        )
        .await
        .expect("the outbox");
    let notices = outbox
        .iter()
        .filter(|e| {
            matches!(&e.message, punchlist::Notification::Publication { tasks } if tasks.contains(&id))
        })
        .count();
    assert_eq!(notices, 3, "one publication notice per exhibitor");

    sign_out(&c).await;
    sign_in(&c, &run, &acme).await;
    let mine = text(&c, "#my-tasks").await;
    assert!(mine.contains("Order your booth furniture"), "{mine}");
    assert!(mine.contains("Tables, chairs and a counter"), "{mine}");
    // P2 progress bar, P5 overdue marks and time left, the help link.
    assert!(text(&c, "#progress-summary").await.contains(" of 8"));
    assert!(mine.contains("Overdue"), "Send your invitations is overdue");
    assert!(mine.contains("days left"));
    let help = find(&c, &format!("li[data-task='{id}'] a.help")).await;
    assert_eq!(
        help.attr("href").await.expect("an href").as_deref(),
        Some("https://expo.example/furniture")
    );
    screenshot(&c, "participant-tasks").await;

    // P4: she hands the new task to Bruno, one of her collaborators, who sees it.
    let item = format!("#my-tasks li[data-task='{id}']");
    find(&c, &format!("{item} select[name='assignee']"))
        .await
        .select_by_label("Bruno Leroy (Acme)")
        .await
        .expect("the choice");
    click(&c, &format!("{item} form.assign button"), "assigning").await;
    until(
        &c,
        "the assignee",
        &format!(
            "(document.querySelector(\"{item} .assignee\") || {{}}).textContent === 'Bruno Leroy (Acme)'"
        ),
    )
    .await;
    sign_out(&c).await;
    sign_in(&c, &run, &bruno).await;
    let received = text(&c, "#assigned-to-me").await;
    assert!(
        received.contains("Order your booth furniture"),
        "{received}"
    );
    assert!(received.contains("Amélie Martin (Acme)"), "{received}");

    sign_out(&c).await;
    sign_in(&c, &run, &vera).await;
    let mine = text(&c, "#my-tasks").await;
    assert!(mine.contains("Select a session or workshop"), "{mine}");
    assert!(
        !mine.contains("Order your booth furniture"),
        "a visitor does not see it"
    );
    c.close().await.expect("the browser closes");
}

#[tokio::test]
async fn p4_exhibitor_assigns_a_task_to_a_collaborator_who_sees_and_completes_it() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let run = Running::start().await;
    let mut driver = Driver::start(chromium, chromedriver).await;
    let c = driver.browser().await;
    let acme = run.participant(seed::ACME).await.to_string();
    let bruno = run.participant(seed::ACME_COLLABORATOR).await.to_string();
    let contract = run.task("Sign the exhibitor contract").await;

    sign_in(&c, &run, &acme).await;
    let item = format!("#my-tasks li[data-task='{contract}']");
    // P4: the choice is among *her* collaborators only.
    let options = text(&c, &format!("{item} select[name='assignee']")).await;
    assert!(
        options.contains("Bruno Leroy (Acme)") && options.contains("Chloé Dubois (Acme)"),
        "{options}"
    );
    assert!(
        !options.contains("Omar"),
        "Globex's collaborator is not hers: {options}"
    );
    find(&c, &format!("{item} select[name='assignee']"))
        .await
        .select_by_label("Bruno Leroy (Acme)")
        .await
        .expect("the choice");
    click(&c, &format!("{item} form.assign button"), "assigning").await;
    until(&c, "the assignee", &format!("(document.querySelector(\"{item} .assignee\") || {{}}).textContent === 'Bruno Leroy (Acme)'")).await;

    sign_out(&c).await;
    sign_in(&c, &run, &bruno).await;
    let received = text(&c, "#assigned-to-me").await;
    assert!(
        received.contains("Sign the exhibitor contract"),
        "{received}"
    );
    assert!(received.contains("Amélie Martin (Acme)"), "{received}");
    // He submits it for the organizer's review, on Amélie's behalf.
    let item = format!("#assigned-to-me li[data-task='{contract}']");
    click(&c, &format!("{item} button.tick"), "submitting").await;
    find(&c, &format!("{item}[data-status='awaiting_review']")).await;
    screenshot(&c, "collaborator-tasks").await;
    c.close().await.expect("the browser closes");
}

#[tokio::test]
async fn t4_platform_logo_completes_the_automatic_task_and_the_open_matrix_updates_live() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let run = Running::start().await;
    let mut driver = Driver::start(chromium, chromedriver).await;
    let organizer = driver.browser().await;
    let exhibitor = driver.browser().await;
    let acme = run.participant(seed::ACME).await.to_string();
    let logo = run.task("Upload your logo").await;
    let cell = format!("td[data-cell='{acme}:{logo}']");

    sign_in(&organizer, &run, "organizer").await;
    organizer
        .goto(&run.url("/admin/matrix?category=exhibitor"))
        .await
        .expect("the matrix");
    find(&organizer, &format!("{cell}[data-status='todo']")).await;
    until(
        &organizer,
        "the live feed",
        "document.querySelector('#live-status').dataset.open === '1'",
    )
    .await;
    // A mark a reload would wipe out.
    organizer
        .execute("window.notReloaded = true; return true;", vec![])
        .await
        .expect("the mark");

    sign_in(&exhibitor, &run, &acme).await;
    let item = format!("#my-tasks li[data-task='{logo}']");
    find(&exhibitor, &format!("{item}[data-status='todo']")).await;
    // T3: an automatic task has no "mark as done".
    assert!(
        exhibitor
            .find(Locator::Css(&format!("{item} button.tick")))
            .await
            .is_err()
    );
    click(&exhibitor, "#platform-upload_logo", "uploading").await;
    find(&exhibitor, &format!("{item}[data-status='done']")).await;

    // B1: the organizer's open matrix shows it without a reload.
    until(
        &organizer,
        "the live update",
        &format!(
            "(document.querySelector(\"{cell}\") || {{dataset: {{}}}}).dataset.status === 'done'"
        ),
    )
    .await;
    until(&organizer, "no reload", "window.notReloaded === true").await;
    assert!(text(&organizer, "#live-status").await.contains("updated"));
    screenshot(&organizer, "backoffice-matrix-live").await;
    exhibitor.close().await.expect("the browser closes");
    organizer.close().await.expect("the browser closes");
}

#[tokio::test]
async fn t1_bad_task_name_shows_the_error_next_to_the_field() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let run = Running::start().await;
    let before = run.task_count().await;
    let mut driver = Driver::start(chromium, chromedriver).await;
    let c = driver.browser().await;

    sign_in(&c, &run, "organizer").await;
    c.goto(&run.url("/admin/tasks/new"))
        .await
        .expect("the form");
    type_into(&c, "#name_en", "   ").await;
    type_into(&c, "#help_url", "https://expo.example/x").await;
    click(&c, "#save-task", "saving").await;
    let error = text(&c, "#error-name_en").await;
    assert!(error.contains("must not be empty"), "{error}");
    // Next to the field: the error follows the name's input directly.
    until(&c, "the error after the field", "document.querySelector('#error-name_en').previousElementSibling.querySelector('#name_en') !== null").await;
    // What was typed is kept.
    let url = find(&c, "#help_url")
        .await
        .prop("value")
        .await
        .expect("the value");
    assert_eq!(url.as_deref(), Some("https://expo.example/x"));
    screenshot(&c, "backoffice-form-error").await;
    assert_eq!(run.task_count().await, before, "nothing was saved");
    c.close().await.expect("the browser closes");
}

#[tokio::test]
async fn x2_participant_opening_another_participants_page_gets_403() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let run = Running::start().await;
    let mut driver = Driver::start(chromium, chromedriver).await;
    let c = driver.browser().await;
    let acme = run.participant(seed::ACME).await;
    let vera = run.participant(seed::VISITOR).await.to_string();

    sign_in(&c, &run, &vera).await;
    for path in [
        format!("/p/{acme}/tasks"),
        format!("/admin/participants/{acme}"),
        "/admin".to_owned(),
    ] {
        c.goto(&run.url(&path)).await.expect("the page");
        let title = text(&c, "h1").await;
        assert!(title.contains("403"), "{path}: {title}");
        let page = c.source().await.expect("the page");
        assert!(
            !page.contains("Upload your logo") && !page.contains("Amélie"),
            "{path} leaks data"
        );
    }
    c.goto(&run.url(&format!("/p/{acme}/tasks")))
        .await
        .expect("the page");
    screenshot(&c, "forbidden").await;
    c.close().await.expect("the browser closes");
}

#[tokio::test]
async fn r5_organizer_reads_a_record_filters_the_timeline_and_writes_to_the_participant() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let run = Running::start().await;
    let mut driver = Driver::start(chromium, chromedriver).await;
    let c = driver.browser().await;
    let vera = run.participant(seed::VISITOR).await;

    sign_in(&c, &run, "organizer").await;
    // R13: the registrants list with its online status column.
    c.goto(&run.url("/admin/registrants"))
        .await
        .expect("the list");
    let status = find(
        &c,
        &format!("#registrants tr[data-participant='{vera}'] .online"),
    )
    .await;
    assert_eq!(
        status
            .attr("data-status")
            .await
            .expect("a status")
            .as_deref(),
        Some("active")
    );
    click(
        &c,
        &format!("#registrants tr[data-participant='{vera}'] a"),
        "the record",
    )
    .await;
    assert!(text(&c, "#record-name").await.contains("Vera Novak"));

    // R5: the timeline, filtered to bookmarks.
    click(&c, "#tab-timeline", "the tab").await;
    find(&c, "#timeline-filters").await;
    let all = c
        .find_all(Locator::Css("#timeline tr[data-entry]"))
        .await
        .expect("rows")
        .len();
    click(&c, "#timeline-filters summary", "the kinds").await;
    click(
        &c,
        "#timeline-filters input[value='exhibitor_bookmarked']",
        "the kind",
    )
    .await;
    click(&c, "#timeline-filters button[type='submit']", "filtering").await;
    until(
        &c,
        "the filtered timeline",
        "location.search.includes('exhibitor_bookmarked') && document.readyState === 'complete' && \
         [...document.querySelectorAll('#timeline tr[data-entry]')] \
           .every(r => r.dataset.kind === 'exhibitor_bookmarked')",
    )
    .await;
    let kinds: Vec<String> = {
        let mut kinds = Vec::new();
        for row in c
            .find_all(Locator::Css("#timeline tr[data-entry]"))
            .await
            .expect("rows")
        {
            kinds.push(
                row.attr("data-kind")
                    .await
                    .expect("a kind")
                    .unwrap_or_default(),
            );
        }
        kinds
    };
    assert_eq!(kinds.len(), 2, "two bookmarks (Acme, Globex)");
    assert!(
        kinds.iter().all(|k| k == "exhibitor_bookmarked"),
        "{kinds:?}"
    );
    assert!(all > kinds.len());
    assert!(text(&c, "#timeline").await.contains("Acme"));

    // R7: a message to the participant; a blank one is refused next to the field.
    click(&c, "#tab-messages", "the tab").await;
    type_into(&c, "#message-body", "   ").await;
    click(&c, "#send-message button", "sending").await;
    assert!(!text(&c, "#error-body").await.is_empty());
    find(&c, "#message-body")
        .await
        .clear()
        .await
        .expect("clearing");
    type_into(&c, "#message-body", "Your badge is ready at desk 3.").await;
    click(&c, "#send-message button", "sending").await;
    until(
        &c,
        "the message",
        "document.querySelector('#messages').textContent.includes('desk 3')",
    )
    .await;
    screenshot(&c, "record-messages").await;

    // The participant reads it in their own record.
    sign_out(&c).await;
    sign_in(&c, &run, &vera.to_string()).await;
    c.goto(&run.url(&format!("/admin/participants/{vera}?tab=messages")))
        .await
        .expect("the record");
    assert!(
        text(&c, "#messages")
            .await
            .contains("Your badge is ready at desk 3.")
    );
    c.close().await.expect("the browser closes");
}

/// N12: the email a French exhibitor and an English one get, as a mail client shows its
/// HTML part: in a real browser, at a desktop width and at a phone's (390 px: nothing is
/// wider than the screen), in the recipient's language, the deadline in words, one button
/// to the task, the unsubscribe link in the footer (N8: it opens the portal's page, whose
/// button stops these messages); the text part reads on its own, the link once.
#[tokio::test]
async fn n12_html_email_reads_in_french_and_english_on_a_desktop_and_a_phone() {
    let Some((chromium, chromedriver)) = browser() else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let run = Running::start().await;
    let org = run.portal.organizer();
    let service = run.service.clone();
    let mut settings = service
        .event(&org, run.event())
        .get()
        .await
        .expect("the event")
        .settings;
    settings.branding = punchlist::Branding {
        colour: Some("#0b6e4f".into()),
        sender_name: Some("Salon Expo Paris".into()),
        ..punchlist::Branding::default()
    };
    service
        .update_event(&org, run.event(), settings)
        .await
        .expect("branded");
    let logo = run.task("Upload your logo").await;
    let amelie = run.participant(seed::ACME).await;
    let nina = run.participant("crm-1003").await;
    for who in [amelie, nina] {
        service
            .remind_now(
                &org,
                run.event(),
                logo,
                punchlist::RemindTarget::Participant(who),
            )
            .await
            .expect("a reminder");
    }
    let email = punchlist::testkit::RecordingNotifier::new(punchlist::Channel::Email);
    let dispatcher = punchlist::Dispatcher::new(service.clone())
        .with_notifier(email.clone())
        .with_config(
            punchlist::DispatchConfig::default()
                .with_batch(500)
                .with_tasks_page(run.url("/tasks"))
                .with_unsubscribe_links(
                    punchlist::UnsubscribeLinks::new(
                        run.portal.unsubscribe_key().clone(),
                        run.url("/unsubscribe"),
                    )
                    .expect("the portal's route"),
                ),
        );
    while dispatcher
        .dispatch_once()
        .await
        .expect("dispatched")
        .claimed
        > 0
    {}
    let nudge = |who| {
        email
            .received()
            .into_iter()
            .map(|r| r.message)
            .find(|m| m.recipient == who && m.idempotency_key.starts_with("nudge"))
            .expect("the reminder was sent")
    };

    let mut driver = Driver::start(chromium, chromedriver).await;
    let c = driver.browser().await;
    let dir = tempfile::tempdir().expect("a directory");
    for (lang, who, words, button) in [
        ("fr", amelie, "Bonjour Amélie", "Ouvrir la tâche"),
        ("en", nina, "Hello Nina", "Open the task"),
    ] {
        let m = nudge(who);
        let html = m.html.clone().expect("an HTML part");
        let path = dir.path().join(format!("email-{lang}.html"));
        std::fs::write(&path, &html).expect("written");
        c.set_window_size(1280, 1000)
            .await
            .expect("a desktop window");
        c.goto(&format!("file://{}", path.display()))
            .await
            .expect("the email opens");
        let body = text(&c, "body").await;
        assert!(body.contains(words), "{body}");
        assert!(body.contains("Salon Expo Paris 2027"), "{body}");
        assert!(
            body.contains(if lang == "fr" {
                "Téléversez votre logo"
            } else {
                "Upload your logo"
            }),
            "{body}"
        );
        assert!(
            body.contains(if lang == "fr" { " à " } else { " at " }),
            "the deadline in words: {body}"
        );
        let link = find(&c, "a[style*='display:inline-block']").await;
        assert_eq!(link.text().await.expect("the button").trim(), button);
        assert_eq!(
            link.attr("href").await.expect("href").as_deref(),
            Some("https://expo.example/exhibitor/logo")
        );
        assert_eq!(
            c.execute("return document.documentElement.lang;", vec![])
                .await
                .expect("lang"),
            serde_json::json!(lang)
        );
        screenshot(&c, &format!("email-{lang}")).await;
        c.set_window_size(390, 844).await.expect("a phone window");
        until(
            &c,
            "no horizontal scroll at 390 px",
            "document.documentElement.scrollWidth <= window.innerWidth",
        )
        .await;
        if lang == "fr" {
            screenshot(&c, "email-fr-phone").await;
        }
        // The text part on its own: the greeting, the task, the link once, a signature.
        assert!(m.body.starts_with(&format!("{words},")), "{}", m.body);
        assert_eq!(
            m.body
                .matches("https://expo.example/exhibitor/logo")
                .count(),
            1,
            "{}",
            m.body
        );
        assert!(m.body.contains("\n-- \n"), "{}", m.body);
        assert!(
            m.body.contains(&run.url("/unsubscribe?token=")),
            "{}",
            m.body
        );
        // The README shows it with the host's address rather than the test's port.
        save_text(
            &format!("email-{lang}.txt"),
            &format!("Subject: {}\n\n{}", m.subject, m.body)
                .replace(&run.base, "https://expo.example"),
        );
        if lang == "fr" {
            // N8: the footer's link stops these messages, after one more click.
            c.set_window_size(1280, 1000)
                .await
                .expect("a desktop window");
            click(&c, "a[href*='/unsubscribe?token=']", "the unsubscribe link").await;
            click(&c, "#unsubscribe", "the confirmation").await;
            find(&c, "#unsubscribed").await;
            let rows = service
                .notification_preferences(&org, run.event(), amelie)
                .await
                .expect("preferences");
            let nudges = rows
                .iter()
                .find(|r| r.kind == punchlist::MessageKind::Nudge)
                .expect("nudges");
            assert!(nudges.channels.iter().all(|c| !c.on), "{nudges:?}");
        }
    }
    c.close().await.expect("the browser closes");
}
