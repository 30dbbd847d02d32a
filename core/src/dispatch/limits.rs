//! The dispatchers' shared rate limits (N11): a dispatcher takes sends from the store's
//! limiter of a channel a batch's worth at a time, spends them, and gives back what it did
//! not use at the end of its round.

use chrono::{DateTime, Utc};

use super::*;

/// What a dispatcher holds of a channel's shared rate limit during a round.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Allowance {
    /// Sends taken and not used yet.
    left: u32,
    /// The limiter had none left: when it has one again.
    blocked_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The name of a channel's shared rate limiter in the store.
pub(super) fn limiter_name(channel: Channel) -> String {
    format!("channel:{}", channel.as_str())
}

impl<S: Store + ?Sized, C: Clock> Dispatcher<S, C> {
    /// Whether one send on `channel` may go now under its shared rate limit (N11):
    /// `None` if so, else when it may. Takes sends from the store's limiter a batch's
    /// worth at a time (at most the burst), so a round costs a store call or two per
    /// channel, not one per send.
    pub(super) async fn admit(
        &self,
        channel: Channel,
        limit: RateLimit,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        {
            let mut held = self.allowance.lock().unwrap_or_else(|p| p.into_inner());
            let a = held.entry(channel).or_default();
            if a.left > 0 {
                a.left -= 1;
                return Ok(None);
            }
            if let Some(at) = a.blocked_until.filter(|at| *at > now) {
                return Ok(Some(at));
            }
        }
        let want = limit
            .burst()
            .min(u32::try_from(self.config.batch).unwrap_or(u32::MAX))
            .max(1);
        let before = self
            .service
            .store()
            .update_limiter(
                &limiter_name(channel),
                LimiterStep::Take { limit, want, now },
            )
            .await?;
        let taken = limit.take(before, want, now);
        let mut held = self.allowance.lock().unwrap_or_else(|p| p.into_inner());
        let a = held.entry(channel).or_default();
        if taken.granted == 0 {
            let at = taken.next_at.unwrap_or(now + limit.interval());
            a.blocked_until = Some(at);
            return Ok(Some(at));
        }
        a.left += taken.granted - 1;
        Ok(None)
    }

    /// Gives back to the shared limiters the sends taken this round and not used.
    pub(super) async fn give_back_allowance(&self) {
        let left: Vec<(Channel, u32)> = {
            let mut held = self.allowance.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *held)
                .into_iter()
                .filter(|(_, a)| a.left > 0)
                .map(|(c, a)| (c, a.left))
                .collect()
        };
        let now = self.service.clock().now();
        for (channel, n) in left {
            let Some(limit) = self.config.rate_limit(channel) else {
                continue;
            };
            let step = LimiterStep::GiveBack { limit, n, now };
            if let Err(e) = self
                .service
                .store()
                .update_limiter(&limiter_name(channel), step)
                .await
            {
                tracing::warn!(%channel, error = %e, "could not give back unused sends");
            }
        }
    }
}
