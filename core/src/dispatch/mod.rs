//! The dispatcher (N4, N5, N6): drains the outbox through the channel adapters.

mod compose;
mod delivery;
mod held;
mod limits;
mod links;

use std::collections::BTreeMap;

use compose::{Compose, Context, addresses};
use delivery::{Outcome, give_up, settle};
use limits::Allowance;
pub use links::UnsubscribeLinks;
use std::sync::Arc;

use chrono::Duration;

pub use crate::notify::template::MessageKind;
use crate::notify::template::{Renderer, TaskView, View};

use crate::clock::Clock;
use crate::error::Result;
use crate::event::Event;
use crate::ids::{EventId, ParticipantId, TaskId};
use crate::notify::{
    Address, Channel, LimiterStep, Notification, Notifier, OutboxEntry, OutboxState,
    OutgoingMessage, RateLimit, ReminderSlot, RetryAfter, SendError, Urgency,
};
use crate::participant::Participant;
use crate::service::Punchlist;
use crate::store::{Store, StoreExt};
use crate::task::{HelpLink, Task};

/// How a dispatcher works.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    batch: usize,
    lease: Duration,
    max_attempts: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
    send_timeout: std::time::Duration,
    throttle_limit: Duration,
    tasks_page: Option<String>,
    unsubscribe: Option<UnsubscribeLinks>,
    rates: BTreeMap<Channel, RateLimit>,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            batch: 100,
            lease: Duration::minutes(5),
            max_attempts: 8,
            backoff_base: Duration::seconds(30),
            backoff_cap: Duration::hours(6),
            send_timeout: std::time::Duration::from_secs(30),
            throttle_limit: Duration::days(3),
            tasks_page: None,
            unsubscribe: None,
            rates: BTreeMap::new(),
        }
    }
}

impl DispatchConfig {
    /// Entries claimed at once (at least 1). Default 100.
    pub fn with_batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// How long a claim holds (at least 1 second): longer than a batch takes to send,
    /// as another dispatcher takes the entries once it ends. Default 5 minutes.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::seconds(1));
        self
    }

    /// Attempts before an entry becomes a dead letter (at least 1). Default 8.
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The backoff after the first failure, doubling after each (with jitter), and its
    /// ceiling. Default 30 seconds, capped at 6 hours.
    pub fn with_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base.max(Duration::zero());
        self.backoff_cap = cap.max(self.backoff_base);
        self
    }

    /// How long one send may take before it counts as a temporary failure. Default 30 s.
    pub fn with_send_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// How long after it was queued an entry may still wait for a peer that asked to slow
    /// down (N11): a peer that names a time (`Retry-After`) is tried again then, without
    /// spending one of [`DispatchConfig::max_attempts`]; a wait that would end later than
    /// this makes the entry a dead letter. Between 1 minute and 30 days; default 3 days.
    pub fn with_throttle_limit(mut self, limit: Duration) -> Self {
        self.throttle_limit = limit.clamp(Duration::minutes(1), Duration::days(30));
        self
    }

    /// How long after it was queued an entry may still wait for a throttling peer.
    pub fn throttle_limit(&self) -> Duration {
        self.throttle_limit
    }

    /// Puts a one-click unsubscribe link in every message its recipient may stop (N8):
    /// `List-Unsubscribe` and the footer's link.
    pub fn with_unsubscribe_links(mut self, links: UnsubscribeLinks) -> Self {
        self.unsubscribe = Some(links);
        self
    }

    /// Sends on `channel` at most at `limit` (N11), counted over every dispatcher that
    /// shares the store: a peer that takes 10 emails a second gets 10, however many
    /// dispatchers run. An address the limit holds back waits for its turn, with no
    /// attempt spent; lanes decide who goes first.
    pub fn with_rate_limit(mut self, channel: Channel, limit: RateLimit) -> Self {
        self.rates.insert(channel, limit);
        self
    }

    /// The rate limit of `channel`, if set.
    pub fn rate_limit(&self, channel: Channel) -> Option<RateLimit> {
        self.rates.get(&channel).copied()
    }

    /// The host's Tasks page, linked from messages whose task has no web page of its own.
    pub fn with_tasks_page(mut self, url: impl Into<String>) -> Self {
        self.tasks_page = Some(url.into());
        self
    }

    /// Entries claimed at once.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// How long a claim holds.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Attempts before an entry becomes a dead letter.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff after the first failure, and its ceiling.
    pub fn backoff(&self) -> (Duration, Duration) {
        (self.backoff_base, self.backoff_cap)
    }

    /// How long one send may take.
    pub fn send_timeout(&self) -> std::time::Duration {
        self.send_timeout
    }

    /// The host's Tasks page, if set.
    pub fn tasks_page(&self) -> Option<&str> {
        self.tasks_page.as_deref()
    }

    /// The wait before attempt `attempts + 1`: full jitter over `base · 2^(attempts-1)`,
    /// capped, and never less than half the ceiling, so retries spread out but still wait.
    fn backoff_after(&self, attempts: u32) -> Duration {
        let doubling = 1i32 << attempts.saturating_sub(1).min(20);
        let ceiling = (self.backoff_base * doubling).min(self.backoff_cap);
        let ms = ceiling.num_milliseconds().max(1) as u64;
        let jitter = crate::ids::random_u64() % (ms / 2 + 1);
        Duration::milliseconds((ms / 2 + jitter) as i64)
    }
}

/// What a round sends: one entry, or what waited for one recipient, together (N9).
enum Work {
    One(Box<OutboxEntry>),
    Together(Vec<OutboxEntry>),
}

/// What one round of [`Dispatcher::dispatch_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DispatchReport {
    /// Entries claimed.
    pub claimed: usize,
    /// Entries now sent.
    pub sent: usize,
    /// Entries that failed and will be tried again.
    pub retrying: usize,
    /// Entries given up (dead letters).
    pub dead: usize,
    /// Entries sent to nobody: the recipient's preferences held back every address (N8),
    /// or it was no longer needed when the send window opened (N9).
    pub skipped: usize,
    /// Entries made to wait for their recipient's send window to open (N9).
    pub held: usize,
    /// Messages that carried several entries of one recipient at once, when their send
    /// window opened (N9).
    pub together: usize,
    /// Entries whose lease another dispatcher had taken meanwhile (not written back).
    pub lost: usize,
    /// Web push subscriptions removed because the push service said they are gone.
    pub gone_subscriptions: usize,
}

/// Drains the outbox through the channel adapters (N4, N5, N6).
///
/// A dispatcher claims due outbox entries with a lease, renders each in its
/// recipient's language, sends it on every enabled channel the recipient can be reached on
/// (skipping the addresses an earlier attempt reached), and writes back what happened:
/// sent; or, after a failure, due again after an exponential, jittered backoff; or, after
/// [`DispatchConfig::max_attempts`] attempts or a permanent refusal, a dead letter the
/// organizer can list and retry ([`Punchlist::dead_letters`](crate::Punchlist::dead_letters)).
///
/// Any number of dispatchers may share a store: a claim is exclusive while its lease runs,
/// so no entry is sent twice by two of them. A dispatcher that crashes after claiming
/// loses its lease, and another sends the entries after it ends. The one gap no system
/// closes — a crash after the provider accepted a message and before the entry was marked —
/// yields one repeat, with the same idempotency key, so the receiver can drop it.
///
/// ```
/// use std::sync::Arc;
/// use punchlist::{DispatchConfig, Dispatcher, MemoryStore, Punchlist, SystemClock};
///
/// # async fn run(email: impl punchlist::Notifier) -> punchlist::Result<()> {
/// let service = Arc::new(Punchlist::new(MemoryStore::new(), SystemClock));
/// let dispatcher = Dispatcher::new(service.clone())
///     .with_notifier(email) // e.g. punchlist_notify::SmtpNotifier
///     .with_config(DispatchConfig::default().with_tasks_page("https://expo.example/my/tasks"));
/// // Once, e.g. from a job; or forever with `dispatcher.run(interval)`.
/// let report = dispatcher.dispatch_once().await?;
/// # let _ = report;
/// # Ok(()) }
/// ```
pub struct Dispatcher<S: Store + ?Sized, C: Clock> {
    service: Arc<Punchlist<S, C>>,
    notifiers: BTreeMap<Channel, Arc<dyn Notifier>>,
    config: DispatchConfig,
    owner: String,
    renderer: Renderer,
    /// Sends taken from the shared rate limiters and not used yet, by channel (N11).
    allowance: std::sync::Mutex<BTreeMap<Channel, Allowance>>,
}

impl<S: Store + ?Sized, C: Clock> Dispatcher<S, C> {
    /// A dispatcher for `service`, with no channel yet. It shares the service's store and
    /// clock, and removes the web push subscriptions a push service says are gone through
    /// the service itself.
    pub fn new(service: Arc<Punchlist<S, C>>) -> Self {
        let owner = format!(
            "dispatcher-{}",
            crate::ids::OutboxId::new_at(service.clock().now())
        );
        Self {
            service,
            notifiers: BTreeMap::new(),
            config: DispatchConfig::default(),
            owner,
            renderer: Renderer::new(),
            allowance: std::sync::Mutex::new(BTreeMap::new()),
        }
    }

    /// Adds (or replaces) the adapter of a channel.
    pub fn with_notifier(mut self, notifier: impl Notifier) -> Self {
        self.notifiers
            .insert(notifier.channel(), Arc::new(notifier));
        self
    }

    /// Adds (or replaces) the adapter of a channel, shared.
    pub fn with_shared_notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifiers.insert(notifier.channel(), notifier);
        self
    }

    /// Sets the configuration.
    pub fn with_config(mut self, config: DispatchConfig) -> Self {
        self.config = config;
        self
    }

    /// The composer of messages, with this dispatcher's templates and Tasks page.
    fn compose(&self) -> Compose<'_> {
        Compose {
            renderer: &self.renderer,
            tasks_page: self.config.tasks_page.as_deref(),
            unsubscribe: self.config.unsubscribe.as_ref(),
        }
    }

    /// This dispatcher's name in leases (unique per instance).
    pub fn id(&self) -> &str {
        &self.owner
    }

    /// Claims one batch of due entries, sends them and writes back what happened.
    pub async fn dispatch_once(&self) -> Result<DispatchReport> {
        let report = self.round().await;
        // Sends taken from the shared limiters and not used go back, however the round
        // ended.
        self.give_back_allowance().await;
        report
    }

    /// One round of [`Dispatcher::dispatch_once`].
    async fn round(&self) -> Result<DispatchReport> {
        let now = self.service.clock().now();
        let lease_until = now + self.config.lease;
        let claimed = self
            .service
            .store()
            .claim_outbox(&self.owner, now, lease_until, self.config.batch)
            .await?;
        let mut report = DispatchReport {
            claimed: claimed.len(),
            ..DispatchReport::default()
        };
        if claimed.is_empty() {
            return Ok(report);
        }
        let mut by_event: BTreeMap<EventId, Vec<OutboxEntry>> = BTreeMap::new();
        for e in claimed {
            by_event.entry(e.event).or_default().push(e);
        }
        let mut done = Vec::new();
        let mut gone: Vec<(EventId, ParticipantId, String)> = Vec::new();
        let mut work: Vec<(u8, EventId, Work)> = Vec::new();
        let mut contexts: BTreeMap<EventId, Context> = BTreeMap::new();
        let mut rows = BTreeMap::new();
        for (event, entries) in by_event {
            let context = self.load(event, &entries).await?;
            // N9: what is due while its recipient's window is closed waits for it to open;
            // what waited for a recipient whose window is open goes out together.
            let mut now_entries = Vec::new();
            let mut waited: BTreeMap<ParticipantId, Vec<OutboxEntry>> = BTreeMap::new();
            for mut entry in entries {
                if let Some(opening) = self.opening(&context, &entry, now) {
                    entry.hold_until(opening, now);
                    report.held += 1;
                    done.push(entry);
                } else if entry.held_since.is_some() {
                    waited.entry(entry.recipient).or_default().push(entry);
                } else {
                    now_entries.push(entry);
                }
            }
            // What waited for one recipient came in one claim (the store brings it
            // along); what is due for them now anyway joins it.
            let mut groups = Vec::new();
            for (recipient, mut group) in waited {
                let (theirs, others): (Vec<_>, Vec<_>) = now_entries
                    .into_iter()
                    .partition(|e| e.recipient == recipient);
                now_entries = others;
                group.extend(theirs);
                groups.push(group);
            }
            if !groups.is_empty() {
                let all: Vec<OutboxEntry> = groups.iter().flatten().cloned().collect();
                rows.insert(event, self.rows_of(event, &all).await?);
            }
            for group in groups {
                let lane = group.iter().map(OutboxEntry::lane).min().unwrap_or(0);
                work.push((lane, event, Work::Together(group)));
            }
            for entry in now_entries {
                work.push((entry.lane(), event, Work::One(Box::new(entry))));
            }
            contexts.insert(event, context);
        }
        // N11: sends go in lane order across the events of the batch, so that under a
        // shared rate limit an assignment is never sent after another event's notices.
        work.sort_by_key(|(lane, _, _)| *lane);
        let no_rows = std::collections::HashMap::new();
        for (_, event, item) in work {
            let Some(context) = contexts.get(&event) else {
                continue;
            };
            match item {
                Work::One(mut entry) => {
                    self.deliver(context, &mut entry, &mut gone).await;
                    done.push(*entry);
                }
                Work::Together(mut group) => {
                    if group.len() > 1 {
                        report.together += 1;
                    }
                    let rows = rows.get(&event).unwrap_or(&no_rows);
                    self.deliver_together(context, rows, &mut group, &mut gone)
                        .await;
                    done.extend(group);
                }
            }
        }
        for entry in &done {
            match entry.state {
                OutboxState::Sent => report.sent += 1,
                OutboxState::Dead => report.dead += 1,
                OutboxState::Skipped => report.skipped += 1,
                _ if entry.held_since.is_some()
                    && entry.attempts == 0
                    && entry.last_error.is_none() => {}
                _ => report.retrying += 1,
            }
        }
        let total = done.len();
        let written = self
            .service
            .store()
            .release_outbox(&self.owner, done)
            .await?;
        report.lost = total - written.len();
        for (event, participant, endpoint) in gone {
            if self
                .remove_subscription(event, participant, &endpoint)
                .await
            {
                report.gone_subscriptions += 1;
            }
        }
        Ok(report)
    }

    /// Dispatches until the future is dropped: a batch after another while there is work,
    /// then every `idle` (spawn it, and abort the task to stop it). A failed round is
    /// logged and tried again after `idle`.
    pub async fn run(&self, idle: std::time::Duration) {
        loop {
            match self.dispatch_once().await {
                Ok(r) if r.claimed > 0 => {
                    tracing::debug!(?r, "dispatched");
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "dispatch round failed"),
            }
            tokio::time::sleep(idle).await;
        }
    }

    /// What the entries of one event need: the event, its tasks, the recipients and the
    /// owners they mention.
    async fn load(&self, event: EventId, entries: &[OutboxEntry]) -> Result<Context> {
        let record = self.service.store().event(event).await?;
        let tasks = self
            .service
            .store()
            .tasks(event)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let mut wanted: Vec<ParticipantId> = entries.iter().map(|e| e.recipient).collect();
        for e in entries {
            wanted.extend(e.message.owners());
        }
        wanted.sort();
        wanted.dedup();
        let people = self
            .service
            .store()
            .participant_records(event, &wanted)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        Ok(Context {
            event: record,
            tasks,
            people,
        })
    }

    /// Sends one entry on every channel that reaches its recipient and records the outcome
    /// on it (state, attempts, delivered addresses, error, backoff).
    async fn deliver(
        &self,
        ctx: &Context,
        entry: &mut OutboxEntry,
        gone: &mut Vec<(EventId, ParticipantId, String)>,
    ) {
        let now = self.service.clock().now();
        entry.lease = None;
        let (Some(event), Some(recipient)) = (&ctx.event, ctx.people.get(&entry.recipient)) else {
            return give_up(entry, now, "the event or the recipient no longer exists");
        };
        let reachable = addresses(event, recipient, |c| self.notifiers.contains_key(&c));
        if reachable.is_empty() {
            return give_up(
                entry,
                now,
                "no enabled channel with an adapter reaches the recipient",
            );
        }
        // N8: the recipient's preferences as they are now, so that a choice made after the
        // entry was queued still wins; what they hold back is recorded, not dropped.
        let kind = entry.message.kind();
        let defaults = &event.settings.notifications;
        entry.skipped.clear();
        let mut addresses = Vec::with_capacity(reachable.len());
        for address in reachable {
            let key = OutboxEntry::address_key(&address);
            if entry.delivered.contains(&key) {
                continue;
            }
            if recipient
                .notifications
                .allows(defaults, kind, address.channel())
            {
                addresses.push(address);
            } else {
                let why = format!(
                    "{} messages are off on {} for the recipient",
                    kind.preference_kind().as_str(),
                    address.channel()
                );
                entry.skipped.insert(key, why);
            }
        }
        if addresses.is_empty() {
            entry.finished_at = Some(now);
            entry.not_before = None;
            entry.last_error = None;
            entry.state = if entry.delivered.is_empty() {
                OutboxState::Skipped
            } else {
                OutboxState::Sent
            };
            return;
        }
        let message = match self.compose().render(ctx, event, recipient, entry, now) {
            Ok(m) => m,
            Err(e) => return give_up(entry, now, &format!("rendering failed: {e}")),
        };
        let mut outcome = Outcome::default();
        for address in addresses {
            if self
                .send_one(&address, &message, &mut outcome, gone, entry)
                .await
            {
                entry.delivered.insert(OutboxEntry::address_key(&address));
            }
        }
        settle(entry, outcome, &self.config, now);
    }

    /// Sends `message` (rendered from `entry`) to one address; answers whether it now
    /// counts as reached (sent, or a push subscription that is gone), else notes the
    /// failure in `outcome`.
    async fn send_one(
        &self,
        address: &Address,
        message: &OutgoingMessage,
        outcome: &mut Outcome,
        gone: &mut Vec<(EventId, ParticipantId, String)>,
        entry: &OutboxEntry,
    ) -> bool {
        let now = self.service.clock().now();
        let Some(notifier) = self.notifiers.get(&address.channel()) else {
            return false;
        };
        if let Some(limit) = self.config.rate_limit(address.channel()) {
            match self.admit(address.channel(), limit, now).await {
                Ok(None) => {}
                Ok(Some(at)) => {
                    let why = format!(
                        "{}: waiting for the dispatchers' rate limit",
                        address.channel()
                    );
                    outcome.limit(why, at);
                    return false;
                }
                Err(e) => {
                    // The store's limiter failed, not the peer: wait, spending nothing.
                    let why = format!("{}: the rate limiter failed: {e}", address.channel());
                    outcome.limit(why, now + self.config.backoff_base);
                    return false;
                }
            }
        }
        let sent = tokio::time::timeout(self.config.send_timeout, notifier.send(address, message))
            .await
            .unwrap_or_else(|_| Err(SendError::Transient("the send timed out".into())));
        match sent {
            Ok(()) => true,
            Err(SendError::Gone(why)) => {
                tracing::info!(outbox = %entry.id, %why, "push subscription gone");
                if let Address::WebPush(s) = address {
                    gone.push((entry.event, entry.recipient, s.endpoint.clone()));
                }
                true
            }
            Err(SendError::Permanent(why)) => {
                outcome.permanent = Some(format!("{}: {why}", address.channel()));
                false
            }
            Err(SendError::Throttled {
                reason,
                retry_after,
            }) => {
                let at = retry_after.map(|after| match after {
                    RetryAfter::At(at) => at,
                    // Bounded: a wait beyond the limit gives up anyway.
                    RetryAfter::Delay(d) => {
                        let cap = self.config.throttle_limit + Duration::days(1);
                        now + Duration::from_std(d).unwrap_or(cap).min(cap)
                    }
                });
                let why = format!("{}: throttled: {reason}", address.channel());
                outcome.throttled = Some(match outcome.throttled.take() {
                    Some((other, t)) if t >= at => (other, t),
                    _ => (why, at),
                });
                false
            }
            Err(e) => {
                outcome.transient = Some(format!("{}: {e}", address.channel()));
                false
            }
        }
    }

    /// Removes a web push subscription the push service said is gone.
    async fn remove_subscription(
        &self,
        event: EventId,
        participant: ParticipantId,
        endpoint: &str,
    ) -> bool {
        match self
            .service
            .forget_push_subscription(event, participant, endpoint)
            .await
        {
            Ok(removed) => removed,
            Err(e) => {
                tracing::warn!(%event, %participant, error = %e, "could not remove a gone subscription");
                false
            }
        }
    }
}
