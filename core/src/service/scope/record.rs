//! The participant record's operations (R1–R13, X6) on an [`EventScope`].

use std::io;

use chrono::{DateTime, Utc};

use super::EventScope;
use crate::clock::Clock;
use crate::store::Store;
use crate::*;

impl<S: Store + ?Sized, C: Clock> EventScope<'_, S, C> {
    /// [`Punchlist::register_to_session`] in this scope.
    pub async fn register_to_session(
        &self,
        participant: ParticipantId,
        session: Session,
    ) -> Result<SessionRegistration> {
        self.service
            .register_to_session(self.actor, self.event, participant, session)
            .await
    }
    /// [`Punchlist::unregister_from_session`] in this scope.
    pub async fn unregister_from_session(
        &self,
        participant: ParticipantId,
        session: &ExternalId,
    ) -> Result<SessionRegistration> {
        self.service
            .unregister_from_session(self.actor, self.event, participant, session)
            .await
    }
    /// [`Punchlist::record_attendance`] in this scope.
    pub async fn record_attendance(
        &self,
        participant: ParticipantId,
        session: Session,
        at: DateTime<Utc>,
    ) -> Result<SessionRegistration> {
        self.service
            .record_attendance(self.actor, self.event, participant, session, at)
            .await
    }
    /// [`Punchlist::sessions`] in this scope.
    pub async fn sessions(&self, participant: ParticipantId) -> Result<Vec<SessionRegistration>> {
        self.service
            .sessions(self.actor, self.event, participant)
            .await
    }
    /// [`Punchlist::agenda`] in this scope.
    pub async fn agenda(&self, participant: ParticipantId) -> Result<Agenda> {
        self.service
            .agenda(self.actor, self.event, participant)
            .await
    }
    /// [`Punchlist::book_meeting`] in this scope.
    pub async fn book_meeting(&self, meeting: NewMeeting) -> Result<Meeting> {
        self.service
            .book_meeting(self.actor, self.event, meeting)
            .await
    }
    /// [`Punchlist::set_meeting_status`] in this scope.
    pub async fn set_meeting_status(
        &self,
        participant: ParticipantId,
        meeting: MeetingId,
        status: MeetingStatus,
    ) -> Result<Meeting> {
        self.service
            .set_meeting_status(self.actor, self.event, participant, meeting, status)
            .await
    }
    /// [`Punchlist::meetings`] in this scope.
    pub async fn meetings(&self, participant: ParticipantId) -> Result<Vec<Meeting>> {
        self.service
            .meetings(self.actor, self.event, participant)
            .await
    }
    /// [`Punchlist::participant_history`] in this scope.
    pub async fn participant_history(
        &self,
        participant: ParticipantId,
        filter: &HistoryFilter,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        self.service
            .participant_history(self.actor, self.event, participant, filter, limit)
            .await
    }
    /// [`Punchlist::export_participant_history_csv`] in this scope.
    pub async fn export_participant_history_csv<W: io::Write + Send>(
        &self,
        participant: ParticipantId,
        filter: &HistoryFilter,
        out: W,
    ) -> Result<u64> {
        self.service
            .export_participant_history_csv(self.actor, self.event, participant, filter, out)
            .await
    }
    /// [`Punchlist::send_message`] in this scope.
    pub async fn send_message(&self, participant: ParticipantId, body: &str) -> Result<Message> {
        self.service
            .send_message(self.actor, self.event, participant, body)
            .await
    }
    /// [`Punchlist::messages`] in this scope.
    pub async fn messages(
        &self,
        participant: ParticipantId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<MessagePage> {
        self.service
            .messages(self.actor, self.event, participant, before, limit)
            .await
    }
    /// [`Punchlist::mark_messages_read`] in this scope.
    pub async fn mark_messages_read(&self, participant: ParticipantId) -> Result<()> {
        self.service
            .mark_messages_read(self.actor, self.event, participant)
            .await
    }
    /// [`Punchlist::set_networking`] in this scope.
    pub async fn set_networking(
        &self,
        participant: ParticipantId,
        networking: Networking,
    ) -> Result<Participant> {
        self.service
            .set_networking(self.actor, self.event, participant, networking)
            .await
    }
    /// [`Punchlist::partners`] in this scope.
    pub async fn partners(&self, participant: ParticipantId) -> Result<Partners> {
        self.service
            .partners(self.actor, self.event, participant)
            .await
    }
    /// [`Punchlist::add_push_subscription`] in this scope.
    pub async fn add_push_subscription(
        &self,
        participant: ParticipantId,
        subscription: PushSubscription,
    ) -> Result<()> {
        self.service
            .add_push_subscription(self.actor, self.event, participant, subscription)
            .await
    }
    /// [`Punchlist::remove_push_subscription`] in this scope.
    pub async fn remove_push_subscription(
        &self,
        participant: ParticipantId,
        endpoint: &str,
    ) -> Result<bool> {
        self.service
            .remove_push_subscription(self.actor, self.event, participant, endpoint)
            .await
    }
    /// [`Punchlist::register_participant`] in this scope.
    pub async fn register_participant(&self, new: NewParticipant) -> Result<Participant> {
        self.service
            .register_participant(self.actor, self.event, new)
            .await
    }
    /// [`Punchlist::register_participants`] in this scope.
    pub async fn register_participants(
        &self,
        new: Vec<NewParticipant>,
    ) -> Result<Vec<Result<Participant>>> {
        self.service
            .register_participants(self.actor, self.event, new)
            .await
    }
    /// [`Punchlist::update_participant`] in this scope.
    pub async fn update_participant(
        &self,
        id: ParticipantId,
        patch: ParticipantPatch,
    ) -> Result<Participant> {
        self.service
            .update_participant(self.actor, self.event, id, patch)
            .await
    }
    /// [`Punchlist::link_collaborator`] in this scope.
    pub async fn link_collaborator(
        &self,
        owner: ParticipantId,
        collaborator: ParticipantId,
    ) -> Result<()> {
        self.service
            .link_collaborator(self.actor, self.event, owner, collaborator)
            .await
    }
    /// [`Punchlist::unlink_collaborator`] in this scope.
    pub async fn unlink_collaborator(
        &self,
        owner: ParticipantId,
        collaborator: ParticipantId,
    ) -> Result<()> {
        self.service
            .unlink_collaborator(self.actor, self.event, owner, collaborator)
            .await
    }
    /// [`Punchlist::collaborators`] in this scope.
    pub async fn collaborators(&self, owner: ParticipantId) -> Result<Vec<Participant>> {
        self.service
            .collaborators(self.actor, self.event, owner)
            .await
    }
    /// [`Punchlist::participant`] in this scope.
    pub async fn participant(&self, id: ParticipantId) -> Result<Participant> {
        self.service.participant(self.actor, self.event, id).await
    }
    /// [`Punchlist::participant_by_external_id`] in this scope.
    pub async fn participant_by_external_id(
        &self,
        external_id: &crate::ids::ExternalId,
    ) -> Result<Participant> {
        self.service
            .participant_by_external_id(self.actor, self.event, external_id)
            .await
    }
    /// [`Punchlist::ping`] in this scope.
    pub async fn ping(&self, participant: ParticipantId, channel: LoginChannel) -> Result<()> {
        self.service
            .ping(self.actor, self.event, participant, channel)
            .await
    }
    /// [`Punchlist::online_status`] in this scope.
    pub async fn online_status(&self, participant: ParticipantId) -> Result<Presence> {
        self.service
            .online_status(self.actor, self.event, participant)
            .await
    }
    /// [`Punchlist::registrants`] in this scope.
    pub async fn registrants(
        &self,
        status: Option<OnlineStatus>,
        after: Option<ParticipantId>,
        limit: usize,
    ) -> Result<RegistrantsPage> {
        self.service
            .registrants(self.actor, self.event, status, after, limit)
            .await
    }
    /// [`Punchlist::export_participant`] in this scope.
    pub async fn export_participant(
        &self,
        participant: ParticipantId,
    ) -> Result<ParticipantExport> {
        self.service
            .export_participant(self.actor, self.event, participant)
            .await
    }
    /// [`Punchlist::erase_participant`] in this scope.
    pub async fn erase_participant(&self, participant: ParticipantId) -> Result<()> {
        self.service
            .erase_participant(self.actor, self.event, participant)
            .await
    }
    /// [`Punchlist::timeline`] in this scope.
    pub async fn timeline(
        &self,
        participant: ParticipantId,
        filter: &TimelineFilter,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>> {
        self.service
            .timeline(self.actor, self.event, participant, filter, limit)
            .await
    }
    /// [`Punchlist::export_timeline_csv`] in this scope.
    pub async fn export_timeline_csv<W: io::Write + Send>(
        &self,
        participant: ParticipantId,
        filter: &TimelineFilter,
        out: W,
    ) -> Result<u64> {
        self.service
            .export_timeline_csv(self.actor, self.event, participant, filter, out)
            .await
    }
}
