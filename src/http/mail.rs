//! Mail as people touch it: the unsubscribe links in every message (GET
//! from the link shows a button and changes nothing, so mail scanners that
//! follow links unsubscribe nobody; POST from that button or a mail
//! client's one-click button, RFC 8058, unsubscribes), and the admins' view of the outbox: dead letters with their
//! reason, and putting one back in the queue.

use crate::locale::Text;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ErrorBody;
use super::html::{say, LinkPage};
use super::{auth, db, ApiError, AppState};
use crate::app::mail::{self as outbox, OutboxRow};
use crate::notify::links::OptOut;
use actix_web::http::StatusCode;

#[derive(Debug, Serialize, ToSchema)]
pub struct UnsubscribedView {
    /// `report`: no more mail about that report; `all`: no more mail.
    scope: String,
    report_id: Option<String>,
}

fn checked(state: &AppState, token: &str) -> Result<OptOut, ApiError> {
    state
        .signer
        .check(token)
        .map_err(|e| ApiError::invalid("token", e.text()))
}

async fn unsubscribe(state: &web::Data<AppState>, token: &str) -> Result<OptOut, ApiError> {
    let opt_out = checked(state, token)?;
    let (app, recorded) = (state.services.clone(), opt_out.clone());
    db(state, move |conn| {
        Ok(outbox::opt_out(
            &app,
            conn,
            &recorded.email,
            recorded.report_id.as_deref(),
        )?)
    })
    .await?;
    Ok(opt_out)
}

/// The page an unsubscribe link opens: what the link unsubscribes from and
/// a button; opening it changes nothing (mail scanners follow links), the
/// button's POST unsubscribes.
#[utoipa::path(
    tag = "mail",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "A page with the button that unsubscribes", content_type = "text/html"),
        (status = 400, description = "The link is damaged or forged", body = ErrorBody),
    )
)]
#[get("/unsubscribe/{token}")]
pub async fn unsubscribe_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let opt_out = checked(&state, &token)?;
    let asked = match &opt_out.report_id {
        Some(_) => say(
            "Больше не присылать писем об этом сообщении?",
            "No more email about this report?",
        ),
        None => say(
            "Больше не присылать никаких писем?",
            "No more email at all?",
        ),
    };
    Ok(LinkPage {
        said: vec![asked],
        notes: vec![opt_out.email],
        button: Some(say("Отписаться", "Unsubscribe")),
        ..LinkPage::titled(say("Отписка", "Unsubscribe"))
    }
    .respond(StatusCode::OK))
}

/// Unsubscribe: one-click (RFC 8058) as mail clients send it, answered in
/// JSON, or the unsubscribe page's button, answered with a page. Doing it
/// again changes nothing.
#[utoipa::path(
    tag = "mail",
    params(("token" = String, Path, description = "The signed token from the link")),
    responses(
        (status = 200, description = "Unsubscribed (a page when sent from the page's button)", body = UnsubscribedView),
        (status = 400, description = "The link is damaged or forged", body = ErrorBody),
    )
)]
#[post("/unsubscribe/{token}")]
pub async fn unsubscribe_one_click(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let opt_out = unsubscribe(&state, &token).await?;
    let from_page = request
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if from_page {
        let done = match &opt_out.report_id {
            Some(_) => say(
                "Вы больше не будете получать писем об этом сообщении.",
                "You will get no more email about this report.",
            ),
            None => say(
                "Вы больше не будете получать писем от Gorod.",
                "You will get no more email from Gorod.",
            ),
        };
        return Ok(LinkPage {
            said: vec![done],
            notes: vec![opt_out.email],
            ..LinkPage::titled(say("Отписка", "Unsubscribed"))
        }
        .respond(StatusCode::OK));
    }
    Ok(HttpResponse::Ok().json(UnsubscribedView {
        scope: if opt_out.report_id.is_some() {
            "report"
        } else {
            "all"
        }
        .into(),
        report_id: opt_out.report_id,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OutboxQuery {
    /// `pending`, `sent` or `dead` (the default).
    #[param(schema_with = super::contract::message_status)]
    status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxView {
    id: String,
    recipient: String,
    template: String,
    locale: String,
    message_id: String,
    status: String,
    attempts: i32,
    #[serde(serialize_with = "crate::clock::utc")]
    next_attempt_at: chrono::NaiveDateTime,
    /// Why the last attempt failed (for a dead letter: why it was given up).
    last_error: Option<String>,
    #[serde(serialize_with = "crate::clock::utc")]
    created_at: chrono::NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc_opt")]
    sent_at: Option<chrono::NaiveDateTime>,
}

impl From<OutboxRow> for OutboxView {
    fn from(row: OutboxRow) -> OutboxView {
        OutboxView {
            id: row.id,
            recipient: row.recipient,
            template: row.template,
            locale: row.locale,
            message_id: row.message_id,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            created_at: row.created_at,
            sent_at: row.sent_at,
        }
    }
}

/// Messages in the outbox by state; dead letters by default (admins).
#[utoipa::path(
    tag = "admin",
    params(OutboxQuery),
    responses(
        (status = 200, description = "The messages, newest first", body = [OutboxView]),
        (status = 400, description = "Unknown status", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, ApiError> {
    auth::authorize(&state, &request, crate::policy::Permission::Operate).await?;
    let (status, limit) = super::filters::queue_page(query.status.clone(), query.limit.clone())?;
    let rows = db(&state, move |conn| Ok(outbox::list(conn, &status, limit)?)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(OutboxView::from).collect::<Vec<_>>()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequeuedView {
    id: String,
    status: String,
}

/// Put a dead letter back in the queue, due now (admins).
#[utoipa::path(
    tag = "admin",
    params(("id" = String, Path, description = "The message's id")),
    responses(
        (status = 200, description = "Queued again", body = RequeuedView),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No dead letter with that id", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[post("/admin/outbox/{id}/requeue")]
pub async fn requeue(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, crate::policy::Permission::Operate).await?;
    let id = id.into_inner();
    let (app, wanted) = (state.services.clone(), id.clone());
    let requeued = db(&state, move |conn| {
        Ok(outbox::requeue(&app, conn, &wanted)?)
    })
    .await?;
    if !requeued {
        return Err(ApiError::NotFound(Text::new(
            format!("нет недоставленного письма {id}"),
            format!("no dead letter {id}"),
        )));
    }
    let after = Some(serde_json::json!({ "status": "pending" }));
    let before = Some(serde_json::json!({ "status": "dead" }));
    super::audit::record(
        &state,
        &request,
        &caller,
        "outbox.requeue",
        ("outbox", Some(id.clone())),
        before,
        after,
    )
    .await?;
    Ok(HttpResponse::Ok().json(RequeuedView {
        id,
        status: "pending".into(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DigestView {
    /// The local date the digests are for.
    day: chrono::NaiveDate,
    /// Digests queued now (0 when today's were already queued).
    queued: usize,
}

/// Queue today's digest for every supervisor now, instead of waiting for
/// `mail.digest_hour`; a supervisor gets one digest a day however often
/// this is called (admins).
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, description = "Queued", body = DigestView),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("token" = []))
)]
#[post("/admin/mail/digest")]
pub async fn queue_digest(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&state, &request, crate::policy::Permission::Operate).await?;
    let now = state.clock.now();
    let day = crate::app::jobs::local_day(&state, now);
    let app = state.clone();
    let queued = db(&state, move |conn| {
        Ok(crate::app::jobs::queue_digests(&app, conn, day, now)?)
    })
    .await?;
    let after = Some(serde_json::json!({ "day": day, "queued": queued }));
    super::audit::record(
        &state,
        &request,
        &caller,
        "digest.queue",
        ("digest", None),
        None,
        after,
    )
    .await?;
    Ok(HttpResponse::Ok().json(DigestView { day, queued }))
}
