//! Open data: published reports in bulk as CSV and GeoJSON, filtered,
//! without personal data, and streamed so that a million of them pass
//! through with flat memory; the daily dump.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::TestApp;
use serde_json::{json, Value};

async fn file(app: &TestApp, category: &str, lat: f64) -> (String, i64) {
    let mut body = common::report_at(category, lat, 37.6050);
    body["reporter"] = json!({"email": "anna.petrova@example.ru", "name": "Анна Петрова",
        "phone": "+7 495 000-00-00", "show_name": true});
    let (status, filed) = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(status, 201, "{filed}");
    (
        filed["id"].as_str().unwrap().to_string(),
        filed["number"].as_i64().unwrap(),
    )
}

async fn accept(app: &TestApp, id: &str) {
    let (_, report) = app.get_json(&format!("/api/v1/reports/{id}")).await;
    let dept = report["department"]["code"].as_str().unwrap();
    let (status, moved) = app
        .act(
            &format!("demo-token-supervisor.{dept}"),
            id,
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
}

async fn text(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.get(path).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

fn csv_rows(body: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn published_reports_export_filtered_without_personal_data() {
    let app = common::spawn_app().await;
    let (pothole, pothole_number) = file(&app, "pothole", 55.7700).await;
    let (graffiti, graffiti_number) = file(&app, "graffiti", 55.7710).await;
    let (_waiting, waiting_number) = file(&app, "pothole", 55.7720).await;
    accept(&app, &pothole).await;
    accept(&app, &graffiti).await;

    let (status, body) = text(&app, "/open-data/reports.csv").await;
    assert_eq!(status, 200);
    let header = body.lines().next().unwrap();
    assert_eq!(
        header,
        "number,category,department,district,status,filed_at,answered_at,closed_at,\
         answer_due_at,answered_on_time,latitude,longitude,address,supporters"
    );
    let numbers: Vec<String> = csv_rows(&body).iter().map(|r| r[0].to_string()).collect();
    assert_eq!(
        numbers,
        [pothole_number.to_string(), graffiti_number.to_string()],
        "one still in moderation"
    );
    assert!(!numbers.contains(&waiting_number.to_string()));
    for personal in ["anna", "Анна", "495", "Глубокая яма"] {
        assert!(!body.contains(personal), "the export carries {personal}");
    }
    let row = &csv_rows(&body)[0];
    assert_eq!(
        (&row[1], &row[4], &row[12], &row[13]),
        ("pothole", "assigned", "ул. Тверская, 12", "1")
    );

    // Filters: a category, a district, a period; a wrong one is named.
    let (_, only) = text(&app, "/open-data/reports.csv?category=graffiti").await;
    assert_eq!(csv_rows(&only).len(), 1);
    let district = row[3].to_string();
    let (_, here) = text(&app, &format!("/open-data/reports.csv?area={district}")).await;
    assert_eq!(csv_rows(&here).len(), 2);
    let (_, later) = text(&app, "/open-data/reports.csv?from=2026-03-03").await;
    assert!(csv_rows(&later).is_empty(), "filed on 2 March");
    let (_, that_day) = text(&app, "/open-data/reports.csv?from=2026-03-02&to=2026-03-02").await;
    assert_eq!(csv_rows(&that_day).len(), 2);
    let (status, wrong) = app
        .get_json("/open-data/reports.csv?category=nonesuch&lang=en")
        .await;
    assert_eq!(
        (status, wrong["field"].as_str()),
        (400, Some("category")),
        "{wrong}"
    );
    let (status, wrong) = app.get_json("/open-data/reports.csv?from=yesterday").await;
    assert_eq!(
        (status, wrong["field"].as_str()),
        (400, Some("from")),
        "{wrong}"
    );

    // GeoJSON: the same reports as points.
    let (status, geojson) = text(&app, "/open-data/reports.geojson").await;
    assert_eq!(status, 200);
    let parsed: Value = serde_json::from_str(&geojson).unwrap();
    assert_eq!(parsed["type"], "FeatureCollection");
    let features = parsed["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    assert_eq!(
        features[0]["geometry"]["coordinates"],
        json!([37.605, 55.77])
    );
    assert_eq!(features[0]["properties"]["number"], pothole_number);
    assert!(!geojson.contains("anna") && !geojson.contains("Анна"));

    // The daily dump holds what was filed before today, cacheable till tomorrow.
    let daily = app.get("/open-data/daily/reports.csv").await;
    assert!(daily.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public, max-age="));
    assert!(
        csv_rows(&daily.text().await.unwrap()).is_empty(),
        "today's are not in today's dump"
    );
    app.clock.advance(chrono::TimeDelta::days(1));
    let daily = app.get("/open-data/daily/reports.geojson").await;
    assert_eq!(daily.headers()["etag"], "\"2026-03-03\"");
    let parsed: Value = serde_json::from_str(&daily.text().await.unwrap()).unwrap();
    assert_eq!(parsed["features"].as_array().unwrap().len(), 2);
    let (status, page) = text(&app, "/open-data?lang=en").await;
    assert_eq!(status, 200);
    assert!(page.contains("answered_on_time") && page.contains("/open-data/daily/reports.csv"));
}

/// The resident set size of this process (the server runs in it), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

/// Copies the one report `template` `count` times in one statement.
fn copies(app: &TestApp, template: &str, count: u32) {
    use diesel::connection::SimpleConnection;
    let columns = "category_id, lat, lon, address, description, answers, source, support_count, \
        status, service_area_id, department_id, routing_rule, reporter_id, reporter_name_public, \
        created_at, updated_at, answer_due_at";
    let sql = if app.db.is_postgres() {
        format!(
            "INSERT INTO reports (id, number, {columns}) SELECT md5(n::text || 'copy'), 1000 + n, {columns} \
             FROM reports, generate_series(1, {count}) AS n WHERE id = '{template}'"
        )
    } else {
        format!(
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) \
             INSERT INTO reports (id, number, {columns}) SELECT lower(hex(randomblob(16))), 1000 + n, {columns} \
             FROM reports, s WHERE id = '{template}'"
        )
    };
    let mut pooled = app.conn();
    let conn: &mut gorod::db::DbConnection = &mut pooled;
    match conn {
        gorod::db::DbConnection::Sqlite(c) => c.batch_execute(&sql).unwrap(),
        gorod::db::DbConnection::Postgres(c) => c.batch_execute(&sql).unwrap(),
    }
}

#[tokio::test]
async fn a_million_reports_stream_out_with_flat_memory() {
    let app = common::spawn_app().await;
    let (template, _) = file(&app, "pothole", 55.7700).await;
    accept(&app, &template).await;
    const COUNT: u32 = 1_000_000;
    copies(&app, &template, COUNT);
    // A new client: the pooled connection went stale while the copies were
    // written.
    let client = reqwest::Client::new();
    for (path, at_least) in [
        ("/open-data/reports.csv", 100u64 << 20),
        ("/open-data/reports.geojson", 300 << 20),
    ] {
        let before = rss_kib();
        let mut peak = before;
        let mut response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response.content_length().is_none(),
            "streamed, not sized up front"
        );
        let (mut bytes, mut lines) = (0u64, 0u64);
        let mut chunks = 0u64;
        while let Some(chunk) = response.chunk().await.unwrap() {
            bytes += chunk.len() as u64;
            lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            chunks += 1;
            if chunks.is_multiple_of(64) {
                peak = peak.max(rss_kib());
            }
        }
        assert!(
            lines > u64::from(COUNT),
            "{path}: every report, {lines} lines"
        );
        assert!(bytes > at_least, "{path}: {bytes} bytes");
        let grew_mib = peak.saturating_sub(before) / 1024;
        eprintln!(
            "{path}: {} MiB out, memory grew {grew_mib} MiB",
            bytes >> 20
        );
        assert!(
            grew_mib < 64,
            "{path}: memory grew {grew_mib} MiB for {} MiB out",
            bytes >> 20
        );
    }
}

#[test]
fn the_documented_data_dictionary_is_the_one_the_files_follow() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/open-data.md"),
    )
    .unwrap();
    let documented: Vec<&str> = page
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter(|l| !l.contains("/open-data/"))
        .collect();
    let dictionary = gorod::reports::open_data::DICTIONARY;
    assert_eq!(documented.len(), dictionary.len(), "{documented:#?}");
    for (line, (name, ru, en)) in documented.iter().zip(dictionary) {
        assert_eq!(*line, format!("| `{name}` | {en} | {ru} |"));
    }
}
