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
use crate::app::filing::Channel;
use crate::db::catalog::FilingCategory;
use crate::db::reports::{self as report_db, ReportFilter, ReportListing};
use crate::db::rows::{AttachmentRow, ReportEventRow};
use crate::db::{access as access_db, catalog, DbConnection};
use crate::media::Variant;
use crate::open311::{self as spec, Format};
use crate::reports::questions::{Question, UnknownAnswers};
use crate::reports::{
    optional_text, Description, Location, NewReport, ReportStatus, Reporter, ReporterInput,
    MAX_ADDRESS_CHARS,
};

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
            ApiError::Validation { .. } | ApiError::Conflict(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::Forbidden(_) | ApiError::Refused { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
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
    let listings = super::public_read(state, |conn| Ok(catalog::list_categories(conn)?))
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
        if !access_db::open311_key_exists(conn, &digest)? {
            return Err(ApiError::Forbidden("api_key is not valid".into()));
        }
        let minute = crate::limits::fixed(app.clock.now(), chrono::TimeDelta::minutes(1));
        let key = format!("open311:{digest}");
        if app
            .open311_posts
            .hit(conn, &key, minute, app.limits.open311_posts_per_minute)?
        {
            return Err(super::throttle::too_many(
                app,
                "this api_key posted too often",
                minute,
            ));
        }
        let code = code.ok_or_else(|| ApiError::invalid("service_code", "is required"))?;
        let category = service_in(app, conn, &code)?.ok_or_else(|| {
            ApiError::NotFound(format!("service_code: there is no service '{code}'"))
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
                Ok(crate::db::reports::find(conn, &report_id)?.map(|d| d.report.number))
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
                "is required: this city routes reports by their position (lat and long)",
            )
        })?;
        text.parse::<f64>()
            .map_err(|_| ApiError::invalid(key, format!("'{text}' is not a number")))
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
                email,
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
        raw_answers: spec::form_attributes(pairs),
        reporter,
    })
}

/// `GET /open311/v2/requests/{id}.{fmt}`
pub async fn request(state: web::Data<AppState>, name: web::Path<String>, query: Pairs) -> Answer {
    let (id, format) = split(&name)?;
    let missing = || {
        Open311Error::new(
            format,
            StatusCode::NOT_FOUND,
            format!("there is no service request '{id}'"),
        )
    };
    let number: i64 = id.parse().map_err(|_| missing())?;
    let extensions = flag(&query, "extensions");
    let filter = ReportFilter {
        numbers: vec![number],
        ..ReportFilter::default()
    };
    let page = load_requests(&state, format, filter, 1, 1, extensions).await?;
    if page.is_empty() {
        return Err(missing());
    }
    Ok(respond(format, "service_requests", &Value::Array(page)))
}

/// `GET /open311/v2/tokens/{token}.{fmt}`: a token is the report's id.
pub async fn token(state: web::Data<AppState>, name: web::Path<String>) -> Answer {
    let (token, format) = split(&name)?;
    let missing = || {
        Open311Error::new(
            format,
            StatusCode::NOT_FOUND,
            format!("there is no token '{token}'"),
        )
    };
    let id = uuid::Uuid::parse_str(token)
        .map_err(|_| missing())?
        .to_string();
    let key = id.clone();
    let found = super::public_read(&state, move |conn| Ok(report_db::find(conn, &key)?))
        .await
        .map_err(|e| Open311Error::from_api(format, e))?
        .ok_or_else(missing)?;
    let value = json!([{"service_request_id": found.report.number.to_string(), "token": id}]);
    Ok(respond(format, "service_requests", &value))
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    spec::form_value(query, key)
}

fn flag(query: &[(String, String)], key: &str) -> bool {
    param(query, key).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn datetime(
    format: Format,
    query: &[(String, String)],
    key: &str,
) -> Result<Option<NaiveDateTime>, Open311Error> {
    param(query, key)
        .map(|text| spec::parse_query_datetime(key, text).map_err(|m| Open311Error::bad(format, m)))
        .transpose()
}

fn number(
    format: Format,
    query: &[(String, String)],
    key: &str,
) -> Result<Option<f64>, Open311Error> {
    param(query, key)
        .map(|text| {
            text.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    Open311Error::bad(format, format!("{key}: '{text}' is not a number"))
                })
        })
        .transpose()
}

/// A window of at most 90 days; either end defaults to 90 days from the other,
/// both to the last 90 days.
fn window(
    format: Format,
    now: NaiveDateTime,
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
    default_days: i64,
) -> Result<(NaiveDateTime, NaiveDateTime), Open311Error> {
    let span = TimeDelta::days(MAX_WINDOW_DAYS);
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + span),
        (None, Some(e)) => (e - span, e),
        (None, None) => {
            let end = now + TimeDelta::seconds(1);
            (end - TimeDelta::days(default_days), end)
        }
    };
    if end < start {
        return Err(Open311Error::bad(
            format,
            "end_date: comes before start_date",
        ));
    }
    if end - start > span {
        return Err(Open311Error::bad(
            format,
            format!("end_date: the window may not span more than {MAX_WINDOW_DAYS} days"),
        ));
    }
    Ok((start, end))
}

async fn requests(
    state: &web::Data<AppState>,
    format: Format,
    query: &[(String, String)],
) -> Answer {
    let extensions = flag(query, "extensions");
    let page = match param(query, "page") {
        None => 1,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| {
                Open311Error::bad(
                    format,
                    format!("page: '{text}' is not a page number from 1"),
                )
            })?,
    };
    let page_size = match param(query, "page_size") {
        None => MAX_PAGE_SIZE,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|p| (1..=MAX_PAGE_SIZE).contains(p))
            .ok_or_else(|| {
                Open311Error::bad(
                    format,
                    format!("page_size: '{text}' is not a number from 1 to {MAX_PAGE_SIZE}"),
                )
            })?,
    };
    let mut filter = ReportFilter::default();
    if let Some(ids) = param(query, "service_request_id") {
        // The ids override every other filter.
        filter.numbers = ids
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect();
        if filter.numbers.is_empty() {
            return Ok(respond(format, "service_requests", &json!([])));
        }
    } else {
        let now = state.clock.now();
        let (start, end) = window(
            format,
            now,
            datetime(format, query, "start_date")?,
            datetime(format, query, "end_date")?,
            MAX_WINDOW_DAYS,
        )?;
        filter.created_from = Some(start);
        filter.created_before = Some(end);
        filter.updated_from = datetime(format, query, "updated_after")?;
        filter.updated_before = datetime(format, query, "updated_before")?;
        if let Some(statuses) = param(query, "status") {
            for status in statuses.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let matching = ReportStatus::ALL
                    .into_iter()
                    .filter(|s| spec::plain_status(*s) == status);
                let before = filter.statuses.len();
                filter.statuses.extend(matching);
                if filter.statuses.len() == before {
                    return Err(Open311Error::bad(
                        format,
                        format!("status: '{status}' is not open or closed"),
                    ));
                }
            }
        }
        let corners = ["lat_ne", "long_ne", "lat_sw", "long_sw"].map(|k| number(format, query, k));
        let [lat_ne, long_ne, lat_sw, long_sw] = corners;
        match (lat_ne?, long_ne?, lat_sw?, long_sw?) {
            (None, None, None, None) => {}
            (Some(lat_ne), Some(long_ne), Some(lat_sw), Some(long_sw)) => {
                check_box(long_sw, lat_sw, long_ne, lat_ne).map_err(|why| {
                    Open311Error::bad(format, format!("lat_ne,long_ne,lat_sw,long_sw: {why}"))
                })?;
                filter.bbox = Some((long_sw, lat_sw, long_ne, lat_ne));
            }
            _ => {
                return Err(Open311Error::bad(
                    format,
                    "lat_ne, long_ne, lat_sw and long_sw go together",
                ))
            }
        }
        match (
            number(format, query, "lat")?,
            number(format, query, "long")?,
        ) {
            (None, None) => {}
            (Some(lat), Some(long)) => {
                Location::parse(lat, long).map_err(|e| Open311Error::bad(format, e.to_string()))?;
                let radius = number(format, query, "radius")?.unwrap_or(DEFAULT_RADIUS_M);
                if !(radius > 0.0 && radius <= 50_000.0) {
                    return Err(Open311Error::bad(
                        format,
                        "radius: must be more than 0 and at most 50000 metres",
                    ));
                }
                filter.near = Some((lat, long, radius));
            }
            _ => return Err(Open311Error::bad(format, "lat and long go together")),
        }
        if let Some(codes) = param(query, "service_code") {
            let codes: Vec<String> = codes
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
            let ids = db(state, move |conn| {
                codes
                    .iter()
                    .map(|code| {
                        catalog::category_id(conn, code)?.ok_or_else(|| {
                            ApiError::invalid(
                                "service_code",
                                format!("there is no service '{code}'"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .await
            .map_err(|e| Open311Error::from_api(format, e))?;
            filter.category_ids = ids;
        }
    }
    let page = load_requests(state, format, filter, page, page_size, extensions).await?;
    Ok(respond(format, "service_requests", &Value::Array(page)))
}

/// A page of requests as Open311 values.
async fn load_requests(
    state: &web::Data<AppState>,
    format: Format,
    filter: ReportFilter,
    page: i64,
    page_size: i64,
    extensions: bool,
) -> Result<Vec<Value>, Open311Error> {
    let (listings, photos, events) = super::public_read(state, move |conn| {
        let (_, listings) = report_db::list(conn, &filter, page, page_size)?;
        let ids: Vec<String> = listings.iter().map(|l| l.report.id.clone()).collect();
        let photos = if extensions {
            report_db::photos_of(conn, &ids)?
        } else {
            report_db::first_photos(conn, &ids)?.into_values().collect()
        };
        let events = report_db::public_events(conn, &ids)?;
        Ok((listings, photos, events))
    })
    .await
    .map_err(|e| Open311Error::from_api(format, e))?;
    let mut photos_of: HashMap<&str, Vec<&AttachmentRow>> = HashMap::new();
    for photo in &photos {
        photos_of
            .entry(photo.report_id.as_str())
            .or_default()
            .push(photo);
    }
    let mut events_of: HashMap<&str, Vec<&ReportEventRow>> = HashMap::new();
    for event in &events {
        events_of
            .entry(event.report_id.as_str())
            .or_default()
            .push(event);
    }
    listings
        .iter()
        .map(|l| {
            let id = l.report.id.as_str();
            request_value(
                state,
                l,
                photos_of.get(id).map(Vec::as_slice).unwrap_or(&[]),
                events_of.get(id).map(Vec::as_slice).unwrap_or(&[]),
                extensions,
            )
            .map_err(|e| Open311Error::from_api(format, e))
        })
        .collect()
}

fn request_value(
    state: &AppState,
    listing: &ReportListing,
    photos: &[&AttachmentRow],
    events: &[&ReportEventRow],
    extensions: bool,
) -> Result<Value, ApiError> {
    let r = &listing.report;
    let status: ReportStatus = r
        .status
        .parse()
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    let time = |t: NaiveDateTime| spec::format_datetime(t, state.time_zone);
    let status_notes = events
        .iter()
        .rev()
        .find(|e| e.from_status.as_deref() != Some(e.to_status.as_str()))
        .and_then(|e| e.note.clone())
        .filter(|_| status != ReportStatus::Moderation);
    let updated = r
        .closed_at
        .filter(|_| spec::plain_status(status) == "closed")
        .unwrap_or(r.updated_at);
    let mut value = json!({
        "service_request_id": r.number.to_string(),
        "status": spec::plain_status(status),
        "status_notes": status_notes,
        "service_name": listing.category.name_ru,
        "service_code": listing.category.code,
        "description": r.description,
        "agency_responsible": listing.department.as_ref().map(|d| d.name_ru.clone()),
        "service_notice": Value::Null,
        "requested_datetime": time(r.created_at),
        "updated_datetime": time(updated),
        "expected_datetime": r.answer_due_at.map(time),
        "address": r.address.clone().unwrap_or_default(),
        "address_id": Value::Null,
        "zipcode": Value::Null,
        "lat": r.lat,
        "long": r.lon,
        "media_url": photos.first().map(|p| state.photo_url(&p.content_hash, Variant::Full)),
    });
    if extensions {
        let questions: Vec<Question> =
            serde_json::from_str(&listing.category.attributes).unwrap_or_default();
        let answers: serde_json::Map<String, Value> =
            serde_json::from_str(&r.answers).unwrap_or_default();
        let attributes: Vec<Value> = answers
            .iter()
            .map(|(code, value)| {
                let label = questions
                    .iter()
                    .find(|q| &q.code == code)
                    .map(|q| q.description.clone());
                json!({"code": code, "name": code, "label": label, "value": value})
            })
            .collect();
        let notes: Vec<Value> = events
            .iter()
            .map(|e| {
                let kind = match e.kind.as_str() {
                    "filed" => "opened",
                    "closed" | "rejected" | "marked_duplicate" => "closed",
                    _ => "activity",
                };
                json!({"datetime": time(e.created_at), "summary": e.kind, "description": e.note, "type": kind})
            })
            .collect();
        let photos: Vec<Value> = photos
            .iter()
            .map(|p| json!({"media_url": state.photo_url(&p.content_hash, Variant::Full), "width": p.width, "height": p.height, "created_at": time(p.created_at)}))
            .collect();
        if let Value::Object(fields) = &mut value {
            fields.insert("attributes".into(), Value::Array(attributes));
            fields.insert(
                "extended_attributes".into(),
                json!({
                    "status": spec::extended_status(status),
                    "support_count": r.support_count,
                    "department": listing.department.as_ref().map(|d| d.code.clone()),
                    "duplicate": r.duplicate_of.is_some(),
                    "photos": photos,
                }),
            );
            fields.insert("notes".into(), Value::Array(notes));
        }
    }
    Ok(value)
}

/// `GET servicerequestupdates.{fmt}?start_date=&end_date=`: the public
/// history as updates, with mySociety's extended statuses (default window:
/// the last day).
async fn updates(
    state: &web::Data<AppState>,
    format: Format,
    query: &[(String, String)],
) -> Answer {
    let now = state.clock.now();
    let (start, end) = window(
        format,
        now,
        datetime(format, query, "start_date")?,
        datetime(format, query, "end_date")?,
        1,
    )?;
    let events = super::public_read(state, move |conn| {
        Ok(report_db::events_between(conn, start, end, MAX_PAGE_SIZE)?)
    })
    .await
    .map_err(|e| Open311Error::from_api(format, e))?;
    let updates: Vec<Value> = events
        .iter()
        .map(|(e, number)| {
            let status = e
                .to_status
                .parse::<ReportStatus>()
                .map(spec::extended_status)
                .unwrap_or("open");
            json!({
                "update_id": e.id,
                "service_request_id": number.to_string(),
                "status": status,
                "updated_datetime": spec::format_datetime(e.created_at, state.time_zone),
                "description": e.note.clone().unwrap_or_else(|| e.kind.clone()),
                "media_url": Value::Null,
            })
        })
        .collect();
    Ok(respond(
        format,
        "service_request_updates",
        &Value::Array(updates),
    ))
}

/// Anything else under `/open311/v2/`.
pub async fn not_found() -> Answer {
    Err(Open311Error::new(
        Format::Json,
        StatusCode::NOT_FOUND,
        "there is nothing at this address",
    ))
}
