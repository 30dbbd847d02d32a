//! Retrying an operation that lost a race: the `retry!` macro and its backoff.

/// Runs the `async` body until it does not end in a version conflict (another writer got
/// there first), at most `max_attempts` times, waiting a growing, randomised delay between
/// attempts so contenders spread out instead of colliding again. A macro rather than a function taking an
/// async closure, so the service's futures stay `Send`.
macro_rules! retry {
    ($service:ident, $body:block) => {{
        let mut attempt = 1u32;
        loop {
            let result: $crate::error::Result<_> = async $body.await;
            match result {
                Err(e @ $crate::error::Error::Conflict { .. })
                    if attempt < $service.config.max_attempts =>
                {
                    tracing::debug!(attempt, error = %e, "concurrent write; retrying");
                    tokio::time::sleep($crate::service::retry::backoff(attempt)).await;
                    attempt += 1;
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use retry;

/// The wait before retry number `attempt + 1`: full jitter over an exponential ceiling
/// (0.5 ms doubling, capped at 0.5 s, so dozens of writers on one hot participant spread
/// out instead of colliding until their attempts run out). Needs a `tokio` runtime with
/// timers, as `#[tokio::main]` gives.
pub(crate) fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling_us: u64 = 500u64 << attempt.min(10);
    std::time::Duration::from_micros(crate::ids::random_u64() % ceiling_us.max(1))
}
