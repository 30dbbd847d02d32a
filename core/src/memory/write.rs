//! The in-memory store's write: a checked change set applied to one event's data, and
//! the stored versions the conflict check reads.

use super::*;

impl EventData {
    /// Writes the change set; `check` must have passed.
    pub(super) fn write(&mut self, cs: ChangeSet) {
        if cs.event_record.is_some()
            || !cs.segments.is_empty()
            || !cs.tasks.is_empty()
            || !cs.deleted_tasks.is_empty()
            || !cs.deleted_segments.is_empty()
        {
            self.config = OnceLock::new();
        }
        if let Some(e) = cs.event_record {
            self.event = Some(e);
        }
        for s in cs.segments {
            self.segments.insert(s.id, s);
        }
        for t in cs.tasks {
            self.tasks.insert(t.id, t);
        }
        for (id, _) in cs.deleted_tasks {
            self.tasks.remove(&id);
        }
        for (id, _) in cs.deleted_segments {
            self.segments.remove(&id);
        }
        for w in cs.participants {
            let record_written = w.record.is_some();
            // Updated in place: a participant's state is large, and the map would shift
            // its neighbours on a remove and a re-insert.
            let state = match self.participants.entry(w.id) {
                btree_map::Entry::Occupied(o) => {
                    let s = o.into_mut();
                    if let Some(r) = w.record {
                        if r.owner != s.participant.owner
                            && let Some(old) = s.participant.owner
                        {
                            self.collaborators.entry(old).or_default().remove(&w.id);
                        }
                        if r.external_id != s.participant.external_id {
                            self.by_external_id.remove(&s.participant.external_id);
                        }
                        for (i, sort) in SORTS.iter().enumerate() {
                            self.sorted[i].remove(&(sort.key(&s.participant), w.id));
                        }
                        s.participant = Arc::new(r);
                    }
                    if let Some(f) = w.facts {
                        s.facts = Arc::new(f);
                    }
                    s.version = w.version;
                    s
                }
                btree_map::Entry::Vacant(v) => v.insert(ParticipantState {
                    participant: Arc::new(
                        w.record.expect("checked: a new participant has a record"),
                    ),
                    facts: Arc::new(w.facts.unwrap_or_default()),
                    progress: BTreeMap::new(),
                    version: w.version,
                }),
            };
            // The indexes of the record move only when the record is written.
            if record_written {
                self.by_external_id
                    .insert(state.participant.external_id.clone(), w.id);
                for (i, sort) in SORTS.iter().enumerate() {
                    self.sorted[i].insert((sort.key(&state.participant), w.id));
                }
                if let Some(owner) = state.participant.owner {
                    self.collaborators.entry(owner).or_default().insert(w.id);
                }
            }
            for row in w.progress {
                let old = state.progress.get(&row.task);
                let old_status = old.filter(|r| r.targeted).map(|r| r.status);
                let new_status = Some(row.status).filter(|_| row.targeted);
                if old_status != new_status {
                    if let Some(s) = old_status
                        && let Some(set) = self.by_status.get_mut(&(row.task, s))
                    {
                        set.remove(&w.id);
                    }
                    if let Some(s) = new_status {
                        self.by_status
                            .entry((row.task, s))
                            .or_default()
                            .insert(w.id);
                    }
                }
                let due_at = |r: &Progress| {
                    r.next_reminder_at
                        .filter(|_| r.targeted && r.status == ProgressStatus::Todo)
                };
                let (old_due, new_due) = (old.and_then(due_at), due_at(&row));
                if old_due != new_due {
                    if let Some(at) = old_due
                        && let Some(set) = self.reminders_due.get_mut(&row.task)
                    {
                        set.remove(&(at, w.id));
                    }
                    if let Some(at) = new_due {
                        self.reminders_due
                            .entry(row.task)
                            .or_default()
                            .insert((at, w.id));
                    }
                }
                let old_assignee = old.and_then(|r| r.assignee);
                if old_assignee != row.assignee {
                    if let Some(a) = old_assignee {
                        self.assigned
                            .entry(a)
                            .or_default()
                            .remove(&(w.id, row.task));
                    }
                    if let Some(a) = row.assignee {
                        self.assigned.entry(a).or_default().insert((w.id, row.task));
                    }
                }
                state.progress.insert(row.task, row);
            }
        }
        self.host_events.extend(cs.host_events);
        for t in cs.timeline {
            self.timeline.insert((t.participant, t.id), t);
        }
        for h in cs.history {
            self.history.insert((h.subject, h.id), h);
        }
        for m in cs.messages {
            self.messages.insert((m.participant, m.id), m);
        }
        for o in cs.outbox {
            self.outbox_keys.insert(o.idempotency_key.clone());
            self.put_outbox(o);
        }
        for id in cs.deleted_outbox {
            if let Some(old) = self.outbox.remove(&id) {
                self.outbox_keys.remove(&old.idempotency_key);
                if let Some(due) = old.due_at() {
                    self.outbox_due.remove(&(old.lane(), due, id));
                }
                self.outbox_dead.remove(&id);
                self.outbox_waiting.remove(&(old.recipient, id));
            }
        }
        for s in cs.sweeps {
            if s.after.is_none() || self.sweeps.contains_key(&s.id) {
                self.sweeps.insert(s.id, s);
            }
        }
        for (task, delta) in cs.counters {
            let c = self.counters.entry(task).or_default();
            c.add(delta);
            if c.is_zero() {
                self.counters.remove(&task);
            }
        }
        for id in cs.finished_sweeps {
            self.sweeps.remove(&id);
        }
    }
}

impl EventData {
    /// Leases to `owner` up to `limit` of `recipient`'s entries that waited for their send
    /// window and are due at `now`, earliest due first.
    pub(super) fn claim_waiting(
        &mut self,
        recipient: ParticipantId,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<OutboxEntry> {
        let mut due: Vec<(DateTime<Utc>, OutboxId)> = self
            .outbox_waiting
            .range(
                (recipient, OutboxId::from_uuid(uuid::Uuid::nil()))
                    ..=(recipient, OutboxId::from_uuid(uuid::Uuid::max())),
            )
            .filter_map(|(_, id)| {
                let at = self.outbox.get(id)?.due_at()?;
                (at <= now).then_some((at, *id))
            })
            .collect();
        due.sort();
        due.truncate(limit);
        let mut claimed = Vec::with_capacity(due.len());
        for (_, id) in due {
            let Some(mut entry) = self.outbox.get(&id).cloned() else {
                continue;
            };
            entry.lease_to(owner, lease_until);
            claimed.push(entry.clone());
            self.put_outbox(entry);
        }
        claimed
    }

    /// Stores an outbox entry and moves it in the due, dead and waiting indexes.
    pub(super) fn put_outbox(&mut self, entry: OutboxEntry) {
        if let Some(old) = self.outbox.get(&entry.id) {
            if let Some(due) = old.due_at() {
                self.outbox_due.remove(&(old.lane(), due, old.id));
            }
            self.outbox_dead.remove(&old.id);
            self.outbox_waiting.remove(&(old.recipient, old.id));
        }
        if let Some(due) = entry.due_at() {
            self.outbox_due.insert((entry.lane(), due, entry.id));
        }
        if entry.is_waiting() {
            self.outbox_waiting.insert((entry.recipient, entry.id));
        }
        if entry.state == OutboxState::Dead {
            self.outbox_dead.insert(entry.id);
        }
        self.outbox.insert(entry.id, entry);
    }
}

impl StoredState for &EventData {
    fn event_version(&mut self) -> Result<Option<u64>> {
        Ok(self.event.as_ref().map(|e| e.version))
    }
    fn segment_version(&mut self, id: SegmentId) -> Result<Option<u64>> {
        Ok(self.segments.get(&id).map(|s| s.version))
    }
    fn task_version(&mut self, id: TaskId) -> Result<Option<u64>> {
        Ok(self.tasks.get(&id).map(|t| t.version))
    }
    fn participant_version(&mut self, id: ParticipantId) -> Result<Option<u64>> {
        Ok(self.participants.get(&id).map(|p| p.version))
    }
    fn external_id_owner(&mut self, id: &ExternalId) -> Result<Option<ParticipantId>> {
        Ok(self.by_external_id.get(id).copied())
    }
    fn host_event_seen(&mut self, id: &HostEventId) -> Result<bool> {
        Ok(self.host_events.contains(id))
    }
    fn outbox_key_taken(&mut self, key: &str) -> Result<bool> {
        Ok(self.outbox_keys.contains(key))
    }
}
