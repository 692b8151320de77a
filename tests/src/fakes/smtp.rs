//! A real SMTP server on loopback (mailin-embedded, in a thread of the test process) that keeps
//! what it receives, for the e-mail channel's tests: the conversation, the envelope and the
//! message's bytes are the ones a mail relay would see. It can be told to answer `RCPT` with a
//! 4xx (try later, as a greylisting relay does) or a 5xx (no such mailbox).

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};

use mailin_embedded::{Handler, Response, Server, response};

/// A message as received.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    /// `MAIL FROM`.
    pub from: String,
    /// `RCPT TO`s.
    pub to: Vec<String>,
    /// The message (headers and body), CRLF line ends.
    pub data: Vec<u8>,
}

impl Mail {
    /// The message as text.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// A header's raw value (first occurrence, unfolded), case-insensitive name.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        let text = self.text();
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = out.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                out = Some(v.trim().to_owned());
            }
        }
        out
    }
}

/// How the server answers the end of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 250: taken.
    Accept,
    /// 451 to `RCPT`: try again later (nothing kept).
    TryLater,
    /// 550 to `RCPT`: refused for good (nothing kept).
    Refuse,
}

#[derive(Debug, Default)]
struct Shared {
    mails: Vec<Mail>,
    mode: Option<Mode>,
    /// Messages refused so far.
    refused: usize,
}

#[derive(Clone)]
struct Keep {
    shared: Arc<Mutex<Shared>>,
    current: Mail,
}

impl Handler for Keep {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.current = Mail {
            from: from.to_owned(),
            ..Mail::default()
        };
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        let mut s = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        match s.mode.unwrap_or(Mode::Accept) {
            Mode::Accept => {
                self.current.to.push(to.to_owned());
                response::OK
            }
            // As a greylisting relay does: come back later.
            Mode::TryLater => {
                s.refused += 1;
                response::INTERNAL_ERROR
            }
            Mode::Refuse => {
                s.refused += 1;
                response::NO_MAILBOX
            }
        }
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mut s = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        s.mails.push(std::mem::take(&mut self.current));
        response::OK
    }
}

/// The server; it runs until the test process ends.
#[derive(Debug, Clone)]
pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl SmtpServer {
    /// Starts a server on a free loopback port.
    ///
    /// # Panics
    /// When no port can be bound.
    #[must_use]
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP server");
        let addr = listener.local_addr().expect("SMTP server address");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let mut server = Server::new(Keep {
            shared: shared.clone(),
            current: Mail::default(),
        });
        server
            .with_name("mx.test.local")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { addr, shared }
    }

    /// The URL for `NEXUS_SMTP_URL` (plain SMTP on loopback).
    #[must_use]
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Every message received so far.
    #[must_use]
    pub fn mails(&self) -> Vec<Mail> {
        self.lock().mails.clone()
    }

    /// Messages refused so far (by [`Mode::TryLater`] or [`Mode::Refuse`]).
    #[must_use]
    pub fn refused(&self) -> usize {
        self.lock().refused
    }

    /// How the next messages are answered.
    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = Some(mode);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
