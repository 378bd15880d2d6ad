//! Filing a report, shared by the JSON API and Open311: clean the photos;
//! check the category and its questions, route by the city map and find
//! duplicate candidates (reads only); store the photos; then hand the report
//! to the instance's filing writer, which commits it together with whatever
//! other filings are waiting (`db::writer`). Any refusal happens before
//! anything is written.

use std::collections::BTreeMap;

use actix_web::web;

use super::{db, ApiError, AppState};
use crate::db::reports::{self as report_db, FiledReport, FilingRecord, Nearby, StoredPhoto};
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
    pub unknown_answers: UnknownAnswers,
    /// The field name of a question's answer, e.g. `answers.size`.
    pub answer_field: fn(&str) -> String,
    /// The field name of the n-th photo, e.g. `photos[0]`.
    pub photo_field: fn(usize) -> String,
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
    let clean_all = move || {
        uploads
            .iter()
            .enumerate()
            .map(|(i, upload)| {
                media::clean(&upload.bytes, upload.content_type.as_deref(), limits)
                    .map_err(|e| ApiError::invalid(photo_field(i), format!("the photo {e}")))
            })
            .collect::<Result<Vec<CleanPhoto>, ApiError>>()
    };
    web::block(clean_all)
        .await
        .map_err(|e| ApiError::Internal(Box::new(e)))?
}

pub async fn file(
    state: &web::Data<AppState>,
    report: NewReport,
    uploads: Vec<Upload>,
    channel: Channel,
) -> Result<Filed, ApiError> {
    let photos = clean_photos(state, uploads, channel.photo_field).await?;

    let now = state.clock.now();
    let app = state.clone();
    let (record, candidates) = db(state, move |conn| {
        let snapshot = app.catalog_snapshot(conn)?;
        let code = &report.category_code;
        let category = snapshot.categories.get(code).ok_or_else(|| {
            ApiError::invalid(
                "category",
                format!(
                    "'{code}' is not a category of this city; GET /api/v1/categories lists them"
                ),
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
        let category_id = category.routing.id.to_string();
        let candidates =
            report_db::nearby_open(conn, &category_id, lat, lon, category.duplicate_radius_m)?;
        // Every check has passed: only now do the photos reach the store.
        for photo in &photos {
            app.media
                .store(photo)
                .map_err(|e| ApiError::Internal(format!("cannot store a photo: {e}").into()))?;
        }
        let sla = &category.sla;
        let facts = Facts {
            status: ReportStatus::Moderation,
            created_at: now,
            cycle_started_at: now,
            responded_at: None,
            resolved_at: None,
            pauses: Vec::new(),
        };
        let clocks = schedule::look(&sla.policy, &sla.calendar, &facts, now, |_, _| false);
        let record = FilingRecord {
            now,
            due: clocks.due,
            next_sla_at: clocks.next,
            category_id: category.routing.id,
            report,
            answers,
            decision,
            source: channel.source,
            photos: photos.iter().map(StoredPhoto::of).collect(),
        };
        Ok((record, candidates))
    })
    .await?;
    let report = state.writer.file(record).await?;
    Ok(Filed { report, candidates })
}
