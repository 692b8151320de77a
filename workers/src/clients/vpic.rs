//! The NHTSA vPIC client: `GET DecodeVinValues/{VIN}?format=json&modelyear=YYYY`.
//!
//! vPIC needs no key and publishes no rate limit (it throttles automatically), so 429 and 5xx
//! are transient and retried on our schedule; any other 4xx means the request itself is wrong.
//! Every value in its answer is a string, an empty one meaning "NHTSA has no data"; `ErrorCode`
//! is a comma-separated list (`"5,6,14"`), 0 meaning a clean decode (domain.md §2.2).

use std::time::Duration;

use entities::vehicles::vin_decodes::VpicData;
use reqwest::StatusCode;
use serde_json::Value;

use crate::runtime::{JobError, RetryPolicy};

/// The public vPIC API.
pub const DEFAULT_BASE_URL: &str = "https://vpic.nhtsa.dot.gov/api/vehicles/";

/// How long one call may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a decode failed.
#[derive(Debug, thiserror::Error)]
pub enum VpicError {
    /// The HTTP client could not be built (TLS roots, a bad base URL).
    #[error("vPIC client: {0}")]
    Setup(String),
    /// No answer in time, or no connection.
    #[error("vPIC did not answer: {0}")]
    Unreachable(String),
    /// 429: vPIC's traffic control.
    #[error("vPIC is throttling us (429)")]
    RateLimited {
        /// Its `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// A 5xx.
    #[error("vPIC failed with {status}")]
    Server {
        /// The status.
        status: u16,
    },
    /// Another 4xx: the request is wrong and will stay wrong.
    #[error("vPIC refused the request with {status}: {body}")]
    Rejected {
        /// The status.
        status: u16,
        /// The start of its body.
        body: String,
    },
    /// A 200 whose body is not vPIC's envelope (a proxy's page, a truncated answer).
    #[error("vPIC answered something unreadable: {0}")]
    Malformed(String),
}

impl VpicError {
    /// Whether trying again later may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unreachable(_)
                | Self::RateLimited { .. }
                | Self::Server { .. }
                | Self::Malformed(_)
        )
    }

    /// The job error this failure makes: transient ones carry vPIC's `Retry-After`.
    #[must_use]
    pub fn to_job_error(&self) -> JobError {
        if self.is_transient() {
            JobError::Transient {
                reason: self.to_string(),
                retry_after: match self {
                    Self::RateLimited { retry_after } => *retry_after,
                    _ => None,
                },
            }
        } else {
            JobError::permanent(self.to_string())
        }
    }
}

/// A vPIC client; cheap to clone.
#[derive(Debug, Clone)]
pub struct VpicClient {
    http: reqwest::Client,
    base_url: String,
    retry: RetryPolicy,
}

impl VpicClient {
    /// Retries of `vehicles.enrich_vin` by default: vPIC is free and shared, so a few spaced
    /// tries, then the decode is reported unavailable rather than hammering it.
    pub const DEFAULT_RETRY: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        base: Duration::from_secs(5),
        max: Duration::from_secs(120),
    };

    /// A client of the vPIC API at `base_url` (e.g. [`DEFAULT_BASE_URL`]).
    ///
    /// # Errors
    /// [`VpicError::Setup`] when the URL is not http(s) or the client cannot be built.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, VpicError> {
        let base = base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(VpicError::Setup(format!(
                "expected an http(s) URL, got `{base_url}`"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("nexus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| VpicError::Setup(e.to_string()))?;
        Ok(Self {
            http,
            base_url: base.to_owned(),
            retry: Self::DEFAULT_RETRY,
        })
    }

    /// The same client with another retry policy for its jobs.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The retry policy of the jobs that call it.
    #[must_use]
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The base URL, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Decodes a (normalised) VIN, sending the model year when known.
    ///
    /// # Errors
    /// [`VpicError`]; see [`VpicError::is_transient`].
    pub async fn decode(&self, vin: &str, model_year: Option<i32>) -> Result<VpicData, VpicError> {
        let url = format!("{}/DecodeVinValues/{vin}", self.base_url);
        let mut query = vec![("format", "json".to_owned())];
        if let Some(y) = model_year {
            query.push(("modelyear", y.to_string()));
        }
        let resp = self
            .http
            .get(&url)
            .query(&query)
            .send()
            .await
            .map_err(|e| VpicError::Unreachable(e.to_string()))?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(VpicError::RateLimited { retry_after });
        }
        if status.is_server_error() {
            return Err(VpicError::Server {
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            let body = super::read_capped(resp, BODY_CAP).await.unwrap_or_default();
            return Err(VpicError::Rejected {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).chars().take(200).collect(),
            });
        }
        let bytes = super::read_capped(resp, BODY_CAP)
            .await
            .map_err(|e| match e {
                super::BodyError::Transport(e) => VpicError::Malformed(e.to_string()),
                too_large @ super::BodyError::TooLarge { .. } => {
                    VpicError::Malformed(too_large.to_string())
                }
            })?;
        let body: Value =
            serde_json::from_slice(&bytes).map_err(|e| VpicError::Malformed(e.to_string()))?;
        parse_decode(&body)
    }
}

/// The largest answer read from vPIC: one VIN's decode is a few kilobytes.
pub const BODY_CAP: usize = 256 * 1024;

/// Reads `Results[0]` of a `DecodeVinValues` answer.
///
/// # Errors
/// [`VpicError::Malformed`] when the envelope or its first result is missing.
pub fn parse_decode(body: &Value) -> Result<VpicData, VpicError> {
    let result = body
        .get("Results")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(Value::as_object)
        .ok_or_else(|| VpicError::Malformed("no Results[0] object".into()))?;
    let text = |key: &str| -> Option<String> {
        let v = result.get(key)?;
        let s = match v {
            Value::String(s) => s.trim().to_owned(),
            // vPIC sends strings, but a number is read as one rather than lost.
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        // "Not Applicable" is vPIC's way of saying the field has no value for this vehicle.
        (!s.is_empty() && !s.eq_ignore_ascii_case("Not Applicable")).then_some(s)
    };
    let int = |key: &str| text(key).and_then(|s| s.parse::<i32>().ok());
    let error_codes = text("ErrorCode")
        .map(|s| {
            s.split(',')
                .filter_map(|c| c.trim().parse::<u16>().ok())
                .collect()
        })
        .unwrap_or_default();
    Ok(VpicData {
        make: text("Make"),
        manufacturer: text("Manufacturer"),
        model: text("Model"),
        model_year: int("ModelYear"),
        series: text("Series"),
        trim: text("Trim"),
        body_class: text("BodyClass"),
        vehicle_type: text("VehicleType"),
        engine_cylinders: int("EngineCylinders"),
        displacement_l: text("DisplacementL"),
        fuel_type: text("FuelTypePrimary"),
        drive_type: text("DriveType"),
        plant_country: text("PlantCountry"),
        error_codes,
        error_text: text("ErrorText"),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn string_values_are_parsed_and_empty_ones_are_unknown() {
        let body = json!({
            "Count": 1,
            "Message": "Results returned successfully.",
            "SearchCriteria": "VIN:5UXWX7C5*BA",
            "Results": [{
                "Make": "BMW",
                "Model": "X3",
                "ModelYear": "2011",
                "Series": "",
                "Trim": "Not Applicable",
                "EngineCylinders": "6",
                "DisplacementL": "3.0",
                "ErrorCode": "5,6,14",
                "ErrorText": "6 - Incomplete VIN"
            }]
        });
        let d = parse_decode(&body).unwrap();
        assert_eq!(d.make.as_deref(), Some("BMW"));
        assert_eq!(d.model_year, Some(2011));
        assert_eq!(d.series, None);
        assert_eq!(d.trim, None);
        assert_eq!(d.engine_cylinders, Some(6));
        assert_eq!(d.displacement_l.as_deref(), Some("3.0"));
        assert_eq!(d.error_codes, vec![5, 6, 14]);
        assert!(d.is_useful());
    }

    #[test]
    fn an_answer_without_results_is_malformed() {
        assert!(matches!(
            parse_decode(&json!({"Count": 0, "Results": []})),
            Err(VpicError::Malformed(_))
        ));
        assert!(matches!(
            parse_decode(&json!("<html>")),
            Err(VpicError::Malformed(_))
        ));
    }

    #[test]
    fn throttling_and_server_errors_are_transient_and_rejections_permanent() {
        assert!(
            VpicError::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
            .is_transient()
        );
        assert!(VpicError::Server { status: 503 }.is_transient());
        assert!(
            !VpicError::Rejected {
                status: 404,
                body: String::new()
            }
            .is_transient()
        );
        assert_eq!(
            VpicError::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
            .to_job_error(),
            JobError::Transient {
                reason: "vPIC is throttling us (429)".into(),
                retry_after: Some(Duration::from_secs(3))
            }
        );
    }

    #[test]
    fn a_base_url_must_be_http() {
        assert!(VpicClient::new("vpic.nhtsa.dot.gov", DEFAULT_TIMEOUT).is_err());
        let c = VpicClient::new(DEFAULT_BASE_URL, DEFAULT_TIMEOUT).unwrap();
        assert_eq!(c.base_url(), "https://vpic.nhtsa.dot.gov/api/vehicles");
    }
}
