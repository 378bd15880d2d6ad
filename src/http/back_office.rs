//! Back offices and webhooks over HTTP: admins set a department's or a
//! category's Open311 endpoint, register webhooks and rotate their
//! secrets, and read (and requeue) the deliveries; staff read what a
//! report's back office said; back offices push their updates to
//! `POST /open311/v2/servicerequestupdates` (in `open311`).

use std::collections::BTreeMap;

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::body::{parse_json, read_body};
use super::error::ErrorBody;
use super::{auth, db, ApiError, AppState};
use crate::app::back_office::{
    self as office, BackOfficeUpdateRow, DeliveryRow, EndpointInput, EndpointRow, HandoverRow,
    Owner, WebhookInput, WebhookRow,
};
use crate::locale::Text;
use crate::policy::Permission;

/// A back office that speaks Open311 GeoReport v2.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointDoc {
    /// Its base URL, before `requests.json`; or `mailto:` and the address
    /// of a department without a system
    url: String,
    /// The key Gorod posts with (never shown again); none for a mailbox
    #[serde(default)]
    api_key: String,
    jurisdiction: Option<String>,
    /// Gorod's category codes to its service codes
    #[serde(default)]
    services: BTreeMap<String, String>,
    /// Gorod's question codes to its attribute codes
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    /// Its statuses to the move each makes here: take, answer, return, resume
    #[serde(default)]
    statuses: BTreeMap<String, String>,
    /// How its changes are read: `requests` (its requests by id, the
    /// default), `updates` (`servicerequestupdates`) or `none`
    pull: Option<String>,
    /// Whether it takes `servicerequestupdates` from Gorod (a report
    /// reassigned away is withdrawn there)
    #[serde(default)]
    withdraw: bool,
}

impl From<EndpointDoc> for EndpointInput {
    fn from(doc: EndpointDoc) -> EndpointInput {
        EndpointInput {
            url: doc.url,
            api_key: doc.api_key,
            jurisdiction: doc.jurisdiction,
            services: doc.services,
            attributes: doc.attributes,
            statuses: doc.statuses,
            pull: doc.pull,
            withdraw: doc.withdraw,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    id: String,
    department_id: Option<String>,
    category_id: Option<String>,
    url: String,
    jurisdiction: Option<String>,
    #[schema(value_type = Object)]
    services: serde_json::Value,
    #[schema(value_type = Object)]
    attributes: serde_json::Value,
    #[schema(value_type = Object)]
    statuses: serde_json::Value,
    pull: String,
    withdraw: bool,
    /// When its changes were last read
    #[serde(serialize_with = "crate::clock::utc_opt")]
    pulled_at: Option<chrono::NaiveDateTime>,
}

impl From<EndpointRow> for EndpointView {
    fn from(row: EndpointRow) -> EndpointView {
        let json = |text: &str| serde_json::from_str(text).unwrap_or_default();
        EndpointView {
            services: json(&row.services),
            attributes: json(&row.attributes),
            statuses: json(&row.statuses),
            id: row.id,
            department_id: row.department_id,
            category_id: row.category_id,
            url: row.url,
            jurisdiction: row.jurisdiction,
            pull: row.pull,
            withdraw: row.withdraw,
            pulled_at: row.pulled_at,
        }
    }
}

async fn set_endpoint(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
    owner: Owner,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let input: EndpointDoc = parse_json(&read_body(payload, 64 << 10).await?)?;
    let app = state.services.clone();
    let row = db(&state, move |conn| {
        Ok(office::configure_endpoint(
            &app,
            conn,
            &owner,
            input.into(),
        )?)
    })
    .await?;
    let view = EndpointView::from(row);
    let after = serde_json::to_value(&view).ok();
    super::audit::record(
        &state,
        &request,
        &caller,
        "endpoint.set",
        ("endpoint", Some(view.id.clone())),
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Set a department's back office (admins): every report routed to the
/// department is handed to it.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The department's code")),
    request_body = EndpointDoc,
    responses(
        (status = 200, description = "Set", body = EndpointView),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[put("/admin/departments/{code}/endpoint")]
pub async fn put_department_endpoint(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    set_endpoint(
        state,
        request,
        payload,
        Owner::Department(code.into_inner()),
    )
    .await
}

/// Set a category's back office (admins): its reports go there, whatever
/// their department.
#[utoipa::path(
    tag = "admin",
    params(("code" = String, Path, description = "The category's code")),
    request_body = EndpointDoc,
    responses(
        (status = 200, description = "Set", body = EndpointView),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[put("/admin/categories/{code}/endpoint")]
pub async fn put_category_endpoint(
    state: web::Data<AppState>,
    request: HttpRequest,
    code: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    set_endpoint(state, request, payload, Owner::Category(code.into_inner())).await
}

/// The back offices (admins).
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "Every endpoint", body = [EndpointView]),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[get("/admin/endpoints")]
pub async fn list_endpoints(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let rows = db(&state, |conn| Ok(office::endpoints(conn)?)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(EndpointView::from).collect::<Vec<_>>()))
}

/// Remove a back office nothing was handed to (admins).
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 409, description = "Reports were handed to it", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[delete("/admin/endpoints/{id}")]
pub async fn delete_endpoint(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let id = id.into_inner();
    let wanted = id.clone();
    db(&state, move |conn| {
        Ok(office::remove_endpoint(conn, &wanted)?)
    })
    .await?;
    super::audit::record(
        &state,
        &request,
        &caller,
        "endpoint.delete",
        ("endpoint", Some(id)),
        None,
        None,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookDoc {
    /// Where deliveries are POSTed
    url: String,
    /// Any of filed, moved, answered, confirmed, refuted, breached, escalated
    events: Vec<String>,
    /// Only reports of this category (its code)
    category: Option<String>,
    /// Only reports of this department (its code)
    department: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    id: String,
    url: String,
    events: Vec<String>,
    category_id: Option<String>,
    department_id: Option<String>,
    /// The signing secret (`whsec_…`): in the answer that makes it, once
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    /// Until when the previous secret still signs beside the current one
    #[serde(serialize_with = "crate::clock::utc_opt")]
    previous_secret_until: Option<chrono::NaiveDateTime>,
    #[serde(serialize_with = "crate::clock::utc")]
    created_at: chrono::NaiveDateTime,
}

impl WebhookView {
    fn new(row: WebhookRow, secret: Option<String>) -> WebhookView {
        WebhookView {
            id: row.id,
            url: row.url,
            events: row.events.split(',').map(str::to_string).collect(),
            category_id: row.category_id,
            department_id: row.department_id,
            secret,
            previous_secret_until: row.previous_until,
            created_at: row.created_at,
        }
    }
}

/// Register a webhook (admins): deliveries signed per Standard Webhooks.
#[utoipa::path(
    tag = "admin",
    request_body = WebhookDoc,
    responses(
        (status = 201, description = "Registered; the secret is in the answer, once", body = WebhookView),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[post("/admin/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let doc: WebhookDoc = parse_json(&read_body(payload, 16 << 10).await?)?;
    let input = WebhookInput {
        url: doc.url,
        events: doc.events,
        category: doc.category,
        department: doc.department,
    };
    let app = state.services.clone();
    let (row, secret) = db(&state, move |conn| {
        Ok(office::create_webhook(&app, conn, input)?)
    })
    .await?;
    let view = WebhookView::new(row, None);
    let after = serde_json::to_value(&view).ok();
    super::audit::record(
        &state,
        &request,
        &caller,
        "webhook.create",
        ("webhook", Some(view.id.clone())),
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Created().json(WebhookView {
        secret: Some(secret),
        ..view
    }))
}

/// The webhooks (admins).
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "Every live webhook", body = [WebhookView]),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[get("/admin/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let rows = db(&state, |conn| Ok(office::webhooks(conn)?)).await?;
    let views: Vec<WebhookView> = rows
        .into_iter()
        .map(|r| WebhookView::new(r, None))
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedView {
    id: String,
    /// The new secret; the old one signs beside it until `previous_secret_until`
    secret: String,
    #[serde(serialize_with = "crate::clock::utc")]
    previous_secret_until: chrono::NaiveDateTime,
}

/// Give a webhook a new secret (admins); the old one keeps signing beside
/// it for `back_office.rotation_overlap_hours`.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "Rotated", body = RotatedView),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[post("/admin/webhooks/{id}/rotate")]
pub async fn rotate_webhook(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let id = id.into_inner();
    let overlap = chrono::TimeDelta::hours(state.rotation_overlap_hours);
    let now = chrono::Utc::now().naive_utc();
    let wanted = id.clone();
    let secret = db(&state, move |conn| {
        Ok(office::rotate_webhook(conn, &wanted, now, overlap)?)
    })
    .await?;
    super::audit::record(
        &state,
        &request,
        &caller,
        "webhook.rotate",
        ("webhook", Some(id.clone())),
        None,
        None,
    )
    .await?;
    Ok(HttpResponse::Ok().json(RotatedView {
        id,
        secret,
        previous_secret_until: now + overlap,
    }))
}

/// Remove a webhook (admins); what was queued for it is dead-lettered.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[delete("/admin/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageCatalog).await?;
    let id = id.into_inner();
    let (app, wanted) = (state.services.clone(), id.clone());
    db(&state, move |conn| {
        Ok(office::delete_webhook(conn, &wanted, app.clock.now())?)
    })
    .await?;
    super::audit::record(
        &state,
        &request,
        &caller,
        "webhook.delete",
        ("webhook", Some(id)),
        None,
        None,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// pending, sent or dead (default: dead)
    #[param(schema_with = super::contract::message_status)]
    status: Option<String>,
    /// Only this report's (its id)
    report: Option<String>,
    /// At most this many, newest first (default 100, at most 1000)
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    id: String,
    /// open311 (a report handed over), withdraw, or webhook
    kind: String,
    /// The endpoint's or the webhook's id
    target_id: String,
    report_id: String,
    event_type: String,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    next_attempt_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    sent_at: Option<chrono::NaiveDateTime>,
}

impl From<DeliveryRow> for DeliveryView {
    fn from(row: DeliveryRow) -> DeliveryView {
        DeliveryView {
            id: row.id,
            kind: row.kind,
            target_id: row.target_id,
            report_id: row.report_id,
            event_type: row.event_type,
            status: row.status,
            attempts: row.attempts,
            last_error: row.last_error,
            next_attempt_at: row.next_attempt_at,
            created_at: row.created_at,
            sent_at: row.sent_at,
        }
    }
}

/// Deliveries to back offices and webhooks by state; dead letters by
/// default (admins).
#[utoipa::path(
    tag = "admin",
    params(DeliveryQuery),
    responses(
        (status = 200, description = "Newest first", body = [DeliveryView]),
        (status = 400, description = "Unknown status", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[get("/admin/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, Permission::Operate).await?;
    let (status, limit) = super::filters::queue_page(query.status.clone(), query.limit.clone())?;
    let report = query.report.clone();
    let rows = db(&state, move |conn| {
        Ok(office::deliveries(conn, &status, report.as_deref(), limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(DeliveryView::from).collect::<Vec<_>>()))
}

/// Put a dead delivery back in the queue, due now (admins).
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "Queued again", body = DeliveryView),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No dead delivery with that id", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[post("/admin/deliveries/{id}/requeue")]
pub async fn requeue_delivery(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::Operate).await?;
    let id = id.into_inner();
    let wanted = id.clone();
    let row = db(&state, move |conn| Ok(office::requeue(conn, &wanted)?)).await?;
    let row = row.ok_or_else(|| {
        ApiError::NotFound(Text::new(
            format!("нет недоставленной отправки {id}"),
            format!("no dead delivery {id}"),
        ))
    })?;
    super::audit::record(
        &state,
        &request,
        &caller,
        "delivery.requeue",
        ("delivery", Some(id)),
        Some(serde_json::json!({ "status": "dead" })),
        Some(serde_json::json!({ "status": "pending" })),
    )
    .await?;
    Ok(HttpResponse::Ok().json(DeliveryView::from(row)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BackOfficeView {
    /// The report as handed to a back office: its id (or token) there
    #[schema(value_type = Option<Object>)]
    handover: Option<HandoverRow>,
    /// What back offices said about it, and what came of each
    updates: Vec<UpdateView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateView {
    /// endpoint:ID (pulled), department:ID (pushed) or mail:ID
    scope: String,
    update_id: String,
    /// pull, push or mail
    source: String,
    /// What the back office said
    status: String,
    notes: Option<String>,
    /// applied, refused or ignored
    outcome: String,
    /// Why it made no move, in the request's language
    reason: Option<String>,
    /// The move it made
    event_id: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    received_at: chrono::NaiveDateTime,
}

impl From<BackOfficeUpdateRow> for UpdateView {
    fn from(row: BackOfficeUpdateRow) -> UpdateView {
        UpdateView {
            reason: office::reason_of(&row).map(|r| r.get(super::requests::language()).to_string()),
            scope: row.scope,
            update_id: row.update_id,
            source: row.source,
            status: row.status,
            notes: row.notes,
            outcome: row.outcome,
            event_id: row.event_id,
            received_at: row.received_at,
        }
    }
}

/// A report at its back office: the id there, and every update it sent
/// with what came of it, refused ones with the reason (staff).
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    responses(
        (status = 200, description = "The handover and the updates", body = BackOfficeView),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not staff of the report's department", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[get("/reports/{id}/back-office")]
pub async fn report_back_office(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ReadInternal).await?;
    let (_, row, _) = super::reports::view_and_row(&state, &request, &caller, id.into_inner())
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(Text::new("нет такого сообщения", "there is no such report"))
        })?;
    let report_id = row.id.clone();
    let department = row.department_id.as_deref().and_then(|d| d.parse().ok());
    let departments = state.services.clone();
    let allowed = db(&state, move |conn| {
        let snapshot = departments.catalog_snapshot(conn)?;
        Ok(snapshot.map.departments().clone())
    })
    .await?;
    caller.require(
        Permission::ReadInternal,
        crate::policy::Target::Report {
            department,
            involves_caller: false,
        },
        &allowed,
    )?;
    let (handover, updates) = db(&state, move |conn| {
        Ok(office::updates_of(conn, &report_id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(BackOfficeView {
        handover,
        updates: updates.into_iter().map(UpdateView::from).collect(),
    }))
}

/// A mail-only department's page for a report handed to it.
#[derive(askama::Template)]
#[template(path = "office.html")]
struct OfficePage {
    ctx: super::html::Ctx,
    title: String,
    alert: Option<String>,
    said: Vec<String>,
    number: i64,
    category: String,
    address: Option<String>,
    status: String,
    answer_due: Option<String>,
    description: String,
    photos: Vec<String>,
    live: bool,
    /// The forms' own update id: a form sent twice moves once.
    nonce: String,
    reasons: Vec<(&'static str, &'static str)>,
}

fn open_link(state: &AppState, token: &str) -> Result<crate::notify::links::OfficeLink, ApiError> {
    state
        .signer
        .open_office(token)
        .map_err(|e| ApiError::invalid("token", e.text()))
}

/// The page, with `alert` or `said` on top (`status`: how it answers).
async fn office_page(
    state: &web::Data<AppState>,
    token: &str,
    (alert, said): (Option<String>, Vec<String>),
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    use askama::Template;
    let link = match open_link(state, token) {
        Ok(link) => link,
        Err(e) => return super::html::error_page(&e),
    };
    let app = state.services.clone();
    let case = db(state, move |conn| {
        Ok(office::office_case(&app, conn, &link)?)
    })
    .await;
    let case = match case {
        Ok(Some(case)) => case,
        Ok(None) => {
            return super::html::error_page(&ApiError::NotFound(Text::new(
                "это обращение вашему подразделению не передавалось",
                "this report was not handed to your department",
            )))
        }
        Err(e) => return super::html::error_page(&e),
    };
    let ctx = super::html::Ctx::new(None, None, state.time_zone);
    let t = ctx.t;
    let local = |at: chrono::NaiveDateTime| {
        let shown = at.and_utc().with_timezone(&state.time_zone).naive_local();
        super::requests::language().date_time(shown)
    };
    let mut said = said;
    for update in case.said.iter().filter(|u| u.outcome == "applied") {
        let at = local(update.received_at);
        said.push(match update.status.as_str() {
            "answer" => super::html::say(
                format!("{at}: ответ отправлен жителю."),
                format!("{at}: the answer went to the resident."),
            ),
            "pause" => super::html::say(
                format!("{at}: работа приостановлена."),
                format!("{at}: work is paused."),
            ),
            _ => super::html::say(
                format!("{at}: обращение возвращено."),
                format!("{at}: the report was returned."),
            ),
        });
    }
    let page = OfficePage {
        title: super::html::say(
            format!("Обращение № {} для вашего подразделения", case.number),
            format!("Report № {} for your department", case.number),
        ),
        alert,
        said,
        number: case.number,
        category: super::html::say(case.category.0.clone(), case.category.1.clone()),
        address: case.address,
        status: t.status(&case.status).to_string(),
        answer_due: case.answer_due_at.map(local),
        description: case.description,
        photos: case.photos,
        live: case.live,
        nonce: uuid::Uuid::now_v7().to_string(),
        reasons: crate::workflow::PauseReason::ALL
            .iter()
            .map(|r| (r.as_str(), t.pause_reason(r.as_str())))
            .collect(),
        ctx,
    };
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => super::html::error_page(&ApiError::Internal(Box::new(e))),
    }
}

/// The page a mail-only department's link opens: the report, and forms to
/// answer it, pause work on it or return it (no account needed).
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the department's email")),
    responses(
        (status = 200, description = "The page", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", content_type = "text/html"),
        (status = 404, description = "Not handed to this department", content_type = "text/html"),
    )
)]
#[get("/office/{token}")]
pub async fn office_link_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> HttpResponse {
    office_page(
        &state,
        &token,
        (None, Vec::new()),
        actix_web::http::StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OfficeForm {
    /// answer, pause or return
    action: String,
    /// The answer, or why it is returned
    text: Option<String>,
    /// A pause's reason: waiting_for_resident, seasonal_work, third_party, procurement
    reason: Option<String>,
    /// The day work resumes (YYYY-MM-DD)
    resume_on: Option<String>,
    /// The form's own id: the same form sent twice moves once
    update_id: String,
}

/// A mail-only department's move through its link.
#[utoipa::path(
    tag = "reports",
    params(("token" = String, Path, description = "The signed token from the department's email")),
    request_body(content = OfficeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Done; the page says so", content_type = "text/html"),
        (status = 400, description = "A field is wrong, or the workflow refused; nothing changed", content_type = "text/html"),
        (status = 404, description = "Not handed to this department", content_type = "text/html"),
        (status = 409, description = "No longer in the department's hands", content_type = "text/html"),
    )
)]
#[post("/office/{token}")]
pub async fn office_answer(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let refused = |e: ApiError| {
        use actix_web::ResponseError;
        (
            Some(e.message(super::requests::language())),
            e.status_code(),
        )
    };
    let outcome = async {
        let link = open_link(&state, &token)?;
        let form: OfficeForm = serde_urlencoded::from_bytes(&body).map_err(|e| {
            ApiError::invalid(
                "action",
                Text::new(
                    format!("форма не читается: {e}"),
                    format!("the form does not read: {e}"),
                ),
            )
        })?;
        let action = match form.action.as_str() {
            "answer" => crate::workflow::Action::Answer,
            "pause" => crate::workflow::Action::Pause,
            "return" => crate::workflow::Action::Return,
            other => {
                return Err(ApiError::invalid(
                    "action",
                    Text::new(
                        format!("«{other}» — не ответ, не приостановка и не возврат"),
                        format!("'{other}' is not answer, pause or return"),
                    ),
                ))
            }
        };
        let pause = match action {
            crate::workflow::Action::Pause => {
                let reason = form.reason.as_deref().unwrap_or_default();
                let reason = crate::workflow::PauseReason::ALL
                    .into_iter()
                    .find(|r| r.as_str() == reason)
                    .ok_or_else(|| {
                        ApiError::from(crate::reports::ValidationError::unknown(
                            "reason",
                            reason,
                            ("причина", "reason"),
                        ))
                    })?;
                let day = form.resume_on.as_deref().unwrap_or_default();
                let on = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                    ApiError::invalid(
                        "resume_on",
                        Text::new(
                            format!("«{day}» — не дата"),
                            format!("'{day}' is not a date"),
                        ),
                    )
                })?;
                Some((reason, on))
            }
            _ => None,
        };
        let update = office::Update {
            update_id: form.update_id.chars().take(100).collect(),
            status: action.as_str().to_string(),
            notes: form.text.filter(|t| !t.trim().is_empty()),
            source: "mail",
            pause,
        };
        let app = state.services.clone();
        db(&state, move |conn| {
            Ok(office::office_update(&app, conn, &link, action, &update)?)
        })
        .await
    }
    .await;
    let (top, status) = match outcome {
        Ok(office::Taken::Applied { .. }) => ((None, Vec::new()), StatusCode::OK),
        Ok(office::Taken::Refused { reason } | office::Taken::Ignored { reason }) => {
            let said = reason.get(super::requests::language()).to_string();
            ((Some(said), Vec::new()), StatusCode::BAD_REQUEST)
        }
        Err(e) => {
            let (alert, status) = refused(e);
            ((alert, Vec::new()), status)
        }
    };
    office_page(&state, &token, top, status).await
}
