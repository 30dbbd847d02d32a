//! Shared test helpers: messages, and a minimal HTTP/1.1 peer on loopback that records
//! what it receives and answers from a script.

#![allow(dead_code)]

pub mod smtp;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use punchlist::{EventId, Language, OutboxId, OutgoingMessage, ParticipantId, Urgency};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

pub fn event() -> EventId {
    EventId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001))
}

pub fn recipient() -> ParticipantId {
    ParticipantId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002))
}

pub fn message(key: &str, language: &str, subject: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        event: event(),
        event_name: "Expo 2026".to_owned(),
        outbox: OutboxId::from_uuid(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003)),
        recipient: recipient(),
        idempotency_key: key.to_owned(),
        language: Language::new(language).expect("valid language"),
        subject: subject.to_owned(),
        body: body.to_owned(),
        html: None,
        title: subject.to_owned(),
        summary: "due tomorrow at 18:00".to_owned(),
        link: Some("https://expo.example/tasks/logo".to_owned()),
        unsubscribe_url: None,
        sender: None,
        urgency: Urgency::High,
        ttl_seconds: 86_400,
    }
}

/// What the peer answers to one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// This status, with a short body.
    Status(u16),
    /// Nothing, ever (the connection stays open).
    Hang,
    /// This status, with this `Retry-After` header.
    RetryAfter(u16, &'static str),
}

/// One request the peer received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// An HTTP peer on 127.0.0.1 and an ephemeral port. Answers the n-th request with the
/// n-th reply of its script (the last one once the script runs out).
pub struct HttpPeer {
    pub base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl HttpPeer {
    pub async fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = Arc::clone(&received);
        let script = Arc::new(script);
        tokio::spawn(async move {
            let count = Arc::new(Mutex::new(0usize));
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let rec = Arc::clone(&rec);
                let script = Arc::clone(&script);
                let count = Arc::clone(&count);
                tokio::spawn(async move {
                    serve(stream, rec, script, count).await;
                });
            }
        });
        Self {
            base: format!("http://{addr}"),
            received,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    rec: Arc<Mutex<Vec<Received>>>,
    script: Arc<Vec<Reply>>,
    count: Arc<Mutex<usize>>,
) {
    // Keep-alive: serve requests on this connection until the client closes it.
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = HashMap::new();
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let body_start = head_end + 4;
        while buf.len() < body_start + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = buf[body_start..body_start + length].to_vec();
        buf.drain(..body_start + length);
        rec.lock().expect("lock").push(Received {
            method,
            path,
            headers,
            body,
        });
        let reply = {
            let mut n = count.lock().expect("lock");
            let reply = script
                .get(*n)
                .or(script.last())
                .copied()
                .unwrap_or(Reply::Status(200));
            *n += 1;
            reply
        };
        match reply {
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(120)).await;
                return;
            }
            Reply::Status(code) | Reply::RetryAfter(code, _) => {
                let text = format!("status {code}");
                let extra = match reply {
                    Reply::RetryAfter(_, after) => format!("retry-after: {after}\r\n"),
                    _ => String::new(),
                };
                let response = format!(
                    "HTTP/1.1 {code} {}\r\ncontent-type: text/plain\r\n{extra}content-length: {}\r\n\r\n{text}",
                    reason(code),
                    text.len()
                );
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
