//! Extractors whose rejections speak the error envelope.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON body: 400 for unreadable JSON, 422 for JSON of the wrong shape (unknown or missing
/// fields, wrong types) or text with a control character other than a newline or a tab
/// (`control_character`, naming the field), 413 past the body limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut raw = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        refuse_control_characters(&raw)?;
        integral_numbers(&mut raw);
        serde_json::from_value(raw)
            .map(Self)
            .map_err(|e| ApiError::Unprocessable {
                code: "invalid_body",
                message: e.to_string(),
                field: None,
            })
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
    serde_json::from_value(raw.clone()).map_err(|e| ApiError::Unprocessable {
        code: "invalid_body",
        message: e.to_string(),
        field: None,
    })
}

/// Query string: 400 `invalid_query` when it does not parse.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest {
                code: "invalid_query",
                message: e.body_text(),
            })
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
