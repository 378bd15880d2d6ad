//! The service around the API: health, readiness, metrics, the catalogue.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::{spawn_app, valid_report};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let (status, health) = app.get_json("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = app.get_json("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["pending_migrations"], 0);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.post_json("/api/v1/reports", &valid_report()).await;
    app.get("/api/v1/reports/00000000-0000-0000-0000-000000000000")
        .await;
    app.get("/api/v1/reports/00000000-0000-0000-0000-000000000001")
        .await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            r#"gorod_http_requests_total{method="POST",route="/api/v1/reports",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"gorod_http_requests_total{method="GET",route="/api/v1/reports/{id}",status="404"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE gorod_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains(r#"gorod_http_request_duration_seconds_count{method="GET",route="/api/v1/reports/{id}"} 2"#),
        "{text}"
    );
}

#[tokio::test]
async fn categories_and_departments_are_listed_with_both_languages() {
    let app = spawn_app().await;
    let (status, categories) = app.get_json("/api/v1/categories").await;
    assert_eq!(status, 200);
    let categories = categories.as_array().unwrap();
    assert!(categories.len() >= 20, "{}", categories.len());
    let pothole = categories.iter().find(|c| c["code"] == "pothole").unwrap();
    assert_eq!(pothole["name"]["ru"], "Яма на дороге");
    assert_eq!(pothole["name"]["en"], "Pothole in the road");
    assert_eq!(pothole["department"], "roads");
    assert_eq!(pothole["sla_policy"], "standard");
    assert!(pothole["attributes"].is_array());

    let (status, departments) = app.get_json("/api/v1/departments").await;
    assert_eq!(status, 200);
    let departments = departments.as_array().unwrap();
    assert!(departments.len() >= 12, "{}", departments.len());
    let arbat = departments
        .iter()
        .find(|d| d["code"] == "zhilishnik-arbat")
        .unwrap();
    assert_eq!(arbat["parent"], "housing");
    assert!(departments.iter().any(|d| d["triage"] == true));
}

#[tokio::test]
async fn the_front_page_is_the_map_of_reports() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains(r#"id="map""#) && body.contains("/vendor/leaflet/leaflet.js"));
    assert!(body.contains(r#"href="/new""#));
}
