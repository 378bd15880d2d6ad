//! Who is calling. Staff and integrations authenticate with a bearer API
//! token (`Authorization: Bearer …`), stored only as its SHA-256 digest and
//! mapped to a user with a role and a department. Residents need no token for
//! what this slice offers them.

use actix_web::http::header;
use actix_web::{web, HttpRequest};

use super::{db, ApiError, AppState};
use crate::access::api_key_digest;
use crate::db::access as access_db;

/// A staff member or integration acting through a token.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: String,
    pub role: String,
    pub department_id: Option<String>,
}

/// The caller behind the request's bearer token; 401 without a valid one.
pub async fn staff(state: &web::Data<AppState>, request: &HttpRequest) -> Result<Staff, ApiError> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("send an API token: Authorization: Bearer <token>".into())
        })?;
    let digest = api_key_digest(token);
    let found = db(state, move |conn| {
        Ok(access_db::staff_by_token(conn, &digest)?)
    })
    .await?;
    let (user_id, role, department_id) =
        found.ok_or_else(|| ApiError::Unauthorized("the API token is not valid".into()))?;
    Ok(Staff {
        user_id,
        role,
        department_id,
    })
}

/// The caller, who must be an admin.
pub async fn admin(state: &web::Data<AppState>, request: &HttpRequest) -> Result<Staff, ApiError> {
    let caller = staff(state, request).await?;
    if caller.role != "admin" {
        return Err(ApiError::Forbidden("only an admin may do this".into()));
    }
    Ok(caller)
}
