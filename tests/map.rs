//! The map: reports in a viewport, clustered by zoom, as JSON and GeoJSON.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use common::spawn_app;
use serde_json::Value;

const VIEW: &str = "bbox=37.50,55.70,37.70,55.80";

async fn filed_city() -> common::TestApp {
    let app = spawn_app().await;
    // Three potholes a few metres apart in Tverskoy, one graffiti in
    // Khamovniki, one street light in Basmanny, a day apart each.
    let places = [
        ("pothole", 55.77000, 37.60500),
        ("pothole", 55.77003, 37.60504),
        ("pothole", 55.77006, 37.60508),
        ("graffiti", 55.73000, 37.57000),
        ("street_light", 55.76000, 37.66000),
    ];
    for (category, lat, lon) in places {
        let body = common::report_at(category, lat, lon);
        let (status, filed) = app.post_json("/api/v1/reports", &body).await;
        assert_eq!(status, 201, "{filed}");
        app.clock.advance(chrono::TimeDelta::days(1));
    }
    app
}

fn kinds(map: &Value) -> (usize, Vec<i64>) {
    let items = map["items"].as_array().unwrap();
    let reports = items.iter().filter(|i| i["type"] == "report").count();
    let mut clusters: Vec<i64> = items
        .iter()
        .filter(|i| i["type"] == "cluster")
        .map(|i| i["count"].as_i64().unwrap())
        .collect();
    clusters.sort();
    (reports, clusters)
}

#[tokio::test]
async fn zoomed_out_nearby_reports_cluster_and_zoomed_in_they_are_points() {
    let app = filed_city().await;
    let (status, far) = app.get_json(&format!("/api/v1/map?{VIEW}&zoom=13")).await;
    assert_eq!(status, 200, "{far}");
    assert_eq!(far["clustered"], true);
    assert_eq!(far["total"], 5);
    assert_eq!(kinds(&far), (2, vec![3]));
    let cluster = far["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "cluster")
        .unwrap();
    assert!((cluster["lat"].as_f64().unwrap() - 55.77003).abs() < 1e-6);
    assert!((cluster["lon"].as_f64().unwrap() - 37.60504).abs() < 1e-6);

    let (_, near) = app.get_json(&format!("/api/v1/map?{VIEW}&zoom=17")).await;
    assert_eq!(near["clustered"], false);
    assert_eq!(kinds(&near), (5, vec![]));
    let report = &near["items"][0];
    assert_eq!(report["category"], "street_light");
    assert!(report["number"].is_i64() && report["id"].is_string());
    assert!(!near.to_string().contains("anna.petrova"));

    // A whole-world view at zoom 0 is one cluster.
    let (_, world) = app
        .get_json("/api/v1/map?bbox=-180,-90,180,90&zoom=0")
        .await;
    assert_eq!(kinds(&world), (0, vec![5]));
}

#[tokio::test]
async fn geojson_and_filters() {
    let app = filed_city().await;
    let response = app
        .get(&format!("/api/v1/map?{VIEW}&zoom=13&format=geojson"))
        .await;
    assert_eq!(response.headers()["content-type"], "application/geo+json");
    let collection: Value = response.json().await.unwrap();
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    for feature in features {
        assert_eq!(feature["geometry"]["type"], "Point");
        let [lon, lat] = [
            feature["geometry"]["coordinates"][0].as_f64().unwrap(),
            feature["geometry"]["coordinates"][1].as_f64().unwrap(),
        ];
        assert!((37.5..37.7).contains(&lon) && (55.7..55.8).contains(&lat));
    }

    let count = |query: String| {
        let app = &app;
        async move {
            let (status, map) = app
                .get_json(&format!("/api/v1/map?{VIEW}&zoom=17&{query}"))
                .await;
            assert_eq!(status, 200, "{query}: {map}");
            map["total"].as_i64().unwrap()
        }
    };
    assert_eq!(count("category=pothole".into()).await, 3);
    assert_eq!(count("category=graffiti,street_light".into()).await, 2);
    assert_eq!(count("department=roads".into()).await, 3);
    assert_eq!(count("department=zhilishnik-khamovniki".into()).await, 1);
    assert_eq!(count("status=moderation".into()).await, 5);
    assert_eq!(count("status=closed".into()).await, 0);
    // Filed 2026-03-02 .. 2026-03-06, a day apart.
    assert_eq!(count("from=2026-03-04".into()).await, 3);
    assert_eq!(count("to=2026-03-03".into()).await, 2);
    assert_eq!(
        count("from=2026-03-03T00:00:00Z&to=2026-03-04T23:00:00%2B03:00".into()).await,
        2
    );
    let (_, small) = app
        .get_json("/api/v1/map?bbox=37.60,55.76,37.61,55.78&zoom=17")
        .await;
    assert_eq!(small["total"], 3);
    // No box: the whole map.
    let (_, everywhere) = app.get_json("/api/v1/map?zoom=17").await;
    let (_, world) = app
        .get_json("/api/v1/map?bbox=-180,-90,180,90&zoom=17")
        .await;
    assert_eq!(everywhere["total"], world["total"]);
    assert!(everywhere["total"].as_i64().unwrap() > 3, "{everywhere}");

    for (query, field) in [
        ("bbox=37.5,55.7&zoom=10", "bbox"),
        ("bbox=37.5,55.7,37.7,55.8", "zoom"),
        ("bbox=37.5,55.7,37.7,55.8&zoom=30", "zoom"),
        ("bbox=37.5,55.7,37.7,55.8&zoom=10&format=kml", "format"),
        (
            "bbox=37.5,55.7,37.7,55.8&zoom=10&department=mars",
            "department",
        ),
        ("bbox=37.5,55.7,37.7,55.8&zoom=10&from=yesterday", "from"),
    ] {
        let (status, error) = app.get_json(&format!("/api/v1/map?{query}")).await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{query}: {error}"
        );
    }
}
