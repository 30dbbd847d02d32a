//! What the portal's tests share: a portal on a fresh redb store with the demo seeded,
//! served on 127.0.0.1, and lookups of the demo's people and tasks.

#![allow(dead_code)]

use std::sync::Arc;

use punchlist::{Actor, EventId, ExternalId, ParticipantId, Punchlist, SystemClock, TaskId};
use punchlist_examples::portal::{Portal, Service, seed};

/// A portal serving the seeded demo on a loopback port, on the default (redb) store.
pub struct Running {
    pub portal: Portal,
    /// The service the portal serves, shared (what a dispatcher beside it takes).
    pub service: Arc<Service>,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Seeds the demo into a fresh redb file and serves it on 127.0.0.1.
    pub async fn start() -> Running {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = punchlist_redb::RedbStore::open_async(dir.path().join("portal.redb"))
            .await
            .expect("the redb store opens");
        Self::on(Arc::new(store), dir).await
    }

    /// Seeds the demo into `store` and serves it on 127.0.0.1.
    pub async fn on(store: Arc<dyn punchlist::Store>, dir: tempfile::TempDir) -> Running {
        let service: Arc<Service> = Arc::new(Punchlist::new(store, SystemClock));
        let event = seed::seed(&service).await.expect("the demo seeds");
        let portal = Portal::new(service.clone(), event);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(portal.clone().serve(listener));
        Running {
            portal,
            service,
            base,
            _dir: dir,
        }
    }

    pub fn event(&self) -> EventId {
        self.portal.event()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The participant the host knows as `external`.
    pub async fn participant(&self, external: &str) -> ParticipantId {
        self.portal
            .service()
            .participant_by_external_id(
                &Actor::System,
                self.event(),
                &ExternalId::new(external).expect("a valid external id"),
            )
            .await
            .expect("a seeded participant")
            .id
    }

    /// The task named `name` (in the event's default language).
    pub async fn task(&self, name: &str) -> TaskId {
        let service = self.portal.service();
        let event = service
            .event(&Actor::System, self.event())
            .get()
            .await
            .expect("the event");
        service
            .tasks(&self.portal.organizer(), self.event())
            .await
            .expect("the tasks")
            .into_iter()
            .find(|t| {
                t.text(&event.settings.default_language, &event.settings)
                    .name
                    == name
            })
            .unwrap_or_else(|| panic!("no task named {name:?}"))
            .id
    }

    /// Where `owner` stands on `task`, as the organizer reads it.
    pub async fn status(&self, owner: ParticipantId, task: TaskId) -> punchlist::ProgressStatus {
        self.portal
            .service()
            .tasks_of(&self.portal.organizer(), self.event(), owner)
            .await
            .expect("the owner's tasks")
            .items
            .into_iter()
            .find(|i| i.task == task && i.owner == owner)
            .expect("the task is on the owner's list")
            .status
    }

    /// The task `id`, as the organizer reads it.
    pub async fn task_by_id(&self, id: TaskId) -> punchlist::Task {
        self.portal
            .service()
            .task(&self.portal.organizer(), self.event(), id)
            .await
            .expect("the task")
    }

    /// How many tasks the event has.
    pub async fn task_count(&self) -> usize {
        self.portal
            .service()
            .tasks(&self.portal.organizer(), self.event())
            .await
            .expect("the tasks")
            .len()
    }
}
