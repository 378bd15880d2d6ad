//! The one error type every handler returns, and the policy for turning it
//! into an answer:
//!
//! | error | status | body |
//! |---|---|---|
//! | `Validation` (bad input) | 400 | `{code, message, field}`: which field, what is wrong |
//! | `Unauthorized` (no valid token) | 401 | `{code, message}`, with `WWW-Authenticate: Bearer` |
//! | `NotFound` | 404 | `{code, message}` |
//! | `Forbidden` | 403 | `{code, message}`; never says whether another department's object exists |
//! | `Conflict` | 409 | `{code, message}` |
//! | `Refused` (a login step owed, a CSRF check failed) | 401 or 403 | `{code, message}` with its own code |
//! | `TooMany` (a rate limit) | 429 | `{code: "rate_limited", message, retry_at, retry_after_seconds}`, with `Retry-After` |
//! | `Unavailable` (the database is unreachable, or the service is at a limit) | 503 | `{code, message}`, with `Retry-After` |
//! | `Internal` (anything unexpected) | 500 | an opaque `{code: "internal", message}`; the whole cause chain goes to the log |
//!
//! `code` is stable and machine-readable; `message` is for people. Bad input
//! never leaves partial state behind: handlers validate before they write, and
//! every write is one transaction.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::reports::QueryError;
use crate::app::DbError;
use crate::reports::ValidationError;

#[derive(Debug)]
pub enum ApiError {
    Validation {
        code: &'static str,
        field: String,
        message: String,
    },
    Unauthorized(String),
    NotFound(String),
    Forbidden(String),
    Conflict(String),
    /// Refused with a status and code of its own (401 or 403).
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// A rate limit: try again at `retry_at` (UTC), `retry_after` from now.
    TooMany {
        message: String,
        retry_at: chrono::NaiveDateTime,
        retry_after: chrono::TimeDelta,
    },
    Unavailable(String),
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation {
            code: "invalid_field",
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Conflict(_) => "conflict",
            ApiError::Refused { code, .. } => code,
            ApiError::TooMany { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Validation { field, message, .. } => write!(f, "{field}: {message}"),
            ApiError::Unauthorized(m)
            | ApiError::NotFound(m)
            | ApiError::Forbidden(m)
            | ApiError::Conflict(m)
            | ApiError::Unavailable(m)
            | ApiError::Refused { message: m, .. }
            | ApiError::TooMany { message: m, .. } => f.write_str(m),
            ApiError::Internal(e) => {
                write!(f, "{e}")?;
                let mut source = e.source();
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ApiError {}

/// Every error's body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// Stable and machine-readable, e.g. invalid_field, not_found
    code: &'a str,
    /// For people
    message: String,
    /// The offending field, for invalid input
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// When a rate-limited request may be made again (UTC)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    retry_at: Option<chrono::NaiveDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<i64>,
    /// The request's id, as the log has it: quote it when reporting a
    /// problem
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

/// Seconds a client is asked to wait when the database is away: the pool
/// finds it again within a second or two of its return.
pub const RETRY_UNAVAILABLE_SECS: u64 = 2;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Refused { status, .. } => *status,
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (message, field) = match self {
            ApiError::Validation { field, message, .. } => (message.clone(), Some(field.as_str())),
            ApiError::Internal(_) => {
                log::error!("internal error: {self}");
                (
                    "something went wrong on our side; it has been logged".to_string(),
                    None,
                )
            }
            ApiError::Unavailable(_) => {
                log::warn!("unavailable: {self}");
                (
                    "the service is busy or its database is unreachable; try again shortly"
                        .to_string(),
                    None,
                )
            }
            other => (other.to_string(), None),
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((actix_web::http::header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    RETRY_UNAVAILABLE_SECS.to_string(),
                ));
            }
            _ => {}
        }
        let (retry_at, retry_after_seconds) = match self {
            ApiError::TooMany {
                retry_at,
                retry_after,
                ..
            } => {
                // Whole seconds, rounded up: retrying sooner is refused.
                let seconds = (retry_after.num_milliseconds().max(0) + 999) / 1000;
                response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
                (Some(*retry_at), Some(seconds))
            }
            _ => (None, None),
        };
        response.json(ErrorBody {
            code: self.code(),
            message,
            field,
            retry_at,
            retry_after_seconds,
            request_id: super::requests::current(),
        })
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> ApiError {
        ApiError::invalid(e.field, e.message)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Pool(_) | DbError::Connect { .. } | DbError::Unavailable(_) => {
                ApiError::Unavailable(e.to_string())
            }
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        match e {
            QueryError::Invalid(e) => e.into(),
            QueryError::Db(e) => e.into(),
        }
    }
}

impl From<crate::app::Refused> for ApiError {
    fn from(e: crate::app::Refused) -> ApiError {
        use crate::app::Refused;
        match e {
            Refused::Invalid(e) => e.into(),
            Refused::NotFound(m) => ApiError::NotFound(m),
            Refused::Conflict(m) => ApiError::Conflict(m),
            Refused::Db(e) => e.into(),
        }
    }
}
