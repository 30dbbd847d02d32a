//! A ready event for conformance checks: a manual clock, an organizer, two languages, a
//! custom field, and an "exhibitors" segment.

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use super::{DumpStore, EventDump};
use crate::*;

/// A service over the store under test, with an event ready to use.
pub struct Fixture<S: DumpStore> {
    /// The service, on a manual clock.
    pub service: Arc<Punchlist<S, ManualClock>>,
    /// The clock (clones share the time).
    pub clock: ManualClock,
    /// The event.
    pub event: EventId,
    /// An organizer of the event.
    pub organizer: Actor,
    /// English, the default language.
    pub en: Language,
    /// French.
    pub fr: Language,
    /// The segment of participants with the category "exhibitor".
    pub exhibitors: SegmentId,
}

impl<S: DumpStore> Fixture<S> {
    /// Creates the event on `store`, at 2026-03-01 09:00 UTC.
    pub async fn new(store: S) -> Self {
        Self::with_store(Arc::new(store)).await
    }

    /// Same as [`Fixture::new`] on a shared store.
    pub async fn with_store(store: Arc<S>) -> Self {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap());
        let service = Arc::new(
            Punchlist::new(store, clock.clone()).with_config(Config::default().with_batch_size(7)),
        );
        let en = Language::new("en").unwrap();
        let fr = Language::new("fr").unwrap();
        let mut settings = EventSettings::new("Expo 2026", en.clone());
        settings.languages.push(fr.clone());
        settings.time_zone = chrono_tz::Europe::Paris;
        settings.custom_fields.insert(
            "stand".into(),
            CustomFieldDef {
                label: "Stand number".into(),
            },
        );
        let event = service
            .create_event(&Actor::System, settings)
            .await
            .expect("create event");
        let organizer = Actor::organizer(AdminId::new("alice").unwrap(), event.id);
        let exhibitors = service
            .create_segment(
                &organizer,
                event.id,
                SegmentDraft {
                    name: "Exhibitors".into(),
                    rule: Rule::category("exhibitor"),
                },
            )
            .await
            .expect("create segment")
            .id;
        Self {
            service,
            clock,
            event: event.id,
            organizer,
            en,
            fr,
            exhibitors,
        }
    }

    /// Registers a participant with these categories.
    pub async fn participant(&self, external_id: &str, categories: &[&str]) -> Participant {
        let mut new = NewParticipant::new(ExternalId::new(external_id).unwrap());
        new.profile.first_name = external_id.to_owned();
        new.profile.email = Some(format!("{external_id}@example.org"));
        new.status.categories = categories.iter().map(|c| c.to_string()).collect();
        self.service
            .register_participant(&self.organizer, self.event, new)
            .await
            .expect("register participant")
    }

    /// Registers an exhibitor and a collaborator linked to them.
    pub async fn exhibitor_with_collaborator(&self, name: &str) -> (Participant, Participant) {
        let owner = self.participant(name, &["exhibitor"]).await;
        let collaborator = self.participant(&format!("{name}-team"), &[]).await;
        self.service
            .link_collaborator(&self.organizer, self.event, owner.id, collaborator.id)
            .await
            .expect("link collaborator");
        (owner, collaborator)
    }

    /// Gives `p`'s consent to networking meetings (R2, R9), as an organizer.
    pub async fn allow_networking(&self, p: &Participant) {
        self.service
            .set_networking(&self.organizer, self.event, p.id, Networking::Allowed)
            .await
            .expect("set networking");
    }

    /// The actor of a participant.
    pub fn as_participant(&self, p: &Participant) -> Actor {
        Actor::participant(p.id, self.event)
    }

    /// A web-page help link.
    pub fn web() -> HelpLink {
        HelpLink::WebPage {
            url: "https://expo.example/help".into(),
        }
    }

    /// Creates and publishes a task with this configuration.
    pub async fn publish(&self, config: TaskConfig) -> Task {
        let t = self
            .service
            .create_task(&self.organizer, self.event, config)
            .await
            .expect("create task");
        self.service
            .publish_task(&self.organizer, self.event, t.id)
            .await
            .expect("publish task")
    }

    /// Changes the event's settings as its organizer: reads them, applies `change`, and
    /// updates the event.
    pub async fn change_settings(&self, change: impl FnOnce(&mut EventSettings)) {
        let mut settings = self
            .service
            .event(&self.organizer, self.event)
            .get()
            .await
            .expect("event")
            .settings;
        change(&mut settings);
        self.service
            .update_event(&self.organizer, self.event, settings)
            .await
            .expect("update event");
    }

    /// Changes `p`'s status (language, time zone, …) as the organizer.
    pub async fn change_status(&self, p: &Participant, change: impl FnOnce(&mut Status)) {
        let mut status = p.status.clone();
        change(&mut status);
        self.service
            .update_participant(
                &self.organizer,
                self.event,
                p.id,
                ParticipantPatch {
                    status: status.into(),
                    ..ParticipantPatch::default()
                },
            )
            .await
            .expect("update participant");
    }

    /// Sets the channels the event's notifications go out on (N4).
    pub async fn channels(&self, channels: Channels) {
        self.change_settings(|s| s.channels = channels).await;
    }

    /// Gives `p` a handle in the host's chat.
    pub async fn chat_handle(&self, p: &Participant, handle: &str) {
        let mut profile = p.profile.clone();
        profile.chat_handle = Some(handle.to_owned());
        self.service
            .update_participant(
                &self.organizer,
                self.event,
                p.id,
                ParticipantPatch {
                    profile: profile.into(),
                    ..ParticipantPatch::default()
                },
            )
            .await
            .expect("update participant");
    }

    /// Creates a draft manual task.
    pub async fn draft_manual(&self, name: &str, segment: Option<SegmentId>) -> Task {
        let mut config = TaskConfig::manual(self.en.clone(), name, Self::web());
        config.segment = segment;
        self.service
            .create_task(&self.organizer, self.event, config)
            .await
            .expect("create task")
    }

    /// Creates and publishes a manual task.
    pub async fn manual_task(&self, name: &str, segment: Option<SegmentId>) -> Task {
        let t = self.draft_manual(name, segment).await;
        self.service
            .publish_task(&self.organizer, self.event, t.id)
            .await
            .expect("publish task")
    }

    /// Creates and publishes an automatic task.
    pub async fn auto_task(
        &self,
        name: &str,
        condition: Condition,
        segment: Option<SegmentId>,
    ) -> Task {
        let mut config = TaskConfig::automatic(self.en.clone(), name, condition, Self::web());
        config.segment = segment;
        self.publish(config).await
    }

    /// A host event about `participant`, occurring now.
    pub fn host_event(&self, id: &str, participant: &Participant, fact: HostFact) -> HostEvent {
        HostEvent {
            id: HostEventId::new(id).unwrap(),
            participant: participant.id.into(),
            occurred_at: self.clock.now(),
            fact,
        }
    }

    /// Ingests one fact about `participant`, occurring now.
    pub async fn fact(&self, id: &str, participant: &Participant, fact: HostFact) -> IngestOutcome {
        self.service
            .ingest(
                &Actor::System,
                self.event,
                self.host_event(id, participant, fact),
            )
            .await
            .expect("ingest")
    }

    /// The participant's Tasks section.
    pub async fn list(&self, p: &Participant) -> TaskList {
        self.service
            .my_tasks(&self.as_participant(p), self.event)
            .await
            .expect("my tasks")
    }

    /// The status of `task` in `p`'s own list (`None`: not in it).
    pub async fn status(&self, p: &Participant, task: TaskId) -> Option<ProgressStatus> {
        self.list(p)
            .await
            .items
            .into_iter()
            .find(|i| i.task == task && i.owner == p.id)
            .map(|i| i.status)
    }

    /// The canonical dump of the event. Checks on the way that the stored counters equal
    /// a recount of the progress rows (B3), so every check that dumps also checks them.
    pub async fn dump(&self) -> EventDump {
        let dump = self.service.store().dump(self.event).await.expect("dump");
        assert_eq!(
            dump.counters,
            dump.recount(),
            "B3: the stored counters differ from a recount of the progress rows"
        );
        dump
    }

    /// Every outbox entry of the event.
    pub async fn outbox(&self) -> Vec<OutboxEntry> {
        self.service
            .outbox(
                &self.organizer,
                self.event,
                &OutboxFilter::default(),
                None,
                1000,
            )
            .await
            .expect("outbox")
    }
}
