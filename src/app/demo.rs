//! Loading the demo city into an empty database. Its catalogue, staff,
//! residents and keys are inserted as rows (what an admin's imports would
//! make); every sample report is then filed through filing's own checks and
//! moved through the workflow (`app::moves::apply`), in the order things
//! happened, each at its own moment. So the reports' statuses, histories,
//! deadlines, SLA marks, photos and ledger entries are the ones the
//! workflow gives, never a copy of its rules.
//!
//! The replayed history is nobody's news: the messages it queued are
//! dropped once it is loaded (the caller starts the mail dispatcher after).
//! Instances starting together insert the catalogue once (the first to
//! take the setup lock); the others find it there and load nothing.

use chrono::NaiveDateTime;

use super::filing::{self, Channel, Upload};
use super::moves::{self, Move, MoveError};
use super::Services;
use crate::db::catalog::{self, CatalogSnapshot};
use crate::db::filing::StoredPhoto;
use crate::db::{self, write_transaction, DbConnection, DbError};
use crate::demo::{DemoCity, DemoMove, DemoReport};
use crate::reports::questions::UnknownAnswers;
use crate::reports::ReportStatus;
use crate::workflow::{Action, Actor, Role};

/// What loading did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub reports: usize,
    /// Moves the workflow refused (each ends its report's history there).
    pub refused: usize,
}

/// Loads the demo city unless the database holds a city; `None` when it
/// did not.
pub fn load_if_empty(
    services: &Services,
    conn: &mut DbConnection,
    city: &DemoCity,
) -> Result<Option<Loaded>, DbError> {
    let inserted = write_transaction(conn, |conn| {
        db::seed::wait_for_setup(conn)?;
        if !db::seed::is_empty(conn)? {
            return Ok(false);
        }
        db::seed::insert_city(conn, &city.rows)?;
        Ok::<_, DbError>(true)
    })?;
    if !inserted {
        return Ok(None);
    }
    let now = services.clock.now();
    let addresses = super::geodata::import_addresses(conn, city.addresses.clone(), now, |_| ())?;
    let objects = super::geodata::import_objects(conn, city.objects.clone(), now, |_| ())?;
    for refused in addresses.refused.iter().chain(&objects.refused) {
        log::warn!("demo geodata, {}: {}", refused.row, refused.problem.en());
    }
    let snapshot = catalog::load_snapshot(conn)?;
    // Stored only when some report is answered (a demo without reports
    // leaves the media store empty).
    let mut moves = city.reports.iter().flat_map(|r| &r.moves);
    let photo = moves
        .any(|m| m.action == Action::Answer)
        .then(|| answer_photo(services))
        .flatten();
    let loaded = replay(services, conn, &snapshot, city, photo)?;
    db::outbox::drop_unsent(conn)?;
    Ok(Some(loaded))
}

/// The photo every sample answer carries, cleaned and stored like an
/// upload; `None` (answers that need one are then refused) when it cannot
/// be stored.
fn answer_photo(services: &Services) -> Option<StoredPhoto> {
    let stored = crate::demo::answer_photo()
        .map_err(|e| e.to_string())
        .and_then(|bytes| {
            let upload = Upload {
                bytes,
                content_type: Some("image/jpeg".into()),
            };
            let clean = filing::clean_photos(services, &[upload], |_| "photo".into())
                .map_err(|e| e.to_string())?;
            filing::store_photos(services, &clean).map_err(|e| e.to_string())
        });
    match stored {
        Ok(mut photos) => photos.pop(),
        Err(e) => {
            log::warn!("the demo's answer photo was not stored: {e}");
            None
        }
    }
}

/// A step of the demo's history: a report filed, or a move on it.
enum Step<'a> {
    File,
    Move(&'a DemoMove),
}

/// Files and moves the sample reports in the order things happened.
fn replay(
    services: &Services,
    conn: &mut DbConnection,
    snapshot: &CatalogSnapshot,
    city: &DemoCity,
    photo: Option<StoredPhoto>,
) -> Result<Loaded, DbError> {
    let mut steps: Vec<(NaiveDateTime, usize, usize, Step)> = Vec::new();
    for (i, report) in city.reports.iter().enumerate() {
        steps.push((report.filed_at, i, 0, Step::File));
        for (n, made) in report.moves.iter().enumerate() {
            steps.push((made.at, i, n + 1, Step::Move(made)));
        }
    }
    steps.sort_by_key(|(at, i, n, _)| (*at, *i, *n));
    // Each report's id, number and status once filed.
    let mut filed: Vec<Option<Filed>> = vec![None; city.reports.len()];
    let mut stopped = vec![false; city.reports.len()];
    let mut loaded = Loaded {
        reports: 0,
        refused: 0,
    };
    for (_, i, _, step) in steps {
        if stopped[i] {
            continue;
        }
        let report = &city.reports[i];
        match step {
            Step::File => match file(services, snapshot, conn, report)? {
                Some((id, number)) => {
                    filed[i] = Some(Filed {
                        id,
                        number,
                        status: ReportStatus::Moderation,
                    });
                    loaded.reports += 1;
                }
                None => stopped[i] = true,
            },
            Step::Move(made) => {
                let Some(Filed { id, number, .. }) = filed[i].clone() else {
                    continue;
                };
                let original = match made.action {
                    Action::MarkDuplicate => original_of(city, &filed, i),
                    _ => None,
                };
                let asked = move_of(services, city, report, made, &id, original, &photo);
                match asked.map(|asked| moves::apply(conn, snapshot, asked)) {
                    Some(Ok(moved)) => {
                        if let Some(report) = filed[i].as_mut() {
                            report.status = moved.to;
                        }
                    }
                    Some(Err(MoveError::Db(e))) => return Err(e),
                    Some(Err(refused)) => {
                        log::warn!("demo report {number}: {} refused: {refused}", made.action);
                        loaded.refused += 1;
                        stopped[i] = true;
                    }
                    None => stopped[i] = true,
                }
            }
        }
    }
    Ok(loaded)
}

/// Files a sample report as of its filing time; its id and number, or
/// `None` when filing refused it.
fn file(
    services: &Services,
    snapshot: &CatalogSnapshot,
    conn: &mut DbConnection,
    report: &DemoReport,
) -> Result<Option<(String, i64)>, DbError> {
    let channel = Channel {
        source: "demo",
        idempotency: None,
        unknown_answers: UnknownAnswers::Reject,
        answer_field: |code| format!("answers.{code}"),
        photo_field: |i| format!("photos[{i}]"),
    };
    let place = filing::place(services, conn, &report.report)?;
    let record = match filing::record(
        snapshot,
        report.report.clone(),
        place,
        channel,
        report.filed_at,
        || Ok(Vec::new()),
    ) {
        Ok(record) => record,
        Err(refused) => {
            log::warn!("a demo report was not filed: {refused}");
            return Ok(None);
        }
    };
    let filed = db::filing::file_batch(conn, &[&record])?;
    Ok(filed.into_iter().next().map(|f| (f.id, f.number)))
}

/// A sample report as filed, and its status now.
#[derive(Clone)]
struct Filed {
    id: String,
    number: i64,
    status: ReportStatus,
}

/// The number of the report a duplicate repeats: the latest open one of
/// its category filed before it (or the latest open one of any).
fn original_of(city: &DemoCity, filed: &[Option<Filed>], i: usize) -> Option<i64> {
    let category = &city.reports[i].report.category_code;
    let earlier = || {
        (0..i).rev().filter_map(|j| {
            let report = filed[j].as_ref().filter(|f| f.status.is_open())?;
            Some((j, report.number))
        })
    };
    earlier()
        .find(|&(j, _)| city.reports[j].report.category_code == *category)
        .or_else(|| earlier().next())
        .map(|(_, number)| number)
}

/// The move as its maker asks it: the reporter answers the city's answer,
/// the report's crew (or, without one, the admin) works on it, the admin
/// moderates and closes. `None` when it cannot be asked (a duplicate with
/// no earlier report).
fn move_of<'a>(
    services: &Services,
    city: &DemoCity,
    report: &DemoReport,
    made: &DemoMove,
    id: &'a str,
    original: Option<i64>,
    photo: &Option<StoredPhoto>,
) -> Option<Move<'a>> {
    let admin = (
        Actor {
            role: Role::Admin,
            department: None,
            is_reporter: false,
        },
        city.admin_id.clone(),
    );
    let (actor, actor_id) = match made.action {
        Action::Confirm | Action::Refute => (
            Actor {
                role: Role::Resident,
                department: None,
                is_reporter: true,
            },
            report.reporter_id.clone(),
        ),
        Action::Take | Action::Pause | Action::Resume | Action::Answer | Action::Return => {
            match &report.crew {
                Some((crew, department)) => (
                    Actor {
                        role: Role::Crew,
                        department: Some(*department),
                        is_reporter: false,
                    },
                    crew.clone(),
                ),
                None => admin,
            }
        }
        _ => admin,
    };
    let mut command = made.command.clone();
    if made.action == Action::MarkDuplicate {
        command.original = Some(original?);
    }
    let photos: Vec<StoredPhoto> = match made.action {
        Action::Answer => photo.iter().cloned().collect(),
        _ => Vec::new(),
    };
    command.photos = photos.len();
    Some(Move {
        report_id: id,
        action: made.action,
        command,
        actor,
        actor_id: Some(actor_id),
        via: None,
        photos,
        // The demo's history is a replay: its one sample photo answers
        // every report, which checks would flag as reused.
        checks: Vec::new(),
        now: made.at,
        refutation_limit: services.refutation_limit,
    })
}
