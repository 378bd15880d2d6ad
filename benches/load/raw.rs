//! The plain-SQL side of each measure: the map query and the one-row
//! filing INSERT the application is compared with, on the same database.

use super::*;

#[derive(QueryableByName)]
pub(crate) struct IdNumber {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub(crate) number: i64,
}

#[derive(QueryableByName)]
#[allow(dead_code)]
pub(crate) struct MapRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub(crate) number: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) status: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) category_id: String,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub(crate) lat: f64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub(crate) lon: f64,
}

/// The map's query, as plain SQL: the open reports in the viewport's grid
/// cells (through `reports_status_cell`), unordered (the application sorts
/// what it read; past 50,000 it shows nothing).
pub(crate) fn raw_map_query(
    conn: &mut DbConnection,
    (min_lon, min_lat, max_lon, max_lat): (f64, f64, f64, f64),
) -> Result<(), String> {
    use diesel::sql_types::Double;
    let cells = gorod::reports::nearby::grid_cells(
        (min_lat, min_lon, max_lat, max_lon),
        gorod::reports::nearby::GRID_MAX_CELLS_AT_ONCE,
    )
    .ok_or("a zoom-16 viewport spans a few grid cells")?
    .iter()
    .map(i64::to_string)
    .collect::<Vec<_>>()
    .join(", ");
    let cell = gorod::db::reports::cell_sql(conn);
    let sql = |p: [&str; 4]| {
        format!(
            "SELECT id, number, status, category_id, lat, lon FROM reports \
             WHERE status IN ('moderation','assigned','in_progress','paused','returned','reopened','resolved') \
             AND {cell} IN ({cells}) \
             AND lat BETWEEN {} AND {} AND lon BETWEEN {} AND {} \
             LIMIT 50001",
            p[0], p[1], p[2], p[3]
        )
    };
    let rows = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql(["?", "?", "?", "?"]))
            .bind::<Double, _>(min_lat)
            .bind::<Double, _>(max_lat)
            .bind::<Double, _>(min_lon)
            .bind::<Double, _>(max_lon)
            .load::<MapRow>(c),
        DbConnection::Postgres(c) => diesel::sql_query(sql(["$1", "$2", "$3", "$4"]))
            .bind::<Double, _>(min_lat)
            .bind::<Double, _>(max_lat)
            .bind::<Double, _>(min_lon)
            .bind::<Double, _>(max_lon)
            .load::<MapRow>(c),
    };
    rows.map(|_| ()).map_err(|e| e.to_string())
}

pub(crate) static RAW_NUMBERS: std::sync::atomic::AtomicI64 =
    std::sync::atomic::AtomicI64::new(10_000_000_000);

/// What a filed report refers to (category, service area, department,
/// reporter), taken from generated reports, so that the plain INSERT writes
/// the same kind of row as filing does, with the same foreign keys to check.
#[derive(Clone, QueryableByName)]
pub(crate) struct RawRefs {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) category_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) service_area_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) department_id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub(crate) reporter_id: String,
}

pub(crate) fn raw_refs(manager: &ConnectionManager) -> Result<Vec<RawRefs>, String> {
    let sql = "SELECT category_id, service_area_id, department_id, reporter_id FROM reports \
               WHERE service_area_id IS NOT NULL AND department_id IS NOT NULL \
               AND reporter_id IS NOT NULL LIMIT 1000";
    let refs = match manager.connect().map_err(|e| e.to_string())? {
        DbConnection::Sqlite(mut c) => diesel::sql_query(sql).load::<RawRefs>(&mut c),
        DbConnection::Postgres(mut c) => diesel::sql_query(sql).load::<RawRefs>(&mut c),
    }
    .map_err(|e| e.to_string())?;
    if refs.is_empty() {
        return Err("the generated city has no routed reports with reporters".into());
    }
    Ok(refs)
}

/// One report row, as filing writes it (routed, with a reporter, deadlines
/// and the scanner's next look), through a plain single-row INSERT in its own
/// transaction.
pub(crate) fn raw_insert(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    refs: &RawRefs,
) -> Result<(), String> {
    let sql = |p: &dyn Fn(usize) -> String| {
        format!(
            "INSERT INTO reports (id, number, category_id, lat, lon, address, description, answers, source, \
             support_count, status, service_area_id, department_id, routing_rule, assignee_id, reporter_id, \
             reporter_name_public, duplicate_of, created_at, updated_at, moderation_due_at, answer_due_at, \
             resolved_at, closed_at, cycle, cycle_started_at, moderated_at, responded_at, fix_due_at, \
             check_due_at, escalation_level, next_sla_at) \
             VALUES ({}, {}, {}, 55.75, 37.62, NULL, {}, '{{}}', 'api', 1, 'moderation', {}, {}, \
             'area route', NULL, {}, FALSE, NULL, {}, {}, {}, {}, NULL, NULL, 0, {}, NULL, NULL, NULL, \
             NULL, 0, {})",
            p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(8), p(9), p(10), p(8), p(11)
        )
    };
    use diesel::sql_types::{BigInt, Text, Timestamp};
    // The same kind of id the application gives a report.
    let id = gorod::db::new_id();
    // Numbers far above the app's, so the two never collide.
    let number = RAW_NUMBERS.fetch_add(1, Ordering::Relaxed);
    let description = "Глубокая яма у перехода, машины объезжают по встречной.";
    let (moderation, answer) = (now + TimeDelta::days(1), now + TimeDelta::days(12));
    let next = now + TimeDelta::hours(20);
    macro_rules! bound {
        ($query:expr) => {
            $query
                .bind::<Text, _>(&id)
                .bind::<BigInt, _>(number)
                .bind::<Text, _>(&refs.category_id)
                .bind::<Text, _>(description)
                .bind::<Text, _>(&refs.service_area_id)
                .bind::<Text, _>(&refs.department_id)
                .bind::<Text, _>(&refs.reporter_id)
                .bind::<Timestamp, _>(now)
                .bind::<Timestamp, _>(moderation)
                .bind::<Timestamp, _>(answer)
                .bind::<Timestamp, _>(next)
        };
    }
    let done = match conn {
        DbConnection::Sqlite(c) => bound!(diesel::sql_query(sql(&|n| format!("?{n}")))).execute(c),
        DbConnection::Postgres(c) => {
            bound!(diesel::sql_query(sql(&|n| format!("${n}")))).execute(c)
        }
    };
    done.map(|_| ()).map_err(|e| e.to_string())
}
