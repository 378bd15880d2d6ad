//! What supervisors watch: open reports at risk of missing their deadline or
//! past it, and the aggregates of how a department answers.
//!
//! A report is **breached** while it is open and its current cycle has a
//! recorded breach of a stage still relevant (the moderation stage only
//! while in moderation); **at risk** when it has a recorded warning but no
//! breach. Marks are recorded by the SLA scanner and by every move, so the
//! lists are at most one scanner interval behind the clock.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::dsl::min;
use diesel::prelude::*;

use super::reports::{filtered, listings, ReportFilter, ReportListing};
use super::rows::ReportRow;
use super::schema::{
    categories, departments, ratings, report_events, reports, service_areas, sla_marks,
};
use super::{DbConnection, DbError};
use crate::sla::stats::Outcome;
use crate::sla::watch::{current_due as due, stage_still_relevant};
pub use crate::sla::watch::{Risk, IN_HAND};

/// An open report under watch.
#[derive(Debug, Clone)]
pub struct Watched {
    pub report: ReportRow,
    pub category: String,
    pub department: Option<String>,
    pub district: Option<String>,
    pub risk: Risk,
    /// The stage of the worst mark.
    pub stage: String,
}

/// How many ids go into one `IN (…)` list.
const CHUNK: usize = 5000;

/// Open reports matching `filter` that are at risk or breached, worst and
/// oldest first.
pub fn watched(conn: &mut DbConnection, filter: &ReportFilter) -> Result<Vec<Watched>, DbError> {
    let statuses: Vec<&str> = IN_HAND.iter().map(|s| s.as_str()).collect();
    // Open reports with marks in their current cycle: few, next to all.
    let marks: Vec<(String, String, String)> = sla_marks::table
        .inner_join(
            reports::table.on(reports::id
                .eq(sla_marks::report_id)
                .and(reports::cycle.eq(sla_marks::cycle))),
        )
        .filter(reports::status.eq_any(&statuses))
        .select((sla_marks::report_id, sla_marks::stage, sla_marks::mark))
        .load(conn)?;
    let mut worst: HashMap<String, (Risk, String)> = HashMap::new();
    for (id, stage, mark) in marks {
        let Some(risk) = Risk::of_mark(&mark) else {
            continue;
        };
        let entry = worst.entry(id).or_insert((risk, stage.clone()));
        if risk > entry.0 {
            *entry = (risk, stage);
        }
    }
    let ids: Vec<String> = worst.keys().cloned().collect();
    let codes = codes(conn)?;
    let mut list = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<ReportRow> = filtered(filter)
            .filter(reports::id.eq_any(chunk))
            .select(ReportRow::as_select())
            .load(conn)?;
        for report in rows {
            let Some((risk, stage)) = worst.get(&report.id).cloned() else {
                continue;
            };
            if !stage_still_relevant(&stage, &report.status) {
                continue;
            }
            let code = |id: &Option<String>| id.as_ref().and_then(|i| codes.get(i).cloned());
            list.push(Watched {
                category: codes.get(&report.category_id).cloned().unwrap_or_default(),
                department: code(&report.department_id),
                district: code(&report.service_area_id),
                report,
                risk,
                stage,
            });
        }
    }
    list.sort_by(|a, b| {
        b.risk
            .cmp(&a.risk)
            .then(a.report.created_at.cmp(&b.report.created_at))
            .then(a.report.number.cmp(&b.report.number))
    });
    Ok(list)
}

/// The deadline a report is working towards (`sla::watch::current_due`).
pub fn current_due(report: &ReportRow) -> Option<NaiveDateTime> {
    due(
        &report.status,
        report.responded_at.is_some(),
        report.moderation_due_at,
        report.fix_due_at,
        report.answer_due_at,
    )
}

/// A department's work list: the open reports matching `filter` in the
/// city's hands, soonest deadline first (paused ones, with no deadline,
/// last), at most `limit`, with each one's risk where it has one.
pub fn queue(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    limit: usize,
) -> Result<Vec<(ReportListing, Option<Risk>)>, DbError> {
    let mut filter = filter.clone();
    filter.statuses = IN_HAND.to_vec();
    let mut rows: Vec<ReportRow> = filtered(&filter)
        .select(ReportRow::as_select())
        .load(conn)?;
    rows.sort_by_key(|r| (current_due(r).is_none(), current_due(r), r.number));
    rows.truncate(limit);
    let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
    let risks: HashMap<String, Risk> = watched(conn, &filter)?
        .into_iter()
        .map(|w| (w.report.id, w.risk))
        .collect();
    Ok(listings(conn, &ids)?
        .into_iter()
        .map(|l| {
            let risk = risks.get(&l.report.id).copied();
            (l, risk)
        })
        .collect())
}

/// Open reports matching `filter` that went up an escalation level (a
/// refuted answer, or a deadline long past), highest level first.
pub fn escalated(
    conn: &mut DbConnection,
    filter: &ReportFilter,
) -> Result<Vec<ReportListing>, DbError> {
    let mut filter = filter.clone();
    filter.statuses = IN_HAND.to_vec();
    let ids: Vec<String> = filtered(&filter)
        .filter(reports::escalation_level.gt(0))
        .order((reports::escalation_level.desc(), reports::updated_at.desc()))
        .limit(500)
        .select(reports::id)
        .load(conn)?;
    listings(conn, &ids)
}

/// When each warning and breach of the reports matching `filter` was
/// recorded since `since` (escalations follow breaches and are left out).
pub fn marks_since(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    since: NaiveDateTime,
) -> Result<Vec<(NaiveDateTime, Risk)>, DbError> {
    let marks: Vec<(String, NaiveDateTime, String)> = sla_marks::table
        .filter(sla_marks::recorded_at.ge(since))
        .select((
            sla_marks::report_id,
            sla_marks::recorded_at,
            sla_marks::mark,
        ))
        .load(conn)?;
    let ids: Vec<String> = marks.iter().map(|m| m.0.clone()).collect();
    let mut wanted: HashSet<String> = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        wanted.extend(
            filtered(filter)
                .filter(reports::id.eq_any(chunk))
                .select(reports::id)
                .load::<String>(conn)?,
        );
    }
    let rows = marks
        .into_iter()
        .filter(|(id, _, _)| wanted.contains(id))
        .map(|(_, at, mark)| (at, mark));
    Ok(rows
        .filter_map(|(at, mark)| Risk::of_mark(&mark).map(|risk| (at, risk)))
        .collect())
}

/// Codes of categories, departments and service areas, by id.
fn codes(conn: &mut DbConnection) -> Result<HashMap<String, String>, DbError> {
    let mut codes: HashMap<String, String> = HashMap::new();
    codes.extend(
        categories::table
            .select((categories::id, categories::code))
            .load::<(String, String)>(conn)?,
    );
    codes.extend(
        departments::table
            .select((departments::id, departments::code))
            .load::<(String, String)>(conn)?,
    );
    codes.extend(
        service_areas::table
            .select((service_areas::id, service_areas::code))
            .load::<(String, String)>(conn)?,
    );
    Ok(codes)
}

/// One report's outcome with the department and category it counts under.
pub struct Counted {
    pub report_id: String,
    pub department: Option<String>,
    pub category: String,
    pub outcome: Outcome,
}

/// The outcomes of the reports matching `filter` (for the aggregates).
pub fn outcomes(conn: &mut DbConnection, filter: &ReportFilter) -> Result<Vec<Counted>, DbError> {
    let base: Vec<(String, NaiveDateTime, String, i32, Option<String>, String)> = filtered(filter)
        .select((
            reports::id,
            reports::created_at,
            reports::status,
            reports::cycle,
            reports::department_id,
            reports::category_id,
        ))
        .load(conn)?;
    let ids: Vec<&String> = base.iter().map(|(id, ..)| id).collect();
    let mut answered: HashMap<String, Option<NaiveDateTime>> = HashMap::new();
    let mut refuted: HashSet<String> = HashSet::new();
    let mut late: HashSet<String> = HashSet::new();
    let mut rated: HashMap<String, Vec<u8>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        for (id, rating) in ratings::table
            .filter(ratings::report_id.eq_any(chunk))
            .select((ratings::report_id, ratings::rating))
            .load::<(String, i32)>(conn)?
        {
            rated
                .entry(id)
                .or_default()
                .push(u8::try_from(rating).unwrap_or_default());
        }
        answered.extend(
            report_events::table
                .filter(report_events::kind.eq("answered"))
                .filter(report_events::report_id.eq_any(chunk))
                .group_by(report_events::report_id)
                .select((report_events::report_id, min(report_events::created_at)))
                .load::<(String, Option<NaiveDateTime>)>(conn)?,
        );
        refuted.extend(
            report_events::table
                .filter(report_events::kind.eq("refuted"))
                .filter(report_events::report_id.eq_any(chunk))
                .select(report_events::report_id)
                .load::<String>(conn)?,
        );
        late.extend(
            sla_marks::table
                .filter(sla_marks::cycle.eq(0))
                .filter(sla_marks::mark.eq("breach"))
                .filter(sla_marks::stage.eq_any(["answer", "fix"]))
                .filter(sla_marks::report_id.eq_any(chunk))
                .select(sla_marks::report_id)
                .load::<String>(conn)?,
        );
    }
    let codes = codes(conn)?;
    Ok(base
        .into_iter()
        .map(
            |(id, created_at, status, cycle, department, category)| Counted {
                department: department.and_then(|d| codes.get(&d).cloned()),
                category: codes.get(&category).cloned().unwrap_or(category),
                outcome: Outcome {
                    filed_at: created_at,
                    first_answer_at: answered.get(&id).copied().flatten(),
                    breached_in_first_cycle: late.contains(&id),
                    in_hand: IN_HAND.iter().any(|s| s.as_str() == status),
                    reopened: cycle > 0,
                    disputed: refuted.contains(&id),
                    ratings: rated.remove(&id).unwrap_or_default(),
                },
                report_id: id,
            },
        )
        .collect())
}

/// Groups outcomes by a key, in key order.
pub fn group_by(
    counted: &[Counted],
    key: impl Fn(&Counted) -> Option<String>,
) -> BTreeMap<String, Vec<Outcome>> {
    let mut groups: BTreeMap<String, Vec<Outcome>> = BTreeMap::new();
    for c in counted {
        if let Some(k) = key(c) {
            groups.entry(k).or_default().push(c.outcome.clone());
        }
    }
    groups
}
