//! A real SMTP server (mailin-embedded) on loopback that captures what it accepts.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use mailin_embedded::response::{AUTH_OK, INVALID_CREDENTIALS, NO_MAILBOX, OK};
use mailin_embedded::{AuthMechanism, Handler, Response, Server, SslConfig};

/// One email the server accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The name the client greeted with (`EHLO`).
    pub hello: String,
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

/// Captures accepted mail; refuses `nobody@…` for good (550) and `busy@…` for now (451),
/// and, as relays do, a greeting that is not a fully qualified name (504).
#[derive(Clone)]
struct Capture {
    mails: Arc<Mutex<Vec<Mail>>>,
    hello: String,
    from: String,
    to: Vec<String>,
    buf: Vec<u8>,
}

impl Handler for Capture {
    fn helo(&mut self, _ip: std::net::IpAddr, domain: &str) -> Response {
        self.hello = domain.to_owned();
        if domain.contains('.') || domain.starts_with('[') {
            OK
        } else {
            Response::custom(
                504,
                "5.5.2 Helo command rejected: need fully-qualified hostname".to_owned(),
            )
        }
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("nobody@") {
            NO_MAILBOX
        } else if to.starts_with("busy@") {
            Response::custom(451, "Try again later".to_owned())
        } else {
            OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_owned();
        self.to = to.to_vec();
        self.buf.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn auth_plain(
        &mut self,
        _authorization_id: &str,
        authentication_id: &str,
        password: &str,
    ) -> Response {
        if authentication_id == "tasks" && password == "hunter2" {
            AUTH_OK
        } else {
            INVALID_CREDENTIALS
        }
    }

    fn data_end(&mut self) -> Response {
        self.mails.lock().expect("lock").push(Mail {
            hello: self.hello.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            raw: std::mem::take(&mut self.buf),
        });
        OK
    }
}

/// Starts an SMTP server on 127.0.0.1 and an ephemeral port, on its own threads.
pub fn smtp_server() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    start_server(false)
}

/// The same, offering STARTTLS (a certificate for 127.0.0.1 issued by the test CA in
/// `tests/fixtures`) and `AUTH PLAIN` once encrypted (user `tasks`, password `hunter2`).
pub fn smtp_server_with_tls() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    start_server(true)
}

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn start_server(tls: bool) -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let handler = Capture {
        mails: Arc::clone(&mails),
        hello: String::new(),
        from: String::new(),
        to: Vec::new(),
        buf: Vec::new(),
    };
    std::thread::spawn(move || {
        let mut server = Server::new(handler);
        let ssl = if tls {
            SslConfig::SelfSigned {
                cert_path: fixture("server.pem"),
                key_path: fixture("server.key"),
            }
        } else {
            SslConfig::None
        };
        server
            .with_name("mx.test")
            .with_ssl(ssl)
            .expect("TLS set up")
            .with_tcp_listener(listener);
        if tls {
            server.with_auth(AuthMechanism::Plain);
        }
        let _ = server.serve();
    });
    (port, mails)
}
