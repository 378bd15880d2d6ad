//! The one error type every handler returns, and the policy for turning it
//! into an answer:
//!
//! | error | status | body |
//! |---|---|---|
//! | `Validation` (bad input) | 400 | `{code, message, field, errors}`: every wrong field, what is wrong with each |
//! | `Unauthorized` (no valid token) | 401 | `{code, message}`, with `WWW-Authenticate: Bearer` |
//! | `NotFound` | 404 | `{code, message}` |
//! | `Forbidden` | 403 | `{code, message}`; never says whether another department's object exists |
//! | `Conflict` | 409 | `{code, message}` |
//! | `Refused` (a login step owed, a CSRF check failed) | 401 or 403 | `{code, message}` with its own code |
//! | `TooMany` (a rate limit) | 429 | `{code: "rate_limited", message, retry_at, retry_after_seconds}`, with `Retry-After` |
//! | `Unavailable` (the database is unreachable, or the service is at a limit) | 503 | `{code, message}`, with `Retry-After` |
//! | `Internal` (anything unexpected) | 500 | an opaque `{code: "internal", message}`; the whole cause chain goes to the log |
//!
//! `code` is stable and machine-readable; `message` is for people, in the
//! request's language (`requests::language`): every message is written in
//! Russian and English where it arises ([`Text`]). Bad input
//! never leaves partial state behind: handlers validate before they write, and
//! every write is one transaction.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::reports::QueryError;
use crate::app::DbError;
use crate::locale::{Locale, Text};
use crate::reports::ValidationError;

#[derive(Debug)]
pub enum ApiError {
    /// Bad input: every field found wrong (at least one).
    Validation(Vec<ValidationError>),
    Unauthorized(Text),
    NotFound(Text),
    Forbidden(Text),
    Conflict(Text),
    /// The address exists, the method does not (405).
    MethodNotAllowed(Text),
    /// Refused with a status and code of its own (401 or 403).
    Refused {
        status: StatusCode,
        code: &'static str,
        message: Text,
    },
    /// A rate limit: try again at `retry_at` (UTC), `retry_after` from now.
    TooMany {
        message: Text,
        retry_at: chrono::NaiveDateTime,
        retry_after: chrono::TimeDelta,
    },
    /// For the log; people are told the service is busy.
    Unavailable(String),
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// `field` is wrong: `message` says how.
    pub fn invalid(field: impl Into<String>, message: Text) -> ApiError {
        ValidationError::new(field, message).into()
    }

    /// `field` is wrong, with a code of its own.
    pub fn invalid_as(field: impl Into<String>, code: &'static str, message: Text) -> ApiError {
        ValidationError::coded(field, code, message).into()
    }

    /// There is no report by this id or number.
    pub fn no_report(key: impl std::fmt::Display) -> ApiError {
        ApiError::NotFound(Text::new(
            format!("нет сообщения {key}"),
            format!("there is no report {key}"),
        ))
    }

    /// A "me too" for a report no longer open.
    pub fn closed_to_joining(id: &str, status: &str) -> ApiError {
        let words = status
            .parse::<crate::reports::ReportStatus>()
            .map_or_else(|_| Text::new(status, status), |s| s.words());
        ApiError::Conflict(Text::new(
            format!(
                "сообщение {id} в статусе «{}»; присоединиться можно только к открытым",
                words.get(crate::locale::Locale::Ru)
            ),
            format!(
                "report {id} is {}; only open reports can be joined",
                words.en()
            ),
        ))
    }

    /// `field` came in bytes that are not UTF-8 text.
    pub fn not_utf8(field: impl Into<String>) -> ApiError {
        ApiError::invalid_as(
            field,
            "not_utf8",
            Text::new("это не текст в UTF-8", "is not UTF-8 text"),
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(errors) => match errors.first() {
                Some(e) if e.code == "invalid_json" => "invalid_json",
                _ => "invalid_field",
            },
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Conflict(_) => "conflict",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Refused { code, .. } => code,
            ApiError::TooMany { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Writes what the server itself got wrong to the log, whole (people
    /// are told only that something went wrong).
    pub fn log(&self) {
        match self {
            ApiError::Internal(_) => log::error!("internal error: {self}"),
            ApiError::Unavailable(_) => log::warn!("unavailable: {self}"),
            _ => {}
        }
    }

    /// What a person is told, in their language.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            ApiError::Validation(errors) => errors
                .iter()
                .map(|e| field_message(e, locale))
                .collect::<Vec<_>>()
                .join("; "),
            ApiError::Unauthorized(m)
            | ApiError::NotFound(m)
            | ApiError::Forbidden(m)
            | ApiError::Conflict(m)
            | ApiError::MethodNotAllowed(m)
            | ApiError::Refused { message: m, .. }
            | ApiError::TooMany { message: m, .. } => m.get(locale).to_string(),
            ApiError::Unavailable(_) => Text::new(
                "сервис занят или его база данных недоступна; попробуйте чуть позже",
                "the service is busy or its database is unreachable; try again shortly",
            )
            .get(locale)
            .to_string(),
            ApiError::Internal(_) => Text::new(
                "у нас что-то пошло не так; мы это записали",
                "something went wrong on our side; it has been logged",
            )
            .get(locale)
            .to_string(),
        }
    }
}

/// A field's error as a person reads it: the field's name in their
/// language, then what is wrong.
pub fn field_message(e: &ValidationError, locale: Locale) -> String {
    // An answer's message names its question already.
    if e.field.starts_with("answers.") || e.field.starts_with("attribute[") {
        return e.message.get(locale).to_string();
    }
    format!(
        "{}: {}",
        field_label(&e.field, locale),
        e.message.get(locale)
    )
}

/// The name a person knows a field by (`reporter.email` is "Email"); the
/// field's own name for those without one.
pub fn field_label(field: &str, locale: Locale) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    let (ru, en) = match last {
        "category" | "service_code" => ("Категория", "Category"),
        "lat" => ("Широта", "Latitude"),
        "lon" | "long" => ("Долгота", "Longitude"),
        "description" => ("Описание", "Description"),
        "address" | "address_string" => ("Адрес", "Address"),
        "email" => ("Эл. почта", "Email"),
        "name" => ("Имя", "Name"),
        "phone" => ("Телефон", "Phone"),
        "password" => ("Пароль", "Password"),
        "current_password" => ("Текущий пароль", "Current password"),
        "locale" | "lang" => ("Язык", "Language"),
        "photos" | "media" => ("Фотографии", "Photos"),
        "note" => ("Комментарий", "Note"),
        "signed_note" => ("Подписанная контрольная точка", "Signed checkpoint"),
        "reason" => ("Причина", "Reason"),
        "answer" => ("Ответ", "Answer"),
        "code" => ("Код", "Code"),
        "token" => ("Ссылка", "Link"),
        "body" => ("Запрос", "Request"),
        "from" => ("С", "From"),
        "to" => ("По", "To"),
        "resume_on" => ("Дата возобновления", "Resume date"),
        "department" | "department_id" => ("Подразделение", "Department"),
        "status" => ("Статус", "Status"),
        "bbox" => ("Область карты", "Map area"),
        "zoom" => ("Масштаб", "Zoom"),
        "page" => ("Страница", "Page"),
        "per_page" => ("Строк на странице", "Rows per page"),
        _ => return field.to_string(),
    };
    match locale {
        Locale::Ru => ru,
        Locale::En => en,
    }
    .to_string()
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Validation(errors) => {
                let each: Vec<String> = errors.iter().map(ToString::to_string).collect();
                f.write_str(&each.join("; "))
            }
            ApiError::Unavailable(m) => f.write_str(m),
            ApiError::Internal(e) => {
                write!(f, "{e}")?;
                let mut source = e.source();
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            said => f.write_str(&said.message(Locale::En)),
        }
    }
}

impl std::error::Error for ApiError {}

/// Every error's body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody<'a> {
    /// Stable and machine-readable, e.g. invalid_field, not_found
    code: &'a str,
    /// For people, in their language: `?lang=`, else the language chosen
    /// on the site, else the account's, else `Accept-Language`, else
    /// Russian
    message: String,
    /// The first offending field, for invalid input
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Every offending field, for invalid input
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError<'a>>,
    /// When a rate-limited request may be made again (UTC)
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    #[serde(serialize_with = "crate::clock::utc_opt")]
    retry_at: Option<chrono::NaiveDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<i64>,
    /// The request's id, as the log has it: quote it when reporting a
    /// problem
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

/// One wrong field.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldError<'a> {
    field: &'a str,
    /// Stable: required, too_long, not_a_number, not_a_date,
    /// not_an_email, out_of_range, invalid_json, invalid
    code: &'a str,
    /// For people, naming the field, in their language
    message: String,
}

/// Seconds a client is asked to wait when the database is away: the pool
/// finds it again within a second or two of its return.
pub const RETRY_UNAVAILABLE_SECS: u64 = 2;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Refused { status, .. } => *status,
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let locale = super::requests::language();
        let message = self.message(locale);
        let errors: Vec<FieldError> = match self {
            ApiError::Validation(errors) => errors
                .iter()
                .map(|e| FieldError {
                    field: &e.field,
                    code: e.code,
                    message: field_message(e, locale),
                })
                .collect(),
            _ => Vec::new(),
        };
        let field = errors.first().map(|e| e.field);
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
            errors,
            retry_at,
            retry_after_seconds,
            request_id: super::requests::current(),
        })
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> ApiError {
        ApiError::Validation(e.into_each())
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
            Refused::Forbidden(m) => ApiError::Forbidden(m),
            Refused::Db(e) => e.into(),
        }
    }
}
