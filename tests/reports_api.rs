//! Filing, reading and listing reports through the JSON API.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::{spawn_app, valid_report};
use serde_json::{json, Value};

#[tokio::test]
async fn a_filed_report_is_stored_with_its_history_and_returned() {
    let app = spawn_app().await;
    let (status, filed) = app.post_json("/api/v1/reports", &valid_report()).await;
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["status"], "moderation");
    assert_eq!(filed["number"], 1);
    let id = filed["id"].as_str().unwrap();
    assert_eq!(filed["url"], format!("{}/api/v1/reports/{id}", app.address));

    let (status, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["number"], 1);
    assert_eq!(report["category"]["code"], "pothole");
    assert_eq!(report["department"]["code"], "roads");
    assert_eq!(report["address"], "ул. Тверская, 12");
    assert_eq!(report["created_at"], "2026-03-02T09:00:00Z");
    let history = report["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["kind"], "filed");
    assert_eq!(history[0]["to_status"], "moderation");
    // Why it went where it went, in words, with names rather than codes.
    assert_eq!(history[0]["note"], Value::Null);
    let why = history[0]["text"]["ru"].as_str().unwrap();
    assert!(
        why.starts_with("Обращение подано и направлено в ГБУ «Автомобильные дороги»: за категорией «Яма на дороге»"),
        "{why}"
    );
    assert!(!why.contains("roads"), "{why}");
    // The reporter did not choose to show their name; contact details never show.
    assert_eq!(report["reporter_name"], Value::Null);
    let text = report.to_string();
    assert!(!text.contains("anna.petrova"), "{text}");
    assert!(!text.contains("Анна"), "{text}");

    assert_eq!(app.count_rows("reports"), 1);
    assert_eq!(app.count_rows("report_events"), 1);
    assert_eq!(app.count_rows("subscriptions"), 1);
}

#[tokio::test]
async fn null_reads_as_left_out() {
    let app = spawn_app().await;
    let mut body = valid_report();
    body["reporter"]["show_name"] = Value::Null;
    body["address"] = Value::Null;
    let (status, filed) = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(status, 201, "{filed}");
    // Without contact details an anonymous filing is refused for the email,
    // not for the null.
    body["reporter"] = Value::Null;
    let (status, refused) = app.post_json("/api/v1/reports?lang=en", &body).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["field"], "reporter.email", "{refused}");
}

#[tokio::test]
async fn routing_sends_yard_problems_to_the_district_housing_service() {
    let app = spawn_app().await;
    let mut body = valid_report();
    body["category"] = json!("yard_rubbish");
    body["answers"] = json!({});
    body["reporter"]["show_name"] = json!(true);
    let (status, filed) = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(status, 201, "{filed}");
    let (_, report) = app
        .get_json(&format!(
            "/api/v1/reports/{}",
            filed["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(report["department"]["code"], "zhilishnik-tverskoy");
    assert_eq!(report["reporter_name"], "Анна Петрова");
    let why = report["history"][0]["text"]["en"].as_str().unwrap();
    assert!(
        why.contains("and this part of it serves Tverskoy District"),
        "{why}"
    );
    let why_ru = report["history"][0]["text"]["ru"].as_str().unwrap();
    assert!(why_ru.contains("Тверской район"), "{why_ru}");
    assert_eq!(report["service_area"], "Тверской район");
    assert_eq!(report["service_area_en"], "Tverskoy District");
    assert!(!report.to_string().contains("anna.petrova@"));
}

#[tokio::test]
async fn each_kind_of_bad_input_gets_a_400_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let users_before = app.count_rows("users");
    let with = |key: &str, value: Value| {
        let mut body = valid_report();
        body[key] = value;
        body
    };
    let mut no_email = valid_report();
    no_email["reporter"] = json!({"name": "Анна"});
    let mut bad_email = valid_report();
    bad_email["reporter"]["email"] = json!("anna at example");
    let mut missing_lat = valid_report();
    missing_lat.as_object_mut().unwrap().remove("lat");
    let cases = [
        (with("lat", json!(95)), "lat", "latitude"),
        (with("lon", json!(-181.0)), "lon", "longitude"),
        (
            with("lat", json!("north")),
            "lat",
            "Latitude: must be a number",
        ),
        (missing_lat, "lat", "Latitude: is required"),
        (
            with("category", json!("flying_saucer")),
            "category",
            "not a category",
        ),
        (with("category", json!("")), "category", "required"),
        (with("description", json!("   ")), "description", "required"),
        (
            with("description", json!("я".repeat(4001))),
            "description",
            "at most 4000",
        ),
        (
            with("lat", json!(59.94)),
            "location",
            "outside the city's service areas",
        ),
        (
            with("surprise", json!(1)),
            "surprise",
            "is not a field of this request",
        ),
        (no_email, "reporter.email", "is required"),
        (bad_email, "reporter.email", "not an email address"),
    ];
    for (body, field, words) in cases {
        let (status, error) = app.post_json("/api/v1/reports?lang=en", &body).await;
        assert_eq!(status, 400, "{field}: {error}");
        assert_eq!(error["field"], field, "{error}");
        assert_eq!(error["code"], "invalid_field", "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(words), "{field}: {error}");
        // A parser's own words never reach a person.
        for raw in ["`", "invalid type", "missing field", "f64", "expected"] {
            assert!(!message.contains(raw), "{field}: {error}");
        }
    }
    for raw in ["", "{", "[1,2", "not json at all", "[]", "42"] {
        let (status, error) = app.post_raw("/api/v1/reports", raw).await;
        assert_eq!(status, 400, "{raw:?}: {error}");
        assert_eq!(error["code"], "invalid_json", "{error}");
        assert_eq!(error["field"], "body", "{error}");
    }
    assert_eq!(app.count_rows("reports"), 0);
    assert_eq!(app.count_rows("report_events"), 0);
    assert_eq!(app.count_rows("users"), users_before);
    // The number counter was not consumed either: the next report is No. 1.
    let (_, filed) = app.post_json("/api/v1/reports", &valid_report()).await;
    assert_eq!(filed["number"], 1);
}

#[tokio::test]
async fn unknown_and_malformed_report_ids_are_404() {
    let app = spawn_app().await;
    for id in ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "1"] {
        let (status, error) = app.get_json(&format!("/api/v1/reports/{id}")).await;
        assert_eq!(status, 404, "{error}");
        assert_eq!(error["code"], "not_found");
    }
    let (status, error) = app.get_json("/api/v1/nowhere").await;
    assert_eq!(status, 404);
    assert_eq!(error["code"], "not_found");
}

#[tokio::test]
async fn the_same_reporter_filing_twice_is_one_resident() {
    let app = spawn_app().await;
    let users_before = app.count_rows("users");
    for _ in 0..2 {
        let (status, _) = app.post_json("/api/v1/reports", &valid_report()).await;
        assert_eq!(status, 201);
    }
    let mut shouting = valid_report();
    shouting["reporter"]["email"] = json!("anna.petrova@EXAMPLE.RU");
    let (status, _) = app.post_json("/api/v1/reports", &shouting).await;
    assert_eq!(status, 201);
    assert_eq!(app.count_rows("users"), users_before + 1);
}

#[tokio::test]
async fn reports_filed_at_once_all_land_with_distinct_numbers() {
    let app = spawn_app().await;
    let posts = (0..24).map(|i| {
        let mut body = valid_report();
        body["reporter"]["email"] = json!(format!("resident{i}@example.ru"));
        let client = app.client.clone();
        let url = app.url("/api/v1/reports");
        async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body)
        }
    });
    let results = futures_join_all(posts).await;
    let mut numbers: Vec<i64> = results
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 201, "{body}");
            body["number"].as_i64().unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=24).collect::<Vec<_>>());
    assert_eq!(app.count_rows("reports"), 24);
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[tokio::test]
async fn the_list_filters_by_status_category_and_box_and_pages() {
    let app = spawn_app().await;
    let places = [
        ("pothole", 55.7700, 37.6050),
        ("pothole", 55.7300, 37.5700),
        ("yard_rubbish", 55.7700, 37.6050),
        ("street_light", 55.7600, 37.6600),
    ];
    for (category, lat, lon) in places {
        let body = common::report_at(category, lat, lon);
        let (status, filed) = app.post_json("/api/v1/reports", &body).await;
        assert_eq!(status, 201, "{filed}");
        app.clock.advance(chrono::TimeDelta::minutes(5));
    }
    let (status, all) = app.get_json("/api/v1/reports").await;
    assert_eq!(status, 200);
    assert_eq!(all["total"], 4);
    // Newest first.
    let numbers: Vec<i64> = all["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![4, 3, 2, 1]);
    assert!(!all.to_string().contains("anna.petrova"));

    let (_, potholes) = app.get_json("/api/v1/reports?category=pothole").await;
    assert_eq!(potholes["total"], 2);
    let (_, tverskoy) = app
        .get_json("/api/v1/reports?bbox=37.59,55.76,37.62,55.78")
        .await;
    assert_eq!(tverskoy["total"], 2);
    let (_, both) = app
        .get_json("/api/v1/reports?bbox=37.59,55.76,37.62,55.78&category=pothole")
        .await;
    assert_eq!(both["total"], 1);
    assert_eq!(both["reports"][0]["number"], 1);
    let (_, moderated) = app.get_json("/api/v1/reports?status=moderation").await;
    assert_eq!(moderated["total"], 4);
    let (_, closed) = app.get_json("/api/v1/reports?status=closed").await;
    assert_eq!(closed["total"], 0);
    let (_, page2) = app.get_json("/api/v1/reports?per_page=3&page=2").await;
    assert_eq!(page2["total"], 4);
    assert_eq!(page2["page"], 2);
    assert_eq!(page2["reports"].as_array().unwrap().len(), 1);
    assert_eq!(page2["reports"][0]["number"], 1);

    let bad = [
        ("status=open", "status"),
        ("category=nope", "category"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=37.7,55.7,37.6,55.8", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=37,95,38,96", "bbox"),
        ("page=0", "page"),
        ("per_page=201", "per_page"),
        ("per_page=ten", "per_page"),
    ];
    for (query, field) in bad {
        let (status, error) = app.get_json(&format!("/api/v1/reports?{query}")).await;
        assert_eq!(status, 400, "{query}: {error}");
        assert_eq!(error["field"], field, "{query}: {error}");
    }
}

#[tokio::test]
async fn every_wrong_field_of_a_report_comes_back_at_once_in_russian() {
    let app = spawn_app().await;
    let mut report = valid_report();
    report["lat"] = json!(95);
    report["description"] = json!("  ");
    report["reporter"]["email"] = json!("anna at example");
    report["reporter"]["phone"] = json!("позвоните");
    report["answers"] = json!({"size": "huge"});
    let (status, error) = app.post_json("/api/v1/reports", &report).await;
    assert_eq!(status, 400, "{error}");
    let fields: Vec<&str> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "lat",
            "description",
            "reporter.email",
            "reporter.phone",
            "answers.size"
        ],
        "{error}"
    );
    assert_eq!(error["field"], "lat", "the first comes first: {error}");
    let messages: Vec<&str> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "Широта: должна быть числом от -90 до 90, а не 95",
            "Описание: обязательное поле: опишите проблему",
            "Эл. почта: «anna at example» — не адрес эл. почты",
            "Телефон: «позвоните» — не номер телефона",
            "Размер ямы: «huge» — не один из вариантов: small, medium, large",
        ],
        "{error}"
    );
    assert_eq!(error["errors"][1]["code"], "required");
    assert_eq!(app.count_rows("reports"), 0);
}

#[tokio::test]
async fn repeated_or_overflowing_query_parameters_get_the_json_error() {
    let app = spawn_app().await;
    for (path, field) in [
        ("/api/v1/reports?page=1&page=2&lang=en", "page"),
        (
            "/api/v1/reports?page=99999999999999999999999&lang=en",
            "page",
        ),
        ("/api/v1/map?zoom=1&zoom=2&bbox=37,55,38,56&lang=en", "zoom"),
        (
            "/api/v1/reports/nearby?lat=1e400&lon=37&category=pothole&lang=en",
            "lat",
        ),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 400, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid_field", "{path}: {body}");
        assert_eq!(body["field"], field, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_naming_the_right_ones() {
    let app = spawn_app().await;
    let response = app
        .client
        .delete(app.url("/api/v1/reports/nearby"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "method_not_allowed");
    // An address the API does not have at all stays a 404.
    assert_eq!(app.get("/api/v1/nothing/here").await.status().as_u16(), 404);
}

/// The numbers of an Open311 list's reports, in its order.
async fn open311_numbers(app: &common::TestApp, query: &str) -> Vec<i64> {
    let (status, list) = app
        .get_json(&format!("/open311/v2/requests.json?{query}"))
        .await;
    assert_eq!(status, 200, "{query}: {list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Reports on a lattice across the corner of four grid cells (and one far
/// off): every list of a box or a circle, page by page, is what a plain
/// filter of the reports gives, newest first.
#[tokio::test]
async fn lists_of_a_box_or_a_circle_read_by_the_grid_are_exact() {
    let app = spawn_app().await;
    // Filed in a scattered order, so that a cell's newest are anywhere in
    // it, often outside a circle whose box takes them in.
    let mut places = Vec::new();
    for k in 0..25 {
        let (i, j) = ((k * 7) % 25 / 5, (k * 7) % 25 % 5);
        places.push((55.762 + 0.004 * f64::from(i), 37.592 + 0.004 * f64::from(j)));
    }
    places.push((55.73, 37.57));
    for (n, (lat, lon)) in places.iter().enumerate() {
        let body = common::report_at("pothole", *lat, *lon);
        let (status, filed) = app.post_json("/api/v1/reports", &body).await;
        assert_eq!(status, 201, "{filed}");
        // Pairs filed in the same second: the number breaks the tie.
        if n % 2 == 1 {
            app.clock.advance(chrono::TimeDelta::minutes(1));
        }
    }
    // Numbers follow filing, so newest first is the highest number first.
    let expected = |keep: &dyn Fn(f64, f64) -> bool| -> Vec<i64> {
        let mut numbers: Vec<i64> = (1..=places.len() as i64)
            .filter(|n| {
                let (lat, lon) = places[*n as usize - 1];
                keep(lat, lon)
            })
            .rev()
            .collect();
        numbers.dedup();
        numbers
    };
    let boxes = [
        (37.591, 55.761, 37.609, 55.779),
        (37.5955, 55.7655, 37.6045, 55.7745),
        (37.599, 55.769, 37.601, 55.771),
        (37.61, 55.78, 37.62, 55.79),
    ];
    for (west, south, east, north) in boxes {
        let want =
            expected(&|lat, lon| (south..=north).contains(&lat) && (west..=east).contains(&lon));
        let mut json = Vec::new();
        let mut open311 = Vec::new();
        for page in 1..=(want.len() / 4 + 2) {
            let (status, list) = app
                .get_json(&format!(
                    "/api/v1/reports?bbox={west},{south},{east},{north}&per_page=4&page={page}"
                ))
                .await;
            assert_eq!(status, 200, "{list}");
            assert_eq!(list["total"], want.len(), "{list}");
            json.extend(
                list["reports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["number"].as_i64().unwrap()),
            );
            open311.extend(
                open311_numbers(&app, &format!(
                    "lat_sw={south}&long_sw={west}&lat_ne={north}&long_ne={east}&page_size=4&page={page}"
                ))
                .await,
            );
        }
        assert_eq!(json, want, "box {west},{south},{east},{north}");
        assert_eq!(open311, want, "box {west},{south},{east},{north}");
    }
    // Circles: most of a cell's newest lie outside them, so the cells are
    // read again, further back.
    for (lat, lon, radius) in [
        (55.77, 37.6, 300.0),
        (55.768, 37.598, 400.0),
        (55.778, 37.608, 500.0),
        (55.766, 37.596, 700.0),
    ] {
        let want = expected(&|plat, plon| {
            gorod::reports::nearby::distance_m(lat, lon, plat, plon) <= radius
        });
        assert!(!want.is_empty());
        let mut open311 = Vec::new();
        for page in 1..=(want.len() / 2 + 2) {
            open311.extend(
                open311_numbers(
                    &app,
                    &format!("lat={lat}&long={lon}&radius={radius}&page_size=2&page={page}"),
                )
                .await,
            );
        }
        assert_eq!(open311, want, "circle {lat},{lon} {radius} m");
    }
}

/// The grid's queries are the indexes' own expressions: the database reads
/// a cell's newest reports from `reports_cell` (a category's from
/// `reports_category_cell`), the map's open reports in
/// a few cells from `reports_status_cell` and a point's possible duplicates
/// from `reports_category_cell` (were the expressions to differ, it could
/// not).
#[tokio::test]
async fn a_boxs_cells_are_read_from_the_grid_indexes() {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let cell_sql = gorod::db::reports::cell_sql(&conn);
    let cell = gorod::reports::nearby::grid_cell(55.7601, 37.6201);
    let sqlite = matches!(&*conn, gorod::db::DbConnection::Sqlite(_));
    // A page's read of one cell, as Open311 lists it: the index alone
    // answers it (SQLite says "covering").
    let page = format!(
        "SELECT id, created_at, number, lat, lon FROM reports WHERE {cell_sql} = {cell} \
         AND created_at >= '2026-01-01 00:00:00' \
         AND lat BETWEEN 55.76 AND 55.77 AND lon BETWEEN 37.62 AND 37.63 \
         ORDER BY created_at DESC, number DESC LIMIT 10"
    );
    // A category's page: its few reports in the cell, by the category's.
    let category_page = format!(
        "SELECT id, created_at, number, lat, lon FROM reports WHERE {cell_sql} = {cell} \
         AND status IN ('assigned', 'in_progress') AND category_id = 'x' \
         AND lat BETWEEN 55.76 AND 55.77 AND lon BETWEEN 37.62 AND 37.63 \
         ORDER BY created_at DESC, number DESC LIMIT 10"
    );
    // The map's points in a viewport's cells: from the index alone. (One
    // cell: in a table this small PostgreSQL weighs a second one's seeks
    // as no cheaper than reading the status's reports by latitude.)
    let map = format!(
        "SELECT id, number, status, category_id, lat, lon, created_at FROM reports \
         WHERE status IN ('assigned', 'in_progress') AND {cell_sql} IN ({cell}) \
         AND lat BETWEEN 55.76 AND 55.77 AND lon BETWEEN 37.62 AND 37.63 LIMIT 50001"
    );
    // A point's duplicates: the category's open reports in its cells.
    let duplicates = format!(
        "SELECT id FROM reports WHERE category_id = 'x' AND {cell_sql} IN ({cell}) \
         AND lat BETWEEN 55.7596 AND 55.7606 AND lon BETWEEN 37.6192 AND 37.6210 \
         AND status <> 'closed' ORDER BY created_at DESC LIMIT 500"
    );
    for (query, sqlite_says, index) in [
        (page, "COVERING INDEX reports_cell", "reports_cell"),
        (
            category_page,
            "INDEX reports_category_cell",
            "reports_category_cell",
        ),
        (
            map,
            "COVERING INDEX reports_status_cell",
            "reports_status_cell",
        ),
        (
            duplicates,
            "INDEX reports_category_cell",
            "reports_category_cell",
        ),
    ] {
        let plan = query_plan(&mut conn, &query, index);
        let wanted = if sqlite { sqlite_says } else { index };
        assert!(plan.iter().any(|l| l.contains(wanted)), "{query}: {plan:?}");
        // Sought by the cell, not scanned whole.
        let sought = |l: &String| match sqlite {
            true => l.contains("<expr>="),
            false => l.contains("Index Cond") && l.contains("floor("),
        };
        assert!(plan.iter().any(sought), "{query}: {plan:?}");
    }
}

/// The database's plan for a query, line by line, with only `index` left
/// on the reports (dropped in a transaction rolled back): in tiny tables
/// the planners' costs favour any index, and here the question is whether
/// that one can answer the query at all.
fn query_plan(conn: &mut gorod::db::DbConnection, query: &str, index: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(diesel::QueryableByName)]
    struct SqliteLine {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    #[derive(diesel::QueryableByName)]
    struct PostgresLine {
        #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
        line: String,
    }
    fn run(conn: &mut gorod::db::DbConnection, sql: &str) {
        match conn {
            gorod::db::DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
            gorod::db::DbConnection::Postgres(c) => diesel::sql_query(sql).execute(c),
        }
        .unwrap();
    }
    let names: Vec<Name> = match &mut *conn {
        gorod::db::DbConnection::Sqlite(c) => diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = 'reports' AND sql IS NOT NULL",
        )
        .load(c),
        gorod::db::DbConnection::Postgres(c) => diesel::sql_query(
            "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'reports' \
             AND schemaname = current_schema() \
             AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        )
        .load(c),
    }
    .unwrap();
    run(conn, "BEGIN");
    for other in names.iter().filter(|n| n.name != index) {
        run(conn, &format!("DROP INDEX {}", other.name));
    }
    let plan = match &mut *conn {
        gorod::db::DbConnection::Sqlite(c) => {
            diesel::sql_query(format!("EXPLAIN QUERY PLAN {query}"))
                .load::<SqliteLine>(c)
                .unwrap()
                .into_iter()
                .map(|l| l.detail)
                .collect()
        }
        gorod::db::DbConnection::Postgres(c) => {
            diesel::sql_query("SET LOCAL enable_seqscan = off")
                .execute(c)
                .unwrap();
            diesel::sql_query(format!("EXPLAIN {query}"))
                .load::<PostgresLine>(c)
                .unwrap()
                .into_iter()
                .map(|l| l.line)
                .collect()
        }
    };
    run(conn, "ROLLBACK");
    plan
}
