//! Filing a report, whatever the channel (the JSON API, Open311, the web
//! form, a held report confirmed): the photos are cleaned within the decode
//! budget; on the filing writer (`app::writer`) [`check`] takes the category
//! and its questions, routes by the city map, counts the deadlines and
//! stores the photos once everything has passed; the writer commits the
//! report with whatever other filings are waiting. Any refusal happens
//! before anything is written.
//!
//! A resident files at most `limits.reports_per_day` reports in the city's
//! local day, counted from the reports themselves when a filing is checked
//! (so every instance agrees); the next one is refused until the local
//! midnight. Filings by one resident in flight in the same batch are
//! counted once written.
//!
//! A filing without an account waits for its filer's confirmation when
//! `accounts.confirm_within_hours` is set: [`hold`] checks it as filing
//! would, stores its photos and keeps it until the emailed link is followed.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, TimeDelta};

use super::geodata::{self, Picked};
use super::Services;
use crate::db::catalog::CatalogSnapshot;
use crate::db::filing::{FiledReport, FilingRecord, Nearby, StoredPhoto};
use crate::db::pending::{self as pending_db, PendingRow};
use crate::db::{self, DbConnection, DbError};
use crate::limits::Window;
use crate::locale::Locale;
use crate::media::{self, CleanPhoto};
use crate::reports::questions::{check_answers, Answer, UnknownAnswers};
use crate::reports::{NewReport, ReportStatus, ValidationError};
use crate::sla::schedule::{self, Facts};

/// Why a filing (or a photo) is refused.
#[derive(Debug, thiserror::Error)]
pub enum FilingError {
    /// A field is wrong; nothing was written.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A daily limit is spent: `what`, with when to come back.
    #[error("{what}")]
    TooMany {
        what: crate::locale::Text,
        window: Window,
        /// How long from the moment of the refusal.
        retry_after: TimeDelta,
    },
    /// Photos cannot be cleaned or stored now (memory, the media store).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn invalid(field: impl Into<String>, message: crate::locale::Text) -> FilingError {
    FilingError::Invalid(ValidationError::new(field, message))
}

/// A photo as uploaded.
pub struct Upload {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

/// How the channel names things and treats extras.
pub struct Channel {
    /// 'api', 'open311' or 'web'
    pub source: &'static str,
    /// The request's idempotency key and the hash of its request, written
    /// with the report.
    pub idempotency: Option<(String, String)>,
    pub unknown_answers: UnknownAnswers,
    /// The field name of a question's answer, e.g. `answers.size`.
    pub answer_field: fn(&str) -> String,
    /// The field name of the n-th photo, e.g. `photos[0]`.
    pub photo_field: fn(usize) -> String,
}

impl Channel {
    /// How the JSON API's filings name things.
    pub fn api() -> Channel {
        Channel {
            source: "api",
            idempotency: None,
            unknown_answers: UnknownAnswers::Reject,
            answer_field: |code| format!("answers.{code}"),
            photo_field: |i| format!("photos[{i}]"),
        }
    }
}

/// What is wrong with a report's answers, checked on their own while its
/// other fields were wrong, so that a form shows every error at once (none
/// when the category is not this city's).
pub fn answer_problems(
    services: &Services,
    conn: &mut DbConnection,
    category_code: &str,
    raw: BTreeMap<String, crate::reports::questions::RawAnswer>,
) -> Result<Vec<ValidationError>, DbError> {
    let snapshot = services.catalog_snapshot(conn)?;
    let Some(category) = snapshot.categories.get(category_code.trim()) else {
        return Ok(Vec::new());
    };
    let channel = Channel::api();
    Ok(check_answers(
        &category.questions,
        raw,
        channel.unknown_answers,
        channel.answer_field,
    )
    .err()
    .map(ValidationError::into_each)
    .unwrap_or_default())
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

/// Cleans uploaded photos (blocking: run it off the async threads); a bad
/// one is refused naming it by `photo_field`, and one that would take more
/// memory than the decode budget has left is refused as unavailable.
pub fn clean_photos(
    services: &Services,
    uploads: &[Upload],
    photo_field: fn(usize) -> String,
) -> Result<Vec<CleanPhoto>, FilingError> {
    if uploads.len() > services.max_photos {
        return Err(invalid(
            photo_field(services.max_photos),
            crate::locale::Text::new(
                format!(
                    "за раз можно прислать не больше {} фотографий",
                    services.max_photos
                ),
                format!("at most {} photos may come at once", services.max_photos),
            ),
        ));
    }
    let limits = services.photo_limits;
    uploads
        .iter()
        .enumerate()
        .map(|(i, upload)| {
            // Bounded before anything is decoded: the header says what
            // decoding will take.
            let _reserved = match media::cleaning_cost(&upload.bytes, limits) {
                Some(cost) => Some(services.decode_budget.reserve(cost).ok_or_else(|| {
                    FilingError::Unavailable(format!(
                        "{}: the server is cleaning as many photos as its memory allows",
                        photo_field(i)
                    ))
                })?),
                None => None,
            };
            media::clean(&upload.bytes, upload.content_type.as_deref(), limits)
                .map_err(|e| invalid(photo_field(i), e.text()))
        })
        .collect()
}

/// Puts cleaned photos in the media store (blocking), before any
/// transaction: an upload never holds a database lock, and a store that
/// fails refuses the filing or move with nothing written. A move refused
/// afterwards leaves its photos stored but unlisted (content-addressed: the
/// same photo sent again reuses them).
pub fn store_photos(
    services: &Services,
    photos: &[CleanPhoto],
) -> Result<Vec<StoredPhoto>, FilingError> {
    for photo in photos {
        services
            .media
            .store(photo)
            .map_err(|e| FilingError::Unavailable(e.to_string()))?;
    }
    Ok(photos.iter().map(StoredPhoto::of).collect())
}

/// Refused when the resident with this email has filed, with `held`
/// reports awaiting confirmation, their reports of the day.
pub fn within_daily_limit(
    services: &Services,
    conn: &mut DbConnection,
    email: &str,
    held: i64,
    now: NaiveDateTime,
) -> Result<(), FilingError> {
    let today = crate::limits::local_day(now, services.time_zone);
    let filed = db::reports::filed_since(conn, email, today.start)?;
    if held + filed < services.limits.reports_per_day {
        return Ok(());
    }
    let most = services.limits.reports_per_day;
    Err(FilingError::TooMany {
        what: crate::limits::come_back(
            crate::locale::Text::new(
                format!("сообщений в день от одного жителя — не больше {most}"),
                format!("{most} reports a day is the most one resident may file"),
            ),
            today.end,
            services.time_zone,
        ),
        window: today,
        retry_after: today.end - now,
    })
}

/// Refused when `email` had its confirmation emails of the day: nobody
/// can fill a stranger's mailbox by acting in their name.
pub fn mail_allowed(
    services: &Services,
    conn: &mut DbConnection,
    email: &str,
    now: NaiveDateTime,
) -> Result<(), FilingError> {
    if super::limits::confirmation_allowed(services, conn, email, now)? {
        return Ok(());
    }
    let today = crate::limits::local_day(now, services.time_zone);
    let most = services.limits.confirmations_per_address_per_day;
    Err(FilingError::TooMany {
        what: crate::limits::come_back(
            crate::locale::Text::new(
                format!("писем с подтверждением на один адрес в день — не больше {most}, и сегодня они уже ушли"),
                format!("this address has had {most} confirmation emails today, the most one address gets"),
            ),
            today.end,
            services.time_zone,
        ),
        window: today,
        retry_after: today.end - now,
    })
}

/// The checks a filing passes on the writer's connection, and what they
/// give: the record to write.
pub fn check(
    services: &Services,
    conn: &mut DbConnection,
    report: NewReport,
    photos: Photos,
    channel: Channel,
    now: NaiveDateTime,
) -> Result<FilingRecord, FilingError> {
    if let Some(reporter) = &report.reporter {
        within_daily_limit(services, conn, reporter.email.as_str(), 0, now)?;
    }
    let snapshot = services.catalog_snapshot(conn)?;
    let place = place(services, conn, &report)?;
    // Every check has passed before the photos reach the store.
    record(&snapshot, report, place, channel, now, || match photos {
        Photos::Clean(photos) => store_photos(services, &photos),
        Photos::Stored(photos) => Ok(photos),
    })
}

/// What the city's geodata says of a report's place: the registry's
/// address near its point, and the object it names (see `geodata`).
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub address: Option<String>,
    pub object: Option<Picked>,
}

/// Looks up the report's place in the registry and its object.
pub fn place(
    services: &Services,
    conn: &mut DbConnection,
    report: &NewReport,
) -> Result<Place, DbError> {
    let index = geodata::index(services, conn)?;
    Ok(Place {
        address: geodata::address_at(&index, &report.location),
        object: geodata::picked(conn, report.object.as_deref())?,
    })
}

/// What filing `report` under the catalogue writes: its category and
/// answers checked, routed by the city map (or to its object's
/// department), its deadlines counted from `now`, its address the
/// registry's when a house is near. `photos` runs only once all of that
/// has passed.
pub fn record(
    snapshot: &CatalogSnapshot,
    mut report: NewReport,
    place: Place,
    channel: Channel,
    now: NaiveDateTime,
    photos: impl FnOnce() -> Result<Vec<StoredPhoto>, FilingError>,
) -> Result<FilingRecord, FilingError> {
    let code = &report.category_code;
    let category = snapshot.categories.get(code).ok_or_else(|| {
        invalid(
            "category",
            crate::locale::Text::new(
                format!("«{code}» — не категория этого города; их список: GET /api/v1/categories"),
                format!(
                    "'{code}' is not a category of this city; GET /api/v1/categories lists them"
                ),
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
            invalid(
                "location",
                crate::locale::Text::new(
                    format!("точка ({lat}, {lon}) вне территории, которую обслуживает город"),
                    format!("the point ({lat}, {lon}) is outside the city's service areas"),
                ),
            )
        })?;
    let (object, decision) =
        geodata::check_object(snapshot, category, &report.location, place.object, decision)?;
    if let Some(address) = place.address {
        report.address = Some(address);
    }
    let photos = photos()?;
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
    Ok(FilingRecord {
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
        idempotency: channel.idempotency,
        object,
    })
}

/// Checks a report as filing would and keeps it, with its photos stored,
/// until its filer confirms it (`text`: the request as sent, filed again
/// then). Counts against the filer's daily limit. When it expires.
pub fn hold(
    services: &Services,
    conn: &mut DbConnection,
    text: String,
    report: NewReport,
    photos: Vec<CleanPhoto>,
    lasts: TimeDelta,
    now: NaiveDateTime,
) -> Result<NaiveDateTime, FilingError> {
    let reporter = report
        .reporter
        .clone()
        .ok_or_else(|| FilingError::Invalid(ValidationError::required("reporter")))?;
    let email = reporter.email.as_str();
    let today = crate::limits::local_day(now, services.time_zone);
    let held = pending_db::held_since(conn, email, today.start)?;
    within_daily_limit(services, conn, email, held, now)?;
    mail_allowed(services, conn, email, now)?;
    // The checks filing makes, so that confirming cannot fail on the report
    // itself; the record they give is not written.
    let record = check(
        services,
        conn,
        report,
        Photos::Clean(photos),
        Channel::api(),
        now,
    )?;
    let photos = serde_json::to_string(&record.photos)
        .map_err(|e| DbError::Corrupt(format!("the photos cannot be kept: {e}")))?;
    let expires_at = now + lasts;
    pending_db::hold(
        conn,
        &PendingRow {
            id: db::new_id(),
            email: email.to_string(),
            locale: reporter.locale.map_or("ru", Locale::code).to_string(),
            report: text,
            photos,
            created_at: now,
            expires_at,
            confirmed_at: None,
            report_id: None,
        },
    )?;
    Ok(expires_at)
}

/// Takes a held filing to file it, once (another confirmation of the same
/// link finds nothing); `None` when it was filed already or has expired.
pub fn claim_held(
    services: &Services,
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<PendingRow>, DbError> {
    pending_db::claim(conn, id, services.clock.now())
}

/// A claimed held filing became the report `report_id`.
pub fn settle_held(conn: &mut DbConnection, id: &str, report_id: &str) -> Result<(), DbError> {
    pending_db::settle(conn, id, report_id)
}

/// A claimed held filing was refused: it waits again for its link.
/// What a held report says, for its confirmation page.
pub struct HeldReport {
    /// Its category's names (Russian, English) while the category exists.
    pub category: Option<(String, String)>,
    pub description: String,
}

/// What a held report says.
pub fn held_report(conn: &mut DbConnection, id: &str) -> Result<Option<HeldReport>, DbError> {
    #[derive(serde::Deserialize)]
    struct Said {
        category: String,
        description: String,
    }
    let Some(said) =
        pending_db::held(conn, id)?.and_then(|row| serde_json::from_str::<Said>(&row.report).ok())
    else {
        return Ok(None);
    };
    let category = db::admin::category(conn, &said.category)?.map(|c| (c.name_ru, c.name_en));
    Ok(Some(HeldReport {
        category,
        description: said.description,
    }))
}

pub fn release_held(conn: &mut DbConnection, id: &str) -> Result<(), DbError> {
    pending_db::release(conn, id)
}
