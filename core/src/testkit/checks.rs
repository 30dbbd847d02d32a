//! Conformance checks, group A: tasks (T), facts (T4), isolation and authorization (X1,
//! X2), bad input (X5) and concurrency (X4).
//!
//! Every check takes a fresh store and panics on failure. "Writes nothing" is proven by
//! comparing the canonical dump before and after.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;

use super::{DumpStore, Fixture};
use crate::*;

/// T1: bad task fields get a typed error naming the field, and write nothing.
pub async fn t1_task_fields_validated_and_nothing_written<S: DumpStore>(store: S) {
    let f = Fixture::new(store).await;
    let before = f.dump().await;
    let web = Fixture::<S>::web();
    let cases: Vec<(TaskConfig, &str)> = vec![
        (TaskConfig::manual(f.en.clone(), "   ", web.clone()), "texts.en.name"),
        (TaskConfig::manual(f.en.clone(), "x".repeat(201), web.clone()), "texts.en.name"),
        (TaskConfig::manual(f.fr.clone(), "Logo", web.clone()), "texts.en"),
        (
            TaskConfig::manual(
                f.en.clone(),
                "Logo",
                HelpLink::WebPage {
                    url: "ftp://expo.example".into(),
                },
            ),
            "help.url",
        ),
        (
            TaskConfig::automatic(f.en.clone(), "Products", Condition::Products { at_least: 0 }, web.clone()),
            "condition.at_least",
        ),
        (
            {
                let mut c = TaskConfig::manual(f.en.clone(), "Logo", web.clone());
                c.segment = Some(SegmentId::new_at(f.clock.now()));
                c
            },
            "segment",
        ),
        (
            {
                let mut c = TaskConfig::manual(f.en.clone(), "Logo", web.clone());
                c.texts.get_mut(&f.en).unwrap().description = "d".repeat(10_001);
                c
            },
            "texts.en.description",
        ),
    ];
    for (config, field) in cases {
        let err = f
            .service
            .create_task(&f.organizer, f.event, config)
            .await
            .expect_err("bad task accepted");
        assert_eq!(err.field(), Some(field), "{err}");
    }
    assert_eq!(f.dump().await, before, "a refused task wrote something");

    // The same checks hold on edit.
    let task = f.draft_manual("Book your hotel", None).await;
    let before = f.dump().await;
    let err = f
        .service
        .update_task(
            &f.organizer,
            f.event,
            task.id,
            TaskConfig::manual(f.en.clone(), "", web),
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("texts.en.name"));
    assert_eq!(f.dump().await, before);
}
