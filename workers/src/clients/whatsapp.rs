//! WhatsApp: Meta's Cloud API (`POST {base}/{phone_number_id}/messages` with the business's
//! token) and a Baileys-style bridge (`POST {bridge}/message/sendText/{instance}` with
//! `apikey`), behind the same [`Channel`] port (domain.md §5.2–5.3).
//!
//! The Cloud API takes free text only within 24 hours of the customer's last message; outside it
//! an approved template goes instead, and a text refused with 131047 (the window closed between
//! our look and the send) is sent again as the template. Rate limits (HTTP 429, codes 4, 80007,
//! 130429, 131048, 131056) and 5xx are transient; a refused connection too (nothing was sent).
//! A timeout after the request left is not retried: the Cloud API takes no idempotency key, and
//! a retry could deliver the message twice.

use std::time::Duration;

use serde_json::{Value, json};

use crate::clients::channel::{Channel, Outgoing, Receipt, SendError, WaTemplate};

/// The public Cloud API.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com/v21.0";
/// How long one call may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// The most of an error body kept in a reason.
const BODY_CAP: usize = 64 * 1024;

/// Error codes Meta uses for throttling (domain.md §5.2).
const RATE_CODES: [i64; 5] = [4, 80007, 130429, 131048, 131056];
/// The 24-hour window closed.
pub const WINDOW_CLOSED: i64 = 131_047;

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("WhatsApp client: {0}")]
pub struct SetupError(String);

fn http(timeout: Duration) -> Result<reqwest::Client, SetupError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("nexus/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SetupError(e.to_string()))
}

fn base(url: &str) -> Result<String, SetupError> {
    let b = url.trim().trim_end_matches('/');
    if b.starts_with("http://") || b.starts_with("https://") {
        Ok(b.to_owned())
    } else {
        Err(SetupError(format!("expected an http(s) URL, got `{url}`")))
    }
}

/// The Cloud API's client (one per process; each business's number and token come per send).
#[derive(Debug, Clone)]
pub struct CloudApi {
    http: reqwest::Client,
    base_url: String,
}

impl CloudApi {
    /// A client of the Cloud API at `base_url`.
    ///
    /// # Errors
    /// [`SetupError`] for a URL that is not http(s) or a TLS set-up failure.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, SetupError> {
        Ok(Self {
            http: http(timeout)?,
            base_url: base(base_url)?,
        })
    }

    /// The business's line: its number id and token.
    #[must_use]
    pub fn line(&self, phone_number_id: String, token: String) -> CloudLine {
        CloudLine {
            api: self.clone(),
            phone_number_id,
            token,
        }
    }
}

/// One business's Cloud API number.
#[derive(Clone)]
pub struct CloudLine {
    api: CloudApi,
    phone_number_id: String,
    token: String,
}

/// What a Cloud API call ended in.
enum CloudError {
    /// 131047: outside the 24-hour window.
    Window,
    /// Anything else, classified.
    Other(SendError),
}

fn template_body(to: &str, t: &WaTemplate) -> Value {
    let params: Vec<Value> = t
        .params
        .iter()
        .map(|p| json!({"type": "text", "text": p}))
        .collect();
    let mut template = json!({"name": t.name, "language": {"code": t.language}});
    if !params.is_empty() {
        template["components"] = json!([{"type": "body", "parameters": params}]);
    }
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
           "type": "template", "template": template})
}

fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn sent_error(what: &str, e: &reqwest::Error) -> SendError {
    if e.is_connect() {
        SendError::Transient {
            reason: format!("{what} could not be reached: {e}"),
            retry_after: None,
        }
    } else {
        SendError::Permanent(format!(
            "{what} did not answer ({e}); the message may have gone, so it is not sent again"
        ))
    }
}

impl CloudLine {
    async fn post(&self, body: &Value) -> Result<Receipt, CloudError> {
        let url = format!("{}/{}/messages", self.api.base_url, self.phone_number_id);
        let resp = self
            .api
            .http
            .post(url)
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|e| CloudError::Other(sent_error("the WhatsApp Cloud API", &e)))?;
        let status = resp.status();
        let wait = retry_after(&resp);
        let bytes = crate::clients::read_capped(resp, BODY_CAP)
            .await
            .map_err(|e| {
                CloudError::Other(SendError::Permanent(format!("reading the answer: {e}")))
            })?;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            let id = v["messages"][0]["id"].as_str().map(str::to_owned);
            return match id {
                Some(id) => Ok(Receipt {
                    provider_id: Some(id),
                    cost_category: None,
                }),
                None => Err(CloudError::Other(SendError::Permanent(format!(
                    "the Cloud API answered {status} without a message id"
                )))),
            };
        }
        let code = v["error"]["code"].as_i64().unwrap_or(0);
        let message = v["error"]["message"].as_str().unwrap_or("no message");
        let why = format!("WhatsApp refused the message ({status}, code {code}): {message}");
        if code == WINDOW_CLOSED {
            return Err(CloudError::Window);
        }
        if status.as_u16() == 429 || RATE_CODES.contains(&code) || status.is_server_error() {
            return Err(CloudError::Other(SendError::Transient {
                reason: why,
                retry_after: wait,
            }));
        }
        Err(CloudError::Other(SendError::Permanent(why)))
    }
}

impl Channel for CloudLine {
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let to = crate::clients::whatsapp::to_digits(&msg.to);
        let template = msg.wa_template.as_ref();
        if msg.session_open {
            let text = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                              "to": to, "type": "text",
                              "text": {"body": msg.text, "preview_url": false}});
            match self.post(&text).await {
                Ok(r) => return Ok(r),
                Err(CloudError::Other(e)) => return Err(e),
                // The window closed since we looked: the template goes instead.
                Err(CloudError::Window) => {}
            }
        }
        let Some(t) = template else {
            return Err(SendError::Permanent(
                "outside the customer's 24-hour window, and the template names no approved \
                 WhatsApp template"
                    .into(),
            ));
        };
        match self.post(&template_body(&to, t)).await {
            Ok(r) => Ok(r),
            Err(CloudError::Other(e)) => Err(e),
            Err(CloudError::Window) => Err(SendError::Permanent(
                "WhatsApp refused even the approved template for the 24-hour window".into(),
            )),
        }
    }
}

/// What the Cloud API's `to` takes: the number's digits.
#[must_use]
pub fn to_digits(e164: &str) -> String {
    entities::rules::whatsapp::to_field(e164)
}

/// The platform's WhatsApp Web bridge (`WHATSAPP_BRIDGE_URL`, `WHATSAPP_BRIDGE_KEY`): one
/// instance per business, named by its slug. WhatsApp Web has no 24-hour rule, so free text
/// always goes.
#[derive(Clone)]
pub struct Bridge {
    http: reqwest::Client,
    base_url: String,
    key: String,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Bridge {
    /// A bridge at `base_url` with its key.
    ///
    /// # Errors
    /// [`SetupError`].
    pub fn new(base_url: &str, key: &str, timeout: Duration) -> Result<Self, SetupError> {
        Ok(Self {
            http: http(timeout)?,
            base_url: base(base_url)?,
            key: key.to_owned(),
        })
    }

    /// The business's instance.
    #[must_use]
    pub fn line(&self, instance: &str) -> BridgeLine {
        BridgeLine {
            bridge: self.clone(),
            instance: instance.to_owned(),
        }
    }
}

/// One business's instance on the bridge.
#[derive(Clone)]
pub struct BridgeLine {
    bridge: Bridge,
    instance: String,
}

impl Channel for BridgeLine {
    async fn send(&self, msg: &Outgoing) -> Result<Receipt, SendError> {
        let url = format!(
            "{}/message/sendText/{}",
            self.bridge.base_url, self.instance
        );
        let resp = self
            .bridge
            .http
            .post(url)
            .header("apikey", &self.bridge.key)
            .json(&json!({"number": to_digits(&msg.to), "text": msg.text}))
            .send()
            .await
            .map_err(|e| sent_error("the WhatsApp bridge", &e))?;
        let status = resp.status();
        let wait = retry_after(&resp);
        let bytes = crate::clients::read_capped(resp, BODY_CAP)
            .await
            .map_err(|e| SendError::Permanent(format!("reading the bridge's answer: {e}")))?;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(Receipt {
                provider_id: v["key"]["id"].as_str().map(str::to_owned),
                cost_category: None,
            });
        }
        let why = format!(
            "the WhatsApp bridge refused the message ({status}): {}",
            String::from_utf8_lossy(&bytes)
                .chars()
                .take(300)
                .collect::<String>()
        );
        if status.as_u16() == 429 || status.is_server_error() {
            Err(SendError::Transient {
                reason: why,
                retry_after: wait,
            })
        } else {
            Err(SendError::Permanent(why))
        }
    }
}
