//! Admins manage who may act: staff accounts (created with a first
//! password; they enrol a second factor at their first login), disabling
//! and enabling accounts, and API keys (bearer tokens for integrations,
//! Open311 keys for apps), shown once at creation and stored as SHA-256.

use crate::locale::Text;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::account::{hashed, locale, password};
use super::admin::as_json;
use super::error::ErrorBody;
use super::{audit, auth, db, parse_json, read_body, ApiError, AppState};
use crate::accounts as secrets;
use crate::app::access::{self, NewKey, NewStaff, StaffRow};
use crate::policy::Permission;
use crate::policy::Role;
use crate::reports::EmailAddress;

/// Every staff account (admins).
#[utoipa::path(
    tag = "admin",
    security(("token" = [])),
    responses(
        (status = 200, description = "Staff, by email", body = Vec<StaffRow>),
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
    let staff = db(&state, |conn| Ok(access::staff(conn)?)).await?;
    Ok(HttpResponse::Ok().json(staff))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    #[schema(schema_with = super::contract::email)]
    email: String,
    name: Option<String>,
    /// crew, supervisor or admin
    #[schema(schema_with = super::contract::role)]
    role: String,
    /// A department code (crew and supervisors)
    department: Option<String>,
    /// The first password (10 to 128 characters); they can change it
    #[schema(schema_with = super::contract::new_password)]
    password: String,
    /// ru or en (default ru)
    #[schema(schema_with = super::contract::locale_or_null)]
    locale: Option<String>,
}

/// Create a staff account (admins).
#[utoipa::path(
    tag = "admin",
    request_body = StaffInput,
    security(("token" = [])),
    responses(
        (status = 201, description = "Created", body = StaffRow),
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
    let new = NewStaff {
        email,
        name,
        role,
        department: input.department,
        locale,
        password_hash: hash,
    };
    let app = state.services.clone();
    let created = db(&state, move |conn| {
        Ok(access::create_staff(&app, conn, new)?)
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
            ApiError::invalid(
                "role",
                Text::new(
                    format!("«{text}» — не crew, supervisor или admin"),
                    format!("'{text}' is not crew, supervisor or admin"),
                ),
            )
        })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// crew, supervisor or admin
    #[schema(schema_with = super::contract::role)]
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
        (status = 200, description = "Changed", body = StaffRow),
        (status = 400, description = "A field is wrong (named); nothing changed", body = ErrorBody),
        (status = 404, description = "No such staff member", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
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
    let (app, key) = (state.services.clone(), id.clone());
    let (before, after) = db(&state, move |conn| {
        Ok(access::set_role(
            &app,
            conn,
            &key,
            role,
            input.department.as_deref(),
        )?)
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
        return Err(ApiError::Conflict(Text::new(
            "нельзя отключить собственную учётную запись",
            "you cannot disable your own account",
        )));
    }
    let (app, key) = (state.services.clone(), id.clone());
    let (before, after) = db(&state, move |conn| {
        Ok(access::set_disabled(&app, conn, &key, disabled)?)
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
        (status = 200, description = "Disabled", body = StaffRow),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
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
        (status = 200, description = "Enabled", body = StaffRow),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
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
    responses(
        (status = 200, description = "The keys", body = Vec<Object>),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[get("/admin/api-keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, Permission::ManageAccess).await?;
    let keys = db(&state, |conn| Ok(access::api_keys(conn)?)).await?;
    Ok(HttpResponse::Ok().json(keys))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    #[schema(schema_with = super::contract::short_text)]
    name: String,
    /// api (a bearer token acting as `user`) or open311 (an app's key)
    #[schema(schema_with = super::contract::key_kind)]
    kind: String,
    /// The email of the user an api token acts as
    #[schema(schema_with = super::contract::email_or_null)]
    user: Option<String>,
    /// What an api token may do (policy actions, e.g. file_report,
    /// read_public); all its user may when absent
    scopes: Option<Vec<String>>,
    /// The department a back_office key speaks for (its code): it may push
    /// updates on the reports handed to that department's back office
    department: Option<String>,
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
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
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
        .ok_or_else(|| ApiError::from(crate::reports::ValidationError::required("name")))?;
    if !matches!(input.kind.as_str(), "api" | "open311" | "back_office") {
        return Err(ApiError::invalid(
            "kind",
            Text::new(
                format!("«{}» — не api, open311 или back_office", input.kind),
                format!("'{}' is not api, open311 or back_office", input.kind),
            ),
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
                    Text::new(
                        format!("«{bad}» — не действие"),
                        format!("'{bad}' is not an action"),
                    ),
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
                Text::new(
                    "токен api действует от имени пользователя: укажите его",
                    "an api token acts as a user: name them",
                ),
            ))
        }
        (_, _) => None,
    };
    let key = secrets::new_secret();
    let new = NewKey {
        name,
        department: input.department,
        kind: input.kind,
        user,
        scopes,
        key_hash: secrets::secret_digest(&key),
    };
    let app = state.services.clone();
    let row = db(&state, move |conn| {
        Ok(access::create_api_key(&app, conn, new)?)
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
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
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
    let (app, key) = (state.services.clone(), id.clone());
    let before = db(&state, move |conn| {
        Ok(access::revoke_api_key(&app, conn, &key)?)
    })
    .await?;
    let after = Some(serde_json::json!({ "revoked_at": state.clock.now() }));
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
