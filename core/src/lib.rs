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
//! let logo = service
//!     .create_task(
//!         &organizer,
//!         event.id,
//!         TaskConfig::automatic(
//!             en.clone(),
//!             "Upload your logo",
//!             Condition::LogoUploaded,
//!             HelpLink::WebPage { url: "https://expo.example/logo".into() },
//!         ),
//!     )
//!     .await?;
//! service.publish_task(&organizer, event.id, logo.id).await?;
//!
//! // A participant registers; the host reports that they uploaded a logo.
//! let acme = service
//!     .register_participant(&organizer, event.id, NewParticipant::new(ExternalId::new("acme")?))
//!     .await?;
//! service
//!     .ingest(
//!         &Actor::System,
//!         event.id,
//!         HostEvent {
//!             id: HostEventId::new("upload-1")?,
//!             participant: acme.id.into(),
//!             occurred_at: service.clock().now(),
//!             fact: HostFact::LogoUploaded,
//!         },
//!     )
//!     .await?;
//!
//! // The participant's Tasks section shows it done.
//! let me = Actor::participant(acme.id, event.id);
//! let list = service.my_tasks(&me, event.id).await?;
//! assert_eq!(list.summary.done, 1);
//! assert_eq!(list.items[0].status, ProgressStatus::Done);
//! # Ok(())
//! # }
//! ```
//!
//! ## Architecture
//!
//! Data flows one way: the [`Punchlist`] service loads what an operation needs from the
//! [`Store`], asks the pure rules what follows, and hands the store one [`ChangeSet`] to
//! commit in one transaction or not at all. Stores never decide; rules never do I/O.
//! Concurrent writers are caught by a version check on each participant's state and the
//! loser is retried. Work that grows with a segment (publishing, re-evaluation) runs in
//! bounded batches ([`Sweep`]s) that resume after a crash.
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
//! Implement [`Store`] (and `testkit::DumpStore` for tests), then expand the conformance
//! suite on it with `punchlist::conformance_tests!(async { MyStore::new() })`. Every
//! check it runs is the same one the in-memory store passes.

#![deny(missing_docs)]

pub mod actor;
pub mod change;
pub mod clock;
pub mod dispatch;
pub mod error;
pub mod event;
mod export;
pub mod figures;
pub mod history;
pub mod host_event;
pub mod ids;
pub mod limits;
pub mod matrix;
pub mod memory;
pub mod message;
pub mod notify;
pub mod participant;
pub mod presence;
pub mod privacy;
pub mod progress;
pub mod segment;
pub mod service;
pub mod session;
mod state;
pub mod store;
pub mod sweep;
pub mod task;
pub mod text;
pub mod timeline;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use actor::Actor;
pub use change::{ChangeSet, ParticipantWrite};
/// The time zone database events use (re-exported so hosts match its version).
pub use chrono_tz;
pub use clock::{Clock, ManualClock, SystemClock};
pub use dispatch::{DispatchConfig, DispatchReport, Dispatcher, MessageKind};
pub use error::{Error, Result};
pub use event::{Channels, CustomFieldDef, Event, EventSettings};
pub use export::neutralise_formula;
pub use figures::{TaskCounters, TaskFigures};
pub use history::{HistoryEntry, HistoryFilter, Subject};
pub use host_event::{HostEvent, HostFact, IngestOutcome};
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
    Address, Channel, Lease, Notification, Notifier, OutboxEntry, OutboxFilter, OutboxState,
    OutgoingMessage, PushSubscription, ReminderItem, ReminderMark, ReminderOffset, ReminderPolicy,
    ReminderSlot, SendError, Urgency, due_reminder,
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
pub use service::{Config, Punchlist, RemindTarget, ReminderTick};
pub use session::{
    Agenda, AgendaItem, Meeting, MeetingStatus, NewMeeting, Session, SessionRegistration,
};
pub use store::{EventConfig, ParticipantState, ProgressFeed, Store, StoreExt};
pub use sweep::Sweep;
pub use task::{
    CompletionMode, Condition, HelpLink, Task, TaskConfig, TaskState, TaskText, Template,
};
pub use text::Language;
pub use timeline::{
    ActionKind, BadgePlace, HostAction, Interaction, LoginChannel, Partner, Partners, ScanPlace,
    TimelineEntry, TimelineFilter, TimelineKind,
};

#[cfg(feature = "mock")]
pub use clock::MockClock;
#[cfg(feature = "mock")]
pub use notify::MockNotifier;
#[cfg(feature = "mock")]
pub use store::MockStore;
