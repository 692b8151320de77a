//! A fake of NHTSA vPIC's `DecodeVinValues` (domain.md §2.2 and §10.2): the
//! `Count/Message/SearchCriteria/Results` envelope, every value a string (empty when unknown),
//! `ErrorCode` as a comma-separated list; a full decode for the fixtures, a partial one for a
//! Mexico-only VIN, "not registered" for any other VIN; switchable 500 and 429 modes; every call
//! recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A VIN vPIC decodes fully: a 2003 Honda Accord (the check-digit example of domain.md).
pub const HONDA_ACCORD: &str = "1HGCM82633A004352";
/// A VIN vPIC decodes fully: a 2019 Nissan Versa from Aguascalientes.
pub const NISSAN_VERSA: &str = "3N1CN7AD3KL812345";
/// A Mexico-only Volkswagen: vPIC knows the maker, not the model.
pub const MEXICO_ONLY: &str = "3VWAB1CXXLM012345";
/// A VIN whose maker vPIC does not know: every field empty, error code 7.
pub const UNKNOWN_TO_VPIC: &str = "3BZAB12C4L0123456";

/// How the fake answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As vPIC does.
    Normal,
    /// 500 with an HTML page, as an overloaded IIS does.
    ServerError,
    /// 429 with `Retry-After: 1`.
    Throttled,
}

/// One call received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The VIN in the path.
    pub vin: String,
    /// The query parameters.
    pub query: HashMap<String, String>,
}

#[derive(Debug)]
struct Inner {
    mode: Mode,
    calls: Vec<Call>,
}

/// The running fake; stops when dropped.
#[derive(Debug)]
pub struct VpicFake {
    /// The base URL to configure as `NEXUS_VPIC_URL` (ends in `/api/vehicles/`, as vPIC's).
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Every key of `Results[0]` Nexus reads, and a few it does not, all strings.
const KEYS: [&str; 31] = [
    "Make",
    "MakeID",
    "Manufacturer",
    "Model",
    "ModelID",
    "ModelYear",
    "Series",
    "Trim",
    "BodyClass",
    "VehicleType",
    "Doors",
    "DriveType",
    "EngineCylinders",
    "DisplacementL",
    "DisplacementCC",
    "EngineHP",
    "EngineModel",
    "FuelTypePrimary",
    "TransmissionStyle",
    "TransmissionSpeeds",
    "GVWR",
    "PlantCity",
    "PlantCountry",
    "PlantState",
    "ErrorCode",
    "ErrorText",
    "AdditionalErrorText",
    "SuggestedVIN",
    "PossibleValues",
    "VIN",
    "VehicleDescriptor",
];

fn fixture(vin: &str) -> Vec<(&'static str, &'static str)> {
    match vin {
        HONDA_ACCORD => vec![
            ("Make", "HONDA"),
            ("MakeID", "474"),
            ("Manufacturer", "AMERICAN HONDA MOTOR CO., INC."),
            ("Model", "Accord"),
            ("ModelYear", "2003"),
            ("Series", "EX-V6"),
            ("BodyClass", "Coupe"),
            ("VehicleType", "PASSENGER CAR"),
            ("Doors", "2"),
            ("EngineCylinders", "6"),
            ("DisplacementL", "3.0"),
            ("FuelTypePrimary", "Gasoline"),
            ("DriveType", "FWD/Front-Wheel Drive"),
            ("PlantCountry", "UNITED STATES (USA)"),
            ("ErrorCode", "0"),
            (
                "ErrorText",
                "0 - VIN decoded clean. Check Digit (9th position) is correct",
            ),
        ],
        NISSAN_VERSA => vec![
            ("Make", "NISSAN"),
            ("Manufacturer", "NISSAN MEXICANA, S.A. DE C.V."),
            ("Model", "Versa"),
            ("ModelYear", "2019"),
            ("Trim", "S"),
            ("BodyClass", "Sedan/Saloon"),
            ("VehicleType", "PASSENGER CAR"),
            ("EngineCylinders", "4"),
            ("DisplacementL", "1.6"),
            ("FuelTypePrimary", "Gasoline"),
            ("PlantCity", "AGUASCALIENTES"),
            ("PlantCountry", "MEXICO"),
            ("ErrorCode", "0"),
            (
                "ErrorText",
                "0 - VIN decoded clean. Check Digit (9th position) is correct",
            ),
        ],
        MEXICO_ONLY => vec![
            ("Make", "VOLKSWAGEN"),
            ("Manufacturer", "VOLKSWAGEN DE MEXICO SA DE CV"),
            ("ModelYear", "2020"),
            ("PlantCountry", "MEXICO"),
            ("ErrorCode", "8,14"),
            (
                "ErrorText",
                "8 - No detailed data available currently; 14 - Unable to provide all \
                 information for this VIN",
            ),
        ],
        _ => vec![
            ("ErrorCode", "7"),
            (
                "ErrorText",
                "7 - Manufacturer is not registered with NHTSA for sale or importation in the \
                 U.S. for use on U.S roads; Please contact the manufacturer directly for more \
                 information",
            ),
        ],
    }
}

async fn decode(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(vin): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mode = {
        let mut g = inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.calls.push(Call {
            vin: vin.clone(),
            query: query.clone(),
        });
        g.mode
    };
    match mode {
        Mode::ServerError => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<html><body>Server Error</body></html>",
            )
                .into_response();
        }
        Mode::Throttled => {
            let mut h = HeaderMap::new();
            h.insert("retry-after", HeaderValue::from_static("1"));
            return (StatusCode::TOO_MANY_REQUESTS, h, "Too Many Requests").into_response();
        }
        Mode::Normal => {}
    }
    if query.get("format").map(String::as_str) != Some("json") {
        // vPIC answers XML without format=json; Nexus must always ask for JSON.
        return (StatusCode::BAD_REQUEST, "format=json expected by the fake").into_response();
    }
    let mut result: serde_json::Map<String, Value> =
        KEYS.iter().map(|k| ((*k).to_owned(), json!(""))).collect();
    for (k, v) in fixture(&vin.to_uppercase()) {
        result.insert(k.to_owned(), json!(v));
    }
    result.insert("VIN".into(), json!(vin));
    if let Some(y) = query.get("modelyear")
        && result.get("ModelYear") == Some(&json!(""))
    {
        result.insert("ModelYear".into(), json!(y));
    }
    Json(json!({
        "Count": 1,
        "Message": "Results returned successfully. NOTE: Any missing decoded values should be \
                    interpreted as NHTSA does not have data on the specific variable. Missing \
                    value should NOT be interpreted as an indication that a feature or \
                    technology is unavailable for a vehicle.",
        "SearchCriteria": format!("VIN:{vin}"),
        "Results": [result],
    }))
    .into_response()
}

impl VpicFake {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            mode: Mode::Normal,
            calls: Vec::new(),
        }));
        let router = axum::Router::new()
            .route(
                "/api/vehicles/DecodeVinValues/{vin}",
                axum::routing::get(decode),
            )
            .with_state(inner.clone());
        let (base, stop) = super::serve_on_loopback(router, "vPIC fake").await;
        Self {
            url: format!("{base}/api/vehicles/"),
            inner,
            _stop: stop,
        }
    }

    /// Changes how the fake answers from the next call on.
    pub fn set_mode(&self, mode: Mode) {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .mode = mode;
    }

    /// Every call received so far.
    #[must_use]
    pub fn calls(&self) -> Vec<Call> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .calls
            .clone()
    }
}
