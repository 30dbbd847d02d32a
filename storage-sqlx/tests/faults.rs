//! Faults: the machine's PostgreSQL is stopped and started again while a host keeps
//! ingesting. The service answers typed errors while the database is away, works again
//! once it is back, and nothing it acknowledged is lost; what failed can be sent again (the
//! same host event ids) and lands once.
//!
//! It stops the server `DATABASE_URL` points at, which other work on the machine may be
//! using, so it runs only when you say so with `PUNCHLIST_STOP_POSTGRES=1`. Otherwise it
//! prints a `SKIPPED` line saying how to run it and passes, whatever
//! `PUNCHLIST_REQUIRE_DATABASE` says: that variable is about a missing database, not about
//! permission to stop one. `PUNCHLIST_REQUIRE_FAULTS=1` makes the skip a failure; `.ci/run`
//! sets it beside `PUNCHLIST_STOP_POSTGRES=1`, so CI cannot skip the test by accident. It
//! needs that server to be this machine's, managed by `pg_ctlcluster` (root). It is the
//! only test of its binary, and `cargo test` runs test binaries one after another, so no
//! other test uses the server while it is down.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use punchlist::testkit::Fixture;
use punchlist::*;
use punchlist_sqlx::PoolConfig;
use punchlist_sqlx::testing::{database_url, isolated_store};

/// `pg_ctlcluster <version> main <action>`.
fn cluster(action: &str) -> bool {
    let Some(version) = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name())
    else {
        return false;
    };
    let mut cmd = Command::new("pg_ctlcluster");
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd.arg("--skip-systemctl-redirect")
        .arg(&version)
        .arg("main")
        .arg(action);
    if action == "stop" {
        cmd.args(["--mode", "fast"]);
    }
    cmd.status().is_ok_and(|s| s.success())
}

/// Starts the server again however the test ends.
struct StartOnDrop;

impl Drop for StartOnDrop {
    fn drop(&mut self) {
        cluster("start");
    }
}

async fn ready(url: &str) -> bool {
    for _ in 0..60 {
        let conn: Result<sqlx::PgConnection, _> = sqlx::Connection::connect(url).await;
        if conn.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// Lets the test stop and restart the server when set to `1`.
const STOP_POSTGRES: &str = "PUNCHLIST_STOP_POSTGRES";
/// Makes a skipped run a failure when set to `1` (CI).
const REQUIRE_FAULTS: &str = "PUNCHLIST_REQUIRE_FAULTS";

fn is_set(var: &str) -> bool {
    std::env::var(var).as_deref() == Ok("1")
}

/// The test does not run: a `SKIPPED` line saying `why` and how to run it, or a failure
/// under `PUNCHLIST_REQUIRE_FAULTS=1`.
fn skip(why: &str) {
    assert!(
        !is_set(REQUIRE_FAULTS),
        "{REQUIRE_FAULTS}=1 but the PostgreSQL restart test cannot run: {why}"
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED faults (PostgreSQL restart): {why}; to run it, let it stop and restart this \
         machine's PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
         {STOP_POSTGRES}=1 cargo test -p punchlist-sqlx --test faults"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x4_postgresql_restarted_mid_run_loses_nothing_acknowledged() {
    if !is_set(STOP_POSTGRES) {
        return skip(&format!("{STOP_POSTGRES} is not set to 1"));
    }
    // Without an address: SKIPPED (said by `database_url`), or a failure under
    // PUNCHLIST_REQUIRE_DATABASE=1 or PUNCHLIST_REQUIRE_FAULTS=1.
    let Some(url) = database_url("faults") else {
        assert!(
            !is_set(REQUIRE_FAULTS),
            "{REQUIRE_FAULTS}=1 but DATABASE_URL is not set"
        );
        return;
    };
    if Command::new("pg_ctlcluster")
        .arg("--help")
        .output()
        .is_err()
    {
        panic!("pg_ctlcluster is needed to stop and start PostgreSQL");
    }
    let config = PoolConfig {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(2),
        ..PoolConfig::default()
    };
    let f = Arc::new(Fixture::with_store(Arc::new(isolated_store(&url, config).await)).await);
    let mut people = Vec::new();
    for i in 0..5 {
        people.push(f.participant(&format!("p{i}"), &["exhibitor"]).await);
    }
    let logo = f
        .auto_task("logo", Condition::LogoUploaded, Some(f.exhibitors))
        .await
        .id;

    // The host: ingests a fact every few milliseconds until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let host = {
        let (f, stop, people) = (f.clone(), stop.clone(), people.clone());
        tokio::spawn(async move {
            let (mut acked, mut failed, mut kinds) = (Vec::new(), Vec::new(), BTreeSet::new());
            let mut n = 0usize;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let p = &people[n % people.len()];
                let fact = if n.is_multiple_of(2) {
                    HostFact::LogoUploaded
                } else {
                    HostFact::LogoRemoved
                };
                let h = f.host_event(&format!("h{n}"), p, fact);
                match f.service.ingest(&Actor::System, f.event, h.clone()).await {
                    Ok(_) => acked.push(h),
                    Err(e) => {
                        kinds.insert(match &e {
                            Error::Unavailable { .. } => "unavailable".to_owned(),
                            other => format!("{other:?}"),
                        });
                        failed.push(h);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (acked, failed, kinds)
        })
    };
    let _start = StartOnDrop;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(cluster("stop"), "pg_ctlcluster stop failed");
    // Longer than the pool's acquire timeout (the test pool waits up to 10 s for a
    // connection), so that calls made while the server is away do fail, not just wait.
    tokio::time::sleep(Duration::from_secs(13)).await;
    assert!(cluster("start"), "pg_ctlcluster start failed");
    assert!(ready(&url).await, "PostgreSQL did not come back");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    let (acked, failed, kinds) = host.await.expect("the host task");

    // While it was away: typed errors only; it failed some, and recovered.
    assert!(!failed.is_empty(), "the outage was not noticed");
    assert_eq!(
        kinds,
        BTreeSet::from(["unavailable".to_owned()]),
        "errors while the database was away must be Unavailable"
    );
    let after_restart = acked
        .iter()
        .filter(|h| {
            h.id.as_str()
                .trim_start_matches('h')
                .parse::<usize>()
                .is_ok_and(|n| {
                    failed
                        .last()
                        .and_then(|l| l.id.as_str().trim_start_matches('h').parse::<usize>().ok())
                        .is_some_and(|last| n > last)
                })
        })
        .count();
    assert!(
        after_restart > 0,
        "nothing was acknowledged after the restart"
    );

    // The host sends what failed again: each lands once (applied now, or already there
    // if the commit went through before the connection broke).
    for h in &failed {
        f.service
            .ingest(&Actor::System, f.event, h.clone())
            .await
            .expect("a redelivery after the restart");
    }
    let dump = f.dump().await; // B3: the counters equal a recount
    let ingested: BTreeSet<&HostEventId> = dump.host_events.iter().collect();
    let lost: Vec<&HostEventId> = acked
        .iter()
        .map(|h| &h.id)
        .filter(|id| !ingested.contains(id))
        .collect();
    assert!(lost.is_empty(), "acknowledged and lost: {lost:?}");
    for h in &failed {
        assert!(
            ingested.contains(&h.id),
            "{} was sent again but is missing",
            h.id
        );
    }
    // The automatic task follows each participant's last fact.
    for state in &dump.participants {
        if let Some(row) = state.progress.get(&logo) {
            assert_eq!(
                row.status == ProgressStatus::Done,
                state.facts.has_logo(),
                "T4 after the restart"
            );
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "FAULT PostgreSQL restart: {} acknowledged ({} after the restart), {} refused while away \
         (all Unavailable), all resent and landed, 0 lost",
        acked.len(),
        after_restart,
        failed.len()
    );
}
