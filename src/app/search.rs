//! Searching reports (the words are `reports::search`'s rule; the index is
//! `db::search`): a query's reports, ranked, under the same filters as the
//! lists and within the caller's scope; and keeping the index current. A
//! filing queues its report in its own statement, and a public answer or a
//! moderator's edit in its transaction; the indexer (`jobs::start_indexer`,
//! every `search.index_ms`, one instance at a time) writes the queued
//! reports' terms in batches of [`INDEX_BATCH`], so filing pays for one
//! small row, and the terms' index is written in sorted runs rather than a
//! few random entries per filing. A report is found within about that
//! interval of being filed. Reports filed before search existed are
//! indexed by the scanner, a batch per pass.
//!
//! A query's matches are found from its rarest term: each term's newest
//! [`CANDIDATES`] reports are read; when some term has no more than that,
//! the smallest such list is the candidates and the other terms are looked
//! up among them, so every match is found. When every term is that common
//! (say «яма» alone in a city of a million reports), the candidates are the
//! newest [`CANDIDATES`] reports with the first term: results are then the
//! best-ranked among the most recent matches, and the total says "at
//! least". Candidates are then filtered as lists are, ranked by the sum of
//! their terms' weights, newest first among equals.
//!
//! The public searches published reports by their words; staff search by
//! number, words and a reporter's email address, within their scope.

use std::collections::HashMap;

use super::reports::{resolve, QueryError, Wanted};
use super::Services;
use crate::db::reports::{self as report_db, ReportFilter, ReportListing};
use crate::db::search as search_db;
use crate::db::{write_transaction, DbConnection, DbError};
use crate::policy::{departments_in_scope, scope, Permission, Principal, Scope};
use crate::reports::open_data::UNPUBLISHED;
use crate::reports::search::Query;
use crate::reports::ReportStatus;

/// The most candidates one query ranks.
pub const CANDIDATES: i64 = 2000;
/// Reports the indexer takes at a time.
pub const INDEX_BATCH: i64 = 5000;
/// Reports one scanner pass indexes of those filed before search existed.
const BACKFILL_BATCH: i64 = 500;

/// Whether reports wait for the indexer.
pub fn waiting(conn: &mut DbConnection) -> Result<bool, DbError> {
    Ok(!search_db::pending(conn, 1)?.is_empty())
}

/// Indexes a batch of the reports waiting for the indexer, in one
/// transaction; how many (fewer than [`INDEX_BATCH`]: the queue is empty).
pub fn index_pending(conn: &mut DbConnection) -> Result<usize, DbError> {
    write_transaction(conn, |conn| {
        let ids = search_db::pending(conn, INDEX_BATCH)?;
        if !ids.is_empty() {
            search_db::reindex(conn, &ids)?;
            search_db::dequeue(conn, &ids)?;
        }
        Ok(ids.len())
    })
}

/// Indexes the next batch of reports filed before search existed; how
/// many (0: nothing left).
pub fn backfill(conn: &mut DbConnection) -> Result<usize, DbError> {
    write_transaction(conn, |conn| {
        let due = search_db::backfill_due(conn, BACKFILL_BATCH)?;
        let Some(lowest) = due.iter().map(|(_, n)| *n).min() else {
            return Ok(0);
        };
        let ids: Vec<String> = due.into_iter().map(|(id, _)| id).collect();
        search_db::reindex(conn, &ids)?;
        search_db::backfill_done_to(conn, lowest)?;
        Ok(ids.len())
    })
}

/// A search as asked for.
pub struct Asked {
    pub text: String,
    pub wanted: Wanted,
    pub page: i64,
    pub per_page: i64,
}

/// Searches as `who` may: staff who read reports' internals search within
/// their departments (all of them for admins), everyone else published
/// reports only. A filter's departments outside the scope find nothing.
pub fn find(
    app: &Services,
    conn: &mut DbConnection,
    who: &Principal,
    asked: Asked,
) -> Result<(i64, Vec<ReportListing>), QueryError> {
    let query = crate::reports::search::query(&asked.text);
    let mut filter = resolve(conn, asked.wanted)?;
    let searcher = match scope(who.role, Permission::ReadInternal) {
        Scope::Nothing | Scope::Own => Searcher::Public,
        _ => {
            let snapshot = app.catalog_snapshot(conn)?;
            let tree = snapshot.map.departments();
            match departments_in_scope(who, Permission::ReadInternal, tree) {
                None => Searcher::Staff,
                Some(own) if own.is_empty() => Searcher::Public,
                Some(own) => {
                    let own: Vec<String> = own.iter().map(ToString::to_string).collect();
                    if filter.department_ids.is_empty() {
                        filter.department_ids = own;
                    } else {
                        filter.department_ids.retain(|d| own.contains(d));
                        if filter.department_ids.is_empty() {
                            return Ok((0, Vec::new()));
                        }
                    }
                    Searcher::Staff
                }
            }
        }
    };
    if query.is_empty() {
        return Ok((0, Vec::new()));
    }
    Ok(search(
        conn,
        &query,
        searcher,
        filter,
        asked.page,
        asked.per_page,
    )?)
}

/// Who is searching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Searcher {
    /// Published reports, by their words.
    Public,
    /// Any report the filter's scope allows, also by a reporter's email.
    Staff,
}

/// A page of the query's reports under the filter, best first, and how
/// many match (at least, when the candidates were cut: see the module).
pub fn search(
    conn: &mut DbConnection,
    query: &Query,
    searcher: Searcher,
    mut filter: ReportFilter,
    page: i64,
    per_page: i64,
) -> Result<(i64, Vec<ReportListing>), DbError> {
    if searcher == Searcher::Public {
        if filter.statuses.is_empty() {
            filter.statuses = ReportStatus::ALL.to_vec();
        }
        filter
            .statuses
            .retain(|s| !UNPUBLISHED.contains(&s.as_str()));
        if filter.statuses.is_empty() {
            return Ok((0, Vec::new()));
        }
    }
    let mut scores: HashMap<String, i32> = match query.number {
        Some(number) => report_db::id_of_number(conn, number)?
            .into_iter()
            .map(|id| (id, 1))
            .collect(),
        None => candidates(conn, query, searcher)?,
    };
    let ids: Vec<String> = scores.keys().cloned().collect();
    let kept = report_db::among(conn, &filter, &ids)?;
    let mut ranked: Vec<(i32, String)> = kept
        .into_iter()
        .map(|id| (scores.remove(&id).unwrap_or(0), id))
        .collect();
    // Best first; among equals the newest (ids grow with time).
    ranked.sort_by(|a, b| b.cmp(a));
    let total = i64::try_from(ranked.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(0);
    let page_ids: Vec<String> = ranked
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|(_, id)| id)
        .collect();
    Ok((total, report_db::listings(conn, &page_ids)?))
}

/// The query's candidate reports and their scores (see the module).
fn candidates(
    conn: &mut DbConnection,
    query: &Query,
    searcher: Searcher,
) -> Result<HashMap<String, i32>, DbError> {
    let by_email = match searcher {
        Searcher::Staff if !query.emails.is_empty() => Some(search_db::reports_of_emails(
            conn,
            &query.emails,
            CANDIDATES,
        )?),
        _ => None,
    };
    if query.terms.is_empty() {
        return Ok(by_email
            .unwrap_or_default()
            .into_iter()
            .map(|id| (id, 1))
            .collect());
    }
    let mut lists: Vec<(String, Vec<(String, i32)>)> = Vec::new();
    for term in &query.terms {
        let list = search_db::postings(conn, term, CANDIDATES + 1)?;
        if list.is_empty() {
            return Ok(HashMap::new());
        }
        lists.push((term.clone(), list));
    }
    // The shortest complete list, or the first one cut to the newest.
    let complete = |l: &Vec<(String, i32)>| l.len() <= usize::try_from(CANDIDATES).unwrap_or(0);
    let base = lists
        .iter()
        .enumerate()
        .filter(|(_, (_, l))| complete(l))
        .min_by_key(|(_, (_, l))| l.len())
        .map_or(0, |(i, _)| i);
    let (_, base_list) = lists.remove(base);
    let mut scores: HashMap<String, i32> = base_list
        .into_iter()
        .take(usize::try_from(CANDIDATES).unwrap_or(0))
        .collect();
    if let Some(ids) = by_email {
        let ids: std::collections::HashSet<String> = ids.into_iter().collect();
        scores.retain(|id, _| ids.contains(id));
    }
    for (term, list) in lists {
        let found: HashMap<String, i32> = if complete(&list) {
            list.into_iter().collect()
        } else {
            let ids: Vec<String> = scores.keys().cloned().collect();
            search_db::postings_among(conn, &term, &ids)?
                .into_iter()
                .collect()
        };
        scores.retain(|id, score| match found.get(id) {
            Some(weight) => {
                *score += weight;
                true
            }
            None => false,
        });
    }
    Ok(scores)
}
