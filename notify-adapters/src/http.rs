//! What the two HTTP adapters (chat, web push) share: the client and how an answer or a
//! failure maps onto [`SendError`].

use std::time::Duration;

use punchlist::{RetryAfter, SendError};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::ConfigError;

/// An HTTP client that follows no redirect (a webhook or a push service that redirects is
/// misconfigured, and following it would send the message somewhere nobody checked) and
/// gives up after `timeout` (connect, send and answer together).
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("punchlist-notify/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConfigError::Client(e.to_string()))
}

/// Maps a request that got no answer: a timeout or a connection failure is worth another
/// try; a request that could not even be built will never work. The URL is left out of
/// the text: webhook URLs and push endpoints carry secrets, and errors end up in logs and
/// in the outbox.
pub(crate) fn request_error(what: &str, e: reqwest::Error) -> SendError {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_builder() {
        SendError::Permanent(format!("{what}: invalid request: {text}"))
    } else if e.is_timeout() {
        SendError::Transient(format!("{what}: timed out: {text}"))
    } else {
        SendError::Transient(format!("{what}: {text}"))
    }
}

/// Maps an answer that is not a success: 429, and a 503 or another temporary failure that
/// says when to come back (`Retry-After`), is the peer throttling; 408 and 5xx are worth
/// another try; any other status (4xx, an unexpected redirect or 1xx) is permanent.
pub(crate) fn status_error(
    what: &str,
    status: StatusCode,
    retry_after: Option<RetryAfter>,
    body: &str,
) -> SendError {
    let detail = snippet(body);
    let text = if detail.is_empty() {
        format!("{what} answered {status}")
    } else {
        format!("{what} answered {status}: {detail}")
    };
    if status == StatusCode::TOO_MANY_REQUESTS || is_transient(status) && retry_after.is_some() {
        SendError::Throttled {
            reason: text,
            retry_after,
        }
    } else if is_transient(status) {
        SendError::Transient(text)
    } else {
        SendError::Permanent(text)
    }
}

/// The longest wait a `Retry-After` is taken at its word for (a larger one is cut to it).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30 * 24 * 3600);

/// The answer's `Retry-After` (RFC 9110 §10.2.3): a number of seconds, or an HTTP date;
/// `None` when absent or unreadable.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<RetryAfter> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(RetryAfter::Delay(
            Duration::from_secs(seconds).min(MAX_RETRY_AFTER),
        ));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(RetryAfter::At(chrono::DateTime::<chrono::Utc>::from(at)))
}

/// 408 Request Timeout, 429 Too Many Requests and every 5xx.
pub(crate) fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// The start of an error body, on one line, for the outbox's `last_error`.
fn snippet(body: &str) -> String {
    const MAX: usize = 200;
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX)
        .collect();
    one_line.trim().to_owned()
}

/// Reads at most a small part of an error answer's body (never the whole of a large one).
pub(crate) async fn error_body(response: reqwest::Response) -> String {
    const LIMIT: usize = 1024;
    let mut response = response;
    let mut out = Vec::new();
    while out.len() < LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk),
            _ => break,
        }
    }
    out.truncate(LIMIT);
    String::from_utf8_lossy(&out).into_owned()
}
