//! Checking the photos an answer or a refutation carries
//! (`reports::evidence`): against the report's own photos (their prints
//! taken from the stored thumbnails) and against every photo an earlier
//! answer used anywhere in the city (their prints kept in `answer_prints`
//! and held in memory by each instance, read incrementally: a scan of a
//! million prints takes milliseconds, where a query per answer would not).
//! Runs before the move's transaction. Also: answers held for a
//! supervisor, and the flagged answers counted per department.

use std::sync::Mutex;

use crate::db::evidence::{self as store, ReportFacts};
use crate::db::filing::StoredPhoto;
use crate::db::{DbConnection, DbError};
use crate::media::evidence::{distance, print as print_of, PhotoFacts};
use crate::media::store::Variant;
use crate::reports::evidence::{check, Against, Known, PhotoCheck, Said, Source};

/// Prints read from the database at a time.
const PAGE: i64 = 10_000;

/// Every earlier answer's photo prints, as this instance has read them.
#[derive(Debug, Default)]
pub struct PrintIndex {
    state: Mutex<IndexState>,
}

#[derive(Debug, Default)]
struct IndexState {
    /// The highest id read.
    last: i64,
    /// Ids a little below `last` may commit after it (another instance's
    /// slower transaction): re-read, and kept once.
    seen: std::collections::HashSet<i64>,
    prints: Vec<(Vec<u8>, String, i64)>,
}

/// How far below the highest id read the index looks again.
const LOOKBACK: i64 = 1_000;

impl PrintIndex {
    /// Reads the prints stored since the last call.
    fn refresh(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut after = (state.last - LOOKBACK).max(0);
        loop {
            let page = store::answer_prints_after(conn, after, PAGE)?;
            let Some(last) = page.last().map(|p| p.id) else {
                break;
            };
            for row in page {
                if state.seen.insert(row.id) {
                    state
                        .prints
                        .push((row.print, row.digest, row.report_number));
                }
            }
            state.last = state.last.max(last);
            after = last;
        }
        Ok(())
    }

    /// The prints within reach of `print`.
    fn near(&self, print: &[u8]) -> Vec<Known> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .prints
            .iter()
            .filter(|(p, _, _)| distance(p, print) <= crate::reports::evidence::NEAR_COPY_BITS)
            .map(|(p, digest, number)| Known {
                print: p.clone(),
                digest: digest.clone(),
                source: Source::Answer(*number),
            })
            .collect()
    }
}

/// The capture time in UTC: a camera's local time is read in the city's
/// time zone.
fn utc(facts: &PhotoFacts, zone: chrono_tz::Tz) -> Option<chrono::NaiveDateTime> {
    use chrono::TimeZone;
    let at = facts.taken_at?;
    if !facts.local {
        return Some(at);
    }
    zone.from_local_datetime(&at)
        .earliest()
        .map(|t| t.naive_utc())
}

/// The prints of the report's own photos, from their stored thumbnails
/// (a photo that cannot be read is passed over).
fn report_prints(app: &super::Services, facts: &ReportFacts) -> Vec<Known> {
    facts
        .photos
        .iter()
        .filter_map(|digest| {
            let bytes = app
                .media
                .read_blocking(digest, Variant::Thumbnail)
                .ok()
                .flatten()?;
            let picture = image::load_from_memory(&bytes).ok()?;
            Some(Known {
                print: print_of(&picture),
                digest: digest.clone(),
                source: Source::Report,
            })
        })
        .collect()
}

/// Checks the photos of a move on a report, before its transaction; none
/// without photos. The report's category's policy comes with them.
pub fn check_photos(
    app: &super::Services,
    conn: &mut DbConnection,
    report_id: &str,
    photos: &[StoredPhoto],
) -> Result<(Vec<PhotoCheck>, Option<ReportFacts>), DbError> {
    if photos.is_empty() {
        return Ok((Vec::new(), None));
    }
    let Some(facts) = store::report_facts(conn, report_id)? else {
        return Ok((Vec::new(), None));
    };
    app.answer_prints.refresh(conn)?;
    let own = report_prints(app, &facts);
    let against = Against {
        filed_at: facts.filed_at,
        position: facts.position,
        max_distance_m: app.evidence_distance_m,
    };
    let checks = photos
        .iter()
        .map(|photo| {
            let mut known = own.clone();
            if !photo.print.is_empty() {
                known.extend(app.answer_prints.near(&photo.print));
            }
            check(
                &photo.hash,
                Said {
                    taken_at: utc(&photo.facts, app.time_zone),
                    position: photo.facts.position,
                    print: (!photo.print.is_empty()).then_some(photo.print.as_slice()),
                },
                against,
                &known,
                distance,
                |a, b| crate::reports::nearby::distance_m(a.0, a.1, b.0, b.1),
            )
        })
        .collect();
    Ok((checks, Some(facts)))
}
