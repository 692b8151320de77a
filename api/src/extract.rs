//! Extractors whose rejections speak the error envelope.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON body: 400 for unreadable JSON, 422 `invalid_body` naming the field for JSON of the wrong
/// shape (unknown or missing fields, wrong types) or `control_character` for text with a control
/// character other than a newline or a tab, 413 past the body limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        value_as(raw).map(Self)
    }
}

/// A JSON value read as `T` by the rules of [`AppJson`]: control characters refused, integral
/// numbers taken as integers, the field that does not fit named. For a handler that reads its
/// body itself (an optional body).
///
/// # Errors
/// [`ApiError::Unprocessable`].
pub fn value_as<T: DeserializeOwned>(mut raw: serde_json::Value) -> Result<T, ApiError> {
    refuse_control_characters(&raw)?;
    integral_numbers(&mut raw);
    from_json(raw)
}

/// An optional JSON body read as `T`: an empty (or blank) body is `T::default()`, anything else
/// is read by the rules of [`AppJson`]. For actions whose body only adds a note or a detail.
///
/// # Errors
/// 400 `malformed_json`; [`ApiError::Unprocessable`].
pub fn optional_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let raw: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest {
            code: "malformed_json",
            message: e.to_string(),
        })?;
    value_as(raw)
}

/// `raw` read as `T`, or 422 `invalid_body` naming the field that does not fit. Every body of
/// the API is a JSON object: an array is refused even where serde would read one as a struct of
/// optional fields in order.
fn from_json<T: DeserializeOwned>(raw: serde_json::Value) -> Result<T, ApiError> {
    if !raw.is_object() {
        return Err(ApiError::invalid("body", "the body is a JSON object"));
    }
    serde_path_to_error::deserialize(raw).map_err(|e| unfit("invalid_body", &e))
}

/// The 422 of input that does not fit its type: the field is the path serde stopped at (an
/// unknown field's own name), or below it the field a "missing field" message names, so a form
/// can mark it.
fn unfit<E: std::fmt::Display>(code: &'static str, e: &serde_path_to_error::Error<E>) -> ApiError {
    let inner = e.inner().to_string();
    let mut field = match e.path().to_string() {
        p if p == "." => String::new(),
        p => p,
    };
    // The path of a missing field stops at its parent; an unknown one's ends at it already.
    let named = inner
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    if let Some(name) = named {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(name);
    }
    let message = if field.is_empty() {
        inner
    } else {
        format!("{field}: {inner}")
    };
    ApiError::Unprocessable {
        code,
        message,
        field: (!field.is_empty()).then_some(field),
    }
}

/// Writes every number with a zero fraction (`660.0`) as the integer it is. JSON has one number
/// type and JSON Schema counts `660.0` as an integer, so a client (or a generator reading the
/// API document) may send it for a quantity; serde would refuse it as a float.
fn integral_numbers(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                // Below 2^53 every integral f64 is exact, so the cast keeps the value.
                #[expect(clippy::cast_possible_truncation, reason = "integral and below 2^53")]
                let i = f as i64;
                *n = serde_json::Number::from(i);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// Refuses text that carries a control character other than a newline, carriage return or tab
/// anywhere in a body: a NUL or an escape sequence would reach tickets, printers, CFDIs and
/// messages raw. The field is named as `lines[2].name`.
///
/// # Errors
/// [`ApiError::Unprocessable`] `control_character`.
pub fn refuse_control_characters(v: &serde_json::Value) -> Result<(), ApiError> {
    fn walk(v: &serde_json::Value, path: &mut String) -> Result<(), ApiError> {
        match v {
            serde_json::Value::String(s) => {
                if s.chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
                {
                    return Err(ApiError::Unprocessable {
                        code: "control_character",
                        message: format!(
                            "{path}: text may not contain control characters other than a newline \
                             or a tab"
                        ),
                        field: Some(path.clone()),
                    });
                }
                Ok(())
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    walk(item, path)?;
                    path.truncate(len);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(v, &mut String::new())
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => ApiError::Unprocessable {
            code: "invalid_body",
            message: e.body_text(),
            field: None,
        },
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
            code: "malformed_json",
            message: e.body_text(),
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest {
            code: "json_content_type_required",
            message: "send the body as JSON with `content-type: application/json`".into(),
        },
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge {
                message: "request body is larger than the limit".into(),
            }
        }
        other => ApiError::BadRequest {
            code: "unreadable_body",
            message: other.body_text(),
        },
    }
}

/// Reads a JSON body kept raw (for the idempotency hash) as `T`: 422 `invalid_body` when it does
/// not fit and `control_character` for such text, as [`AppJson`] answers. `raw` is what
/// `AppJson<serde_json::Value>` read, so its integral numbers are integers already.
///
/// # Errors
/// [`ApiError::Unprocessable`].
pub fn body_as<T: DeserializeOwned>(raw: &serde_json::Value) -> Result<T, ApiError> {
    refuse_control_characters(raw)?;
    from_json(raw.clone())
}

/// Query string: 422 `invalid_query` naming the parameter that is missing, unknown or of the
/// wrong type, as a body field of the wrong type is answered, so a client has one rule for input
/// that does not fit.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Self)
            .map_err(|e| unfit("invalid_query", &e))
    }
}

/// Path parameters: 400 `invalid_path` when one does not parse (a malformed id).
#[derive(Debug, Clone, Copy, Default)]
pub struct AppPath<T>(pub T);

impl<T, S> FromRequestParts<S> for AppPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| ApiError::BadRequest {
                code: "invalid_path",
                message: e.body_text(),
            })
    }
}

/// Decimals of a request, written as strings (`"199.00"`) by the one rule of
/// `entities::rules::money::decimal`: a JSON number is refused, since the document says string
/// and a float would round. `#[serde(with = "crate::extract::decimal_text")]`.
pub mod decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    /// Reads a decimal string.
    ///
    /// # Errors
    /// Anything but a plain decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let s = String::deserialize(d)?;
        entities::rules::money::decimal("", &s).map_err(|e| match e {
            entities::Error::Validation { message, .. } => D::Error::custom(message),
            other => D::Error::custom(other),
        })
    }

    /// Writes it back as a string.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }
}

/// [`decimal_text`] for an optional field: `null` (or absent, with `#[serde(default)]`) is none.
pub mod decimal_text_option {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Reads `null` or a decimal string.
    ///
    /// # Errors
    /// Anything else.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct Text(#[serde(with = "super::decimal_text")] Decimal);
        Ok(Option::<Text>::deserialize(d)?.map(|t| t.0))
    }

    /// Writes it back as a string or `null`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.serialize_some(&d.to_string()),
            None => s.serialize_none(),
        }
    }
}

/// [`double_option`] for a decimal: absent, `null` (clear) or a decimal string.
///
/// # Errors
/// Anything else.
pub fn double_option_decimal<'de, D>(
    d: D,
) -> Result<Option<Option<rust_decimal::Decimal>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    decimal_text_option::deserialize(d).map(Some)
}

/// Deserialises a field that may be absent (leave as is), `null` (clear) or a value (set).
///
/// # Errors
/// The inner deserialiser's.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

/// A view as the JSON an idempotent write stores and answers.
///
/// # Errors
/// [`ApiError::Internal`] when the view does not serialise (a bug).
pub fn to_value<T: serde::Serialize>(view: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(view).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A struct field that must be a JSON object: serde's derive also reads a struct from an array
/// of its fields in order, which the API document does not allow (`[null, null]` for
/// `{"a": null, "b": null}`).
///
/// # Errors
/// When the value is not an object or does not fit `T`.
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::Deserialize;
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    serde_json::from_value(serde_json::Value::Object(map)).map_err(serde::de::Error::custom)
}

/// [`object`] for an optional field (with `#[serde(default)]`): absent or `null` is `None`.
///
/// # Errors
/// When the value is neither `null` nor an object that fits `T`.
pub fn optional_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    use serde::Deserialize;
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)? {
        None => Ok(None),
        Some(map) => serde_json::from_value(serde_json::Value::Object(map))
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}
