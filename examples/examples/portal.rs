//! The event portal: a small web server that embeds Punchlist, with the participant's
//! Tasks section, the organizer's back office and the participant record, on a seeded
//! demo event.
//!
//! ```text
//! cargo run -p punchlist-examples --example portal
//! ```
//!
//! It listens on 127.0.0.1 only (port 8080, or `--port N`; `--port 0` picks a free one)
//! and prints the address. Data lives in the embedded redb store, in
//! `punchlist-portal.redb` (or `--data PATH`); with `DATABASE_URL` set it uses that
//! PostgreSQL database instead. The demo event's id is remembered beside the data
//! (`punchlist-portal.event`), so a restart shows the same event; delete both files to
//! start afresh.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use punchlist::{Actor, EventId, Punchlist, Store, SystemClock};
use punchlist_examples::portal::{Portal, Service, seed};

struct Args {
    port: u16,
    data: PathBuf,
}

fn args() -> Result<Args> {
    let mut args = Args {
        port: 8080,
        data: "punchlist-portal.redb".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => args.port = it.next().context("--port needs a number")?.parse()?,
            "--data" => args.data = it.next().context("--data needs a path")?.into(),
            other => bail!("unknown argument {other:?} (use --port N, --data PATH)"),
        }
    }
    Ok(args)
}

async fn open_store(args: &Args) -> Result<(Arc<dyn Store>, String)> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let store = punchlist_sqlx::PgStore::connect(&url, Default::default())
                .await
                .context("connecting to DATABASE_URL")?;
            store.migrate().await.context("migrating the database")?;
            Ok((Arc::new(store), "PostgreSQL (DATABASE_URL)".to_owned()))
        }
        _ => {
            let store = punchlist_redb::RedbStore::open_async(&args.data)
                .await
                .with_context(|| format!("opening {}", args.data.display()))?;
            Ok((
                Arc::new(store),
                format!("redb file {}", args.data.display()),
            ))
        }
    }
}

/// The demo event: the one remembered from an earlier start if the store still has it,
/// else a freshly seeded one.
async fn demo_event(service: &Service, remembered: &std::path::Path) -> Result<EventId> {
    if let Ok(text) = std::fs::read_to_string(remembered)
        && let Ok(id) = text.trim().parse::<EventId>()
        && service.event(&Actor::System, id).get().await.is_ok()
    {
        return Ok(id);
    }
    let event = seed::seed(service)
        .await
        .context("seeding the demo event")?;
    std::fs::write(remembered, event.to_string())?;
    Ok(event)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let (store, described) = open_store(&args).await?;
    let service: Arc<Service> = Arc::new(Punchlist::new(store, SystemClock));
    let event = demo_event(&service, &args.data.with_extension("event")).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("listening on 127.0.0.1:{}", args.port))?;
    let address = listener.local_addr()?;
    println!("store: {described}");
    println!("Punchlist portal on http://{address}/  (Ctrl-C stops it)");
    tokio::select! {
        served = Portal::new(service, event).serve(listener) => served?,
        _ = tokio::signal::ctrl_c() => println!("stopped"),
    }
    Ok(())
}
