//! The search index in the database: each report's terms with their
//! weights (`search_terms`, keyed by term and report; `search_docs` lists
//! each report's terms so that indexing it again removes exactly those),
//! written by the indexer for the reports queued in `search_pending` (by
//! their filing, and again whenever their words change), and read a term
//! at a time. The same tables and the same statements on both backends,
//! so the same data gives the same results.

use diesel::prelude::*;

use super::rows::{SearchDocRow, SearchPendingRow, SearchTermRow};
use super::schema::{
    counters, report_events, reports, search_docs, search_pending, search_terms, users,
};
use super::{DbConnection, DbError};
use crate::reports::search::{terms, Field};

/// Counter: reports filed before search existed are indexed below it.
pub const BACKFILL_BELOW: &str = "search_backfill_below";

/// The words a report is found by: its description, address and the
/// city's public notes.
pub struct Texts {
    pub report_id: String,
    pub description: String,
    pub address: Option<String>,
    pub answers: Vec<String>,
}

/// A report's terms as rows.
pub fn rows_of(
    report_id: &str,
    description: &str,
    address: Option<&str>,
    answers: &[String],
) -> Vec<SearchTermRow> {
    let mut fields = vec![(Field::Description, description)];
    fields.extend(address.map(|a| (Field::Address, a)));
    fields.extend(answers.iter().map(|a| (Field::Answer, a.as_str())));
    terms(&fields)
        .into_iter()
        .map(|(term, weight)| SearchTermRow {
            term,
            report_id: report_id.to_string(),
            weight,
        })
        .collect()
}

fn rows_of_texts(texts: &[Texts]) -> Vec<SearchTermRow> {
    texts
        .iter()
        .flat_map(|t| {
            rows_of(
                &t.report_id,
                &t.description,
                t.address.as_deref(),
                &t.answers,
            )
        })
        .collect()
}

/// Indexes these reports' words again (in the caller's transaction).
pub fn reindex(conn: &mut DbConnection, ids: &[String]) -> Result<(), DbError> {
    let texts = texts(conn, ids)?;
    let mut rows = rows_of_texts(&texts);
    // In the index's order: a batch's entries land page by page.
    rows.sort_by(|a, b| (&a.term, &a.report_id).cmp(&(&b.term, &b.report_id)));
    replace(conn, ids, &rows)
}

/// The texts of these reports.
pub fn texts(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<Texts>, DbError> {
    let found: Vec<(String, String, Option<String>)> = reports::table
        .filter(reports::id.eq_any(ids))
        .select((reports::id, reports::description, reports::address))
        .load(conn)?;
    let notes: Vec<(String, Option<String>)> = report_events::table
        .filter(report_events::report_id.eq_any(ids))
        .filter(report_events::public.eq(true))
        .filter(report_events::actor_role.ne("resident"))
        .filter(report_events::note.is_not_null())
        .order(report_events::created_at)
        .select((report_events::report_id, report_events::note))
        .load(conn)?;
    Ok(found
        .into_iter()
        .map(|(report_id, description, address)| Texts {
            answers: notes
                .iter()
                .filter(|(r, _)| *r == report_id)
                .filter_map(|(_, n)| n.clone())
                .collect(),
            report_id,
            description,
            address,
        })
        .collect())
}

/// Replaces these reports' terms with `rows`.
pub fn replace(
    conn: &mut DbConnection,
    ids: &[String],
    rows: &[SearchTermRow],
) -> Result<(), DbError> {
    let before: Vec<SearchDocRow> = search_docs::table
        .filter(search_docs::report_id.eq_any(ids))
        .select(SearchDocRow::as_select())
        .load(conn)?;
    for doc in &before {
        let terms: Vec<&str> = doc.terms.split(' ').collect();
        diesel::delete(
            search_terms::table
                .filter(search_terms::report_id.eq(&doc.report_id))
                .filter(search_terms::term.eq_any(terms)),
        )
        .execute(conn)?;
    }
    diesel::delete(search_docs::table.filter(search_docs::report_id.eq_any(ids))).execute(conn)?;
    insert_batches!(conn, search_terms::table, rows);
    insert_batches!(conn, search_docs::table, &docs_of(rows));
    Ok(())
}

/// Each report's terms as one row.
pub fn docs_of(rows: &[SearchTermRow]) -> Vec<SearchDocRow> {
    let mut docs: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for row in rows {
        docs.entry(&row.report_id).or_default().push(&row.term);
    }
    docs.into_iter()
        .map(|(report_id, terms)| SearchDocRow {
            report_id: report_id.to_string(),
            terms: terms.join(" "),
        })
        .collect()
}

/// A term's reports and weights, newest first, at most `cap`.
pub fn postings(
    conn: &mut DbConnection,
    term: &str,
    cap: i64,
) -> Result<Vec<(String, i32)>, DbError> {
    Ok(search_terms::table
        .filter(search_terms::term.eq(term))
        .order(search_terms::report_id.desc())
        .limit(cap)
        .select((search_terms::report_id, search_terms::weight))
        .load(conn)?)
}

/// A term's weights in these reports (those that have it).
pub fn postings_among(
    conn: &mut DbConnection,
    term: &str,
    ids: &[String],
) -> Result<Vec<(String, i32)>, DbError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(5000) {
        found.extend(
            search_terms::table
                .filter(search_terms::term.eq(term))
                .filter(search_terms::report_id.eq_any(chunk))
                .select((search_terms::report_id, search_terms::weight))
                .load::<(String, i32)>(conn)?,
        );
    }
    Ok(found)
}

/// The reports, newest first and at most `cap`, filed by the people with
/// these email addresses.
pub fn reports_of_emails(
    conn: &mut DbConnection,
    emails: &[String],
    cap: i64,
) -> Result<Vec<String>, DbError> {
    let people: Vec<String> = users::table
        .filter(users::email.eq_any(emails))
        .select(users::id)
        .load(conn)?;
    Ok(reports::table
        .filter(reports::reporter_id.eq_any(people))
        .order(reports::id.desc())
        .limit(cap)
        .select(reports::id)
        .load(conn)?)
}

/// The next reports the backfill indexes: up to `batch` below the
/// counter, newest first (none once it is done).
pub fn backfill_due(conn: &mut DbConnection, batch: i64) -> Result<Vec<(String, i64)>, DbError> {
    let below: Option<i64> = counters::table
        .find(BACKFILL_BELOW)
        .select(counters::value)
        .first(conn)
        .optional()?;
    let Some(below) = below.filter(|b| *b > 1) else {
        return Ok(Vec::new());
    };
    Ok(reports::table
        .filter(reports::number.lt(below))
        .order(reports::number.desc())
        .limit(batch)
        .select((reports::id, reports::number))
        .load(conn)?)
}

/// Moves the backfill's counter down to `below` (1: done).
pub fn backfill_done_to(conn: &mut DbConnection, below: i64) -> Result<(), DbError> {
    diesel::update(counters::table.find(BACKFILL_BELOW))
        .set(counters::value.eq(below))
        .execute(conn)?;
    Ok(())
}

/// Puts these reports in the indexer's queue (once each).
pub fn enqueue(conn: &mut DbConnection, ids: &[String]) -> Result<(), DbError> {
    for id in ids {
        let row = SearchPendingRow {
            report_id: id.clone(),
        };
        insert_or_ignore!(conn, search_pending::table, &row);
    }
    Ok(())
}

/// Up to `limit` reports waiting for the indexer, oldest first.
pub fn pending(conn: &mut DbConnection, limit: i64) -> Result<Vec<String>, DbError> {
    Ok(search_pending::table
        .order(search_pending::report_id)
        .limit(limit)
        .select(search_pending::report_id)
        .load(conn)?)
}

/// Takes these reports out of the indexer's queue.
pub fn dequeue(conn: &mut DbConnection, ids: &[String]) -> Result<(), DbError> {
    diesel::delete(search_pending::table.filter(search_pending::report_id.eq_any(ids)))
        .execute(conn)?;
    Ok(())
}
