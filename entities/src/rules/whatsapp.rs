//! WhatsApp's number forms and webhook signatures (domain.md §5).
//!
//! Mexican mobiles reach webhooks as `521` and ten digits while their E.164 form is `52` and ten
//! digits; Nexus keeps the canonical `+52…` and sends to it. Meta signs each webhook delivery
//! with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body under the app secret>`.

/// The header Meta signs webhook deliveries with.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// The canonical E.164 form of a WhatsApp id or number: `521` + ten digits becomes `+52` + ten
/// digits (Mexico dropped the mobile `1` in 2019); anything else keeps its digits. `None` when
/// it is not 8 to 15 digits.
#[must_use]
pub fn canonical(wa_id: &str) -> Option<String> {
    let digits: String = wa_id
        .trim()
        .trim_start_matches('+')
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match digits.strip_prefix("521") {
        Some(rest) if rest.len() == 10 => Some(format!("+52{rest}")),
        _ => Some(format!("+{digits}")),
    }
}

/// What the Cloud API's `to` takes: the digits without `+`.
#[must_use]
pub fn to_field(e164: &str) -> String {
    e164.trim_start_matches('+').to_owned()
}

/// The header value Meta sends for `raw_body` under `app_secret`.
#[must_use]
pub fn signature(app_secret: &str, raw_body: &[u8]) -> String {
    // The same HMAC-SHA256 in hex that Facturapi uses, behind Meta's `sha256=` prefix.
    format!(
        "sha256={}",
        crate::rules::cfdi::facturapi_signature(app_secret, raw_body)
    )
}

/// Whether `header` signs exactly these bytes under `app_secret` (constant-time).
#[must_use]
pub fn verify(app_secret: &str, raw_body: &[u8], header: &str) -> bool {
    header.strip_prefix("sha256=").is_some_and(|hex| {
        crate::rules::cfdi::verify_facturapi_signature(app_secret, raw_body, hex)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mexican_mobile_wa_id_with_the_old_1_becomes_plus_52() {
        assert_eq!(canonical("5215512345678").as_deref(), Some("+525512345678"));
        assert_eq!(canonical("525512345678").as_deref(), Some("+525512345678"));
        assert_eq!(
            canonical("+52 55 1234 5678").as_deref(),
            Some("+525512345678")
        );
        assert_eq!(canonical("15550783881").as_deref(), Some("+15550783881"));
        assert_eq!(canonical("12"), None);
        assert_eq!(canonical("52abc"), None);
        assert_eq!(to_field("+525512345678"), "525512345678");
    }

    #[test]
    fn a_signature_verifies_only_over_the_same_bytes_and_secret() {
        let body = br#"{"entry":[{"text":"\u00bfTienen balatas?"}]}"#;
        let sig = signature("app-secret", body);
        assert!(sig.starts_with("sha256="));
        assert!(verify("app-secret", body, &sig));
        assert!(!verify("other", body, &sig));
        assert!(!verify("app-secret", b"{}", &sig));
        assert!(!verify(
            "app-secret",
            body,
            sig.trim_start_matches("sha256=")
        ));
    }
}
