//! The domain error type: no HTTP here, the API maps each variant to a status and a stable code.

use sea_orm::{DbErr, SqlErr};

/// Result of a domain operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in a domain operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The row does not exist, or exists in another tenant (the two are never told apart).
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for, e.g. `branch`.
        entity: &'static str,
    },
    /// A request names something that does not exist (a catalog part id, a maker's name, a
    /// set-up link): the request is well formed, what it points at is missing.
    #[error("{field}: {message}")]
    Missing {
        /// The request field that names it.
        field: String,
        /// Stable snake_case code, e.g. `catalog_part_not_found`.
        code: &'static str,
        /// What is missing, for a person.
        message: String,
    },
    /// Input broke a rule; `field` names the offending field.
    #[error("{field}: {message}")]
    Validation {
        /// The request field at fault.
        field: String,
        /// What is wrong with it, for a person.
        message: String,
    },
    /// The operation contradicts current state (a duplicate code, a branch that still has
    /// warehouses…); `code` is stable and machine-readable.
    #[error("{message}")]
    Conflict {
        /// Stable snake_case code, e.g. `slug_taken`.
        code: &'static str,
        /// What happened, for a person.
        message: String,
    },
    /// The caller's role does not allow this (a discount beyond the role's limit…).
    #[error("{message}")]
    Forbidden {
        /// Stable snake_case code, e.g. `discount_not_allowed`.
        code: &'static str,
        /// What happened, for a person.
        message: String,
    },
    /// A database error nobody expected.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// Something internal failed (a hashing task panicked, a pool could not be opened…).
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for a validation error.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Shorthand for a reference to something that does not exist.
    pub fn missing(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::Missing {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    /// Shorthand for a conflict.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
}

/// Turns a unique-constraint violation into a [`Error::Conflict`] with a stable code.
pub trait OnUnique<T> {
    /// Maps a unique violation to `Conflict { code, message }`, any other error to [`Error::Db`].
    ///
    /// # Errors
    /// Always the mapped error when `self` is an error.
    fn on_unique(self, code: &'static str, message: &str) -> Result<T>;
}

impl<T> OnUnique<T> for std::result::Result<T, DbErr> {
    fn on_unique(self, code: &'static str, message: &str) -> Result<T> {
        self.map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::conflict(code, message),
            _ => Error::Db(e),
        })
    }
}
