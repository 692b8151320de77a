//! The one error shape of the API: `{"error": {"code", "message", "request_id"}}`.
//!
//! Codes are stable snake_case strings clients may branch on. Internals of a 5xx are logged with
//! the request id and never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id;

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be read (malformed JSON, bad query string).
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// 401: no valid credentials.
    #[error("{message}")]
    Unauthenticated {
        /// Stable code.
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// 403: authenticated, but not allowed.
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// 404: no such resource for this principal.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 404 with a code of its own and advice, for look-ups whose miss the client acts on
    /// (`plate_not_found`: ask for the VIN).
    #[error("{message}")]
    NotFoundWith {
        /// Stable code.
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// 404 for a request field naming something that does not exist; the body names the field.
    #[error("{message}")]
    MissingRef {
        /// Stable code.
        code: &'static str,
        /// For a person.
        message: String,
        /// The field.
        field: String,
    },
    /// 409: the request contradicts current state.
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// For a person.
        message: String,
    },
    /// 413: the body, or a document in it (an import's CSV), is larger than its limit.
    #[error("{message}")]
    PayloadTooLarge {
        /// For a person: which limit.
        message: String,
    },
    /// 422: the request was read but a field is invalid.
    #[error("{message}")]
    Unprocessable {
        /// Stable code.
        code: &'static str,
        /// For a person.
        message: String,
        /// The offending field, when there is one.
        field: Option<String>,
    },
    /// 429: too many attempts; retry after this many seconds.
    #[error("too many attempts, retry in {retry_after} s")]
    TooManyRequests {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// 503: a dependency is not answering.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an infrastructure failure; the detail is logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 401 with a code.
    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthenticated {
            code,
            message: message.into(),
        }
    }

    /// A 403 with a code.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// A 422 naming a field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Unprocessable {
            code: "validation_failed",
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// The status and stable code of this error.
    #[must_use]
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::Unauthenticated { code, .. } => (StatusCode::UNAUTHORIZED, code),
            Self::Forbidden { code, .. } => (StatusCode::FORBIDDEN, code),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::NotFoundWith { code, .. } | Self::MissingRef { code, .. } => {
                (StatusCode::NOT_FOUND, code)
            }
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            Self::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Unprocessable { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::from(entities::Error::from(e))
    }
}

impl From<jobs::outbox::OutboxError> for ApiError {
    fn from(e: jobs::outbox::OutboxError) -> Self {
        Self::Internal(format!("outbox: {e}"))
    }
}

impl From<jobs::follow_up::FollowUpError> for ApiError {
    fn from(e: jobs::follow_up::FollowUpError) -> Self {
        match e {
            jobs::follow_up::FollowUpError::Db(e) => Self::from(e),
            jobs::follow_up::FollowUpError::Outbox(e) => Self::from(e),
        }
    }
}

impl From<entities::Error> for ApiError {
    fn from(e: entities::Error) -> Self {
        use entities::Error as E;
        match e {
            E::NotFound { entity } => Self::NotFound(entity),
            E::Validation { field, message } => Self::Unprocessable {
                code: "validation_failed",
                message: format!("{field}: {message}"),
                field: Some(field),
            },
            E::Missing {
                field,
                code,
                message,
            } => Self::MissingRef {
                code,
                message: format!("{field}: {message}"),
                field,
            },
            E::Conflict { code, message } => Self::Conflict { code, message },
            E::Forbidden { code, message } => Self::Forbidden { code, message },
            E::Db(e) => Self::Internal(e.to_string()),
            E::Internal(e) => Self::Internal(e),
        }
    }
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `insufficient_stock`.
    pub code: String,
    /// For a person.
    pub message: String,
    /// The request id, also in the `x-request-id` header.
    pub request_id: String,
    /// The offending field of a 422, or of a 404 for a reference to something missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let request_id = request_id::current().unwrap_or_default();
        let message = match &self {
            Self::Internal(detail) => {
                tracing::error!(request_id = %request_id, "internal error: {detail}");
                "an internal error occurred; quote the request id when reporting it".to_owned()
            }
            other => other.to_string(),
        };
        let field = match &self {
            Self::Unprocessable { field, .. } => field.clone(),
            Self::MissingRef { field, .. } => Some(field.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message,
                request_id,
                field,
            },
        };
        let mut resp = (status, Json(body)).into_response();
        if let Self::TooManyRequests { retry_after } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
