//! Canned answers over the API: staff list those they may use, supervisors
//! and admins keep them (`app::canned`).

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::{self, Caller};
use super::error::ErrorBody;
use super::{db, parse_json, ApiError, AppState};
use crate::app::canned::{self, Canned, Change};
use crate::policy::{Permission, Target};
use crate::routing::Departments;

/// Whether the caller may do `action` to what belongs to `department`
/// (none: the whole city's).
fn reaches(
    caller: &Caller,
    action: Permission,
    department: Option<&str>,
    tree: &Departments,
) -> bool {
    let target = match department.and_then(|d| d.parse().ok()) {
        Some(d) => Target::Department(d),
        None => Target::Nothing,
    };
    match department {
        // The city-wide ones are the admins' to keep; every staff member
        // uses them.
        None if action == Permission::ManageCannedAnswers => {
            crate::policy::scope(caller.role(), action) == crate::policy::Scope::Everything
        }
        _ => caller.require(action, target, tree).is_ok(),
    }
}

/// The canned answers the caller may use (staff: their departments' and
/// the city-wide ones), by title.
#[utoipa::path(
    tag = "workflow",
    security(("token" = [])),
    responses(
        (status = 200, description = "The canned answers", body = Vec<Object>),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody),
    )
)]
#[get("/canned-answers")]
pub async fn list(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::MoveReport).await?;
    let app = state.services.clone();
    let found = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let tree = snapshot.map.departments();
        Ok(canned::list(conn, |d| {
            d.is_none() || reaches(&caller, Permission::MoveReport, d, tree)
        })?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(found))
}

/// A canned answer as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedInput {
    /// A department code; left out: every department's (admins only)
    pub department: Option<String>,
    #[schema(schema_with = super::contract::short_text)]
    pub title: String,
    /// The text, with {number}, {address} and {deadline} where the
    /// report's go (at most 4,000 characters)
    #[schema(schema_with = super::contract::long_text)]
    pub body: String,
    /// The moves it is offered for: answer, reject, pause
    #[schema(schema_with = super::contract::canned_actions)]
    pub actions: Vec<String>,
}

async fn keep(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: Option<String>,
    body: web::Bytes,
) -> Result<(Canned, bool), ApiError> {
    let caller = auth::caller(&state, &request).await?;
    caller.require_any(Permission::ManageCannedAnswers)?;
    let input: CannedInput = parse_json(&body)?;
    let audit = caller.audit_actor(&state, &request);
    let created = id.is_none();
    let app = state.services.clone();
    let row = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let tree = snapshot.map.departments().clone();
        let change = Change {
            id,
            department: input.department,
            title: input.title,
            body: input.body,
            actions: input.actions,
        };
        Ok(canned::put(
            &app,
            conn,
            change,
            |d| reaches(&caller, Permission::ManageCannedAnswers, d, &tree),
            &audit,
        )?)
    })
    .await?;
    Ok((row, created))
}

/// Add a canned answer (supervisors for their departments, admins for any
/// or for all).
#[utoipa::path(
    tag = "workflow",
    request_body = CannedInput,
    security(("token" = [])),
    responses(
        (status = 201, description = "Added", body = Object),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not a supervisor of that department, nor an admin", body = ErrorBody),
    )
)]
#[post("/canned-answers")]
pub async fn create(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (row, _) = keep(state, request, None, body).await?;
    Ok(HttpResponse::Created().json(row))
}

/// Replace a canned answer.
#[utoipa::path(
    tag = "workflow",
    params(("id" = String, Path, description = "The canned answer's id")),
    request_body = CannedInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Replaced", body = Object),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not a supervisor of that department, nor an admin", body = ErrorBody),
        (status = 404, description = "No such canned answer", body = ErrorBody),
    )
)]
#[put("/canned-answers/{id}")]
pub async fn replace(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (row, _) = keep(state, request, Some(id.into_inner()), body).await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Delete a canned answer.
#[utoipa::path(
    tag = "workflow",
    params(("id" = String, Path, description = "The canned answer's id")),
    security(("token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not a supervisor of that department, nor an admin", body = ErrorBody),
        (status = 404, description = "No such canned answer", body = ErrorBody),
    )
)]
#[delete("/canned-answers/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &request).await?;
    caller.require_any(Permission::ManageCannedAnswers)?;
    let audit = caller.audit_actor(&state, &request);
    let app = state.services.clone();
    db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let tree = snapshot.map.departments().clone();
        Ok(canned::delete(
            &app,
            conn,
            &id,
            |d| reaches(&caller, Permission::ManageCannedAnswers, d, &tree),
            &audit,
        )?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
