//! Public reads from a real PostgreSQL streaming replica (`pg_basebackup -R`
//! of a cluster the test starts): served by the replica (its own statistics
//! say so), while callers who just wrote read their writes from the
//! primary; when the replica lags past `database.max_replica_lag_secs` or
//! stops, reads go to the primary and `/readyz` and `/metrics` say so.
//! Runs in the suite's PostgreSQL pass.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

mod common;

use std::time::{Duration, Instant};

use common::cluster::Cluster;
use serde_json::Value;

/// Scans of the `reports` table in `schema` the cluster has counted.
fn report_scans(cluster: &Cluster, schema: &str) -> i64 {
    cluster
        .query(&format!(
            "SELECT COALESCE(SUM(seq_scan + COALESCE(idx_scan, 0)), 0) FROM pg_stat_user_tables \
             WHERE schemaname = '{schema}' AND relname = 'reports'"
        ))
        .parse()
        .unwrap()
}

async fn scrape(app: &common::TestApp) -> String {
    app.get("/metrics").await.text().await.unwrap()
}

async fn replica_state(app: &common::TestApp) -> String {
    let (_, ready) = app.get_json("/readyz").await;
    ready["replica"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn wait_for_replica(app: &common::TestApp, wanted: &str) {
    let started = Instant::now();
    loop {
        let state = replica_state(app).await;
        if state == wanted {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the replica stayed {state}, not {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn public_reads_go_to_the_replica_and_fall_back_to_the_primary() {
    if common::postgres_url().is_none() {
        return;
    }
    let primary = Cluster::start().expect("a PostgreSQL server is installed");
    let replica = primary.replica();
    let db = common::TestDatabase::on_server(&primary.url());
    let schema = db.url.split("search_path%3D").nth(1).unwrap().to_string();
    let read_url = db.url.replace(
        &format!(":{}/", primary.port),
        &format!(":{}/", replica.port),
    );
    let app = common::spawn_app_on(db, |s| {
        s.database.read_url = read_url.clone();
        s.database.max_replica_lag_secs = 2;
    })
    .await;
    wait_for_replica(&app, "ok").await;

    // Public reads by anonymous visitors: the replica's own statistics
    // count them.
    let (status, filed) = app
        .post_json("/api/v1/reports", &common::valid_report())
        .await;
    assert_eq!(status, 201, "{filed}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (on_replica, on_primary) = (
        report_scans(&replica, &schema),
        report_scans(&primary, &schema),
    );
    let fresh = reqwest::Client::new();
    for _ in 0..20 {
        for path in [
            "/api/v1/reports?per_page=5",
            "/api/v1/map?bbox=37.50,55.70,37.70,55.80&zoom=16",
            "/open311/v2/requests.json",
        ] {
            let response = fresh.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{path}");
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let replica_scans = report_scans(&replica, &schema) - on_replica;
    let primary_scans = report_scans(&primary, &schema) - on_primary;
    println!("60 public reads: {replica_scans} scans of reports on the replica, {primary_scans} on the primary");
    assert!(replica_scans >= 60, "{replica_scans} scans on the replica");
    // The 60 reads on the primary would be 120 scans; background work
    // (the filed report's receipt, on a loaded machine still going) a few.
    assert!(primary_scans < 30, "{primary_scans} scans on the primary");

    // Replay paused: the replica falls behind. Whoever just wrote reads
    // their report from the primary at once; once the lag passes its
    // limit, everyone does.
    replica.query("SELECT pg_wal_replay_pause()");
    let writer = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let written: Value = writer
        .post(app.url("/api/v1/reports"))
        .json(&common::valid_report())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own = writer
        .get(app.url(&format!("/reports/{}", written["number"])))
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.status().as_u16(),
        200,
        "the writer sees their report at once"
    );
    wait_for_replica(&app, "lagging").await;
    let anyone = fresh
        .get(app.url(&format!(
            "/api/v1/reports/{}",
            written["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anyone.status().as_u16(),
        200,
        "read from the primary while the replica lags"
    );
    let metrics = scrape(&app).await;
    assert!(metrics.contains("gorod_replica_serving 0"), "{metrics}");
    replica.query("SELECT pg_wal_replay_resume()");
    wait_for_replica(&app, "ok").await;
    let metrics = scrape(&app).await;
    assert!(metrics.contains("gorod_replica_serving 1"), "{metrics}");
    assert!(metrics.contains("gorod_replica_lag_seconds"), "{metrics}");

    // The replica stops: reads go on from the primary.
    replica.stop("immediate");
    wait_for_replica(&app, "unreachable").await;
    for path in [
        "/api/v1/reports?per_page=5",
        "/open311/v2/requests.json",
        "/",
    ] {
        let response = fresh.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            200,
            "{path} without the replica"
        );
    }
    let (status, ready) = app.get_json("/readyz").await;
    assert_eq!(
        status, 200,
        "the primary alone is enough to be ready: {ready}"
    );
}
