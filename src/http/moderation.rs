//! Moderators' edits to a report, and a reporter hiding their own name
//! (the use cases are `app::moderation`).

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth;
use super::error::ErrorBody;
use super::{db, parse_json, ApiError, AppState};
use crate::app::moderation::{self, Changes, EditError};
use crate::locale::Text;
use crate::policy::Permission;

impl From<EditError> for ApiError {
    fn from(e: EditError) -> ApiError {
        match e {
            EditError::NoSuchReport(id) => ApiError::no_report(id),
            EditError::Forbidden => ApiError::Forbidden(Text::new(
                "у вашей роли нет права редактировать это обращение",
                "your role may not edit this report",
            )),
            EditError::Invalid(e) => e.into(),
            EditError::Db(e) => e.into(),
        }
    }
}

/// A moderator's edits, with the reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditInput {
    /// The description as it is to be published
    #[schema(schema_with = super::contract::long_text)]
    pub description: Option<String>,
    /// The address as it is to be published ("" for none)
    pub address: Option<String>,
    /// The ids of photos to hide from the public
    #[serde(default)]
    pub hide_photos: Vec<String>,
    /// Hide the reporter's name
    #[serde(default)]
    pub hide_name: bool,
    /// Why (required; the reporter is told)
    #[schema(schema_with = super::contract::long_text, required = true)]
    pub reason: Option<String>,
}

/// Edit what is published of a report (moderators: supervisors and admins
/// within their departments): its description and address, hide photos or
/// the reporter's name. What was there is kept for staff; every change is
/// in the audit log; the reporter is emailed the reason.
#[utoipa::path(
    tag = "workflow",
    params(("id" = String, Path, description = "The report's id")),
    request_body = EditInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "The edits made", body = Vec<Object>),
        (status = 400, description = "A field is wrong, or nothing to change", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not a moderator of this report", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    )
)]
#[post("/reports/{id}/edits")]
pub async fn edit(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &request).await?;
    caller.require_any(Permission::ModerateContent)?;
    let id = super::reports::report_id(&id)?;
    let input: EditInput = parse_json(&body)?;
    let audit = caller.audit_actor(&state, &request);
    let app = state.services.clone();
    let made = db(&state, move |conn| {
        Ok(moderation::edit(
            &app,
            conn,
            &id,
            Changes {
                description: input.description,
                address: input.address,
                hide_photos: input.hide_photos,
                hide_name: input.hide_name,
                reason: input.reason,
            },
            &audit,
            |target, departments| {
                caller
                    .require(Permission::ModerateContent, target, departments)
                    .is_ok()
            },
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(made))
}

/// The reporter hides their name on their report.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    security(("token" = [])),
    responses(
        (status = 200, description = "Hidden", body = Object),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not the reporter", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    )
)]
#[post("/reports/{id}/hide-name")]
pub async fn hide_name(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageOwnAccount).await?;
    let id = super::reports::report_id(&id)?;
    let user_id = caller.user_id()?.to_string();
    let app = state.services.clone();
    let hidden = db(&state, move |conn| {
        Ok(moderation::hide_own_name(&app, conn, &id, &user_id)?)
    })
    .await?;
    if !hidden {
        return Err(ApiError::Forbidden(Text::new(
            "скрыть имя может только заявитель",
            "only the reporter may hide their name",
        )));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "name_shown": false })))
}
