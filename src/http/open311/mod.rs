//! Open311 GeoReport v2 at `/open311/v2/`: discovery, services, service
//! definitions, requests (GET and POST), tokens and mySociety's
//! `servicerequestupdates`, each in JSON and XML by suffix. Lists are
//! top-level arrays; every key is present, an absent value is `null` (empty in
//! XML) except `address`, which is `""` for strict clients; ids are strings,
//! `lat`/`long` numbers. Errors are `[{code, description}]` with 400, 403,
//! 404 (500 for the unexpected).
//!
//! Extensions: `page`/`page_size` (default and maximum 1000), `extensions=true`
//! (attributes, extended attributes with mySociety's extended status, photos
//! and support count, and the `notes` history), `updated_after`/
//! `updated_before`, the bounding box `lat_ne,long_ne,lat_sw,long_sw`, and
//! `lat,long,radius` (metres, default 1000). `jurisdiction_id` is accepted and
//! ignored: one server, one city.

use crate::locale::Text;
use crate::reports::ValidationError;
use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::{NaiveDateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use super::filing;
use super::filters::check_box;
use super::idempotency::{self, Earlier, Idempotency};
use super::{db, ApiError, AppState};
use crate::access::api_key_digest;
use crate::app::catalogue::{self, FilingCategory};
use crate::app::filing::Channel;
use crate::app::reports::{
    self as reading, AttachmentRow, ReportEventRow, ReportFilter, ReportListing,
};
use crate::app::Connection as DbConnection;
use crate::media::Variant;
use crate::open311::{self as spec, Format};
use crate::reports::questions::{Question, UnknownAnswers};
use crate::reports::{
    optional_text, Description, Location, NewReport, ReportStatus, Reporter, ReporterInput,
    MAX_ADDRESS_CHARS,
};

mod queries;
pub use queries::*;
use queries::{requests, updates};

pub const MAX_PAGE_SIZE: i64 = 1000;
/// GeoReport's longest window for `start_date`…`end_date`.
pub const MAX_WINDOW_DAYS: i64 = 90;
pub const DEFAULT_RADIUS_M: f64 = 1000.0;

/// An Open311 error in the format the client asked for.
#[derive(Debug)]
pub struct Open311Error {
    format: Format,
    status: StatusCode,
    description: String,
}

impl Open311Error {
    fn new(format: Format, status: StatusCode, description: impl Into<String>) -> Open311Error {
        Open311Error {
            format,
            status,
            description: description.into(),
        }
    }

    fn bad(format: Format, description: impl Into<String>) -> Open311Error {
        Open311Error::new(format, StatusCode::BAD_REQUEST, description)
    }

    fn from_api(format: Format, e: ApiError) -> Open311Error {
        let status = match &e {
            ApiError::Validation(_) | ApiError::Conflict(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::Forbidden(_) | ApiError::Refused { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) | ApiError::Internal(_) => {
                // The shared policy logs the cause and keeps the body opaque.
                let body = e.error_response();
                return Open311Error::new(
                    format,
                    body.status(),
                    "something went wrong on our side; it has been logged",
                );
            }
        };
        Open311Error::new(format, status, e.to_string())
    }
}

impl std::fmt::Display for Open311Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl ResponseError for Open311Error {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = spec::errors(self.status.as_u16(), &self.description);
        HttpResponse::build(self.status)
            .content_type(self.format.content_type())
            .body(self.format.render("errors", &body))
    }
}

type Answer = Result<HttpResponse, Open311Error>;

fn respond(format: Format, root: &str, value: &Value) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(format.content_type())
        .body(format.render(root, value))
}

/// The format of a resource name, or a 404 (in JSON) for another suffix.
fn split(name: &str) -> Result<(&str, Format), Open311Error> {
    Format::split(name).ok_or_else(|| {
        Open311Error::new(
            Format::Json,
            StatusCode::NOT_FOUND,
            format!("'{name}' is not a resource: add .json or .xml"),
        )
    })
}

type Pairs = web::Query<Vec<(String, String)>>;

/// `GET /open311/v2/{discovery,services,requests,servicerequestupdates}.{fmt}`
pub async fn get_resource(
    state: web::Data<AppState>,
    name: web::Path<String>,
    query: Pairs,
) -> Answer {
    let (resource, format) = split(&name)?;
    match resource {
        "discovery" => Ok(discovery(&state, format)),
        "services" => services(&state, format).await,
        "requests" => requests(&state, format, &query).await,
        "servicerequestupdates" => updates(&state, format, &query).await,
        other => Err(Open311Error::new(
            format,
            StatusCode::NOT_FOUND,
            format!("there is no resource '{other}'"),
        )),
    }
}

fn discovery(state: &AppState, format: Format) -> HttpResponse {
    let changeset = spec::changeset(Utc::now() - TimeDelta::minutes(1));
    let endpoint = |kind: &str| {
        json!({
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{}/open311/v2", state.public_url),
            "changeset": changeset,
            "type": kind,
            "formats": ["text/xml", "application/json"],
        })
    };
    let value = json!({
        "changeset": changeset,
        "contact": state.contact,
        "key_service": format!("API keys for {} are issued by its administrators", state.city_name),
        "endpoints": [endpoint("production"), endpoint("test")],
    });
    // Validators want these exact types, without a charset, for discovery.
    let content_type = match format {
        Format::Json => "application/json",
        Format::Xml => "text/xml",
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .body(format.render("discovery", &value))
}

async fn services(state: &web::Data<AppState>, format: Format) -> Answer {
    let listings = super::public_read(state, |conn| Ok(catalogue::categories(conn)?))
        .await
        .map_err(|e| Open311Error::from_api(format, e))?;
    let services: Vec<Value> = listings
        .iter()
        .map(|l| {
            let c = &l.category;
            json!({
                "service_code": c.code,
                "service_name": c.name_ru,
                "description": c.name_en,
                "metadata": c.attributes.trim() != "[]",
                "type": "realtime",
                "keywords": format!("{}, {}", c.group_code, c.name_en.to_lowercase()),
                "group": c.group_code,
            })
        })
        .collect();
    Ok(respond(format, "services", &Value::Array(services)))
}

/// `GET /open311/v2/services/{code}.{fmt}`: the service definition.
pub async fn service_definition(state: web::Data<AppState>, name: web::Path<String>) -> Answer {
    let (code, format) = split(&name)?;
    let code = code.to_string();
    let (app, key) = (state.clone(), code.clone());
    let category = db(&state, move |conn| service_in(&app, conn, &key))
        .await
        .map_err(|e| Open311Error::from_api(format, e))?
        .ok_or_else(|| no_service(format, "there is no service", &code))?;
    let attributes: Vec<Value> = category.questions.iter().map(attribute).collect();
    Ok(respond(
        format,
        "service_definition",
        &json!({"service_code": code, "attributes": attributes}),
    ))
}

/// A service (category) by code, from the catalog snapshot.
fn service_in(
    state: &AppState,
    conn: &mut DbConnection,
    code: &str,
) -> Result<Option<FilingCategory>, ApiError> {
    Ok(state.catalog_snapshot(conn)?.categories.get(code).cloned())
}

/// The 404 for a service code that names no service.
fn no_service(format: Format, missing: &str, code: &str) -> Open311Error {
    Open311Error::new(format, StatusCode::NOT_FOUND, format!("{missing} '{code}'"))
}

fn attribute(q: &Question) -> Value {
    json!({
        "variable": q.variable,
        "code": q.code,
        "datatype": q.datatype,
        "required": q.required,
        "datatype_description": q.datatype_description,
        "order": q.order,
        "description": q.description,
        "values": q.values.iter().map(|v| json!({"key": v.key, "name": v.name})).collect::<Vec<_>>(),
    })
}

/// `POST /open311/v2/requests.{fmt}` (form-encoded).
pub async fn post_resource(
    state: web::Data<AppState>,
    name: web::Path<String>,
    request: HttpRequest,
    body: web::Bytes,
) -> Answer {
    let (resource, format) = split(&name)?;
    let locale = super::accept_language(&request);
    if resource == "servicerequestupdates" {
        return push_update(state, format, &body).await;
    }
    if resource != "requests" {
        return Err(Open311Error::new(
            format,
            StatusCode::NOT_FOUND,
            format!("there is nothing to POST at '{resource}'"),
        ));
    }
    let pairs = spec::parse_form(&body).map_err(|m| Open311Error::bad(format, m))?;
    let field = |key: &str| spec::form_value(&pairs, key).map(str::to_string);
    let key = field("api_key")
        .ok_or_else(|| Open311Error::new(format, StatusCode::FORBIDDEN, "api_key is required"))?;
    let digest = api_key_digest(&key);
    let idempotency = Idempotency::of(&request, &format!("open311.{format:?}"), &digest, &[&body])
        .map_err(|e| Open311Error::from_api(format, e))?;
    if let Some(key) = &idempotency {
        if let Some(answer) = earlier_answer(&state, key, format).await? {
            return Ok(answer);
        }
    }
    let code = field("service_code");
    // The key, the service and the report are checked on the filing writer,
    // without another trip between threads.
    let admit = move |app: &AppState, conn: &mut DbConnection| {
        if !crate::app::access::open311_key_exists(conn, &digest)? {
            return Err(ApiError::Forbidden(Text::new(
                "api_key недействителен",
                "api_key is not valid",
            )));
        }
        let minute = crate::limits::fixed(app.clock.now(), chrono::TimeDelta::minutes(1));
        let key = format!("open311:{digest}");
        if app
            .open311_posts
            .hit(conn, &key, minute, app.limits.open311_posts_per_minute)?
        {
            return Err(super::throttle::too_many(
                app,
                Text::new(
                    "с этим api_key присылают слишком часто",
                    "this api_key posted too often",
                ),
                minute,
            ));
        }
        let code = code.ok_or_else(|| ApiError::from(ValidationError::required("service_code")))?;
        let category = service_in(app, conn, &code)?.ok_or_else(|| {
            ApiError::NotFound(Text::new(
                format!("service_code: нет услуги «{code}»"),
                format!("service_code: there is no service '{code}'"),
            ))
        })?;
        Ok(new_report(&pairs, &category.routing.code)?.in_language(locale))
    };
    let channel = Channel {
        source: "open311",
        idempotency: idempotency.as_ref().map(Idempotency::record),
        unknown_answers: UnknownAnswers::Ignore,
        answer_field: |code| format!("attribute[{code}]"),
        photo_field: |i| format!("media[{i}]"),
    };
    let filed = match filing::file_with(&state, admit, Vec::new(), channel).await {
        Ok(filed) => filed,
        Err(e) => {
            // The same key filed by a request that committed first.
            if let Some(key) = &idempotency {
                if let Some(answer) = earlier_answer(&state, key, format).await? {
                    return Ok(answer);
                }
            }
            return Err(Open311Error::from_api(format, e));
        }
    };
    let body = filed_body(format, filed.report.number);
    if let Some(key) = &idempotency {
        idempotency::remember(&state, key, StatusCode::OK, &body).await;
    }
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .body(body))
}

/// `POST servicerequestupdates` (mySociety's extension): a back office's
/// update on a request Gorod handed it, with a key of the department's
/// (`back_office`); idempotent by `update_id`. A status its endpoint maps
/// to a move makes it (the workflow may refuse: 400 with the reason, and
/// nothing changed); any other status is recorded and answered as taken.
async fn push_update(state: web::Data<AppState>, format: Format, body: &[u8]) -> Answer {
    let pairs = spec::parse_form(body).map_err(|m| Open311Error::bad(format, m))?;
    let field = |key: &str| {
        spec::form_value(&pairs, key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let key = field("api_key")
        .ok_or_else(|| Open311Error::new(format, StatusCode::FORBIDDEN, "api_key is required"))?;
    let required = |name: &str| {
        field(name).ok_or_else(|| {
            Open311Error::new(
                format,
                StatusCode::BAD_REQUEST,
                format!("{name}: is required"),
            )
        })
    };
    let external = required("service_request_id")?;
    let update = crate::app::back_office::Update {
        update_id: required("update_id")?,
        status: required("status")?.to_lowercase(),
        notes: field("description"),
        source: "push",
        pause: None,
    };
    let media: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| (k == "media_url" || k == "media_url[]") && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let digest = api_key_digest(&key);
    let app = state.services.clone();
    let (seen_update, seen_key) = (update.update_id.clone(), digest.clone());
    // The key first, then the photos (an update taken before needs none),
    // then the move.
    let (department, seen) = db(&state, move |conn| {
        let department =
            crate::app::access::back_office_key(conn, &seen_key)?.ok_or_else(|| {
                ApiError::Forbidden(Text::new(
                    "api_key не ключ службы",
                    "api_key is not a back office's key",
                ))
            })?;
        let scope = format!("department:{department}");
        let seen = crate::app::back_office::update_seen(conn, &scope, &seen_update)?;
        Ok((department, seen))
    })
    .await
    .map_err(|e| Open311Error::from_api(format, e))?;
    let photos = if seen || media.is_empty() {
        Vec::new()
    } else {
        let fetching = app.clone();
        web::block(move || crate::app::back_office::fetch_photos(&fetching, &media))
            .await
            .map_err(|e| Open311Error::from_api(format, ApiError::Internal(Box::new(e))))?
            .map_err(|why| Open311Error::bad(format, format!("media_url: {}", why.en())))?
    };
    let update_id = update.update_id.clone();
    let taken = db(&state, move |conn| {
        crate::app::back_office::push_update(
            &app,
            conn,
            &department,
            &external,
            &update,
            photos,
        )?
        .ok_or_else(|| {
            ApiError::NotFound(Text::new(
                format!("service_request_id: этой службе не передавали «{external}»"),
                format!("service_request_id: no request '{external}' was handed to this back office"),
            ))
        })
    })
    .await
    .map_err(|e| Open311Error::from_api(format, e))?;
    if let crate::app::back_office::Taken::Refused { reason } = taken {
        return Err(Open311Error::new(
            format,
            StatusCode::BAD_REQUEST,
            format!("status: the workflow refused it: {}", reason.en()),
        ));
    }
    let value = json!([{ "update_id": update_id }]);
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .body(format.render("service_request_updates", &value)))
}

/// What a filing POST answers.
fn filed_body(format: Format, number: i64) -> String {
    let value = json!([{
        "service_request_id": number.to_string(),
        "service_notice": Value::Null,
        "account_id": Value::Null,
    }]);
    format.render("service_requests", &value)
}

/// The answer an earlier POST with the same idempotency key got (rebuilt
/// from its report when it was never sent), if there was one.
async fn earlier_answer(
    state: &AppState,
    key: &Idempotency,
    format: Format,
) -> Result<Option<HttpResponse>, Open311Error> {
    let earlier = idempotency::earlier(state, key)
        .await
        .map_err(|e| Open311Error::from_api(format, e))?;
    Ok(match earlier {
        Earlier::None => None,
        Earlier::Answer { status, body } => {
            Some(idempotency::replay(status, body, format.content_type()))
        }
        Earlier::Filed { report_id } => {
            let number = db(state, move |conn| {
                Ok(reading::find(conn, &report_id)?.map(|d| d.report.number))
            })
            .await
            .map_err(|e| Open311Error::from_api(format, e))?;
            number.map(|n| idempotency::replay(200, filed_body(format, n), format.content_type()))
        }
    })
}

/// A report from the form, with field names as Open311 spells them.
fn new_report(pairs: &[(String, String)], code: &str) -> Result<NewReport, ApiError> {
    let field = |key: &str| spec::form_value(pairs, key).map(str::to_string);
    let coordinate = |key: &str| -> Result<f64, ApiError> {
        let text = field(key).ok_or_else(|| {
            ApiError::invalid(
                key,
                Text::new(
                    "обязательное поле: город направляет сообщения по их месту (lat и long)",
                    "is required: this city routes reports by their position (lat and long)",
                ),
            )
        })?;
        text.parse::<f64>()
            .map_err(|_| ApiError::from(ValidationError::not_a_number(key, &text)))
    };
    let location = Location::parse(coordinate("lat")?, coordinate("long")?).map_err(|e| match e
        .field
        .as_str()
    {
        "lon" => ApiError::invalid("long", e.message),
        _ => e.into(),
    })?;
    // Open311 makes the description optional; the service's name stands in.
    let description =
        Description::parse(&field("description").unwrap_or_else(|| code.to_string()))?;
    let address = optional_text("address_string", field("address_string"), MAX_ADDRESS_CHARS)?;
    let name = [field("first_name"), field("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let reporter = match field("email") {
        Some(email) => Some(Reporter::parse(
            ReporterInput {
                email: Some(email),
                name: Some(name).filter(|n| !n.is_empty()),
                phone: field("phone"),
                show_name: false,
                locale: None,
            },
            "",
        )?),
        None => None,
    };
    Ok(NewReport {
        category_code: code.to_string(),
        location,
        description,
        address,
        raw_answers: {
            let mut answers = spec::form_attributes(pairs);
            answers.remove(OBJECT_ATTRIBUTE);
            answers
        },
        reporter,
        // The city object, as the asset attribute FixMyStreet sends.
        object: field(&format!("attribute[{OBJECT_ATTRIBUTE}]")),
        media_urls: media_urls(pairs)?,
    })
}

/// The photos a request names by address (`media_url`, repeated for
/// several): http(s) addresses, kept as links.
fn media_urls(pairs: &[(String, String)]) -> Result<Vec<String>, ApiError> {
    let urls: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| (k == "media_url" || k == "media_url[]") && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    if urls.len() > MAX_MEDIA_URLS {
        return Err(ApiError::invalid(
            "media_url",
            Text::new(
                format!("не больше {MAX_MEDIA_URLS} адресов фотографий"),
                format!("at most {MAX_MEDIA_URLS} photo addresses"),
            ),
        ));
    }
    if let Some(bad) = urls.iter().find(|u| {
        !(u.starts_with("https://") || u.starts_with("http://")) || u.chars().count() > 1000
    }) {
        return Err(ApiError::invalid(
            "media_url",
            Text::new(
                format!("«{bad}» — не адрес http(s)"),
                format!("'{bad}' is not an http(s) address"),
            ),
        ));
    }
    Ok(urls)
}

/// The most photo addresses one request may name.
const MAX_MEDIA_URLS: usize = 10;

/// The attribute that names a city object (its id from `/api/v1/objects`).
pub const OBJECT_ATTRIBUTE: &str = "object_id";

/// Anything else under `/open311/v2/`.
pub async fn not_found() -> Answer {
    Err(Open311Error::new(
        Format::Json,
        StatusCode::NOT_FOUND,
        "there is nothing at this address",
    ))
}
