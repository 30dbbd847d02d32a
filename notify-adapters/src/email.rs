//! Email over SMTP ([`SmtpNotifier`]).
//!
//! One email per message (N12): `multipart/alternative` with the plain-text part
//! ([`OutgoingMessage::body`], which reads well on its own) and the HTML part
//! ([`OutgoingMessage::html`]), or the text alone when there is no HTML. Headers:
//! - `From`: the event's sender ([`OutgoingMessage::sender`]) where it sets one, else the
//!   adapter's; the envelope sender (where bounces go) is always the adapter's address;
//!   `Reply-To` when the event sets one;
//! - `Message-ID`: derived from the idempotency key (see [`message_id`]), so that a repeat
//!   after a crash carries the same `Message-ID` and mail clients show it once;
//! - `MIME-Version`, `Date`, `Content-Language` (the language it was rendered in);
//! - `List-Id` (RFC 2919), one list per event: `"Event name" <e-{event id}.{domain}>`;
//! - `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC
//!   8058) when the message has an unsubscribe link, as bulk senders must;
//! - `Auto-Submitted: auto-generated` (RFC 3834), so that vacation responders stay quiet.
//!
//! The greeting (`EHLO`) names [`SmtpConfig::hello_name`], by default the sender's domain:
//! relays refuse a greeting that is not a fully qualified name (`504 5.5.2 Helo command
//! rejected`), and a machine's own host name rarely is one.
//!
//! Errors: an SMTP permanent refusal (5xx, e.g. `550 no such mailbox`) is
//! [`SendError::Permanent`]; `421`, `451` and `454` (the server is busy or limits the
//! rate) are [`SendError::Throttled`]; another temporary refusal (4xx), a connection
//! failure or a timeout is [`SendError::Transient`]; an address that does not parse, or
//! that is not an email address, is [`SendError::Permanent`].

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use punchlist::{Address, Channel, Notifier, OutgoingMessage, SendError};
use sha2::{Digest, Sha256};

use crate::ConfigError;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmtpTls {
    /// Plain text, no TLS at all. Only for a relay on the same machine or a test server on
    /// loopback: credentials and messages cross the network in clear.
    None,
    /// Connect in clear, then upgrade with `STARTTLS` (usually port 587); the upgrade is
    /// required, never skipped.
    StartTls,
    /// TLS from the first byte (“SMTPS”, usually port 465).
    Implicit,
}

/// A user name and password for SMTP `AUTH`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    /// The user name.
    pub username: String,
    /// The password (never shown by `Debug`).
    pub password: String,
}

impl SmtpCredentials {
    /// A user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How the host's SMTP server is reached, and who the emails come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// The server's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// The server's port (25, 465, 587, or a test server's).
    pub port: u16,
    /// How the connection is secured.
    pub tls: SmtpTls,
    /// The credentials for `AUTH`, if the server wants them.
    pub credentials: Option<SmtpCredentials>,
    /// The sender's address (`From`, and the envelope sender). Its domain is also the
    /// right-hand side of every `Message-ID`.
    pub from_address: String,
    /// The sender's display name (may be empty).
    pub from_name: String,
    /// How long one send may take in all (connecting, the TLS handshake, the whole SMTP
    /// dialogue) before it fails as [`SendError::Transient`].
    pub timeout: Duration,
    /// Certificates (PEM) trusted as roots in addition to the Mozilla roots: the host's
    /// private CA, when its SMTP server's certificate is not publicly trusted.
    pub extra_root_certificates: Vec<String>,
    /// The name this client greets the server with (`EHLO`): a fully qualified domain
    /// name, or an address literal (`[192.0.2.1]`). `None`: the sender's domain.
    pub hello_name: Option<String>,
}

impl SmtpConfig {
    /// A server at `host:port` secured by `tls`, sending from `from_address`, with no
    /// credentials, no display name and a 30 s timeout.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        tls: SmtpTls,
        from_address: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            tls,
            credentials: None,
            from_address: from_address.into(),
            from_name: String::new(),
            timeout: Duration::from_secs(30),
            extra_root_certificates: Vec::new(),
            hello_name: None,
        }
    }

    /// Sets the name this client greets the server with (`EHLO`), e.g. the host's mail
    /// name `mail.expo.example`.
    pub fn with_hello_name(mut self, name: impl Into<String>) -> Self {
        self.hello_name = Some(name.into());
        self
    }

    /// Sets the credentials for `AUTH`.
    pub fn with_credentials(mut self, credentials: SmtpCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sets the sender's display name.
    pub fn with_from_name(mut self, name: impl Into<String>) -> Self {
        self.from_name = name.into();
        self
    }

    /// Sets how long one send may take in all.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trusts one more root certificate (PEM), e.g. the host's private CA.
    pub fn with_extra_root_certificate(mut self, pem: impl Into<String>) -> Self {
        self.extra_root_certificates.push(pem.into());
        self
    }
}

/// Sends [`Address::Email`] messages through the host's SMTP server (channel
/// [`Channel::Email`]).
///
/// Each send opens its own connection (TLS, `AUTH`), sends one email and quits, all within
/// [`SmtpConfig::timeout`]. Connections are deliberately not pooled: a send cut short by
/// the timeout must not leave a half-finished SMTP transaction on a connection that the
/// next message (another participant's) would reuse. It is cheap to clone and `Send +
/// Sync`; build it once and share it.
#[derive(Clone)]
pub struct SmtpNotifier {
    host: String,
    port: u16,
    tls: Option<(SmtpTls, TlsParameters)>,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
    from: Mailbox,
    id_domain: String,
}

/// The greeting name: a domain name of at least two labels (letters, digits, hyphens), or
/// an address literal in brackets.
fn hello_name(name: &str) -> Result<ClientId, ConfigError> {
    let name = name.trim();
    let bad = |why: &str| ConfigError::invalid("hello_name", format!("{name:?} {why}"));
    if let Some(literal) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return match literal.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => Ok(ClientId::Ipv4(a)),
            Ok(std::net::IpAddr::V6(a)) => Ok(ClientId::Ipv6(a)),
            Err(_) => Err(bad("is not an address literal")),
        };
    }
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if name.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad(
            "is not a fully qualified domain name (e.g. mail.expo.example) or an address literal ([192.0.2.1])",
        ));
    }
    Ok(ClientId::Domain(name.trim_end_matches('.').to_owned()))
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls.as_ref().map(|(mode, _)| *mode))
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// Builds the adapter. Nothing connects yet: every send opens its own connection.
    pub fn new(config: SmtpConfig) -> Result<Self, ConfigError> {
        let host = config.host.trim().to_owned();
        if host.is_empty() {
            return Err(ConfigError::invalid("host", "is empty"));
        }
        if config.timeout.is_zero() {
            return Err(ConfigError::invalid("timeout", "is zero"));
        }
        let email: lettre::Address = config.from_address.trim().parse().map_err(|e| {
            ConfigError::invalid(
                "from_address",
                format!("{:?} is not an email address: {e}", config.from_address),
            )
        })?;
        let id_domain = email.domain().trim_matches(['[', ']']).to_owned();
        let hello = match &config.hello_name {
            Some(name) => hello_name(name)?,
            None => hello_name(email.domain()).map_err(|_| {
                ConfigError::invalid(
                    "hello_name",
                    format!(
                        "the sender's domain {:?} is not a fully qualified name to greet the server with: set hello_name",
                        email.domain()
                    ),
                )
            })?,
        };
        let name = one_line(&config.from_name);
        let from = Mailbox::new((!name.is_empty()).then_some(name), email);
        let tls = match config.tls {
            SmtpTls::None => None,
            mode @ (SmtpTls::StartTls | SmtpTls::Implicit) => {
                let mut builder = TlsParameters::builder(host.clone());
                for pem in &config.extra_root_certificates {
                    if !pem.contains("-----BEGIN CERTIFICATE-----") {
                        return Err(ConfigError::invalid(
                            "extra_root_certificates",
                            "holds no PEM certificate",
                        ));
                    }
                    let cert = Certificate::from_pem(pem.as_bytes()).map_err(|e| {
                        ConfigError::invalid(
                            "extra_root_certificates",
                            format!("not a PEM certificate: {e}"),
                        )
                    })?;
                    builder = builder.add_root_certificate(cert);
                }
                let params = builder
                    .build()
                    .map_err(|e| ConfigError::Client(format!("TLS: {e}")))?;
                Some((mode, params))
            }
        };
        Ok(Self {
            host,
            port: config.port,
            tls,
            credentials: config
                .credentials
                .map(|c| Credentials::new(c.username, c.password)),
            timeout: config.timeout,
            hello,
            from,
            id_domain,
        })
    }

    /// One SMTP session: connect (TLS from the start, or upgraded), authenticate, send.
    /// Returns the connection too, so that the caller can quit politely outside the
    /// deadline of the send itself.
    async fn deliver(
        &self,
        email: &Message,
    ) -> Result<(Response, AsyncSmtpConnection), lettre::transport::smtp::Error> {
        let implicit = match &self.tls {
            Some((SmtpTls::Implicit, params)) => Some(params.clone()),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.timeout),
            &self.hello,
            implicit,
            None,
        )
        .await?;
        if let Some((SmtpTls::StartTls, params)) = &self.tls {
            conn.starttls(params.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        let response = conn.send(email.envelope(), &email.formatted()).await?;
        Ok((response, conn))
    }

    /// Builds the email for one message. Fails as [`SendError::Permanent`] when the
    /// address is not an email address or does not parse.
    fn build_email(&self, to: &Address, message: &OutgoingMessage) -> Result<Message, SendError> {
        let Address::Email { address, name } = to else {
            return Err(SendError::Permanent(format!(
                "the email adapter cannot send to a {} address",
                to.channel()
            )));
        };
        let email: lettre::Address = address.trim().parse().map_err(|e| {
            SendError::Permanent(format!("{address:?} is not an email address: {e}"))
        })?;
        let name = one_line(name);
        let recipient = Mailbox::new((!name.is_empty()).then_some(name), email);

        let from = match &message.sender {
            Some(sender) => {
                let address = match &sender.address {
                    Some(a) => a.trim().parse().map_err(|e| {
                        SendError::Permanent(format!(
                            "the event's sender {a:?} is not an email address: {e}"
                        ))
                    })?,
                    None => self.from.email.clone(),
                };
                let name = one_line(&sender.name);
                let name = if name.is_empty() {
                    self.from.name.clone()
                } else {
                    Some(name)
                };
                Mailbox::new(name, address)
            }
            None => self.from.clone(),
        };
        let envelope = lettre::address::Envelope::new(
            Some(self.from.email.clone()),
            vec![recipient.email.clone()],
        )
        .map_err(|e| SendError::Permanent(format!("could not build the envelope: {e}")))?;

        let mut builder = Message::builder()
            .from(from)
            .to(recipient)
            .envelope(envelope)
            .subject(one_line(&message.subject))
            .message_id(Some(message_id(&message.idempotency_key, &self.id_domain)))
            .header(TextHeader::<ContentLanguage>::new(
                message.language.as_str(),
            ))
            .header(TextHeader::<ListId>::new(list_id(
                &message.event_name,
                &message.event.to_string(),
                &self.id_domain,
            )))
            .header(TextHeader::<AutoSubmitted>::new("auto-generated"));
        if let Some(reply_to) = message.sender.as_ref().and_then(|s| s.reply_to.as_ref()) {
            let reply_to: lettre::Address = reply_to.trim().parse().map_err(|e| {
                SendError::Permanent(format!(
                    "the event's reply-to {reply_to:?} is not an email address: {e}"
                ))
            })?;
            builder = builder.reply_to(Mailbox::new(None, reply_to));
        }
        if let Some(url) = message
            .unsubscribe_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            builder = builder
                .header(TextHeader::<ListUnsubscribe>::new(format!(
                    "<{}>",
                    url.trim()
                )))
                .header(TextHeader::<ListUnsubscribePost>::new(
                    "List-Unsubscribe=One-Click",
                ));
        }
        let text = SinglePart::plain(message.body.clone());
        let built = match message.html.as_deref().filter(|h| !h.trim().is_empty()) {
            Some(html) => builder.multipart(
                MultiPart::alternative()
                    .singlepart(text)
                    .singlepart(SinglePart::html(html.to_owned())),
            ),
            None => builder.singlepart(text),
        };
        built.map_err(|e| SendError::Permanent(format!("could not build the email: {e}")))
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, to: &Address, message: &OutgoingMessage) -> Result<(), SendError> {
        let email = self.build_email(to, message)?;
        let outcome = tokio::time::timeout(self.timeout, self.deliver(&email)).await;
        match outcome {
            Ok(Ok((response, mut conn))) => {
                tracing::debug!(
                    outbox = %message.outbox,
                    code = %response.code(),
                    "email accepted by the SMTP server"
                );
                // The server has the message: whatever happens to QUIT, the send is done.
                let _ = tokio::time::timeout(self.timeout, conn.quit()).await;
                Ok(())
            }
            Ok(Err(e)) => Err(smtp_error(&e)),
            // Dropping the session closes its connection: nothing half-done is reused.
            Err(_) => Err(SendError::Transient(format!(
                "SMTP: no answer within {:?}",
                self.timeout
            ))),
        }
    }
}

/// A permanent SMTP refusal (5xx) is permanent; `421` (the service closes the channel),
/// `451` (local error, often greylisting or a rate limit) and `454` (temporarily unable)
/// are the server asking to slow down; everything else (another 4xx, a connection, TLS or
/// authentication failure, a server without STARTTLS) is worth another try, and the
/// dispatcher's attempt limit ends what never recovers.
fn smtp_error(e: &lettre::transport::smtp::Error) -> SendError {
    let text = format!("SMTP: {e}");
    if e.is_permanent() {
        return SendError::Permanent(text);
    }
    let throttling = e
        .status()
        .is_some_and(|code| matches!(code.to_string().as_str(), "421" | "451" | "454"));
    if throttling {
        SendError::Throttled {
            reason: text,
            retry_after: None,
        }
    } else {
        SendError::Transient(text)
    }
}

/// The `List-Id` of an event's messages (RFC 2919): the event's name as the phrase when it
/// is plain ASCII, and `e-{event id}.{domain}` as the identifier (its own list per event).
pub fn list_id(event_name: &str, event_id: &str, domain: &str) -> String {
    let label: String = event_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let domain = if domain.is_empty() {
        "punchlist.invalid"
    } else {
        domain
    };
    // The phrase as a quoted string, when it is plain ASCII: a name with other letters
    // would need encoded-words, which RFC 2047 forbids inside quotes, so it is left out
    // (the identifier alone is a valid List-Id).
    let phrase = one_line(event_name).replace(['"', '\\'], "");
    if phrase.is_empty()
        || !phrase
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control())
    {
        format!("<e-{label}.{domain}>")
    } else {
        format!("\"{phrase}\" <e-{label}.{domain}>")
    }
}

/// A header value on one line (a name or subject with a line break would otherwise end the
/// header early).
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `Message-ID` of the email carrying a message with idempotency key `key`, sent from
/// a domain `domain`: `<pl.{key}@{domain}>`.
///
/// The same key always gives the same id, and different keys give different ids. The key
/// is written with every character other than an ASCII letter, digit, `-` or `_` escaped
/// as `=XX` (its UTF-8 bytes in hex), so that the id is valid (RFC 5322 `id-left`); a key
/// whose escaped form is longer than 128 characters is replaced by the hex SHA-256 of
/// the key: `<plh.{hex}@{domain}>`.
pub fn message_id(key: &str, domain: &str) -> String {
    const MAX: usize = 128;
    let mut left = String::with_capacity(key.len() + 3);
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            left.push(char::from(b));
        } else {
            left.push('=');
            left.push_str(&format!("{b:02X}"));
        }
        if left.len() > MAX {
            break;
        }
    }
    let left = if left.is_empty() || left.len() > MAX {
        format!("plh.{}", hex(&Sha256::digest(key.as_bytes())))
    } else {
        format!("pl.{left}")
    };
    let domain = if domain.is_empty() {
        "punchlist.invalid"
    } else {
        domain
    };
    format!("<{left}@{domain}>")
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A header whose value the library makes (always ASCII or a validated tag, never the
/// recipient's input), one type per header name as `lettre` wants.
#[derive(Debug, Clone)]
struct TextHeader<N>(String, std::marker::PhantomData<N>);

impl<N> TextHeader<N> {
    fn new(value: impl Into<String>) -> Self {
        Self(value.into(), std::marker::PhantomData)
    }
}

/// The name of a [`TextHeader`].
trait Named: Clone + Send + Sync + 'static {
    const NAME: &'static str;
}

macro_rules! named {
    ($($ty:ident = $name:literal),* $(,)?) => {$(
        #[derive(Debug, Clone)]
        struct $ty;
        impl Named for $ty {
            const NAME: &'static str = $name;
        }
    )*};
}

named! {
    ContentLanguage = "Content-Language",
    ListId = "List-Id",
    ListUnsubscribe = "List-Unsubscribe",
    ListUnsubscribePost = "List-Unsubscribe-Post",
    AutoSubmitted = "Auto-Submitted",
}

impl<N: Named> Header for TextHeader<N> {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(N::NAME)
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self::new(s.trim()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}
