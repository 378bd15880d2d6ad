//! Filing a report, shared by the JSON API and Open311: clean the photos;
//! then hand the report to the instance's filing writer (`db::writer`),
//! which on its own connection checks the category and its questions,
//! routes by the city map, finds duplicate candidates (reads only), stores
//! the photos and counts the deadlines, and commits the report together with
//! whatever other filings are waiting. Any refusal happens before anything
//! is written.
//!
//! A resident files at most `limits.reports_per_day` reports in the city's
//! local day, counted from the reports themselves when a filing is checked
//! (so every instance agrees); the next one gets a 429 naming the local
//! midnight when they may file again. Filings by one resident that are in
//! flight in the same batch are counted once written.

use std::collections::BTreeMap;

use actix_web::web;

use super::{ApiError, AppState};
use crate::db::reports::{FiledReport, FilingRecord, Nearby, StoredPhoto};
use crate::db::DbConnection;
use crate::media::{self, CleanPhoto};
use crate::reports::questions::{check_answers, Answer, UnknownAnswers};
use crate::reports::{NewReport, ReportStatus};
use crate::sla::schedule::{self, Facts};

/// A photo as uploaded.
pub struct Upload {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

/// How the channel names things and treats extras.
pub struct Channel {
    /// 'api', 'open311' or 'web'
    pub source: &'static str,
    /// The request's idempotency key, written with the report.
    pub idempotency: Option<super::idempotency::Idempotency>,
    pub unknown_answers: UnknownAnswers,
    /// The field name of a question's answer, e.g. `answers.size`.
    pub answer_field: fn(&str) -> String,
    /// The field name of the n-th photo, e.g. `photos[0]`.
    pub photo_field: fn(usize) -> String,
}

/// A filing's photos: cleaned now (stored once the filing passes its
/// checks), or cleaned and stored before (a held report's).
pub enum Photos {
    Clean(Vec<CleanPhoto>),
    Stored(Vec<StoredPhoto>),
}

pub struct Filed {
    pub report: FiledReport,
    /// Open reports of the same category nearby, nearest first.
    pub candidates: Vec<Nearby>,
}

/// Cleans uploaded photos (on the blocking pool); a bad one is a 400 naming
/// it by `photo_field`.
pub async fn clean_photos(
    state: &web::Data<AppState>,
    uploads: Vec<Upload>,
    photo_field: fn(usize) -> String,
) -> Result<Vec<CleanPhoto>, ApiError> {
    if uploads.len() > state.max_photos {
        return Err(ApiError::invalid(
            photo_field(state.max_photos),
            format!("at most {} photos may come at once", state.max_photos),
        ));
    }
    if uploads.is_empty() {
        return Ok(Vec::new());
    }
    let limits = state.photo_limits;
    let budget = state.decode_budget.clone();
    let clean_all = move || {
        uploads
            .iter()
            .enumerate()
            .map(|(i, upload)| {
                // Bounded before anything is decoded: the header says
                // what decoding will take.
                let _reserved = match media::cleaning_cost(&upload.bytes, limits) {
                    Some(cost) => Some(budget.reserve(cost).ok_or_else(|| {
                        ApiError::Unavailable(format!(
                            "{}: the server is cleaning as many photos as its memory allows",
                            photo_field(i)
                        ))
                    })?),
                    None => None,
                };
                media::clean(&upload.bytes, upload.content_type.as_deref(), limits)
                    .map_err(|e| ApiError::invalid(photo_field(i), format!("the photo {e}")))
            })
            .collect::<Result<Vec<CleanPhoto>, ApiError>>()
    };
    web::block(clean_all)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?
}

/// Puts cleaned photos in the media store (on the blocking pool), before
/// a workflow move's transaction: an upload never holds a database lock,
/// and a store that fails refuses the move (503) with nothing written. A
/// move refused afterwards leaves its photos stored but unlisted
/// (content-addressed: the same photo sent again reuses them). A filing's
/// photos are stored by its checks on the filing writer, once they pass
/// and before the batch's transaction.
pub async fn store_photos(
    state: &web::Data<AppState>,
    photos: Vec<CleanPhoto>,
) -> Result<Vec<StoredPhoto>, ApiError> {
    if photos.is_empty() {
        return Ok(Vec::new());
    }
    let app = state.clone();
    web::block(move || {
        for photo in &photos {
            app.media
                .store(photo)
                .map_err(|e| ApiError::Unavailable(e.to_string()))?;
        }
        Ok(photos.iter().map(StoredPhoto::of).collect())
    })
    .await
    .map_err(|e| ApiError::Internal(Box::new(e)))?
}

pub async fn file(
    state: &web::Data<AppState>,
    report: NewReport,
    uploads: Vec<Upload>,
    channel: Channel,
) -> Result<Filed, ApiError> {
    file_with(state, move |_, _| Ok(report), uploads, channel).await
}

/// As [`file`], with the report taken from `admit`, which runs first on the
/// writer's connection: a channel's own checks that need the database (an
/// Open311 key) cost no extra trip between threads.
pub async fn file_with(
    state: &web::Data<AppState>,
    admit: impl FnOnce(&AppState, &mut DbConnection) -> Result<NewReport, ApiError> + Send + 'static,
    uploads: Vec<Upload>,
    channel: Channel,
) -> Result<Filed, ApiError> {
    let photos = Photos::Clean(clean_photos(state, uploads, channel.photo_field).await?);
    file_photos(state, admit, photos, channel).await
}

/// As [`file_with`], with the photos at hand.
pub async fn file_photos(
    state: &web::Data<AppState>,
    admit: impl FnOnce(&AppState, &mut DbConnection) -> Result<NewReport, ApiError> + Send + 'static,
    photos: Photos,
    channel: Channel,
) -> Result<Filed, ApiError> {
    let now = state.clock.now();
    let app = state.clone();
    let (report, candidates) = state
        .writer
        .file(move |conn| {
            let report = admit(&app, conn)?;
            check(&app, conn, report, photos, channel, now)
        })
        .await?;
    Ok(Filed { report, candidates })
}

/// Refused (429, naming the next local midnight) when the resident with
/// this email has filed, with `held` reports awaiting confirmation, their
/// reports of the day.
pub fn within_daily_limit(
    app: &AppState,
    conn: &mut DbConnection,
    email: &str,
    held: i64,
    now: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    let today = crate::limits::local_day(now, app.time_zone);
    let filed = crate::db::reports::filed_since(conn, email, today.start)?;
    if held + filed < app.limits.reports_per_day {
        return Ok(());
    }
    Err(super::throttle::too_many(
        app,
        &format!(
            "{} reports a day is the most one resident may file",
            app.limits.reports_per_day
        ),
        today,
    ))
}

/// The checks a filing passes on the writer's connection, and what they give:
/// the record to write and the duplicate candidates.
pub fn check(
    app: &AppState,
    conn: &mut DbConnection,
    report: NewReport,
    photos: Photos,
    channel: Channel,
    now: chrono::NaiveDateTime,
) -> Result<FilingRecord, ApiError> {
    if let Some(reporter) = &report.reporter {
        within_daily_limit(app, conn, reporter.email.as_str(), 0, now)?;
    }
    let snapshot = app.catalog_snapshot(conn)?;
    let code = &report.category_code;
    let category = snapshot.categories.get(code).ok_or_else(|| {
        ApiError::invalid(
            "category",
            format!("'{code}' is not a category of this city; GET /api/v1/categories lists them"),
        )
    })?;
    let answers: BTreeMap<String, Answer> = check_answers(
        &category.questions,
        report.raw_answers.clone(),
        channel.unknown_answers,
        channel.answer_field,
    )?;
    let (lat, lon) = (report.location.lat(), report.location.lon());
    let decision = snapshot
        .map
        .route(&category.routing, lat, lon)
        .ok_or_else(|| {
            ApiError::invalid(
                "location",
                format!("the point ({lat}, {lon}) is outside the city's service areas"),
            )
        })?;
    // Every check has passed: only now do the photos reach the store.
    let photos = match photos {
        Photos::Clean(photos) => {
            for photo in &photos {
                app.media
                    .store(photo)
                    .map_err(|e| ApiError::Unavailable(e.to_string()))?;
            }
            photos.iter().map(StoredPhoto::of).collect()
        }
        Photos::Stored(photos) => photos,
    };
    let sla = &category.sla;
    let facts = Facts {
        status: ReportStatus::Moderation,
        created_at: now,
        cycle_started_at: now,
        responded_at: None,
        resolved_at: None,
        pauses: Vec::new(),
    };
    let clocks = schedule::clocks_at(&sla.policy, &sla.calendar, &facts, now, |_, _| false);
    let record = FilingRecord {
        now,
        due: clocks.due,
        next_sla_at: clocks.next,
        category_id: category.routing.id,
        report,
        answers,
        decision,
        source: channel.source,
        photos,
        duplicate_radius_m: category.duplicate_radius_m,
        idempotency: channel.idempotency.map(|k| (k.key_hash, k.request_hash)),
    };
    Ok(record)
}
