//! # Punchlist
//!
//! Participant tasks and the participant record for event platforms, as a library.
//!
//! Organizers configure tasks ("upload your logo", "book your hotel") and target them at a
//! segment; participants see the tasks meant for them, complete them by hand or
//! automatically when the host reports a fact, hand them to collaborators, and get
//! notified; organizers follow completion live. The library owns the domain rules; the
//! host owns HTTP, login and its own UI.
//!
//! Capabilities are numbered in the design (T tasks, S segments, N notifications,
//! P the participant's Tasks section, B back-office tracking, R the participant record,
//! X cross-cutting); docs and tests refer to them by id.
//!
//! ## Quickstart
//!
//! ```
//! use punchlist::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), punchlist::Error> {
//! let service = Punchlist::new(MemoryStore::new(), SystemClock);
//! let en = Language::new("en")?;
//!
//! // The host creates the event; an organizer configures a task and publishes it.
//! let event = service
//!     .create_event(&Actor::System, EventSettings::new("Expo 2026", en.clone()))
//!     .await?;
//! let organizer = Actor::organizer(AdminId::new("alice")?, event.id);
//! // A handle on this event for this organizer: its calls take neither again.
//! let org = service.event(&organizer, event.id);
//! let logo = org
//!     .create_task(TaskConfig::automatic(
//!         en.clone(),
//!         "Upload your logo",
//!         Condition::LogoUploaded,
//!         HelpLink::WebPage { url: "https://expo.example/logo".into() },
//!     ))
//!     .await?;
//! org.publish_task(logo.id).await?;
//!
//! // A participant registers; the host reports that they uploaded a logo.
//! let acme = org
//!     .register_participant(NewParticipant::new(ExternalId::new("acme")?))
//!     .await?;
//! service
//!     .event(&Actor::System, event.id)
//!     .ingest(HostEvent {
//!         id: HostEventId::new("upload-1")?,
//!         participant: acme.id.into(),
//!         occurred_at: service.clock().now(),
//!         fact: HostFact::LogoUploaded,
//!     })
//!     .await?;
//!
//! // The participant's Tasks section shows it done.
//! let me = Actor::participant(acme.id, event.id);
//! let list = service.event(&me, event.id).my_tasks().await?;
//! assert_eq!(list.summary.done, 1);
//! assert_eq!(list.items[0].status, ProgressStatus::Done);
//! # Ok(())
//! # }
//! ```
//!
//! ## Architecture
//!
//! Every operation takes the actor and the event; [`Punchlist::event`] gives an
//! [`EventScope`] whose calls take neither again. Authorization stays per operation.
//!
//! Data flows one way: the [`Punchlist`] service loads what an operation needs from the
//! [`Store`], asks the pure rules what follows, and hands the store one [`store::ChangeSet`] to
//! commit in one transaction or not at all. Stores never decide; rules never do I/O.
//! Concurrent writers are caught by a version check on each participant's state and the
//! loser is retried. Work that grows with a segment (publishing, re-evaluation) runs in
//! bounded batches ([`Sweep`]s) that resume after a crash.
//!
//! ## Where names live
//!
//! Every type a host uses is at the crate root. Three modules are public: [`limits`] holds
//! every bound on the library's inputs and the paging policy, [`store`] what only a store
//! writer needs (the role traits, the change set, the conflict check), and `testkit`
//! (feature `testkit`) the conformance suite and its fixtures.
//!
//! ## Refusals, bounds and pages
//!
//! Every refusal answers one question, and its kind says which ([`Error`] has the
//! table): [`Error::NotFound`] whether it exists for this reader, [`Error::Forbidden`]
//! *who* may act, [`Error::Invalid`] *what* was asked (a malformed value, or an operation
//! the object's configuration excludes, naming the field), [`Error::State`] *when* (the
//! object's current state refuses a well-formed request), and [`Error::Conflict`] a
//! concurrent writer or a stale version ([`ParticipantPatch::if_version`]). A refused
//! call writes nothing.
//!
//! Every input has a bound on its size, its time or its count, all in [`limits`]: texts
//! and ids have lengths and refuse control characters; rules, conditions and settings
//! have an encoded size; facts and actions may not be dated beyond
//! [`limits::MAX_CLOCK_SKEW`]; batches, imports, bulk calls and pending meeting requests
//! have counts. Every paged call reads its `limit` the same way
//! ([`limits::page`](limits#paging)): `0` for the default page, above the call's maximum
//! `Invalid` on `limit`.
//!
//! ## Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `testkit` | the conformance suite ([`testkit`]) and the canonical dump of an event |
//! | `mock` | `mockall` mocks: `MockStore`, `MockClock` |
//!
//! ## Implementing a store
//!
//! A store implements the five role traits of [`store`], each in a file of its own if it
//! likes: [`store::EventStore`] (the configuration, the one write, the live stream),
//! [`store::ParticipantStore`], [`store::TrackingStore`], [`store::RecordStore`] and
//! [`store::OutboxStore`]. It then is a [`Store`], and [`store::StoreExt`] adds the derived
//! reads. A store never decides: it writes the [`store::ChangeSet`] it is handed in one
//! transaction, after [`store::check`] over its own [`store::StoredState`] found no
//! conflict. Here, a store that counts the commits of the one it wraps:
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//!
//! use async_trait::async_trait;
//! use chrono::{DateTime, Utc};
//! use punchlist::store::*;
//! use punchlist::*;
//!
//! struct Counting<S> {
//!     inner: S,
//!     commits: AtomicU64,
//! }
//!
//! #[async_trait]
//! impl<S: Store> EventStore for Counting<S> {
//!     async fn event_config(&self, event: EventId) -> Result<Option<Arc<EventConfig>>> {
//!         self.inner.event_config(event).await
//!     }
//!     async fn apply(&self, changes: ChangeSet) -> Result<()> {
//!         self.inner.apply(changes).await?;
//!         self.commits.fetch_add(1, Ordering::Relaxed);
//!         Ok(())
//!     }
//!     async fn progress_feed(&self, event: EventId) -> Result<ProgressFeed> {
//!         self.inner.progress_feed(event).await
//!     }
//! }
//!
//! #[async_trait]
//! impl<S: Store> ParticipantStore for Counting<S> {
//!     async fn participants_by_id(&self, e: EventId, ids: &[ParticipantId]) -> Result<Vec<ParticipantState>> {
//!         self.inner.participants_by_id(e, ids).await
//!     }
//!     async fn participant_records(&self, e: EventId, ids: &[ParticipantId]) -> Result<Vec<Participant>> {
//!         self.inner.participant_records(e, ids).await
//!     }
//!     async fn participant_by_external_id(&self, e: EventId, id: &ExternalId) -> Result<Option<ParticipantId>> {
//!         self.inner.participant_by_external_id(e, id).await
//!     }
//!     async fn participants(&self, e: EventId, after: Option<ParticipantId>, limit: usize) -> Result<Vec<ParticipantState>> {
//!         self.inner.participants(e, after, limit).await
//!     }
//!     async fn collaborators(&self, e: EventId, owner: ParticipantId) -> Result<Vec<ParticipantId>> {
//!         self.inner.collaborators(e, owner).await
//!     }
//!     async fn assigned_to(&self, e: EventId, assignee: ParticipantId) -> Result<Vec<Progress>> {
//!         self.inner.assigned_to(e, assignee).await
//!     }
//!     async fn ingested(&self, e: EventId, ids: &[HostEventId]) -> Result<Vec<HostEventId>> {
//!         self.inner.ingested(e, ids).await
//!     }
//! }
//!
//! #[async_trait]
//! impl<S: Store> TrackingStore for Counting<S> {
//!     async fn matrix(&self, e: EventId, q: &MatrixQuery) -> Result<Vec<ParticipantState>> {
//!         self.inner.matrix(e, q).await
//!     }
//!     async fn task_counters(&self, e: EventId) -> Result<std::collections::BTreeMap<TaskId, TaskCounters>> {
//!         self.inner.task_counters(e).await
//!     }
//!     async fn sweeps(&self, e: EventId) -> Result<Vec<Sweep>> {
//!         self.inner.sweeps(e).await
//!     }
//! }
//!
//! #[async_trait]
//! impl<S: Store> RecordStore for Counting<S> {
//!     async fn timeline(&self, e: EventId, p: ParticipantId, f: &TimelineFilter, limit: usize) -> Result<Vec<TimelineEntry>> {
//!         self.inner.timeline(e, p, f, limit).await
//!     }
//!     async fn history(&self, e: EventId, s: Subject, before: Option<HistoryId>, limit: usize) -> Result<Vec<HistoryEntry>> {
//!         self.inner.history(e, s, before, limit).await
//!     }
//!     async fn messages(&self, e: EventId, p: ParticipantId, before: Option<MessageId>, limit: usize) -> Result<Vec<Message>> {
//!         self.inner.messages(e, p, before, limit).await
//!     }
//! }
//!
//! #[async_trait]
//! impl<S: Store> OutboxStore for Counting<S> {
//!     async fn outbox(&self, e: EventId, f: &OutboxFilter, after: Option<OutboxId>, limit: usize) -> Result<Vec<OutboxEntry>> {
//!         self.inner.outbox(e, f, after, limit).await
//!     }
//!     async fn claim_outbox(&self, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxEntry>> {
//!         self.inner.claim_outbox(owner, now, until, limit).await
//!     }
//!     async fn update_limiter(&self, name: &str, step: LimiterStep) -> Result<Option<DateTime<Utc>>> {
//!         self.inner.update_limiter(name, step).await
//!     }
//!     async fn release_outbox(&self, owner: &str, entries: Vec<OutboxEntry>) -> Result<Vec<OutboxId>> {
//!         self.inner.release_outbox(owner, entries).await
//!     }
//!     async fn requeue_dead(&self, e: EventId, ids: &[OutboxId], now: DateTime<Utc>) -> Result<Vec<OutboxId>> {
//!         self.inner.requeue_dead(e, ids, now).await
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<()> {
//! let store = Counting { inner: MemoryStore::new(), commits: AtomicU64::new(0) };
//! let service = Punchlist::new(store, SystemClock);
//! let en = Language::new("en")?;
//! service.create_event(&Actor::System, EventSettings::new("Expo", en)).await?;
//! assert_eq!(service.store().commits.load(Ordering::Relaxed), 1);
//! # Ok(())
//! # }
//! ```
//!
//! For tests it also implements [`store::DumpStore`] (feature `testkit`), and runs the
//! whole conformance suite on itself with
//! `punchlist::conformance_tests!(async { MyStore::new() })`: every check it runs is the
//! same one the in-memory store passes.

#![deny(missing_docs)]
#![warn(unnameable_types, unreachable_pub)]

mod actor;
mod change;
mod clock;
mod dispatch;
mod error;
mod event;
mod export;
mod figures;
mod history;
mod host_event;
mod ids;
pub mod limits;
mod matrix;
mod memory;
mod message;
mod notify;
mod participant;
mod presence;
mod privacy;
mod progress;
mod segment;
mod service;
mod session;
mod state;
pub mod store;
mod sweep;
mod task;
mod text;
mod timeline;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use actor::Actor;
/// The time zone database events use (re-exported so hosts match its version).
pub use chrono_tz;
pub use clock::{Clock, ManualClock, SystemClock};
pub use dispatch::{DispatchConfig, DispatchReport, Dispatcher, MessageKind, UnsubscribeLinks};
pub use error::{BoxError, Error, Result};
pub use event::{Branding, Channels, CustomFieldDef, Event, EventSettings};
pub use export::neutralise_formula;
pub use figures::{TaskCounters, TaskFigures};
pub use history::{HistoryEntry, HistoryFilter, Subject};
pub use host_event::{HostAction, HostEvent, HostFact, IngestOutcome};
pub use ids::{
    AdminId, EventId, ExternalId, HistoryId, HostEventId, MeetingId, MessageId, OutboxId,
    ParticipantId, ParticipantRef, SegmentId, SweepId, TaskId, TimelineId,
};
pub use matrix::{
    MatrixCell, MatrixCursor, MatrixPage, MatrixQuery, MatrixRequest, MatrixRow, MatrixSort,
    StatusFilter,
};
pub use memory::MemoryStore;
pub use message::{Message, MessagePage, Unread};
pub use notify::{
    Address, Channel, Lease, LimiterStep, Notification, NotificationDefaults, Notifier,
    OutboxEntry, OutboxFilter, OutboxState, OutgoingMessage, PREFERENCE_KINDS, PreferenceCell,
    PreferenceChange, PreferenceRow, Preferences, PreferencesUpdate, PushSubscription, RateLimit,
    ReminderItem, ReminderMark, ReminderOffset, ReminderPolicy, ReminderSlot, RetryAfter,
    SendError, SendWindow, Sender, Taken, UnsubscribeKey, UnsubscribeToken, Urgency, due_reminder,
};
pub use participant::{
    Attendance, CountedFact, Facts, Networking, NetworkingProfile, NewParticipant, Participant,
    ParticipantPatch, ParticipationMode, Profile, ProfilePatch, RegistrationStatus, Stamped,
    Status, StatusPatch, Utm, UtmField, UtmPatch,
};
pub use presence::{OnlineStatus, Presence, PresenceThresholds, Registrant, RegistrantsPage};
pub use privacy::ParticipantExport;
pub use progress::{
    CompletedHow, Completion, Decision, Progress, ProgressChange, ProgressStatus, ProgressSummary,
    Rejection, TaskItem, TaskList,
};
pub use segment::{Rule, Segment, SegmentDraft, SegmentPreview};
pub use service::{Config, EventScope, Punchlist, RemindTarget, ReminderTick, Unsubscribed};
pub use session::{
    Agenda, AgendaItem, Meeting, MeetingStatus, NewMeeting, Session, SessionRegistration,
};
pub use store::backend::Store;
pub use store::feed::ProgressFeed;
pub use sweep::Sweep;
pub use task::{
    CompletionMode, Condition, HelpLink, Task, TaskConfig, TaskState, TaskText, Template,
};
pub use text::Language;
pub use timeline::{
    ActionKind, BadgePlace, Interaction, LoginChannel, Partner, Partners, ScanPlace, TimelineEntry,
    TimelineFilter, TimelineKind,
};

#[cfg(feature = "mock")]
pub use clock::MockClock;
#[cfg(feature = "mock")]
pub use notify::MockNotifier;
#[cfg(feature = "mock")]
pub use store::mock::MockStore;
