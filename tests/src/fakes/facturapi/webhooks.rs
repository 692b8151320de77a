//! Webhook bodies as Facturapi sends them, signed with the fake's own HMAC.

use super::*;

/// A webhook delivery body as Facturapi sends it (domain.md §1.9): `{id, created_at,
/// organization, livemode, type, data: {type, object}}`.
#[must_use]
pub fn webhook_body(event_id: &str, event_type: &str, object: &Value) -> Vec<u8> {
    let kind = event_type.split('.').next().unwrap_or("invoice");
    json!({
        "id": event_id,
        "created_at": chrono::Utc::now().to_rfc3339(),
        "organization": "fake-organization",
        "livemode": object.get("livemode").cloned().unwrap_or(json!(false)),
        "type": event_type,
        "data": { "type": kind, "object": object },
    })
    .to_string()
    .into_bytes()
}

/// The `Facturapi-Signature` of a body: hex HMAC-SHA256 under the webhook secret.
#[must_use]
pub fn sign_webhook(secret: &str, body: &[u8]) -> String {
    sat::signature(secret, body)
}

/// Delivers a signed webhook to `url` and returns the receiver's status.
///
/// # Errors
/// The transport error.
pub async fn send_webhook(url: &str, secret: &str, body: Vec<u8>) -> reqwest::Result<u16> {
    let sig = sign_webhook(secret, &body);
    let resp = reqwest::Client::new()
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header("Facturapi-Signature", sig)
        .body(body)
        .send()
        .await?;
    Ok(resp.status().as_u16())
}
