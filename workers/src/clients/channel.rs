//! The port every delivery channel implements: a rendered message in, the provider's receipt or
//! a classified error out. The send handler decides retry, parking or failure from the class,
//! never from a provider's own error type.

use std::future::Future;
use std::time::Duration;

/// A file that goes with a message (an e-mail attachment, a WhatsApp document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name the recipient sees.
    pub filename: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A message rendered for one recipient on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Our id for it: the provider's idempotency key where it takes one, the e-mail's
    /// `Message-ID` otherwise.
    pub id: String,
    /// Address or phone.
    pub to: String,
    /// Subject or title.
    pub subject: Option<String>,
    /// Text.
    pub text: String,
    /// HTML alternative (e-mail).
    pub html: Option<String>,
    /// The sender's display name (the business).
    pub from_name: Option<String>,
    /// Where replies go.
    pub reply_to: Option<String>,
    /// Files.
    pub attachments: Vec<Attachment>,
    /// WhatsApp: the approved template sent outside the customer's 24-hour window.
    pub wa_template: Option<WaTemplate>,
    /// WhatsApp: whether the customer wrote within 24 hours, so free text may go.
    pub session_open: bool,
}

/// A Meta-approved template with its body's parameters rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaTemplate {
    /// Its name.
    pub name: String,
    /// Its language code (`es_MX`).
    pub language: String,
    /// Its `{{1}}`, `{{2}}`… in order.
    pub params: Vec<String>,
}

/// What the provider said when it took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Its id for the message.
    pub provider_id: Option<String>,
    /// Its pricing category.
    pub cost_category: Option<String>,
}

/// Why a message was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Nothing was handed over and it may work later (timeout before the hand-over, 4xx of
    /// SMTP, 429 and 5xx of an API): tried again, after `retry_after` when the provider said.
    #[error("{reason}")]
    Transient {
        /// What happened.
        reason: String,
        /// The provider's wait.
        retry_after: Option<Duration>,
    },
    /// Refused for good (a bad address, a rejected template): not tried again.
    #[error("{0}")]
    Permanent(String),
}

/// A delivery channel.
pub trait Channel: Send + Sync {
    /// Hands one message to the provider.
    fn send(&self, msg: &Outgoing) -> impl Future<Output = Result<Receipt, SendError>> + Send;
}
