//! Recording staff and admin actions, and reading the log (admins).

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::{self, Caller};
use super::body::{DEFAULT_PER_PAGE, MAX_PER_PAGE};
use super::error::ErrorBody;
use super::filters::{non_empty, parse_count};
use super::{db, ApiError, AppState};
use crate::app::audit::{self as audit_log, AuditFilter, AuditRow, Entry};
use crate::policy::Permission;

/// Records what `caller` did, once it is done.
pub async fn record(
    state: &AppState,
    request: &HttpRequest,
    caller: &Caller,
    action: impl Into<String>,
    object: (&'static str, Option<String>),
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), ApiError> {
    let actor = caller.audit_actor(state, request);
    let action = action.into();
    let app = state.services.clone();
    db(state, move |conn| {
        Ok(audit_log::record(
            &app,
            conn,
            &actor,
            Entry {
                action: &action,
                object_type: object.0,
                object_id: object.1.as_deref(),
                before,
                after,
            },
        )?)
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// A user id: what they did
    actor: Option<String>,
    /// report, department, category, sla_policy, calendar_day,
    /// service_areas, user, api_key, outbox, ledger, sla_scan, digest
    object_type: Option<String>,
    object_id: Option<String>,
    /// e.g. report.take, user.disable
    action: Option<String>,
    /// From 1
    #[param(value_type = Option<i64>, minimum = 1, maximum = 46116860184273879_i64)]
    page: Option<String>,
    /// 1 to 200, default 50
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    per_page: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    total: i64,
    page: i64,
    per_page: i64,
    entries: Vec<AuditRow>,
}

/// The audit log, newest first (admins).
#[utoipa::path(
    tag = "admin",
    params(AuditQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of the log", body = AuditPage),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/admin/audit")]
pub async fn list(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, Permission::ReadAudit).await?;
    let query = query.into_inner();
    let page = parse_count("page", query.page, 1, i64::MAX / MAX_PER_PAGE)?;
    let per_page = parse_count("per_page", query.per_page, DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
    let filter = AuditFilter {
        actor_id: non_empty(query.actor),
        object_type: non_empty(query.object_type),
        object_id: non_empty(query.object_id),
        action: non_empty(query.action),
    };
    let (total, entries) = db(&state, move |conn| {
        Ok(audit_log::list(conn, &filter, page, per_page)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        total,
        page,
        per_page,
        entries,
    }))
}
