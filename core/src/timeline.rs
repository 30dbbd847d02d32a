//! A participant's timeline (R5): dated actions before, during and after the event.
//!
//! Two sources write it. The host reports what happened on its side (a login, a scan, an
//! email opened…) with [`HostAction`]s, idempotent by id and batchable
//! ([`Punchlist::report_actions`](crate::Punchlist::report_actions)). The library adds its
//! own (registered, task completed, task assigned, networking switched…) in the same change
//! set as the change they record.
//!
//! Every kind is a variant of [`TimelineKind`]; [`ActionKind`] names them for filters.
//! Entries are ordered by their id, which carries the time of the action to the
//! millisecond ([`TimelineId::happened_at`]): an action reported late still lands at its
//! place, and a date range is a key range, so pages cost the same at any depth.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::ids::{EventId, ExternalId, MeetingId, ParticipantId, TaskId, TimelineId};

/// One dated action of a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Its id: ordered as the actions happened (see the module's documentation).
    pub id: TimelineId,
    /// The event.
    pub event: EventId,
    /// Whose timeline.
    pub participant: ParticipantId,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it: the participant, an organizer, or the system (the library, or the host
    /// reporting an action).
    pub actor: Actor,
    /// What happened.
    pub kind: TimelineKind,
}

/// What happened. Serialized with a `kind` tag (the [`ActionKind`]'s name) beside the
/// variant's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimelineKind {
    // ----- written by the library -----
    /// Registered to the event.
    Registered,
    /// A task was completed (by hand, by its condition or by an organizer).
    TaskCompleted {
        /// The task.
        task: TaskId,
    },
    /// A completed task went back to do.
    TaskReopened {
        /// The task.
        task: TaskId,
    },
    /// The participant handed a task to a collaborator.
    TaskAssigned {
        /// The task.
        task: TaskId,
        /// The collaborator.
        assignee: ParticipantId,
    },
    /// A task was assigned to this participant by its owner.
    TaskReceived {
        /// The task.
        task: TaskId,
        /// The owner.
        owner: ParticipantId,
    },
    /// The owner took a task back from their collaborator.
    TaskTakenBack {
        /// The task.
        task: TaskId,
        /// The collaborator who held it.
        from: ParticipantId,
    },
    /// Became a collaborator of another participant.
    CollaboratorLinked {
        /// The owner.
        owner: ParticipantId,
    },
    /// The library sent the participant a reminder (N3) or an organizer's nudge (B5):
    /// written when the message is queued for delivery (its delivery is in the outbox).
    ReminderSent {
        /// The tasks it reminds of.
        tasks: Vec<TaskId>,
    },
    /// Networking was switched on (the R2 status went to "allowed").
    NetworkingEnabled,
    /// Networking was switched off (the R2 status left "allowed").
    NetworkingDisabled,
    /// Registered to a session (R8).
    SessionRegistered {
        /// The host's id for the session.
        session: ExternalId,
    },
    /// Unregistered from a session (R8).
    SessionUnregistered {
        /// The host's id for the session.
        session: ExternalId,
    },
    /// Attended a session (R8).
    SessionAttended {
        /// The host's id for the session.
        session: ExternalId,
    },
    /// Booked a meeting (R9).
    MeetingBooked {
        /// The meeting.
        meeting: MeetingId,
        /// With whom.
        with: ParticipantId,
    },
    /// Was booked for a meeting by another participant (R9).
    MeetingReceived {
        /// The meeting.
        meeting: MeetingId,
        /// Who booked it.
        from: ParticipantId,
    },
    /// A meeting was accepted, declined or cancelled (R9); on both participants'
    /// timelines.
    MeetingStatusChanged {
        /// The meeting.
        meeting: MeetingId,
        /// Its new status.
        status: crate::session::MeetingStatus,
    },

    // ----- reported by the host -----
    /// First login to the site or the app.
    FirstLogin {
        /// Where.
        channel: LoginChannel,
    },
    /// Sent a networking contact request.
    ContactRequestSent {
        /// To whom.
        to: ParticipantId,
    },
    /// Received a networking contact request.
    ContactRequestReceived {
        /// From whom.
        from: ParticipantId,
    },
    /// Took part in live interactivity (a question, a poll…).
    LiveInteraction {
        /// How.
        interaction: Interaction,
        /// In which session, by the host's id, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<ExternalId>,
    },
    /// Was scanned.
    Scanned {
        /// Where, or by whom.
        place: ScanPlace,
    },
    /// Printed their badge.
    BadgePrinted {
        /// Self-service or on site.
        place: BadgePlace,
    },
    /// Answered a survey.
    SurveyAnswered {
        /// The host's id for the survey.
        survey: ExternalId,
    },
    /// Received an email.
    EmailReceived {
        /// The host's id for the email (a campaign, a message).
        email: ExternalId,
    },
    /// Opened an email.
    EmailOpened {
        /// The host's id for the email.
        email: ExternalId,
    },
    /// Clicked in an email.
    EmailClicked {
        /// The host's id for the email.
        email: ExternalId,
    },
    /// Bookmarked an exhibitor.
    ExhibitorBookmarked {
        /// The exhibitor (a participant of the event).
        exhibitor: ParticipantId,
    },
}

/// Where a participant logged in first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginChannel {
    /// The event's website.
    Web,
    /// The mobile app.
    App,
}

/// A kind of live interactivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interaction {
    /// Asked a question.
    Question,
    /// Voted in a poll.
    Poll,
    /// Answered a quiz.
    Quiz,
    /// Wrote in the live chat.
    Chat,
    /// Reacted (applause, emoji…).
    Reaction,
}

/// Where a participant was scanned.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum ScanPlace {
    /// At the entrance of a session.
    SessionEntrance {
        /// The host's id for the session.
        session: ExternalId,
    },
    /// By a partner (an exhibitor's staff) on their booth.
    Partner {
        /// The partner: a participant of the event.
        partner: ParticipantId,
    },
    /// At a zone of the venue.
    Zone {
        /// The host's id for the zone.
        zone: ExternalId,
    },
}

/// Where a badge was printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadgePlace {
    /// At a self-service kiosk.
    SelfService,
    /// By the staff on site.
    OnSite,
}

/// The name of a [`TimelineKind`], for filters; serialized as the same snake_case name
/// as the entry's `kind` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActionKind {
    /// [`TimelineKind::Registered`].
    Registered,
    /// [`TimelineKind::TaskCompleted`].
    TaskCompleted,
    /// [`TimelineKind::TaskReopened`].
    TaskReopened,
    /// [`TimelineKind::TaskAssigned`].
    TaskAssigned,
    /// [`TimelineKind::TaskReceived`].
    TaskReceived,
    /// [`TimelineKind::TaskTakenBack`].
    TaskTakenBack,
    /// [`TimelineKind::CollaboratorLinked`].
    CollaboratorLinked,
    /// [`TimelineKind::ReminderSent`].
    ReminderSent,
    /// [`TimelineKind::NetworkingEnabled`].
    NetworkingEnabled,
    /// [`TimelineKind::NetworkingDisabled`].
    NetworkingDisabled,
    /// [`TimelineKind::SessionRegistered`].
    SessionRegistered,
    /// [`TimelineKind::SessionUnregistered`].
    SessionUnregistered,
    /// [`TimelineKind::SessionAttended`].
    SessionAttended,
    /// [`TimelineKind::MeetingBooked`].
    MeetingBooked,
    /// [`TimelineKind::MeetingReceived`].
    MeetingReceived,
    /// [`TimelineKind::MeetingStatusChanged`].
    MeetingStatusChanged,
    /// [`TimelineKind::FirstLogin`].
    FirstLogin,
    /// [`TimelineKind::ContactRequestSent`].
    ContactRequestSent,
    /// [`TimelineKind::ContactRequestReceived`].
    ContactRequestReceived,
    /// [`TimelineKind::LiveInteraction`].
    LiveInteraction,
    /// [`TimelineKind::Scanned`].
    Scanned,
    /// [`TimelineKind::BadgePrinted`].
    BadgePrinted,
    /// [`TimelineKind::SurveyAnswered`].
    SurveyAnswered,
    /// [`TimelineKind::EmailReceived`].
    EmailReceived,
    /// [`TimelineKind::EmailOpened`].
    EmailOpened,
    /// [`TimelineKind::EmailClicked`].
    EmailClicked,
    /// [`TimelineKind::ExhibitorBookmarked`].
    ExhibitorBookmarked,
}

impl ActionKind {
    /// Every kind, in declaration order.
    pub const ALL: [ActionKind; 27] = [
        Self::Registered,
        Self::TaskCompleted,
        Self::TaskReopened,
        Self::TaskAssigned,
        Self::TaskReceived,
        Self::TaskTakenBack,
        Self::CollaboratorLinked,
        Self::ReminderSent,
        Self::NetworkingEnabled,
        Self::NetworkingDisabled,
        Self::SessionRegistered,
        Self::SessionUnregistered,
        Self::SessionAttended,
        Self::MeetingBooked,
        Self::MeetingReceived,
        Self::MeetingStatusChanged,
        Self::FirstLogin,
        Self::ContactRequestSent,
        Self::ContactRequestReceived,
        Self::LiveInteraction,
        Self::Scanned,
        Self::BadgePrinted,
        Self::SurveyAnswered,
        Self::EmailReceived,
        Self::EmailOpened,
        Self::EmailClicked,
        Self::ExhibitorBookmarked,
    ];

    /// The name, as in the entries' `kind` tag and in CSV exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::TaskCompleted => "task_completed",
            Self::TaskReopened => "task_reopened",
            Self::TaskAssigned => "task_assigned",
            Self::TaskReceived => "task_received",
            Self::TaskTakenBack => "task_taken_back",
            Self::CollaboratorLinked => "collaborator_linked",
            Self::ReminderSent => "reminder_sent",
            Self::NetworkingEnabled => "networking_enabled",
            Self::NetworkingDisabled => "networking_disabled",
            Self::SessionRegistered => "session_registered",
            Self::SessionUnregistered => "session_unregistered",
            Self::SessionAttended => "session_attended",
            Self::MeetingBooked => "meeting_booked",
            Self::MeetingReceived => "meeting_received",
            Self::MeetingStatusChanged => "meeting_status_changed",
            Self::FirstLogin => "first_login",
            Self::ContactRequestSent => "contact_request_sent",
            Self::ContactRequestReceived => "contact_request_received",
            Self::LiveInteraction => "live_interaction",
            Self::Scanned => "scanned",
            Self::BadgePrinted => "badge_printed",
            Self::SurveyAnswered => "survey_answered",
            Self::EmailReceived => "email_received",
            Self::EmailOpened => "email_opened",
            Self::EmailClicked => "email_clicked",
            Self::ExhibitorBookmarked => "exhibitor_bookmarked",
        }
    }

    /// The kind named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the host may report this kind; the others are written by the library only
    /// (a host reporting "task completed" would contradict the tasks' own state; sessions
    /// go through [`register_to_session`](crate::Punchlist::register_to_session) and its
    /// siblings, which keep the registrations the conditions count).
    pub fn reported_by_host(self) -> bool {
        matches!(
            self,
            Self::FirstLogin
                | Self::ContactRequestSent
                | Self::ContactRequestReceived
                | Self::LiveInteraction
                | Self::Scanned
                | Self::BadgePrinted
                | Self::SurveyAnswered
                | Self::EmailReceived
                | Self::EmailOpened
                | Self::EmailClicked
                | Self::ExhibitorBookmarked
        )
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TimelineKind {
    /// Its name.
    pub fn action_kind(&self) -> ActionKind {
        match self {
            Self::Registered => ActionKind::Registered,
            Self::TaskCompleted { .. } => ActionKind::TaskCompleted,
            Self::TaskReopened { .. } => ActionKind::TaskReopened,
            Self::TaskAssigned { .. } => ActionKind::TaskAssigned,
            Self::TaskReceived { .. } => ActionKind::TaskReceived,
            Self::TaskTakenBack { .. } => ActionKind::TaskTakenBack,
            Self::CollaboratorLinked { .. } => ActionKind::CollaboratorLinked,
            Self::ReminderSent { .. } => ActionKind::ReminderSent,
            Self::NetworkingEnabled => ActionKind::NetworkingEnabled,
            Self::NetworkingDisabled => ActionKind::NetworkingDisabled,
            Self::SessionRegistered { .. } => ActionKind::SessionRegistered,
            Self::SessionUnregistered { .. } => ActionKind::SessionUnregistered,
            Self::SessionAttended { .. } => ActionKind::SessionAttended,
            Self::MeetingBooked { .. } => ActionKind::MeetingBooked,
            Self::MeetingReceived { .. } => ActionKind::MeetingReceived,
            Self::MeetingStatusChanged { .. } => ActionKind::MeetingStatusChanged,
            Self::FirstLogin { .. } => ActionKind::FirstLogin,
            Self::ContactRequestSent { .. } => ActionKind::ContactRequestSent,
            Self::ContactRequestReceived { .. } => ActionKind::ContactRequestReceived,
            Self::LiveInteraction { .. } => ActionKind::LiveInteraction,
            Self::Scanned { .. } => ActionKind::Scanned,
            Self::BadgePrinted { .. } => ActionKind::BadgePrinted,
            Self::SurveyAnswered { .. } => ActionKind::SurveyAnswered,
            Self::EmailReceived { .. } => ActionKind::EmailReceived,
            Self::EmailOpened { .. } => ActionKind::EmailOpened,
            Self::EmailClicked { .. } => ActionKind::EmailClicked,
            Self::ExhibitorBookmarked { .. } => ActionKind::ExhibitorBookmarked,
        }
    }

    /// The other participants of the event this action names (a contact, a partner, an
    /// exhibitor): a reported action must name participants that exist.
    pub fn participants_named(&self) -> Vec<ParticipantId> {
        match self {
            Self::TaskAssigned { assignee: p, .. }
            | Self::TaskReceived { owner: p, .. }
            | Self::TaskTakenBack { from: p, .. }
            | Self::CollaboratorLinked { owner: p }
            | Self::MeetingBooked { with: p, .. }
            | Self::MeetingReceived { from: p, .. }
            | Self::ContactRequestSent { to: p }
            | Self::ContactRequestReceived { from: p }
            | Self::Scanned {
                place: ScanPlace::Partner { partner: p },
            }
            | Self::ExhibitorBookmarked { exhibitor: p } => vec![*p],
            _ => Vec::new(),
        }
    }

    /// The variant's fields as compact JSON without the `kind` tag (`{"task":"…"}`), as
    /// the CSV export writes them; `""` for a kind without fields.
    pub fn details(&self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut fields)) => {
                fields.remove("kind");
                if fields.is_empty() {
                    String::new()
                } else {
                    serde_json::Value::Object(fields).to_string()
                }
            }
            _ => String::new(),
        }
    }
}

/// A partner (an exhibitor) on a participant's record (R10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// The partner: a participant of the event.
    pub participant: ParticipantId,
    /// Their company.
    pub company: String,
    /// Their name, for the organizers only (`None` when a participant reads their own
    /// record: the partner's staff member is another participant's private data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The last time it happened.
    pub at: DateTime<Utc>,
}

/// The partners tab of a participant's record (R10), most recent first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partners {
    /// Exhibitors the participant bookmarked.
    pub bookmarked: Vec<Partner>,
    /// Partners that scanned the participant (on their booth).
    pub scanned_by: Vec<Partner>,
}

/// `at` truncated to the millisecond: the precision of the timeline's order and ranges.
pub(crate) fn to_millisecond(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::milliseconds(1)).unwrap_or(at)
}

/// Which entries of a timeline to read (R5): kinds, a date range, and the keyset cursor.
/// The default reads everything, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineFilter {
    /// Only these kinds (empty: every kind).
    #[serde(default)]
    pub kinds: BTreeSet<ActionKind>,
    /// Only actions at or after this time (to the millisecond).
    #[serde(default)]
    pub from: Option<DateTime<Utc>>,
    /// Only actions at or before this time (to the millisecond: every action of that
    /// millisecond is in).
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// The next page: entries strictly older than this one (the last entry of the page
    /// before). `None` starts from the newest.
    #[serde(default)]
    pub before: Option<TimelineId>,
}

impl TimelineFilter {
    /// Checks the range.
    pub fn validate(&self) -> Result<()> {
        if let (Some(from), Some(until)) = (self.from, self.until)
            && from > until
        {
            return Err(Error::invalid("from", "after `until`"));
        }
        Ok(())
    }

    /// The id range the filter reads: entries with `lower <= id < upper`. A store walks
    /// it from `upper` down, keeping the entries whose kind is wanted.
    pub fn id_range(&self) -> (TimelineId, TimelineId) {
        let lower = self.from.map_or(TimelineId::min(), TimelineId::lowest_at);
        let until = self.until.map(TimelineId::after_millisecond);
        let before = self.before;
        let upper = match (until, before) {
            (Some(u), Some(b)) => u.min(b),
            (Some(u), None) => u,
            (None, Some(b)) => b,
            (None, None) => TimelineId::from_uuid(uuid::Uuid::max()),
        };
        (lower, upper)
    }

    /// Whether `entry` passes the kind filter (the store checks the id range).
    pub fn wants(&self, entry: &TimelineEntry) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&entry.kind.action_kind())
    }

    /// The kinds as names, for stores that filter in their query (`None`: every kind).
    pub fn kind_names(&self) -> Option<Vec<&'static str>> {
        (!self.kinds.is_empty()).then(|| self.kinds.iter().map(|k| k.as_str()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn samples() -> Vec<TimelineKind> {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let p = ParticipantId::new_at(at);
        let t = TaskId::new_at(at);
        let x = ExternalId::new("x").unwrap();
        vec![
            TimelineKind::Registered,
            TimelineKind::TaskCompleted { task: t },
            TimelineKind::TaskReopened { task: t },
            TimelineKind::TaskAssigned {
                task: t,
                assignee: p,
            },
            TimelineKind::TaskReceived { task: t, owner: p },
            TimelineKind::TaskTakenBack { task: t, from: p },
            TimelineKind::CollaboratorLinked { owner: p },
            TimelineKind::ReminderSent { tasks: vec![t] },
            TimelineKind::NetworkingEnabled,
            TimelineKind::NetworkingDisabled,
            TimelineKind::SessionRegistered { session: x.clone() },
            TimelineKind::SessionUnregistered { session: x.clone() },
            TimelineKind::SessionAttended { session: x.clone() },
            TimelineKind::MeetingBooked {
                meeting: MeetingId::new_at(at),
                with: p,
            },
            TimelineKind::MeetingReceived {
                meeting: MeetingId::new_at(at),
                from: p,
            },
            TimelineKind::MeetingStatusChanged {
                meeting: MeetingId::new_at(at),
                status: crate::session::MeetingStatus::Accepted,
            },
            TimelineKind::FirstLogin {
                channel: LoginChannel::App,
            },
            TimelineKind::ContactRequestSent { to: p },
            TimelineKind::ContactRequestReceived { from: p },
            TimelineKind::LiveInteraction {
                interaction: Interaction::Poll,
                session: Some(x.clone()),
            },
            TimelineKind::Scanned {
                place: ScanPlace::Zone { zone: x.clone() },
            },
            TimelineKind::BadgePrinted {
                place: BadgePlace::SelfService,
            },
            TimelineKind::SurveyAnswered { survey: x.clone() },
            TimelineKind::EmailReceived { email: x.clone() },
            TimelineKind::EmailOpened { email: x.clone() },
            TimelineKind::EmailClicked { email: x.clone() },
            TimelineKind::ExhibitorBookmarked { exhibitor: p },
        ]
    }

    #[test]
    fn r5_every_kind_is_named_as_its_tag_and_round_trips() {
        let kinds = samples();
        assert_eq!(kinds.len(), ActionKind::ALL.len());
        for (kind, name) in kinds.iter().zip(ActionKind::ALL) {
            assert_eq!(kind.action_kind(), name);
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json["kind"], name.as_str());
            assert_eq!(serde_json::to_value(name).unwrap(), name.as_str());
            assert_eq!(ActionKind::parse(name.as_str()), Some(name));
            let back: TimelineKind = serde_json::from_value(json).unwrap();
            assert_eq!(&back, kind);
        }
        assert_eq!(ActionKind::parse("nope"), None);
    }

    #[test]
    fn r5_ids_follow_the_time_of_the_action_not_of_the_report() {
        let late = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let early = Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap();
        let a = TimelineId::happened_at(late);
        let b = TimelineId::happened_at(early);
        assert!(b < a, "reported second, happened first");
        assert!(TimelineId::lowest_at(early) <= b && b <= TimelineId::highest_at(early));
        assert!(
            TimelineId::highest_at(early)
                < TimelineId::lowest_at(early + Duration::milliseconds(1))
        );
    }

    #[test]
    fn r5_filter_range_is_inclusive_to_the_millisecond() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let id = TimelineId::happened_at(at);
        let f = TimelineFilter {
            from: Some(at),
            until: Some(at),
            ..TimelineFilter::default()
        };
        let (lower, upper) = f.id_range();
        assert!(lower <= id && id < upper);
        let f = TimelineFilter {
            until: Some(at - Duration::milliseconds(1)),
            ..TimelineFilter::default()
        };
        assert!(id >= f.id_range().1);
        let bad = TimelineFilter {
            from: Some(at),
            until: Some(at - Duration::seconds(1)),
            ..TimelineFilter::default()
        };
        assert_eq!(bad.validate().unwrap_err().field(), Some("from"));
    }
}
