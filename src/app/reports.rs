//! Reading reports: one report with its clocks and history, pages and map
//! points under a filter, a resident's own, what is open near a point, and
//! a resident's "me too". Lists are filtered by codes people type; they
//! are resolved to the catalogue's ids here, each unknown one named.

pub use crate::db::filing::{FiledReport, Nearby, StoredPhoto};
pub use crate::db::reports::{MapPoint, ReportDetail, ReportFilter, ReportListing, Support};
pub use crate::db::rows::{AttachmentRow, ReportEventRow, ReportPauseRow, ReportRow};

use chrono::NaiveDateTime;
use std::collections::HashMap;

use super::Services;
use crate::db::pending::PendingSupportRow;
use crate::db::{self, catalog, reports as report_db, DbConnection, DbError};
use crate::ledger::Entry;
use crate::locale::Locale;
use crate::policy::Target;
use crate::reports::{EmailAddress, Location, ReportStatus, Reporter, ValidationError};
use crate::routing::Departments;
use crate::sla::schedule;

/// Why a read is refused.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A parameter names something the city does not have.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A filter as asked for: categories and departments by code.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub filter: ReportFilter,
    pub category_codes: Vec<String>,
    pub department_codes: Vec<String>,
}

/// The filter with its codes resolved to ids.
pub fn resolve(conn: &mut DbConnection, wanted: Wanted) -> Result<ReportFilter, QueryError> {
    let mut filter = wanted.filter;
    for code in wanted.category_codes {
        let id = catalog::category_id(conn, &code)?.ok_or_else(|| {
            ValidationError::unknown("category", &code, ("категория", "category"))
        })?;
        filter.category_ids.push(id);
    }
    for code in wanted.department_codes {
        let id = catalog::department_id(conn, &code)?.ok_or_else(|| {
            ValidationError::unknown("department", &code, ("подразделение", "department"))
        })?;
        filter.department_ids.push(id);
    }
    Ok(filter)
}

/// A page of reports, newest first, with the total.
pub fn page(
    conn: &mut DbConnection,
    wanted: Wanted,
    page: i64,
    per_page: i64,
) -> Result<(i64, Vec<ReportListing>), QueryError> {
    let filter = resolve(conn, wanted)?;
    Ok(report_db::list(conn, &filter, page, per_page)?)
}

/// Up to `limit` map points under the filter, newest first.
pub fn map_points(
    conn: &mut DbConnection,
    wanted: Wanted,
    limit: i64,
) -> Result<Vec<MapPoint>, QueryError> {
    let filter = resolve(conn, wanted)?;
    Ok(report_db::map_points(conn, &filter, limit)?)
}

/// A report's public number.
pub fn number_of(conn: &mut DbConnection, id: &str) -> Result<Option<i64>, DbError> {
    Ok(report_db::number_and_status(conn, id)?.map(|(n, _)| n))
}

/// A report by id.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<ReportDetail>, DbError> {
    report_db::find(conn, id)
}

/// The id of the report with a public number.
pub fn id_of_number(conn: &mut DbConnection, number: i64) -> Result<Option<String>, DbError> {
    report_db::id_of_number(conn, number)
}

/// The reports a resident filed or follows, newest first.
pub fn of_resident(
    conn: &mut DbConnection,
    user_id: &str,
    limit: i64,
) -> Result<Vec<ReportListing>, DbError> {
    report_db::of_resident(conn, user_id, limit)
}

/// A report's department and whether `user_id` filed or follows it.
pub fn involvement(
    conn: &mut DbConnection,
    report_id: &str,
    user_id: &str,
) -> Result<Option<(Option<String>, bool)>, DbError> {
    report_db::involvement(conn, report_id, user_id)
}

/// Open reports of a category near a point, nearest first (within the
/// category's duplicate radius).
pub fn nearby(
    conn: &mut DbConnection,
    category_code: &str,
    location: Location,
) -> Result<Vec<Nearby>, QueryError> {
    let category = catalog::category_for_filing(conn, category_code)?.ok_or_else(|| {
        ValidationError::unknown("category", category_code, ("категория", "category"))
    })?;
    let probe = db::filing::Probe {
        category_id: category.routing.id.to_string(),
        lat: location.lat(),
        lon: location.lon(),
        radius_m: category.duplicate_radius_m,
    };
    Ok(db::filing::nearby_open(conn, &probe)?)
}

/// "Me too": a resident joins an open report, once.
pub fn support(
    app: &Services,
    conn: &mut DbConnection,
    report_id: &str,
    resident: &Reporter,
) -> Result<Support, DbError> {
    report_db::support(conn, app.clock.now(), report_id, resident)
}

/// What a resident sent without logging in, held for their link.
#[derive(Debug, Clone)]
pub enum Held {
    /// "Me too".
    Support,
    Follow,
    /// An update: its words and photos (stored already).
    Update {
        text: String,
        photos: Vec<StoredPhoto>,
    },
}

impl Held {
    fn kind(&self) -> &'static str {
        match self {
            Held::Support => "support",
            Held::Follow => "follow",
            Held::Update { .. } => "update",
        }
    }
}

/// The stored form of a held update's words and photos.
#[derive(serde::Serialize, serde::Deserialize)]
struct HeldUpdate {
    text: String,
    photos: Vec<StoredPhoto>,
}

/// What became of something sent without logging in.
pub enum HeldSupport {
    /// It waits for the link emailed to its sender, until then.
    Waiting {
        expires_at: NaiveDateTime,
    },
    Closed {
        status: String,
    },
    NoSuchReport,
}

/// Keeps a "me too", a follow or an update from someone not logged in
/// until they confirm it by the emailed link (so nobody can sign a
/// stranger up to a report, or speak in their name), within the address's
/// confirmation emails of the day.
pub fn hold_support(
    app: &Services,
    conn: &mut DbConnection,
    report_id: &str,
    resident: &Reporter,
    lasts: chrono::TimeDelta,
    what: Held,
) -> Result<HeldSupport, super::filing::FilingError> {
    let now = app.clock.now();
    let Some((number, status)) = report_db::number_and_status(conn, report_id)? else {
        return Ok(HeldSupport::NoSuchReport);
    };
    if !status
        .parse::<ReportStatus>()
        .is_ok_and(ReportStatus::is_open)
    {
        return Ok(HeldSupport::Closed { status });
    }
    super::filing::mail_allowed(app, conn, resident.email.as_str(), now)?;
    let expires_at = now + lasts;
    let payload = match &what {
        Held::Update { text, photos } => Some(
            serde_json::to_string(&HeldUpdate {
                text: text.clone(),
                photos: photos.clone(),
            })
            .map_err(|e| DbError::Corrupt(e.to_string()))?,
        ),
        _ => None,
    };
    let row = PendingSupportRow {
        id: db::new_id(),
        report_id: report_id.to_string(),
        email: resident.email.as_str().to_string(),
        name: resident.name.clone(),
        locale: resident.locale.map_or("ru", Locale::code).to_string(),
        created_at: now,
        expires_at,
        confirmed_at: None,
        kind: what.kind().to_string(),
        payload,
    };
    crate::db::pending::hold_support(conn, &row, number)?;
    Ok(HeldSupport::Waiting { expires_at })
}

/// The number and description of the report something held is for, and
/// what is held (`support`, `follow` or `update`).
pub fn held_support_report(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<(i64, String, String)>, DbError> {
    let Some((report_id, kind)) = db::pending::supported_report(conn, id)? else {
        return Ok(None);
    };
    Ok(db::reports::find(conn, &report_id)?
        .map(|detail| (detail.report.number, detail.report.description, kind)))
}

/// What a confirmed link did.
pub enum Confirmed {
    Supported(Support),
    Followed(super::updates::Followed),
    Updated(super::updates::Added),
}

/// Applies something held whose link was followed, once: the report's
/// number and what came of it; `None` when confirmed already or expired.
pub fn confirm_support(
    app: &Services,
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<(i64, Confirmed)>, super::updates::UpdateError> {
    let now = app.clock.now();
    let Some(held) = crate::db::pending::claim_support(conn, id, now)? else {
        return Ok(None);
    };
    let email = EmailAddress::parse("email", &held.email)
        .map_err(|e| DbError::Corrupt(format!("a held \"me too\": {}", e.message)))?;
    let resident = Reporter {
        email,
        name: held.name,
        phone: None,
        show_name: false,
        locale: Locale::exact(&held.locale),
    };
    let number = report_db::number_and_status(conn, &held.report_id)?.map_or(0, |(n, _)| n);
    let confirmed = match held.kind.as_str() {
        "follow" => Confirmed::Followed(super::updates::follow(
            app,
            conn,
            &held.report_id,
            &resident,
        )?),
        "update" => {
            let update: HeldUpdate = serde_json::from_str(held.payload.as_deref().unwrap_or(""))
                .map_err(|e| DbError::Corrupt(format!("a held update: {e}")))?;
            let author = db::filing::resident_by_email(conn, now, &resident)?;
            Confirmed::Updated(super::updates::add(
                app,
                conn,
                super::updates::NewUpdate {
                    report_id: &held.report_id,
                    author_id: &author,
                    text: crate::reports::updates::UpdateText::parse("text", &update.text)?,
                    photos: update.photos,
                },
            )?)
        }
        _ => Confirmed::Supported(report_db::support(conn, now, &held.report_id, &resident)?),
    };
    Ok(Some((number, confirmed)))
}

/// A report's clocks and what else its page shows besides the report.
pub struct Clocks {
    pub standing: Option<schedule::Standing>,
    pub pauses: Vec<ReportPauseRow>,
    /// Followers' answers to the current answer: (fixed, not fixed).
    pub checks: (i64, i64),
    pub ledger: Vec<Entry>,
    /// Whether the caller sees the internal history too.
    pub internal_history: bool,
}

/// One report as a reader sees it.
pub struct Read {
    pub detail: ReportDetail,
    /// Every photo for staff; for anyone else those the public sees.
    pub photos: Vec<AttachmentRow>,
    /// Residents' updates and where each stands.
    pub updates: Vec<super::updates::Update>,
    /// Moderators' edits, with what each replaced (for staff only).
    pub edits: Vec<super::moderation::Edit>,
    pub clocks: Clocks,
    /// The current cycle's pauses (what the workflow judges a move by).
    pub current_pauses: Vec<ReportPauseRow>,
    /// The catalogue's names, for the history in words.
    pub names: std::sync::Arc<crate::reports::history::Names>,
    /// What was checked of answers' and refutations' photos, by event id.
    pub photo_checks: Vec<(String, crate::reports::evidence::PhotoCheck)>,
}

/// One report with its photos, its deadlines' standing now, its checks and
/// ledger entries; `sees_internal` says whether the reader may see its
/// internal history.
pub fn read(
    app: &Services,
    conn: &mut DbConnection,
    id: &str,
    sees_internal: impl FnOnce(Target, &Departments) -> bool,
) -> Result<Option<Read>, DbError> {
    let Some(detail) = report_db::find(conn, id)? else {
        return Ok(None);
    };
    let snapshot = app.catalog_snapshot(conn)?;
    let plan = db::workflow::plan_of(&snapshot, &detail.report)?;
    let all_pauses = db::workflow::all_pauses(conn, &detail.report.id)?;
    let current: Vec<_> = all_pauses
        .iter()
        .filter(|p| p.cycle == detail.report.cycle)
        .cloned()
        .collect();
    let facts = db::workflow::deadline_facts(&detail.report, &current)?;
    let target = Target::Report {
        department: detail
            .report
            .department_id
            .as_deref()
            .and_then(|d| d.parse().ok()),
        involves_caller: false,
    };
    let clocks = Clocks {
        standing: schedule::standing(&plan.policy, &plan.calendar, &facts, app.clock.now()),
        pauses: all_pauses,
        checks: db::workflow::check_counts(conn, id, detail.report.cycle)?,
        ledger: db::ledger::entries_of(conn, id)?,
        internal_history: sees_internal(target, snapshot.map.departments()),
    };
    let photos = report_db::photos(conn, id, clocks.internal_history)?;
    let updates = crate::db::updates::of_report(conn, id)?;
    let edits = if clocks.internal_history {
        super::moderation::edits_of(conn, id)?
    } else {
        Vec::new()
    };
    let photo_checks = db::evidence::checks_of(conn, &detail.report.id)?;
    Ok(Some(Read {
        detail,
        photos,
        updates,
        edits,
        clocks,
        current_pauses: current,
        names: snapshot.names.clone(),
        photo_checks,
    }))
}

/// A page of reports for Open311: each with its photos, its media links,
/// the note of its latest public change of status, and (when asked) its
/// whole public history.
pub struct RequestsPage {
    pub listings: Vec<ReportListing>,
    pub photos: Vec<AttachmentRow>,
    pub links: Vec<crate::db::rows::ReportMediaLinkRow>,
    /// The note of each report's latest public change of status, by id.
    pub status_notes: HashMap<String, String>,
    /// Every public event, oldest first (empty unless `extensions`).
    pub events: Vec<ReportEventRow>,
}

/// A page of reports for Open311 with what a request shows: its first
/// photo and its latest status note, or (`extensions`) every photo and the
/// whole public history.
pub fn requests_page(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    page: i64,
    per_page: i64,
    extensions: bool,
) -> Result<RequestsPage, DbError> {
    let listings = report_db::page_of(conn, filter, page, per_page)?;
    let ids: Vec<String> = listings.iter().map(|l| l.report.id.clone()).collect();
    let photos = if extensions {
        report_db::photos_of(conn, &ids)?
    } else {
        report_db::first_photos(conn, &ids)?.into_values().collect()
    };
    let events = if extensions {
        report_db::public_events(conn, &ids)?
    } else {
        Vec::new()
    };
    Ok(RequestsPage {
        status_notes: report_db::status_notes(conn, &ids)?,
        links: report_db::media_links_of(conn, &ids)?,
        listings,
        photos,
        events,
    })
}

/// Public events between two times, oldest first, with each report's
/// number; at most `limit`.
pub fn events_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(ReportEventRow, i64)>, DbError> {
    report_db::events_between(conn, from, before, limit)
}
