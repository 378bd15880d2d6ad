//! Admins manage who may act: staff accounts (created with a first
//! password; they enrol a second factor at their first login), disabling
//! and enabling accounts, and API keys (bearer tokens for integrations,
//! Open311 keys for apps), shown once at creation and stored as SHA-256.

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::account::{hashed, locale, password};
use super::admin::as_json;
use super::error::ErrorBody;
use super::{audit, auth, db, parse_json, read_body, ApiError, AppState};
use crate::accounts;
use crate::db::admin as admin_db;
use crate::db::rows::{ApiKeyRow, UserRow};
use crate::policy::Permission;
use crate::policy::Role;
use crate::reports::EmailAddress;

/// Every staff account (admins).
#[utoipa::path(
    tag = "admin",
    security(("token" = [])),
    responses(
        (status = 200, description = "Staff, by email", body = Vec<admin_db::StaffRow>),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/admin/users")]
pub async fn list_staff(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, Permission::ManageAccess).await?;
    let staff = db(&state, |conn| Ok(admin_db::staff(conn)?)).await?;
    Ok(HttpResponse::Ok().json(staff))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    email: String,
    name: Option<String>,
    /// crew, supervisor or admin
    role: String,
    /// A department code (crew and supervisors)
    department: Option<String>,
    /// The first password (10 to 128 characters); they can change it
    password: String,
    /// ru or en (default ru)
    locale: Option<String>,
}

/// Create a staff account (admins).
#[utoipa::path(
    tag = "admin",
    request_body = StaffInput,
    security(("token" = [])),
    responses(
        (status = 201, description = "Created", body = admin_db::StaffRow),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The email has a user already", body = ErrorBody),
    )
)]
#[post("/admin/users")]
pub async fn create_staff(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageAccess).await?;
    let input: StaffInput = parse_json(&read_body(payload, 16 << 10).await?)?;
    let email = EmailAddress::parse("email", &input.email)?;
    let role = staff_role(&input.role)?;
    let name = crate::reports::optional_text("name", input.name, 200)?;
    let locale = locale(input.locale.as_deref(), crate::locale::Locale::Ru)?;
    let hash = hashed(password(&input.password, email.as_str(), "password")?).await?;
    let now = state.clock.now();
    let app = state.clone();
    let created = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let department_id = staff_department(&snapshot, role, input.department.as_deref())?;
        if crate::db::access::user_by_email(conn, email.as_str())?.is_some() {
            return Err(ApiError::Conflict(format!(
                "{} has a user already",
                email.as_str()
            )));
        }
        let user = UserRow {
            id: crate::db::new_id(),
            email: email.as_str().to_string(),
            name,
            phone: None,
            role: role.as_str().to_string(),
            department_id: department_id.map(|d| d.to_string()),
            locale: locale.code().to_string(),
            created_at: now,
        };
        crate::db::accounts::create_staff(conn, &user, &hash, now)?;
        admin_db::staff_member(conn, &user.id)?
            .ok_or_else(|| ApiError::Internal("the new account cannot be read back".into()))
    })
    .await?;
    let after = serde_json::to_value(&created).ok();
    let object = ("user", Some(created.id.clone()));
    audit::record(
        &state,
        &request,
        &caller,
        "user.create",
        object,
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}

fn staff_role(text: &str) -> Result<Role, ApiError> {
    Role::parse(text)
        .filter(|r| matches!(r, Role::Crew | Role::Supervisor | Role::Admin))
        .ok_or_else(|| {
            ApiError::invalid("role", format!("'{text}' is not crew, supervisor or admin"))
        })
}

/// The department a staff member of `role` belongs to: crew and
/// supervisors need one.
fn staff_department(
    snapshot: &crate::db::catalog::CatalogSnapshot,
    role: Role,
    code: Option<&str>,
) -> Result<Option<uuid::Uuid>, ApiError> {
    match (role, code.filter(|d| !d.is_empty())) {
        (_, Some(code)) => Ok(Some(snapshot.map.departments().id_of(code).ok_or_else(
            || ApiError::invalid("department", format!("'{code}' is not a department")),
        )?)),
        (Role::Admin, None) => Ok(None),
        (_, None) => Err(ApiError::invalid(
            "department",
            "crew and supervisors belong to a department",
        )),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// crew, supervisor or admin
    role: String,
    /// A department code (crew and supervisors)
    department: Option<String>,
}

/// Give a staff member another role or department (admins); it applies to
/// their sessions and tokens at once.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The user's id")),
    request_body = RoleInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Changed", body = admin_db::StaffRow),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 404, description = "No such staff member", body = ErrorBody),
    )
)]
#[put("/admin/users/{id}")]
pub async fn set_role(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageAccess).await?;
    let input: RoleInput = parse_json(&read_body(payload, 16 << 10).await?)?;
    let role = staff_role(&input.role)?;
    let id = id.into_inner();
    let (app, key) = (state.clone(), id.clone());
    let (before, after) = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let department = staff_department(&snapshot, role, input.department.as_deref())?;
        let before = admin_db::staff_member(conn, &key)?
            .ok_or_else(|| ApiError::NotFound(format!("there is no staff account {key}")))?;
        let department = department.map(|d| d.to_string());
        if !admin_db::set_role(conn, &key, role.as_str(), department.as_deref())? {
            return Err(ApiError::NotFound(format!(
                "there is no staff account {key}"
            )));
        }
        Ok((before, admin_db::staff_member(conn, &key)?))
    })
    .await?;
    let before = serde_json::to_value(&before).ok();
    audit::record(
        &state,
        &request,
        &caller,
        "user.role",
        ("user", Some(id)),
        before,
        as_json(&after),
    )
    .await?;
    Ok(HttpResponse::Ok().json(after))
}

async fn set_disabled(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: String,
    disabled: bool,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageAccess).await?;
    if disabled && caller.user_id()? == id {
        return Err(ApiError::Conflict(
            "you cannot disable your own account".into(),
        ));
    }
    let now = state.clock.now();
    let key = id.clone();
    let (before, after) = db(&state, move |conn| {
        let before = admin_db::staff_member(conn, &key)?
            .ok_or_else(|| ApiError::NotFound(format!("there is no account {key}")))?;
        crate::db::accounts::set_disabled(conn, &key, disabled, now)?;
        Ok((before, admin_db::staff_member(conn, &key)?))
    })
    .await?;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    let before = serde_json::to_value(&before).ok();
    audit::record(
        &state,
        &request,
        &caller,
        action,
        ("user", Some(id)),
        before,
        as_json(&after),
    )
    .await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Disable an account (admins): every session ends and its API tokens stop
/// working at once.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The user's id")),
    security(("token" = [])),
    responses(
        (status = 200, description = "Disabled", body = admin_db::StaffRow),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "Your own account", body = ErrorBody),
    )
)]
#[post("/admin/users/{id}/disable")]
pub async fn disable(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_disabled(state, request, id.into_inner(), true).await
}

/// Enable a disabled account again (admins).
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The user's id")),
    security(("token" = [])),
    responses(
        (status = 200, description = "Enabled", body = admin_db::StaffRow),
        (status = 404, description = "No such account", body = ErrorBody),
    )
)]
#[post("/admin/users/{id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_disabled(state, request, id.into_inner(), false).await
}

/// Every API key (admins); the keys themselves are never shown again.
#[utoipa::path(
    tag = "admin",
    security(("token" = [])),
    responses((status = 200, description = "The keys", body = Vec<Object>))
)]
#[get("/admin/api-keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, Permission::ManageAccess).await?;
    let keys = db(&state, |conn| Ok(admin_db::api_keys(conn)?)).await?;
    Ok(HttpResponse::Ok().json(keys))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    name: String,
    /// api (a bearer token acting as `user`) or open311 (an app's key)
    kind: String,
    /// The email of the user an api token acts as
    user: Option<String>,
    /// What an api token may do (policy actions, e.g. file_report,
    /// read_public); all its user may when absent
    scopes: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewKeyView {
    id: String,
    /// Shown this once; only its SHA-256 is kept
    key: String,
}

/// Create an API key (admins).
#[utoipa::path(
    tag = "admin",
    request_body = KeyInput,
    security(("token" = [])),
    responses(
        (status = 201, description = "Created; the key is in the answer, once", body = NewKeyView),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
    )
)]
#[post("/admin/api-keys")]
pub async fn create_key(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageAccess).await?;
    let input: KeyInput = parse_json(&read_body(payload, 16 << 10).await?)?;
    let name = crate::reports::optional_text("name", Some(input.name), 200)?
        .ok_or_else(|| ApiError::invalid("name", "is required"))?;
    if !matches!(input.kind.as_str(), "api" | "open311") {
        return Err(ApiError::invalid(
            "kind",
            format!("'{}' is not api or open311", input.kind),
        ));
    }
    let scopes = match input.scopes {
        None => "*".to_string(),
        Some(list) => {
            if let Some(bad) = list
                .iter()
                .find(|s| !Permission::ALL.iter().any(|a| a.as_str() == s.as_str()))
            {
                return Err(ApiError::invalid(
                    "scopes",
                    format!("'{bad}' is not an action"),
                ));
            }
            list.join(",")
        }
    };
    let user = match (input.kind.as_str(), input.user.as_deref()) {
        ("api", Some(email)) => Some(EmailAddress::parse("user", email)?),
        ("api", None) => {
            return Err(ApiError::invalid(
                "user",
                "an api token acts as a user: name them",
            ))
        }
        (_, _) => None,
    };
    let key = accounts::new_secret();
    let now = state.clock.now();
    let digest = accounts::secret_digest(&key);
    let row = db(&state, move |conn| {
        let user_id = match user {
            None => None,
            Some(email) => Some(
                crate::db::access::user_by_email(conn, email.as_str())?.ok_or_else(|| {
                    ApiError::invalid("user", format!("{} is not a user", email.as_str()))
                })?,
            ),
        };
        let row = ApiKeyRow {
            id: crate::db::new_id(),
            key_hash: digest,
            name,
            kind: input.kind,
            user_id,
            created_at: now,
            revoked_at: None,
            scopes,
        };
        admin_db::create_api_key(conn, &row)?;
        Ok(row)
    })
    .await?;
    let after = serde_json::to_value(&row).ok();
    audit::record(
        &state,
        &request,
        &caller,
        "api_key.create",
        ("api_key", Some(row.id.clone())),
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Created().json(NewKeyView { id: row.id, key }))
}

/// Revoke an API key (admins): it stops working at once.
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The key's id")),
    security(("token" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
#[delete("/admin/api-keys/{id}")]
pub async fn revoke_key(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageAccess).await?;
    let id = id.into_inner();
    let now = state.clock.now();
    let key = id.clone();
    let before = db(&state, move |conn| {
        admin_db::revoke_api_key(conn, &key, now)?
            .ok_or_else(|| ApiError::NotFound(format!("there is no API key {key}")))
    })
    .await?;
    let after = Some(serde_json::json!({ "revoked_at": now }));
    let before = serde_json::to_value(&before).ok();
    audit::record(
        &state,
        &request,
        &caller,
        "api_key.revoke",
        ("api_key", Some(id)),
        before,
        after,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
