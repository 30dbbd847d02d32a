//! Rate limits shared by every dispatcher (N11): how many sends a peer takes, kept as one
//! instant per limiter in the store, so dispatchers on several machines respect it
//! together. Pure.
//!
//! The rule is the generic cell rate algorithm (the leaky bucket as a meter): a limiter is
//! its *theoretical arrival time*, the instant at which it would be empty again if every
//! send taken so far had come at the rate. A send may go when that instant is no more
//! than the burst ahead of now; taking it moves the instant one interval on. One instant
//! is all a store keeps, and taking several at once is one write.

use chrono::{DateTime, Duration, Utc};

use crate::error::{Error, Result};

/// A peer's rate: so many sends per second (or minute), with a burst of so many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    every: Duration,
    burst: u32,
}

/// What taking from a limiter gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// The limiter's new theoretical arrival time (what the store keeps).
    pub state: DateTime<Utc>,
    /// How many sends may go now (at most the number asked for).
    pub granted: u32,
    /// When the next send may go, if fewer were granted than asked for.
    pub next_at: Option<DateTime<Utc>>,
}

impl RateLimit {
    /// The most sends per second or per minute, and the largest burst.
    pub const MAX_RATE: u32 = 100_000;

    /// `n` sends per second, `burst` of them at once (both at least 1, at most
    /// [`MAX_RATE`](Self::MAX_RATE)); the error names `rate.per_second` or `rate.burst`.
    pub fn per_second(n: u32, burst: u32) -> Result<Self> {
        Self::new("rate.per_second", n, Duration::seconds(1), burst)
    }

    /// `n` sends per minute, `burst` of them at once; the error names `rate.per_minute` or
    /// `rate.burst`.
    pub fn per_minute(n: u32, burst: u32) -> Result<Self> {
        Self::new("rate.per_minute", n, Duration::minutes(1), burst)
    }

    fn new(field: &str, n: u32, per: Duration, burst: u32) -> Result<Self> {
        if n == 0 || n > Self::MAX_RATE {
            return Err(Error::invalid(
                field.to_owned(),
                format!("must be between 1 and {}", Self::MAX_RATE),
            ));
        }
        if burst == 0 || burst > Self::MAX_RATE {
            return Err(Error::invalid(
                "rate.burst",
                format!("must be between 1 and {}", Self::MAX_RATE),
            ));
        }
        Ok(Self {
            every: per / i32::try_from(n).unwrap_or(i32::MAX),
            burst,
        })
    }

    /// The time between two sends at the rate.
    pub fn interval(&self) -> Duration {
        self.every
    }

    /// The most sends at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Takes up to `want` sends at `now` from a limiter at `state` (`None`: never used).
    pub fn take(&self, state: Option<DateTime<Utc>>, want: u32, now: DateTime<Utc>) -> Taken {
        let tolerance = self.every * i32::try_from(self.burst).unwrap_or(i32::MAX);
        let from = state.map_or(now, |s| s.max(now));
        let room = (now + tolerance - from)
            .num_nanoseconds()
            .unwrap_or(i64::MAX);
        let every = self.every.num_nanoseconds().unwrap_or(1).max(1);
        let available = u32::try_from((room / every).max(0)).unwrap_or(u32::MAX);
        let granted = want.min(available);
        let state = from + self.every * i32::try_from(granted).unwrap_or(i32::MAX);
        let next_at = (granted < want).then(|| state + self.every - tolerance);
        Taken {
            state,
            granted,
            next_at,
        }
    }

    /// Gives back `n` sends taken but not used, at `now`: the limiter's state moves back
    /// (never before `now`, so nothing is given back twice over).
    pub fn give_back(&self, state: DateTime<Utc>, n: u32, now: DateTime<Utc>) -> DateTime<Utc> {
        (state - self.every * i32::try_from(n).unwrap_or(i32::MAX)).max(now)
    }
}

/// One move of a shared rate limiter (N11): what a store applies, under its lock, to the
/// state it read ([`OutboxStore::update_limiter`](crate::store::OutboxStore::update_limiter)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimiterStep {
    /// Take up to `want` sends at `now` ([`RateLimit::take`]).
    Take {
        /// The rate.
        limit: RateLimit,
        /// How many.
        want: u32,
        /// When.
        now: DateTime<Utc>,
    },
    /// Give back `n` sends taken but not used ([`RateLimit::give_back`]).
    GiveBack {
        /// The rate.
        limit: RateLimit,
        /// How many.
        n: u32,
        /// When.
        now: DateTime<Utc>,
    },
}

impl LimiterStep {
    /// The limiter's state after the step, from its state before (`None`: never used).
    pub fn apply(&self, state: Option<DateTime<Utc>>) -> DateTime<Utc> {
        match *self {
            Self::Take { limit, want, now } => limit.take(state, want, now).state,
            Self::GiveBack { limit, n, now } => limit.give_back(state.unwrap_or(now), n, now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 20, 9, 0, 0).unwrap()
    }

    /// N11: a rate of 0, or a burst of 0, is refused naming the field.
    #[test]
    fn n11_bad_rates_are_refused_with_the_field() {
        assert_eq!(
            RateLimit::per_second(0, 1).unwrap_err().field(),
            Some("rate.per_second")
        );
        assert_eq!(
            RateLimit::per_minute(1, 0).unwrap_err().field(),
            Some("rate.burst")
        );
        assert_eq!(
            RateLimit::per_second(RateLimit::MAX_RATE + 1, 1)
                .unwrap_err()
                .field(),
            Some("rate.per_second")
        );
    }

    /// N11: 10 per second with a burst of 5: five at once, then one every 100 ms.
    #[test]
    fn n11_a_burst_then_the_rate() {
        let r = RateLimit::per_second(10, 5).unwrap();
        let first = r.take(None, 8, t0());
        assert_eq!(first.granted, 5);
        assert_eq!(first.next_at, Some(t0() + Duration::milliseconds(100)));
        let none = r.take(Some(first.state), 1, t0() + Duration::milliseconds(50));
        assert_eq!(none.granted, 0);
        assert_eq!(none.state, first.state, "nothing taken, nothing moved");
        let one = r.take(Some(first.state), 3, t0() + Duration::milliseconds(100));
        assert_eq!(one.granted, 1);
        // Idle for a minute: a whole burst again, no more.
        let later = r.take(Some(one.state), 100, t0() + Duration::minutes(1));
        assert_eq!(later.granted, 5);
        // Given back: taken again at once.
        let back = r.give_back(later.state, 2, t0() + Duration::minutes(1));
        assert_eq!(
            r.take(Some(back), 5, t0() + Duration::minutes(1)).granted,
            2
        );
        // Per minute.
        let m = RateLimit::per_minute(30, 1).unwrap();
        assert_eq!(m.interval(), Duration::seconds(2));
    }

    proptest! {
        /// N11: however sends are asked for, no window of time sees more than the burst
        /// plus the rate over it.
        #[test]
        fn n11_never_more_than_the_burst_plus_the_rate(
            per_second in 1u32..200,
            burst in 1u32..50,
            asks in prop::collection::vec((0i64..400, 0u32..10), 1..30),
        ) {
            let r = RateLimit::per_second(per_second, burst).unwrap();
            let mut state = None;
            let mut now = t0();
            let mut sent: Vec<DateTime<Utc>> = Vec::new();
            for (wait_ms, want) in asks {
                now += Duration::milliseconds(wait_ms);
                let t = r.take(state, want, now);
                prop_assert!(t.granted <= want);
                state = Some(t.state);
                sent.extend(std::iter::repeat_n(now, t.granted as usize));
            }
            // `sent` is in time order: the sends from the i-th to the j-th are j - i + 1.
            for (i, start) in sent.iter().enumerate() {
                for (j, end) in sent.iter().enumerate().skip(i) {
                    let span = (*end - *start).num_nanoseconds().unwrap();
                    let count = (j - i + 1) as i64;
                    let allowed = i64::from(burst)
                        + span / r.interval().num_nanoseconds().unwrap();
                    prop_assert!(count <= allowed, "{count} sends in {span} ns");
                }
            }
        }
    }
}
