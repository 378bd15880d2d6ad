//! The generated city: reports clustered around neighbourhood centres,
//! filed over two years, each in the status its age gives it and with its
//! history, bulk-loaded beside the demo catalogue.

use super::*;

/// Where a report stands, by its age in days: as in a city that answers in
/// about eight working days and closes after a fortnight's resident check,
/// recent reports are still being handled and old ones are done — but a few
/// stay open long (paused for seasonal work, refuted and reopened).
pub(crate) fn status_at_age(rng: &mut StdRng, days: i64) -> ReportStatus {
    use ReportStatus::*;
    let roll = rng.random_range(0..100u32);
    let pick = |table: &[(ReportStatus, u32)]| {
        let mut left = roll;
        table
            .iter()
            .find(|(_, share)| {
                let hit = left < *share;
                left = left.saturating_sub(*share);
                hit
            })
            .map_or(Closed, |(s, _)| *s)
    };
    match days {
        0..=1 => pick(&[(Moderation, 60), (Assigned, 40)]),
        2..=10 => pick(&[
            (Assigned, 25),
            (InProgress, 40),
            (Paused, 5),
            (Returned, 2),
            (Resolved, 23),
            (Rejected, 5),
        ]),
        11..=25 => pick(&[
            (InProgress, 5),
            (Paused, 3),
            (Resolved, 30),
            (Reopened, 2),
            (Confirmed, 30),
            (Closed, 25),
            (Rejected, 5),
        ]),
        _ => pick(&[
            (Paused, 1),
            (Reopened, 1),
            (Confirmed, 20),
            (Closed, 68),
            (Rejected, 6),
            (Duplicate, 4),
        ]),
    }
}

/// What residents add to a category's sample text: where, when, how bad.
const PLACES: &[&str] = &[
    "у подъезда",
    "возле школы",
    "во дворе",
    "у остановки",
    "на перекрёстке",
    "у детского сада",
    "возле магазина",
    "у поликлиники",
    "на углу дома",
    "у пешеходного перехода",
    "возле парка",
    "на парковке",
    "у выхода из метро",
    "за гаражами",
    "у спортивной площадки",
    "возле рынка",
];
const STREETS: &[&str] = &[
    "Гагарина",
    "Ленина",
    "Мира",
    "Победы",
    "Садовой",
    "Лесной",
    "Школьной",
    "Пушкина",
    "Чехова",
    "Толстого",
    "Королёва",
    "Есенина",
    "Кирова",
    "Жукова",
    "Строителей",
    "Молодёжной",
];
const EXTRAS: &[&str] = &[
    "уже неделю",
    "второй месяц",
    "после дождя",
    "ночью особенно опасно",
    "дети ходят рядом",
    "жители жалуются",
    "обращались раньше, не помогло",
    "машины повреждают колёса",
    "пожилым людям не пройти",
    "прошу срочно устранить",
    "ситуация ухудшается",
    "мешает проходу",
    "скользко",
    "темно вечером",
    "неприятный запах",
    "шумно",
];

/// A resident's description: the category's sample text, where, and a
/// remark or two — so that words are spread as in a real city's reports.
fn description(rng: &mut StdRng, samples: &[String]) -> String {
    let base = samples.choose(rng).map_or("Проблема", |s| s.as_str());
    let place = PLACES.choose(rng).copied().unwrap_or_default();
    let street = STREETS.choose(rng).copied().unwrap_or_default();
    let extra = EXTRAS.choose(rng).copied().unwrap_or_default();
    let house = rng.random_range(1..120u32);
    format!("{base} Адрес: ул. {street}, {house}, {place}; {extra}.")
}

/// The demo's sample descriptions by category code.
fn sample_descriptions() -> std::collections::HashMap<String, Vec<String>> {
    let texts: serde_json::Value =
        serde_json::from_str(include_str!("../../config/demo/sample_texts.json"))
            .unwrap_or_default();
    texts["descriptions"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(code, list)| {
                    let list = list
                        .as_array()
                        .map(|l| {
                            l.iter()
                                .filter_map(|t| t.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    (code.clone(), list)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Fills the city with `size` reports; returns a sample of their points.
/// With `words`, each report has a resident's description and its search
/// terms are indexed as filing indexes them.
pub(crate) fn generate(
    conn: &mut DbConnection,
    size: usize,
    now: NaiveDateTime,
    words: bool,
) -> Result<Vec<(f64, f64)>, String> {
    let samples = sample_descriptions();
    let map: CityMap = catalog::load_city_map(conn).map_err(|e| e.to_string())?;
    let categories: Vec<(CategoryRouting, String)> = catalog::list_categories(conn)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|l| {
            let routing = catalog::category_for_filing(conn, &l.category.code)
                .ok()??
                .routing;
            let questions: Vec<Question> = serde_json::from_str(&l.category.attributes).ok()?;
            let mut rng = StdRng::seed_from_u64(1);
            let answers =
                serde_json::to_string(&gorod::demo::sample_answers(&mut rng, &questions)).ok()?;
            Some((routing, answers))
        })
        .collect();
    let city = map
        .areas()
        .iter()
        .find(|a| a.code == "moscow-mkad")
        .ok_or("the city-wide area is missing")?
        .shape
        .clone();
    let (min_lat, min_lon, max_lat, max_lon) = city.bounding_box();
    let (mid_lat, mid_lon) = ((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0);
    let (half_lat, half_lon) = ((max_lat - min_lat) / 2.0, (max_lon - min_lon) / 2.0);
    let mut rng = StdRng::seed_from_u64(2026);
    // Neighbourhood centres: reports crowd around them, as in a real city.
    let centres: Vec<(f64, f64, f64)> = (0..200)
        .map(|_| {
            (
                rng.random_range(min_lat..max_lat),
                rng.random_range(min_lon..max_lon),
                rng.random_range(0.008..0.04),
            )
        })
        .collect();
    let deferred = defer_indexes(conn)?;
    // The city's residents, who filed the reports.
    let resident_ids: Vec<String> = (0..residents(size)).map(|_| gorod::db::new_id()).collect();
    for (start, ids) in resident_ids.chunks(CHUNK).enumerate() {
        let users: Vec<UserRow> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| UserRow {
                id: id.clone(),
                email: resident_email(start * CHUNK + k),
                name: None,
                phone: None,
                role: "resident".into(),
                department_id: None,
                locale: "ru".into(),
                created_at: now - TimeDelta::days(800),
            })
            .collect();
        seed::insert_users(conn, &users).map_err(|e| e.to_string())?;
    }
    let mut sample = Vec::new();
    let mut number = 0i64;
    let mut progress = Progress::new("reports", size);
    while (number as usize) < size {
        let chunk = CHUNK.min(size - number as usize);
        let mut rows = Vec::with_capacity(chunk);
        let mut events = Vec::with_capacity(chunk * 2);
        let mut terms = Vec::new();
        while rows.len() < chunk {
            let (lat, lon) = if rng.random_bool(0.7) {
                let &(clat, clon, sigma) = centres.choose(&mut rng).ok_or("no centres")?;
                (
                    clat + gaussian(&mut rng) * sigma * 0.6,
                    clon + gaussian(&mut rng) * sigma,
                )
            } else {
                (
                    rng.random_range(min_lat..max_lat),
                    rng.random_range(min_lon..max_lon),
                )
            };
            let Some((category, answers)) = categories.choose(&mut rng) else {
                break;
            };
            let Some(decision) = map.route(category, lat, lon) else {
                continue;
            };
            number += 1;
            let age = TimeDelta::seconds(rng.random_range(0..2 * 365 * 86_400));
            let created = now - age;
            let status = status_at_age(&mut rng, age.num_days());
            // Last changed within 20 days of filing, and not after now
            // (spread over the time there was, not piled up at now).
            let updated = created
                + TimeDelta::seconds(rng.random_range(0..=(20 * 86_400).min(age.num_seconds())));
            let id = gorod::db::new_id();
            // Sample points well inside the city, so that points near them
            // (see `near`) are inside too.
            let inner =
                ((lat - mid_lat) / half_lat).powi(2) + ((lon - mid_lon) / half_lon).powi(2) < 0.6;
            if sample.len() < 2000 && inner {
                sample.push((lat, lon));
            }
            let event =
                |kind: &str, from: Option<&str>, to: &str, at: NaiveDateTime| ReportEventRow {
                    id: gorod::db::new_id(),
                    report_id: id.clone(),
                    actor_id: None,
                    actor_role: "system".into(),
                    kind: kind.into(),
                    from_status: from.map(str::to_string),
                    to_status: to.into(),
                    note: None,
                    public: true,
                    created_at: at,
                    details: None,
                };
            events.push(event("filed", None, "moderation", created));
            if status != ReportStatus::Moderation {
                events.push(event(
                    "changed",
                    Some("moderation"),
                    status.as_str(),
                    updated,
                ));
            }
            let closed = !status.is_open() || status == ReportStatus::Resolved;
            let text = match words {
                true => description(&mut rng, samples.get(&category.code).map_or(&[][..], |v| v)),
                false => "Сгенерированное обращение для нагрузочного теста".into(),
            };
            if words {
                terms.extend(gorod::db::search::rows_of(&id, &text, None, &[]));
            }
            rows.push(ReportRow {
                id: id.clone(),
                number,
                category_id: category.id.to_string(),
                lat,
                lon,
                address: None,
                description: text,
                answers: answers.clone(),
                source: "demo".into(),
                support_count: 1 + (rng.random_range(0..100u32) / 90) as i32,
                status: status.as_str().into(),
                service_area_id: Some(decision.service_area_id.to_string()),
                department_id: decision.department_id.map(|d| d.to_string()),
                routing_rule: decision.rule(),
                assignee_id: None,
                reporter_id: resident_ids.choose(&mut rng).cloned(),
                reporter_name_public: false,
                duplicate_of: None,
                created_at: created,
                updated_at: updated,
                moderation_due_at: None,
                answer_due_at: None,
                resolved_at: closed.then_some(updated),
                closed_at: (!status.is_open()).then_some(updated),
                cycle: 0,
                cycle_started_at: Some(created),
                moderated_at: None,
                responded_at: None,
                fix_due_at: None,
                check_due_at: None,
                escalation_level: 0,
                next_sla_at: None,
            });
        }
        seed::insert_reports(conn, &rows, &events).map_err(|e| e.to_string())?;
        seed::insert_search_terms(conn, &terms).map_err(|e| e.to_string())?;
        progress.at(number as usize);
    }
    progress.done();
    let started = Instant::now();
    rebuild_indexes(conn, &deferred)?;
    eprintln!(
        "   {} indexes built in {:.1} s",
        deferred.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(sample)
}

/// The tables the generator loads.
const LOADED: &str = "'reports', 'report_events', 'users', 'search_terms'";

#[derive(QueryableByName)]
struct IndexDef {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    sql: String,
}

/// Drops the secondary indexes of the tables the generator loads (not the
/// keys) and returns how to build them again: a B-tree built once from
/// sorted entries instead of ten million inserts at random places, as a
/// city's bulk import would do. The connection gets a large cache and
/// sort memory for the load.
fn defer_indexes(conn: &mut DbConnection) -> Result<Vec<String>, String> {
    let (list, setup) = match conn {
        DbConnection::Sqlite(_) => (
            format!(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' \
                 AND tbl_name IN ({LOADED}) AND sql IS NOT NULL"
            ),
            "PRAGMA cache_size = -1048576",
        ),
        DbConnection::Postgres(_) => (
            format!(
                "SELECT indexname AS name, indexdef AS sql FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename IN ({LOADED}) \
                 AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            ),
            "SET maintenance_work_mem = '1GB'",
        ),
    };
    let run = |conn: &mut DbConnection, sql: &str| match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
        DbConnection::Postgres(c) => diesel::sql_query(sql).execute(c),
    };
    run(conn, setup).map_err(|e| e.to_string())?;
    let indexes: Vec<IndexDef> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(list).load(c),
        DbConnection::Postgres(c) => diesel::sql_query(list).load(c),
    }
    .map_err(|e| e.to_string())?;
    for index in &indexes {
        run(conn, &format!("DROP INDEX {}", index.name)).map_err(|e| e.to_string())?;
    }
    Ok(indexes.into_iter().map(|i| i.sql).collect())
}

fn rebuild_indexes(conn: &mut DbConnection, sqls: &[String]) -> Result<(), String> {
    for sql in sqls {
        match conn {
            DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
            DbConnection::Postgres(c) => diesel::sql_query(sql).execute(c),
        }
        .map_err(|e| format!("{sql}: {e}"))?;
    }
    Ok(())
}

/// Brings the freshly generated city to the state a city's database is in
/// after its bulk load has been digested, so that the measures do not pay
/// for the load: statistics gathered, and on PostgreSQL the tables vacuumed
/// (hint bits and visibility map set) and a checkpoint taken; on SQLite the
/// write-ahead log copied back and truncated.
pub(crate) fn settle(conn: &mut DbConnection) -> Result<(), String> {
    let done = match conn {
        DbConnection::Postgres(c) => diesel::sql_query("VACUUM ANALYZE")
            .execute(c)
            .and_then(|_| diesel::sql_query("CHECKPOINT").execute(c)),
        DbConnection::Sqlite(c) => diesel::sql_query("ANALYZE")
            .execute(c)
            .and_then(|_| diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(c)),
    };
    done.map(|_| ()).map_err(|e| e.to_string())
}

/// A progress line for a long load on stderr: rewritten in place on a
/// terminal, a line per tenth otherwise (a log stays short).
pub(crate) struct Progress {
    what: &'static str,
    total: usize,
    started: Instant,
    shown: usize,
    terminal: bool,
}

impl Progress {
    pub(crate) fn new(what: &'static str, total: usize) -> Progress {
        use std::io::IsTerminal;
        Progress {
            what,
            total,
            started: Instant::now(),
            shown: 0,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    pub(crate) fn at(&mut self, done: usize) {
        let tenth = (self.total / 10).max(1);
        if !self.terminal && done / tenth == self.shown / tenth {
            return;
        }
        self.shown = done;
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = elapsed * (self.total.saturating_sub(done)) as f64 / done.max(1) as f64;
        let width = 30;
        let filled = width * done / self.total.max(1);
        let bar = format!("{}{}", "#".repeat(filled), ".".repeat(width - filled));
        let line = format!(
            "   [{bar}] {done} of {} {} ({:.0} s, about {:.0} s left)",
            self.total, self.what, elapsed, left
        );
        match self.terminal {
            true => eprint!("\r{line}"),
            false => eprintln!("{line}"),
        }
    }

    pub(crate) fn done(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

/// How many residents a generated city of `size` reports has.
pub(crate) fn residents(size: usize) -> usize {
    (size / 5).max(1000)
}

pub(crate) fn resident_email(k: usize) -> String {
    format!("resident{k}@example.ru")
}

/// A standard normal number (Box–Muller).
pub(crate) fn gaussian(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}
