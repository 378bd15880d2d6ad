//! Writing filings: a batch of checked reports with their events, photos,
//! subscriptions, new residents, numbers and idempotency keys in one
//! transaction (PostgreSQL's multi-row form in `postgres`), and the
//! duplicate candidates of a batch, found in one statement.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use std::collections::{BTreeMap, HashMap, HashSet};

use uuid::Uuid;

use crate::sla::schedule::Due;

use crate::db::rows::OutboxRow;
use crate::db::rows::{
    AttachmentRow, IdempotencyRow, ReportEventRow, ReportMediaLinkRow, ReportObjectRow, ReportRow,
    SearchPendingRow, SubscriptionRow, UserRow,
};
use crate::db::schema::{
    attachments, counters, idempotency_keys, report_events, report_media_links, report_objects,
    reports, search_pending, subscriptions, users,
};
use crate::db::{new_id, outbox, write_transaction, DbConnection, DbError};
use crate::locale::Locale;
use crate::notify::dates::{step_date, Clocks};
use crate::reports::history::Detail;
use crate::reports::questions::Answer;
use crate::reports::{nearby, NewReport, ReportStatus, Reporter};
use crate::routing::RoutingDecision;
use postgres as pg_filing;

mod postgres;
pub const REPORT_NUMBER_COUNTER: &str = "report_number";

/// What filing returns to the resident.
#[derive(Debug, Clone)]
pub struct FiledReport {
    pub id: String,
    pub number: i64,
    pub status: ReportStatus,
}

/// A photo already cleaned and stored in the media store.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredPhoto {
    pub hash: String,
    pub width: u32,
    pub height: u32,
    pub bytes: usize,
    /// What the original said about itself before it was stripped (the
    /// stored file says nothing).
    #[serde(default)]
    pub facts: crate::media::evidence::PhotoFacts,
    /// Its perceptual hash.
    #[serde(default)]
    pub print: Vec<u8>,
}

impl StoredPhoto {
    pub fn of(photo: &crate::media::CleanPhoto) -> StoredPhoto {
        StoredPhoto {
            hash: photo.hash.clone(),
            width: photo.width,
            height: photo.height,
            bytes: photo.jpeg.len(),
            facts: photo.facts.clone(),
            print: photo.print.clone(),
        }
    }

    /// The photo attached to a report by one of its events.
    pub fn attachment(
        &self,
        report_id: &str,
        event_id: &str,
        position: usize,
        now: NaiveDateTime,
    ) -> AttachmentRow {
        AttachmentRow {
            id: new_id(),
            report_id: report_id.to_string(),
            event_id: Some(event_id.to_string()),
            position: i32::try_from(position).unwrap_or(i32::MAX),
            content_hash: self.hash.clone(),
            mime: "image/jpeg".into(),
            width: i32::try_from(self.width).unwrap_or(i32::MAX),
            height: i32::try_from(self.height).unwrap_or(i32::MAX),
            bytes: i64::try_from(self.bytes).unwrap_or(i64::MAX),
            created_at: now,
            hidden_at: None,
        }
    }
}

/// A filing, checked and routed, owned so that it can wait for the writer.
#[derive(Debug, Clone)]
pub struct FilingRecord {
    pub now: NaiveDateTime,
    pub report: NewReport,
    pub category_id: Uuid,
    pub answers: BTreeMap<String, Answer>,
    pub decision: RoutingDecision,
    /// 'api', 'open311' or 'web'
    pub source: &'static str,
    pub photos: Vec<StoredPhoto>,
    /// The deadlines counted from filing, and when the SLA scanner must
    /// first look at the report.
    pub due: Due,
    pub next_sla_at: Option<NaiveDateTime>,
    /// How far from the report open ones of its category count as
    /// duplicate candidates.
    pub duplicate_radius_m: f64,
    /// The client's idempotency key (hashed with the caller) and the
    /// request's hash, kept with the report.
    pub idempotency: Option<(String, String)>,
    /// The city object picked, when one was.
    pub object: Option<crate::db::rows::CityObjectRow>,
}

impl FilingRecord {
    /// Where its duplicate candidates are looked for.
    pub fn probe(&self) -> Probe {
        Probe {
            category_id: self.category_id.to_string(),
            lat: self.report.location.lat(),
            lon: self.report.location.lon(),
            radius_m: self.duplicate_radius_m,
        }
    }
}

/// The rows one batch of filings writes.
pub struct FilingRows {
    pub reports: Vec<ReportRow>,
    pub events: Vec<ReportEventRow>,
    pub photos: Vec<AttachmentRow>,
    pub followers: Vec<SubscriptionRow>,
    /// The reporters' receipts, queued for the mail dispatcher.
    pub receipts: Vec<OutboxRow>,
    pub idempotency_keys: Vec<IdempotencyRow>,
    /// The reports, for the search indexer.
    pub pending: Vec<SearchPendingRow>,
    /// The city objects the reports are about.
    pub objects: Vec<ReportObjectRow>,
    /// Photos the reports came with as addresses.
    pub media_links: Vec<ReportMediaLinkRow>,
}

/// Files a batch of reports: their reporters (found, or created as
/// residents), the reports, their first history events, photos, the
/// reporters' subscriptions and receipts, all of them or none. On SQLite in
/// one write transaction with one multi-row statement per table; on
/// PostgreSQL the rows are written by one statement, after the reporters'
/// accounts and the numbers are drawn ([`super::pg_filing`]).
pub fn file_batch(
    conn: &mut DbConnection,
    filings: &[&FilingRecord],
) -> Result<Vec<FiledReport>, DbError> {
    let reporters = new_reporters(filings);
    // Webhooks and back offices hear of filings when any exist.
    let hooked = super::back_office::hooked(conn)?;
    let write = |conn: &mut DbConnection| {
        let residents = residents_by_email(conn, reporters)?;
        let numbers = next_numbers(conn, filings.len())?;
        let account = |reporter: &Reporter| residents.get(reporter.email.as_str()).cloned();
        let rows = filing_rows(filings, account, &numbers)?;
        match conn {
            DbConnection::Postgres(pg) => pg_filing::insert(pg, &rows)?,
            DbConnection::Sqlite(_) => {
                insert_batches!(conn, reports::table, &rows.reports);
                insert_batches!(conn, report_events::table, &rows.events);
                insert_batches!(conn, attachments::table, &rows.photos);
                insert_batches!(conn, subscriptions::table, &rows.followers);
                insert_batches!(conn, idempotency_keys::table, &rows.idempotency_keys);
                insert_batches!(conn, search_pending::table, &rows.pending);
                insert_batches!(conn, report_objects::table, &rows.objects);
                insert_batches!(conn, report_media_links::table, &rows.media_links);
                outbox::enqueue(conn, &rows.receipts)?;
            }
        }
        if hooked {
            let events: Vec<(&str, &str)> = rows
                .events
                .iter()
                .map(|e| (e.id.as_str(), e.report_id.as_str()))
                .collect();
            let now = rows.events.first().map(|e| e.created_at);
            if let Some(now) = now {
                super::back_office::enqueue(conn, &events, now)?;
            }
        }
        Ok(rows
            .reports
            .into_iter()
            .map(|r| FiledReport {
                id: r.id,
                number: r.number,
                status: ReportStatus::Moderation,
            })
            .collect())
    };
    match conn {
        // One statement writes the rows: atomic without a transaction,
        // unless the events are queued for webhooks too.
        DbConnection::Postgres(_) if !hooked => write(conn),
        DbConnection::Postgres(_) => write_transaction(conn, write),
        DbConnection::Sqlite(_) => write_transaction(conn, write),
    }
}

/// The rows that file these reports, with these numbers, naming each
/// reporter (and the language of their receipt) as `reporter` says.
fn filing_rows(
    filings: &[&FilingRecord],
    reporter: impl Fn(&Reporter) -> Option<(String, String)>,
    numbers: &[i64],
) -> Result<FilingRows, DbError> {
    let status = ReportStatus::Moderation;
    let mut rows = FilingRows {
        reports: Vec::with_capacity(filings.len()),
        events: Vec::with_capacity(filings.len()),
        photos: Vec::new(),
        followers: Vec::with_capacity(filings.len()),
        receipts: Vec::with_capacity(filings.len()),
        idempotency_keys: Vec::new(),
        pending: Vec::with_capacity(filings.len()),
        objects: Vec::new(),
        media_links: Vec::new(),
    };
    for (filing, &number) in filings.iter().zip(numbers) {
        let report = &filing.report;
        let account = report.reporter.as_ref().and_then(&reporter);
        let (reporter_id, locale) = account.map_or((None, None), |(id, l)| (Some(id), Some(l)));
        let answers = serde_json::to_string(&filing.answers)
            .map_err(|e| DbError::Corrupt(format!("answers do not serialise: {e}")))?;
        let row = ReportRow {
            id: new_id(),
            number,
            category_id: filing.category_id.to_string(),
            lat: report.location.lat(),
            lon: report.location.lon(),
            address: report.address.clone(),
            description: report.description.as_str().to_string(),
            answers,
            source: filing.source.to_string(),
            support_count: 1,
            status: status.as_str().to_string(),
            service_area_id: Some(filing.decision.service_area_id.to_string()),
            department_id: filing.decision.department_id.map(|d| d.to_string()),
            routing_rule: filing.decision.rule(),
            assignee_id: None,
            reporter_id: reporter_id.clone(),
            reporter_name_public: report.reporter.as_ref().is_some_and(|r| r.show_name),
            duplicate_of: None,
            created_at: filing.now,
            updated_at: filing.now,
            moderation_due_at: filing.due.moderation,
            answer_due_at: filing.due.answer,
            resolved_at: None,
            closed_at: None,
            cycle: 0,
            cycle_started_at: Some(filing.now),
            moderated_at: None,
            responded_at: None,
            fix_due_at: filing.due.fix,
            check_due_at: None,
            escalation_level: 0,
            next_sla_at: filing.next_sla_at,
        };
        let event = ReportEventRow {
            id: new_id(),
            report_id: row.id.clone(),
            actor_id: reporter_id.clone(),
            actor_role: "resident".into(),
            kind: "filed".into(),
            from_status: None,
            to_status: status.as_str().into(),
            note: None,
            public: true,
            created_at: filing.now,
            details: Some(Detail::Routed(filing.decision.route.clone()).to_json()),
        };
        for (position, photo) in filing.photos.iter().enumerate() {
            rows.photos
                .push(photo.attachment(&row.id, &event.id, position, filing.now));
        }
        if let (Some(locale), Some(reporter)) = (locale, &report.reporter) {
            let receipt = serde_json::json!({
                "report": number,
                "report_id": row.id,
                "date": step_date("filed", &Clocks {
                    moderating: status == ReportStatus::Moderation,
                    moderation_due: row.moderation_due_at,
                    answer_due: row.answer_due_at,
                    fix_due: row.fix_due_at,
                    ..Clocks::default()
                }),
            });
            let to = vec![(reporter.email.as_str().to_string(), locale)];
            rows.receipts.extend(outbox::messages(
                &event.id, "filed", to, &receipt, filing.now,
            ));
        }
        if let Some(user_id) = reporter_id {
            rows.followers.push(SubscriptionRow {
                id: new_id(),
                report_id: row.id.clone(),
                user_id,
                kind: "reporter".into(),
                created_at: filing.now,
                unsubscribed_at: None,
            });
        }
        if let Some((key_hash, request_hash)) = &filing.idempotency {
            rows.idempotency_keys.push(IdempotencyRow {
                key_hash: key_hash.clone(),
                request_hash: request_hash.clone(),
                report_id: Some(row.id.clone()),
                status: None,
                response: None,
                created_at: filing.now,
            });
        }
        rows.pending.push(SearchPendingRow {
            report_id: row.id.clone(),
        });
        if let Some(object) = &filing.object {
            rows.objects.push(ReportObjectRow {
                report_id: row.id.clone(),
                object_id: object.id.clone(),
                created_at: filing.now,
            });
        }
        for (position, url) in report.media_urls.iter().enumerate() {
            rows.media_links.push(ReportMediaLinkRow {
                report_id: row.id.clone(),
                position: i32::try_from(position).unwrap_or(i32::MAX),
                url: url.clone(),
            });
        }
        rows.reports.push(row);
        rows.events.push(event);
    }
    Ok(rows)
}

/// A new resident user for each distinct reporter of these filings, to be
/// created if their email has none yet.
fn new_reporters(filings: &[&FilingRecord]) -> Vec<UserRow> {
    let mut seen = HashSet::new();
    filings
        .iter()
        .filter_map(|f| f.report.reporter.as_ref().map(|r| (r, f.now)))
        .filter(|(reporter, _)| seen.insert(reporter.email.as_str()))
        .map(|(reporter, now)| new_resident(reporter, now))
        .collect()
}

/// The user ids and languages of these residents by email, creating those
/// who are not known yet (on PostgreSQL in one statement that another
/// writer creating the same user cannot fail).
fn residents_by_email(
    conn: &mut DbConnection,
    reporters: Vec<UserRow>,
) -> Result<HashMap<String, (String, String)>, DbError> {
    if let DbConnection::Postgres(pg) = conn {
        return pg_filing::residents(pg, &reporters);
    }
    let found: Vec<(String, String, String)> = match &reporters[..] {
        [] => return Ok(HashMap::new()),
        // One email: the plain equality, whose prepared statement is cached.
        [one] => users::table
            .filter(users::email.eq(&one.email))
            .select((users::email, users::id, users::locale))
            .load(conn)?,
        _ => users::table
            .filter(users::email.eq_any(reporters.iter().map(|a| a.email.as_str())))
            .select((users::email, users::id, users::locale))
            .load(conn)?,
    };
    let mut known: HashMap<String, (String, String)> = found
        .into_iter()
        .map(|(email, id, locale)| (email, (id, locale)))
        .collect();
    let new_users: Vec<UserRow> = reporters
        .into_iter()
        .filter(|a| !known.contains_key(&a.email))
        .collect();
    for user in &new_users {
        known.insert(user.email.clone(), (user.id.clone(), user.locale.clone()));
    }
    insert_batches!(conn, users::table, &new_users);
    Ok(known)
}

fn new_resident(reporter: &Reporter, now: NaiveDateTime) -> UserRow {
    UserRow {
        id: new_id(),
        email: reporter.email.as_str().to_string(),
        name: reporter.name.clone(),
        phone: reporter.phone.clone(),
        role: "resident".into(),
        department_id: None,
        locale: reporter.locale.unwrap_or(Locale::Ru).code().into(),
        created_at: now,
    }
}

/// The id and language of the user with `new`'s email, creating `new` if
/// there is none.
pub fn find_or_create_user(
    conn: &mut DbConnection,
    new: &UserRow,
) -> Result<(String, String), DbError> {
    let existing = users::table
        .filter(users::email.eq(&new.email))
        .select((users::id, users::locale))
        .first(conn)
        .optional()?;
    if let Some(found) = existing {
        return Ok(found);
    }
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)?;
    Ok((new.id.clone(), new.locale.clone()))
}

pub fn subscribe(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    report_id: &str,
    user_id: &str,
    kind: &str,
) -> Result<(), DbError> {
    diesel::insert_into(subscriptions::table)
        .values(SubscriptionRow {
            id: new_id(),
            report_id: report_id.to_string(),
            user_id: user_id.to_string(),
            kind: kind.to_string(),
            created_at: now,
            unsubscribed_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// The next `count` public report numbers, ascending. On SQLite from the
/// counter row, inside the write transaction that holds the only write
/// lock, so numbers are gapless; PostgreSQL draws them from a sequence, so
/// that concurrent filings never queue for a number (a failed filing leaves
/// a gap).
fn next_numbers(conn: &mut DbConnection, count: usize) -> Result<Vec<i64>, DbError> {
    if let DbConnection::Postgres(pg) = conn {
        return pg_filing::numbers(pg, count);
    }
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let counter = counters::table.find(REPORT_NUMBER_COUNTER);
    diesel::update(counter)
        .set(counters::value.eq(counters::value + count))
        .execute(conn)?;
    let last: i64 = counter.select(counters::value).first(conn)?;
    Ok((last - count + 1..=last).collect())
}

diesel::define_sql_function! {
    /// PostgreSQL's `setval(sequence, value)`.
    fn setval(sequence: diesel::sql_types::Text, value: diesel::sql_types::BigInt) -> diesel::sql_types::BigInt;
}

/// Makes the next report number larger than `last` (after bulk loads).
pub fn numbers_after(conn: &mut DbConnection, last: i64) -> Result<(), DbError> {
    match conn {
        DbConnection::Postgres(pg) if last > 0 => {
            let issued: i64 = diesel::sql_query(
                "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS value \
                 FROM report_numbers",
            )
            .get_result::<LastValue>(pg)?
            .value;
            if last > issued {
                diesel::select(setval("report_numbers", last)).execute(pg)?;
            }
        }
        DbConnection::Postgres(_) => {}
        DbConnection::Sqlite(_) => {
            diesel::update(counters::table.find(REPORT_NUMBER_COUNTER))
                .filter(counters::value.lt(last))
                .set(counters::value.eq(last))
                .execute(conn)?;
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct LastValue {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    value: i64,
}

/// The resident with this email, created on first contact.
pub fn resident_by_email(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    reporter: &Reporter,
) -> Result<String, DbError> {
    Ok(find_or_create_user(conn, &new_resident(reporter, now))?.0)
}

/// An open report near a point, as a duplicate candidate.
#[derive(Debug, Clone)]
pub struct Nearby {
    pub report: ReportRow,
    pub distance_m: f64,
}

/// At most this many duplicate candidates are offered: a resident reads a
/// handful, and a hotspot must not make every filing drag hundreds along.
pub const MAX_CANDIDATES: usize = 20;

/// Where to look for duplicate candidates: open reports of a category
/// within `radius_m` of a point.
#[derive(Debug, Clone)]
pub struct Probe {
    pub category_id: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
}

impl Probe {
    fn bounding_box(&self) -> (f64, f64, f64, f64) {
        nearby::bounding_box(self.lat, self.lon, self.radius_m)
    }

    /// The grid cells of the box: the candidates are read cell by cell
    /// from `reports_category_cell`, a few reports each, where a box read
    /// by latitude alone walks the category's band across the city. (Up to
    /// 15 cells at the largest radius in Moscow; more only near the poles.)
    fn cells(&self) -> Vec<i64> {
        nearby::grid_cells(self.bounding_box(), usize::MAX).unwrap_or_default()
    }

    /// The reports among `candidates` that this probe finds, nearest first.
    fn pick(&self, candidates: &[ReportRow]) -> Vec<Nearby> {
        let mut found: Vec<Nearby> = candidates
            .iter()
            .filter(|r| r.category_id == self.category_id)
            .map(|report| Nearby {
                distance_m: nearby::distance_m(self.lat, self.lon, report.lat, report.lon),
                report: report.clone(),
            })
            .filter(|n| n.distance_m <= self.radius_m)
            .collect();
        // Nearest first; at equal distance, by id, so that the same reports
        // always come in the same order.
        found.sort_by(|a, b| {
            (a.distance_m.total_cmp(&b.distance_m)).then_with(|| a.report.id.cmp(&b.report.id))
        });
        found.truncate(MAX_CANDIDATES);
        found
    }
}

/// Open reports of a category within `radius_m` of a point, the nearest
/// `MAX_CANDIDATES` first: a bounding box in SQL on the indexed columns, the
/// exact distance in Rust.
pub fn nearby_open(conn: &mut DbConnection, probe: &Probe) -> Result<Vec<Nearby>, DbError> {
    let (min_lat, min_lon, max_lat, max_lon) = probe.bounding_box();
    // The closed statuses spelled out rather than `NOT IN (…)`; the cells
    // are written into the text (the few a point's box spans), so the
    // statement is prepared per set of cells.
    let [a, b, c, d] = ReportStatus::DONE.map(ReportStatus::as_str);
    let in_cells = super::grid::in_cells(conn, &probe.cells());
    let candidates = reports::table
        .filter(reports::category_id.eq(&probe.category_id))
        .filter(in_cells)
        .filter(reports::lat.between(min_lat, max_lat))
        .filter(reports::lon.between(min_lon, max_lon))
        .filter(reports::status.ne(a))
        .filter(reports::status.ne(b))
        .filter(reports::status.ne(c))
        .filter(reports::status.ne(d))
        .order(reports::created_at.desc())
        .limit(CANDIDATE_SCAN)
        .select(ReportRow::as_select())
        .load(conn)?;
    Ok(probe.pick(&candidates))
}

/// [`nearby_open`] for several points at once, in one statement; the
/// candidates of each probe, in order. PostgreSQL: each box's newest open
/// reports, as [`nearby_open`] weighs them, through one prepared statement.
/// SQLite: the boxes joined by OR.
pub fn nearby_open_all(
    conn: &mut DbConnection,
    probes: &[Probe],
) -> Result<Vec<Vec<Nearby>>, DbError> {
    let candidates = match (probes, conn) {
        ([], _) => return Ok(Vec::new()),
        ([probe], conn) => return Ok(vec![nearby_open(conn, probe)?]),
        (_, DbConnection::Postgres(pg)) => {
            let boxes: Vec<pg_filing::CandidateBox> = probes
                .iter()
                .map(|probe| {
                    let (min_lat, min_lon, max_lat, max_lon) = probe.bounding_box();
                    pg_filing::CandidateBox {
                        category_id: &probe.category_id,
                        cells: probe.cells(),
                        min_lat,
                        max_lat,
                        min_lon,
                        max_lon,
                    }
                })
                .collect();
            pg_filing::candidates(pg, &boxes, CANDIDATE_SCAN)?
        }
        (_, DbConnection::Sqlite(sqlite)) => {
            // The boxes joined by OR, then (grouped) AND the open statuses.
            let mut query = reports::table
                .select(ReportRow::as_select())
                .into_boxed::<diesel::sqlite::Sqlite>();
            for probe in probes {
                let (min_lat, min_lon, max_lat, max_lon) = probe.bounding_box();
                let in_cells = super::grid::in_cells_by(super::grid::CELL_SQLITE, &probe.cells());
                query = query.or_filter(
                    reports::category_id
                        .eq(&probe.category_id)
                        .and(in_cells)
                        .and(reports::lat.between(min_lat, max_lat))
                        .and(reports::lon.between(min_lon, max_lon)),
                );
            }
            query
                .filter(reports::status.ne_all(ReportStatus::DONE.map(ReportStatus::as_str)))
                .order(reports::created_at.desc())
                .limit(CANDIDATE_SCAN * probes.len() as i64)
                .load(sqlite)?
        }
    };
    Ok(probes.iter().map(|p| p.pick(&candidates)).collect())
}

/// How many of the newest open reports in the box are weighed at most.
const CANDIDATE_SCAN: i64 = 500;
