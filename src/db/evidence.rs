//! Photo checks as stored: each checked photo's verdict, the prints of every
//! answer's photos (for near copies anywhere in the city), answers held for
//! a supervisor, and flagged answers counted per department.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    answer_prints, attachments, categories, held_answers, photo_checks, report_events, reports,
};
use super::{DbConnection, DbError};
use crate::reports::evidence::{Copy, PhotoCheck, Place, Taken};

/// What the checks need of the report a photo answers.
#[derive(Debug, Clone)]
pub struct ReportFacts {
    pub number: i64,
    pub filed_at: NaiveDateTime,
    pub position: (f64, f64),
    pub department_id: Option<String>,
    pub cycle: i32,
    /// `flag` or `hold`.
    pub policy: String,
    /// The digests of the photos it was filed with.
    pub photos: Vec<String>,
}

pub fn report_facts(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Option<ReportFacts>, DbError> {
    let Some((number, filed_at, lat, lon, department_id, cycle, policy)) = reports::table
        .inner_join(categories::table)
        .filter(reports::id.eq(report_id))
        .select((
            reports::number,
            reports::created_at,
            reports::lat,
            reports::lon,
            reports::department_id,
            reports::cycle,
            categories::evidence_policy,
        ))
        .first::<(i64, NaiveDateTime, f64, f64, Option<String>, i32, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    // Its residents' photos: those it was filed with and any update's; an
    // earlier answer's are in the city-wide prints.
    let photos = attachments::table
        .left_join(report_events::table.on(attachments::event_id.eq(report_events::id.nullable())))
        .filter(attachments::report_id.eq(report_id))
        .filter(
            report_events::kind
                .is_null()
                .or(report_events::kind.ne("answered")),
        )
        .order((attachments::created_at, attachments::position))
        .select(attachments::content_hash)
        .load(conn)?;
    Ok(Some(ReportFacts {
        number,
        filed_at,
        position: (lat, lon),
        department_id,
        cycle,
        policy,
        photos,
    }))
}

/// A stored print of an answer's photo.
#[derive(Debug, Clone)]
pub struct AnswerPrint {
    pub id: i64,
    pub digest: String,
    pub report_number: i64,
    pub print: Vec<u8>,
}

/// Prints stored after `after` (by id), oldest first, at most `limit`.
pub fn answer_prints_after(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<AnswerPrint>, DbError> {
    let rows: Vec<(i64, String, i64, Vec<u8>)> = answer_prints::table
        .filter(answer_prints::id.gt(after))
        .order(answer_prints::id)
        .limit(limit)
        .select((
            answer_prints::id,
            answer_prints::digest,
            answer_prints::report_number,
            answer_prints::print,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, digest, report_number, print)| AnswerPrint {
            id,
            digest,
            report_number,
            print,
        })
        .collect())
}

/// Keeps the prints of an answer's photos.
pub fn record_prints(
    conn: &mut DbConnection,
    report_number: i64,
    prints: &[(&str, &[u8])],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    for (digest, print) in prints.iter().filter(|(_, p)| !p.is_empty()) {
        diesel::insert_into(answer_prints::table)
            .values((
                answer_prints::digest.eq(digest),
                answer_prints::report_number.eq(report_number),
                answer_prints::print.eq(print),
                answer_prints::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Records a move's photo checks against its event.
pub fn record_checks(
    conn: &mut DbConnection,
    event_id: &str,
    report_id: &str,
    department_id: Option<&str>,
    checks: &[PhotoCheck],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    for (position, check) in checks.iter().enumerate() {
        diesel::insert_into(photo_checks::table)
            .values((
                photo_checks::event_id.eq(event_id),
                photo_checks::digest.eq(&check.digest),
                photo_checks::report_id.eq(report_id),
                photo_checks::department_id.eq(department_id),
                photo_checks::position.eq(position as i32),
                photo_checks::taken.eq(check.taken.code()),
                photo_checks::taken_at.eq(check.taken.at()),
                photo_checks::place.eq(check.place.code()),
                photo_checks::distance_m.eq(check.place.metres()),
                photo_checks::copy_of.eq(check.copy.of()),
                photo_checks::copy_report.eq(check.copy.report()),
                photo_checks::flagged.eq(check.flagged()),
                photo_checks::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

type CheckRow = (
    String,
    String,
    String,
    Option<NaiveDateTime>,
    String,
    Option<f64>,
    Option<String>,
    Option<i64>,
);

/// A report's photo checks by event id, in each event's photo order.
pub fn checks_of(
    conn: &mut DbConnection,
    report_id: &str,
) -> Result<Vec<(String, PhotoCheck)>, DbError> {
    let rows: Vec<CheckRow> = photo_checks::table
        .filter(photo_checks::report_id.eq(report_id))
        .order((photo_checks::created_at, photo_checks::position))
        .select((
            photo_checks::event_id,
            photo_checks::digest,
            photo_checks::taken,
            photo_checks::taken_at,
            photo_checks::place,
            photo_checks::distance_m,
            photo_checks::copy_of,
            photo_checks::copy_report,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(event_id, digest, taken, taken_at, place, distance, copy_of, copy_report)| {
                (
                    event_id,
                    PhotoCheck {
                        digest,
                        taken: Taken::from_parts(&taken, taken_at),
                        place: Place::from_parts(&place, distance),
                        copy: Copy::from_parts(copy_of, copy_report),
                    },
                )
            },
        )
        .collect())
}

/// Per department code: answers (and refutations) whose photos were
/// checked, and how many of them had a flagged photo.
pub fn flagged_by_department(
    conn: &mut DbConnection,
) -> Result<std::collections::BTreeMap<String, (i64, i64)>, DbError> {
    use super::schema::departments;
    let codes: Vec<(String, String)> = departments::table
        .select((departments::id, departments::code))
        .load(conn)?;
    Ok(counted_by_department(conn)?
        .into_iter()
        .map(|(id, checked, flagged)| {
            let code = id
                .and_then(|id| codes.iter().find(|(i, _)| *i == id).map(|(_, c)| c.clone()))
                .unwrap_or_else(|| "none".into());
            (code, (checked, flagged))
        })
        .collect())
}

#[allow(deprecated)]
fn counted_by_department(
    conn: &mut DbConnection,
) -> Result<Vec<(Option<String>, i64, i64)>, DbError> {
    // `count_distinct` is the spelling that compiles for both backends
    // through the one connection type.
    #[allow(deprecated)]
    use diesel::dsl::count_distinct;
    let all: Vec<(Option<String>, i64)> = photo_checks::table
        .group_by(photo_checks::department_id)
        .select((
            photo_checks::department_id,
            count_distinct(photo_checks::event_id),
        ))
        .load(conn)?;
    let flagged: Vec<(Option<String>, i64)> = photo_checks::table
        .filter(photo_checks::flagged.eq(true))
        .group_by(photo_checks::department_id)
        .select((
            photo_checks::department_id,
            count_distinct(photo_checks::event_id),
        ))
        .load(conn)?;
    Ok(all
        .into_iter()
        .map(|(department, answers)| {
            let flagged = flagged
                .iter()
                .find(|(d, _)| *d == department)
                .map_or(0, |(_, n)| *n);
            (department, answers, flagged)
        })
        .collect())
}

/// The department of a staff member.
pub fn department_of(conn: &mut DbConnection, user_id: &str) -> Result<Option<String>, DbError> {
    use super::schema::users;
    Ok(users::table
        .find(user_id)
        .select(users::department_id)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// An answer held for a supervisor.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = held_answers)]
pub struct HeldRow {
    pub id: String,
    pub report_id: String,
    pub cycle: i32,
    pub actor_id: String,
    pub actor_role: String,
    pub answer: Option<String>,
    /// The stored photos, JSON.
    pub photos: String,
    /// Their checks, JSON.
    pub checks: String,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
    pub decision: Option<String>,
    pub reason: Option<String>,
}

pub fn hold(conn: &mut DbConnection, row: &HeldRow) -> Result<(), DbError> {
    diesel::insert_into(held_answers::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn held(conn: &mut DbConnection, id: &str) -> Result<Option<HeldRow>, DbError> {
    Ok(held_answers::table
        .find(id)
        .select(HeldRow::as_select())
        .first(conn)
        .optional()?)
}

/// Answers waiting for a decision, oldest first; of one report, or all.
pub fn waiting(conn: &mut DbConnection, report_id: Option<&str>) -> Result<Vec<HeldRow>, DbError> {
    let mut query = held_answers::table
        .filter(held_answers::decided_at.is_null())
        .order(held_answers::created_at)
        .select(HeldRow::as_select())
        .into_boxed();
    if let Some(report_id) = report_id {
        query = query.filter(held_answers::report_id.eq(report_id.to_string()));
    }
    Ok(query.limit(500).load(conn)?)
}

/// Records the decision on a waiting answer; false when it was decided
/// already (by someone else first).
pub fn decide(
    conn: &mut DbConnection,
    id: &str,
    decision: &str,
    by: &str,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let changed = diesel::update(
        held_answers::table
            .find(id)
            .filter(held_answers::decided_at.is_null()),
    )
    .set((
        held_answers::decided_at.eq(now),
        held_answers::decided_by.eq(by),
        held_answers::decision.eq(decision),
        held_answers::reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
