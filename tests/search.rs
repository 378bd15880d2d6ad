//! Searching reports on both backends: a word finds its other grammatical
//! forms in descriptions, the city's answers and addresses; the public
//! never sees an unpublished report or a reporter's contact; staff search
//! within their scope, also by number and by a reporter's email; reports
//! filed before search existed are indexed by the scanner.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::TestApp;
use diesel::RunQueryDsl;
use serde_json::{json, Value};

/// Files a report as `email`; its number and id.
async fn file(app: &TestApp, category: &str, description: &str, email: &str) -> (i64, String) {
    let mut body = common::report_at(category, 55.7700, 37.6050);
    body["description"] = json!(description);
    body["reporter"] = json!({"email": email, "name": "Житель"});
    let (status, filed) = app.post_json("/api/v1/reports", &body).await;
    assert_eq!(status, 201, "{filed}");
    (
        filed["number"].as_i64().unwrap(),
        filed["id"].as_str().unwrap().to_string(),
    )
}

async fn act(app: &TestApp, token: &str, id: &str, body: Value) {
    let (status, moved) = app.act(token, id, &body).await;
    assert_eq!(status, 200, "{moved}");
}

/// Waits until the indexer has taken every report waiting for it.
async fn indexed(app: &TestApp) {
    for _ in 0..250 {
        if app.count_rows("search_pending") == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the search indexer left reports waiting");
}

/// The numbers a search finds, best first, and the whole answer's text,
/// once the indexer has caught up.
async fn found(app: &TestApp, token: Option<&str>, query: &str) -> (Vec<i64>, String) {
    indexed(app).await;
    let path = format!(
        "/api/v1/reports/search?{}",
        serde_urlencoded::to_string([("q", query)]).unwrap()
    );
    let (status, body) = match token {
        Some(token) => common::get_as(app, token, &path).await,
        None => app.get_json(&path).await,
    };
    assert_eq!(status, 200, "{body}");
    let numbers = body["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    (numbers, body.to_string())
}

#[tokio::test]
async fn words_in_any_form_find_reports_each_searcher_may_see() {
    let app = common::spawn_app().await;
    let (pothole, pothole_id) = file(
        &app,
        "pothole",
        "Глубокая яма у перехода, машины объезжают по встречке",
        "anna.petrova@example.ru",
    )
    .await;
    let (hidden, _) = file(
        &app,
        "pothole",
        "Опасная яма на тротуаре у школы",
        "boris.ivanov@example.ru",
    )
    .await;
    let (lamp, lamp_id) = file(
        &app,
        "street_light",
        "Не горят фонари во дворе",
        "vera@example.ru",
    )
    .await;
    act(
        &app,
        "demo-token-supervisor.roads",
        &pothole_id,
        json!({"action": "accept"}),
    )
    .await;
    act(
        &app,
        "demo-token-supervisor.lighting",
        &lamp_id,
        json!({"action": "accept"}),
    )
    .await;

    // The public: another form of the word finds the published report
    // only, and nothing carries a reporter's contact.
    let (numbers, text) = found(&app, None, "ямы").await;
    assert_eq!(numbers, vec![pothole], "{text}");
    assert!(!text.contains('@'), "{text}");
    assert_eq!(found(&app, None, "фонарь").await.0, vec![lamp]);
    assert_eq!(found(&app, None, "ямы школа").await.0, Vec::<i64>::new());
    assert_eq!(
        found(&app, None, "anna.petrova@example.ru").await.0,
        Vec::<i64>::new()
    );
    assert_eq!(
        found(&app, None, &hidden.to_string()).await.0,
        Vec::<i64>::new()
    );
    let (status, _) = app
        .get_json("/api/v1/reports/search?q=%D1%8F%D0%BC%D0%B0&status=moderation")
        .await;
    assert_eq!(status, 200);
    assert!(found(&app, None, "яма")
        .await
        .0
        .iter()
        .all(|n| *n != hidden));

    // Staff: within their scope, unpublished too, by number and email.
    let roads = "demo-token-supervisor.roads";
    let (mut numbers, _) = found(&app, Some(roads), "ямы").await;
    numbers.sort();
    assert_eq!(numbers, vec![pothole, hidden]);
    assert_eq!(found(&app, Some(roads), "ямы школа").await.0, vec![hidden]);
    assert_eq!(
        found(&app, Some(roads), "boris.ivanov@example.ru").await.0,
        vec![hidden]
    );
    assert_eq!(
        found(&app, Some(roads), &format!("№{hidden}")).await.0,
        vec![hidden]
    );
    assert_eq!(
        found(&app, Some(roads), "фонари").await.0,
        Vec::<i64>::new()
    );
    assert_eq!(
        found(&app, Some("demo-token-admin"), "фонари").await.0,
        vec![lamp]
    );

    // The city's answer is searched too.
    act(
        &app,
        "demo-token-crew1.roads",
        &pothole_id,
        json!({"action": "take"}),
    )
    .await;
    act(
        &app,
        "demo-token-crew1.roads",
        &pothole_id,
        json!({"action": "answer", "answer": "Выбоину заделали горячим асфальтом."}),
    )
    .await;
    assert_eq!(found(&app, None, "выбоины асфальт").await.0, vec![pothole]);

    // A bad query is named.
    let (status, error) = app.get_json("/api/v1/reports/search?q=").await;
    assert_eq!(
        (status, error["field"].as_str()),
        (400, Some("q")),
        "{error}"
    );
    // The page shows the same.
    let page = app
        .get("/search?q=%D1%8F%D0%BC%D1%8B")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/reports/{pothole}")), "{page}");
    assert!(!page.contains(&format!("/reports/{hidden}\"")), "{page}");
}

#[tokio::test]
async fn the_best_matches_come_first_and_old_reports_are_indexed_by_the_scanner() {
    let app = common::spawn_app().await;
    let (in_description, a) = file(&app, "pothole", "Яма у дома", "a@example.ru").await;
    let (in_both, b) = file(
        &app,
        "pothole",
        "Большая яма, ещё одна яма рядом",
        "b@example.ru",
    )
    .await;
    for id in [&a, &b] {
        act(
            &app,
            "demo-token-supervisor.roads",
            id,
            json!({"action": "accept"}),
        )
        .await;
    }
    let (numbers, _) = found(&app, None, "яма").await;
    // Equal weight: the newer first.
    assert_eq!(numbers, vec![in_both, in_description]);

    // A report whose words are not indexed (as if filed before search
    // existed) is found once the scanner has indexed it.
    let mut conn = app.conn();
    let conn: &mut gorod::db::DbConnection = &mut conn;
    diesel::sql_query(format!("DELETE FROM search_terms WHERE report_id = '{a}'"))
        .execute(conn)
        .unwrap();
    diesel::sql_query(format!(
        "UPDATE counters SET value = {} WHERE name = 'search_backfill_below'",
        in_description + 1
    ))
    .execute(conn)
    .unwrap();
    assert_eq!(found(&app, None, "яма").await.0, vec![in_both]);
    let (status, scanned) = app
        .post_as("demo-token-admin", "/api/v1/admin/sla/scan", "")
        .await;
    assert_eq!(status, 200, "{scanned}");
    assert_eq!(
        found(&app, None, "яма").await.0,
        vec![in_both, in_description]
    );
}
