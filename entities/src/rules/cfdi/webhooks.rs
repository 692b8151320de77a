//! The signature of Facturapi's webhooks.

use super::*;

/// The header Facturapi signs its webhook deliveries with.
pub const SIGNATURE_HEADER: &str = "Facturapi-Signature";

/// Hex HMAC-SHA256 of the raw body under the webhook's secret: the value of
/// [`SIGNATURE_HEADER`]. Verified in FacturAPI/facturapi-java `Webhooks.validateSignature`
/// (HmacSHA256 over the raw payload with the secret as UTF-8 key, compared with
/// `MessageDigest.isEqual` against the hex-decoded header), matching domain.md §1.9.
#[must_use]
pub fn facturapi_signature(secret: &str, raw_body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(raw_body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(super) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether `signature` (the header's value) is the HMAC of exactly these bytes under `secret`.
/// Verify the raw body before any JSON parse: re-serialising changes the bytes. The comparison
/// is constant-time (`Mac::verify_slice`).
#[must_use]
pub fn verify_facturapi_signature(secret: &str, raw_body: &[u8], signature: &str) -> bool {
    let Some(given) = hex_decode(signature) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(raw_body);
    mac.verify_slice(&given).is_ok()
}
