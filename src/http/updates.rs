//! Residents' updates to a report and following one, and moderators'
//! decisions on updates (the use cases are `app::updates`).
//!
//! A logged-in resident follows, unfollows and adds updates as themselves;
//! someone not logged in gives an email and the follow or update waits for
//! the link emailed to it (`pending`), as a "me too" does. Updates come as
//! JSON or as multipart with the JSON in an `update` part and photos in
//! `photos` parts, cleaned like any photo.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{self, Caller};
use super::body::read_submission;
use super::error::ErrorBody;
use super::filing::{clean_photos, store_photos};
use super::html::say;
use super::{accept_language, db, parse_json, pending, ApiError, AppState};
use crate::app::reports::{self as reading, Held, HeldSupport};
use crate::app::updates::{self, Followed, UpdateError};
use crate::locale::Text;
use crate::policy::{Permission, Role, Target};
use crate::reports::updates::{Decision, Refusal, UpdateText};
use crate::reports::{Reporter, ReporterInput};

impl From<UpdateError> for ApiError {
    fn from(e: UpdateError) -> ApiError {
        match e {
            UpdateError::NoSuchReport(id) => ApiError::no_report(id),
            UpdateError::NoSuchUpdate(id) => ApiError::NotFound(Text::new(
                format!("нет новости {id}"),
                format!("there is no update {id}"),
            )),
            UpdateError::Refused(Refusal::Closed(status)) => {
                let words = status.words();
                ApiError::Conflict(Text::new(
                    format!(
                        "обращение в статусе «{}»: добавлять к нему и подписываться можно, пока оно открыто",
                        words.get(crate::locale::Locale::Ru)
                    ),
                    format!(
                        "the report is {}: only open reports take updates and followers",
                        words.en()
                    ),
                ))
            }
            UpdateError::Refused(Refusal::NotFollowing(text)) => ApiError::Forbidden(text),
            UpdateError::Forbidden => ApiError::Forbidden(Text::new(
                "у вашей роли нет права решать о новостях этого обращения",
                "your role may not moderate this report's updates",
            )),
            UpdateError::Invalid(e) => e.into(),
            UpdateError::TooMany(e) => e.into(),
            UpdateError::Db(e) => e.into(),
        }
    }
}

/// Who a resident's request is from: a logged-in resident as themselves,
/// anyone else by the email they give (to be confirmed by a link).
async fn resident_of(
    state: &web::Data<AppState>,
    request: &HttpRequest,
    caller: &Caller,
    input: ReporterInput,
) -> Result<Reporter, ApiError> {
    let account = match caller.role() {
        Some(Role::Resident) => {
            let user_id = caller.user_id()?.to_string();
            db(state, move |conn| {
                Ok(crate::app::accounts::by_id(conn, &user_id)?.map(|l| l.email))
            })
            .await?
        }
        _ => None,
    };
    let mut resident = Reporter::parse_by(input, "", account.as_deref())?;
    resident.locale = resident.locale.or(accept_language(request));
    Ok(resident)
}

/// Holds what someone not logged in sent, when the city asks for
/// confirmation: the 202 answer, or `None` to go on.
async fn held(
    state: &web::Data<AppState>,
    caller: &Caller,
    (report_id, resident): (&str, &Reporter),
    what: impl FnOnce() -> Held,
    told: String,
) -> Result<Option<HttpResponse>, ApiError> {
    let (true, Some(lasts)) = (caller.is_anonymous(), state.confirm_anonymous) else {
        return Ok(None);
    };
    let (app, key, resident, what) = (
        state.services.clone(),
        report_id.to_string(),
        resident.clone(),
        what(),
    );
    let held = db(state, move |conn| {
        Ok(reading::hold_support(
            &app, conn, &key, &resident, lasts, what,
        )?)
    })
    .await?;
    match held {
        HeldSupport::Waiting { expires_at } => Ok(Some(
            HttpResponse::Accepted().json(pending::held_view(told, expires_at)),
        )),
        HeldSupport::Closed { status } => Err(ApiError::closed_to_joining(report_id, &status)),
        HeldSupport::NoSuchReport => Err(ApiError::no_report(report_id)),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowView {
    pub number: i64,
    /// Whether the caller hears of the report now
    pub following: bool,
    /// Whether this request changed that
    pub changed: bool,
}

/// Follow a report without supporting it: an email at every change, no
/// "me too" counted.
///
/// A logged-in resident follows as themselves. Sent without logging in,
/// the follow waits for its sender to confirm it through an emailed link:
/// 202.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    request_body(content = super::reports::ResidentDoc),
    responses(
        (status = 201, description = "Following", body = FollowView),
        (status = 200, description = "Already hearing of it: nothing changed", body = FollowView),
        (status = 202, description = "Waiting for the sender's confirmation by email", body = pending::HeldView),
        (status = 400, description = "A field is wrong", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "The report is no longer open", body = ErrorBody),
        (status = 429, description = "The address had its confirmation emails of the day", body = ErrorBody),
    )
)]
#[post("/reports/{id}/follow")]
pub async fn follow(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::FileReport).await?;
    let id = super::reports::report_id(&id)?;
    let input: ReporterInput = parse_json(&body)?;
    let resident = resident_of(&state, &request, &caller, input).await?;
    let told = say(
        "проверьте почту: подписка начнётся, когда вы подтвердите её по ссылке из нашего письма",
        "check your mailbox: you follow the report once you confirm through the link in our email",
    );
    if let Some(answer) = held(&state, &caller, (&id, &resident), || Held::Follow, told).await? {
        return Ok(answer);
    }
    let app = state.services.clone();
    let followed = db(&state, move |conn| {
        Ok(updates::follow(&app, conn, &id, &resident)?)
    })
    .await?;
    Ok(match followed {
        Followed::Started { number } => HttpResponse::Created().json(FollowView {
            number,
            following: true,
            changed: true,
        }),
        Followed::Already { number } => HttpResponse::Ok().json(FollowView {
            number,
            following: true,
            changed: false,
        }),
    })
}

/// Stop following a report (a logged-in resident; every email also carries
/// a link that does this).
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    security(("token" = [])),
    responses(
        (status = 200, description = "Not following any more", body = FollowView),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    )
)]
#[delete("/reports/{id}/follow")]
pub async fn unfollow(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::ManageOwnAccount).await?;
    let id = super::reports::report_id(&id)?;
    let user_id = caller.user_id()?.to_string();
    let (app, key) = (state.services.clone(), id.clone());
    let (changed, number) = db(&state, move |conn| {
        let changed = updates::unfollow(&app, conn, &key, &user_id)?;
        let number = reading::number_of(conn, &key)?.unwrap_or_default();
        Ok((changed, number))
    })
    .await?;
    Ok(HttpResponse::Ok().json(FollowView {
        number,
        following: false,
        changed,
    }))
}

/// A resident's update to a report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInput {
    /// What has changed (at most 4,000 characters)
    #[schema(schema_with = super::contract::long_text)]
    pub text: String,
    /// Required unless a resident is logged in
    #[schema(schema_with = super::contract::email_or_null)]
    pub email: Option<String>,
    pub name: Option<String>,
    /// `ru` or `en`: the language of the confirmation email
    #[schema(schema_with = super::contract::locale_or_null)]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateView {
    pub number: i64,
    /// The update's id (its history event's)
    pub id: String,
    /// `published`, or `waiting` for a moderator
    pub state: &'static str,
}

/// Add an update (words, and photos) to an open report: its reporter and
/// followers only.
///
/// JSON, or multipart with the JSON in an `update` part and photos in
/// `photos` parts. Published at once, or after a moderator where the
/// category says so. Sent without logging in, it waits for its sender to
/// confirm it through an emailed link (202); confirming it adds it only if
/// the address filed or follows the report.
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "The report's id")),
    request_body(content = UpdateInput, description = "The update; multipart with an `update` part and `photos` parts also accepted"),
    responses(
        (status = 201, description = "Added", body = UpdateView),
        (status = 202, description = "Waiting for the sender's confirmation by email", body = pending::HeldView),
        (status = 400, description = "A field or photo is wrong", body = ErrorBody),
        (status = 403, description = "Neither the reporter nor a follower", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
        (status = 409, description = "The report is no longer open", body = ErrorBody),
        (status = 429, description = "The day's updates (or confirmation emails) are spent", body = ErrorBody),
    )
)]
#[post("/reports/{id}/updates")]
pub async fn add(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, Permission::FileReport).await?;
    let id = super::reports::report_id(&id)?;
    let (body, uploads) = read_submission(&state, &request, payload, "update").await?;
    let input: UpdateInput = parse_json(&body)?;
    let text = UpdateText::parse("text", &input.text)?;
    let resident = resident_of(
        &state,
        &request,
        &caller,
        ReporterInput {
            email: input.email,
            name: input.name,
            locale: input.locale,
            ..ReporterInput::default()
        },
    )
    .await?;
    let cleaned = clean_photos(&state, uploads, |i| format!("photos[{i}]")).await?;
    let photos = store_photos(&state, cleaned).await?;
    let told = say(
        "проверьте почту: новость будет добавлена, когда вы подтвердите её по ссылке из нашего письма",
        "check your mailbox: the update is added once you confirm it through the link in our email",
    );
    let what = {
        let (text, photos) = (text.as_str().to_string(), photos.clone());
        move || Held::Update { text, photos }
    };
    if let Some(answer) = held(&state, &caller, (&id, &resident), what, told).await? {
        return Ok(answer);
    }
    let app = state.services.clone();
    let added = db(&state, move |conn| {
        let author = updates::resident(&app, conn, &resident)?;
        Ok(updates::add(
            &app,
            conn,
            updates::NewUpdate {
                report_id: &id,
                author_id: &author,
                text,
                photos,
            },
        )?)
    })
    .await?;
    Ok(HttpResponse::Created().json(UpdateView {
        number: added.number,
        id: added.event_id,
        state: added.state.as_str(),
    }))
}

/// A moderator's decision on an update.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `publish` or `hide`
    #[schema(pattern = "^(publish|hide)$")]
    pub decision: String,
    /// Why (required to hide; the author sees it)
    pub reason: Option<String>,
}

/// Publish a waiting update or hide one (moderators: supervisors and
/// admins within their departments), with the reason; audited.
#[utoipa::path(
    tag = "workflow",
    params(("id" = String, Path, description = "The update's id")),
    request_body = DecisionInput,
    security(("token" = [])),
    responses(
        (status = 200, description = "Decided", body = UpdateView),
        (status = 400, description = "A field is wrong", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not a moderator of this report", body = ErrorBody),
        (status = 404, description = "No such update", body = ErrorBody),
    )
)]
#[post("/updates/{id}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &request).await?;
    caller.require_any(Permission::ModerateContent)?;
    let input: DecisionInput = parse_json(&body)?;
    let decision = match input.decision.as_str() {
        "publish" => Decision::Publish,
        "hide" => Decision::Hide,
        other => {
            return Err(ApiError::invalid(
                "decision",
                Text::new(
                    format!("«{other}» — не решение: publish или hide"),
                    format!("'{other}' is not a decision: publish or hide"),
                ),
            ))
        }
    };
    let audit = caller.audit_actor(&state, &request);
    let (app, event_id) = (state.services.clone(), id.into_inner());
    let decided = db(&state, move |conn| {
        Ok(updates::decide(
            &app,
            conn,
            updates::Moderation {
                event_id: &event_id,
                decision,
                reason: input.reason.as_deref(),
                audit,
            },
            |target, departments| {
                caller
                    .require(Permission::ModerateContent, target, departments)
                    .is_ok()
            },
        )
        .map(|d| (d, event_id))?)
    })
    .await?;
    let (decided, event_id) = decided;
    Ok(HttpResponse::Ok().json(UpdateView {
        number: decided.number,
        id: event_id,
        state: decided.state.as_str(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WaitingQuery {
    /// At most this many (1–500, default 100)
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingView {
    pub id: String,
    pub number: i64,
    pub report_id: String,
    #[schema(value_type = String)]
    #[serde(serialize_with = "crate::clock::utc")]
    pub created_at: chrono::NaiveDateTime,
}

/// Residents' updates waiting for a moderator, oldest first (within the
/// caller's departments).
#[utoipa::path(
    tag = "workflow",
    params(WaitingQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "Waiting updates", body = Vec<WaitingView>),
        (status = 400, description = "A parameter is wrong", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Not a moderator", body = ErrorBody),
    )
)]
#[get("/updates/waiting")]
pub async fn waiting(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<WaitingQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::caller(&state, &request).await?;
    caller.require_any(Permission::ModerateContent)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid_as(
            "limit",
            "out_of_range",
            Text::new("должно быть от 1 до 500", "must be from 1 to 500"),
        ));
    }
    let app = state.services.clone();
    let found = db(&state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let departments = snapshot.map.departments();
        Ok(updates::waiting(
            conn,
            |department| {
                let target = Target::Report {
                    department: department.and_then(|d| d.parse().ok()),
                    involves_caller: false,
                };
                caller
                    .require(Permission::ModerateContent, target, departments)
                    .is_ok()
            },
            limit,
        )?)
    })
    .await?;
    let views: Vec<WaitingView> = found
        .into_iter()
        .map(|(u, number)| WaitingView {
            id: u.event_id,
            number,
            report_id: u.report_id,
            created_at: u.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}
