//! E-mail over SMTP with lettre: a platform relay (`NEXUS_SMTP_URL`, STARTTLS or TLS, with
//! credentials), the business's name on `From`, multipart text + HTML, attachments, UTF-8
//! subjects encoded by lettre (RFC 2047).
//!
//! Errors: a 4xx reply and a failure to connect are transient (nothing was accepted); a 5xx is
//! permanent. SMTP offers no idempotency, so the `Message-ID` is ours (`<notification@host>`):
//! a receiving system that drops duplicates by it can; the send handler's claim makes sure no
//! retry of ours sends a message twice.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::clients::channel::{Channel, Outgoing, Receipt, SendError};

/// How long one SMTP conversation may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the SMTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    /// `NEXUS_SMTP_URL` does not parse.
    #[error("NEXUS_SMTP_URL: {0}")]
    Url(String),
    /// `NEXUS_SMTP_FROM` is not a mailbox.
    #[error("NEXUS_SMTP_FROM is not an address (\"Name <user@host>\" or \"user@host\"): {0}")]
    From(String),
}

/// The platform's SMTP relay.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials: never printed.
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer on `url` (`smtp://user:pass@host:587?tls=required`, `smtps://host:465`, or
    /// `smtp://127.0.0.1:2525` unencrypted for a relay on the same host) sending as `from`.
    ///
    /// # Errors
    /// [`SmtpSetupError`] naming the setting.
    pub fn new(url: &str, from: &str, timeout: Duration) -> Result<Self, SmtpSetupError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e: lettre::address::AddressError| SmtpSetupError::From(e.to_string()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| SmtpSetupError::Url(e.to_string()))?
            .timeout(Some(timeout))
            .build();
        let domain = from.email.domain().to_owned();
        Ok(Self {
            transport,
            from,
            domain,
        })
    }

    /// The message as it goes on the wire.
    ///
    /// # Errors
    /// [`SendError::Permanent`] for an address or part lettre refuses.
    pub fn build(&self, msg: &Outgoing) -> Result<Message, SendError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            SendError::Permanent(format!("{what} is not usable in an e-mail: {e}"))
        };
        let to: Mailbox = msg.to.parse().map_err(|e| bad("the recipient", &e))?;
        let from = Mailbox::new(
            msg.from_name.clone().or_else(|| self.from.name.clone()),
            self.from.email.clone(),
        );
        let mut b = Message::builder()
            .from(from)
            .to(to)
            .subject(msg.subject.clone().unwrap_or_default())
            .message_id(Some(format!("<{}@{}>", msg.id, self.domain)));
        if let Some(r) = &msg.reply_to {
            b = b.reply_to(r.parse().map_err(|e| bad("the reply-to", &e))?);
        }
        let mut attachments = Vec::with_capacity(msg.attachments.len());
        for a in &msg.attachments {
            let ct =
                ContentType::parse(&a.content_type).map_err(|e| bad("an attachment's type", &e))?;
            attachments.push(MimeAttachment::new(a.filename.clone()).body(a.bytes.clone(), ct));
        }
        let text = SinglePart::plain(msg.text.clone());
        let message = match (&msg.html, attachments.is_empty()) {
            (None, true) => b.singlepart(text),
            (Some(html), true) => b.multipart(MultiPart::alternative_plain_html(
                msg.text.clone(),
                html.clone(),
            )),
            (html, false) => {
                let mut all = match html {
                    Some(h) => MultiPart::mixed().multipart(MultiPart::alternative_plain_html(
                        msg.text.clone(),
                        h.clone(),
                    )),
                    None => MultiPart::mixed().singlepart(text),
                };
                for a in attachments {
                    all = all.singlepart(a);
                }
                b.multipart(all)
            }
        };
        message.map_err(|e| bad("the message", &e))
    }
}

impl Channel for SmtpMailer {
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let message = self.build(msg)?;
        let id = message.headers().get_raw("Message-ID").map(str::to_owned);
        match self.transport.send(message).await {
            Ok(_) => Ok(Receipt {
                provider_id: id,
                cost_category: None,
            }),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!(
                "the mail server refused the message: {e}"
            ))),
            Err(e) => Err(SendError::Transient {
                reason: format!("the mail server did not take the message: {e}"),
                retry_after: None,
            }),
        }
    }
}
